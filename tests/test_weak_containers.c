/* test_weak_containers.c: rc_weakvaluedict, rc_weakkeydict and rc_weakset.
 *
 * Entries vanish when their referent dies, by reference counting or in a
 * cycle collection, and release what the container held for them (exact
 * reference counts); the length is exact after each death; iterating while
 * entries die (the loop body drops references, or collects) is safe and
 * yields exactly the live entries; a container that dies first (even from
 * inside a callback of the same death) leaves no callback behind; a
 * container in a garbage cycle is collected with exact counts; the heap's
 * bytes in use return to where they began; out of memory leaves a
 * container unchanged; and a 100,000-step random model check of a weak
 * value dict whose values keep dying. */
#include "faults.h"

/* ---- an Item: a key of a user type, hashed and compared by id ---- */

typedef struct Item {
    void *ref; /* one reference slot, to make cycles */
    long id;
} Item;

static size_t items_destroyed;

static void item_traverse(void *self, rc_visit_fn visit, void *arg)
{
    visit(&((Item *)self)->ref, arg);
}
static void item_destroy(void *self)
{
    (void)self;
    items_destroyed++;
}
static uint64_t item_hash(const void *self) { return (uint64_t)((const Item *)self)->id * 31u; }
static bool item_equal(const void *self, const void *other)
{
    return ((const Item *)self)->id == ((const Item *)other)->id;
}

static const rc_type item_type = {.name = "Item",
                                  .size = sizeof(Item),
                                  .traverse = item_traverse,
                                  .destroy = item_destroy,
                                  .hash = item_hash,
                                  .equal = item_equal};

static Item *item_new(long id)
{
    Item *it = rc_new(&item_type);
    it->id = id;
    return it;
}

static size_t bytes_in_use(void)
{
    rc_alloc_stats s = {.struct_size = sizeof s};
    rc_heap_stats(rc_heap_current(), &s);
    return s.bytes_in_use;
}

/* ---- weak value dict ---- */

static void test_value_dict(void)
{
    void *d = rc_weakvaluedict_new();
    void *k1 = rc_str_from("one"), *k2 = rc_str_from("two");
    Item *v1 = item_new(1), *v2 = item_new(2);
    CHECK_EQ(rc_weakvaluedict_set(d, k1, v1), 0);
    CHECK_EQ(rc_weakvaluedict_set(d, k2, v2), 0);
    CHECK_EQ(rc_weakvaluedict_len(d), 2);
    CHECK_EQ(rc_refcount(v1), 1); /* not held */
    CHECK_EQ(rc_refcount(k1), 2); /* held */
    void *probe = rc_str_from("one");
    CHECK(rc_weakvaluedict_get(d, probe) == v1);
    /* a value dies: its entry goes, and the dict's reference to its key */
    items_destroyed = 0;
    rc_decref(v1);
    CHECK_EQ(items_destroyed, 1);
    CHECK_EQ(rc_weakvaluedict_len(d), 1);
    CHECK(rc_weakvaluedict_get(d, probe) == NULL);
    CHECK_EQ(rc_refcount(k1), 1);
    CHECK_EQ(rc_weakvaluedict_del(d, probe), RC_ENOTFOUND);
    CHECK_STR_CONTAINS(rc_last_error(), "rc_weakvaluedict_del: key 'one' not found");
    /* replacing keeps the first key object; the old value no longer counts */
    Item *v3 = item_new(3);
    void *k2b = rc_str_from("two");
    CHECK_EQ(rc_weakvaluedict_set(d, k2b, v3), 0);
    CHECK_EQ(rc_refcount(k2b), 1);
    CHECK_EQ(rc_refcount(k2), 2);
    rc_decref(v2); /* the replaced value dies: nothing happens to the entry */
    CHECK_EQ(rc_weakvaluedict_len(d), 1);
    CHECK(rc_weakvaluedict_get(d, k2) == v3);
    rc_decref(v3); /* the new one dies: the entry goes, found through the kept key */
    CHECK_EQ(rc_weakvaluedict_len(d), 0);
    CHECK_EQ(rc_refcount(k2), 1);
    /* what cannot die cannot be a weak value */
    CHECK_EQ(rc_weakvaluedict_set(d, k1, rc_int_new(5)), RC_EINVAL);
    CHECK_STR_CONTAINS(rc_last_error(), "rc_weakvaluedict_set: rc_weakref_new: obj is immortal");
    CHECK_EQ(rc_weakvaluedict_len(d), 0);
    CHECK_EQ(rc_refcount(k1), 1);
    /* del and clear release the key and the weak reference */
    Item *v4 = item_new(4);
    rc_weakvaluedict_set(d, k1, v4);
    CHECK_EQ(rc_weakref_count(v4), 1);
    CHECK_EQ(rc_weakvaluedict_del(d, k1), 0);
    CHECK_EQ(rc_weakref_count(v4), 0);
    CHECK_EQ(rc_refcount(k1), 1);
    rc_weakvaluedict_set(d, k1, v4);
    rc_weakvaluedict_set(d, k2, v4);
    rc_weakvaluedict_clear(d);
    CHECK_EQ(rc_weakvaluedict_len(d), 0);
    CHECK_EQ(rc_weakref_count(v4), 0);
    /* misuse */
    CHECK_EQ(rc_weakvaluedict_set(k1, k1, v4), RC_EINVAL);
    CHECK_STR_CONTAINS(rc_last_error(),
                       "rc_weakvaluedict_set: expected a weakvaluedict, got a str");
    CHECK_EQ(rc_weakvaluedict_set(d, NULL, v4), RC_EINVAL);
    CHECK(rc_weakvaluedict_get(d, NULL) == NULL);
    rc_decref(v4);
    rc_decref(d);
    rc_decref(k1);
    rc_decref(k2);
    rc_decref(k2b);
    rc_decref(probe);
}

