/* test_types_dict.c: rc_dict semantics with exact reference counts:
 * insertion order across deletes and resizes, Python's replace semantics
 * (the first key object stays), collisions through a user type whose hash
 * is constant, rc_sizeof at CPython's resize points (figures measured with
 * CPython 3.11's sys.getsizeof), mutation during iteration, hash and equal
 * hooks that change the dict, list views, and the messages of misuse. */
#include "check.h"
#include "colliding_key.h"
#include "nodes.h"

#include "types/dict_table.h"

/* docs/types.md: a dict is 16 + 24 bytes, its table 16 + index + entries;
 * CPython's is 64 bytes (GC header included) and 32 + index + entries.
 * Entries are 24 bytes as CPython's, but 16 in a table of int keys (which
 * keeps no hashes: CPython keeps them): 8 bytes less for each of the
 * table's usable entries. */
#define DICT_EMPTY      40
#define CPYTHON_SMALLER 40 /* (64 - 40) + (32 - 16) */

static size_t int_table_smaller(unsigned log2_size) { return 8 * ((2u << log2_size) / 3); }

static bool table_ok(void *d) { return rc_dict_table_validate(d) == 0; }

/* ---- basics ---- */

static void test_basic(void)
{
    void *d = rc_dict_new();
    CHECK(rc_is_dict(d));
    CHECK(rc_gc_is_tracked(d));
    CHECK_EQ(rc_dict_len(d), 0);
    void *k1 = rc_int_new(1000), *k2 = rc_str_from("two"), *v1 = rc_str_from("v1");
    void *v2 = rc_list_new();
    void *k3 = rc_tuple_pack(2, k1, k2);
    CHECK_EQ(rc_dict_set(d, k1, v1), 0);
    CHECK_EQ(rc_dict_set(d, k2, v2), 0);
    CHECK_EQ(rc_dict_set(d, k3, v1), 0);
    CHECK_EQ(rc_dict_len(d), 3);
    CHECK_EQ(rc_refcount(k1), 3); /* ours, the dict's, the tuple's */
    CHECK_EQ(rc_refcount(v1), 3);
    /* lookups by equal keys that are other objects */
    void *e1 = rc_int_new(1000), *e2 = rc_str_from("two"), *e3 = rc_tuple_pack(2, e1, e2);
    CHECK(rc_dict_get(d, e1) == v1);
    CHECK(rc_dict_get(d, e2) == v2);
    CHECK(rc_dict_get(d, e3) == v1);
    CHECK_EQ(rc_dict_contains(d, e3), 1);
    void *missing = rc_int_new(7);
    rc_set_error(0, "untouched");
    CHECK(rc_dict_get(d, missing) == NULL);
    CHECK_STR_CONTAINS(rc_last_error(), "untouched"); /* a miss sets no message */
    CHECK_EQ(rc_dict_contains(d, missing), 0);
    /* del and pop */
    CHECK_EQ(rc_dict_del(d, e2), 0);
    CHECK_EQ(rc_refcount(k2), 2); /* ours and the tuple's */
    CHECK_EQ(rc_refcount(v2), 1);
    CHECK_EQ(rc_dict_del(d, e2), RC_ENOTFOUND);
    CHECK_STR_CONTAINS(rc_last_error(), "rc_dict_del: key 'two' not found");
    CHECK_EQ(rc_dict_del(d, rc_int_new(-3)), RC_ENOTFOUND);
    CHECK_STR_CONTAINS(rc_last_error(), "rc_dict_del: key -3 not found");
    void *popped = rc_dict_pop(d, e1);
    CHECK(popped == v1);
    CHECK_EQ(rc_refcount(v1), 3); /* the dict's reference is now ours */
    CHECK_EQ(rc_refcount(k1), 2); /* the dict dropped its key */
    rc_decref(popped);
    CHECK(rc_dict_pop(d, e1) == NULL);
    CHECK_STR_CONTAINS(rc_last_error(), "rc_dict_pop: key 1000 not found");
    CHECK_EQ(rc_dict_len(d), 1);
    CHECK(table_ok(d));
    rc_dict_clear(d);
    CHECK_EQ(rc_dict_len(d), 0);
    CHECK_EQ(rc_sizeof(d), DICT_EMPTY);
    CHECK_EQ(rc_refcount(k3), 1);
    CHECK_EQ(rc_refcount(v1), 1);
    CHECK_EQ(rc_dict_set(d, k1, v2), 0); /* usable after clear */
    rc_decref(d);
    CHECK_EQ(rc_refcount(k1), 2);
    CHECK_EQ(rc_refcount(v2), 1);
    void *objs[] = {k1, k2, k3, v1, v2, e1, e2, e3};
    for (size_t i = 0; i < sizeof objs / sizeof objs[0]; i++)
        rc_decref(objs[i]);
}

