/* test_patterns_lru.c: rc_lru, functools.lru_cache(maxsize): hits, misses,
 * maxsize and currsize exact; least recently used evicted first; keys by
 * equality; CPython's fib.cache_info(); maxsize 0 and unbounded; get/put;
 * clear; reference counts of values and their release on eviction; a
 * failing function; cycles through cached values; finalizers and hash
 * hooks that use the cache while it works; a seeded model run; and
 * out-of-memory injection. */
#include "faults.h"

static size_t computed;
static bool compute_fails;

static void *square(void *key, void *arg)
{
    (void)arg;
    computed++;
    if (compute_fails)
        return rc_report_error(RC_EINVAL, "cannot square %lld", (long long)rc_int_value(key)), NULL;
    int64_t v = rc_int_value(key);
    return rc_int_new(100000 + v * v); /* not a cached small int: refcounts show */
}

static rc_lru_info info_of(void *cache)
{
    rc_lru_info info = {.struct_size = sizeof info};
    CHECK_EQ(rc_lru_cache_info(cache, &info), 0);
    return info;
}

static void check_info(void *cache, size_t hits, size_t misses, size_t currsize)
{
    rc_lru_info info = info_of(cache);
    CHECK_EQ(info.hits, hits);
    CHECK_EQ(info.misses, misses);
    CHECK_EQ(info.currsize, currsize);
}

/* cache(key) for an int key; returns the int value, -1 on failure. */
static int64_t call(void *cache, int64_t k)
{
    void *key = rc_int_new(k);
    void *value = rc_lru_call(cache, key);
    rc_decref(key);
    int64_t v = value ? rc_int_value(value) : -1;
    rc_decref(value);
    return v;
}

static void test_eviction_order(void)
{
    computed = 0;
    void *cache = rc_lru_new(3, square, NULL);
    CHECK(cache && rc_type_of(cache) == &rc_lru_type);
    CHECK_EQ(info_of(cache).maxsize, 3);
    CHECK_EQ(call(cache, 1), 100001);
    CHECK_EQ(call(cache, 2), 100004);
    CHECK_EQ(call(cache, 3), 100009);
    check_info(cache, 0, 3, 3);
    CHECK_EQ(call(cache, 1), 100001); /* a hit: 1 is now the most recent */
    check_info(cache, 1, 3, 3);
    CHECK_EQ(computed, 3);
    CHECK_EQ(call(cache, 4), 100016); /* evicts 2, the least recently used */
    check_info(cache, 1, 4, 3);
    call(cache, 3); /* hit */
    call(cache, 1); /* hit */
    CHECK_EQ(computed, 4);
    call(cache, 2); /* miss: it was evicted; evicts 4 */
    CHECK_EQ(computed, 5);
    check_info(cache, 3, 5, 3);
    call(cache, 4); /* miss again */
    CHECK_EQ(computed, 6);
    check_info(cache, 3, 6, 3);
    CHECK_EQ(rc_lru_clear(cache), 0);
    check_info(cache, 0, 0, 0);
    call(cache, 1);
    CHECK_EQ(computed, 7);
    rc_decref(cache);
}

static void test_references(void)
{
    void *cache = rc_lru_new(2, NULL, NULL);
    void *k1 = rc_str_from("alpha"), *k1_again = rc_str_from("alpha");
    void *v1 = rc_int_new(5001), *v2 = rc_int_new(5002), *v3 = rc_int_new(5003);
    CHECK_EQ(rc_lru_put(cache, k1, v1), 0);
    CHECK_EQ(rc_refcount(v1), 2);
    CHECK_EQ(rc_refcount(k1), 3); /* ours, the dict's and the link's (as CPython's) */
    void *got = NULL;
    CHECK_EQ(rc_lru_get(cache, k1_again, &got), 1); /* equal keys find the entry */
    CHECK(got == v1);
    CHECK_EQ(rc_refcount(v1), 3);
    rc_decref(got);
    CHECK_EQ(rc_lru_put(cache, k1_again, v2), 0); /* replaces the value, keeps the key */
    CHECK_EQ(rc_refcount(v1), 1);
    CHECK_EQ(rc_refcount(v2), 2);
    CHECK_EQ(rc_refcount(k1), 3);
    CHECK_EQ(rc_refcount(k1_again), 1);
    CHECK_EQ(info_of(cache).currsize, 1);

    void *t1 = rc_tuple_pack(2, k1, v3), *t2 = rc_tuple_pack(2, k1_again, v3);
    CHECK_EQ(rc_lru_put(cache, t1, v3), 0);
    CHECK_EQ(rc_lru_get(cache, t2, &got), 1); /* tuples of equal items: one key */
    rc_decref(got);
    /* a third key evicts the least recently used: k1 (t1 was just used) */
    rc_weakref *watch = rc_weakref_new(v2, NULL, NULL);
    rc_decref(v2);
    CHECK_EQ(rc_lru_put(cache, v1, v1), 0);
    CHECK(!rc_weakref_alive(watch)); /* v2 went with its entry */
    CHECK_EQ(rc_refcount(k1), 2);    /* k1: ours and t1's */
    CHECK_EQ(rc_lru_get(cache, k1, &got), 0);
    CHECK(got == NULL);
    check_info(cache, 2, 1, 2);
    CHECK_EQ(rc_lru_clear(cache), 0);
    CHECK_EQ(rc_refcount(t1), 1);
    CHECK_EQ(rc_refcount(v1), 1);
    rc_decref(watch);
    rc_decref(t1);
    rc_decref(t2);
    rc_decref(k1);
    rc_decref(k1_again);
    rc_decref(v1);
    rc_decref(v3);
    rc_decref(cache);
}

