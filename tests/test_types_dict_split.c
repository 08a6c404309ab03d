/* test_types_dict_split.c: the growth of a compact table whose entries all
 * sit in their home slots (docs/types.md, "dict"): its index doubles by
 * splitting, every slot going to i or i + 2**k as the tag's lowest bit
 * says, without reading an entry. Checked against the index a full rebuild
 * makes of the same entries (they must be equal, byte for byte, with the
 * same `displaced` flag), through every slot width (1, 2 and 4 bytes, the
 * last by the vector loop), across the sizes where the width changes (no
 * split there), for keys that are not dense (multiples, negatives, large
 * values), for tables that lose their last home-only property (a colliding
 * key, a deletion), and with the block unable to grow. */
#include "faults.h"

#include "types/dict_table.h"

static bool table_ok(void *d) { return rc_dict_table_validate(d) == 0; }

static rc_dict_table *table_of(void *d) { return ((rc_dict_body *)d)->keys; }

/* Whether d's index is the one a full rebuild of its entries makes: a copy
 * of its table is indexed anew (rc_dict_table_index_all) and compared. */
static bool index_as_rebuilt(void *d)
{
    rc_dict_table *k = table_of(d);
    size_t bytes = rc_dict_table_bytes(d), index = rc_dict_table_size(k) << k->log2_width;
    rc_dict_table *copy = malloc(bytes);
    memcpy(copy, k, bytes);
    memset(copy->indices, 0xff, index);
    copy->displaced = 1; /* index_all must set it */
    rc_dict_table_index_all(copy, copy->nentries);
    bool same = memcmp(copy->indices, k->indices, index) == 0 && copy->displaced == k->displaced;
    free(copy);
    return same;
}

/* Sets key -> key for the ints value(0..n); at each growth checks the new
 * table (valid, as rebuilt, and if home_only, displaced 0) and counts the
 * growths, and those that double within a slot width (the ones that split
 * if the table is home-only). Then every key must be found, and iteration
 * give them in order. */
typedef struct run {
    size_t growths, doublings, bad_tables, misses;
} run;

static run grow_through(void *d, size_t n, int64_t (*value)(size_t), bool home_only)
{
    run r = {0, 0, 0, 0};
    unsigned log2 = 0;
    for (size_t i = 0; i < n; i++) {
        void *k = rc_int_new(value(i));
        r.misses += rc_dict_set(d, k, k) != 0;
        rc_decref(k);
        rc_dict_table *t = table_of(d);
        if (t->log2_size == log2)
            continue;
        r.growths++;
        r.doublings += log2 >= 3 && t->log2_size == log2 + 1 && (log2 < 8) == (t->log2_size < 8) &&
                       (log2 < 16) == (t->log2_size < 16);
        log2 = t->log2_size;
        r.bad_tables += !table_ok(d) || !index_as_rebuilt(d) || (home_only && t->displaced);
    }
    for (size_t i = 0; i < n; i++) {
        void *k = rc_int_new(value(i));
        void *found = rc_dict_get(d, k);
        r.misses += !found || rc_int_value(found) != value(i);
        rc_decref(k);
    }
    rc_iter it = rc_dict_iter(d);
    void *key, *v;
    size_t i = 0;
    while (rc_dict_next(&it, &key, &v) > 0)
        r.misses += i >= n || rc_int_value(key) != value(i++);
    r.misses += i != n;
    return r;
}

static int64_t dense(size_t i) { return (int64_t)i; }
static int64_t negative(size_t i) { return -(int64_t)i - 3; } /* -1 hashes as -2: kept out */
static int64_t large(size_t i) { return ((int64_t)1 << 40) + (int64_t)i; }
static int64_t thirds(size_t i) { return 3 * (int64_t)i; } /* 3 is odd: distinct homes */
static int64_t strided(size_t i) { return 64 * (int64_t)i; }

static void test_dense_through_every_width(void)
{
    /* 100,000 keys: tables of 2**3 .. 2**18 slots; the width changes at
     * 2**8 and 2**16, where the index is rebuilt; the other 13 of the 15
     * growths after the first table split (the last two by the vector
     * loop) */
    void *d = rc_dict_new();
    run r = grow_through(d, 100000, dense, true);
    CHECK_EQ(r.growths, 16);
    CHECK_EQ(r.doublings, 13);
    CHECK_EQ(r.bad_tables, 0);
    CHECK_EQ(r.misses, 0);
    CHECK_EQ(table_of(d)->log2_size, 18);
    CHECK_EQ(rc_dict_len(d), 100000);
    rc_decref(d);
}

