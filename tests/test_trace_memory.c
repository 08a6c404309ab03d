/* test_trace_memory: the traced figures. Current and peak are exact byte
 * totals of the sizes requested (raw blocks, objects: header + body, what a
 * list allocates for its items), after known mallocs, frees, reallocs and
 * object deaths; reset_peak, clear and stop do what tracemalloc's do; the
 * overhead appears while tracing and goes back to 0; a million blocks from
 * one line cost one traceback and 4 bytes each.
 */
#include "trace_check.h"

#include "types/types_internal.h"

#include <reclaim.h>

#define HEAD sizeof(rc_object_head)

static const rc_type thing_type = {.name = "Thing", .size = 24};

static rc_heap *heap;

static void fresh_heap(void)
{
    heap = rc_heap_new();
    CHECK(heap != NULL);
    rc_heap_use(heap);
}

static void drop_heap(void)
{
    CHECK(rc_trace_validate(heap));
    rc_heap_use(NULL);
    rc_heap_destroy(heap);
    heap = NULL;
}

static void test_off_by_default(void)
{
    fresh_heap();
    CHECK(!rc_trace_is_tracing());
    CHECK_EQ(rc_trace_traceback_limit(), 0);
    void *p = rc_malloc(100);
    CHECK_EQ(traced_current(), 0);
    CHECK_EQ(traced_peak(), 0);
    CHECK_EQ(rc_trace_overhead(), 0);
    CHECK(rc_block_traceback(p) == NULL);
    CHECK_STR_CONTAINS(rc_last_error(), "tracing is off");
    rc_free(p);
    drop_heap();
}

static void test_start_arguments(void)
{
    fresh_heap();
    CHECK_EQ(rc_trace_start(0), RC_EINVAL);
    CHECK_STR_CONTAINS(rc_last_error(),
                       "rc_trace_start: the number of frames must be 1 to 128, not 0");
    CHECK_EQ(rc_trace_start(RC_TRACE_MAX_FRAMES + 1), RC_EINVAL);
    CHECK_STR_CONTAINS(rc_last_error(), "not 129");
    CHECK(!rc_trace_is_tracing());
    CHECK_EQ(rc_trace_start(RC_TRACE_MAX_FRAMES), 0);
    CHECK_EQ(rc_trace_traceback_limit(), RC_TRACE_MAX_FRAMES);
    CHECK_EQ(rc_trace_start(3), 0); /* on already: only the limit changes */
    CHECK_EQ(rc_trace_traceback_limit(), 3);
    CHECK_EQ(rc_heap_trace_start(NULL, 1), RC_EINVAL);
    CHECK_STR_CONTAINS(rc_last_error(), "rc_heap_trace_start: heap is NULL");
    rc_trace_stop();
    drop_heap();
}

static void test_raw_blocks(void)
{
    fresh_heap();
    void *before = rc_malloc(1000); /* not traced: made before the start */
    CHECK_EQ(rc_trace_start(1), 0);
    CHECK(rc_trace_is_tracing());
    void *a = rc_malloc(100);
    void *b = rc_malloc(1000);
    void *c = rc_calloc(3, 10);
    void *z = rc_malloc(0);
    CHECK_EQ(traced_current(), 1130);
    CHECK_EQ(traced_peak(), 1130);
    rc_free(a);
    rc_free(before); /* untraced: changes nothing */
    CHECK_EQ(traced_current(), 1030);
    CHECK_EQ(traced_peak(), 1130);
    /* a large block grows: the peak never counts the old and new at once */
    b = rc_realloc(b, 5000);
    CHECK_EQ(traced_current(), 5030);
    CHECK_EQ(traced_peak(), 5030);
    /* a small block resized within its size class keeps its address */
    void *c2 = rc_realloc(c, 31);
    CHECK(c2 == c || heap->alloc.debug); /* a debug heap always moves it */
    CHECK_EQ(traced_current(), 5031);
    /* and one that moves to another class */
    c = rc_realloc(c2, 200);
    CHECK_EQ(traced_current(), 5200);
    b = rc_realloc(b, 600); /* large shrinks */
    CHECK_EQ(traced_current(), 800);
    CHECK_EQ(traced_peak(), 5200);
    void *d = rc_realloc(NULL, 64);
    CHECK_EQ(traced_current(), 864);
    size_t size = 0;
    CHECK(rc_trace_block_traceback(heap, d, &size) != NULL);
    CHECK_EQ(size, 64);
    CHECK(rc_trace_validate(heap));
    rc_free(b);
    rc_free(c);
    rc_free(d);
    rc_free(z);
    CHECK_EQ(traced_current(), 0);
    CHECK_EQ(traced_peak(), 5200);
    CHECK(rc_trace_validate(heap));
    rc_trace_stop();
    drop_heap();
}

