/* test_types_set.c: rc_set semantics with exact reference counts, rc_sizeof
 * at CPython's resize points (figures measured with CPython 3.11's
 * sys.getsizeof), collisions, union and intersection, mutation during
 * iteration, an equal hook that changes the set, a 120,000-operation model
 * check and an out-of-memory sweep. */
#include "colliding_key.h"
#include "faults.h"

#include "types/set_table.h"

#define SET_EMPTY 56 /* 16 + 40: no table */
/* CPython's set object is 200 bytes with an 8-entry table inside (plus 16
 * of GC header); reclaim's is 40 with the table outside. */
#define CPYTHON_SMALLER 160

static bool table_ok(void *s) { return rc_set_table_validate(s) == 0; }

static void *meddle_set, *meddle_victim;

/* key_equal_hook: discards meddle_victim from meddle_set, once. */
static void discard_victim(void)
{
    if (meddle_victim) {
        void *victim = meddle_victim;
        meddle_victim = NULL;
        rc_set_discard(meddle_set, victim);
    }
}

static void test_basic(void)
{
    void *s = rc_set_new();
    CHECK(rc_is_set(s) && rc_gc_is_tracked(s));
    CHECK_EQ(rc_sizeof(s), SET_EMPTY);
    void *a = rc_str_from("a"), *a2 = rc_str_from("a"), *b = rc_int_new(1000);
    CHECK_EQ(rc_set_add(s, a), 0);
    CHECK_EQ(rc_set_add(s, a2), 0); /* equal: not added */
    CHECK_EQ(rc_set_add(s, b), 0);
    CHECK_EQ(rc_set_len(s), 2);
    CHECK_EQ(rc_refcount(a), 2);
    CHECK_EQ(rc_refcount(a2), 1);
    CHECK_EQ(rc_set_contains(s, a2), 1);
    void *c = rc_int_new(1001);
    CHECK_EQ(rc_set_contains(s, c), 0);
    CHECK_EQ(rc_set_discard(s, c), 0);
    CHECK_EQ(rc_set_discard(s, a2), 1);
    CHECK_EQ(rc_refcount(a), 1);
    CHECK_EQ(rc_set_len(s), 1);
    CHECK(table_ok(s));
    /* misuse */
    void *list = rc_list_new();
    CHECK_EQ(rc_set_add(list, a), RC_EINVAL);
    CHECK_STR_CONTAINS(rc_last_error(), "rc_set_add: expected a set, got a list");
    CHECK_EQ(rc_set_add(s, NULL), RC_EINVAL);
    CHECK_STR_CONTAINS(rc_last_error(), "rc_set_add: key is NULL");
    CHECK_EQ(rc_set_contains(NULL, a), RC_EINVAL);
    CHECK_EQ(rc_set_len(list), 0);
    CHECK(rc_set_union(s, list) == NULL);
    CHECK_STR_CONTAINS(rc_last_error(), "rc_set_union: expected a set, got a list");
    rc_iter it = rc_set_iter(list);
    CHECK_EQ(rc_set_next(&it, NULL), RC_EINVAL);
    rc_set_clear(s);
    CHECK_EQ(rc_set_len(s), 0);
    CHECK_EQ(rc_sizeof(s), SET_EMPTY);
    CHECK_EQ(rc_refcount(b), 1);
    rc_set_add(s, c);
    rc_decref(s);
    CHECK_EQ(rc_refcount(c), 1);
    void *objs[] = {a, a2, b, c, list};
    for (size_t i = 0; i < 5; i++)
        rc_decref(objs[i]);
}

/* CPython 3.11: sys.getsizeof(s) after n adds of distinct ints, at each
 * change; 216 from 0 to 4 items. */
static const size_t cpython_points[][2] = {
    {5, 728}, {19, 2264}, {77, 8408}, {307, 32984}, {1229, 131288}};

static void test_sizes(void)
{
    void *s = rc_set_new();
    size_t prev = rc_sizeof(s), changes = 0, bad = 0;
    for (size_t i = 0; i < 2000; i++) {
        void *k = rc_int_new(1000 + (int64_t)i);
        rc_set_add(s, k);
        rc_decref(k);
        size_t size = rc_sizeof(s);
        if (i == 0) {
            bad += size != 56 + 8 * 16; /* the first table: 8 entries */
            prev = size;
            continue;
        }
        if (size == prev)
            continue;
        prev = size;
        bad += changes >= 5 || cpython_points[changes][0] != i + 1;
        bad += changes < 5 && cpython_points[changes][1] - CPYTHON_SMALLER != size;
        changes++;
    }
    CHECK_EQ(changes, 5);
    CHECK_EQ(bad, 0);
    CHECK(table_ok(s));
    rc_decref(s);
}

