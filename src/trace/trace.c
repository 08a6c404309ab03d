/* trace.c: the tracing API (reclaim/trace.h), the tracer's life with its
 * heap, its environment variables and its memory.
 *
 * Turning tracing on sets nframes and tells the allocator
 * (rc_alloc_set_traced), which then sends every allocation and free to the
 * paths that call the tracer's hooks; turning it off, or clearing, forgets
 * every trace (traces.c) and every traceback (tbtable.c), which gives all of
 * the tracer's memory back: overhead is 0 whenever tracing is off.
 */
#include "trace_core.h"
#include "../alloc/alloc.h"
#include "../object/object_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* ---- the tracer's memory ------------------------------------------------- */

void *rc_trace_mem_alloc(rc_heap *heap, size_t size, bool zero)
{
    void *p = zero ? rc_sys_calloc(heap, 1, size) : rc_sys_malloc(heap, size);
    if (p)
        heap->trace.overhead += size;
    return p;
}

void *rc_trace_mem_realloc(rc_heap *heap, void *p, size_t old_size, size_t size)
{
    void *q = rc_sys_realloc(heap, p, size);
    if (q)
        heap->trace.overhead += size - old_size;
    return q;
}

void rc_trace_mem_free(rc_heap *heap, void *p, size_t size)
{
    if (!p)
        return;
    RC_ASSERT(heap->trace.overhead >= size);
    heap->trace.overhead -= size;
    rc_sys_free(heap, p);
}

/* ---- on and off ------------------------------------------------------------- */

static void forget_all(rc_heap *heap)
{
    rc_trace_forget_blocks(heap);
    rc_tb_clear(heap);
    rc_trace_rules_clear(heap);
    heap->trace.untraced_blocks = 0;
    heap->trace.unwind_fallbacks = 0;
    RC_ASSERT(heap->trace.overhead == 0);
}

static int start(rc_heap *heap, unsigned nframes, const char *what)
{
    if (nframes < 1 || nframes > RC_TRACE_MAX_FRAMES)
        return rc_set_error(RC_EINVAL, "%s: the number of frames must be 1 to %d, not %u", what,
                            RC_TRACE_MAX_FRAMES, nframes);
    heap->trace.nframes = nframes;
    rc_alloc_set_traced(heap, true);
    return RC_OK;
}

static void stop(rc_heap *heap)
{
    rc_alloc_set_traced(heap, false);
    heap->trace.nframes = 0;
    forget_all(heap);
}

/* RECLAIM_TRACE=N: 1..RC_TRACE_MAX_FRAMES starts tracing; "" or 0 is off;
 * anything else is a message and off. */
static void start_from_environment(rc_heap *heap)
{
    const char *value = getenv("RECLAIM_TRACE");
    if (!value || !*value)
        return;
    char *end = NULL;
    errno = 0;
    unsigned long n = strtoul(value, &end, 10);
    bool number = *value >= '0' && *value <= '9' && *end == '\0' && errno == 0;
    if (number && n == 0)
        return;
    if (!number || n > RC_TRACE_MAX_FRAMES) {
        fprintf(stderr,
                "reclaim: RECLAIM_TRACE=%s: expected a number of frames from 1 to %d (0: off); "
                "tracing stays off\n",
                value, RC_TRACE_MAX_FRAMES);
        return;
    }
    start(heap, (unsigned)n, "RECLAIM_TRACE");
}

/* RECLAIM_TRACE_UNWIND=cfi|fp|libunwind: how frames past the first are
 * found (capture.c); unset or empty: cfi, the checked walk. */
static void unwinder_from_environment(rc_heap *heap)
{
    const char *value = getenv("RECLAIM_TRACE_UNWIND");
    if (!value || !*value || strcmp(value, "cfi") == 0)
        heap->trace.unwind = RC_TRACE_UNWIND_CHECKED;
    else if (strcmp(value, "fp") == 0)
        heap->trace.unwind = RC_TRACE_UNWIND_FP;
    else if (strcmp(value, "libunwind") == 0)
        heap->trace.unwind = RC_TRACE_UNWIND_LIBUNWIND;
    else
        fprintf(stderr,
                "reclaim: RECLAIM_TRACE_UNWIND=%s: expected \"cfi\", \"fp\" or \"libunwind\"; "
                "using cfi\n",
                value);
}

/* ---- what the allocator's statistics and debug reports ask ---------------- */

static size_t overhead_hook(rc_heap *heap) { return heap->trace.overhead; }

/* The traceback of block's allocation, symbolized, as text for a debug
 * report (the process is about to stop: time and memory do not matter). */
static size_t describe_block(rc_heap *heap, const void *block, char *buf, size_t size)
{
    const rc_trace_frames *frames = rc_trace_block_traceback(heap, block, NULL);
    rc_traceback *tb = frames ? rc_traceback_symbolize(frames) : NULL;
    char *text = tb ? rc_traceback_format(tb, 0, true) : NULL;
    int n = 0;
    if (text && size > 0)
        n = snprintf(buf, size, "allocated at (most recent call first):\n%s", text);
    free(text);
    free(tb);
    if (n <= 0)
        return 0;
    return (size_t)n < size ? (size_t)n : size - 1;
}

int rc_trace_init(rc_heap *heap)
{
    memset(&heap->trace, 0, sizeof heap->trace);
    heap->hooks.trace_alloc = rc_trace_hook_alloc;
    heap->hooks.trace_free = rc_trace_hook_free;
    heap->hooks.trace_pool_empty = rc_trace_hook_pool_empty;
    heap->hooks.trace_overhead = overhead_hook;
    heap->hooks.describe_block = describe_block;
    unwinder_from_environment(heap);
    start_from_environment(heap);
    return 0;
}

