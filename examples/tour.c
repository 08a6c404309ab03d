/* tour.c: the seeds' walkthrough of Python's memory management, in C.
 *
 * Each step prints what it does and what reclaim reports, so a reader can
 * follow: reference counts rising and falling, a cycle that reference
 * counting cannot free and the collector can, the collector's own debug
 * output, the allocator's statistics before and after, a finalizer (__del__)
 * and a weak reference dying, then tracemalloc: current and peak memory and
 * the top 10 lines, and a leak growing from one snapshot to the next. It is
 * also a test: it exits non-zero if anything is not as the text says.
 */
#include <reclaim.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;

static void expect(int ok, const char *what)
{
    if (!ok) {
        printf("  !! unexpected: %s\n", what);
        failures++;
    }
}

/* ---- a Node, like the seeds' class Node: a value and a reference ---- */

typedef struct Node {
    long value;
    void *ref;
} Node;

static void node_traverse(void *self, rc_visit_fn visit, void *arg)
{
    visit(&((Node *)self)->ref, arg);
}

static void node_destroy(void *self) { printf("  (Node %ld freed)\n", ((Node *)self)->value); }

static const rc_type node_type = {
    .name = "Node",
    .size = sizeof(Node),
    .traverse = node_traverse,
    .destroy = node_destroy,
};

static Node *node(long value)
{
    Node *n = rc_new(&node_type);
    n->value = value;
    return n;
}

static void step(const char *title) { printf("\n== %s ==\n", title); }

static void reference_counting(void)
{
    step("1. Reference counting");
    printf("a = Node(1)            ");
    Node *a = node(1);
    printf("refcount %zu\n", rc_refcount(a));
    printf("b = a                  ");
    Node *b = rc_incref(a);
    printf("refcount %zu\n", rc_refcount(a));
    expect(rc_refcount(a) == 2, "two references");
    printf("del b                  ");
    rc_decref(b);
    printf("refcount %zu\n", rc_refcount(a));
    printf("del a                  refcount reaches 0, the object is freed at once:\n");
    rc_decref(a);
}

static void cycle(void)
{
    step("2. A cycle that reference counting cannot free");
    rc_gc_collect(2);
    Node *node1 = node(1), *node2 = node(2);
    rc_assign(&node1->ref, node2);
    rc_assign(&node2->ref, node1); /* circular reference! */
    printf("node1.ref = node2; node2.ref = node1\n");
    rc_decref(node1);
    rc_decref(node2);
    printf("del node1; del node2   nothing was freed: each still holds the other\n");
    size_t count[RC_GC_GENERATIONS];
    rc_gc_get_count(count);
    printf("gc.get_count()         (%zu, %zu, %zu)\n", count[0], count[1], count[2]);
    long collected = rc_gc_collect(2);
    printf("gc.collect()           Garbage collector freed %ld objects\n", collected);
    expect(collected == 2, "the collector frees the two nodes");
}

static void debug_stats(void)
{
    step("3. The collector's own report (gc.set_debug(gc.DEBUG_STATS))");
    rc_gc_set_debug_output(stdout);
    rc_gc_set_debug(RC_GC_DEBUG_STATS | RC_GC_DEBUG_COLLECTABLE);
    for (long i = 0; i < 3; i++) {
        Node *n = node(10 + i);
        rc_assign(&n->ref, n); /* a node that refers to itself */
        rc_decref(n);
    }
    long collected = rc_gc_collect(0);
    rc_gc_set_debug(0);
    rc_gc_set_debug_output(NULL);
    expect(collected == 3, "three self-cycles collected");
}

static void print_summary(const char *when)
{
    rc_alloc_stats stats = {.struct_size = sizeof stats};
    rc_heap_stats(rc_heap_current(), &stats);
    printf("%-7s arenas %zu, bytes in use %zu, bytes mapped %zu\n", when, stats.arenas_current,
           stats.bytes_in_use, stats.bytes_mapped);
}

static void allocator(void)
{
    step("4. The private heap: arenas, pools, size classes");
    print_summary("before:");
    enum { COUNT = 100000 };
    void **blocks = malloc(COUNT * sizeof *blocks);
    for (int i = 0; i < COUNT; i++)
        blocks[i] = rc_malloc((size_t)(16 + (i % 8) * 16)); /* 16..128 bytes */
    print_summary("during:");
    rc_alloc_stats stats = {.struct_size = sizeof stats};
    rc_heap_stats(rc_heap_current(), &stats);
    printf("        size class 32 bytes: %zu blocks in %zu pools\n", stats.classes[1].blocks_used,
           stats.classes[1].pools);
    for (int i = 0; i < COUNT; i++)
        rc_free(blocks[i]);
    free(blocks);
    print_summary("after:");
    printf("        (empty arenas went back to the operating system)\n");
}

/* ---- a finalizer: the seeds' __del__ ---- */

typedef struct Resource {
    const char *name;
} Resource;

static void resource_finalize(void *self)
{
    printf("  __del__: closing %s\n", ((Resource *)self)->name);
}

