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
 *               traceback record chunk, traceback table, frame-rule set and
 *               rule session record the tracer holds from the system
 *   while tracing is off, every side table is NULL and every large block's
 *   traceback is 0, and overhead is 0.
 */
#ifndef RC_TRACE_STATE_H
#define RC_TRACE_STATE_H

#include "../internal.h"

struct rc_trace_frames;
struct rc_tb_chunk;
struct rc_cfi;

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
    uint32_t last;                      /* the index rc_tb_intern gave last (0: none) */
    struct rc_trace_frames **records;   /* by index; records[0] unused */
    uint32_t records_cap;
    struct rc_tb_chunk *chunks; /* record storage, newest first */
    char *bump, *bump_end;      /* free space of the newest chunk */
} rc_tb_table;

/* How the frames past the call site are found (capture.c). */
typedef enum rc_trace_unwind {
    RC_TRACE_UNWIND_CHECKED,   /* the default: walked by the unwind tables' rules,
                                  libunwind where a frame has none (capture_walk.c) */
    RC_TRACE_UNWIND_FP,        /* frame pointers, unchecked (RECLAIM_TRACE_UNWIND=fp) */
    RC_TRACE_UNWIND_LIBUNWIND, /* libunwind (RECLAIM_TRACE_UNWIND=libunwind) */
} rc_trace_unwind;

/* How the frame of the function a return address returns into is laid out
 * at that call, as the unwind tables say (capture_cfi.c), in the form the
 * checked walk follows. */
typedef enum rc_frame_kind {
    RC_FRAME_UNKNOWN, /* no rule the walk can follow: libunwind unwinds the capture */
    RC_FRAME_FP,      /* a frame pointer: CFA = rbp + 16, the caller's rbp at CFA - 16 */
    RC_FRAME_RSP,     /* CFA = rsp + cfa_offset, the caller's rbp at CFA + rbp_offset
                         (0: rbp is unchanged), both offsets multiples of 8 with the
                         saved rbp inside the frame: only CFA's bound is left to check */
    RC_FRAME_CFA,     /* any other CFA = (rbp or rsp) + cfa_offset, the caller's rbp
                         at CFA + rbp_offset (0: unchanged) */
    RC_FRAME_LAST,    /* the outermost frame: nothing called it */
} rc_frame_kind;

typedef struct rc_frame_layout {
    int32_t cfa_offset;
    int16_t rbp_offset;
    uint8_t kind; /* rc_frame_kind; the return address is at CFA - 8 in each */
    bool cfa_rbp; /* the CFA is rbp + cfa_offset, not rsp + cfa_offset */
} rc_frame_layout;

typedef struct rc_frame_rule {
    uintptr_t ret; /* the return address the rule is for; 0: an empty slot */
    rc_frame_layout layout;
} rc_frame_rule;

/* The rule of every return address the checked walk met (capture_walk.c):
 * an open-addressing set by return address, at most half full. */
typedef struct rc_frame_rules {
    rc_frame_rule *slots; /* NULL: none yet */
    uint32_t mask;        /* slots - 1 (a power of two), 0 if none */
    uint32_t count;
    struct rc_cfi *cfi; /* the libdw session the rules are read with (capture_cfi.c);
                           NULL: none yet */
} rc_frame_rules;

typedef struct rc_trace_state {
    unsigned nframes;       /* traceback limit; 0: tracing is off */
    rc_trace_unwind unwind; /* how frames past the call site are found */
    size_t current;         /* requested bytes of the traced blocks */
    size_t peak;            /* most of current since start, clear or reset_peak */
    size_t traced_blocks;
    size_t untraced_blocks; /* the tracer lacked memory for their trace */
    size_t overhead;        /* bytes held from the system */
    rc_tb_table tracebacks;
    /* side tables of emptied pools, all zero, kept for reuse by class
     * (linked through their first word), at most RC_TRACE_SPARE_SIDES each */
    void *spare_sides[RC_SIZE_CLASSES];
    uint8_t spare_count[RC_SIZE_CLASSES];
    /* the owning thread's stack, for the walks of user code */
    uintptr_t stack_owner; /* the thread token the bounds belong to, 0: none */
    uintptr_t stack_lo, stack_hi;
    rc_frame_rules rules;
    size_t unwind_fallbacks; /* captures the checked walk left to libunwind */
} rc_trace_state;

#endif