/* Values that die in a cycle collection leave the dict; its length is
 * exact when the collection returns. */
static void test_value_dict_collection(void)
{
    rc_gc_collect(2);
    void *d = rc_weakvaluedict_new();
    items_destroyed = 0;
    for (long i = 0; i < 100; i++) {
        Item *a = item_new(i), *b = item_new(1000 + i);
        rc_assign(&a->ref, b);
        rc_assign(&b->ref, a); /* a cycle */
        void *k = rc_int_new(i);
        rc_weakvaluedict_set(d, k, a);
        rc_decref(a);
        rc_decref(b);
    }
    CHECK_EQ(rc_weakvaluedict_len(d), 100);
    CHECK_EQ(items_destroyed, 0);
    CHECK_EQ(rc_gc_collect(2), 200);
    CHECK_EQ(items_destroyed, 200);
    CHECK_EQ(rc_weakvaluedict_len(d), 0);
    rc_iter it = rc_weakvaluedict_iter(d);
    CHECK_EQ(rc_weakvaluedict_next(&it, NULL, NULL), 0);
    rc_decref(d);
}

/* The seeds' canonicalizing cache: one object per key while it lives. */
static Item *cached(void *cache, long id)
{
    void *key = rc_int_new(id);
    Item *it = rc_weakvaluedict_get(cache, key);
    if (it) {
        rc_incref(it);
    } else {
        it = item_new(id);
        rc_weakvaluedict_set(cache, key, it);
    }
    rc_decref(key);
    return it;
}

static void test_canonical_cache(void)
{
    void *cache = rc_weakvaluedict_new();
    Item *a = cached(cache, 7), *b = cached(cache, 7), *c = cached(cache, 8);
    CHECK(a == b && a != c);
    CHECK_EQ(rc_refcount(a), 2);
    rc_decref(a);
    rc_decref(b);
    CHECK_EQ(rc_weakvaluedict_len(cache), 1); /* 7 is gone */
    Item *d = cached(cache, 7);
    CHECK(d->id == 7 && rc_weakvaluedict_len(cache) == 2);
    rc_decref(c);
    rc_decref(d);
    CHECK_EQ(rc_weakvaluedict_len(cache), 0);
    rc_decref(cache);
}

/* ---- weak key dict ---- */