static void test_spread_keys(void)
{
    int64_t (*const kinds[])(size_t) = {negative, large, thirds};
    for (size_t j = 0; j < sizeof kinds / sizeof kinds[0]; j++) {
        void *d = rc_dict_new();
        run r = grow_through(d, 70000, kinds[j], true);
        CHECK_EQ(r.bad_tables, 0);
        CHECK_EQ(r.misses, 0);
        CHECK_EQ(rc_dict_len(d), 70000);
        rc_decref(d);
    }
}

static void test_split_reads_no_entry(void)
{
    /* White-box: entry 5 of a full home-only table of 2**10 slots gets the
     * key 5 + 2**10 (the same home slot, another tag) behind the index's
     * back. A split keeps slot 5 naming entry 5, as the slot's tag says; a
     * rebuild would read the key and file it at 1029. (Builds with the
     * expensive checks validate the table after the growth, and would stop
     * at the planted key: the release build runs this.) */
    if (RC_EXPENSIVE)
        return;
    void *d = rc_dict_new();
    for (int64_t v = 0; v < 682; v++) { /* 2/3 of 2**10 */
        void *k = rc_int_new(v);
        rc_dict_set(d, k, k);
        rc_decref(k);
    }
    rc_dict_table *t = table_of(d);
    CHECK_EQ(t->log2_size, 10);
    CHECK_EQ(t->displaced, 0);
    void *other = rc_int_new(5 + 1024), *five = rc_dict_pairs(t)[5].key;
    rc_dict_pairs(t)[5].key = other;
    void *k = rc_int_new(682);
    CHECK_EQ(rc_dict_set(d, k, k), 0); /* the growth to 2**11 */
    t = table_of(d);
    CHECK_EQ(t->log2_size, 11);
    CHECK(rc_dict_pairs(t)[5].key == other);
    CHECK_EQ(rc_dict_slot_get(t, 5), 5);
    CHECK_EQ(rc_dict_slot_get(t, 1029), RC_DKIX_EMPTY);
    rc_dict_pairs(t)[5].key = five; /* as it was: the table is consistent again */
    CHECK(table_ok(d));
    CHECK(index_as_rebuilt(d));
    CHECK(rc_dict_get(d, five) == five);
    rc_decref(other);
    rc_decref(k);
    rc_decref(d);
}

static void test_collisions_rebuild(void)
{
    /* multiples of 64 share home slots from the first table on: every
     * table has displaced entries and is rebuilt, never split */
    void *d = rc_dict_new();
    run r = grow_through(d, 5000, strided, false);
    CHECK_EQ(r.bad_tables, 0);
    CHECK_EQ(r.misses, 0);
    CHECK_EQ(table_of(d)->displaced, 1);
    rc_decref(d);

    /* dense keys, then one that lands off its home slot: the next growth
     * is a rebuild, after which every entry has its home slot again */
    d = rc_dict_new();
    for (int64_t v = 0; v < 40; v++) { /* 2**6 slots, 42 usable */
        void *k = rc_int_new(v);
        rc_dict_set(d, k, k);
        rc_decref(k);
    }
    CHECK_EQ(table_of(d)->log2_size, 6);
    CHECK_EQ(table_of(d)->displaced, 0);
    void *twin = rc_int_new(64 + 5); /* home slot 5, taken by 5 */
    CHECK_EQ(rc_dict_set(d, twin, twin), 0);
    CHECK_EQ(table_of(d)->displaced, 1);
    CHECK(table_ok(d));
    void *k = rc_int_new(40), *k2 = rc_int_new(41);
    rc_dict_set(d, k, k);
    rc_dict_set(d, k2, k2); /* the 43rd entry: a growth to 2**7 */
    CHECK_EQ(table_of(d)->log2_size, 7);
    CHECK_EQ(table_of(d)->displaced, 0); /* 69 has its own home slot in 2**7 */
    CHECK(table_ok(d));
    CHECK(index_as_rebuilt(d));
    CHECK(rc_dict_get(d, twin) == twin);
    CHECK_EQ(rc_dict_len(d), 43);
    rc_decref(k);
    rc_decref(k2);
    rc_decref(twin);
    rc_decref(d);
}

