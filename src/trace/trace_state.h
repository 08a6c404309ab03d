/* trace_state.h: the tracer's part of a heap (struct rc_heap.trace).
 *
 * Where a trace lives. A traced block's trace is its requested size and
 * traceback index:
 *  - a small block's is one 32-bit word (traces.c; 0: untraced) in its
 *    pool's side table (rc_pool.side), an array of one word per block slot
 *    of the pool, made when the pool gets its first traced block and given
 *    back when the pool empties or tracing stops;
 *  - a large block's trace is in its header (rc_large.trace_size/_tb).
 *
 * Invariants (rc_trace_validate checks them):
 *   nframes == 0  <=>  tracing off  <=>  !heap->alloc.traced
 *   current == the sum of the requested sizes of the traced blocks
 *   traced_blocks == the number of non-zero words and traced large blocks
 *   peak >= current
 *   every traceback index in a word is in 1 .. tracebacks.count
 *   overhead == the bytes of every side table (of pools and spare),
 *               traceback record chunk and traceback table the tracer holds
 *               from the system
 *   while tracing is off, every side table is NULL and every large block's
 *   traceback is 0, and overhead is 0.
 */
#ifndef RC_TRACE_STATE_H
#define RC_TRACE_STATE_H

#include "../internal.h"

struct rc_trace_frames;
struct rc_tb_chunk;

/* The interned tracebacks (tbtable.c): an open-addressing hash set of
 * traceback records, each record stored once in chunks that never move. */
/* The last tracebacks of one frame, by call site: a direct-mapped cache in
 * front of the set, for tracing at 1 frame (tbtable.c). */
#define RC_TB_SITE_CACHE 16
typedef struct rc_tb_site {
    const void *ip;
    uint32_t index;
} rc_tb_site;

typedef struct rc_tb_table {
    rc_tb_site sites[RC_TB_SITE_CACHE]; /* ip NULL: empty */
    uint64_t *slots;                    /* hash high 32 bits << 32 | index; 0: empty */
    uint32_t mask;                      /* slots - 1 (a power of two), 0 if none */
    uint32_t count;                     /* records: indexes 1 .. count */
    struct rc_trace_frames **records;   /* by index; records[0] unused */
    uint32_t records_cap;
    struct rc_tb_chunk *chunks; /* record storage, newest first */
    char *bump, *bump_end;      /* free space of the newest chunk */
} rc_tb_table;

typedef struct rc_trace_state {
    unsigned nframes; /* traceback limit; 0: tracing is off */
    bool unwind_fp;   /* frames beyond the first by frame pointers, not libunwind */
    size_t current;   /* requested bytes of the traced blocks */
    size_t peak;      /* most of current since start, clear or reset_peak */
    size_t traced_blocks;
    size_t untraced_blocks; /* the tracer lacked memory for their trace */
    size_t overhead;        /* bytes held from the system */
    rc_tb_table tracebacks;
    /* side tables of emptied pools, all zero, kept for reuse by class
     * (linked through their first word), at most RC_TRACE_SPARE_SIDES each */
    void *spare_sides[RC_SIZE_CLASSES];
    uint8_t spare_count[RC_SIZE_CLASSES];
    /* the owning thread's stack, for the frame-pointer walk of user code */
    uintptr_t stack_owner; /* the thread token the bounds belong to, 0: none */
    uintptr_t stack_lo, stack_hi;
} rc_trace_state;

#endif