static void test_misuse(void)
{
    void *d = rc_dict_new(), *list = rc_list_new(), *k = rc_str_from("k");
    CHECK_EQ(rc_dict_set(list, k, k), RC_EINVAL);
    CHECK_STR_CONTAINS(rc_last_error(), "rc_dict_set: expected a dict, got a list");
    CHECK_EQ(rc_dict_set(d, NULL, k), RC_EINVAL);
    CHECK_STR_CONTAINS(rc_last_error(), "rc_dict_set: key is NULL");
    CHECK_EQ(rc_dict_set(d, k, NULL), RC_EINVAL);
    CHECK_STR_CONTAINS(rc_last_error(), "rc_dict_set: value is NULL");
    CHECK(rc_dict_get(NULL, k) == NULL);
    CHECK_STR_CONTAINS(rc_last_error(), "rc_dict_get: expected a dict, got NULL");
    CHECK_EQ(rc_dict_contains(d, NULL), RC_EINVAL);
    CHECK_EQ(rc_dict_del(list, k), RC_EINVAL);
    CHECK_EQ(rc_dict_len(list), 0);
    CHECK_STR_CONTAINS(rc_last_error(), "rc_dict_len: expected a dict, got a list");
    rc_dict_clear(list); /* refused, harmless */
    CHECK_EQ(rc_list_len(list), 0);
    rc_iter it = rc_dict_iter(list);
    CHECK_EQ(rc_dict_next(&it, NULL, NULL), RC_EINVAL);
    CHECK_EQ(rc_dict_next(NULL, NULL, NULL), RC_EINVAL);
    CHECK(rc_dict_keys(list) == NULL);
    CHECK_STR_CONTAINS(rc_last_error(), "rc_dict_keys: expected a dict, got a list");
    CHECK_EQ(rc_refcount(k), 1);
    rc_decref(d);
    rc_decref(list);
    rc_decref(k);
}

/* ---- order, replace ---- */

/* The dict's keys as ints, in iteration order; returns how many. */
static size_t int_keys(void *d, int64_t *out, size_t max)
{
    rc_iter it = rc_dict_iter(d);
    void *key, *value;
    size_t n = 0;
    while (rc_dict_next(&it, &key, &value) > 0 && n < max)
        out[n++] = rc_int_value(key);
    return n;
}

static void test_order(void)
{
    void *d = rc_dict_new();
    for (int64_t i = 0; i < 100; i++) {
        void *k = rc_int_new(1000 + i);
        rc_dict_set(d, k, k);
        rc_decref(k);
    }
    for (int64_t i = 0; i < 100; i += 2) {
        void *k = rc_int_new(1000 + i);
        CHECK_EQ(rc_dict_del(d, k), 0);
        rc_decref(k);
    }
    /* new keys go to the end; an old key set again keeps its place */
    void *k = rc_int_new(1001), *v = rc_str_from("new value");
    rc_dict_set(d, k, v);
    rc_decref(k);
    for (int64_t i = 0; i < 200; i++) { /* through several resizes */
        k = rc_int_new(5000 + i);
        rc_dict_set(d, k, k);
        rc_decref(k);
    }
    int64_t keys[300];
    size_t n = int_keys(d, keys, 300);
    CHECK_EQ(n, 250);
    CHECK_EQ(rc_dict_len(d), 250);
    size_t wrong = 0;
    for (size_t i = 0; i < 50; i++)
        wrong += keys[i] != (int64_t)(1001 + 2 * i);
    for (size_t i = 0; i < 200; i++)
        wrong += keys[50 + i] != (int64_t)(5000 + i);
    CHECK_EQ(wrong, 0);
    k = rc_int_new(1001);
    CHECK(rc_dict_get(d, k) == v);
    rc_decref(k);
    CHECK(table_ok(d));
    rc_decref(d);
    CHECK_EQ(rc_refcount(v), 1);
    rc_decref(v);
}

