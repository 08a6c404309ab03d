/* compare.c: Snapshot.compare_to. Both snapshots are grouped by the same
 * key; keys are matched across them by content (the filename strings and
 * line numbers of their frames), since each snapshot numbers its strings on
 * its own. Every key of the new snapshot gives a diff; a key only the old
 * one has gives a diff with size and count 0 and negative differences.
 *
 * The result is one block: diffs, then the frames FILENAME keys need.
 */
#include "snapshot_internal.h"

#include <stdlib.h>
#include <string.h>

static uint32_t key_hash(const rc_stat_group *group, const rc_stat_entry *e)
{
    uint32_t hash = (uint32_t)e->nframes;
    for (size_t k = 0; k < e->nframes; k++) {
        const char *file = e->frames[k].filename;
        hash = rc_snap_hash_bytes(file, strlen(file), hash);
        if (!group->filename_only)
            hash = rc_snap_hash_word(e->frames[k].lineno, hash);
    }
    return hash;
}

static bool key_matches(const void *ctx, uint32_t index, const void *key)
{
    const rc_stat_group *group = ctx;
    const rc_stat_entry *a = &group->entries[index], *b = key;
    if (a->nframes != b->nframes)
        return false;
    for (size_t k = 0; k < a->nframes; k++) {
        if (strcmp(a->frames[k].filename, b->frames[k].filename) != 0 ||
            (!group->filename_only && a->frames[k].lineno != b->frames[k].lineno))
            return false;
    }
    return true;
}

/* |v|, exact for INT64_MIN too. */
static uint64_t magnitude(int64_t v) { return v < 0 ? 0 - (uint64_t)v : (uint64_t)v; }

static int diff_order(const void *pa, const void *pb)
{
    const rc_statistic_diff *a = pa, *b = pb;
    int c = rc_larger_first(magnitude(a->size_diff), magnitude(b->size_diff));
    if (c == 0)
        c = rc_larger_first(a->size, b->size);
    if (c == 0)
        c = rc_larger_first(magnitude(a->count_diff), magnitude(b->count_diff));
    if (c == 0)
        c = rc_larger_first(a->count, b->count);
    return c != 0 ? c : rc_traceback_compare(&a->traceback, &b->traceback);
}

/* new - old as a signed figure; computed unsigned, so that the sizes of a
 * hostile file (up to 2^64 - 1) wrap instead of overflowing. */
static int64_t difference(size_t new_value, size_t old_value)
{
    return (int64_t)((uint64_t)new_value - (uint64_t)old_value);
}

/* Fills diffs (room for both groups' entries) and returns how many. */
static size_t make_diffs(const rc_stat_group *new_group, const rc_stat_group *old_group,
                         rc_snap_table *index, rc_statistic_diff *diffs, rc_frame *own)
{
    size_t n = 0;
    for (size_t i = 0; i < new_group->n; i++, n++) {
        const rc_stat_entry *e = &new_group->entries[i];
        diffs[n] = (rc_statistic_diff){rc_stats_key(new_group, i, own ? &own[n] : NULL), e->size,
                                       e->count, difference(e->size, 0), difference(e->count, 0)};
    }
    for (size_t i = 0; i < old_group->n; i++) {
        const rc_stat_entry *e = &old_group->entries[i];
        uint32_t j = rc_snap_table_find(index, key_hash(old_group, e), key_matches, new_group, e);
        if (j != RC_SNAP_NONE) {
            diffs[j].size_diff = difference(diffs[j].size, e->size);
            diffs[j].count_diff = difference(diffs[j].count, e->count);
            continue;
        }
        diffs[n] = (rc_statistic_diff){rc_stats_key(old_group, i, own ? &own[n] : NULL), 0, 0,
                                       difference(0, e->size), difference(0, e->count)};
        n++;
    }
    return n;
}

static rc_statistic_diff *compare_groups(const rc_stat_group *new_group,
                                         const rc_stat_group *old_group, size_t *count)
{
    rc_snap_table index = {0};
    for (uint32_t i = 0; i < new_group->n; i++)
        if (rc_snap_table_insert(&index, key_hash(new_group, &new_group->entries[i]), i) != 0) {
            rc_snap_table_free(&index);
            return NULL;
        }
    size_t room = new_group->n + old_group->n;
    size_t own = new_group->filename_only ? room : 0;
    rc_statistic_diff *diffs =
        rc_snap_alloc(room * sizeof(rc_statistic_diff) + own * sizeof(rc_frame));
    if (diffs) {
        size_t n = make_diffs(new_group, old_group, &index, diffs,
                              own ? (rc_frame *)(diffs + room) : NULL);
        qsort(diffs, n, sizeof *diffs, diff_order);
        *count = n;
    }
    rc_snap_table_free(&index);
    return diffs;
}

rc_statistic_diff *rc_snapshot_compare(rc_snapshot *snap, rc_snapshot *old, rc_trace_key key,
                                       bool cumulative, size_t *count)
{
    static const char what[] = "rc_snapshot_compare";
    if (!count) {
        rc_set_error(RC_EINVAL, "%s: count is NULL", what);
        return NULL;
    }
    rc_stat_group new_group, old_group;
    if (rc_stats_group(snap, key, cumulative, what, &new_group) != 0)
        return NULL;
    rc_statistic_diff *diffs = NULL;
    if (rc_stats_group(old, key, cumulative, what, &old_group) == 0) {
        diffs = compare_groups(&new_group, &old_group, count);
        rc_stats_group_free(&old_group);
    }
    rc_stats_group_free(&new_group);
    return diffs;
}
