/* reclaim/trace.h: allocation tracing (layer 6), the tracemalloc API for C.
 *
 * While tracing is on, a heap records for every block it hands out (rc_malloc,
 * rc_calloc, rc_realloc, objects made by rc_new, and what reclaim allocates on
 * a caller's behalf, such as a list's item array) the size that was
 * requested and where the request came from: a traceback of return
 * addresses, most recent first. The first frame is always the caller's own
 * code, never reclaim's: an item array grown inside rc_list_append is
 * attributed to the line that called rc_list_append, and a block allocated
 * by a callback that reclaim called (a sort comparison, a finalizer) to the
 * callback's line. Freeing a block forgets its trace. Tracebacks are
 * interned: a million blocks allocated from one place cost one traceback.
 *
 * Frames are return addresses; turning them into file:line:function is done
 * when a snapshot is examined (below), never while allocating.
 *
 * RECLAIM_TRACE=N in the environment starts tracing with N frames on every
 * heap when it is made (like PYTHONTRACEMALLOC=N; 0 or empty: off; anything
 * else prints a message on stderr and leaves tracing off).
 * RECLAIM_TRACE_UNWIND selects how frames beyond the first are found:
 * "cfi" (the default: a walk by the unwind tables' rule for each frame, the
 * frames libunwind would give, for code built with or without frame
 * pointers, at the cost of a frame-pointer walk), "libunwind" (libunwind
 * itself, some four times slower a frame) or "fp" (frame pointers alone:
 * programs built without -fno-omit-frame-pointer get short or wrong
 * tracebacks; the walk stays inside the thread's stack, so it cannot crash).
 * docs/tracing.md explains the design.
 *
 * The tracer's own memory comes from the system allocator, never from the
 * heap: it does not appear in the traced figures or in the heap's blocks in
 * use; rc_trace_overhead() reports it. If the tracer cannot get memory for a
 * trace, the caller's allocation still succeeds, untraced, and
 * rc_trace_untraced_blocks() counts it.
 *
 * Functions without a heap argument act on the calling thread's current
 * heap; the rc_heap_trace_* forms take an explicit heap, which the calling
 * thread must own or which must be owned by no thread.
 */
#ifndef RECLAIM_TRACE_H
#define RECLAIM_TRACE_H

#include "object.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ==== Tracing ======================================================== */

#define RC_TRACE_MAX_FRAMES 128 /* the largest traceback limit */

/* An interned traceback: the frames of one allocation site, most recent
 * first. ip[0] is the return address in the code that called reclaim,
 * ip[1] the one in its caller, and so on (a return address points just
 * after the call: symbolize ip - 1). Owned by the heap's tracer; valid
 * until rc_trace_clear, rc_trace_stop or the heap's destruction. */
typedef struct rc_trace_frames {
    uint32_t nframes; /* entries in ip[], 1 .. the traceback limit */
    uint32_t id;      /* the traceback's number in its heap, from 1 */
    const void *ip[]; /* return addresses, the allocation's call site first */
} rc_trace_frames;

/* Starts tracing, keeping at most nframes frames per traceback (1 ..
 * RC_TRACE_MAX_FRAMES). Only blocks allocated from now on are traced. If
 * tracing is on already, only the limit changes (later allocations use it).
 * Returns 0, or RC_EINVAL with a message if nframes is out of range. */
RC_API int rc_trace_start(unsigned nframes);
/* Stops tracing and forgets every trace and traceback (tracemalloc.stop):
 * the traced figures and the overhead drop to zero. */
RC_API void rc_trace_stop(void);
RC_API bool rc_trace_is_tracing(void);
/* Forgets every trace and traceback but keeps tracing: blocks allocated
 * before the call are untraced from now on; current and peak drop to 0. */
RC_API void rc_trace_clear(void);
/* Bytes requested by the traced blocks that are live now, and the most
 * that were live at once since tracing started, or since the last clear or
 * rc_trace_reset_peak. Either pointer may be NULL. Zeros while tracing is
 * off. */
RC_API void rc_trace_get_memory(size_t *current, size_t *peak);
/* Makes peak equal to current (tracemalloc.reset_peak). */
RC_API void rc_trace_reset_peak(void);
/* Bytes the tracer holds from the system for its tables (per-block side
 * tables and interned tracebacks). 0 while tracing is off. */
RC_API size_t rc_trace_overhead(void);
/* The traceback limit tracing was started with; 0 while tracing is off. */
RC_API unsigned rc_trace_traceback_limit(void);
/* Blocks allocated while tracing that are untraced because the tracer could
 * not get memory for their trace, since tracing started or the last clear. */
RC_API size_t rc_trace_untraced_blocks(void);

/* The traceback of an object made while tracing was on, or NULL (with a
 * message) if the object is not traced: made before tracing started or
 * before the last clear, or tracing is off (tracemalloc.get_object_traceback).
 * The object may belong to any heap the caller may work on. */