/* @lru_cache(maxsize=None)
 * def fib(n): return n if n < 2 else fib(n - 1) + fib(n - 2)
 * arg points at the cache (made after the function it calls). */
static void *fib_via_slot(void *key, void *arg)
{
    void *cache = *(void **)arg;
    int64_t n = rc_int_value(key);
    if (n < 2)
        return rc_int_new(n);
    int64_t a = call(cache, n - 1), b = call(cache, n - 2);
    return rc_int_new(a + b);
}

static void test_fib_cache_info(void)
{
    static void *slot;
    slot = rc_lru_new(RC_LRU_UNBOUNDED, fib_via_slot, &slot);
    CHECK(call(slot, 80) == INT64_C(23416728348467685));
    /* CPython: fib(80); fib.cache_info() ==
     * CacheInfo(hits=78, misses=81, maxsize=None, currsize=81) */
    check_info(slot, 78, 81, 81);
    CHECK(info_of(slot).maxsize == SIZE_MAX);
    rc_decref(slot);

    /* maxsize=0: no caching, every call a miss */
    computed = 0;
    void *none = rc_lru_new(0, square, NULL);
    for (int i = 0; i < 5; i++)
        CHECK_EQ(call(none, 7), 100049);
    CHECK_EQ(computed, 5);
    check_info(none, 0, 5, 0);
    void *k = rc_int_new(9);
    CHECK_EQ(rc_lru_put(none, k, k), 0);
    CHECK_EQ(info_of(none).currsize, 0);
    rc_decref(none);
}

static void test_errors(void)
{
    computed = 0;
    void *cache = rc_lru_new(4, square, NULL);
    compute_fails = true;
    void *key = rc_int_new(12);
    CHECK(rc_lru_call(cache, key) == NULL);
    CHECK(strcmp(rc_last_error(), "rc_lru_call: the function returned NULL: cannot square 12") ==
          0);
    check_info(cache, 0, 1, 0); /* counted as a miss, nothing cached */
    compute_fails = false;
    CHECK_EQ(call(cache, 12), 100144);
    check_info(cache, 0, 2, 1);

    CHECK(rc_lru_call(cache, NULL) == NULL);
    CHECK_STR_CONTAINS(rc_last_error(), "rc_lru_call: key is NULL");
    void *list = rc_list_new();
    CHECK(rc_lru_call(list, key) == NULL);
    CHECK_STR_CONTAINS(rc_last_error(), "rc_lru_call: expected a lru_cache, got a list");
    CHECK_EQ(rc_lru_put(cache, key, NULL), RC_EINVAL);
    CHECK_STR_CONTAINS(rc_last_error(), "rc_lru_put: value is NULL");
    CHECK_EQ(rc_lru_get(cache, key, NULL), RC_EINVAL);
    CHECK_EQ(rc_lru_clear(list), RC_EINVAL);
    rc_lru_info info = {.struct_size = 3};
    CHECK_EQ(rc_lru_cache_info(cache, &info), RC_EINVAL);
    CHECK_STR_CONTAINS(rc_last_error(), "struct_size is 3, expected 40");
    void *plain = rc_lru_new(4, NULL, NULL);
    CHECK(rc_lru_call(plain, key) == NULL);
    CHECK_STR_CONTAINS(rc_last_error(), "the cache has no function");
    check_info(cache, 0, 2, 1);
    rc_decref(plain);
    rc_decref(list);
    rc_decref(key);
    rc_decref(cache);
}

