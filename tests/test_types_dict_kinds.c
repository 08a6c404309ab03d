/* test_types_dict_kinds.c: the table kinds and the lookup paths of rc_dict
 * (docs/types.md): a table of int keys or of str keys keeps 16-byte
 * entries until a key of another type makes it general; keys of other
 * types miss such a table without a probe; ints whose hashes collide (0
 * and 2**61 - 1, -1 and -2) stay distinct keys; keys equal to an entry's
 * but other objects are found (the out-of-line comparison); a table grows
 * in its own block, dropping deleted entries, rebuilds at the same size or
 * shrinks to a new one; and a table whose block cannot grow is made anew,
 * or, with no memory at all, the dict is left as it was (its holes too:
 * docs/types.md, "dict"). */
#include "faults.h"

#include "types/dict_table.h"

/* rc_sizeof of a dict whose table has 2**log2 slots and entries of esize
 * bytes (docs/types.md). */
static size_t dict_size(unsigned log2, size_t esize)
{
    size_t size = (size_t)1 << log2, width = log2 < 8 ? 1 : log2 < 16 ? 2 : 4;
    return 40 + 16 + size * width + (2 * size / 3) * esize;
}

static unsigned kind_of(void *d) { return ((rc_dict_body *)d)->keys->kind; }

static bool table_ok(void *d) { return rc_dict_table_validate(d) == 0; }

/* ---- kinds ---- */

static void test_int_table(void)
{
    void *d = rc_dict_new();
    void *k1 = rc_int_new(1000), *k2 = rc_int_new(-7), *s = rc_str_from("s");
    CHECK_EQ(rc_dict_set(d, k1, s), 0);
    CHECK_EQ(kind_of(d), RC_DICT_INT);
    CHECK_EQ(rc_sizeof(d), dict_size(3, 16)); /* CPython's 224, less 40, less 8 * 5 */
    CHECK_EQ(rc_dict_set(d, k2, k1), 0);
    CHECK_EQ(kind_of(d), RC_DICT_INT);
    /* a str key: the table turns general, at CPython's size for 3 keys */
    CHECK_EQ(rc_dict_set(d, s, k2), 0);
    CHECK_EQ(kind_of(d), RC_DICT_GENERAL);
    CHECK_EQ(rc_sizeof(d), dict_size(4, 24));
    CHECK(rc_dict_get(d, k1) == s && rc_dict_get(d, k2) == k1 && rc_dict_get(d, s) == k2);
    /* it stays general when only ints are left */
    CHECK_EQ(rc_dict_del(d, s), 0);
    void *k3 = rc_int_new(5000);
    CHECK_EQ(rc_dict_set(d, k3, k3), 0);
    CHECK_EQ(kind_of(d), RC_DICT_GENERAL);
    CHECK(table_ok(d));
    /* after a clear, the next first key decides again */
    rc_dict_clear(d);
    CHECK_EQ(rc_dict_set(d, s, s), 0);
    CHECK_EQ(kind_of(d), RC_DICT_STR);
    CHECK_EQ(rc_dict_set(d, k1, k1), 0);
    CHECK_EQ(kind_of(d), RC_DICT_GENERAL);
    CHECK(rc_dict_get(d, s) == s && rc_dict_get(d, k1) == k1);
    CHECK(table_ok(d));
    rc_decref(d);
    CHECK_EQ(rc_refcount(k1), 1);
    CHECK_EQ(rc_refcount(s), 1);
    CHECK_EQ(rc_refcount(k3), 1);
    rc_decref(k1);
    rc_decref(k2);
    rc_decref(k3);
    rc_decref(s);
}

/* Keys of other types miss a str or int table at once: no error, no
 * change of kind or size. */
