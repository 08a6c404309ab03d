/* test_types_dict_fastpath.c: rc_dict_set's int step and the `holes` flag
 * (docs/types.md, "dict"). An int key goes straight into an int table when
 * its home slot is empty and an entry is left; every other case (the home
 * slot naming the key itself, another key, or a deleted entry; a full
 * table; a general table) takes the shaped step, with the same results.
 * A table that never lost an entry grows without looking for holes; one
 * that lost entries (a removal, or a traversal whose visitor may clear
 * them) is packed by its next growth. Checked: refcounts, lengths, order,
 * the table's flags and invariants (rc_dict_table_validate), against a
 * model under random operations. (The growth of a table with a hole out
 * of memory: test_types_dict_kinds.c.) */
#include "check.h"
#include "rng.h"

#include "types/dict_table.h"

static rc_dict_table *table_of(void *d) { return ((rc_dict_body *)d)->keys; }

static bool table_ok(void *d) { return rc_dict_table_validate(d) == 0; }

/* Sets key -> value for new ints, both dropped by the caller's side. */
static int set_int(void *d, int64_t key, int64_t value)
{
    void *k = rc_int_new(key), *v = rc_int_new(value);
    int status = rc_dict_set(d, k, v);
    rc_decref(k);
    rc_decref(v);
    return status;
}

/* d[key] as an int, or -1 if absent. */
static int64_t get_int(void *d, int64_t key)
{
    void *k = rc_int_new(key), *v = rc_dict_get(d, k);
    rc_decref(k);
    return v ? rc_int_value(v) : -1;
}

/* The keys of d in iteration order, against expected[0..n). */
static size_t order_mismatches(void *d, const int64_t *expected, size_t n)
{
    rc_iter it = rc_dict_iter(d);
    void *key, *value;
    size_t i = 0, bad = 0;
    while (rc_dict_next(&it, &key, &value) > 0) {
        bad += i >= n || rc_int_value(key) != expected[i];
        i++;
    }
    return bad + (i != n);
}

/* ---- the int step ---- */

static void test_home_inserts(void)
{
    enum { N = 5000 };
    void *d = rc_dict_new(), *values[N], *keys[N];
    size_t bad_tables = 0, growths = 0;
    unsigned log2 = 0;
    for (int64_t i = 0; i < N; i++) {
        keys[i] = rc_int_new(i + 1000); /* not a cached small int: counted */
        values[i] = rc_int_new(-i - 1000);
        uint64_t version = ((rc_dict_body *)d)->version;
        CHECK_EQ(rc_dict_set(d, keys[i], values[i]), 0);
        CHECK(((rc_dict_body *)d)->version != version);
        rc_dict_table *k = table_of(d);
        if (k->log2_size != log2) {
            growths++;
            log2 = k->log2_size;
            bad_tables += !table_ok(d) || k->displaced || k->holes || k->nentries != (size_t)i + 1;
        }
    }
    CHECK_EQ(growths, 11); /* 8 (first) .. 2**13 (5000 > 2**12 * 2 / 3) */
    CHECK_EQ(bad_tables, 0);
    CHECK_EQ(rc_dict_len(d), N);
    size_t misses = 0, bad_counts = 0;
    for (int i = 0; i < N; i++) {
        misses += rc_dict_get(d, keys[i]) != values[i];
        bad_counts += rc_refcount(keys[i]) != 2 || rc_refcount(values[i]) != 2;
    }
    CHECK_EQ(misses, 0);
    CHECK_EQ(bad_counts, 0);
    /* an insertion during an iteration is noticed */
    rc_iter it = rc_dict_iter(d);
    CHECK_EQ(set_int(d, 0, 0), 0);
    void *key, *value;
    rc_set_error(0, "untouched"); /* the call must replace it */
    CHECK_EQ(rc_dict_next(&it, &key, &value), RC_ESTATE);
    CHECK_STR_CONTAINS(rc_last_error(), "dictionary changed size during iteration");
    rc_decref(d);
    for (int i = 0; i < N; i++) {
        CHECK_EQ(rc_refcount(keys[i]), 1);
        CHECK_EQ(rc_refcount(values[i]), 1);
        rc_decref(keys[i]);
        rc_decref(values[i]);
    }
}

