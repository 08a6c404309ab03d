/* test_trace_debug: tracing on a debug heap (RECLAIM_MALLOC=debug's checks).
 * A misuse the debug allocator reports names where the block was allocated,
 * from its trace (the heap's describe_block hook); the tracer sees the
 * caller's requested sizes, not the guarded blocks the debug allocator
 * makes of them, and forgets a block at its free although the debug
 * allocator holds the block back in its quarantine.
 */
#include "trace_check.h"

#include <reclaim.h>

static rc_heap *debug_heap(void)
{
    rc_heap_options options = {.struct_size = sizeof options, .malloc_mode = RC_MALLOC_DEBUG};
    rc_heap *heap = rc_heap_new_with(&options);
    CHECK(heap != NULL);
    rc_heap_use(heap);
    CHECK_EQ(rc_trace_start(4), 0);
    return heap;
}

static const int victim_line = __LINE__ + 5; /* the rc_malloc below */

__attribute__((noinline)) char *allocate_victim(void);
__attribute__((noinline)) char *allocate_victim(void)
{
    char *p = rc_malloc(24);
    NO_TAIL_CALL();
    return p;
}

static void overflow_traced_block(void)
{
    debug_heap();
    char *p = allocate_victim();
    p[24] = 'A'; /* one byte past the end */
    rc_free(p);
}

static void test_report_names_allocation(void)
{
    char out[4096];
    CHECK(expect_death(overflow_traced_block, "buffer overflow", out, sizeof out));
    /* the most recent frame is the rc_malloc line, quoted */
    char want[512];
    snprintf(want, sizeof want,
             "allocated at (most recent call first):\n  File \"%s\", line %d\n"
             "    char *p = rc_malloc(24);\n",
             __FILE__, victim_line);
    CHECK_STR_CONTAINS(out, want);
}

static const rc_type thing_type = {.name = "Thing", .size = 40};

static void test_figures(void)
{
    rc_heap *heap = debug_heap();
    char *a = rc_malloc(24), *b = rc_malloc(3000);
    CHECK_EQ(traced_current(), 3024); /* the sizes asked for, not the guarded blocks */
    void *obj = rc_new(&thing_type);
    CHECK_EQ(traced_current(), 3024 + 16 + 40);
    CHECK(rc_object_traceback(obj) != NULL);
    CHECK(rc_block_traceback(b) != NULL);
    rc_free(a); /* held back by the quarantine, forgotten by the tracer now */
    CHECK_EQ(traced_current(), 3000 + 16 + 40);
    b = rc_realloc(b, 5000);
    CHECK_EQ(traced_current(), 5000 + 16 + 40);
    CHECK_EQ(traced_peak(), 5000 + 16 + 40);
    rc_free(b);
    rc_decref(obj);
    CHECK_EQ(traced_current(), 0);
    CHECK(rc_trace_validate(heap));
    rc_heap_use(NULL);
    rc_heap_destroy(heap);
}

int main(void)
{
    test_report_names_allocation();
    test_figures();
    return check_report();
}