static void test_collisions(void)
{
    enum { N = 100 };
    void *s = rc_set_new();
    Key *keys[N];
    for (long i = 0; i < N; i++) {
        keys[i] = key_new(i);
        rc_set_add(s, keys[i]);
    }
    CHECK_EQ(rc_set_len(s), N);
    size_t found = 0;
    for (long i = 0; i < N; i++) {
        Key *probe = key_new(i);
        found += rc_set_contains(s, probe) == 1;
        rc_set_add(s, probe); /* equal: not added */
        CHECK_EQ(rc_refcount(probe), 1);
        rc_decref(probe);
    }
    CHECK_EQ(found, N);
    for (long i = 0; i < N; i += 2)
        CHECK_EQ(rc_set_discard(s, keys[i]), 1);
    CHECK_EQ(rc_set_len(s), N / 2);
    CHECK(table_ok(s));
    /* a comparison that discards another key: the lookup starts again */
    meddle_set = s;
    meddle_victim = keys[1];
    key_equal_hook = discard_victim;
    Key *probe = key_new(N - 1);
    CHECK_EQ(rc_set_contains(s, probe), 1);
    key_equal_hook = NULL;
    CHECK(meddle_victim == NULL);
    CHECK_EQ(rc_set_len(s), N / 2 - 1);
    CHECK_EQ(rc_refcount(keys[1]), 1);
    CHECK(table_ok(s));
    rc_decref(probe);
    rc_decref(s);
    for (long i = 0; i < N; i++) {
        CHECK_EQ(rc_refcount(keys[i]), 1);
        rc_decref(keys[i]);
    }
}

static void *int_set(int from, int to)
{
    void *s = rc_set_new();
    for (int i = from; i < to; i++) {
        void *k = rc_int_new(1000 + i);
        rc_set_add(s, k);
        rc_decref(k);
    }
    return s;
}

static void test_union_intersection(void)
{
    void *a = int_set(0, 50), *b = int_set(30, 100);
    void *u = rc_set_union(a, b), *n = rc_set_intersection(a, b);
    CHECK_EQ(rc_set_len(u), 100);
    CHECK_EQ(rc_set_len(n), 20);
    size_t bad = 0;
    for (int i = 0; i < 110; i++) {
        void *k = rc_int_new(1000 + i);
        bad += rc_set_contains(u, k) != (i < 100);
        bad += rc_set_contains(n, k) != (i >= 30 && i < 50);
        rc_decref(k);
    }
    CHECK_EQ(bad, 0);
    /* the items are a's objects (a is iterated first by the union, and is
     * the smaller operand of the intersection): held by a, u and n */
    rc_iter it = rc_set_iter(n);
    void *key;
    size_t held = 0, count = 0;
    while (rc_set_next(&it, &key) > 0) {
        held += rc_refcount(key) == 3;
        count++;
    }
    CHECK_EQ(count, 20);
    CHECK_EQ(held, 20);
    void *e = rc_set_new(), *ue = rc_set_union(e, e), *ne = rc_set_intersection(a, e);
    CHECK(ue && ne && rc_set_len(ue) == 0 && rc_set_len(ne) == 0);
    void *objs[] = {a, b, u, n, e, ue, ne};
    for (size_t i = 0; i < 7; i++)
        rc_decref(objs[i]);
}

static void test_iteration_mutation(void)
{
    void *s = int_set(0, 20), *key;
    rc_iter it = rc_set_iter(s);
    size_t seen = 0;
    int64_t sum = 0;
    while (rc_set_next(&it, &key) > 0) {
        seen++;
        sum += rc_int_value(key) - 1000;
    }
    CHECK_EQ(seen, 20);
    CHECK_EQ(sum, 190);
    void *k = rc_int_new(5000);
    it = rc_set_iter(s);
    CHECK_EQ(rc_set_next(&it, &key), 1);
    rc_set_add(s, k);
    CHECK_EQ(rc_set_next(&it, &key), RC_ESTATE);
    CHECK_STR_CONTAINS(rc_last_error(), "Set changed size during iteration");
    it = rc_set_iter(s);
    rc_set_next(&it, &key);
    rc_set_discard(s, k);
    CHECK_EQ(rc_set_next(&it, &key), RC_ESTATE);
    it = rc_set_iter(s);
    rc_set_next(&it, &key);
    rc_set_discard(s, key);
    rc_set_add(s, k);
    CHECK_EQ(rc_set_next(&it, &key), RC_ESTATE);
    CHECK_STR_CONTAINS(rc_last_error(), "Set changed during iteration");
    it = rc_set_iter(s);
    rc_set_add(s, k); /* already there: no change */
    CHECK_EQ(rc_set_next(&it, &key), 1);
    rc_decref(k);
    rc_decref(s);
}

