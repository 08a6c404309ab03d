/* trace_core.h: what the files of the tracing core share (trace.c,
 * capture.c, traces.c, tbtable.c); the rest of the library uses
 * trace_internal.h.
 *
 * Memory. Everything the tracer holds comes from the system allocator
 * through rc_trace_mem_* (the heap's bookkeeping allocator, so failure
 * injection reaches it), which keeps heap->trace.overhead exact. A request
 * that fails leaves a message and NULL; the caller's allocation then stays
 * untraced (rc_trace_untraced_blocks), never fails.
 *
 * Reentrancy. rc_trace_busy is set while the tracer works on a block: an
 * allocation made meanwhile on the same thread (by the system allocator or
 * an unwinder that was itself routed to a reclaim heap) is not traced. It is
 * the one thread-local the tracer has (STYLE.md).
 */
#ifndef RC_TRACE_CORE_H
#define RC_TRACE_CORE_H

#include "trace_internal.h"

RC_INTERNAL extern _Thread_local bool rc_trace_busy __attribute__((tls_model("initial-exec")));

/* ---- memory (trace.c) ---- */
RC_INTERNAL void *rc_trace_mem_alloc(rc_heap *heap, size_t size, bool zero);
RC_INTERNAL void *rc_trace_mem_realloc(rc_heap *heap, void *p, size_t old_size, size_t size);
RC_INTERNAL void rc_trace_mem_free(rc_heap *heap, void *p, size_t size);

/* ---- frames (capture.c; capture.c explains) ---- */

RC_INTERNAL extern const char __start_rc_text[];
RC_INTERNAL extern const char __stop_rc_text[];

/* A frame record as the frame pointer points to it (x86-64, AArch64). */
typedef struct rc_frame_record {
    const struct rc_frame_record *next; /* the caller's record */
    const void *ret;                    /* return address into the caller */
} rc_frame_record;

static inline bool rc_trace_in_reclaim(const void *ip)
{
    return (uintptr_t)ip - (uintptr_t)__start_rc_text <
           (uintptr_t)(__stop_rc_text - __start_rc_text);
}

/* From a reclaim function's frame record (__builtin_frame_address(0)), the
 * record of the outermost reclaim frame, whose return address is the call
 * site; NULL if the chain is not what reclaim's frames make (then nothing
 * is traced). Reads reclaim's frames only. *depth (if not NULL) is set to
 * the number of reclaim frames above fp's. */
static inline const rc_frame_record *rc_trace_outermost(const rc_frame_record *fp, unsigned *depth)
{
    for (unsigned n = 0; n < 128; n++) {
        if (!rc_trace_in_reclaim(fp->ret)) {
            if (depth)
                *depth = n;
            return fp;
        }
        const rc_frame_record *next = fp->next;
        if (next <= fp)
            return NULL;
        fp = next;
    }
    return NULL;
}

/* The return addresses of the allocation being traced, the first one
 * outside reclaim's code (the call site) first, at most max (>= 1) of them;
 * returns how many, 0 if no call site could be found. Called from within
 * reclaim's code, on the thread that allocates. */
RC_INTERNAL size_t rc_trace_capture(rc_heap *heap, const void **ips, size_t max);

/* The frames past the call site by the checked walk (capture_walk.c):
 * ips[0] is outer's return address; fills ips[1..] from outer's caller on,
 * reading only the calling thread's stack between outer and hi (its top).
 * Returns how many frames ips holds, at most max (>= 2), or 0 if a frame had
 * no rule the walk can follow (the capture is then libunwind's). */
RC_INTERNAL size_t rc_trace_walk_checked(rc_heap *heap, const rc_frame_record *outer,
                                         const void **ips, size_t max, uintptr_t hi);
/* The frames past the call site by frame pointers alone (capture_walk.c):
 * as rc_trace_walk_checked, every frame taken for a frame-pointer frame;
 * each record must lie in the thread's stack [lo, hi), above the one
 * before. Returns how many frames ips holds (>= 1). */
RC_INTERNAL size_t rc_trace_walk_fp(const rc_frame_record *outer, const void **ips, size_t max,
                                    uintptr_t lo, uintptr_t hi);
