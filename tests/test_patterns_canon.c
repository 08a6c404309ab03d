/* test_patterns_canon.c: rc_canon, the seeds' CachedObject through a
 * weak-value dict: one object per key while it lives, by equal keys; the
 * cache never keeps an object alive (exact refcounts); an entry goes when
 * its object dies, by reference counting or in a collection, and the next
 * request makes a new object; make failing or returning an immortal object;
 * make asking the cache (for another key, and for its own); the cache
 * dying first; and out-of-memory injection. */
#include "faults.h"

typedef struct Cached {
    void *key; /* a reference */
    void *ref; /* a reference, for cycles */
    long serial;
    char payload[];
} Cached;

static long serials, cached_destroyed;
static bool make_fails, make_immortal;
static void *reenter_cache; /* make asks this cache ... */
static void *reenter_key;   /* ... for this key, once */
static size_t extra_bytes;  /* payload: above 512 B makes large blocks */

static void cached_traverse(void *self, rc_visit_fn visit, void *arg)
{
    Cached *c = self;
    visit(&c->key, arg);
    visit(&c->ref, arg);
}

static void cached_destroy(void *self)
{
    (void)self;
    cached_destroyed++;
}

static const rc_type cached_type = {
    .name = "CachedObject",
    .size = sizeof(Cached),
    .traverse = cached_traverse,
    .destroy = cached_destroy,
};

/* CachedObject.__new__ + __init__: self.key = key */
static void *make_cached(void *key, void *arg)
{
    (void)arg;
    if (make_fails)
        return rc_report_error(RC_EIO, "no data for %s", rc_str_data(key)), NULL;
    if (make_immortal)
        return rc_int_new(5);
    Cached *c = rc_new_var(&cached_type, extra_bytes);
    if (!c)
        return NULL;
    c->key = rc_incref(key);
    c->serial = ++serials;
    if (reenter_cache) {
        void *cache = reenter_cache, *k = reenter_key;
        reenter_cache = NULL; /* once */
        c->ref = rc_canon_get(cache, k);
    }
    return c;
}

static rc_canon_stats stats_of(void *cache)
{
    rc_canon_stats s = {.struct_size = sizeof s};
    CHECK_EQ(rc_canon_get_stats(cache, &s), 0);
    return s;
}

static void check_stats(void *cache, size_t live, size_t made, size_t reused)
{
    rc_canon_stats s = stats_of(cache);
    CHECK_EQ(s.live, live);
    CHECK_EQ(rc_canon_len(cache), live);
    CHECK_EQ(s.made, made);
    CHECK_EQ(s.reused, reused);
}

static void *get(void *cache, const char *key)
{
    void *k = rc_str_from(key);
    void *obj = rc_canon_get(cache, k);
    rc_decref(k);
    return obj;
}

static void test_one_object_per_key(void)
{
    cached_destroyed = 0;
    void *cache = rc_canon_new(make_cached, NULL);
    CHECK(cache && rc_type_of(cache) == &rc_canon_type);
    Cached *obj1 = get(cache, "key1");
    Cached *obj2 = get(cache, "key1"); /* returns same object */
    CHECK(obj1 == obj2);               /* print(obj1 is obj2): True */
    CHECK_EQ(rc_refcount(obj1), 2);    /* ours alone: the cache holds none */
    check_stats(cache, 1, 1, 1);
    Cached *other = get(cache, "key2");
    CHECK(other != obj1);
    check_stats(cache, 2, 2, 1);

    /* when all strong references are gone, the object is removed */
    long serial = obj1->serial;
    rc_decref(obj1);
    check_stats(cache, 2, 2, 1);
    rc_decref(obj2);
    CHECK_EQ(cached_destroyed, 1);
    check_stats(cache, 1, 2, 1);
    Cached *obj3 = get(cache, "key1"); /* creates new object */
    CHECK(obj3->serial != serial);
    check_stats(cache, 2, 3, 1);
    rc_decref(obj3);
    rc_decref(other);
    check_stats(cache, 0, 3, 1);
    rc_decref(cache);
    CHECK_EQ(cached_destroyed, 3);
}

static void test_cycles_and_order(void)
{
    rc_gc_collect(2);
    cached_destroyed = 0;
    void *cache = rc_canon_new(make_cached, NULL);
    /* an object in a cycle: its entry goes when the collector frees it */
    Cached *obj = get(cache, "cyclic");
    rc_assign(&obj->ref, obj);
    rc_decref(obj);
    CHECK_EQ(rc_canon_len(cache), 1); /* alive through its cycle */
    CHECK_EQ(rc_gc_collect(2), 1);    /* the object (its key str is not tracked) */
    CHECK_EQ(cached_destroyed, 1);
    CHECK_EQ(rc_canon_len(cache), 0);

    /* an object that refers to its cache keeps the cache alive: no cycle */
    obj = get(cache, "holder");
    rc_assign(&obj->ref, cache);
    rc_decref(cache);
    CHECK_EQ(rc_refcount(cache), 1);
    Cached *again = get(cache, "holder");
    CHECK(again == obj);
    rc_decref(again);
    rc_decref(obj); /* the object, then the cache */
    CHECK_EQ(cached_destroyed, 2);

    /* the cache dies first: its objects are the callers' */
    cache = rc_canon_new(make_cached, NULL);
    obj = get(cache, "survivor");
    rc_decref(cache);
    CHECK_EQ(rc_refcount(obj), 1);
    CHECK(strcmp(rc_str_data(obj->key), "survivor") == 0);
    rc_decref(obj);
    CHECK_EQ(cached_destroyed, 3);
}