static void check_misses(void *d, void **others, size_t n)
{
    unsigned kind = kind_of(d);
    size_t size = rc_sizeof(d);
    size_t wrong = 0;
    for (size_t i = 0; i < n; i++) {
        rc_set_error(0, "untouched");
        wrong += rc_dict_get(d, others[i]) != NULL;
        wrong += strstr(rc_last_error(), "untouched") == NULL;
        wrong += rc_dict_contains(d, others[i]) != 0;
        wrong += rc_dict_del(d, others[i]) != RC_ENOTFOUND;
    }
    CHECK_EQ(wrong, 0);
    CHECK_EQ(kind_of(d), kind);
    CHECK_EQ(rc_sizeof(d), size);
}

static void test_other_types_miss(void)
{
    void *one = rc_int_new(1), *s1 = rc_str_from("1"), *b1 = rc_bytes_new("1", 1);
    void *t1 = rc_tuple_pack(1, one);
    void *ints = rc_dict_new(), *strs = rc_dict_new();
    rc_dict_set(ints, one, one);
    rc_dict_set(strs, s1, s1);
    void *not_ints[] = {s1, b1, t1}, *not_strs[] = {one, b1, t1};
    check_misses(ints, not_ints, 3);
    check_misses(strs, not_strs, 3);
    CHECK_EQ(rc_dict_del(ints, s1), RC_ENOTFOUND);
    CHECK_STR_CONTAINS(rc_last_error(), "rc_dict_del: key '1' not found");
    CHECK(rc_dict_get(ints, one) == one && rc_dict_get(strs, s1) == s1);
    CHECK_EQ(rc_dict_len(ints) + rc_dict_len(strs), 2);
    rc_decref(ints);
    rc_decref(strs);
    CHECK_EQ(rc_refcount(s1), 1);
    rc_decref(s1);
    rc_decref(b1);
    rc_decref(t1);
}

/* ---- int hashes ---- */

static void test_int_hash_collisions(void)
{
    const int64_t values[] = {0,
                              (INT64_C(1) << 61) - 1,
                              -1,
                              -2,
                              INT64_MIN,
                              INT64_MAX,
                              INT64_C(1) << 61,
                              1,
                              (INT64_C(1) << 61) + 1,
                              -(INT64_C(1) << 61) + 1};
    enum { N = sizeof values / sizeof values[0] };
    /* CPython's: hash(2**61 - 1) == hash(0) == 0, hash(-1) == hash(-2) == -2,
     * hash(2**61) == 1 == hash(2**61 + 1) - 1 */
    void *probe = rc_int_new(values[1]);
    CHECK_EQ(rc_hash(probe), 0);
    rc_decref(probe);
    probe = rc_int_new(-1);
    CHECK(rc_hash(probe) == (uint64_t)-2);
    rc_decref(probe);
    probe = rc_int_new(values[6]);
    CHECK_EQ(rc_hash(probe), 1);
    rc_decref(probe);

    void *d = rc_dict_new(), *keys[N];
    for (size_t i = 0; i < N; i++) {
        keys[i] = rc_int_new(values[i]);
        CHECK_EQ(rc_dict_set(d, keys[i], rc_int_new((int64_t)i)), 0);
    }
    CHECK_EQ(rc_dict_len(d), N);
    CHECK_EQ(kind_of(d), RC_DICT_INT);
    size_t found = 0;
    for (size_t i = 0; i < N; i++) { /* equal objects that are not the keys */
        void *twin = rc_int_new(values[i]);
        found += rc_dict_get(d, twin) == rc_int_new((int64_t)i);
        CHECK_EQ(rc_dict_set(d, twin, rc_int_new((int64_t)i + 100)), 0); /* a replace */
        rc_decref(twin);
    }
    CHECK_EQ(found, N);
    CHECK_EQ(rc_dict_len(d), N);
    rc_iter it = rc_dict_iter(d);
    void *key, *value;
    size_t i = 0, order = 0;
    while (rc_dict_next(&it, &key, &value) > 0) {
        order += key == keys[i] && rc_int_value(value) == (int64_t)i + 100;
        i++;
    }
    CHECK_EQ(order, N); /* the first key objects stay, in order */
    CHECK(table_ok(d));
    rc_decref(d);
    for (i = 0; i < N; i++)
        rc_decref(keys[i]);
}