static void test_replace_keeps_key(void)
{
    void *d = rc_dict_new();
    void *a = rc_str_from("key"), *b = rc_str_from("key");
    void *v1 = rc_str_from("v1"), *v2 = rc_str_from("v2");
    rc_dict_set(d, a, v1);
    CHECK_EQ(rc_dict_set(d, b, v2), 0);
    CHECK_EQ(rc_dict_len(d), 1);
    CHECK_EQ(rc_refcount(a), 2); /* still the key */
    CHECK_EQ(rc_refcount(b), 1); /* never taken */
    CHECK_EQ(rc_refcount(v1), 1);
    CHECK_EQ(rc_refcount(v2), 2);
    rc_iter it = rc_dict_iter(d);
    void *key = NULL, *value = NULL;
    CHECK_EQ(rc_dict_next(&it, &key, &value), 1);
    CHECK(key == a && value == v2);
    CHECK_EQ(rc_dict_next(&it, &key, &value), 0);
    /* replacing a value with itself, holding its only other reference */
    rc_dict_set(d, a, v2);
    rc_decref(v2);
    CHECK_EQ(rc_dict_set(d, a, v2), 0);
    CHECK_EQ(rc_refcount(v2), 1);
    rc_decref(d);
    rc_decref(a);
    rc_decref(b);
    rc_decref(v1);
}

/* ---- collisions ---- */

static void test_collisions(void)
{
    enum { N = 200 };
    void *d = rc_dict_new();
    Key *keys[N];
    for (long i = 0; i < N; i++) {
        keys[i] = key_new(i);
        CHECK_EQ(rc_dict_set(d, keys[i], rc_int_new(i)), 0);
    }
    CHECK_EQ(rc_dict_len(d), N);
    size_t found = 0;
    for (long i = 0; i < N; i++) {
        Key *probe = key_new(i); /* an equal key, another object */
        found += rc_int_value(rc_dict_get(d, probe)) == i;
        rc_decref(probe);
    }
    CHECK_EQ(found, N);
    key_equal_calls = 0;
    CHECK(rc_dict_get(d, keys[0]) == rc_int_new(0));
    CHECK_EQ(key_equal_calls, 0); /* first on the probe path, found by identity */
    for (long i = 0; i < N; i += 3)
        CHECK_EQ(rc_dict_del(d, keys[i]), 0);
    Key *absent = key_new(N + 5);
    key_equal_calls = 0;
    CHECK(rc_dict_get(d, absent) == NULL);
    /* every live key compared (some twice: the probe path can revisit) */
    CHECK(key_equal_calls >= N - (N + 2) / 3 && key_equal_calls < 2 * N);
    CHECK_EQ(rc_refcount(keys[0]), 1);
    CHECK_EQ(rc_refcount(keys[1]), 2);
    CHECK(table_ok(d));
    rc_decref(absent);
    rc_decref(d);
    for (long i = 0; i < N; i++) {
        CHECK_EQ(rc_refcount(keys[i]), 1);
        rc_decref(keys[i]);
    }
}

/* ---- sizes at CPython's resize points ---- */

/* CPython 3.11's sys.getsizeof(d) after n insertions of distinct keys,
 * measured: (insertions, size) at each change. */