static void test_home_taken(void)
{
    /* by the key itself: the value is replaced, the old one dropped (ints
     * past the cached small ones, whose counts move) */
    void *d = rc_dict_new(), *k = rc_int_new(1003), *v1 = rc_int_new(3000);
    void *v2 = rc_int_new(3100);
    CHECK_EQ(rc_dict_set(d, k, v1), 0);
    CHECK_EQ(set_int(d, 1004, 4000), 0);
    CHECK_EQ(rc_dict_set(d, k, v2), 0);
    CHECK_EQ(rc_refcount(v1), 1);
    CHECK_EQ(rc_refcount(v2), 2);
    CHECK_EQ(rc_refcount(k), 2);
    CHECK_EQ(rc_dict_len(d), 2);
    CHECK(rc_dict_get(d, k) == v2);
    CHECK_EQ(order_mismatches(d, (const int64_t[]){1003, 1004}, 2), 0);
    /* by another object equal to the key: the same */
    CHECK_EQ(set_int(d, 1003, 3200), 0);
    CHECK_EQ(get_int(d, 1003), 3200);
    CHECK_EQ(rc_dict_len(d), 2);
    CHECK_EQ(rc_refcount(v2), 1);
    CHECK(table_ok(d));
    rc_decref(d);
    rc_decref(k);
    rc_decref(v1);
    rc_decref(v2);

    /* by another key of the same home slot (1 and 9 in 8 slots): filed
     * elsewhere, displaced from then on */
    d = rc_dict_new();
    CHECK_EQ(set_int(d, 1, 10), 0);
    CHECK_EQ(table_of(d)->log2_size, 3);
    CHECK_EQ(table_of(d)->displaced, 0);
    CHECK_EQ(set_int(d, 9, 90), 0);
    CHECK_EQ(table_of(d)->displaced, 1);
    CHECK_EQ(get_int(d, 1), 10);
    CHECK_EQ(get_int(d, 9), 90);
    CHECK(table_ok(d));
    rc_decref(d);

    /* by a deleted entry: the probe goes on past it, the key is absent and
     * takes the deleted entry's slot, at the end of the order */
    d = rc_dict_new();
    CHECK_EQ(set_int(d, 1, 10), 0);
    CHECK_EQ(set_int(d, 2, 20), 0);
    void *one = rc_int_new(1);
    CHECK_EQ(rc_dict_del(d, one), 0);
    CHECK_EQ(rc_dict_get(d, one), NULL);
    CHECK_EQ(set_int(d, 9, 90), 0); /* home slot 1: a dummy */
    CHECK_EQ(set_int(d, 1, 11), 0); /* home slot 1: 9's entry now */
    CHECK_EQ(rc_dict_len(d), 3);
    CHECK_EQ(get_int(d, 1), 11);
    CHECK_EQ(get_int(d, 9), 90);
    CHECK_EQ(order_mismatches(d, (const int64_t[]){2, 9, 1}, 3), 0);
    CHECK(table_ok(d));
    rc_decref(d);

    /* a key filed past its home slot, whose entry was deleted since: found
     * there, not inserted twice */
    d = rc_dict_new();
    CHECK_EQ(set_int(d, 1, 10), 0);
    CHECK_EQ(set_int(d, 9, 90), 0); /* home slot 1 taken: filed after it */
    CHECK_EQ(rc_dict_del(d, one), 0);
    CHECK_EQ(set_int(d, 9, 91), 0);
    CHECK_EQ(rc_dict_len(d), 1);
    CHECK_EQ(get_int(d, 9), 91);
    CHECK(table_ok(d));
    rc_decref(one);
    rc_decref(d);
}

static void test_other_tables(void)
{
    /* an int key into a general table takes the shaped step */
    void *d = rc_dict_new(), *s = rc_str_from("name");
    CHECK_EQ(rc_dict_set(d, s, s), 0);
    CHECK_EQ(table_of(d)->kind, RC_DICT_STR);
    for (int64_t i = 0; i < 100; i++)
        CHECK_EQ(set_int(d, i, i + 1), 0);
    CHECK_EQ(table_of(d)->kind, RC_DICT_GENERAL);
    CHECK_EQ(rc_dict_len(d), 101);
    size_t misses = 0;
    for (int64_t i = 0; i < 100; i++)
        misses += get_int(d, i) != i + 1;
    CHECK_EQ(misses, 0);
    CHECK(rc_dict_get(d, s) == s);
    CHECK(table_ok(d));
    rc_decref(d);
    rc_decref(s);

    /* a NULL value is still reported, the dict left as it was */
    d = rc_dict_new();
    void *k = rc_int_new(5005);
    rc_set_error(0, "untouched"); /* the call must replace it */
    CHECK_EQ(rc_dict_set(d, k, NULL), RC_EINVAL);
    CHECK_STR_CONTAINS(rc_last_error(), "rc_dict_set: value is NULL");
    CHECK_EQ(rc_dict_len(d), 0);
    CHECK_EQ(rc_refcount(k), 1);
    rc_decref(k);
    rc_decref(d);
}

/* ---- holes ---- */

static void count_visit(void *slot, void *arg)
{
    (void)slot;
    (*(size_t *)arg)++;
}

/* Clears the key and value of entry 0 as the collector's simple-garbage
 * path does: the slot's reference dropped, the field NULL. */
static void clear_first_visit(void *slot, void *arg)
{
    size_t *seen = arg;
    void **field = slot;
    if ((*seen)++ < 2) {
        rc_decref(*field);
        *field = NULL;
    }
}

