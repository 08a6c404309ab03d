/* lazy_loading.c: the seeds' Lazy Loading Pattern ("load data only when
 * accessed"), in C with rc_lazy.
 *
 *     loader = LazyDataLoader("database")
 *     print("Object created")              # data not loaded yet
 *     result = sum(loader.data)            # triggers loading
 *     result2 = sum(loader.data)           # no loading
 *     loader.clear_cache()                 # clear when done
 *
 * The heap's statistics show the memory the data takes, and that
 * clear_cache (rc_lazy_release) gives all of it back at once: reference
 * counting frees the list and its million ints the moment the last
 * reference goes. Exits non-zero if anything is not as it says.
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

/* _load_data: [i ** 2 for i in range(1000000)] */
static void *load_data(void *arg)
{
    printf("Loading data from %s\n", (const char *)arg);
    void *data = rc_list_new();
    for (int64_t i = 0; data && i < 1000000; i++) {
        void *square = rc_int_new(i * i);
        if (!square || rc_list_append(data, square) != 0) {
            rc_decref(square);
            rc_decref(data);
            return NULL;
        }
        rc_decref(square);
    }
    return data;
}

static int64_t sum(const void *list)
{
    int64_t total = 0;
    size_t i = 0;
    void *item;
    while (rc_list_next(list, &i, &item))
        total += rc_int_value(item);
    return total;
}

static size_t megabytes_in_use(void)
{
    rc_alloc_stats stats = {.struct_size = sizeof stats};
    rc_heap_stats(rc_heap_current(), &stats);
    return stats.bytes_in_use >> 20;
}

int main(void)
{
    void *loader = rc_lazy_new(load_data, "database");
    printf("Object created (%zu MB in use)\n", megabytes_in_use());
    expect(!rc_lazy_is_loaded(loader), "nothing loaded yet");

    void *data = rc_lazy_get(loader); /* triggers loading */
    int64_t result = sum(data);
    rc_decref(data);
    printf("Sum: %lld (%zu MB in use)\n", (long long)result, megabytes_in_use());
    expect(result == 333332833333500000, "the sum of the squares below a million");
    expect(megabytes_in_use() >= 30, "a million ints and a list of them in use");

    data = rc_lazy_get(loader); /* no loading */
    int64_t result2 = sum(data);
    rc_decref(data);
    printf("Sum again: %lld, loads so far: %zu\n", (long long)result2, rc_lazy_load_count(loader));
    expect(rc_lazy_load_count(loader) == 1, "loaded once");

    rc_lazy_release(loader); /* clear_cache: no gc.collect() needed */
    printf("After clear_cache: %zu MB in use\n", megabytes_in_use());
    expect(megabytes_in_use() == 0, "everything given back");

    rc_decref(loader);
    printf("%s\n", failures ? "FAILED" : "ok");
    return failures != 0;
}