/* Cached values that refer back to the cache: garbage as a whole. */
static void test_cycle(void)
{
    rc_gc_collect(2);
    counters_reset();
    void *cache = rc_lru_new(10, NULL, NULL);
    for (long i = 0; i < 3; i++) {
        Node *value = node_new(i);
        rc_assign(&value->a, cache);
        void *key = rc_int_new(i);
        rc_lru_put(cache, key, value);
        rc_decref(value);
    }
    rc_decref(cache);
    CHECK_EQ(node_destroyed, 0);
    /* the cache, its dict, 3 links and 3 values (the keys are immortal ints) */
    CHECK_EQ(rc_gc_collect(2), 8);
    CHECK_EQ(node_destroyed, 3);
}

/* A value whose finalizer uses the cache it is being evicted from. */
static void *finalizer_cache;
static size_t finalizer_runs;
static void value_finalize(void *self)
{
    (void)self;
    finalizer_runs++;
    void *key = rc_int_new(1), *got = NULL;
    rc_lru_get(finalizer_cache, key, &got); /* moves 1 to the newest end */
    rc_decref(got);
    void *value = rc_int_new(7777);
    rc_lru_put(finalizer_cache, value, value); /* evicts again, from inside an eviction */
    rc_decref(value);
    rc_decref(key);
}

static const rc_type fin_value_type = {.name = "FinValue", .size = 8, .finalize = value_finalize};

static void test_reentry(void)
{
    finalizer_runs = 0;
    finalizer_cache = rc_lru_new(3, NULL, NULL);
    for (int64_t i = 0; i < 3; i++) {
        void *key = rc_int_new(i), *value = rc_new(&fin_value_type);
        rc_lru_put(finalizer_cache, key, value);
        rc_decref(value);
        rc_decref(key);
    }
    /* [0 1 2] + 3 evicts 0, whose finalizer makes 1 the newest and puts
     * 7777: [2 3 1 7777], evicting 2, whose finalizer (nested) makes 1 the
     * newest and puts 7777 again: [3 1 7777] */
    void *key = rc_int_new(3), *got = NULL;
    CHECK_EQ(rc_lru_put(finalizer_cache, key, key), 0);
    CHECK_EQ(finalizer_runs, 2);
    CHECK_EQ(info_of(finalizer_cache).currsize, 3);
    void *k7777 = rc_int_new(7777);
    CHECK_EQ(rc_lru_get(finalizer_cache, key, &got), 1);
    rc_decref(got);
    CHECK_EQ(rc_lru_get(finalizer_cache, k7777, &got), 1);
    CHECK(got == k7777 || rc_int_value(got) == 7777);
    rc_decref(got);
    rc_decref(key);
    /* clear drops 1's FinValue, whose finalizer puts 7777 into the cleared cache */
    rc_lru_clear(finalizer_cache);
    CHECK_EQ(finalizer_runs, 3);
    CHECK_EQ(info_of(finalizer_cache).currsize, 1);
    CHECK_EQ(rc_lru_get(finalizer_cache, k7777, &got), 1);
    rc_decref(got);
    rc_decref(k7777);
    rc_decref(finalizer_cache);
}

/* A key type whose equal hook clears the cache it is looked up in. */
static void *clearing_cache;
static uint64_t evil_hash(const void *self)
{
    (void)self;
    return 42;
}
static bool evil_equal(const void *self, const void *other)
{
    (void)other;
    if (clearing_cache)
        rc_lru_clear(clearing_cache);
    return self == other;
}
static const rc_type evil_key_type = {
    .name = "EvilKey", .size = 8, .hash = evil_hash, .equal = evil_equal};

static void test_hook_clears_cache(void)
{
    clearing_cache = NULL;
    void *cache = rc_lru_new(4, NULL, NULL);
    void *a = rc_new(&evil_key_type), *b = rc_new(&evil_key_type);
    CHECK_EQ(rc_lru_put(cache, a, a), 0);
    clearing_cache = cache;
    /* the lookup's equal clears (a goes); the dict restarts the lookup in
     * the emptied table, misses, and b goes in */
    CHECK_EQ(rc_lru_put(cache, b, b), 0);
    clearing_cache = NULL;
    CHECK_EQ(rc_refcount(a), 1); /* a's link died in the clear */
    check_info(cache, 0, 0, 1);
    void *got = NULL;
    CHECK_EQ(rc_lru_get(cache, b, &got), 1);
    CHECK(got == b);
    rc_decref(got);
    rc_decref(cache);
    rc_decref(a);
    rc_decref(b);
}