RC_API const rc_trace_frames *rc_object_traceback(const void *obj);
/* The same for a raw block (rc_malloc and friends). */
RC_API const rc_trace_frames *rc_block_traceback(const void *block);

/* The same on an explicit heap. */
RC_API int rc_heap_trace_start(rc_heap *heap, unsigned nframes);
RC_API void rc_heap_trace_stop(rc_heap *heap);
RC_API bool rc_heap_trace_is_tracing(rc_heap *heap);
RC_API void rc_heap_trace_clear(rc_heap *heap);
RC_API void rc_heap_trace_get_memory(rc_heap *heap, size_t *current, size_t *peak);
RC_API void rc_heap_trace_reset_peak(rc_heap *heap);
RC_API size_t rc_heap_trace_overhead(rc_heap *heap);
RC_API unsigned rc_heap_trace_traceback_limit(rc_heap *heap);
RC_API size_t rc_heap_trace_untraced_blocks(rc_heap *heap);

/* ==== (end of the tracing section; snapshots follow) ================= */

/* ==== Snapshots ======================================================
 *
 * A snapshot (tracemalloc's Snapshot, Statistic, StatisticDiff, Filter,
 * Traceback) is a copy of the current heap's traces at one moment: for each
 * traced block its size and the traceback of its allocation. It keeps
 * return addresses when taken; they become source locations (file, line,
 * function, through libdw) the first time the snapshot is examined:
 * statistics, compare, filter, a trace, dump. A loaded snapshot is already
 * symbolized.
 *
 * A snapshot is used by one thread at a time (examining it may symbolize
 * it, which changes it). Results (statistics, diffs, a snapshot's
 * tracebacks) borrow the snapshot's strings and frames: they stay valid
 * until the snapshot (for a comparison: either snapshot) is freed. Each
 * result array is freed with one call to rc_statistics_free.
 *
 * Where this differs from tracemalloc, because C needs it or it is clearer:
 *  - A statistic's text names its traceback's most recent frame (where the
 *    block was allocated), not the oldest one.
 *  - Cumulative statistics count a trace once per distinct key even when a
 *    traceback holds the key in several frames (recursion).
 *  - Ties of size and count are ordered by key, ascending (file, then line,
 *    then the following frames), so that the order is deterministic.
 *  - A filter's lineno 0 means "any line" (tracemalloc: None).
 *  - rc_traceback_format's limit 0 means "all frames" (tracemalloc: None).
 * docs/tracing.md explains the design and the file format.
 */

/* One source location. Strings are never NULL. An address without line
 * information has filename "<unknown>" and lineno 0, and its function says
 * what is known: "symbol (module+0xoffset)", "module+0xoffset", or the
 * address itself ("0x7f...") when no loaded module holds it. */
typedef struct rc_frame {
    const char *filename; /* as the compiler recorded it */
    const char *function; /* "" when not known */
    uint32_t lineno;      /* 1-based; 0 when not known */
} rc_frame;

/* The frames of an allocation, most recent call first (frames[0] is the
 * line that allocated). nframes is at least 1. */
typedef struct rc_traceback {
    const rc_frame *frames;
    size_t nframes;
} rc_traceback;

typedef struct rc_snapshot rc_snapshot;

/* ---- taking and freeing ---------------------------------------------- */

/* A snapshot of the current heap's traces. NULL with a message if tracing is
 * off ("tracing must be on to take a snapshot", as tracemalloc) or memory is
 * short. It costs one pass over the traces: symbolization waits for the
 * first examination. */
RC_API rc_snapshot *rc_snapshot_take(void);
/* The same on an explicit heap. */
RC_API rc_snapshot *rc_heap_snapshot_take(rc_heap *heap);
/* Frees a snapshot (NULL is ignored). Results borrowed from it die with it. */
RC_API void rc_snapshot_free(rc_snapshot *snap);

/* The number of frames tracing kept per traceback when it was taken. */
RC_API size_t rc_snapshot_traceback_limit(const rc_snapshot *snap);
/* The number of traces (traced blocks). */
RC_API size_t rc_snapshot_trace_count(const rc_snapshot *snap);
/* The index-th trace's traceback, and its block's size in *size (if size is
 * not NULL). NULL with a message if index is out of range or symbolization
 * ran out of memory. */
RC_API const rc_traceback *rc_snapshot_trace(rc_snapshot *snap, size_t index, size_t *size);

/* rc_trace_frames (an object's or a block's traceback) symbolized: one
 * block holding the rc_traceback, its frames and their strings, to free()
 * with one call. NULL with a message if frames is NULL or memory is short. */
RC_API rc_traceback *rc_traceback_symbolize(const rc_trace_frames *frames);

/* ---- statistics (Snapshot.statistics, Snapshot.compare_to) ---------- */

