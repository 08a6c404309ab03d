/* filter.c: Snapshot.filter_traces. Whether a trace passes depends on its
 * traceback only, so each traceback is judged once; the new snapshot gets
 * the traces that pass, with copies of the tracebacks, frames and strings
 * they use (and nothing else).
 *
 * A filter "matches" a trace as tracemalloc's Filter._match does: on the
 * most recent frame, the frame test XOR exclusive; with all_frames, any
 * frame passing the test gives `inclusive`, none gives `!inclusive`. A trace
 * passes if some inclusive filter matches it (when there are any) and every
 * exclusive filter matches it.
 */
#include "snapshot_internal.h"

#include <fnmatch.h>

static bool frame_passes_test(const rc_trace_filter *f, const rc_frame *frame)
{
    return fnmatch(f->filename_pattern, frame->filename, FNM_NOESCAPE) == 0 &&
           (f->lineno == 0 || frame->lineno == f->lineno);
}

static bool filter_matches(const rc_trace_filter *f, const rc_traceback *tb)
{
    if (!f->all_frames)
        return frame_passes_test(f, &tb->frames[0]) == f->inclusive;
    for (size_t i = 0; i < tb->nframes; i++)
        if (frame_passes_test(f, &tb->frames[i]))
            return f->inclusive;
    return !f->inclusive;
}

static bool traceback_passes(const rc_trace_filter *filters, size_t n, const rc_traceback *tb)
{
    bool any_inclusive = false, included = false;
    for (size_t i = 0; i < n; i++) {
        bool matches = filter_matches(&filters[i], tb);
        if (filters[i].inclusive) {
            any_inclusive = true;
            included = included || matches;
        } else if (!matches) {
            return false;
        }
    }
    return !any_inclusive || included;
}

/* The state of one copy: the new index of each old frame and traceback
 * (RC_SNAP_NONE until copied), and room for one traceback's items. */
typedef struct copier {
    rc_snapshot *from, *to;
    uint32_t *frame_map, *tb_map, *run;
} copier;

static uint32_t copy_frame(copier *c, uint32_t old)
{
    if (c->frame_map[old] == RC_SNAP_NONE) {
        const rc_frame *f = &c->from->frame_views[old];
        c->frame_map[old] = rc_snapshot_add_frame(c->to, f->filename, f->lineno, f->function);
    }
    return c->frame_map[old];
}

static uint32_t copy_traceback(copier *c, uint32_t old)
{
    if (c->tb_map[old] != RC_SNAP_NONE)
        return c->tb_map[old];
    const rc_snap_traceback *tb = &c->from->tracebacks[old];
    for (uint32_t k = 0; k < tb->count; k++)
        if ((c->run[k] = copy_frame(c, c->from->items[tb->first + k])) == RC_SNAP_NONE)
            return RC_SNAP_NONE;
    return c->tb_map[old] = rc_snapshot_add_traceback(c->to, c->run, tb->count);
}

/* Copies the traces whose traceback passes (passes[tb]) into c->to. */
static int copy_traces(copier *c, const bool *passes)
{
    for (size_t i = 0; i < c->from->ntraces; i++) {
        const rc_snap_trace *t = &c->from->traces[i];
        if (!passes[t->traceback])
            continue;
        uint32_t tb = copy_traceback(c, t->traceback);
        if (tb == RC_SNAP_NONE || rc_snapshot_add_trace(c->to, t->size, tb) != 0)
            return RC_ENOMEM;
    }
    return 0;
}

static int check_filters(const rc_snapshot *snap, const rc_trace_filter *filters, size_t n)
{
    if (!snap)
        return rc_set_error(RC_EINVAL, "rc_snapshot_filter: the snapshot is NULL");
    if (n > 0 && !filters)
        return rc_set_error(RC_EINVAL, "rc_snapshot_filter: %zu filters at NULL", n);
    for (size_t i = 0; i < n; i++)
        if (!filters[i].filename_pattern)
            return rc_set_error(RC_EINVAL, "rc_snapshot_filter: filter %zu has no pattern", i);
    return 0;
}

static rc_snapshot *filter_sealed(rc_snapshot *snap, const rc_trace_filter *filters, size_t n)
{
    copier c = {snap, rc_snapshot_new(snap->traceback_limit),
                rc_snap_alloc(snap->nframes * sizeof(uint32_t)),
                rc_snap_alloc(snap->ntracebacks * sizeof(uint32_t)),
                rc_snap_alloc(rc_snapshot_longest_traceback(snap) * sizeof(uint32_t))};
    bool *passes = rc_snap_alloc(snap->ntracebacks * sizeof *passes);
    int status = c.to && c.frame_map && c.tb_map && c.run && passes ? 0 : RC_ENOMEM;
    if (status == 0) {
        for (size_t i = 0; i < snap->nframes; i++)
            c.frame_map[i] = RC_SNAP_NONE;
        for (size_t i = 0; i < snap->ntracebacks; i++) {
            c.tb_map[i] = RC_SNAP_NONE;
            passes[i] = traceback_passes(filters, n, &snap->traceback_views[i]);
        }
        status = copy_traces(&c, passes);
    }
    rc_snap_free(c.frame_map);
    rc_snap_free(c.tb_map);
    rc_snap_free(c.run);
    rc_snap_free(passes);
    if (status == 0)
        return c.to;
    rc_snapshot_free(c.to);
    return NULL;
}

rc_snapshot *rc_snapshot_filter(rc_snapshot *snap, const rc_trace_filter *filters, size_t n)
{
    if (check_filters(snap, filters, n) != 0 || rc_snapshot_seal(snap) != 0)
        return NULL;
    return filter_sealed(snap, filters, n);
}