static void test_key_dict(void)
{
    void *d = rc_weakkeydict_new();
    Item *k1 = item_new(1), *k2 = item_new(2);
    void *v1 = rc_str_from("v1"), *v2 = rc_str_from("v2");
    CHECK_EQ(rc_weakkeydict_set(d, k1, v1), 0);
    CHECK_EQ(rc_weakkeydict_set(d, k2, v2), 0);
    CHECK_EQ(rc_refcount(k1), 1); /* not held */
    CHECK_EQ(rc_refcount(v1), 2); /* held */
    Item *probe = item_new(1);    /* equal to k1, another object */
    CHECK(rc_weakkeydict_get(d, probe) == v1);
    CHECK_EQ(rc_weakkeydict_set(d, probe, v2), 0); /* replaces k1's value */
    CHECK_EQ(rc_weakkeydict_len(d), 2);
    CHECK_EQ(rc_refcount(v1), 1);
    CHECK_EQ(rc_weakref_count(probe), 0); /* the entry stays k1's */
    rc_iter it = rc_weakkeydict_iter(d);
    void *key, *value;
    CHECK_EQ(rc_weakkeydict_next(&it, &key, &value), 1);
    CHECK(key == k1 && value == v2);
    rc_decref(k1); /* the key dies: its entry goes, and the value it held */
    CHECK_EQ(rc_weakkeydict_len(d), 1);
    CHECK(rc_weakkeydict_get(d, probe) == NULL);
    CHECK_EQ(rc_refcount(v2), 2);
    CHECK_EQ(rc_weakkeydict_set(d, rc_str_interned("immortal"), v1), RC_EINVAL);
    CHECK_EQ(rc_weakkeydict_del(d, probe), RC_ENOTFOUND);
    CHECK_STR_CONTAINS(rc_last_error(), "rc_weakkeydict_del: key <Item object at");
    CHECK_EQ(rc_weakkeydict_del(d, k2), 0);
    CHECK_EQ(rc_weakkeydict_len(d), 0);
    CHECK_EQ(rc_refcount(v2), 1);
    CHECK_EQ(rc_weakref_count(k2), 0);
    /* keys dying in a collection */
    rc_gc_collect(2);
    for (long i = 0; i < 50; i++) {
        Item *k = item_new(100 + i);
        rc_assign(&k->ref, k); /* each its own cycle */
        rc_weakkeydict_set(d, k, v1);
        rc_decref(k);
    }
    CHECK_EQ(rc_weakkeydict_len(d), 50);
    CHECK_EQ(rc_refcount(v1), 51);
    CHECK_EQ(rc_gc_collect(2), 50);
    CHECK_EQ(rc_weakkeydict_len(d), 0);
    CHECK_EQ(rc_refcount(v1), 1);
    rc_decref(d);
    rc_decref(k2);
    rc_decref(probe);
    rc_decref(v1);
    rc_decref(v2);
}

/* ---- weak set ---- */

static void test_weak_set(void)
{
    void *s = rc_weakset_new();
    Item *a = item_new(1), *b = item_new(2), *a2 = item_new(1);
    CHECK_EQ(rc_weakset_add(s, a), 0);
    CHECK_EQ(rc_weakset_add(s, b), 0);
    CHECK_EQ(rc_weakset_add(s, a2), 0); /* equal to a: not added */
    CHECK_EQ(rc_weakset_len(s), 2);
    CHECK_EQ(rc_weakref_count(a2), 0);
    CHECK_EQ(rc_weakset_contains(s, a2), 1);
    CHECK_EQ(rc_refcount(a), 1);
    rc_decref(a);
    CHECK_EQ(rc_weakset_len(s), 1);
    CHECK_EQ(rc_weakset_contains(s, a2), 0);
    CHECK_EQ(rc_weakset_discard(s, a2), 0);
    CHECK_EQ(rc_weakset_discard(s, b), 1);
    CHECK_EQ(rc_weakref_count(b), 0);
    CHECK_EQ(rc_weakset_add(s, rc_int_new(3)), RC_EINVAL);
    CHECK_EQ(rc_weakset_add(NULL, b), RC_EINVAL);
    CHECK_STR_CONTAINS(rc_last_error(), "rc_weakset_add: expected a weakset, got NULL");
    /* many items dying at once in a collection */
    rc_gc_collect(2);
    for (long i = 0; i < 300; i++) {
        Item *x = item_new(i);
        rc_assign(&x->ref, x);
        rc_weakset_add(s, x);
        rc_decref(x);
    }
    CHECK_EQ(rc_weakset_len(s), 300);
    CHECK_EQ(rc_gc_collect(2), 300);
    CHECK_EQ(rc_weakset_len(s), 0);
    rc_weakset_add(s, b);
    rc_weakset_clear(s);
    CHECK_EQ(rc_weakset_len(s), 0);
    CHECK_EQ(rc_weakref_count(b), 0);
    rc_decref(s);
    rc_decref(b);
    rc_decref(a2);
}

