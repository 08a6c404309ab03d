/* snapshot_take.c: take_snapshot. Copies the traces of a heap through the
 * tracing core's interface (trace_internal.h): each traced block's size and
 * traceback, and the return addresses of each traceback used, once.
 * Nothing is symbolized here: that waits for the first examination
 * (snapshot_seal.c), so taking a snapshot costs a pass over the traces.
 *
 * The core numbers its tracebacks 1 .. rc_trace_traceback_count; tb_map
 * gives each its snapshot index once copied (RC_SNAP_NONE before).
 */
#include "snapshot_internal.h"
#include "trace_internal.h"

typedef struct taker {
    rc_heap *heap;
    rc_snapshot *snap;
    uint32_t *tb_map; /* core index -> snapshot index */
    size_t ntb;       /* core indexes are 1 .. ntb */
    int status;
} taker;

static uint32_t copy_traceback(taker *t, uint32_t core)
{
    const void *const *ips = NULL;
    size_t n = rc_trace_traceback_frames(t->heap, core, &ips);
    uint32_t run[RC_TRACE_MAX_FRAMES];
    if (n == 0 || n > RC_TRACE_MAX_FRAMES) {
        rc_set_error(RC_ESTATE, "rc_snapshot_take: traceback %u has %zu frames", core, n);
        return RC_SNAP_NONE;
    }
    for (size_t k = 0; k < n; k++)
        if ((run[k] = rc_snapshot_add_address(t->snap, (uintptr_t)ips[k])) == RC_SNAP_NONE)
            return RC_SNAP_NONE;
    return rc_snapshot_add_traceback(t->snap, run, n);
}

static void copy_trace(const void *block, size_t size, uint32_t core, void *arg)
{
    (void)block;
    taker *t = arg;
    if (t->status != 0)
        return;
    if (core == 0 || core > t->ntb) {
        t->status = rc_set_error(RC_ESTATE, "rc_snapshot_take: a block names traceback %u of %zu",
                                 core, t->ntb);
        return;
    }
    if (t->tb_map[core] == RC_SNAP_NONE &&
        (t->tb_map[core] = copy_traceback(t, core)) == RC_SNAP_NONE) {
        t->status = RC_ENOMEM;
        return;
    }
    t->status = rc_snapshot_add_trace(t->snap, size, t->tb_map[core]);
}

rc_snapshot *rc_heap_snapshot_take(rc_heap *heap)
{
    if (!heap) {
        rc_set_error(RC_EINVAL, "rc_snapshot_take: heap is NULL");
        return NULL;
    }
    rc_heap_check_access(heap, "rc_snapshot_take");
    if (!rc_heap_trace_is_tracing(heap)) {
        rc_set_error(RC_ESTATE, "rc_snapshot_take: tracing must be on to take a snapshot "
                                "(rc_trace_start)");
        return NULL;
    }
    taker t = {heap, rc_snapshot_new(rc_heap_trace_traceback_limit(heap)), NULL,
               rc_trace_traceback_count(heap), 0};
    t.tb_map = t.snap ? rc_snap_alloc((t.ntb + 1) * sizeof *t.tb_map) : NULL;
    if (t.tb_map) {
        for (size_t i = 0; i <= t.ntb; i++)
            t.tb_map[i] = RC_SNAP_NONE;
        rc_trace_for_each(heap, copy_trace, &t);
    }
    rc_snap_free(t.tb_map);
    if (t.tb_map && t.status == 0)
        return t.snap;
    rc_snapshot_free(t.snap);
    return NULL;
}

rc_snapshot *rc_snapshot_take(void)
{
    rc_heap *heap = rc_heap_for_call();
    return heap ? rc_heap_snapshot_take(heap) : NULL;
}
