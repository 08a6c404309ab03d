/* cached_object.c: the seeds' "Weak References for Caches", in C with
 * rc_canon (a canonicalizing cache over a weak-value dict).
 *
 *     class CachedObject:
 *         _cache = weakref.WeakValueDictionary()
 *         def __new__(cls, key): ...   # the cached object, or a new one
 *
 *     obj1 = CachedObject("key1")
 *     obj2 = CachedObject("key1")  # Returns same object
 *     print(obj1 is obj2)  # True
 *     # When all strong references are gone, object is removed from cache
 *     del obj1
 *     del obj2
 *     gc.collect()
 *     obj3 = CachedObject("key1")  # Creates new object
 *
 * With reference counting the entry goes at `del obj2` already; the
 * collector is needed only for objects in cycles (shown last). Exits
 * non-zero if anything is not as it says.
 */
#include <reclaim.h>

#include <stdio.h>
#include <string.h>

static int failures;

static void expect(int ok, const char *what)
{
    if (!ok) {
        printf("  !! unexpected: %s\n", what);
        failures++;
    }
}

typedef struct CachedObject {
    void *key;  /* self.key */
    void *data; /* self.data = f"Data for {key}" */
    void *peer; /* any reference: used below to make a cycle */
} CachedObject;

static void cached_traverse(void *self, rc_visit_fn visit, void *arg)
{
    CachedObject *obj = self;
    visit(&obj->key, arg);
    visit(&obj->data, arg);
    visit(&obj->peer, arg);
}

/* __del__: runs before the object's references go */
static void cached_finalize(void *self)
{
    printf("  (CachedObject %s freed)\n", rc_str_data(((CachedObject *)self)->key));
}

static const rc_type cached_object_type = {
    .name = "CachedObject",
    .size = sizeof(CachedObject),
    .traverse = cached_traverse,
    .finalize = cached_finalize,
};

/* __new__ without a cached object + __init__ */
static void *make_cached_object(void *key, void *arg)
{
    (void)arg;
    CachedObject *obj = rc_new(&cached_object_type);
    if (!obj)
        return NULL;
    char text[64];
    snprintf(text, sizeof text, "Data for %s", rc_str_data(key));
    obj->key = rc_incref(key);
    obj->data = rc_str_from(text);
    printf("  (CachedObject %s created)\n", rc_str_data(key));
    return obj;
}

static void *cache; /* CachedObject._cache */

static CachedObject *cached_object(const char *key)
{
    void *k = rc_str_from(key);
    CachedObject *obj = rc_canon_get(cache, k);
    rc_decref(k);
    return obj;
}

int main(void)
{
    cache = rc_canon_new(make_cached_object, NULL);

    printf("obj1 = CachedObject(\"key1\")\n");
    CachedObject *obj1 = cached_object("key1");
    printf("obj2 = CachedObject(\"key1\")   # returns same object\n");
    CachedObject *obj2 = cached_object("key1");
    printf("obj1 is obj2: %s; obj1.data: %s\n", obj1 == obj2 ? "True" : "False",
           rc_str_data(obj1->data));
    expect(obj1 == obj2, "one object for key1");
    expect(rc_canon_len(cache) == 1, "one entry");

    printf("del obj1; del obj2\n");
    rc_decref(obj1);
    rc_decref(obj2);
    printf("entries now: %zu\n", rc_canon_len(cache));
    expect(rc_canon_len(cache) == 0, "the entry went with the object");
    printf("obj3 = CachedObject(\"key1\")   # creates new object\n");
    CachedObject *obj3 = cached_object("key1");
    rc_canon_stats stats = {.struct_size = sizeof stats};
    rc_canon_get_stats(cache, &stats);
    expect(stats.made == 2 && stats.reused == 1, "made twice, reused once");
    rc_decref(obj3);

    printf("\ntwo objects referring to each other (a cycle):\n");
    CachedObject *a = cached_object("a"), *b = cached_object("b");
    rc_assign(&a->peer, b);
    rc_assign(&b->peer, a);
    rc_decref(a);
    rc_decref(b);
    printf("after del a, b: %zu entries (the cycle keeps them alive)\n", rc_canon_len(cache));
    expect(rc_canon_len(cache) == 2, "alive until collected");
    printf("gc.collect() -> %ld\n", rc_gc_collect(2));
    printf("entries now: %zu\n", rc_canon_len(cache));
    expect(rc_canon_len(cache) == 0, "the collection removed both entries");

    rc_decref(cache);
    printf("%s\n", failures ? "FAILED" : "ok");
    return failures != 0;
}
