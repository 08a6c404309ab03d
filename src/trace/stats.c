/* stats.c: Snapshot.statistics. Traces are grouped by key in four passes,
 * each over a table no larger than the snapshot's:
 *
 *   1. per traceback: the size and count of its traces;
 *   2. per frame: its key, (filename, lineno), or filename alone for
 *      FILENAME; frames that differ only in function share a key, and the
 *      key's representative is its lowest-numbered frame;
 *   3. for TRACEBACK: per traceback, the key of its sequence of frame keys;
 *   4. per key: the sums. Non-cumulative, a traceback counts under the key
 *      of its most recent frame (or its own); cumulative, under each
 *      distinct key among its frames, once.
 *
 * Results are one block: the statistics, then the frames FILENAME keys
 * need. Other keys point into the snapshot's views.
 */
#include "snapshot_internal.h"

#include <stdlib.h>
#include <string.h>

typedef struct grouper {
    rc_snapshot *snap;
    rc_trace_key key;
    size_t *tb_size, *tb_count; /* per traceback */
    uint32_t *key_of_frame;     /* per frame */
    uint32_t *rep_frame;        /* per frame key */
    size_t nframe_keys;
    uint32_t *key_of_tb, *rep_tb; /* TRACEBACK: per traceback, per key */
    size_t ntb_keys;
    size_t *key_size, *key_count; /* per key */
    rc_snap_table table;
} grouper;

static void grouper_free(grouper *g)
{
    rc_snap_free(g->tb_size);
    rc_snap_free(g->tb_count);
    rc_snap_free(g->key_of_frame);
    rc_snap_free(g->rep_frame);
    rc_snap_free(g->key_of_tb);
    rc_snap_free(g->rep_tb);
    rc_snap_free(g->key_size);
    rc_snap_free(g->key_count);
    rc_snap_table_free(&g->table);
}

static int sum_tracebacks(grouper *g)
{
    const rc_snapshot *snap = g->snap;
    g->tb_size = rc_snap_calloc(snap->ntracebacks, sizeof *g->tb_size);
    g->tb_count = rc_snap_calloc(snap->ntracebacks, sizeof *g->tb_count);
    if (!g->tb_size || !g->tb_count)
        return RC_ENOMEM;
    for (size_t i = 0; i < snap->ntraces; i++) {
        g->tb_size[snap->traces[i].traceback] += snap->traces[i].size;
        g->tb_count[snap->traces[i].traceback]++;
    }
    return 0;
}

/* The key of item i (a frame or a traceback) under hash: the key whose
 * representative (rep[]) match finds equal to i, else a new key, i its
 * representative. RC_SNAP_NONE if memory is short. */
static uint32_t key_of_item(grouper *g, uint32_t hash, rc_snap_match_fn match, uint32_t i,
                            uint32_t *rep, size_t *nkeys)
{
    uint32_t key = rc_snap_table_find(&g->table, hash, match, g, &i);
    if (key != RC_SNAP_NONE)
        return key;
    key = (uint32_t)*nkeys;
    if (rc_snap_table_insert(&g->table, hash, key) != 0)
        return RC_SNAP_NONE;
    rep[(*nkeys)++] = i;
    return key;
}

static bool frame_key_matches(const void *ctx, uint32_t key, const void *frame_index)
{
    const grouper *g = ctx;
    const rc_snap_frame *a = &g->snap->frames[g->rep_frame[key]];
    const rc_snap_frame *b = &g->snap->frames[*(const uint32_t *)frame_index];
    return a->filename == b->filename &&
           (g->key == RC_TRACE_KEY_FILENAME || a->lineno == b->lineno);
}

static int key_frames(grouper *g)
{
    const rc_snapshot *snap = g->snap;
    g->key_of_frame = rc_snap_alloc(snap->nframes * sizeof *g->key_of_frame);
    g->rep_frame = rc_snap_alloc(snap->nframes * sizeof *g->rep_frame);
    if (!g->key_of_frame || !g->rep_frame)
        return RC_ENOMEM;
    for (uint32_t i = 0; i < snap->nframes; i++) {
        const rc_snap_frame *f = &snap->frames[i];
        uint32_t line = g->key == RC_TRACE_KEY_FILENAME ? 0 : f->lineno;
        uint32_t hash = rc_snap_hash_word((uint64_t)f->filename << 32 | line, 0);
        g->key_of_frame[i] =
            key_of_item(g, hash, frame_key_matches, i, g->rep_frame, &g->nframe_keys);
        if (g->key_of_frame[i] == RC_SNAP_NONE)
            return RC_ENOMEM;
    }
    rc_snap_table_free(&g->table);
    return 0;
}

