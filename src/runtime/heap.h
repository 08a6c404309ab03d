/* heap.h: the heap struct, which holds all of a heap's state.
 *
 * Each layer keeps its state in its own struct, defined beside its sources,
 * and the heap composes them in layer order. Nothing else holds state: the
 * only process-wide structure is the arena map (src/alloc/arena_map.c),
 * which must be process-wide so that rc_free and rc_decref can find the heap
 * owning any address; the only thread-locals are the current heap and the
 * last error message (src/runtime/thread.c).
 *
 * Events flow up through hooks, never through calls into a higher layer:
 * the allocator asks the collector to free memory through out_of_memory,
 * the object layer asks for a collection through collect_due and for weak
 * references to be cleared through clear_weakrefs, the allocator tells the
 * tracer of every block it hands out and frees while tracing is on. Each
 * upper layer sets its hooks when the heap is made.
 *
 * Ownership: `owner` is the token of the thread whose current heap this is,
 * 0 when no thread uses it. It changes only in rc_heap_use, rc_heap_current
 * and around a foreign deallocation (src/runtime/thread.c).
 */
#ifndef RC_HEAP_H
#define RC_HEAP_H

#include "../internal.h"
#include "../alloc/alloc_state.h"
#include "../gc/gc_state.h"
#include "../object/object_state.h"
#include "../weakref/weak_state.h"
#include "../types/types_state.h"
#include "../trace/trace_state.h"

#include <stdatomic.h>

typedef struct rc_heap_hooks {
    /* Memory is short: collect cycles so that a retry may succeed. */
    void (*out_of_memory)(rc_heap *heap);
    /* count[0] passed the threshold: run the automatic collection. */
    void (*collect_due)(rc_heap *heap);
    /* obj, which has weak references, is dying: clear them, run callbacks. */
    void (*clear_weakrefs)(rc_heap *heap, void *obj);
    /* obj, a weak reference, is dying: detach it from its referent. */
    void (*weakref_dying)(rc_heap *heap, void *obj);
    /* obj, of a type with RC_TYPE_INTERNAL_RECYCLE, is dead and released
     * (its references dropped, destroy run): true if its type kept the
     * block on a free list (rc_object_recycle), false to have it freed. */
    bool (*recycle)(rc_heap *heap, void *obj);
    /* A full collection ended: give every free list's blocks back to the
     * allocator (CPython clears its free lists in gc.collect(2)). */
    void (*clear_free_lists)(rc_heap *heap);
    /* The collector found objs unreachable (each carries RC_UNREACHABLE):
     * clear weak references to them and those among them, run the
     * callbacks of the cleared ones that are not themselves unreachable.
     * Returns true if any callback ran. */
    bool (*clear_weakrefs_unreachable)(rc_heap *heap, void *const *objs, size_t n);

    /* Tracing (src/trace), called by the allocator. trace_alloc: while
     * heap->alloc.traced is set, block was just handed out for a request of
     * size bytes (it may hold a trace already: a block resized in place);
     * trace_free: block, whose pool has side data (pool is its pool) or
     * whose large header holds a trace (pool is NULL), is being freed;
     * trace_pool_empty: the pool, which has side data, emptied and goes
     * back to its arena. */
    void (*trace_alloc)(rc_heap *heap, void *block, size_t size);
    void (*trace_free)(rc_heap *heap, void *block, struct rc_pool *pool);
    void (*trace_pool_empty)(rc_heap *heap, struct rc_pool *pool);

    /* For the allocator's statistics and debug messages; NULL: nothing to
     * say. trace_overhead: the bytes the tracer holds (rc_trace_overhead).
     * describe_block: writes where block (a user pointer: what rc_malloc or
     * rc_alloc_block returned) was allocated, e.g. its traceback, as text of
     * at most size bytes (NUL included) into buf; returns the length, 0 if
     * it does not know. Called on the way to a fatal report. */
    size_t (*trace_overhead)(rc_heap *heap);
    size_t (*describe_block)(rc_heap *heap, const void *block, char *buf, size_t size);
} rc_heap_hooks;

struct rc_heap {
    rc_alloc_state alloc;
    rc_object_state objects;
    rc_gc_state gc;
    rc_weak_state weak;
    rc_types_state types;
    rc_trace_state trace;
    rc_heap_hooks hooks;
    _Atomic(uintptr_t) owner; /* thread token, 0: none */
    bool implicit;            /* a thread's own, destroyed at its exit */
    bool destroying;          /* inside rc_heap_destroy */
};

/* The calling thread's current heap (thread.c); read inline on every
 * implicit-heap call, so it uses the initial-exec TLS model. */
RC_INTERNAL extern _Thread_local rc_heap *rc_tls_heap __attribute__((tls_model("initial-exec")));

/* The calling thread's token (never 0). */
RC_INTERNAL uintptr_t rc_thread_token(void);

/* The calling thread's current heap (may be NULL). */
static inline rc_heap *rc_thread_heap(void) { return rc_tls_heap; }

/* The heap the calling thread works on for an implicit-heap call: its
 * current heap, made on first use. NULL (message set) if none can be made. */
static inline rc_heap *rc_heap_for_call(void)
{
    rc_heap *heap = rc_tls_heap;
    return RC_LIKELY(heap != NULL) ? heap : rc_heap_current();
}

/* Whether the calling thread may work on heap: it owns it, or nobody does. */
RC_INTERNAL bool rc_heap_may_work_on(rc_heap *heap);

/* Stops the process unless rc_heap_may_work_on(heap). `what` names the
 * operation for the message. */
RC_INTERNAL void rc_heap_check_access(rc_heap *heap, const char *what);

/* For work on a heap that is not the caller's current one (dropping the last
 * reference to one of its objects): takes the heap for the duration if no
 * thread owns it (true: give it back with rc_heap_release), goes ahead if
 * the caller owns it (false), stops the process if another thread does. */
RC_INTERNAL bool rc_heap_take(rc_heap *heap, const char *what);
RC_INTERNAL void rc_heap_release(rc_heap *heap);

/* rc_heap_destroy's last word to the thread layer: heap is gone, so it is no
 * thread's current or implicit heap any more. */
RC_INTERNAL void rc_thread_forget_heap(rc_heap *heap);

#endif