typedef struct size_point {
    size_t n, size;
} size_point;
static const size_point cpython_int_keys[] = {{1, 224},     {6, 352},     {11, 632},   {22, 1168},
                                              {43, 2264},   {86, 4688},   {171, 9304}, {342, 18512},
                                              {683, 36952}, {1366, 73808}};
static const size_point cpython_str_keys[] = {{1, 184},     {6, 272},     {11, 464},   {22, 832},
                                              {43, 1584},   {86, 3328},   {171, 6576}, {342, 13056},
                                              {683, 26032}, {1366, 51968}};

static void check_growth(bool str_keys, const size_point *cpython)
{
    /* the n-th change is to a table of 2**(3 + n) */
    void *d = rc_dict_new();
    CHECK_EQ(rc_sizeof(d), DICT_EMPTY);
    size_t prev = rc_sizeof(d), changes = 0, mismatches = 0;
    for (size_t i = 0; i < 1400; i++) {
        char text[32];
        snprintf(text, sizeof text, "key%zu", i);
        void *k = str_keys ? rc_str_from(text) : rc_int_new((int64_t)i * 7919);
        rc_dict_set(d, k, k);
        rc_decref(k);
        size_t size = rc_sizeof(d);
        if (size == prev)
            continue;
        prev = size;
        mismatches += changes >= 10 || cpython[changes].n != i + 1;
        size_t expected = changes < 10 ? cpython[changes].size - CPYTHON_SMALLER -
                                             (str_keys ? 0 : int_table_smaller(3 + changes))
                                       : 0;
        mismatches += changes < 10 && expected != size;
        changes++;
    }
    CHECK_EQ(changes, 10);
    CHECK_EQ(mismatches, 0);
    CHECK(table_ok(d));
    rc_decref(d);
}

static void test_sizes(void)
{
    check_growth(false, cpython_int_keys);
    check_growth(true, cpython_str_keys);
    /* CPython: d = {0..4}; del four; d[100] = 1 rebuilds the full table
     * of 8 at 16 (224 -> 352): calculate_log2_keysize(3) is 4 */
    void *d = rc_dict_new();
    for (int64_t i = 0; i < 5; i++)
        rc_dict_set(d, rc_int_new(i), rc_int_new(i));
    for (int64_t i = 0; i < 4; i++)
        rc_dict_del(d, rc_int_new(i));
    CHECK_EQ(rc_sizeof(d), 224 - CPYTHON_SMALLER - int_table_smaller(3));
    rc_dict_set(d, rc_int_new(100), rc_int_new(1));
    CHECK_EQ(rc_sizeof(d), 352 - CPYTHON_SMALLER - int_table_smaller(4));
    CHECK_EQ(rc_dict_len(d), 2);
    CHECK(table_ok(d));
    rc_decref(d);
    /* a str table becomes general at the first other key: {'a': 1}, then
     * d[1] = 2: 184 -> 352 */
    d = rc_dict_new();
    void *a = rc_str_from("a");
    rc_dict_set(d, a, rc_int_new(1));
    CHECK_EQ(rc_sizeof(d), 184 - CPYTHON_SMALLER);
    rc_dict_set(d, rc_int_new(1), rc_int_new(2));
    CHECK_EQ(rc_sizeof(d), 352 - CPYTHON_SMALLER);
    CHECK(rc_dict_get(d, a) == rc_int_new(1));
    CHECK(table_ok(d));
    rc_decref(d);
    rc_decref(a);
}

/* ---- mutation during iteration ---- */

static void *fill_dict(int n)
{
    void *d = rc_dict_new();
    for (int i = 0; i < n; i++)
        rc_dict_set(d, rc_int_new(i), rc_int_new(i * 10));
    return d;
}

