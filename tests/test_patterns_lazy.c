/* test_patterns_lazy.c: rc_lazy, the seeds' LazyDataLoader: nothing loaded
 * until the first get, one load however many gets, memory back at once on
 * release, a reload after it, loader failures leaving the value empty with
 * the loader's message, re-entry refused, the lazy value dropped by its own
 * loader, cycles through the value, and out-of-memory injection. */
#include "faults.h"

static size_t loads_seen;
static long list_len = 1000;
static bool loader_fails, loader_silent;
static void *lazy_slot; /* the loader may use or drop the lazy value here */
static enum { PLAIN, REENTER, DROP_SELF } loader_mode;
static int reenter_code;

/* [i ** 2 for i in range(list_len)], or NULL with a message. */
static void *load_squares(void *arg)
{
    (void)arg;
    loads_seen++;
    if (loader_fails)
        return loader_silent ? NULL
                             : (rc_report_error(RC_EIO, "database %s unreachable", "db1"), NULL);
    if (loader_mode == REENTER) {
        void *inner = rc_lazy_get(lazy_slot);
        reenter_code = inner == NULL ? RC_ESTATE : 0;
        rc_decref(inner);
    } else if (loader_mode == DROP_SELF) {
        rc_decref(lazy_slot); /* the last outside reference */
        lazy_slot = NULL;
    }
    void *list = rc_list_new();
    for (long i = 0; list && i < list_len; i++) {
        void *square = rc_int_new(i * i);
        if (!square || rc_list_append(list, square) != 0) {
            rc_decref(square);
            rc_decref(list);
            return NULL;
        }
        rc_decref(square);
    }
    return list;
}

static long sum_of(const void *list)
{
    long total = 0;
    size_t i = 0;
    void *item;
    while (rc_list_next(list, &i, &item))
        total += rc_int_value(item);
    return total;
}

/* The squares up to 256 are the heap's cached immortal ints, made on first
 * use and kept: make them before counting bytes. */
static void warm_small_ints(void)
{
    for (long i = 0; i * i <= 256; i++)
        rc_decref(rc_int_new(i * i));
}

static size_t bytes_in_use(void)
{
    rc_alloc_stats s = {.struct_size = sizeof s};
    rc_heap_stats(rc_heap_current(), &s);
    return s.bytes_in_use;
}

static void test_load_once_release_reload(void)
{
    loads_seen = 0;
    warm_small_ints();
    size_t base = bytes_in_use();
    void *loader = rc_lazy_new(load_squares, NULL); /* data not loaded yet */
    CHECK(loader && rc_type_of(loader) == &rc_lazy_type);
    CHECK(!rc_lazy_is_loaded(loader));
    CHECK_EQ(loads_seen, 0);
    size_t with_lazy = bytes_in_use();

    void *data = rc_lazy_get(loader); /* triggers loading */
    CHECK_EQ(loads_seen, 1);
    CHECK(rc_lazy_is_loaded(loader));
    CHECK_EQ(rc_list_len(data), 1000);
    CHECK_EQ(sum_of(data), 332833500); /* sum(i*i for i in range(1000)) */
    CHECK_EQ(rc_refcount(data), 2);    /* the lazy value's and ours */
    size_t loaded = bytes_in_use();
    CHECK(loaded > with_lazy + 1000 * 16);

    void *again = rc_lazy_get(loader); /* no loading */
    CHECK(again == data);
    CHECK_EQ(loads_seen, 1);
    CHECK_EQ(rc_lazy_load_count(loader), 1);
    rc_decref(again);

    /* release while we still hold the data: it lives on through our reference */
    rc_weakref *watch = rc_weakref_new(data, NULL, NULL);
    CHECK_EQ(rc_lazy_release(loader), 0);
    CHECK(!rc_lazy_is_loaded(loader));
    CHECK_EQ(rc_refcount(data), 1);
    CHECK(rc_weakref_alive(watch));
    rc_decref(data);
    CHECK(!rc_weakref_alive(watch));
    rc_decref(watch);
    CHECK_EQ(bytes_in_use(), with_lazy);  /* everything loaded is back */
    CHECK_EQ(rc_lazy_release(loader), 0); /* empty: nothing to do */

    data = rc_lazy_get(loader); /* loads again */
    CHECK_EQ(loads_seen, 2);
    CHECK_EQ(rc_lazy_load_count(loader), 2);
    CHECK_EQ(sum_of(data), 332833500);
    rc_decref(data);
    CHECK_EQ(bytes_in_use(), loaded);     /* the lazy value keeps it */
    CHECK_EQ(rc_lazy_release(loader), 0); /* freed at once: no one else holds it */
    CHECK_EQ(bytes_in_use(), with_lazy);
    rc_decref(loader);
    CHECK_EQ(bytes_in_use(), base);
}