/* ---- strs equal to a key but other objects ---- */

static void test_str_twins(void)
{
    enum { N = 300 };
    void *d = rc_dict_new(), *keys[N];
    for (int i = 0; i < N; i++) {
        char text[32];
        snprintf(text, sizeof text, "name-%d", i);
        keys[i] = rc_str_from(text);
        rc_dict_set(d, keys[i], keys[i]);
    }
    CHECK_EQ(kind_of(d), RC_DICT_STR);
    size_t found = 0, missing = 0;
    for (int i = 0; i < N; i++) {
        char text[32];
        snprintf(text, sizeof text, "name-%d", i);
        void *twin = rc_str_from(text); /* not hashed yet: the general path hashes it */
        found += rc_dict_get(d, twin) == keys[i];
        found += rc_dict_get(d, twin) == keys[i]; /* hashed now: the fast path */
        snprintf(text, sizeof text, "name-%d!", i);
        void *other = rc_str_from(text);
        missing += rc_dict_get(d, other) == NULL;
        rc_decref(twin);
        rc_decref(other);
    }
    CHECK_EQ(found, 2 * N);
    CHECK_EQ(missing, N);
    CHECK(table_ok(d));
    rc_decref(d);
    for (int i = 0; i < N; i++) {
        CHECK_EQ(rc_refcount(keys[i]), 1);
        rc_decref(keys[i]);
    }
}

/* ---- rebuilds ---- */

/* The dict's int keys in order, against expected[0..n). */
static size_t order_mismatches(void *d, const int64_t *expected, size_t n)
{
    rc_iter it = rc_dict_iter(d);
    void *key, *value;
    size_t i = 0, bad = 0;
    while (rc_dict_next(&it, &key, &value) > 0) {
        bad += i >= n || rc_int_value(key) != expected[i] || value != key;
        i++;
    }
    return bad + (i != n);
}

static void add_ints(void *d, int64_t from, int64_t to)
{
    for (int64_t v = from; v < to; v++) {
        void *k = rc_int_new(v);
        rc_dict_set(d, k, k);
        rc_decref(k);
    }
}

static void test_rebuilds(void)
{
    enum { USABLE_11 = 1365 }; /* 2/3 of 2**11 */
    static int64_t expected[USABLE_11 + 1];
    void *d = rc_dict_new();
    add_ints(d, 1000, 1000 + USABLE_11); /* full: 2**11 slots, every entry used */
    CHECK_EQ(rc_sizeof(d), dict_size(11, 16));
    /* delete 700 (every other one, then the last 18): 665 stay */
    size_t n = 0;
    for (int64_t v = 1000; v < 1000 + USABLE_11; v++) {
        bool drop = (v - 1000) % 2 == 0 || v >= 1000 + USABLE_11 - 35;
        void *k = rc_int_new(v);
        if (drop)
            rc_dict_del(d, k);
        else
            expected[n++] = v;
        rc_decref(k);
    }
    CHECK_EQ(rc_dict_len(d), 665);
    CHECK_EQ(n, 665);
    /* the next key finds no usable entry: 3 * 665 fits 2**11, so the table
     * is rebuilt at the same size, in its block, without the holes */
    add_ints(d, 9000, 9001);
    expected[n++] = 9000;
    CHECK_EQ(rc_sizeof(d), dict_size(11, 16));
    CHECK_EQ(((rc_dict_body *)d)->keys->nentries, 666);
    CHECK_EQ(order_mismatches(d, expected, n), 0);
    CHECK(table_ok(d));
    /* fill up again, delete all but 60, then one key more: 3 * 60 -> 2**8,
     * a smaller table, made anew */
    add_ints(d, 20000, 20000 + USABLE_11 - 666);
    for (int64_t v = 20000; v < 20000 + USABLE_11 - 666; v++)
        expected[n++] = v;
    CHECK_EQ(((rc_dict_body *)d)->keys->nentries, USABLE_11);
    CHECK_EQ(rc_sizeof(d), dict_size(11, 16));
    for (size_t i = 60; i < n; i++) {
        void *k = rc_int_new(expected[i]);
        rc_dict_del(d, k);
        rc_decref(k);
    }
    n = 60;
    add_ints(d, 30000, 30001);
    expected[n++] = 30000;
    CHECK_EQ(rc_sizeof(d), dict_size(8, 16));
    CHECK_EQ(order_mismatches(d, expected, n), 0);
    CHECK(table_ok(d));
    rc_decref(d);
}