/* ---- iterating while entries die ---- */

/* One step of a weak set iteration over values[] items: counts the items
 * it yields that are dead (values[id] is NULL once killed) or of even id
 * (never killed). */
static int set_step(rc_iter *it, Item **values, size_t *dead, size_t *evens)
{
    void *item;
    int status = rc_weakset_next(it, &item);
    if (status > 0) {
        long id = ((Item *)item)->id;
        *dead += values[id] == NULL;
        *evens += id % 2 == 0;
    }
    return status;
}

static void test_iteration_while_dying(void)
{
    enum { N = 200 };
    void *d = rc_weakvaluedict_new(), *s = rc_weakset_new();
    Item *values[N];
    for (long i = 0; i < N; i++) {
        values[i] = item_new(i);
        void *k = rc_int_new(5000 + i);
        rc_weakvaluedict_set(d, k, values[i]);
        rc_weakset_add(s, values[i]);
        rc_decref(k);
    }
    /* the loop body kills the values of odd ids, some by a collection */
    rc_iter it = rc_weakvaluedict_iter(d);
    rc_iter its = rc_weakset_iter(s);
    void *key, *value, *item;
    int status, status_s = 1;
    size_t seen = 0, odd_seen = 0, set_dead = 0, set_evens = 0;
    while ((status = rc_weakvaluedict_next(&it, &key, &value)) > 0) {
        long id = ((Item *)value)->id;
        seen++;
        odd_seen += id % 2;
        if (id % 2 == 0 && id + 1 < N) {
            Item *victim = values[id + 1];
            values[id + 1] = NULL;
            if (id % 4 == 0) {
                rc_assign(&victim->ref, victim); /* dies in the collection */
                rc_decref(victim);
                rc_gc_collect(2);
            } else {
                rc_decref(victim);
            }
        }
        if (status_s > 0)
            status_s = set_step(&its, values, &set_dead, &set_evens);
    }
    while (status_s > 0)
        status_s = set_step(&its, values, &set_dead, &set_evens);
    CHECK_EQ(status, 0); /* to the end, no error */
    CHECK_EQ(status_s, 0);
    CHECK_EQ(set_dead, 0);      /* the set yields live items only */
    CHECK_EQ(set_evens, N / 2); /* and every item that lived throughout */
    CHECK_EQ(seen, N / 2);
    CHECK_EQ(odd_seen, 0);
    CHECK_EQ(rc_weakvaluedict_len(d), N / 2);
    CHECK_EQ(rc_weakset_len(s), N / 2);
    /* a change made by the caller is still an error */
    it = rc_weakvaluedict_iter(d);
    rc_weakvaluedict_next(&it, &key, &value);
    void *k = rc_int_new(99999);
    rc_weakvaluedict_set(d, k, values[0]);
    CHECK_EQ(rc_weakvaluedict_next(&it, &key, &value), RC_ESTATE);
    CHECK_STR_CONTAINS(rc_last_error(), "dictionary changed size during iteration");
    its = rc_weakset_iter(s);
    rc_weakset_discard(s, values[0]);
    CHECK_EQ(rc_weakset_next(&its, &item), RC_ESTATE);
    rc_decref(k);
    for (long i = 0; i < N; i++)
        rc_decref(values[i]);
    CHECK_EQ(rc_weakvaluedict_len(d), 0);
    CHECK_EQ(rc_weakset_len(s), 0);
    rc_decref(d);
    rc_decref(s);
}

