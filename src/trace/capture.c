/* capture.c: finding the frames of an allocation, on the allocation path.
 *
 * The call site. All of reclaim's code is in one ELF section, rc_text
 * (CMakeLists.txt renames the library's text sections after a partial link),
 * bounded by the linker's __start_rc_text and __stop_rc_text, in
 * libreclaim.so and in any program linked with libreclaim.a alike; and the
 * library is compiled with frame pointers. So from the capture function's
 * own frame, the frame-pointer chain leads through reclaim's frames only
 * (each of which keeps a frame pointer) to the first return address outside
 * rc_text: the caller's call site. No per-call plumbing is needed, the walk
 * reads nothing but reclaim's own frames (whatever the caller was compiled
 * with), and a user callback that reclaim called (a sort comparison, a
 * finalizer) is the call site of what it allocates. Tail calls only remove
 * frames from the chain, never add wrong ones. This is the whole capture for
 * one frame: a few loads per reclaim frame.
 *
 * Deeper frames. With more than one frame, the rest of the stack is found
 * by one of three walks (heap->trace.unwind, RECLAIM_TRACE_UNWIND):
 *  - cfi, the default: the checked walk (capture_walk.c) follows, from the
 *    call site on, each frame's rule from the unwind tables (capture_cfi.c),
 *    decided once per return address: libunwind's frames, for code built
 *    with or without frame pointers, at a few loads per frame. Where a frame
 *    has no rule it can follow (a signal frame, code without tables), the
 *    whole capture is libunwind's, so the frames are libunwind's there too.
 *  - libunwind: unw_backtrace from here, the frames up to the call site
 *    dropped; told to stop just past the frames wanted (each costs it some
 *    80 instructions on its fast path, after some 200 to start).
 *  - fp: the caller's frame pointers (capture_walk.c: the checked walk's
 *    step for a frame-pointer frame, taken at every frame), unchecked but
 *    for staying in the thread's stack, each record above the one before: a
 *    program built without frame pointers gets short or wrong tracebacks but
 *    cannot crash the walk.
 * Reclaim frames further out than the call site (a sort that called the
 * allocating callback) are kept, since they are part of how the allocation
 * happened. Nothing here turns addresses into names (snapshots do, later).
 */
#define _GNU_SOURCE /* pthread_getattr_np */
#include "trace_core.h"

#define UNW_LOCAL_ONLY
#include <libunwind.h>
#include <pthread.h>

/* The frames reclaim may have between the capture and the call site, at
 * most, for the unwinder's buffer. */
#define RC_TRACE_OWN_FRAMES 32

/* ---- the calling thread's stack ---- */

/* The calling thread's stack [lo, hi), cached per thread in the heap. */
static bool stack_bounds(rc_heap *heap, uintptr_t *lo, uintptr_t *hi)
{
    rc_trace_state *st = &heap->trace;
    uintptr_t me = rc_thread_token();
    if (st->stack_owner != me) {
        pthread_attr_t attr;
        void *addr = NULL;
        size_t size = 0;
        if (pthread_getattr_np(pthread_self(), &attr) != 0)
            return false;
        int got = pthread_attr_getstack(&attr, &addr, &size);
        pthread_attr_destroy(&attr);
        if (got != 0)
            return false;
        st->stack_owner = me;
        st->stack_lo = (uintptr_t)addr;
        st->stack_hi = (uintptr_t)addr + size;
    }
    *lo = st->stack_lo;
    *hi = st->stack_hi;
    return true;
}

/* ---- libunwind (RECLAIM_TRACE_UNWIND=libunwind, and where the checked walk cannot tell) ---- */

/* The frames from site on, by libunwind; own is how many reclaim frames the
 * frame-pointer walk found above the capture, so that the unwinder stops
 * soon after the last frame wanted (each costs it a few hundred
 * instructions). 0 if it lost the site. */
static size_t unwind_frames(const void *site, unsigned own, const void **ips, size_t max)
{
    void *buf[RC_TRACE_MAX_FRAMES + RC_TRACE_OWN_FRAMES];
    if (own > RC_TRACE_OWN_FRAMES - 2)
        own = RC_TRACE_OWN_FRAMES - 2;
    /* this function's ip (and rc_trace_capture's, unless it inlined this
     * one), the reclaim frames above, then the max frames wanted */
    int got = unw_backtrace(buf, (int)(max + own + 2));
    size_t total = got > 0 ? (size_t)got : 0, start = 0;
    while (start < total && buf[start] != site)
        start++;
    if (start == total) /* the unwinder lost the site: keep just it */
        return 0;
    size_t n = total - start < max ? total - start : max;
    for (size_t i = 0; i < n; i++)
        ips[i] = buf[start + i];
    return n;
}

/* The frames past the call site by one of the walks, 0 if the walk cannot
 * tell (no stack bounds; a frame the checked walk cannot follow). */
static size_t walk_frames(rc_heap *heap, const rc_frame_record *outer, const void **ips, size_t max)
{
    uintptr_t lo, hi;
    if (!stack_bounds(heap, &lo, &hi))
        return 0;
    if (heap->trace.unwind == RC_TRACE_UNWIND_FP)
        return rc_trace_walk_fp(outer, ips, max, lo, hi);
    return rc_trace_walk_checked(heap, outer, ips, max, hi);
}

size_t rc_trace_capture(rc_heap *heap, const void **ips, size_t max)
{
    unsigned own = 0;
    const rc_frame_record *outer = rc_trace_outermost(__builtin_frame_address(0), &own);
    if (!outer)
        return 0;
    ips[0] = outer->ret;
    if (max == 1)
        return 1;
    rc_trace_state *st = &heap->trace;
    if (st->unwind != RC_TRACE_UNWIND_LIBUNWIND) {
        size_t n = walk_frames(heap, outer, ips, max);
        if (n || st->unwind == RC_TRACE_UNWIND_FP)
            return n ? n : 1;
        st->unwind_fallbacks++;
    }
    size_t n = unwind_frames(outer->ret, own, ips, max);
    return n ? n : 1;
}