static const rc_type resource_type = {
    .name = "Resource",
    .size = sizeof(Resource),
    .finalize = resource_finalize,
};

static void finalizer(void)
{
    step("5. A finalizer runs when the object dies");
    Resource *r = rc_new(&resource_type);
    r->name = "data.csv";
    printf("r = Resource('data.csv'); del r\n");
    rc_decref(r);
}

static int callbacks_run;

static void on_death(rc_weakref *ref, void *arg)
{
    (void)ref;
    callbacks_run++;
    printf("  weakref callback: '%s' died\n", (const char *)arg);
}

static void weak_reference(void)
{
    step("6. A weak reference does not keep its object alive");
    Node *target = node(42);
    rc_weakref *ref = rc_weakref_new(target, on_death, "Node 42");
    Node *got = rc_weakref_get(ref);
    printf("r = weakref.ref(node, callback); r() is node: %s\n", got == target ? "True" : "False");
    rc_decref(got);
    printf("del node\n");
    rc_decref(target);
    printf("r() is None: %s\n", rc_weakref_get(ref) == NULL ? "True" : "False");
    expect(callbacks_run == 1, "the callback ran once");
    rc_decref(ref);
}

/* ---- tracemalloc: the seeds' example ---- */

/* data = [i for i in range(n)] */
static void *make_data(long n)
{
    void *list = rc_list_new();
    for (long i = 0; i < n; i++) {
        void *item = rc_int_new(i);
        rc_list_append(list, item);
        rc_decref(item);
    }
    return list;
}

/* more_data = {i: i**2 for i in range(n)} */
static void *make_more_data(long n)
{
    void *dict = rc_dict_new();
    for (long i = 0; i < n; i++) {
        void *key = rc_int_new(i), *value = rc_int_new(i * i);
        rc_dict_set(dict, key, value);
        rc_decref(key);
        rc_decref(value);
    }
    return dict;
}

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

static void tracing(void)
{
    step("7. tracemalloc: where the memory went");
    printf("tracemalloc.start()\n");
    rc_trace_start(1);
    void *data = make_data(1000000);
    void *more_data = make_more_data(100000);
    size_t current = 0, peak = 0;
    rc_trace_get_memory(&current, &peak);
    printf("Current memory usage: %.2f MB\n", (double)current / 1024 / 1024);
    printf("Peak memory usage: %.2f MB\n", (double)peak / 1024 / 1024);
    rc_snapshot *snapshot = rc_snapshot_take();
    size_t n = 0;
    rc_statistic *top_stats = rc_snapshot_statistics(snapshot, RC_TRACE_KEY_LINENO, false, &n);
    printf("[ Top 10 ]\n");
    char line[1024];
    for (size_t i = 0; i < n && i < 10; i++) {
        rc_statistic_format(&top_stats[i], line, sizeof line);
        printf("%s\n", line);
    }
    expect(n > 0 && strcmp(base_name(top_stats[0].traceback.frames[0].filename), "tour.c") == 0,
           "the top line is in tour.c");
    expect(current >= 1000000 * 16, "a million ints traced");
    rc_statistics_free(top_stats);
    rc_snapshot_free(snapshot);
    rc_decref(data);
    rc_decref(more_data);
    printf("tracemalloc.stop()\n");
    rc_trace_stop();
}

/* The seeds' leak: every request's result kept in a global cache. */
static void *cache;

static void handle_request(long id)
{
    void *key = rc_int_new(id);
    void *result = rc_str_from("the result of a request, kept forever");
    rc_dict_set(cache, key, result);
    rc_decref(key);
    rc_decref(result);
}

static void leak(void)
{
    step("8. A leak growing, seen by comparing snapshots");
    rc_trace_start(1);
    cache = rc_dict_new();
    rc_snapshot *first = rc_snapshot_take();
    long requests = 0;
    for (int round = 1; round <= 3; round++) {
        for (int i = 0; i < 1000; i++)
            handle_request(requests++);
        rc_snapshot *now = rc_snapshot_take();
        size_t n = 0;
        rc_statistic_diff *diffs = rc_snapshot_compare(now, first, RC_TRACE_KEY_LINENO, false, &n);
        printf("after %ld requests, the top 3 differences from the first snapshot:\n", requests);
        char line[1024];
        for (size_t i = 0; i < n && i < 3; i++) {
            rc_statistic_diff_format(&diffs[i], line, sizeof line);
            printf("  %s\n", line);
        }
        expect(n > 0 && diffs[0].size_diff > 0 && diffs[0].count_diff >= 1000 * round,
               "the leak grows by a thousand blocks a round");
        rc_statistics_free(diffs);
        rc_snapshot_free(now);
    }
    rc_snapshot_free(first);
    rc_decref(cache);
    rc_trace_stop();
}

int main(void)
{
    printf("reclaim %s: Python's memory management, for C\n", rc_version());
    reference_counting();
    cycle();
    debug_stats();
    allocator();
    finalizer();
    weak_reference();
    tracing();
    leak();
    printf("\n%s\n", failures ? "Something was not as described." : "Tour complete.");
    return failures ? 1 : 0;
}
