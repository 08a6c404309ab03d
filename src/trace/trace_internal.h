/* trace_internal.h: the tracing core (layer 6) as the rest of the library sees
 * it.
 *
 * CONTRACT. This header is the interface between the two parts of src/trace:
 * the tracing core (trace.c, capture.c, traces.c, tbtable.c: recording
 * which blocks are live and where they were allocated) and the snapshot part
 * (snapshot*.c, symbolize*.c, format*.c, dumpfile*.c, filter*.c: copying,
 * examining and storing what the core recorded). The snapshot part uses
 * nothing of the core but the three functions below and the public
 * rc_trace_frames (reclaim/trace.h); they keep their meaning as the core
 * changes.
 *
 * Tracebacks are interned: each distinct sequence of frames is stored once
 * and named by a 32-bit index, 1 .. rc_trace_traceback_count(heap); 0 means
 * "no traceback". The indexes and the frames they name stay valid until
 * rc_trace_clear or rc_trace_stop (or the heap's destruction); records never
 * move in memory meanwhile.
 */
#ifndef RC_TRACE_INTERNAL_H
#define RC_TRACE_INTERNAL_H

#include "../runtime/heap.h"

/* Calls fn once for every traced block of heap: its address as its caller
 * got it (what rc_malloc returned; for an object, the address of its header,
 * where its block starts), the size that was requested for it,
 * and its traceback index (>= 1). Blocks come pool by pool, then the large
 * ones; the order is otherwise unspecified. fn must not allocate or free
 * blocks of heap. Nothing is called while tracing is off. Blocks that other
 * threads freed are returned to their pools (and forgotten) first. */
RC_INTERNAL void rc_trace_for_each(rc_heap *heap,
                                   void (*fn)(const void *block, size_t size, uint32_t traceback,
                                              void *arg),
                                   void *arg);

/* The frames of traceback index `traceback`, most recent first: (*ips)[0]
 * is the return address in the allocation's call site (the first address
 * outside reclaim's own code), (*ips)[1] the one in its caller, and so on.
 * Returns the number of frames (1 .. the limit tracing was started with) and
 * sets *ips; returns 0 (and sets *ips to NULL) for an index that names no
 * traceback. Addresses are return addresses: symbolize address - 1. */
RC_INTERNAL size_t rc_trace_traceback_frames(rc_heap *heap, uint32_t traceback,
                                             const void *const **ips);

/* The number of interned tracebacks: valid indexes are 1 .. this. */
RC_INTERNAL size_t rc_trace_traceback_count(rc_heap *heap);

/* ---- the rest of the library (runtime, allocator's debug messages) ---- */

/* Sets up the heap's tracer (hooks; RECLAIM_TRACE from the environment) and
 * tears it down, releasing every byte it holds. Called by rc_heap_new after
 * the other layers, and by rc_heap_destroy before them. */
RC_INTERNAL int rc_trace_init(rc_heap *heap);
RC_INTERNAL void rc_trace_fini(rc_heap *heap);

/* The traceback of a live block of heap (what rc_malloc returned, or an
 * object's header), and its requested size; NULL if it is not traced. */
RC_INTERNAL const rc_trace_frames *rc_trace_block_traceback(rc_heap *heap, const void *block,
                                                            size_t *size);

#endif
