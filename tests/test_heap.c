/* test_heap.c: heaps as a whole: made on first use, explicit heaps, switching,
 * destruction (finalizers, destroy hooks, memory), RECLAIM_MALLOCSTATS, and
 * rc_heap_of. */
#include "check.h"
#include "nodes.h"

static void test_current_made_on_first_use(void)
{
    rc_heap *first = rc_heap_current();
    CHECK(first != NULL);
    CHECK(rc_heap_current() == first);
    void *block = rc_malloc(10);
    CHECK(rc_heap_of(block) == first);
    rc_free(block);
}

static void test_use_returns_previous(void)
{
    rc_heap *mine = rc_heap_current();
    rc_heap *other = rc_heap_new();
    CHECK(other != NULL && other != mine);
    CHECK(rc_heap_use(other) == mine);
    CHECK(rc_heap_current() == other);
    Node *n = node_new(5);
    CHECK(rc_heap_of(n) == other); /* the object's body pointer works too */
    CHECK(rc_heap_use(mine) == other);
    rc_decref(n); /* a heap no thread owns: taken for the duration */
    CHECK(rc_heap_use(NULL) == mine);
    CHECK(rc_heap_use(mine) == NULL);
    rc_heap_destroy(other);
}

static int finalizer_order[4];
static int finalizers_run;

static void record_finalizer(void *arg) { finalizer_order[finalizers_run++] = (int)(intptr_t)arg; }

static void test_destroy_runs_finalizers_and_destroy_hooks(void)
{
    counters_reset();
    rc_heap *mine = rc_heap_current();
    rc_heap *heap = rc_heap_new();
    rc_heap_use(heap);
    Node *a = node_new(1), *b = node_new(2);
    rc_assign(&a->a, b);
    rc_assign(&b->a, a); /* a cycle, still alive at destroy */
    rc_finalizer *f1 = rc_finalize(a, record_finalizer, (void *)1);
    rc_finalizer *f2 = rc_finalize(b, record_finalizer, (void *)2);
    rc_decref(f1); /* the registry keeps them */
    rc_decref(f2);
    for (int i = 0; i < 1000; i++)
        rc_malloc(100); /* left for destroy to free */
    rc_decref(b);
    rc_heap_use(mine);
    finalizers_run = 0;
    rc_heap_destroy(heap);
    CHECK_EQ(finalizers_run, 2);
    CHECK_EQ(finalizer_order[0], 2); /* newest first */
    CHECK_EQ(finalizer_order[1], 1);
    CHECK_EQ(node_destroyed, 2); /* destroy hooks of live objects ran */
}

static void destroy_with_stats(void)
{
    setenv("RECLAIM_MALLOCSTATS", "1", 1);
    rc_heap *heap = rc_heap_new();
    rc_heap_use(heap);
    rc_malloc(48);
    rc_heap_use(NULL);
    rc_heap_destroy(heap);
    fprintf(stderr, "survived\n");
    abort(); /* expect_death wants a death; the text is what we check */
}

static void test_mallocstats_on_destroy(void)
{
    char out[8192];
    CHECK(expect_death(destroy_with_stats, "survived", out, sizeof out));
    CHECK_STR_CONTAINS(out, "reclaim heap 0x");
    CHECK_STR_CONTAINS(out, "blocks in use");
    CHECK_STR_CONTAINS(out, "arenas_allocated");
}

static void test_heap_of_foreign(void)
{
    long local = 0;
    CHECK(rc_heap_of(&local) == NULL);
    CHECK(rc_heap_of(NULL) == NULL);
}

/* rc_report_error may be given the message it replaces (a callback adding
 * its context to a failure it saw). */
static void test_report_error_extends_last(void)
{
    CHECK(rc_calloc(SIZE_MAX, 2) == NULL);
    char before[256];
    snprintf(before, sizeof before, "%s", rc_last_error());
    CHECK_STR_CONTAINS(before, "overflows size_t");
    CHECK_EQ(rc_report_error(RC_EIO, "loading config: %s", rc_last_error()), RC_EIO);
    char expected[300];
    snprintf(expected, sizeof expected, "loading config: %s", before);
    CHECK(strcmp(rc_last_error(), expected) == 0);
}

int main(void)
{
    test_current_made_on_first_use();
    test_use_returns_previous();
    test_destroy_runs_finalizers_and_destroy_hooks();
    test_mallocstats_on_destroy();
    test_heap_of_foreign();
    test_report_error_extends_last();
    return check_report();
}