static void test_objects(void)
{
    fresh_heap();
    CHECK_EQ(rc_trace_start(1), 0);
    void *t = rc_new(&thing_type);
    CHECK_EQ(traced_current(), HEAD + 24);
    void *v = rc_new_var(&thing_type, 1000); /* a large object */
    CHECK_EQ(traced_current(), 2 * (HEAD + 24) + 1000);
    CHECK(rc_object_traceback(t) != NULL);
    CHECK(rc_object_traceback(v) != NULL);
    rc_decref(v);
    CHECK_EQ(traced_current(), HEAD + 24);
    rc_decref(t);
    CHECK_EQ(traced_current(), 0);
    CHECK_EQ(traced_peak(), 2 * (HEAD + 24) + 1000);
    /* a cycle, freed by the collector */
    void *x = rc_list_new(), *y = rc_list_new();
    rc_list_append(x, y);
    rc_list_append(y, x);
    size_t list_bytes = HEAD + sizeof(rc_list_body);
    CHECK_EQ(traced_current(), 2 * list_bytes + 2 * 4 * sizeof(void *));
    rc_decref(x);
    rc_decref(y);
    CHECK_EQ(rc_gc_collect(2), 2);
    CHECK_EQ(traced_current(), 0);
    CHECK(rc_trace_validate(heap));
    rc_trace_stop();
    drop_heap();
}

__attribute__((noinline)) void grow_list(void *list, void *item, size_t n);
__attribute__((noinline)) void grow_list(void *list, void *item, size_t n)
{
    for (size_t i = 0; i < n; i++)
        CHECK_EQ(rc_list_append(list, item), 0);
    NO_TAIL_CALL();
}

__attribute__((noinline)) void *make_list(void);
__attribute__((noinline)) void *make_list(void)
{
    void *list = rc_list_new();
    NO_TAIL_CALL();
    return list;
}

/* What a list allocates for its items counts as the caller's, at the line
 * that made the list grow. */
static void test_list_growth(void)
{
    fresh_heap();
    CHECK_EQ(rc_trace_start(1), 0);
    void *item = rc_int_new(1000000);
    size_t base = traced_current();
    void *list = make_list();
    size_t list_bytes = HEAD + sizeof(rc_list_body);
    CHECK_EQ(traced_current(), base + list_bytes);
    grow_list(list, item, 17); /* capacities 4, 8, 16, 24 */
    CHECK_EQ(rc_list_capacity(list), 24);
    CHECK_EQ(traced_current(), base + list_bytes + 24 * sizeof(void *));
    CHECK_EQ(traced_peak(), base + list_bytes + 24 * sizeof(void *));
    const rc_list_body *body = list;
    CHECK_FRAME(rc_block_traceback(body->items), 0, "grow_list");
    CHECK_FRAME(rc_object_traceback(list), 0, "make_list");
    rc_list_clear(list);
    CHECK_EQ(traced_current(), base + list_bytes);
    rc_decref(list);
    rc_decref(item);
    CHECK_EQ(traced_current(), 0);
    rc_trace_stop();
    drop_heap();
}

static void test_reset_peak(void)
{
    fresh_heap();
    CHECK_EQ(rc_trace_start(1), 0);
    void *a = rc_malloc(4000), *b = rc_malloc(10);
    rc_free(a);
    CHECK_EQ(traced_peak(), 4010);
    rc_trace_reset_peak();
    CHECK_EQ(traced_peak(), 10);
    CHECK_EQ(traced_current(), 10);
    void *c = rc_malloc(20);
    rc_free(c);
    CHECK_EQ(traced_peak(), 30);
    rc_free(b);
    rc_trace_stop();
    drop_heap();
}

static void test_stop_and_clear(void)
{
    fresh_heap();
    CHECK_EQ(rc_trace_start(5), 0);
    void *a = rc_malloc(100), *big = rc_malloc(3000);
    void *obj = rc_new(&thing_type);
    CHECK(rc_trace_overhead() > 0);
    CHECK(rc_trace_traceback_count(heap) >= 1);

    rc_trace_clear(); /* keeps tracing, forgets everything */
    CHECK(rc_trace_is_tracing());
    CHECK_EQ(rc_trace_traceback_limit(), 5);
    CHECK_EQ(traced_current(), 0);
    CHECK_EQ(traced_peak(), 0);
    CHECK_EQ(rc_trace_overhead(), 0);
    CHECK_EQ(rc_trace_traceback_count(heap), 0);
    CHECK(rc_object_traceback(obj) == NULL);
    CHECK_STR_CONTAINS(rc_last_error(), "allocated before tracing started or was cleared");
    void *b = rc_malloc(50);
    CHECK_EQ(traced_current(), 50);
    rc_free(a); /* traced before the clear: no longer counts */
    rc_free(big);
    rc_decref(obj);
    CHECK_EQ(traced_current(), 50);
    CHECK(rc_trace_validate(heap));

    rc_trace_stop();
    CHECK(!rc_trace_is_tracing());
    CHECK_EQ(rc_trace_traceback_limit(), 0);
    CHECK_EQ(traced_current(), 0);
    CHECK_EQ(traced_peak(), 0);
    CHECK_EQ(rc_trace_overhead(), 0);
    CHECK(rc_block_traceback(b) == NULL);
    rc_free(b);
    CHECK_EQ(traced_current(), 0);
    drop_heap();
}

