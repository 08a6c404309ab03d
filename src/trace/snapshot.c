/* snapshot.c: a snapshot's tables and their builder, freeing, and the
 * accessors users call (see snapshot_internal.h for the invariants).
 *
 * Every builder call interns: a string, frame, address or traceback already
 * in its table is not added again, its index is returned. A failed call
 * leaves the tables as they were (space may have grown, nothing is added).
 */
#include "snapshot_internal.h"

#include <string.h>

rc_snapshot *rc_snapshot_new(size_t traceback_limit)
{
    rc_snapshot *snap = rc_snap_calloc(1, sizeof *snap);
    if (snap)
        snap->traceback_limit = traceback_limit;
    return snap;
}

void rc_snapshot_free(rc_snapshot *snap)
{
    if (!snap)
        return;
    rc_snap_table_free(&snap->string_index);
    rc_snap_table_free(&snap->frame_index);
    rc_snap_table_free(&snap->address_index);
    rc_snap_table_free(&snap->traceback_index);
    rc_snap_free(snap->string_bytes);
    rc_snap_free(snap->string_offsets);
    rc_snap_free(snap->frames);
    rc_snap_free(snap->addresses);
    rc_snap_free(snap->items);
    rc_snap_free(snap->tracebacks);
    rc_snap_free(snap->traces);
    rc_snap_free(snap->frame_views);
    rc_snap_free(snap->item_views);
    rc_snap_free(snap->traceback_views);
    rc_snap_free(snap);
}

static uint32_t table_full(const char *what)
{
    rc_set_error(RC_ENOMEM, "snapshot: too many %s (the limit is %u)", what, UINT32_MAX - 1);
    return RC_SNAP_NONE;
}

/* ---- strings ----------------------------------------------------------- */

typedef struct string_key {
    const char *s;
    size_t len;
} string_key;

static size_t string_length(const rc_snapshot *snap, uint32_t index)
{
    size_t end =
        index + 1 < snap->nstrings ? snap->string_offsets[index + 1] : snap->string_bytes_len;
    return end - snap->string_offsets[index] - 1;
}

static bool string_matches(const void *ctx, uint32_t index, const void *key)
{
    const rc_snapshot *snap = ctx;
    const string_key *k = key;
    return string_length(snap, index) == k->len &&
           memcmp(rc_snapshot_string(snap, index), k->s, k->len) == 0;
}

uint32_t rc_snapshot_add_string(rc_snapshot *snap, const char *s, size_t len)
{
    RC_ASSERT(!snap->sealed && memchr(s, '\0', len) == NULL);
    string_key key = {s, len};
    uint32_t hash = rc_snap_hash_bytes(s, len, 0);
    uint32_t found = rc_snap_table_find(&snap->string_index, hash, string_matches, snap, &key);
    if (found != RC_SNAP_NONE)
        return found;
    if (snap->nstrings >= UINT32_MAX - 1 || len >= UINT32_MAX - snap->string_bytes_len - 1)
        return table_full("strings");
    if (rc_snap_reserve(&snap->string_bytes, &snap->string_bytes_cap,
                        snap->string_bytes_len + len + 1, 1) != 0 ||
        rc_snap_reserve(&snap->string_offsets, &snap->strings_cap, snap->nstrings + 1,
                        sizeof(uint32_t)) != 0)
        return RC_SNAP_NONE;
    uint32_t index = (uint32_t)snap->nstrings;
    if (rc_snap_table_insert(&snap->string_index, hash, index) != 0)
        return RC_SNAP_NONE;
    memcpy(snap->string_bytes + snap->string_bytes_len, s, len);
    snap->string_bytes[snap->string_bytes_len + len] = '\0';
    snap->string_offsets[index] = (uint32_t)snap->string_bytes_len;
    snap->string_bytes_len += len + 1;
    snap->nstrings++;
    return index;
}

/* ---- frames and addresses ----------------------------------------------- */

static bool frame_matches(const void *ctx, uint32_t index, const void *key)
{
    const rc_snap_frame *a = &((const rc_snapshot *)ctx)->frames[index], *b = key;
    return a->filename == b->filename && a->function == b->function && a->lineno == b->lineno;
}

uint32_t rc_snapshot_add_frame_ids(rc_snapshot *snap, uint32_t filename, uint32_t lineno,
                                   uint32_t function)
{
    RC_ASSERT(!snap->sealed && filename < snap->nstrings && function < snap->nstrings);
    rc_snap_frame frame = {filename, function, lineno};
    uint32_t hash = rc_snap_hash_word((uint64_t)filename << 32 | lineno, function);
    uint32_t found = rc_snap_table_find(&snap->frame_index, hash, frame_matches, snap, &frame);
    if (found != RC_SNAP_NONE)
        return found;
    if (snap->nframes >= UINT32_MAX - 1)
        return table_full("frames");
    if (rc_snap_reserve(&snap->frames, &snap->frames_cap, snap->nframes + 1, sizeof frame) != 0)
        return RC_SNAP_NONE;
    uint32_t index = (uint32_t)snap->nframes;
    if (rc_snap_table_insert(&snap->frame_index, hash, index) != 0)
        return RC_SNAP_NONE;
    snap->frames[snap->nframes++] = frame;
    return index;
}