static void test_loader_failure(void)
{
    loads_seen = 0;
    void *loader = rc_lazy_new(load_squares, NULL);
    loader_fails = true;
    CHECK(rc_lazy_get(loader) == NULL);
    CHECK(strcmp(rc_last_error(),
                 "rc_lazy_get: the loader returned NULL: database db1 unreachable") == 0);
    CHECK(!rc_lazy_is_loaded(loader));
    CHECK_EQ(rc_lazy_load_count(loader), 0);
    loader_silent = true;
    CHECK(rc_lazy_get(loader) == NULL);
    CHECK(strcmp(rc_last_error(), "rc_lazy_get: the loader returned NULL") == 0);
    loader_fails = loader_silent = false;
    void *data = rc_lazy_get(loader); /* the next get tries again */
    CHECK(data != NULL);
    CHECK_EQ(loads_seen, 3);
    CHECK_EQ(rc_lazy_load_count(loader), 1);
    rc_decref(data);
    rc_decref(loader);
}

static void test_reentry_and_self_drop(void)
{
    /* the loader asks its own lazy value: refused, the outer load goes on */
    lazy_slot = rc_lazy_new(load_squares, NULL);
    loader_mode = REENTER;
    void *data = rc_lazy_get(lazy_slot);
    CHECK(data != NULL);
    CHECK_EQ(reenter_code, RC_ESTATE);
    CHECK_EQ(rc_lazy_load_count(lazy_slot), 1);
    rc_decref(data);
    loader_mode = PLAIN;
    rc_decref(lazy_slot);

    /* the loader drops the last outside reference to its lazy value */
    void *lazy = rc_lazy_new(load_squares, NULL);
    lazy_slot = lazy;
    rc_weakref *watch = rc_weakref_new(lazy, NULL, NULL);
    loader_mode = DROP_SELF;
    data = rc_lazy_get(lazy);
    loader_mode = PLAIN;
    CHECK(data != NULL);
    CHECK(!rc_weakref_alive(watch)); /* died when get let go of it */
    CHECK_EQ(rc_refcount(data), 1);  /* ours alone */
    CHECK_EQ(sum_of(data), 332833500);
    rc_decref(data);
    rc_decref(watch);
}

static void *load_cycle(void *arg)
{
    Node *n = node_new(7);
    rc_assign(&n->a, arg); /* the value refers back to its lazy holder */
    return n;
}

static void test_cycle(void)
{
    rc_gc_collect(2);
    counters_reset();
    void *holder = rc_new(&node_type);
    void *lazy2 = rc_lazy_new(load_cycle, holder); /* value -> holder */
    rc_assign(&((Node *)holder)->a, lazy2);        /* holder -> lazy2 */
    rc_decref(rc_lazy_get(lazy2));                 /* lazy2 -> value */
    rc_decref(lazy2);
    rc_decref(holder);
    CHECK_EQ(node_destroyed, 0);
    CHECK_EQ(rc_gc_collect(2), 3); /* holder, lazy2 and the value */
    CHECK_EQ(node_destroyed, 2);
}

static void *load_garbage(void *arg)
{
    (void)arg;
    static long not_an_object[4];
    return &not_an_object[2];
}

static void get_garbage(void) { rc_lazy_get(rc_lazy_new(load_garbage, NULL)); }

static void test_misuse(void)
{
    CHECK(rc_lazy_new(NULL, NULL) == NULL);
    CHECK_STR_CONTAINS(rc_last_error(), "rc_lazy_new: load is NULL");
    void *list = rc_list_new();
    CHECK(rc_lazy_get(list) == NULL);
    CHECK_STR_CONTAINS(rc_last_error(), "rc_lazy_get: expected a lazy, got a list");
    CHECK_EQ(rc_lazy_release(NULL), RC_EINVAL);
    CHECK_STR_CONTAINS(rc_last_error(), "rc_lazy_release: expected a lazy, got NULL");
    CHECK(!rc_lazy_is_loaded(list));
    CHECK_EQ(rc_lazy_load_count(list), 0);
    rc_decref(list);
    CHECK_DEATH(get_garbage, "the loader's result");
}

/* ---- out-of-memory injection ------------------------------------------- */

/* A get whose loader allocates 3000 ints and a list of them while requests
 * fail: either the whole value or NULL with an out-of-memory message and
 * the lazy value empty; then, injection off, a get loads it. */
static bool scenario_get(long n, bool sticky, int variant)
{
    (void)variant;
    faults_begin();
    warm_small_ints();
    base_in_use = in_use();
    list_len = 3000;
    arm(n, sticky);
    error_reset();
    void *lazy = rc_lazy_new(load_squares, NULL);
    void *data = lazy ? rc_lazy_get(lazy) : NULL;
    if (!data) {
        CHECK_STR_CONTAINS(rc_last_error(), "out of memory");
        CHECK(!lazy || !rc_lazy_is_loaded(lazy));
        total_failed++;
    }
    bool reached = faults_disarm();
    if (lazy) {
        CHECK_EQ(rc_lazy_load_count(lazy), data ? 1 : 0);
        rc_decref(data);
        data = rc_lazy_get(lazy);
        CHECK_EQ(rc_list_len(data), 3000);
        CHECK_EQ(rc_lazy_load_count(lazy), 1);
        rc_decref(data);
        rc_lazy_release(lazy);
        rc_decref(lazy);
    }
    list_len = 1000;
    end();
    return reached;
}

int main(void)
{
    test_load_once_release_reload();
    test_loader_failure();
    test_reentry_and_self_drop();
    test_cycle();
    test_misuse();
    faults_sweep("get", scenario_get, 0, 3, 10000);
    return check_report();
}