/* Forgets every frame rule, giving the set's memory back. */
RC_INTERNAL void rc_trace_rules_clear(rc_heap *heap);
/* The bytes the rule set holds from the system. */
RC_INTERNAL size_t rc_trace_rules_bytes(const rc_frame_rules *rules);
/* Checks the rule set's invariants (capture_walk.c); true if they hold. */
RC_INTERNAL bool rc_trace_rules_validate(const rc_frame_rules *rules);
/* A session that reads the loaded modules' unwind tables through libdw
 * (capture_cfi.c): the rule set keeps one per heap. open gives NULL with a
 * message if memory is short; close takes NULL too. */
typedef struct rc_cfi rc_cfi;
RC_INTERNAL rc_cfi *rc_trace_cfi_open(rc_heap *heap);
RC_INTERNAL void rc_trace_cfi_close(rc_heap *heap, rc_cfi *cfi);
/* The bytes of cfi the tracer holds from the system (libdw's own are not
 * counted). */
RC_INTERNAL size_t rc_trace_cfi_bytes(const rc_cfi *cfi);
/* The layout of the frame that return address ret returns into, at that
 * call, from the unwind tables (capture_cfi.c); kind RC_FRAME_UNKNOWN if it
 * is not one the walk can follow (or cfi is NULL). Renews cfi's libdw
 * session if the dynamic loader loaded or unloaded a module since it
 * reported them; libdw's memory comes from the C library. */
RC_INTERNAL rc_frame_layout rc_trace_cfi_layout(rc_cfi *cfi, uintptr_t ret);

/* ---- interned tracebacks (tbtable.c) ---- */

/* The most distinct tracebacks a heap interns until cleared: what a small
 * block's 32-bit trace word has room for (traces.c). Beyond it blocks are
 * untraced (and counted). */
#define RC_TRACE_MAX_TRACEBACKS ((1u << 26) - 1)

/* The index of the traceback of the n frames ips (interning it if new),
 * 0 with a message if memory is short; rc_tb_intern1 for one frame. */
RC_INTERNAL uint32_t rc_tb_intern(rc_heap *heap, const void *const *ips, size_t n);
RC_INTERNAL uint32_t rc_tb_intern1_slow(rc_heap *heap, const void *ip);
/* The site cache's entry for call site ip. */
static inline rc_tb_site *rc_tb_site_of(rc_tb_table *table, const void *ip)
{
    return &table->sites[((uintptr_t)ip >> 2) % RC_TB_SITE_CACHE];
}
static inline uint32_t rc_tb_intern1(rc_heap *heap, const void *ip)
{
    const rc_tb_site *site = rc_tb_site_of(&heap->trace.tracebacks, ip);
    return RC_LIKELY(site->ip == ip) ? site->index : rc_tb_intern1_slow(heap, ip);
}
/* The record of index, NULL if there is none. */
static inline const rc_trace_frames *rc_tb_record(const rc_tb_table *table, uint32_t index)
{
    return index - 1 < table->count ? table->records[index] : NULL;
}
/* Forgets every traceback, giving their memory back. */
RC_INTERNAL void rc_tb_clear(rc_heap *heap);
/* The bytes the table holds from the system. */
RC_INTERNAL size_t rc_tb_bytes(const rc_tb_table *table);
/* Checks the table's invariants; true if they hold. */
RC_INTERNAL bool rc_tb_validate(const rc_tb_table *table);

/* ---- traces of blocks (traces.c) ---- */
/* The heap hooks the allocator calls (heap.h). */
RC_INTERNAL void rc_trace_hook_alloc(rc_heap *heap, void *block, size_t size);
RC_INTERNAL void rc_trace_hook_free(rc_heap *heap, void *block, struct rc_pool *pool);
RC_INTERNAL void rc_trace_hook_pool_empty(rc_heap *heap, struct rc_pool *pool);
/* Forgets the trace of every block, giving the side tables back. */
RC_INTERNAL void rc_trace_forget_blocks(rc_heap *heap);
/* Checks trace_state.h's invariants over every block (expensive); true if
 * they hold. */
RC_INTERNAL bool rc_trace_validate(rc_heap *heap);

#endif