/* A call site's traceback at 1 frame is cached: a clear must forget the
 * cache with the tracebacks, or the site would name a traceback gone. */
static void test_clear_forgets_sites(void)
{
    fresh_heap();
    CHECK_EQ(rc_trace_start(1), 0);
    for (int i = 0; i < 3; i++) {
        void *p = rc_malloc(8);
        const rc_trace_frames *tb = rc_block_traceback(p);
        CHECK(tb != NULL && tb->id == 1 && tb->nframes == 1);
        CHECK_EQ(rc_trace_traceback_count(heap), 1);
        CHECK(rc_trace_validate(heap));
        rc_free(p);
        if (i == 0) {
            rc_trace_clear();
        } else {
            rc_trace_stop();
            CHECK_EQ(rc_trace_start(1), 0);
        }
    }
    rc_trace_stop();
    drop_heap();
}

/* A million blocks from one line: one traceback, and the tracer's memory
 * per block within the 16-byte target (4 bytes of side table when pools
 * are full, plus the one traceback). */
static void test_interning(void)
{
    enum { N = 1000000 };
    fresh_heap();
    CHECK_EQ(rc_trace_start(1), 0);
    void **blocks = malloc(N * sizeof *blocks);
    for (size_t i = 0; i < N; i++)
        blocks[i] = rc_malloc(16);
    CHECK_EQ(rc_trace_traceback_count(heap), 1);
    CHECK_EQ(traced_current(), (size_t)N * 16);
    size_t overhead = rc_trace_overhead();
    CHECK(overhead >= (size_t)N * 4);
    CHECK(overhead <= (size_t)N * 4 + 64 * 1024);
    printf("tracer bytes per traced block: %.2f\n", (double)overhead / N);
    CHECK(rc_trace_validate(heap));
    for (size_t i = 0; i < N; i++)
        rc_free(blocks[i]);
    free(blocks);
    CHECK_EQ(traced_current(), 0);
    /* the emptied pools gave their side tables back */
    CHECK(rc_trace_overhead() < 64 * 1024);
    rc_trace_stop();
    CHECK_EQ(rc_trace_overhead(), 0);
    drop_heap();
}

/* Explicit-heap forms act on their heap only. */
static void test_explicit_heap(void)
{
    fresh_heap();
    rc_heap *other = rc_heap_new();
    CHECK_EQ(rc_heap_trace_start(other, 2), 0);
    CHECK(rc_heap_trace_is_tracing(other));
    CHECK(!rc_trace_is_tracing());
    void *p = rc_heap_malloc(other, 300);
    void *q = rc_malloc(300);
    size_t current = 0, peak = 0;
    rc_heap_trace_get_memory(other, &current, &peak);
    CHECK_EQ(current, 300);
    CHECK_EQ(peak, 300);
    CHECK_EQ(traced_current(), 0);
    CHECK_EQ(rc_heap_trace_traceback_limit(other), 2);
    CHECK(rc_heap_trace_overhead(other) > 0);
    CHECK_EQ(rc_heap_trace_untraced_blocks(other), 0);
    rc_free(p); /* freed through the current heap's call: found by address */
    rc_heap_trace_get_memory(other, &current, &peak);
    CHECK_EQ(current, 0);
    rc_heap_trace_reset_peak(other);
    rc_heap_trace_get_memory(other, &current, &peak);
    CHECK_EQ(peak, 0);
    rc_heap_trace_clear(other);
    rc_heap_trace_stop(other);
    CHECK_EQ(rc_heap_trace_overhead(other), 0);
    rc_heap_destroy(other);
    rc_free(q);
    drop_heap();
}

/* A heap destroyed while tracing gives everything back (ASan's leak check
 * sees any side table or traceback left). */
static void test_destroy_while_tracing(void)
{
    fresh_heap();
    CHECK_EQ(rc_trace_start(4), 0);
    for (int i = 0; i < 1000; i++) {
        rc_malloc((size_t)i % 700);
        rc_new(&thing_type);
    }
    CHECK(rc_trace_overhead() > 0);
    drop_heap();
}

int main(void)
{
    test_off_by_default();
    test_start_arguments();
    test_raw_blocks();
    test_objects();
    test_list_growth();
    test_reset_peak();
    test_stop_and_clear();
    test_clear_forgets_sites();
    test_interning();
    test_explicit_heap();
    test_destroy_while_tracing();
    return check_report();
}
