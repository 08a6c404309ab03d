/* main.c: a program built against an installed reclaim, as a user would
 * build it: through find_package(reclaim) (CMakeLists.txt here) or a plain
 * compiler line from pkg-config (run.sh). Only the public header. It checks
 * that the headers and the library it runs with agree, and that each layer
 * works: raw blocks, objects, the collector, weak references, finalizers.
 * Exit status 0 and "consumer: ok" on success.
 */
#include <reclaim.h>

#include <stdio.h>
#include <string.h>

typedef struct Pair {
    void *first;
    void *second;
} Pair;

static int destroyed;
static int finalized;
static int failures;

static void pair_traverse(void *self, rc_visit_fn visit, void *arg)
{
    Pair *p = self;
    visit(&p->first, arg);
    visit(&p->second, arg);
}

static void pair_destroy(void *self)
{
    (void)self;
    destroyed++;
}

static const rc_type pair_type = {
    .name = "Pair",
    .size = sizeof(Pair),
    .traverse = pair_traverse,
    .destroy = pair_destroy,
};

static void on_finalize(void *arg) { *(int *)arg += 1; }

static void expect(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "consumer: unexpected: %s\n", what);
        failures++;
    }
}

int main(void)
{
    expect(strcmp(rc_version(), RC_VERSION_STRING) == 0, "headers and library of one version");

    rc_heap *heap = rc_heap_new();
    expect(heap != NULL, "rc_heap_new");
    if (!heap)
        return 1;
    rc_heap_use(heap);

    char *raw = rc_malloc(100);
    expect(raw != NULL && rc_usable_size(raw) >= 100, "rc_malloc");
    memset(raw, 1, 100);
    rc_free(raw);

    /* a cycle: reference counting cannot free it, the collector can */
    Pair *a = rc_new(&pair_type), *b = rc_new(&pair_type);
    rc_assign(&a->first, b);
    rc_assign(&b->first, a);
    rc_weakref *ref = rc_weakref_new(a, NULL, NULL);
    rc_finalizer *fin = rc_finalize(b, on_finalize, &finalized);
    expect(ref != NULL && fin != NULL, "rc_weakref_new, rc_finalize");
    expect(rc_refcount(a) == 2 && rc_gc_is_tracked(a), "counts and tracking");
    rc_decref(a);
    rc_decref(b);
    expect(destroyed == 0 && rc_weakref_alive(ref), "a cycle outlives its last reference");
    expect(rc_gc_collect(2) == 2, "the collector frees the cycle");
    expect(destroyed == 2 && finalized == 1, "destroy hooks and the finalizer ran");
    expect(!rc_weakref_alive(ref) && rc_weakref_get(ref) == NULL, "the weak reference is dead");
    rc_decref(ref);
    rc_decref(fin);

    /* an error is a code and a message */
    expect(rc_gc_collect(7) == RC_EINVAL && strstr(rc_last_error(), "generation"),
           "errors: a code and a message");

    rc_alloc_stats stats = {.struct_size = sizeof stats};
    expect(rc_heap_stats(heap, &stats) == 0 && stats.bytes_in_use == 0, "statistics");
    rc_heap_use(NULL);
    rc_heap_destroy(heap);
    if (failures)
        return 1;
    printf("consumer: ok (reclaim %s)\n", rc_version());
    return 0;
}