static void test_deletion_rebuilds(void)
{
    /* a deleted entry: the growth compacts the entries (renumbering them),
     * so the index is made anew; the order and the keys stay */
    void *d = rc_dict_new();
    for (int64_t v = 0; v < 42; v++) {
        void *k = rc_int_new(v);
        rc_dict_set(d, k, k);
        rc_decref(k);
    }
    void *gone = rc_int_new(7);
    CHECK_EQ(rc_dict_del(d, gone), 0);
    CHECK_EQ(table_of(d)->displaced, 0);
    void *k = rc_int_new(42);
    CHECK_EQ(rc_dict_set(d, k, k), 0); /* no usable entry: 3 * 41 -> 2**7 */
    CHECK_EQ(table_of(d)->log2_size, 7);
    CHECK_EQ(table_of(d)->nentries, 42);
    CHECK(table_ok(d));
    CHECK(index_as_rebuilt(d));
    CHECK(rc_dict_get(d, gone) == NULL);
    rc_iter it = rc_dict_iter(d);
    void *key, *v;
    int64_t want = 0;
    size_t bad = 0;
    while (rc_dict_next(&it, &key, &v) > 0) {
        want += want == 7;
        bad += rc_int_value(key) != want++;
    }
    CHECK_EQ(bad, 0);
    CHECK_EQ(want, 43);
    rc_decref(gone);
    rc_decref(k);
    rc_decref(d);
}

static void test_str_and_general_tables(void)
{
    /* strs and mixed keys: their tables never split (displaced is 1 from
     * the start) and are rebuilt; lookups and the checker agree */
    void *d = rc_dict_new(), *m = rc_dict_new();
    size_t misses = 0;
    for (int i = 0; i < 3000; i++) {
        char text[32];
        snprintf(text, sizeof text, "name-%d", i);
        void *s = rc_str_from(text), *n = rc_int_new(i);
        rc_dict_set(d, s, n);
        rc_dict_set(m, i % 2 ? s : n, n);
        rc_decref(s);
        rc_decref(n);
    }
    CHECK_EQ(table_of(d)->kind, RC_DICT_STR);
    CHECK_EQ(table_of(m)->kind, RC_DICT_GENERAL);
    CHECK_EQ(table_of(d)->displaced, 1);
    CHECK_EQ(table_of(m)->displaced, 1);
    CHECK(table_ok(d) && table_ok(m));
    CHECK(index_as_rebuilt(d) && index_as_rebuilt(m));
    for (int i = 0; i < 3000; i++) {
        char text[32];
        snprintf(text, sizeof text, "name-%d", i);
        void *s = rc_str_from(text), *n = rc_int_new(i);
        void *got = rc_dict_get(d, s), *got_m = rc_dict_get(m, i % 2 ? s : n);
        misses += !got || rc_int_value(got) != i || !got_m || rc_int_value(got_m) != i;
        rc_decref(s);
        rc_decref(n);
    }
    CHECK_EQ(misses, 0);
    rc_decref(d);
    rc_decref(m);
}

static void test_split_out_of_memory(void)
{
    /* 2**16 slots of 4 bytes, home-only and full: the next key grows the
     * block (a split); with the block unable to grow, a new table is made
     * (and indexed in full); with no memory, nothing changes */
    for (int round = 0; round < 2; round++) {
        faults_begin();
        void *d = rc_dict_new();
        enum { FIRST = 100000 }; /* not cached ints: the heap ends as it began */
        for (int64_t v = FIRST; v < FIRST + 43690; v++) { /* 2/3 of 2**16 */
            void *k = rc_int_new(v);
            rc_dict_set(d, k, k);
            rc_decref(k);
        }
        CHECK_EQ(table_of(d)->log2_size, 16);
        CHECK_EQ(table_of(d)->displaced, 0);
        size_t size = rc_sizeof(d);
        void *k = rc_int_new(FIRST + 43690);
        arm(0, round == 1);
        error_reset();
        int status = rc_dict_set(d, k, k);
        CHECK(faults_disarm());
        if (round == 0) {
            CHECK_EQ(status, 0);
            CHECK_EQ(table_of(d)->log2_size, 17);
            CHECK(index_as_rebuilt(d));
        } else {
            CHECK_EQ(status, RC_ENOMEM);
            CHECK_STR_CONTAINS(rc_last_error(), "out of memory");
            CHECK_EQ(rc_sizeof(d), size);
            CHECK_EQ(rc_refcount(k), 1);
            CHECK_EQ(rc_dict_set(d, k, k), 0); /* memory again: the split */
            CHECK_EQ(table_of(d)->log2_size, 17);
            CHECK(index_as_rebuilt(d));
        }
        CHECK(table_ok(d));
        CHECK_EQ(rc_dict_len(d), 43691);
        CHECK(rc_dict_get(d, k) == k);
        rc_decref(k);
        rc_decref(d);
        end();
    }
}

int main(void)
{
    test_dense_through_every_width();
    test_spread_keys();
    test_split_reads_no_entry();
    test_collisions_rebuild();
    test_deletion_rebuilds();
    test_str_and_general_tables();
    test_split_out_of_memory();
    return check_report();
}