/* ---- model check ---- */

enum { NKEYS = 700, OPS = 120000 };

static void stress(void)
{
    void *keys[NKEYS], *twins[NKEYS], *held[NKEYS] = {0};
    for (int i = 0; i < NKEYS; i++) {
        char text[16];
        snprintf(text, sizeof text, "s%d", i);
        keys[i] = i % 3 ? rc_int_new(50000 + i) : rc_str_from(text);
        twins[i] = i % 3 ? rc_int_new(50000 + i) : rc_str_from(text);
    }
    void *s = rc_set_new();
    uint64_t seed = 77;
    size_t len = 0, bad = 0, full_bad = 0;
    for (long op = 0; op < OPS; op++) {
        seed = seed * 6364136223846793005u + 1442695040888963407u;
        int id = (int)((seed >> 33) % NKEYS), what = (int)((seed >> 20) % 1000);
        void *key = (seed >> 60) & 1 ? twins[id] : keys[id];
        if (what < 450) {
            bad += rc_set_add(s, key) != 0;
            if (!held[id]) {
                held[id] = key;
                len++;
            }
        } else if (what < 800) {
            bad += rc_set_discard(s, key) != (held[id] != NULL);
            len -= held[id] != NULL;
            held[id] = NULL;
        } else if (what < 999) {
            bad += rc_set_contains(s, key) != (held[id] != NULL);
        } else {
            rc_set_clear(s);
            memset(held, 0, sizeof held);
            len = 0;
        }
        bad += rc_set_len(s) != len;
        if (op % 256 == 0 || op == OPS - 1) {
            full_bad += !table_ok(s);
            rc_iter it = rc_set_iter(s);
            void *k;
            size_t n = 0;
            while (rc_set_next(&it, &k) > 0)
                n++;
            full_bad += n != len;
            for (int i = 0; i < NKEYS; i++) {
                full_bad += rc_refcount(keys[i]) != 1u + (held[i] == keys[i]);
                full_bad += rc_refcount(twins[i]) != 1u + (held[i] == twins[i]);
            }
        }
    }
    CHECK_EQ(bad, 0);
    CHECK_EQ(full_bad, 0);
    rc_decref(s);
    for (int i = 0; i < NKEYS; i++) {
        CHECK_EQ(rc_refcount(keys[i]), 1);
        rc_decref(keys[i]);
        rc_decref(twins[i]);
    }
}

/* ---- out of memory ---- */

enum { GROW = 3000 };

static bool scenario_grow(long n, bool sticky)
{
    faults_begin();
    static void *items[GROW];
    for (int i = 0; i < GROW; i++)
        items[i] = rc_int_new(1000 + i);
    void *s = rc_set_new();
    arm(n, sticky);
    int done = 0;
    for (; done < GROW; done++) {
        error_reset();
        size_t before = rc_sizeof(s);
        int status = rc_set_add(s, items[done]);
        if (status) {
            CHECK_EQ(status, RC_ENOMEM);
            CHECK_STR_CONTAINS(rc_last_error(), "out of memory");
            CHECK_EQ(rc_sizeof(s), before);
            CHECK_EQ(rc_set_len(s), done);
            CHECK_EQ(rc_refcount(items[done]), 1);
            CHECK(table_ok(s));
            total_failed++;
            break;
        }
    }
    bool reached = faults_disarm();
    for (; done < GROW; done++)
        CHECK_EQ(rc_set_add(s, items[done]), 0);
    CHECK_EQ(rc_set_len(s), GROW);
    size_t bad = 0;
    for (int i = 0; i < GROW; i++)
        bad += rc_set_contains(s, items[i]) != 1 || rc_refcount(items[i]) != 2;
    CHECK_EQ(bad, 0);
    rc_decref(s);
    for (int i = 0; i < GROW; i++)
        rc_decref(items[i]);
    end();
    return reached;
}

static void sweep(void)
{
    for (int sticky = 0; sticky < 2; sticky++) {
        total_failed = 0;
        long n = 0;
        while (n < 10000 && scenario_grow(n, sticky))
            n++;
        CHECK(n > 0 && n < 10000);
        if (sticky)
            CHECK(total_failed > 0);
        printf("oom set %-6s %3ld failure points, %3zu failed adds\n", sticky ? "sticky" : "once",
               n, total_failed);
    }
}

int main(void)
{
    test_basic();
    test_sizes();
    test_collisions();
    test_union_intersection();
    test_iteration_mutation();
    stress();
    sweep();
    return check_report();
}
