/* lru_cache.c: the seeds' "Solution 2: Implement LRU cache", in C with
 * rc_lru.
 *
 *     @lru_cache(maxsize=128)
 *     def expensive_computation(data):
 *         # Automatically manages cache size
 *         return data ** 2
 *
 * An unbounded cache (the seeds' memory leak: "cache grows indefinitely")
 * keeps every result; lru_cache(maxsize=128) keeps the 128 most recently
 * used, so its memory is bounded whatever the input. Also the classic
 * recursive fib and its cache_info(). Exits non-zero if anything is not as
 * it says.
 */
#include <reclaim.h>

#include <stdio.h>

static int failures;

static void expect(int ok, const char *what)
{
    if (!ok) {
        printf("  !! unexpected: %s\n", what);
        failures++;
    }
}

static void *expensive_computation(void *data, void *arg)
{
    (void)arg;
    int64_t x = rc_int_value(data);
    return rc_int_new(x * x);
}

static void print_info(const char *name, void *cache)
{
    rc_lru_info info = {.struct_size = sizeof info};
    rc_lru_cache_info(cache, &info);
    if (info.maxsize == RC_LRU_UNBOUNDED)
        printf("%s.cache_info() = CacheInfo(hits=%zu, misses=%zu, maxsize=None, currsize=%zu)\n",
               name, info.hits, info.misses, info.currsize);
    else
        printf("%s.cache_info() = CacheInfo(hits=%zu, misses=%zu, maxsize=%zu, currsize=%zu)\n",
               name, info.hits, info.misses, info.maxsize, info.currsize);
}

static size_t bytes_in_use(void)
{
    rc_alloc_stats stats = {.struct_size = sizeof stats};
    rc_heap_stats(rc_heap_current(), &stats);
    return stats.bytes_in_use;
}

/* 20000 requests: mostly 100 hot values, now and then a cold one. */
static int64_t run_requests(void *cache)
{
    int64_t total = 0;
    for (int64_t i = 0; i < 20000; i++) {
        void *data = rc_int_new(i % 10 == 0 ? 1000 + i : 1000 + i % 100);
        void *result = rc_lru_call(cache, data);
        total += rc_int_value(result);
        rc_decref(result);
        rc_decref(data);
    }
    return total;
}

static void *fib_cache;

/* @lru_cache(maxsize=None)
 * def fib(n): return n if n < 2 else fib(n - 1) + fib(n - 2) */
static void *fib(void *n_obj, void *arg)
{
    (void)arg;
    int64_t n = rc_int_value(n_obj);
    if (n < 2)
        return rc_int_new(n);
    int64_t sum = 0;
    for (int64_t k = n - 1; k >= n - 2; k--) {
        void *key = rc_int_new(k), *value = rc_lru_call(fib_cache, key);
        sum += rc_int_value(value);
        rc_decref(value);
        rc_decref(key);
    }
    return rc_int_new(sum);
}

int main(void)
{
    /* ints -5..256 are the heap's cached immortal objects (CPython's small
     * ints), made on first use: make them now, so that the byte counts
     * below show the caches alone */
    for (int i = -5; i <= 256; i++)
        rc_decref(rc_int_new(i));
    size_t before = bytes_in_use();
    void *bounded = rc_lru_new(128, expensive_computation, NULL);
    int64_t total = run_requests(bounded);
    print_info("expensive_computation", bounded);
    size_t bounded_bytes = bytes_in_use() - before;

    void *unbounded = rc_lru_new(RC_LRU_UNBOUNDED, expensive_computation, NULL);
    int64_t total2 = run_requests(unbounded);
    print_info("unbounded", unbounded);
    size_t unbounded_bytes = bytes_in_use() - before - bounded_bytes;
    printf("memory: %zu KB with maxsize=128, %zu KB unbounded\n", bounded_bytes >> 10,
           unbounded_bytes >> 10);

    rc_lru_info info = {.struct_size = sizeof info};
    rc_lru_cache_info(bounded, &info);
    expect(total == total2, "the same answers either way");
    expect(info.currsize == 128, "the bounded cache stays at maxsize");
    expect(info.hits + info.misses == 20000 && info.hits > 15000, "the hot values hit");
    rc_lru_cache_info(unbounded, &info);
    expect(info.currsize == 2090, "the unbounded one keeps every value seen");
    expect(unbounded_bytes > 10 * bounded_bytes, "and its memory grows with them");

    rc_lru_clear(bounded); /* expensive_computation.cache_clear() */
    print_info("after cache_clear(): expensive_computation", bounded);
    rc_decref(bounded);
    rc_decref(unbounded);

    fib_cache = rc_lru_new(RC_LRU_UNBOUNDED, fib, NULL);
    void *n = rc_int_new(80), *result = rc_lru_call(fib_cache, n);
    printf("\nfib(80) = %lld\n", (long long)rc_int_value(result));
    print_info("fib", fib_cache);
    rc_lru_cache_info(fib_cache, &info);
    expect(rc_int_value(result) == INT64_C(23416728348467685), "fib(80)");
    expect(info.hits == 78 && info.misses == 81 && info.currsize == 81, "CPython's cache_info");
    rc_decref(result);
    rc_decref(n);
    rc_decref(fib_cache);
    expect(bytes_in_use() == before, "everything given back");
    printf("%s\n", failures ? "FAILED" : "ok");
    return failures != 0;
}