typedef enum rc_trace_key {
    RC_TRACE_KEY_FILENAME,  /* group by the file of the most recent frame */
    RC_TRACE_KEY_LINENO,    /* by file and line of the most recent frame */
    RC_TRACE_KEY_TRACEBACK, /* by the whole traceback */
} rc_trace_key;

/* The blocks of one key. The key is traceback: one frame for FILENAME
 * (lineno 0, function "") and LINENO, the whole traceback for TRACEBACK. */
typedef struct rc_statistic {
    rc_traceback traceback;
    size_t size;  /* bytes of the blocks */
    size_t count; /* blocks */
} rc_statistic;

/* One key of a comparison: the figures of the new snapshot and their
 * differences from the old one (a key only the old one has: size and count
 * 0, negative differences). */
typedef struct rc_statistic_diff {
    rc_traceback traceback;
    size_t size;
    size_t count;
    int64_t size_diff;
    int64_t count_diff;
} rc_statistic_diff;

/* Groups the traces by key: an array of *count statistics sorted by size,
 * then count, descending, then key. cumulative (FILENAME and LINENO only)
 * counts a trace under every frame of its traceback, not just the first.
 * NULL with a message for a bad key or cumulative TRACEBACK, or if memory is
 * short. Free with rc_statistics_free. */
RC_API rc_statistic *rc_snapshot_statistics(rc_snapshot *snap, rc_trace_key key, bool cumulative,
                                            size_t *count);
/* Compares snap with an older snapshot: an array of *count diffs sorted by
 * the absolute size difference, then size, absolute count difference and
 * count, descending, then key. NULL with a message as above. */
RC_API rc_statistic_diff *rc_snapshot_compare(rc_snapshot *snap, rc_snapshot *old, rc_trace_key key,
                                              bool cumulative, size_t *count);
/* Frees an array returned by rc_snapshot_statistics or rc_snapshot_compare
 * (NULL is ignored). */
RC_API void rc_statistics_free(void *stats);

/* ---- filters (Snapshot.filter_traces) -------------------------------- */

/* tracemalloc's Filter. A trace passes when it matches at least one
 * inclusive filter (if there are any) and every exclusive filter lets it
 * through. A filter matches a frame whose filename matches the glob pattern
 * (fnmatch: '*' also matches '/'; no escapes) and, if lineno is not 0, whose
 * line is lineno. all_frames: the filter looks at every frame of the
 * traceback (inclusive: any frame matches; exclusive: no frame matches), else
 * only at the most recent one. */
typedef struct rc_trace_filter {
    bool inclusive;
    const char *filename_pattern;
    uint32_t lineno; /* 0: any line */
    bool all_frames;
} rc_trace_filter;

/* A new snapshot holding the traces of snap that pass the n filters (all of
 * them if n is 0). NULL with a message if a pattern is NULL or memory is
 * short. */
RC_API rc_snapshot *rc_snapshot_filter(rc_snapshot *snap, const rc_trace_filter *filters, size_t n);

/* ---- formatting ------------------------------------------------------- */

/* "file.c:42: size=12.3 KiB, count=100, average=126 B" (Statistic.__str__),
 * written to buf as snprintf does; returns the length of the whole text. */
RC_API size_t rc_statistic_format(const rc_statistic *stat, char *buf, size_t size);
/* "file.c:42: size=12.3 KiB (+2048 B), count=100 (+16), average=126 B"
 * (StatisticDiff.__str__), as above. */
RC_API size_t rc_statistic_diff_format(const rc_statistic_diff *diff, char *buf, size_t size);
/* Traceback.format: for each frame a line '  File "x.c", line 42' followed,
 * if the file is readable, by its source line stripped and indented by four
 * spaces; each line ends in '\n'. Oldest frame first unless
 * most_recent_first. limit > 0 keeps the limit most recent frames, limit < 0
 * drops the -limit most recent ones, 0 keeps all. A new string to free();
 * NULL with a message if memory is short. */
RC_API char *rc_traceback_format(const rc_traceback *tb, int limit, bool most_recent_first);

/* ---- files (Snapshot.dump, Snapshot.load) ------------------------------ */

/* Writes snap to path in reclaim's snapshot format (docs/tracing.md):
 * versioned, little-endian, checksummed. 0, or a negative RC_E* code with a
 * message naming the path and the system's reason. */
RC_API int rc_snapshot_dump(rc_snapshot *snap, const char *path);
/* Reads a snapshot written by rc_snapshot_dump. NULL with a message if the
 * file cannot be read or is not a valid snapshot: the message says which
 * section and field is wrong and at which byte offset. */
RC_API rc_snapshot *rc_snapshot_load(const char *path);
/* The same from size bytes in memory. */
RC_API rc_snapshot *rc_snapshot_load_buffer(const void *data, size_t size);

#ifdef __cplusplus
}
#endif
#endif