static void test_holes(void)
{
    void *d = rc_dict_new();
    for (int64_t i = 0; i < 5; i++)
        CHECK_EQ(set_int(d, i, i), 0);
    CHECK_EQ(table_of(d)->holes, 0);

    /* a removal makes a hole; the next growth packs it away */
    void *two = rc_int_new(2);
    CHECK_EQ(rc_dict_del(d, two), 0);
    CHECK_EQ(table_of(d)->holes, 1);
    CHECK_EQ(table_of(d)->nentries, 5);
    CHECK(table_ok(d));
    /* a table that says it has none when it has is invalid */
    table_of(d)->holes = 0;
    rc_set_error(0, "untouched"); /* the call must replace it */
    CHECK_EQ(rc_dict_table_validate(d), -1);
    CHECK_STR_CONTAINS(rc_last_error(), "holes 0 with an entry that lost its key");
    table_of(d)->holes = 1;
    CHECK_EQ(set_int(d, 5, 5), 0); /* the table is full: it grows */
    CHECK_EQ(table_of(d)->log2_size, 4);
    CHECK_EQ(table_of(d)->holes, 0);
    CHECK_EQ(table_of(d)->nentries, 5);
    CHECK_EQ(order_mismatches(d, (const int64_t[]){0, 1, 3, 4, 5}, 5), 0);
    CHECK(table_ok(d));

    /* a traversal may clear entries: it marks the table */
    size_t visits = 0;
    rc_dict_table_traverse(d, count_visit, &visits);
    CHECK_EQ(visits, 10);
    CHECK_EQ(table_of(d)->holes, 1);
    CHECK(table_ok(d));
    for (int64_t i = 6; i < 12; i++) /* 16 slots take 10 entries: the 11th grows */
        CHECK_EQ(set_int(d, i, i), 0);
    CHECK_EQ(table_of(d)->log2_size, 5);
    CHECK_EQ(table_of(d)->holes, 0);

    /* an entry cleared by a visitor: the growth drops it and recounts */
    size_t seen = 0;
    rc_dict_table_traverse(d, clear_first_visit, &seen);
    CHECK_EQ(rc_dict_len(d), 11);     /* not recounted yet, as the collector leaves it */
    for (int64_t i = 12; i < 23; i++) /* 32 slots take 21 entries: the 22nd grows */
        CHECK_EQ(set_int(d, i, i), 0);
    CHECK_EQ(table_of(d)->log2_size, 6);
    CHECK_EQ(table_of(d)->holes, 0);
    CHECK_EQ(rc_dict_len(d), 21);
    CHECK_EQ(table_of(d)->nentries, 21);
    CHECK_EQ(get_int(d, 0), -1);
    CHECK_EQ(get_int(d, 22), 22);
    CHECK(table_ok(d));
    rc_decref(two);
    rc_decref(d);
}

/* ---- against a model ---- */

enum { MODEL_KEYS = 600 };

typedef struct model {
    int64_t value[MODEL_KEYS]; /* -1: absent */
    int64_t order[MODEL_KEYS];
    size_t len;
} model;

/* Keys dense, spread (multiples of 64: one home slot in small tables) or
 * colliding (i and i + 2**61 - 1 share a hash). */
static int64_t model_key(int i)
{
    if (i < 200)
        return i;
    if (i < 400)
        return 100000 + (int64_t)(i - 200) * 64;
    return (int64_t)(i - 400) + (i % 2 ? INT64_C(2305843009213693951) : 1000);
}

static void model_set(model *m, int i, int64_t value)
{
    if (m->value[i] < 0)
        m->order[m->len++] = model_key(i);
    m->value[i] = value;
}

static void model_del(model *m, int i)
{
    m->value[i] = -1;
    size_t j = 0;
    while (m->order[j] != model_key(i))
        j++;
    memmove(&m->order[j], &m->order[j + 1], (m->len - j - 1) * sizeof m->order[0]);
    m->len--;
}

static void test_model(void)
{
    rng_state = 0x5eed5;
    static model m;
    for (int i = 0; i < MODEL_KEYS; i++)
        m.value[i] = -1;
    void *d = rc_dict_new();
    size_t bad = 0, bad_tables = 0;
    for (int step = 0; step < 40000; step++) {
        int i = rnd(MODEL_KEYS), op = rnd(10);
        void *k = rc_int_new(model_key(i));
        if (op < 6) {
            int64_t value = rnd(1000);
            bad += set_int(d, model_key(i), value) != 0;
            model_set(&m, i, value);
        } else if (op < 8) {
            int status = rc_dict_del(d, k);
            bad += status != (m.value[i] < 0 ? RC_ENOTFOUND : 0);
            if (m.value[i] >= 0)
                model_del(&m, i);
        } else {
            bad += get_int(d, model_key(i)) != m.value[i];
        }
        rc_decref(k);
        if (step % 997 == 0) {
            bad_tables += !table_ok(d);
            bad += order_mismatches(d, m.order, m.len);
        }
    }
    CHECK_EQ(bad, 0);
    CHECK_EQ(bad_tables, 0);
    CHECK_EQ(rc_dict_len(d), m.len);
    CHECK_EQ(order_mismatches(d, m.order, m.len), 0);
    rc_decref(d);
}

int main(void)
{
    test_home_inserts();
    test_home_taken();
    test_other_tables();
    test_holes();
    test_model();
    return check_report();
}