void rc_trace_fini(rc_heap *heap) { stop(heap); }

size_t rc_trace_traceback_frames(rc_heap *heap, uint32_t traceback, const void *const **ips)
{
    const rc_trace_frames *record = rc_tb_record(&heap->trace.tracebacks, traceback);
    *ips = record ? record->ip : NULL;
    return record ? record->nframes : 0;
}

size_t rc_trace_traceback_count(rc_heap *heap) { return heap->trace.tracebacks.count; }

/* ---- the API on an explicit heap --------------------------------------------- */

/* heap, checked: NULL (message set) if it is NULL; stops the process if
 * another thread owns it. */
static rc_heap *checked(rc_heap *heap, const char *what)
{
    if (!heap) {
        rc_set_error(RC_EINVAL, "%s: heap is NULL", what);
        return NULL;
    }
    rc_heap_check_access(heap, what);
    return heap;
}

int rc_heap_trace_start(rc_heap *heap, unsigned nframes)
{
    heap = checked(heap, "rc_heap_trace_start");
    return heap ? start(heap, nframes, "rc_heap_trace_start") : RC_EINVAL;
}

void rc_heap_trace_stop(rc_heap *heap)
{
    if ((heap = checked(heap, "rc_heap_trace_stop")))
        stop(heap);
}

bool rc_heap_trace_is_tracing(rc_heap *heap)
{
    heap = checked(heap, "rc_heap_trace_is_tracing");
    return heap && heap->trace.nframes != 0;
}

void rc_heap_trace_clear(rc_heap *heap)
{
    if ((heap = checked(heap, "rc_heap_trace_clear")) && heap->trace.nframes)
        forget_all(heap);
}

void rc_heap_trace_get_memory(rc_heap *heap, size_t *current, size_t *peak)
{
    heap = checked(heap, "rc_heap_trace_get_memory");
    if (heap) /* blocks other threads freed count until returned: return them */
        rc_alloc_drain_remote(heap);
    if (current)
        *current = heap ? heap->trace.current : 0;
    if (peak)
        *peak = heap ? heap->trace.peak : 0;
}

void rc_heap_trace_reset_peak(rc_heap *heap)
{
    if ((heap = checked(heap, "rc_heap_trace_reset_peak")))
        heap->trace.peak = heap->trace.current;
}

size_t rc_heap_trace_overhead(rc_heap *heap)
{
    heap = checked(heap, "rc_heap_trace_overhead");
    return heap ? heap->trace.overhead : 0;
}

unsigned rc_heap_trace_traceback_limit(rc_heap *heap)
{
    heap = checked(heap, "rc_heap_trace_traceback_limit");
    return heap ? heap->trace.nframes : 0;
}

size_t rc_heap_trace_untraced_blocks(rc_heap *heap)
{
    heap = checked(heap, "rc_heap_trace_untraced_blocks");
    return heap ? heap->trace.untraced_blocks : 0;
}

/* ---- the API on the current heap ------------------------------------------------ */

int rc_trace_start(unsigned nframes)
{
    rc_heap *heap = rc_heap_for_call();
    return heap ? start(heap, nframes, "rc_trace_start") : RC_ENOMEM;
}

void rc_trace_stop(void) { rc_heap_trace_stop(rc_heap_for_call()); }
bool rc_trace_is_tracing(void) { return rc_heap_trace_is_tracing(rc_heap_for_call()); }
void rc_trace_clear(void) { rc_heap_trace_clear(rc_heap_for_call()); }
void rc_trace_get_memory(size_t *current, size_t *peak)
{
    rc_heap_trace_get_memory(rc_heap_for_call(), current, peak);
}
void rc_trace_reset_peak(void) { rc_heap_trace_reset_peak(rc_heap_for_call()); }
size_t rc_trace_overhead(void) { return rc_heap_trace_overhead(rc_heap_for_call()); }
unsigned rc_trace_traceback_limit(void)
{
    return rc_heap_trace_traceback_limit(rc_heap_for_call());
}
size_t rc_trace_untraced_blocks(void) { return rc_heap_trace_untraced_blocks(rc_heap_for_call()); }

/* ---- tracebacks of blocks and objects --------------------------------------------- */

/* The traceback of block (of the given kind), named `what` in messages. */
static const rc_trace_frames *traceback_of(const void *block, rc_block_kind want, const char *what,
                                           const void *arg)
{
    rc_block_kind kind = RC_BLOCK_RAW;
    rc_heap *heap = block ? rc_alloc_owner(block, &kind) : NULL;
    if (!heap || kind != want) {
        rc_set_error(RC_EINVAL, "%s(%p): not a %s", what, arg,
                     want == RC_BLOCK_OBJECT ? "reclaim object" : "block allocated by reclaim");
        return NULL;
    }
    rc_heap_check_access(heap, what);
    const rc_trace_frames *tb = rc_trace_block_traceback(heap, block, NULL);
    if (!tb)
        rc_set_error(RC_ENOTFOUND, "%s(%p): not traced (%s)", what, arg,
                     heap->trace.nframes ? "allocated before tracing started or was cleared"
                                         : "tracing is off");
    return tb;
}

const rc_trace_frames *rc_object_traceback(const void *obj)
{
    const void *block = (uintptr_t)obj > sizeof(rc_object_head) ? rc_head_of(obj) : NULL;
    return traceback_of(block, RC_BLOCK_OBJECT, "rc_object_traceback", obj);
}

const rc_trace_frames *rc_block_traceback(const void *block)
{
    return traceback_of(block, RC_BLOCK_RAW, "rc_block_traceback", block);
}