static bool tb_key_matches(const void *ctx, uint32_t key, const void *tb_index)
{
    const grouper *g = ctx;
    const rc_snapshot *snap = g->snap;
    const rc_snap_traceback *a = &snap->tracebacks[g->rep_tb[key]];
    const rc_snap_traceback *b = &snap->tracebacks[*(const uint32_t *)tb_index];
    if (a->count != b->count)
        return false;
    for (uint32_t k = 0; k < a->count; k++)
        if (g->key_of_frame[snap->items[a->first + k]] !=
            g->key_of_frame[snap->items[b->first + k]])
            return false;
    return true;
}

static int key_tracebacks(grouper *g)
{
    const rc_snapshot *snap = g->snap;
    g->key_of_tb = rc_snap_alloc(snap->ntracebacks * sizeof *g->key_of_tb);
    g->rep_tb = rc_snap_alloc(snap->ntracebacks * sizeof *g->rep_tb);
    if (!g->key_of_tb || !g->rep_tb)
        return RC_ENOMEM;
    for (uint32_t i = 0; i < snap->ntracebacks; i++) {
        const rc_snap_traceback *tb = &snap->tracebacks[i];
        uint32_t hash = tb->count;
        for (uint32_t k = 0; k < tb->count; k++)
            hash = rc_snap_hash_word(g->key_of_frame[snap->items[tb->first + k]], hash);
        g->key_of_tb[i] = key_of_item(g, hash, tb_key_matches, i, g->rep_tb, &g->ntb_keys);
        if (g->key_of_tb[i] == RC_SNAP_NONE)
            return RC_ENOMEM;
    }
    return 0;
}

/* Adds traceback i's sums under every distinct key of its frames. */
static void add_cumulative(grouper *g, uint32_t i, uint32_t *stamp)
{
    const rc_snap_traceback *tb = &g->snap->tracebacks[i];
    for (uint32_t k = 0; k < tb->count; k++) {
        uint32_t key = g->key_of_frame[g->snap->items[tb->first + k]];
        if (stamp[key] == i + 1)
            continue;
        stamp[key] = i + 1;
        g->key_size[key] += g->tb_size[i];
        g->key_count[key] += g->tb_count[i];
    }
}

static int sum_keys(grouper *g, bool cumulative)
{
    const rc_snapshot *snap = g->snap;
    size_t nkeys = g->key == RC_TRACE_KEY_TRACEBACK ? g->ntb_keys : g->nframe_keys;
    g->key_size = rc_snap_calloc(nkeys, sizeof *g->key_size);
    g->key_count = rc_snap_calloc(nkeys, sizeof *g->key_count);
    uint32_t *stamp = cumulative ? rc_snap_calloc(nkeys, sizeof *stamp) : NULL;
    if (!g->key_size || !g->key_count || (cumulative && !stamp)) {
        rc_snap_free(stamp);
        return RC_ENOMEM;
    }
    for (uint32_t i = 0; i < snap->ntracebacks; i++) {
        if (cumulative) {
            add_cumulative(g, i, stamp);
            continue;
        }
        uint32_t key = g->key == RC_TRACE_KEY_TRACEBACK
                           ? g->key_of_tb[i]
                           : g->key_of_frame[snap->items[snap->tracebacks[i].first]];
        g->key_size[key] += g->tb_size[i];
        g->key_count[key] += g->tb_count[i];
    }
    rc_snap_free(stamp);
    return 0;
}

static int make_entries(grouper *g, rc_stat_group *out)
{
    const rc_snapshot *snap = g->snap;
    bool by_tb = g->key == RC_TRACE_KEY_TRACEBACK;
    size_t nkeys = by_tb ? g->ntb_keys : g->nframe_keys;
    out->entries = rc_snap_alloc(nkeys * sizeof *out->entries);
    if (!out->entries)
        return RC_ENOMEM;
    out->n = 0;
    out->filename_only = g->key == RC_TRACE_KEY_FILENAME;
    for (size_t k = 0; k < nkeys; k++) {
        if (g->key_count[k] == 0)
            continue;
        rc_stat_entry *e = &out->entries[out->n++];
        if (by_tb) {
            const rc_traceback *tb = &snap->traceback_views[g->rep_tb[k]];
            *e = (rc_stat_entry){tb->frames, tb->nframes, g->key_size[k], g->key_count[k]};
        } else {
            *e = (rc_stat_entry){&snap->frame_views[g->rep_frame[k]], 1, g->key_size[k],
                                 g->key_count[k]};
        }
    }
    return 0;
}