/* ---- containers that die first ---- */

static void *doomed; /* a container a callback drops */

static void drop_container(rc_weakref *ref, void *arg)
{
    (void)ref, (void)arg;
    rc_decref(doomed);
    doomed = NULL;
}

static void test_container_dies_first(void)
{
    size_t base = bytes_in_use();
    /* the containers die while their referents live on */
    Item *x = item_new(1), *y = item_new(2);
    void *d = rc_weakvaluedict_new(), *kd = rc_weakkeydict_new(), *s = rc_weakset_new();
    rc_weakvaluedict_set(d, y, x);
    rc_weakkeydict_set(kd, x, y);
    rc_weakset_add(s, x);
    CHECK_EQ(rc_weakref_count(x), 3);
    rc_decref(d);
    rc_decref(kd);
    rc_decref(s);
    CHECK_EQ(rc_weakref_count(x), 0);
    CHECK_EQ(rc_refcount(y), 1);
    rc_decref(x); /* no callback into the dead containers */

    /* a container dropped by another callback of the same death: the weak
     * references of x's death are held while their callbacks run; the
     * user's callback (registered last, so it runs first) drops the dict */
    x = item_new(3);
    doomed = rc_weakvaluedict_new();
    void *k = rc_str_from("x");
    rc_weakvaluedict_set(doomed, k, x);
    rc_weakref *w = rc_weakref_new(x, drop_container, NULL);
    rc_decref(x);
    CHECK(doomed == NULL);
    CHECK_EQ(rc_refcount(k), 1);
    rc_decref(w);
    rc_decref(k);
    rc_decref(y);
    CHECK_EQ(bytes_in_use(), base); /* records, tables, weak references: all freed */
}

/* A weak value dict in a garbage cycle through its key, with its values. */
static void test_container_in_cycle(void)
{
    rc_gc_collect(2);
    size_t base = bytes_in_use();
    items_destroyed = 0;
    void *d = rc_weakvaluedict_new(), *kd = rc_weakkeydict_new();
    Item *key = item_new(1), *value = item_new(2);
    rc_assign(&key->ref, d);    /* d -> key -> d */
    rc_assign(&value->ref, kd); /* value -> kd -> value (held as a value) */
    rc_weakvaluedict_set(d, key, value);
    rc_weakkeydict_set(kd, key, value);
    rc_decref(key);
    rc_decref(value);
    rc_decref(d);
    rc_decref(kd);
    /* d, key, kd, value and the two weak references held by d and kd */
    CHECK_EQ(rc_gc_collect(2), 6);
    CHECK_EQ(items_destroyed, 2);
    CHECK_EQ(bytes_in_use(), base);
}

/* ---- out of memory ---- */

/* The length of c, a weak value dict (variant 0), key dict (1) or set. */
static size_t weak_len(void *c, int variant)
{
    return variant == 0   ? rc_weakvaluedict_len(c)
           : variant == 1 ? rc_weakkeydict_len(c)
                          : rc_weakset_len(c);
}

static bool scenario_set(long n, bool sticky, int variant)
{
    faults_begin();
    enum { M = 2000 };
    static Item *vals[M];
    static void *keys_[M];
    for (long i = 0; i < M; i++) {
        vals[i] = item_new(i);
        keys_[i] = rc_int_new(1000 + i);
    }
    void *c = variant == 0   ? rc_weakvaluedict_new()
              : variant == 1 ? rc_weakkeydict_new()
                             : rc_weakset_new();
    arm(n, sticky);
    long done = 0;
    for (; done < M; done++) {
        error_reset();
        int status = variant == 0   ? rc_weakvaluedict_set(c, keys_[done], vals[done])
                     : variant == 1 ? rc_weakkeydict_set(c, vals[done], keys_[done])
                                    : rc_weakset_add(c, vals[done]);
        if (status) {
            CHECK_EQ(status, RC_ENOMEM);
            CHECK_STR_CONTAINS(rc_last_error(), "out of memory");
            CHECK_EQ(rc_weakref_count(vals[done]), 0);
            CHECK_EQ(rc_refcount(keys_[done]), 1);
            total_failed++;
            break;
        }
    }
    CHECK_EQ(weak_len(c, variant), done);
    bool reached = faults_disarm();
    for (long i = 0; i < M; i++) /* every value dies: the container empties */
        rc_decref(vals[i]);
    CHECK_EQ(weak_len(c, variant), 0);
    rc_decref(c);
    for (long i = 0; i < M; i++)
        rc_decref(keys_[i]);
    end();
    return reached;
}