static void test_iteration_mutation(void)
{
    void *d = fill_dict(10), *key, *value;
    /* replacing values while iterating is allowed */
    rc_iter it = rc_dict_iter(d);
    size_t steps = 0;
    while (rc_dict_next(&it, &key, &value) > 0) {
        CHECK_EQ(rc_dict_set(d, key, rc_int_new(rc_int_value(value) + 1)), 0);
        steps++;
    }
    CHECK_EQ(steps, 10);
    CHECK(rc_dict_get(d, rc_int_new(3)) == rc_int_new(31));

    /* a new key */
    it = rc_dict_iter(d);
    CHECK_EQ(rc_dict_next(&it, &key, &value), 1);
    rc_dict_set(d, rc_int_new(100), rc_int_new(0));
    CHECK_EQ(rc_dict_next(&it, &key, &value), RC_ESTATE);
    CHECK_STR_CONTAINS(rc_last_error(), "dictionary changed size during iteration");
    CHECK_EQ(rc_dict_next(&it, &key, &value), RC_ESTATE); /* stays failed */

    /* a delete */
    it = rc_dict_iter(d);
    rc_dict_next(&it, &key, &value);
    rc_dict_del(d, key);
    CHECK_EQ(rc_dict_next(&it, &key, &value), RC_ESTATE);
    CHECK_STR_CONTAINS(rc_last_error(), "dictionary changed size during iteration");

    /* as many keys added as deleted */
    it = rc_dict_iter(d);
    rc_dict_next(&it, &key, &value);
    rc_dict_del(d, rc_int_new(5));
    rc_dict_set(d, rc_int_new(200), rc_int_new(0));
    CHECK_EQ(rc_dict_next(&it, &key, &value), RC_ESTATE);
    CHECK_STR_CONTAINS(rc_last_error(), "dictionary keys changed during iteration");

    /* a clear, even at the end of the iteration */
    it = rc_dict_iter(d);
    while (rc_dict_next(&it, &key, &value) > 0) {
    }
    rc_dict_clear(d);
    CHECK_EQ(rc_dict_next(&it, &key, &value), RC_ESTATE);

    /* an empty dict iterates to its end at once */
    it = rc_dict_iter(d);
    CHECK_EQ(rc_dict_next(&it, &key, &value), 0);
    rc_decref(d);
}

/* ---- hooks that change the dict ---- */

static void *meddle_dict; /* the dict the hooks change */
static int meddle_mode;   /* 1: delete a victim once; 2: insert every time */
static void *meddle_victim;
static long meddle_counter;

/* key_equal_hook: changes meddle_dict as meddle_mode says. */
static void meddle(void)
{
    if (meddle_mode == 1 && meddle_victim) {
        void *victim = meddle_victim; /* once: the delete compares too */
        meddle_victim = NULL;
        rc_dict_del(meddle_dict, victim);
    } else if (meddle_mode == 2) {
        void *k = rc_int_new(100000 + meddle_counter++);
        rc_dict_set(meddle_dict, k, k);
        rc_decref(k);
    }
}

static void test_meddling_hooks(void)
{
    void *d = rc_dict_new();
    key_equal_hook = meddle;
    Key *m1 = key_new(1), *m2 = key_new(2), *m3 = key_new(3);
    rc_dict_set(d, m1, rc_int_new(1));
    rc_dict_set(d, m2, rc_int_new(2));
    rc_dict_set(d, m3, rc_int_new(3));
    meddle_dict = d;
    /* the first comparison deletes m2's entry: the lookup starts again */
    meddle_mode = 1;
    meddle_victim = m2;
    Key *probe = key_new(3);
    CHECK(rc_dict_get(d, probe) == rc_int_new(3));
    CHECK_EQ(rc_dict_len(d), 2);
    CHECK(meddle_victim == NULL);
    CHECK_EQ(rc_refcount(m2), 1);
    /* a deleting comparison during a set: the new key still goes in once */
    Key *m4 = key_new(4);
    meddle_victim = m1;
    CHECK_EQ(rc_dict_set(d, m4, rc_int_new(4)), 0);
    CHECK_EQ(rc_dict_len(d), 2); /* m1 gone, m4 in */
    CHECK(rc_dict_get(d, m4) == rc_int_new(4));
    CHECK(table_ok(d));
    /* comparisons that always insert (and resize): the lookup gives up */
    meddle_mode = 2;
    Key *probe5 = key_new(5);
    CHECK(rc_dict_get(d, probe5) == NULL);
    CHECK_STR_CONTAINS(rc_last_error(), "rc_dict_get: the dict changed during every comparison");
    CHECK_EQ(rc_dict_contains(d, probe5), RC_ESTATE);
    CHECK_EQ(rc_dict_set(d, probe5, rc_int_new(5)), RC_ESTATE);
    CHECK_EQ(rc_refcount(probe5), 1); /* not taken */
    meddle_mode = 0;
    key_equal_hook = NULL;
    CHECK(rc_dict_len(d) > 100); /* the hooks' insertions are all there */
    CHECK(table_ok(d));
    rc_decref(d);
    Key *ms[] = {m1, m2, m3, m4, probe, probe5};
    for (size_t i = 0; i < 6; i++) {
        CHECK_EQ(rc_refcount(ms[i]), 1);
        rc_decref(ms[i]);
    }
}

