/* snapshot_seal.c: the first examination of a snapshot. An unresolved
 * snapshot's addresses become frames (each distinct address looked up once),
 * its tracebacks are rebuilt over frames (two that now read the same merge,
 * and the traces follow them), then the views users read are built.
 *
 * Failure leaves the snapshot as it was: unresolved, unsealed, usable again.
 */
#include "symbolize.h"

#include <string.h>

/* Address i's frame in map[i]. */
static int resolve_addresses(rc_snapshot *snap, uint32_t *map)
{
    rc_symbolizer *sym = rc_symbolizer_new();
    if (!sym)
        return RC_ENOMEM;
    int status = 0;
    for (size_t i = 0; i < snap->naddresses && status == 0; i++) {
        rc_symbol found;
        rc_symbolizer_lookup(sym, snap->addresses[i], &found);
        map[i] = rc_snapshot_add_frame(snap, found.filename, found.lineno, found.function);
        if (map[i] == RC_SNAP_NONE)
            status = RC_ENOMEM;
    }
    rc_symbolizer_free(sym);
    return status;
}

/* The tables a rebuild replaces, set aside until it succeeds. */
typedef struct traceback_tables {
    uint32_t *items;
    size_t nitems, items_cap;
    rc_snap_traceback *tracebacks;
    size_t ntracebacks, tracebacks_cap;
    rc_snap_table traceback_index;
} traceback_tables;

static void swap_tables(rc_snapshot *snap, traceback_tables *t)
{
    traceback_tables current = {snap->items,          snap->nitems,      snap->items_cap,
                                snap->tracebacks,     snap->ntracebacks, snap->tracebacks_cap,
                                snap->traceback_index};
    snap->items = t->items;
    snap->nitems = t->nitems;
    snap->items_cap = t->items_cap;
    snap->tracebacks = t->tracebacks;
    snap->ntracebacks = t->ntracebacks;
    snap->tracebacks_cap = t->tracebacks_cap;
    snap->traceback_index = t->traceback_index;
    *t = current;
}

static void free_tables(traceback_tables *t)
{
    rc_snap_free(t->items);
    rc_snap_free(t->tracebacks);
    rc_snap_table_free(&t->traceback_index);
}

/* Rebuilds the tracebacks (old ones in `old`) over frames: renumber[i] is
 * old traceback i's new index; run has room for the longest one. */
static int rebuild_tracebacks(rc_snapshot *snap, const traceback_tables *old,
                              const uint32_t *frame_of, uint32_t *renumber, uint32_t *run)
{
    for (size_t i = 0; i < old->ntracebacks; i++) {
        const rc_snap_traceback *tb = &old->tracebacks[i];
        for (uint32_t k = 0; k < tb->count; k++)
            run[k] = frame_of[old->items[tb->first + k]];
        renumber[i] = rc_snapshot_add_traceback(snap, run, tb->count);
        if (renumber[i] == RC_SNAP_NONE)
            return RC_ENOMEM;
    }
    return 0;
}

/* Drops the frames and strings a failed symbolization added. */
static void forget_frames(rc_snapshot *snap)
{
    snap->nframes = snap->nstrings = snap->string_bytes_len = 0;
    rc_snap_table_free(&snap->frame_index);
    rc_snap_table_free(&snap->string_index);
}

int rc_snapshot_symbolize(rc_snapshot *snap)
{
    uint32_t *frame_of = rc_snap_alloc(snap->naddresses * sizeof *frame_of);
    uint32_t *renumber = rc_snap_alloc(snap->ntracebacks * sizeof *renumber);
    uint32_t *run = rc_snap_alloc(rc_snapshot_longest_traceback(snap) * sizeof *run);
    traceback_tables old = {0};
    int status = frame_of && renumber && run ? resolve_addresses(snap, frame_of) : RC_ENOMEM;
    if (status == 0) {
        swap_tables(snap, &old);
        status = rebuild_tracebacks(snap, &old, frame_of, renumber, run);
        if (status != 0)
            swap_tables(snap, &old); /* back to the address tracebacks */
    }
    if (status == 0) {
        for (size_t i = 0; i < snap->ntraces; i++)
            snap->traces[i].traceback = renumber[snap->traces[i].traceback];
        rc_snap_table_free(&snap->address_index);
        rc_snap_free(snap->addresses);
        snap->addresses = NULL;
        snap->naddresses = snap->addresses_cap = 0;
        snap->unresolved = false;
    } else {
        forget_frames(snap);
    }
    free_tables(&old);
    rc_snap_free(frame_of);
    rc_snap_free(renumber);
    rc_snap_free(run);
    return status;
}

static int build_views(rc_snapshot *snap)
{
    snap->frame_views = rc_snap_alloc(snap->nframes * sizeof *snap->frame_views);
    snap->item_views = rc_snap_alloc(snap->nitems * sizeof *snap->item_views);
    snap->traceback_views = rc_snap_alloc(snap->ntracebacks * sizeof *snap->traceback_views);
    if (!snap->frame_views || !snap->item_views || !snap->traceback_views) {
        rc_snap_free(snap->frame_views);
        rc_snap_free(snap->item_views);
        rc_snap_free(snap->traceback_views);
        snap->frame_views = snap->item_views = NULL;
        snap->traceback_views = NULL;
        return RC_ENOMEM;
    }
    for (size_t i = 0; i < snap->nframes; i++) {
        const rc_snap_frame *f = &snap->frames[i];
        snap->frame_views[i] = (rc_frame){rc_snapshot_string(snap, f->filename),
                                          rc_snapshot_string(snap, f->function), f->lineno};
    }
    for (size_t i = 0; i < snap->nitems; i++)
        snap->item_views[i] = snap->frame_views[snap->items[i]];
    for (size_t i = 0; i < snap->ntracebacks; i++) {
        const rc_snap_traceback *tb = &snap->tracebacks[i];
        snap->traceback_views[i] = (rc_traceback){snap->item_views + tb->first, tb->count};
    }
    return 0;
}

int rc_snapshot_seal(rc_snapshot *snap)
{
    if (snap->sealed)
        return 0;
    if (snap->unresolved && rc_snapshot_symbolize(snap) != 0)
        return RC_ENOMEM;
    if (build_views(snap) != 0)
        return RC_ENOMEM;
    snap->sealed = true;
    return 0;
}
