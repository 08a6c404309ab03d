/* test_trace_faults: the tracer short of memory, and the tracer re-entered.
 *
 * The tracer's memory (side tables, traceback records and tables) comes
 * from the heap's bookkeeping allocator, which failure injection reaches.
 * The sweep fails the n-th system request (once, and from then on) for
 * every n a scenario reaches: whatever fails, every allocation the caller
 * gets is whole and keeps its contents, it is either traced or counted by
 * rc_trace_untraced_blocks, the figures stay exact (rc_trace_validate), and
 * everything goes back when the blocks are freed and tracing stops.
 */
#include "trace_check.h"

#include "alloc/pool.h"

#include <reclaim.h>

enum { BLOCKS = 64 };

static const rc_type thing_type = {.name = "Thing", .size = 40};

typedef struct block {
    unsigned char *p;
    size_t size;
    bool object;
} block;

static block blocks[BLOCKS];
static size_t nblocks;
/* untraced blocks the scenario allocated and did not keep */
static size_t untraced_gone;

static void keep(void *p, size_t size, bool object)
{
    if (!p) {
        CHECK_STR_CONTAINS(rc_last_error(), "out of memory");
        return;
    }
    memset(p, (int)(nblocks & 0xff), size); /* an object's body is ours to fill */
    blocks[nblocks++] = (block){p, size, object};
}

__attribute__((noinline)) void scenario(void);
__attribute__((noinline)) void scenario(void)
{
    static const size_t sizes[] = {16, 48, 200, 512, 1000, 5000, 24, 480};
    nblocks = 0;
    untraced_gone = 0;
    for (size_t i = 0; i < 24; i++)
        keep(rc_malloc(sizes[i % 8]), sizes[i % 8], false);
    for (size_t i = 0; i < 6; i++)
        keep(rc_new(&thing_type), thing_type.size, true);
    keep(rc_new_var(&thing_type, 2000), thing_type.size + 2000, true);
    /* a resized block keeps its contents, traced or not */
    void *r = rc_malloc(40);
    if (r) {
        memset(r, 0xab, 40);
        bool untraced = rc_block_traceback(r) == NULL;
        void *bigger = rc_realloc(r, 3000);
        if (bigger) {
            untraced_gone += untraced; /* r is gone: bigger is a block of its own */
            for (int i = 0; i < 40; i++)
                CHECK_EQ(((unsigned char *)bigger)[i], 0xab);
            r = bigger;
        }
        keep(r, 40, false);
    }
    NO_TAIL_CALL();
}

static size_t traced_among_kept(rc_heap *heap)
{
    size_t traced = 0;
    for (size_t i = 0; i < nblocks; i++) {
        const void *b = blocks[i].object ? (const void *)rc_head_of(blocks[i].p) : blocks[i].p;
        const rc_trace_frames *tb = rc_trace_block_traceback(heap, b, NULL);
        if (tb) {
            traced++;
            CHECK_FRAME(tb, 0, "scenario");
        }
    }
    return traced;
}

static void release_kept(void)
{
    for (size_t i = 0; i < nblocks; i++) {
        for (size_t j = 0; j < blocks[i].size; j++)
            if (blocks[i].p[j] != (unsigned char)(i & 0xff)) {
                CHECK_EQ(blocks[i].p[j], i & 0xff);
                break;
            }
        if (blocks[i].object)
            rc_decref(blocks[i].p);
        else
            rc_free(blocks[i].p);
    }
    nblocks = 0;
}

/* One run with the (n+1)-th system request failing; false once the
 * scenario no longer reaches it. */