static void test_make_failures_and_reentry(void)
{
    cached_destroyed = 0;
    void *cache = rc_canon_new(make_cached, NULL);
    make_fails = true;
    CHECK(get(cache, "k") == NULL);
    CHECK(strcmp(rc_last_error(), "rc_canon_get: make returned NULL: no data for k") == 0);
    make_fails = false;
    make_immortal = true;
    CHECK(get(cache, "k") == NULL);
    CHECK_STR_CONTAINS(rc_last_error(), "rc_canon_get: cannot register the object: ");
    make_immortal = false;
    check_stats(cache, 0, 0, 0);

    /* make asks for another key: both registered */
    reenter_cache = cache;
    reenter_key = rc_str_from("inner");
    Cached *outer = get(cache, "outer");
    Cached *inner = get(cache, "inner");
    CHECK(outer->ref == inner);
    check_stats(cache, 2, 2, 1);
    rc_decref(inner);
    rc_decref(outer); /* outer drops inner: both gone */
    CHECK_EQ(rc_canon_len(cache), 0);
    rc_decref(reenter_key);

    /* make asks for its own key: the inner object wins, the outer's is dropped */
    reenter_cache = cache;
    reenter_key = rc_str_from("same");
    long before = serials;
    Cached *obj = get(cache, "same");
    CHECK_EQ(obj->serial, before + 2); /* made second, registered first */
    CHECK_EQ(rc_canon_len(cache), 1);
    CHECK_EQ(rc_refcount(obj), 1); /* ours: the outer object and its ref are gone */
    CHECK_EQ(cached_destroyed, 3); /* outer, inner and the dropped outer of "same" */
    rc_decref(obj);
    rc_decref(reenter_key);
    CHECK_EQ(rc_canon_len(cache), 0);

    void *list = rc_list_new();
    CHECK(rc_canon_get(list, list) == NULL);
    CHECK_STR_CONTAINS(rc_last_error(), "rc_canon_get: expected a canon, got a list");
    CHECK(rc_canon_get(cache, NULL) == NULL);
    CHECK_STR_CONTAINS(rc_last_error(), "key is NULL");
    CHECK(rc_canon_new(NULL, NULL) == NULL);
    CHECK_STR_CONTAINS(rc_last_error(), "make is NULL");
    CHECK_EQ(rc_canon_len(list), 0);
    rc_canon_stats s = {.struct_size = 0};
    CHECK_EQ(rc_canon_get_stats(cache, &s), RC_EINVAL);
    rc_decref(list);
    rc_decref(cache);
}

static void *make_garbage(void *key, void *arg)
{
    (void)key, (void)arg;
    static long not_an_object[4];
    return &not_an_object[2];
}

static void get_garbage(void)
{
    void *cache = rc_canon_new(make_garbage, NULL);
    get(cache, "x");
}

/* ---- out-of-memory injection ------------------------------------------- */

enum { F_KEYS = 40, F_GETS = 200 };

/* 200 requests over 40 keys while requests fail, holding every result:
 * each is NULL with an out-of-memory message, or the object for its key,
 * the same object as every other live result for that key. */
static bool scenario_gets(long n, bool sticky, int variant)
{
    (void)variant;
    faults_begin();
    extra_bytes = 600;
    void *keys[F_KEYS];
    for (int i = 0; i < F_KEYS; i++) {
        char text[16];
        snprintf(text, sizeof text, "key%d", i);
        keys[i] = rc_str_from(text);
    }
    static void *held[F_GETS];
    void *first[F_KEYS] = {NULL};
    size_t wrong = 0;
    arm(n, sticky);
    error_reset();
    void *cache = rc_canon_new(make_cached, NULL);
    for (int i = 0; i < F_GETS; i++) {
        int k = (i * 7) % F_KEYS;
        error_reset();
        held[i] = cache ? rc_canon_get(cache, keys[k]) : NULL;
        if (!held[i]) {
            CHECK_STR_CONTAINS(rc_last_error(), "out of memory");
            total_failed++;
            continue;
        }
        wrong += !rc_equal(((Cached *)held[i])->key, keys[k]);
        if (!first[k])
            first[k] = held[i];
        wrong += held[i] != first[k]; /* one object per key while it lives */
    }
    bool reached = faults_disarm();
    CHECK_EQ(wrong, 0);
    if (cache) {
        size_t live = 0;
        for (int k = 0; k < F_KEYS; k++)
            live += first[k] != NULL;
        CHECK_EQ(rc_canon_len(cache), live);
    }
    for (int i = 0; i < F_GETS; i++)
        rc_decref(held[i]);
    if (cache)
        CHECK_EQ(rc_canon_len(cache), 0);
    rc_decref(cache);
    for (int i = 0; i < F_KEYS; i++)
        rc_decref(keys[i]);
    extra_bytes = 0;
    end();
    return reached;
}

int main(void)
{
    test_one_object_per_key();
    test_cycles_and_order();
    test_make_failures_and_reentry();
    CHECK_DEATH(get_garbage, "make's result");
    faults_sweep("get", scenario_gets, 0, 4, 10000);
    return check_report();
}