static void sweep(int variant)
{
    faults_sweep("weak container set", scenario_set, variant, 1, 10000);
}

/* ---- model check: a weak value dict whose values keep dying ---- */

enum { MKEYS = 300, MVALS = 60, STEPS = 100000 };

static void model_check(void)
{
    void *keys[MKEYS], *d = rc_weakvaluedict_new();
    Item *vals[MVALS];
    int model[MKEYS]; /* the value id of each key, -1: absent */
    for (int i = 0; i < MKEYS; i++) {
        keys[i] = rc_int_new(20000 + i);
        model[i] = -1;
    }
    for (int v = 0; v < MVALS; v++)
        vals[v] = item_new(v);
    uint64_t seed = 4242;
    size_t bad = 0;
    for (long step = 0; step < STEPS; step++) {
        seed = seed * 6364136223846793005u + 1442695040888963407u;
        int k = (int)((seed >> 33) % MKEYS), v = (int)((seed >> 20) % MVALS);
        int op = (int)((seed >> 50) % 100);
        if (op < 50) {
            bad += rc_weakvaluedict_set(d, keys[k], vals[v]) != 0;
            model[k] = v;
        } else if (op < 65) {
            bad += rc_weakvaluedict_del(d, keys[k]) != (model[k] < 0 ? RC_ENOTFOUND : 0);
            model[k] = -1;
        } else if (op < 90) {
            void *got = rc_weakvaluedict_get(d, keys[k]);
            bad += got != (model[k] < 0 ? NULL : vals[model[k]]);
        } else { /* value v dies (half the time in a collection) and is remade */
            if (op < 95) {
                rc_decref(vals[v]);
            } else {
                rc_assign(&vals[v]->ref, vals[v]);
                rc_decref(vals[v]);
                rc_gc_collect(2);
            }
            vals[v] = item_new(v);
            for (int i = 0; i < MKEYS; i++)
                model[i] = model[i] == v ? -1 : model[i];
        }
        size_t len = 0;
        for (int i = 0; i < MKEYS; i++)
            len += model[i] >= 0;
        bad += rc_weakvaluedict_len(d) != len;
        if (step % 512 == 0) {
            rc_iter it = rc_weakvaluedict_iter(d);
            void *key, *value;
            size_t n = 0;
            while (rc_weakvaluedict_next(&it, &key, &value) > 0) {
                int i = (int)(rc_int_value(key) - 20000);
                bad += model[i] < 0 || value != vals[model[i]];
                n++;
            }
            bad += n != len;
            for (int i = 0; i < MKEYS; i++)
                bad += rc_refcount(keys[i]) != 1u + (model[i] >= 0);
        }
    }
    CHECK_EQ(bad, 0);
    rc_decref(d);
    for (int i = 0; i < MKEYS; i++) {
        CHECK_EQ(rc_refcount(keys[i]), 1);
        rc_decref(keys[i]);
    }
    for (int v = 0; v < MVALS; v++) {
        CHECK_EQ(rc_weakref_count(vals[v]), 0);
        rc_decref(vals[v]);
    }
}

int main(void)
{
    test_value_dict();
    test_value_dict_collection();
    test_canonical_cache();
    test_key_dict();
    test_weak_set();
    test_iteration_while_dying();
    test_container_dies_first();
    test_container_in_cycle();
    model_check();
    sweep(0);
    sweep(1);
    sweep(2);
    return check_report();
}
