/* test_patterns_reentry.c: user code that reaches a pattern from inside one
 * of its own calls, where the pattern did not call it directly:
 *  - a finalizer that would reach a pool or a writer while its array
 *    grows: the growth is an rc_realloc, which fails without collecting
 *    when memory is short, so the finalizer runs only at the next
 *    collection (the release is dropped, the write fails with RC_ENOMEM,
 *    nothing is lost or freed under the growth);
 *  - a key's equal hook that drops the last reference to the LRU cache or
 *    canonicalizing cache it is looked up in (the call completes, and the
 *    cache dies when it returns). */
#include "check.h"

#include <reclaim.h>

/* ---- a garbage cycle whose finalizer runs the chosen action ----------- */

typedef struct Cycle {
    void *self;
} Cycle;

static void (*finalizer_action)(void);

static void cycle_traverse(void *self, rc_visit_fn visit, void *arg)
{
    visit(&((Cycle *)self)->self, arg);
}

static void cycle_finalize(void *self)
{
    (void)self;
    finalizer_action();
}

static const rc_type cycle_type = {
    .name = "Cycle",
    .size = sizeof(Cycle),
    .traverse = cycle_traverse,
    .finalize = cycle_finalize,
};

/* One garbage cycle whose finalizer would run action, then the next
 * system allocation fails once. A growth by rc_realloc then fails without
 * collecting: no user code runs while the array moves. */
static void fail_next_allocation_with(void (*action)(void))
{
    finalizer_action = action;
    Cycle *c = rc_new(&cycle_type);
    CHECK(c != NULL);
    c->self = rc_incref(c);
    rc_decref(c);
    rc_heap_inject_faults(rc_heap_current(), RC_FAULT_MALLOC, 0, false);
}

static void faults_off(void) { rc_heap_inject_faults(rc_heap_current(), 0, -1, false); }

static int finalizer_status;

/* ---- a pool's available array grows ----------------------------------- */

static const rc_type item_type = {.name = "Item", .size = 16};
static void *the_pool, *late_item;

static void *make_item(void *arg)
{
    (void)arg;
    return rc_new(&item_type);
}

static void release_late_item(void) { finalizer_status = rc_pool_release(the_pool, late_item); }

static rc_pool_stats pool_stats(void)
{
    rc_pool_stats s = {.struct_size = sizeof s};
    CHECK_EQ(rc_pool_get_stats(the_pool, &s), 0);
    return s;
}

static void test_pool_release_during_growth(void)
{
    enum { HELD = 130, POOLED = 128 }; /* 128 slots: a large block, full */
    the_pool = rc_pool_new(make_item, NULL, NULL, 1000);
    void *held[HELD];
    for (int i = 0; i < HELD; i++)
        held[i] = rc_pool_acquire(the_pool);
    for (int i = 0; i < POOLED; i++)
        CHECK_EQ(rc_pool_release(the_pool, held[i]), 0);
    late_item = held[HELD - 2];
    finalizer_status = 1;
    fail_next_allocation_with(release_late_item);
    CHECK_EQ(rc_pool_release(the_pool, held[HELD - 1]), 0); /* no room: dropped */
    faults_off();
    CHECK_EQ(finalizer_status, 1); /* the growth ran no finalizer */
    rc_pool_stats s = pool_stats();
    CHECK_EQ(s.available, POOLED);
    CHECK_EQ(s.in_use, 1);
    CHECK_EQ(s.dropped, 1);
    CHECK_EQ(rc_gc_collect(2), 1); /* now the finalizer releases: the array grows */
    CHECK_EQ(finalizer_status, 0);
    s = pool_stats();
    CHECK_EQ(s.available, POOLED + 1);
    CHECK_EQ(s.in_use, 0);
    CHECK(rc_pool_acquire(the_pool) == late_item); /* LIFO */
    CHECK_EQ(rc_pool_release(the_pool, late_item), 0);
    rc_decref(the_pool);
}

/* ---- a writer's records array grows ----------------------------------- */

static void *the_writer;
static size_t sink_records;