/* ---- out of memory during a growth ---- */

/* An int dict whose table is a system block (over the pools' limit) with
 * every usable entry taken, so that the next new key makes it grow. */
static void *full_dict(size_t *len)
{
    void *d = rc_dict_new();
    add_ints(d, 100000, 100000 + 170); /* 2**8 slots: 3,248 bytes */
    *len = 170;
    CHECK_EQ(((rc_dict_body *)d)->keys->nentries, 170);
    return d;
}

static void test_growth_out_of_memory(void)
{
    /* the block cannot grow once: the table is made anew instead */
    faults_begin();
    size_t len;
    void *d = full_dict(&len), *k = rc_int_new(7777);
    arm(0, false); /* the next system request fails, once */
    CHECK_EQ(rc_dict_set(d, k, k), 0);
    CHECK(faults_disarm());
    CHECK_EQ(rc_sizeof(d),
             dict_size(9, 16)); /* 3 * 170 -> 2**9, CPython's 9,304 less 40 + 8 * 341 */
    CHECK(rc_dict_get(d, k) == k);
    CHECK(table_ok(d));
    rc_decref(d);
    rc_decref(k);
    end();

    /* no memory at all, in a table with a hole: RC_ENOMEM, the dict as it
     * was, its hole too; with memory again the growth packs the hole */
    faults_begin();
    d = full_dict(&len);
    void *gone = rc_int_new(100003);
    CHECK_EQ(rc_dict_del(d, gone), 0);
    size_t size = rc_sizeof(d), n = 0;
    static int64_t expected[170];
    for (size_t i = 0; i < len; i++)
        if (i != 3)
            expected[n++] = 100000 + (int64_t)i;
    k = rc_int_new(7777);
    arm(0, true); /* every system request fails */
    error_reset();
    CHECK_EQ(rc_dict_set(d, k, k), RC_ENOMEM);
    CHECK_STR_CONTAINS(rc_last_error(), "out of memory");
    CHECK(faults_disarm());
    CHECK_EQ(rc_sizeof(d), size);
    CHECK_EQ(order_mismatches(d, expected, n), 0);
    CHECK_EQ(rc_refcount(k), 1);
    CHECK_EQ(((rc_dict_body *)d)->keys->holes, 1);
    CHECK(table_ok(d));
    CHECK_EQ(rc_dict_set(d, k, k), 0); /* memory again: packed, grown */
    expected[n++] = 7777;
    CHECK_EQ(((rc_dict_body *)d)->keys->log2_size, 9);
    CHECK_EQ(((rc_dict_body *)d)->keys->holes, 0);
    CHECK_EQ(((rc_dict_body *)d)->keys->nentries, n);
    CHECK_EQ(rc_refcount(k), 3); /* the key and the value */
    CHECK_EQ(order_mismatches(d, expected, n), 0);
    CHECK(table_ok(d));
    rc_decref(d);
    rc_decref(gone);
    rc_decref(k);
    end();
}

int main(void)
{
    test_int_table();
    test_other_types_miss();
    test_int_hash_collisions();
    test_str_twins();
    test_rebuilds();
    test_growth_out_of_memory();
    return check_report();
}
