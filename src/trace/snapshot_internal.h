/* snapshot_internal.h: the snapshot's data model, its builder, and the
 * helpers the snapshot files share (statistics, compare, filter, format,
 * the dump format, symbolization).
 *
 * A snapshot owns five tables, each appended to by the builder and each
 * interned (adding what is already there returns the existing index):
 *
 *   strings     NUL-terminated bytes in one buffer; string i starts at
 *               string_offsets[i]. Distinct contents.
 *   frames      (filename, function, lineno), strings by index. Distinct.
 *   addresses   return addresses (only while unresolved). Distinct.
 *   tracebacks  a run of `count` >= 1 items starting at `first` in items[];
 *               an item is a frame index, or an address index while the
 *               snapshot is unresolved. Distinct runs.
 *   traces      (size, traceback index), one per traced block, in no order.
 *
 * Invariants: every index stored is below its table's count; counts stay
 * below UINT32_MAX. `unresolved` is true only for a snapshot taken from the
 * tracer and not yet symbolized; then frames and strings are empty.
 *
 * Sealing (rc_snapshot_seal, on the first examination) symbolizes an
 * unresolved snapshot (addresses become frames; tracebacks that turn out to
 * be equal merge) and builds the views users read: one rc_frame per frame
 * and one rc_traceback per traceback, whose frames are a copy of its run.
 * After sealing the builder must not be used again.
 */
#ifndef RC_TRACE_SNAPSHOT_INTERNAL_H
#define RC_TRACE_SNAPSHOT_INTERNAL_H

#include "../internal.h"

#define RC_SNAP_NONE UINT32_MAX /* "no index" */

/* ---- memory: the system allocator, under the calling thread's heap's
 * failure injection (rc_heap_inject_faults, RC_FAULT_MALLOC). ----------- */
RC_INTERNAL void *rc_snap_alloc(size_t size);
RC_INTERNAL void *rc_snap_calloc(size_t count, size_t size);
RC_INTERNAL void rc_snap_free(void *p);
/* Makes *array hold at least `need` elements of `elem` bytes, growing its
 * capacity *cap geometrically. 0, or RC_ENOMEM with a message. */
RC_INTERNAL int rc_snap_reserve(void *array, size_t *cap, size_t need, size_t elem);

/* ---- hashing and an index table --------------------------------------- */
RC_INTERNAL uint32_t rc_snap_hash_bytes(const void *data, size_t len, uint32_t seed);
RC_INTERNAL uint32_t rc_snap_hash_word(uint64_t word, uint32_t seed);

/* An open-addressing set of indices into some table, found by hash and a
 * caller's match function. A slot holds (hash << 32) | (index + 1); 0 is
 * empty. At most half the slots are used. */
typedef struct rc_snap_table {
    uint64_t *slots;
    size_t capacity; /* a power of two, or 0 */
    size_t used;
} rc_snap_table;
typedef bool (*rc_snap_match_fn)(const void *ctx, uint32_t index, const void *key);
/* The index stored under hash whose entry matches key, or RC_SNAP_NONE. */
RC_INTERNAL uint32_t rc_snap_table_find(const rc_snap_table *t, uint32_t hash,
                                        rc_snap_match_fn match, const void *ctx, const void *key);
/* Adds index (not present yet) under hash. 0, or RC_ENOMEM. */
RC_INTERNAL int rc_snap_table_insert(rc_snap_table *t, uint32_t hash, uint32_t index);
RC_INTERNAL void rc_snap_table_free(rc_snap_table *t);

/* ---- the snapshot ------------------------------------------------------- */

typedef struct rc_snap_frame {
    uint32_t filename; /* string index */
    uint32_t function; /* string index */
    uint32_t lineno;
} rc_snap_frame;

typedef struct rc_snap_traceback {
    uint32_t first; /* index of its first item */
    uint32_t count; /* items, >= 1 */
} rc_snap_traceback;

typedef struct rc_snap_trace {
    size_t size;
    uint32_t traceback;
} rc_snap_trace;

struct rc_snapshot {
    size_t traceback_limit;
    char *string_bytes;
    size_t string_bytes_len, string_bytes_cap;
    uint32_t *string_offsets;
    size_t nstrings, strings_cap;
    rc_snap_table string_index;
    rc_snap_frame *frames;
    size_t nframes, frames_cap;
    rc_snap_table frame_index;
    uintptr_t *addresses;
    size_t naddresses, addresses_cap;
    rc_snap_table address_index;
    uint32_t *items;
    size_t nitems, items_cap;
    rc_snap_traceback *tracebacks;
    size_t ntracebacks, tracebacks_cap;
    rc_snap_table traceback_index;
    rc_snap_trace *traces;
    size_t ntraces, traces_cap;
    bool unresolved;
    bool sealed;
    rc_frame *frame_views;         /* nframes, after sealing */
    rc_frame *item_views;          /* nitems, after sealing */
    rc_traceback *traceback_views; /* ntracebacks, after sealing */
};