static int check_key(rc_trace_key key, bool cumulative, const char *what)
{
    if (key == RC_TRACE_KEY_TRACEBACK && cumulative)
        return rc_set_error(RC_EINVAL,
                            "%s: cumulative mode cannot be used with RC_TRACE_KEY_TRACEBACK", what);
    if (key != RC_TRACE_KEY_FILENAME && key != RC_TRACE_KEY_LINENO && key != RC_TRACE_KEY_TRACEBACK)
        return rc_set_error(RC_EINVAL, "%s: unknown key %d", what, (int)key);
    return 0;
}

int rc_stats_group(rc_snapshot *snap, rc_trace_key key, bool cumulative, const char *what,
                   rc_stat_group *out)
{
    memset(out, 0, sizeof *out);
    if (!snap)
        return rc_set_error(RC_EINVAL, "%s: the snapshot is NULL", what);
    int status = check_key(key, cumulative, what);
    if (status != 0)
        return status;
    if (rc_snapshot_seal(snap) != 0)
        return RC_ENOMEM;
    grouper g = {.snap = snap, .key = key};
    status = sum_tracebacks(&g);
    if (status == 0)
        status = key_frames(&g);
    if (status == 0 && key == RC_TRACE_KEY_TRACEBACK)
        status = key_tracebacks(&g);
    if (status == 0)
        status = sum_keys(&g, cumulative);
    if (status == 0)
        status = make_entries(&g, out);
    grouper_free(&g);
    return status;
}

void rc_stats_group_free(rc_stat_group *group)
{
    rc_snap_free(group->entries);
    memset(group, 0, sizeof *group);
}

rc_traceback rc_stats_key(const rc_stat_group *group, size_t i, rc_frame *own)
{
    const rc_stat_entry *e = &group->entries[i];
    if (!group->filename_only)
        return (rc_traceback){e->frames, e->nframes};
    *own = (rc_frame){e->frames[0].filename, "", 0};
    return (rc_traceback){own, 1};
}

/* ---- order ------------------------------------------------------------- */

int rc_frame_compare(const rc_frame *a, const rc_frame *b)
{
    int c = strcmp(a->filename, b->filename);
    if (c != 0)
        return c;
    return a->lineno < b->lineno ? -1 : a->lineno > b->lineno;
}

int rc_traceback_compare(const rc_traceback *a, const rc_traceback *b)
{
    size_t n = a->nframes < b->nframes ? a->nframes : b->nframes;
    for (size_t i = 0; i < n; i++) {
        int c = rc_frame_compare(&a->frames[i], &b->frames[i]);
        if (c != 0)
            return c;
    }
    return a->nframes < b->nframes ? -1 : a->nframes > b->nframes;
}

static int statistic_order(const void *pa, const void *pb)
{
    const rc_statistic *a = pa, *b = pb;
    int c = rc_larger_first(a->size, b->size);
    if (c == 0)
        c = rc_larger_first(a->count, b->count);
    return c != 0 ? c : rc_traceback_compare(&a->traceback, &b->traceback);
}

rc_statistic *rc_snapshot_statistics(rc_snapshot *snap, rc_trace_key key, bool cumulative,
                                     size_t *count)
{
    rc_stat_group group;
    if (!count) {
        rc_set_error(RC_EINVAL, "rc_snapshot_statistics: count is NULL");
        return NULL;
    }
    if (rc_stats_group(snap, key, cumulative, "rc_snapshot_statistics", &group) != 0)
        return NULL;
    size_t own = group.filename_only ? group.n : 0;
    rc_statistic *stats = rc_snap_alloc(group.n * sizeof *stats + own * sizeof(rc_frame));
    if (stats) {
        rc_frame *frames = (rc_frame *)(stats + group.n);
        for (size_t i = 0; i < group.n; i++)
            stats[i] = (rc_statistic){rc_stats_key(&group, i, own ? &frames[i] : NULL),
                                      group.entries[i].size, group.entries[i].count};
        qsort(stats, group.n, sizeof *stats, statistic_order);
        *count = group.n;
    }
    rc_stats_group_free(&group);
    return stats;
}

void rc_statistics_free(void *stats) { rc_snap_free(stats); }