/* Random gets and puts against a model: an array in recency order. */
static void test_model(void)
{
    enum { KEYS = 50, MAX = 16, STEPS = 30000 };
    void *cache = rc_lru_new(MAX, NULL, NULL);
    void *keys[KEYS];
    for (int i = 0; i < KEYS; i++)
        keys[i] = rc_int_new(1000 + i);
    int order[MAX], n = 0; /* order[0]: least recent */
    size_t hits = 0, misses = 0, mismatches = 0;
    uint64_t x = 0x2545F4914F6CDD1Du;
    for (int step = 0; step < STEPS; step++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        int k = (int)(x % KEYS), at = -1;
        for (int i = 0; i < n; i++)
            if (order[i] == k)
                at = i;
        if (at >= 0) { /* both get and put make k the most recent */
            memmove(&order[at], &order[at + 1], (size_t)(n - 1 - at) * sizeof order[0]);
            order[n - 1] = k;
        }
        if ((x >> 32) % 3 == 0) {
            CHECK_EQ(rc_lru_put(cache, keys[k], keys[k]), 0);
            if (at < 0) {
                if (n == MAX)
                    memmove(&order[0], &order[1], (size_t)(--n) * sizeof order[0]);
                order[n++] = k;
            }
        } else {
            void *got = NULL;
            int found = rc_lru_get(cache, keys[k], &got);
            mismatches += found != (at >= 0) || (found && got != keys[k]);
            rc_decref(got);
            if (at >= 0)
                hits++;
            else
                misses++;
        }
        rc_lru_info info = info_of(cache);
        mismatches += info.hits != hits || info.misses != misses || info.currsize != (size_t)n;
    }
    CHECK_EQ(mismatches, 0);
    CHECK(hits > 1000 && misses > 1000);
    printf("model: %zu hits, %zu misses, %d cached\n", hits, misses, n);
    rc_decref(cache);
    for (int i = 0; i < KEYS; i++)
        CHECK_EQ(rc_refcount(keys[i]), 1); /* the cache gave every reference back */
    for (int i = 0; i < KEYS; i++)
        rc_decref(keys[i]);
}

/* ---- out-of-memory injection ------------------------------------------- */

static void *big_value(void *key, void *arg)
{
    (void)arg;
    char text[700];
    memset(text, 'v', sizeof text);
    snprintf(text, 32, "%lld:", (long long)rc_int_value(key));
    return rc_str_new(text, sizeof text); /* above 512 bytes: a large block */
}

/* 150 calls over 60 keys through a cache of 40 while requests fail:
 * each call gives the right value or NULL with an out-of-memory message;
 * the counts add up; afterwards everything is freed. */
static bool scenario_calls(long n, bool sticky, int variant)
{
    (void)variant;
    faults_begin();
    void *keys[60];
    for (int i = 0; i < 60; i++)
        keys[i] = rc_int_new(1000 + i);
    arm(n, sticky);
    error_reset();
    void *cache = rc_lru_new(40, big_value, NULL);
    size_t calls = 0, wrong = 0;
    for (int i = 0; cache && i < 150; i++) {
        int k = (i * 37) % 60;
        error_reset();
        void *value = rc_lru_call(cache, keys[k]);
        calls++;
        if (value) {
            wrong += strtol(rc_str_data(value), NULL, 10) != 1000 + k || rc_str_len(value) != 700;
        } else {
            CHECK_STR_CONTAINS(rc_last_error(), "out of memory");
            total_failed++;
        }
        rc_decref(value);
    }
    if (!cache) {
        CHECK_STR_CONTAINS(rc_last_error(), "out of memory");
        total_failed++;
    }
    bool reached = faults_disarm();
    CHECK_EQ(wrong, 0);
    if (cache) {
        rc_lru_info info = info_of(cache);
        CHECK_EQ(info.hits + info.misses, calls);
        CHECK(info.currsize <= 40);
        rc_decref(cache);
    }
    for (int i = 0; i < 60; i++)
        rc_decref(keys[i]);
    end();
    return reached;
}

int main(void)
{
    test_eviction_order();
    test_references();
    test_fib_cache_info();
    test_errors();
    test_cycle();
    test_reentry();
    test_hook_clears_cache();
    test_model();
    faults_sweep("call", scenario_calls, 0, 4, 10000);
    return check_report();
}