uint32_t rc_snapshot_add_frame(rc_snapshot *snap, const char *filename, uint32_t lineno,
                               const char *function)
{
    uint32_t file = rc_snapshot_add_string(snap, filename, strlen(filename));
    if (file == RC_SNAP_NONE)
        return RC_SNAP_NONE;
    uint32_t func = rc_snapshot_add_string(snap, function, strlen(function));
    if (func == RC_SNAP_NONE)
        return RC_SNAP_NONE;
    return rc_snapshot_add_frame_ids(snap, file, lineno, func);
}

static bool address_matches(const void *ctx, uint32_t index, const void *key)
{
    return ((const rc_snapshot *)ctx)->addresses[index] == *(const uintptr_t *)key;
}

uint32_t rc_snapshot_add_address(rc_snapshot *snap, uintptr_t address)
{
    RC_ASSERT(!snap->sealed && snap->nframes == 0);
    uint32_t hash = rc_snap_hash_word(address, 0);
    uint32_t found =
        rc_snap_table_find(&snap->address_index, hash, address_matches, snap, &address);
    if (found != RC_SNAP_NONE)
        return found;
    if (snap->naddresses >= UINT32_MAX - 1)
        return table_full("addresses");
    if (rc_snap_reserve(&snap->addresses, &snap->addresses_cap, snap->naddresses + 1,
                        sizeof address) != 0)
        return RC_SNAP_NONE;
    uint32_t index = (uint32_t)snap->naddresses;
    if (rc_snap_table_insert(&snap->address_index, hash, index) != 0)
        return RC_SNAP_NONE;
    snap->addresses[snap->naddresses++] = address;
    snap->unresolved = true;
    return index;
}

/* ---- tracebacks and traces ------------------------------------------------ */

typedef struct items_key {
    const uint32_t *items;
    size_t n;
} items_key;

static bool traceback_matches(const void *ctx, uint32_t index, const void *key)
{
    const rc_snapshot *snap = ctx;
    const items_key *k = key;
    const rc_snap_traceback *tb = &snap->tracebacks[index];
    return tb->count == k->n &&
           memcmp(snap->items + tb->first, k->items, k->n * sizeof *k->items) == 0;
}

uint32_t rc_snapshot_add_traceback(rc_snapshot *snap, const uint32_t *items, size_t n)
{
    RC_ASSERT(!snap->sealed && n >= 1);
    items_key key = {items, n};
    uint32_t hash = rc_snap_hash_bytes(items, n * sizeof *items, (uint32_t)n);
    uint32_t found =
        rc_snap_table_find(&snap->traceback_index, hash, traceback_matches, snap, &key);
    if (found != RC_SNAP_NONE)
        return found;
    if (snap->ntracebacks >= UINT32_MAX - 1 || n >= UINT32_MAX - snap->nitems)
        return table_full("tracebacks");
    if (rc_snap_reserve(&snap->items, &snap->items_cap, snap->nitems + n, sizeof *items) != 0 ||
        rc_snap_reserve(&snap->tracebacks, &snap->tracebacks_cap, snap->ntracebacks + 1,
                        sizeof(rc_snap_traceback)) != 0)
        return RC_SNAP_NONE;
    uint32_t index = (uint32_t)snap->ntracebacks;
    if (rc_snap_table_insert(&snap->traceback_index, hash, index) != 0)
        return RC_SNAP_NONE;
    memcpy(snap->items + snap->nitems, items, n * sizeof *items);
    snap->tracebacks[index] = (rc_snap_traceback){(uint32_t)snap->nitems, (uint32_t)n};
    snap->nitems += n;
    snap->ntracebacks++;
    return index;
}

int rc_snapshot_add_trace(rc_snapshot *snap, size_t size, uint32_t traceback)
{
    RC_ASSERT(!snap->sealed);
    if (traceback >= snap->ntracebacks)
        return rc_set_error(RC_EINVAL, "snapshot: trace names traceback %u of %zu", traceback,
                            snap->ntracebacks);
    if (rc_snap_reserve(&snap->traces, &snap->traces_cap, snap->ntraces + 1,
                        sizeof(rc_snap_trace)) != 0)
        return RC_ENOMEM;
    snap->traces[snap->ntraces++] = (rc_snap_trace){size, traceback};
    return 0;
}

uint32_t rc_snapshot_longest_traceback(const rc_snapshot *snap)
{
    uint32_t longest = 0;
    for (size_t i = 0; i < snap->ntracebacks; i++)
        if (snap->tracebacks[i].count > longest)
            longest = snap->tracebacks[i].count;
    return longest;
}

/* ---- what users read ---------------------------------------------------- */

size_t rc_snapshot_traceback_limit(const rc_snapshot *snap)
{
    return snap ? snap->traceback_limit : 0;
}

size_t rc_snapshot_trace_count(const rc_snapshot *snap) { return snap ? snap->ntraces : 0; }

const rc_traceback *rc_snapshot_trace(rc_snapshot *snap, size_t index, size_t *size)
{
    if (!snap) {
        rc_set_error(RC_EINVAL, "rc_snapshot_trace: the snapshot is NULL");
        return NULL;
    }
    if (index >= snap->ntraces) {
        rc_set_error(RC_EINVAL, "rc_snapshot_trace: index %zu is out of range (%zu traces)", index,
                     snap->ntraces);
        return NULL;
    }
    if (rc_snapshot_seal(snap) != 0)
        return NULL;
    if (size)
        *size = snap->traces[index].size;
    return &snap->traceback_views[snap->traces[index].traceback];
}