static bool run_once(long n, bool sticky, size_t *untraced_seen)
{
    rc_heap *heap = rc_heap_new();
    rc_heap_use(heap);
    CHECK_EQ(rc_trace_start(3), 0);
    rc_heap_inject_faults(heap, RC_FAULT_MALLOC | RC_FAULT_MMAP, n, sticky);
    scenario();
    bool reached = heap->alloc.fault_after == 0;
    rc_heap_inject_faults(heap, 0, -1, false);

    CHECK(rc_trace_validate(heap));
    size_t traced = traced_among_kept(heap);
    CHECK_EQ(traced + rc_trace_untraced_blocks(), nblocks + untraced_gone);
    *untraced_seen += rc_trace_untraced_blocks();
    if (!sticky) /* a single failure loses at most one block's trace */
        CHECK(rc_trace_untraced_blocks() <= 1);
    release_kept();
    CHECK_EQ(traced_current(), 0);
    CHECK(rc_trace_validate(heap));
    rc_trace_stop();
    CHECK_EQ(rc_trace_overhead(), 0);
    CHECK(rc_alloc_validate(heap));
    rc_heap_use(NULL);
    rc_heap_destroy(heap);
    return reached;
}

static void test_sweep(void)
{
    for (int sticky = 0; sticky < 2; sticky++) {
        size_t untraced_seen = 0;
        long n = 0;
        while (run_once(n, sticky, &untraced_seen))
            n++;
        CHECK(n > 10);            /* the scenario makes many requests */
        CHECK(untraced_seen > 0); /* and some of them were the tracer's */
    }
}

/* The first traced block of a class needs a side table: when it cannot be
 * had, the caller still gets the block. */
static void test_side_table_failure(void)
{
    rc_heap *heap = rc_heap_new();
    rc_heap_use(heap);
    CHECK_EQ(rc_trace_start(1), 0);
    void *warm = rc_malloc(16); /* the traceback tables exist */
    rc_heap_inject_faults(heap, RC_FAULT_MALLOC, 0, false);
    void *p = rc_malloc(300); /* a new class: its side table fails */
    CHECK(p != NULL);
    memset(p, 7, 300);
    CHECK_EQ(rc_trace_untraced_blocks(), 1);
    CHECK_EQ(traced_current(), 16);
    CHECK(rc_block_traceback(p) == NULL);
    void *q = rc_malloc(300); /* memory is back: traced */
    CHECK(rc_block_traceback(q) != NULL);
    CHECK_EQ(traced_current(), 316);
    rc_free(p);
    CHECK_EQ(traced_current(), 316);
    rc_free(q);
    rc_free(warm);
    CHECK_EQ(traced_current(), 0);
    CHECK(rc_trace_validate(heap));
    rc_trace_clear(); /* clear resets the count */
    CHECK_EQ(rc_trace_untraced_blocks(), 0);
    rc_heap_use(NULL);
    rc_heap_destroy(heap);
}

/* While the tracer works on a block (rc_trace_busy), an allocation on the
 * same thread is the tracer's own: not traced and not counted as untraced;
 * a traced block resized meanwhile loses its trace, and the figures stay
 * exact. */
static void test_reentrancy(void)
{
    rc_heap *heap = rc_heap_new();
    rc_heap_use(heap);
    CHECK_EQ(rc_trace_start(2), 0);
    void *a = rc_malloc(100), *big = rc_malloc(2000);
    CHECK_EQ(traced_current(), 2100);
    rc_trace_busy = true;
    void *own = rc_malloc(64);
    void *obj = rc_new(&thing_type);
    a = rc_realloc(a, 110);      /* resized in place: trace dropped */
    big = rc_realloc(big, 2500); /* a large block's trace too */
    rc_trace_busy = false;
    CHECK(rc_block_traceback(own) == NULL);
    CHECK(rc_object_traceback(obj) == NULL);
    CHECK(rc_block_traceback(a) == NULL);
    CHECK(rc_block_traceback(big) == NULL);
    CHECK_EQ(traced_current(), 0);
    CHECK_EQ(rc_trace_untraced_blocks(), 0);
    CHECK(rc_trace_validate(heap));
    void *b = rc_malloc(10);
    CHECK_EQ(traced_current(), 10);
    rc_free(own);
    rc_decref(obj);
    rc_free(a);
    rc_free(big);
    rc_free(b);
    CHECK_EQ(traced_current(), 0);
    CHECK_EQ(traced_peak(), 2100);
    rc_heap_use(NULL);
    rc_heap_destroy(heap);
}

int main(void)
{
    test_side_table_failure();
    test_reentrancy();
    test_sweep();
    return check_report();
}