/* ---- list views ---- */

static void test_views(void)
{
    void *d = rc_dict_new();
    void *a = rc_str_from("a"), *b = rc_str_from("b"), *x = rc_int_new(1000);
    rc_dict_set(d, a, x);
    rc_dict_set(d, b, a);
    void *keys = rc_dict_keys(d), *values = rc_dict_values(d), *items = rc_dict_items(d);
    CHECK_EQ(rc_list_len(keys), 2);
    CHECK(rc_list_get(keys, 0) == a && rc_list_get(keys, 1) == b);
    CHECK(rc_list_get(values, 0) == x && rc_list_get(values, 1) == a);
    CHECK_EQ(rc_list_len(items), 2);
    void *item = rc_list_get(items, 1);
    CHECK(rc_tuple_get(item, 0) == b && rc_tuple_get(item, 1) == a);
    CHECK_EQ(rc_refcount(a), 7); /* ours, dict key and value, keys, values, both items */
    rc_decref(keys);
    rc_decref(values);
    rc_decref(items);
    CHECK_EQ(rc_refcount(a), 3);
    void *empty = rc_dict_new();
    keys = rc_dict_items(empty);
    CHECK(keys && rc_list_len(keys) == 0);
    rc_decref(keys);
    rc_decref(empty);
    rc_decref(d);
    rc_decref(a);
    rc_decref(b);
    rc_decref(x);
}

/* ---- keys of many kinds in one dict ---- */

static void test_key_kinds(void)
{
    void *d = rc_dict_new();
    void *s = rc_str_from("1"), *i = rc_int_new(1), *b = rc_bytes_new("1", 1);
    void *t = rc_tuple_pack(1, i), *node = node_new(1), *node2 = node_new(1);
    void *keys[] = {s, i, b, t, node, node2};
    for (size_t k = 0; k < 6; k++)
        CHECK_EQ(rc_dict_set(d, keys[k], rc_int_new((int64_t)k)), 0);
    CHECK_EQ(rc_dict_len(d), 6); /* "1", 1, b"1", (1,), two nodes: all distinct */
    for (size_t k = 0; k < 6; k++)
        CHECK(rc_dict_get(d, keys[k]) == rc_int_new((int64_t)k));
    CHECK(rc_hash(s) == rc_hash(b)); /* equal hashes, different types */
    void *t2 = rc_tuple_pack(1, rc_int_new(1));
    CHECK(rc_dict_get(d, t2) == rc_int_new(3));
    CHECK(table_ok(d));
    rc_decref(d);
    for (size_t k = 0; k < 6; k++) {
        CHECK_EQ(rc_refcount(keys[k]), k == 1 ? RC_IMMORTAL : 1);
        rc_decref(keys[k]);
    }
    rc_decref(t2);
}

int main(void)
{
    test_basic();
    test_misuse();
    test_order();
    test_replace_keeps_key();
    test_collisions();
    test_sizes();
    test_iteration_mutation();
    test_meddling_hooks();
    test_views();
    test_key_kinds();
    return check_report();
}