/* The builder. Each returns the (possibly existing) index, or RC_SNAP_NONE
 * with a message if memory is short or the table is full. */
RC_INTERNAL rc_snapshot *rc_snapshot_new(size_t traceback_limit);
RC_INTERNAL uint32_t rc_snapshot_add_string(rc_snapshot *snap, const char *s, size_t len);
RC_INTERNAL uint32_t rc_snapshot_add_frame(rc_snapshot *snap, const char *filename, uint32_t lineno,
                                           const char *function);
RC_INTERNAL uint32_t rc_snapshot_add_frame_ids(rc_snapshot *snap, uint32_t filename,
                                               uint32_t lineno, uint32_t function);
/* An address for an unresolved snapshot (marks it unresolved). */
RC_INTERNAL uint32_t rc_snapshot_add_address(rc_snapshot *snap, uintptr_t address);
/* items: n >= 1 frame indices (address indices if unresolved), not pointing
 * into the snapshot's own items. */
RC_INTERNAL uint32_t rc_snapshot_add_traceback(rc_snapshot *snap, const uint32_t *items, size_t n);
/* 0, or RC_ENOMEM / RC_EINVAL with a message. */
RC_INTERNAL int rc_snapshot_add_trace(rc_snapshot *snap, size_t size, uint32_t traceback);
/* The most items a traceback of snap has (0 if it has none): the room a
 * copy of one traceback's run needs. */
RC_INTERNAL uint32_t rc_snapshot_longest_traceback(const rc_snapshot *snap);

static inline const char *rc_snapshot_string(const rc_snapshot *snap, uint32_t index)
{
    return snap->string_bytes + snap->string_offsets[index];
}

/* Symbolizes (if unresolved) and builds the views; idempotent. 0, or
 * RC_ENOMEM with a message (the snapshot is then unchanged or still
 * consistent and unsealed). */
RC_INTERNAL int rc_snapshot_seal(rc_snapshot *snap);

/* Replaces an unresolved snapshot's addresses by frames (snapshot_seal.c). */
RC_INTERNAL int rc_snapshot_symbolize(rc_snapshot *snap);

/* ---- statistics (stats.c), shared with compare.c ---------------------------- */

/* The traces of a sealed snapshot grouped by key, in no order. An entry's
 * key is nframes frames of the snapshot's views; for FILENAME keys
 * (filename_only) only frames[0].filename counts. */
typedef struct rc_stat_entry {
    const rc_frame *frames;
    size_t nframes;
    size_t size;
    size_t count;
} rc_stat_entry;
typedef struct rc_stat_group {
    rc_stat_entry *entries;
    size_t n;
    bool filename_only;
} rc_stat_group;

/* Seals snap and groups its traces. 0, or RC_EINVAL (bad key, cumulative
 * TRACEBACK) / RC_ENOMEM with a message; `what` names the caller in it. */
RC_INTERNAL int rc_stats_group(rc_snapshot *snap, rc_trace_key key, bool cumulative,
                               const char *what, rc_stat_group *out);
RC_INTERNAL void rc_stats_group_free(rc_stat_group *group);
/* Entry i's key as users see it; a FILENAME key's one frame is written to
 * *own (filename, function "", lineno 0), which must outlive the result. */
RC_INTERNAL rc_traceback rc_stats_key(const rc_stat_group *group, size_t i, rc_frame *own);

/* Frame order for sorting and identity of keys: filename, then lineno. */
RC_INTERNAL int rc_frame_compare(const rc_frame *a, const rc_frame *b);
/* Traceback order: frame by frame, a prefix first. */
RC_INTERNAL int rc_traceback_compare(const rc_traceback *a, const rc_traceback *b);
/* Descending order of figures for qsort: -1 if a is larger. */
static inline int rc_larger_first(uint64_t a, uint64_t b) { return a > b ? -1 : a < b; }

/* tracemalloc's _format_size: "126 B", "12.3 KiB", "+2048 B"; appends to
 * buf (snprintf rules at buf + *len, size - *len) and advances *len by the
 * full length. */
RC_INTERNAL void rc_format_size(double size, bool sign, char *buf, size_t size_of_buf, size_t *len);

#endif