static int count_sink(void *const *records, size_t n, void *arg)
{
    (void)records, (void)arg;
    sink_records += n;
    return 0;
}

static void write_from_finalizer(void) { finalizer_status = rc_batch_write(the_writer, "late", 4); }

static void test_batch_write_during_growth(void)
{
    enum { PENDING = 128 }; /* 128 slots: a large block, full */
    the_writer = rc_batch_writer_new(1000, 0, count_sink, NULL);
    for (int i = 0; i < PENDING; i++)
        CHECK_EQ(rc_batch_write(the_writer, "r", 1), 0);
    finalizer_status = 1;
    fail_next_allocation_with(write_from_finalizer);
    CHECK_EQ(rc_batch_write(the_writer, "outer", 5), RC_ENOMEM); /* the growth failed */
    faults_off();
    CHECK_EQ(finalizer_status, 1); /* and ran no finalizer */
    CHECK_EQ(rc_batch_pending(the_writer), PENDING);
    CHECK_EQ(rc_gc_collect(2), 1); /* the finalizer's write grows the array */
    CHECK_EQ(finalizer_status, 0);
    CHECK_EQ(rc_batch_write(the_writer, "outer", 5), 0);
    CHECK_EQ(rc_batch_pending(the_writer), PENDING + 2);
    void *pending = rc_batch_take_pending(the_writer);
    CHECK(strcmp(rc_bytes_data(rc_list_get(pending, PENDING)), "late") == 0);
    CHECK(strcmp(rc_bytes_data(rc_list_get(pending, PENDING + 1)), "outer") == 0);
    rc_decref(pending);
    CHECK_EQ(rc_batch_close(the_writer, NULL), 0);
    CHECK_EQ(sink_records, 0);
    rc_decref(the_writer);
}

/* ---- a key's equal hook drops the cache -------------------------------- */

static void *cache_to_drop; /* the only reference to the cache */

static uint64_t same_hash(const void *self)
{
    (void)self;
    return 42;
}

static bool dropping_equal(const void *self, const void *other)
{
    void *cache = cache_to_drop;
    cache_to_drop = NULL;
    rc_decref(cache);
    return self == other;
}

static const rc_type dropping_key_type = {
    .name = "DroppingKey", .size = 8, .hash = same_hash, .equal = dropping_equal};

static void *make_for_key(void *key, void *arg)
{
    (void)key, (void)arg;
    return rc_new(&item_type);
}

static void test_hook_drops_cache(void)
{
    void *a = rc_new(&dropping_key_type), *b = rc_new(&dropping_key_type);

    void *lru = rc_lru_new(4, NULL, NULL);
    CHECK_EQ(rc_lru_put(lru, a, a), 0);
    rc_weakref *watch = rc_weakref_new(lru, NULL, NULL);
    cache_to_drop = lru; /* b's lookup compares with a: the hook drops the cache */
    void *got = NULL;
    CHECK_EQ(rc_lru_get(lru, b, &got), 0);
    CHECK(got == NULL && cache_to_drop == NULL);
    CHECK(!rc_weakref_alive(watch)); /* died when the call let go of it */
    rc_decref(watch);

    void *canon = rc_canon_new(make_for_key, NULL);
    void *for_a = rc_canon_get(canon, a);
    watch = rc_weakref_new(canon, NULL, NULL);
    cache_to_drop = canon;
    void *for_b = rc_canon_get(canon, b);
    CHECK(for_b != NULL && for_b != for_a && cache_to_drop == NULL);
    CHECK(!rc_weakref_alive(watch));
    CHECK_EQ(rc_refcount(for_b), 1); /* the caller's: the cache is gone */
    rc_decref(watch);
    rc_decref(for_a);
    rc_decref(for_b);
    rc_decref(a);
    rc_decref(b);
}

int main(void)
{
    rc_gc_set_threshold(1000000, 10, 10); /* only the out-of-memory collections */
    test_pool_release_during_growth();
    test_batch_write_during_growth();
    test_hook_drops_cache();
    return check_report();
}
