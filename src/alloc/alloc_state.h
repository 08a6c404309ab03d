/* alloc_state.h: the allocator's part of a heap (struct rc_heap.alloc).
 *
 * Invariants (checked by rc_alloc_validate, src/alloc/validate.c):
 *  - used[kind][class] is a doubly-linked list of the heap's pools of that
 *    kind and class worth allocating from. A pool leaves it when the
 *    allocation slow path finds it full, and comes back (at the tail) when
 *    one of its blocks is freed (pool.h); pools that
 *    ran out since the slow path last looked may still be on it. An empty
 *    list is the shared constant rc_pool_sentinel, whose free list is NULL,
 *    so the fast path needs no NULL check.
 *  - usable is the list of arenas with at least one free pool, sorted by
 *    number of free pools, fewest first (CPython's usable_arenas);
 *    nfp2lasta[n] is the last arena of that list with n free pools, or NULL
 *    if none has n. arenas lists every arena of the heap.
 *  - large lists the heap's live large blocks (src/alloc/large.c); cache
 *    holds freed large mappings for reuse (large_cache.c, whose invariants
 *    rc_large_cache_is_valid checks).
 *  - remote is a lock-free stack of blocks freed by threads that do not own
 *    the heap (link at offset 8); they still count as used until drained.
 */
#ifndef RC_ALLOC_STATE_H
#define RC_ALLOC_STATE_H

#include "../internal.h"

#include <stdatomic.h>

#define RC_POOLS_PER_ARENA ((unsigned)(RC_ARENA_SIZE / RC_POOL_SIZE))
/* Wholly free arenas a heap keeps mapped (arena.c): 8, and one more for
 * every arena holding blocks, RC_EMPTY_ARENAS_MAX at most
 * (rc_arena_spares_kept). */
#define RC_EMPTY_ARENAS_KEPT 8u
#define RC_EMPTY_ARENAS_MAX  64u
#define RC_BLOCK_KINDS       2

struct rc_pool;
struct rc_arena;
struct rc_large;
struct rc_large_extent;
struct rc_debug_state;

/* The cache of freed large mappings (large_cache.c). */
typedef struct rc_large_cache {
    struct rc_large_extent *extents;       /* in address order; NULL: empty */
    size_t bytes;                          /* their lengths' sum, <= max */
    size_t max;                            /* the bound (rc_heap_options) */
    uint64_t decay_ns;                     /* an extent unused this long is unmapped */
    uint64_t decay_at;                     /* no extent decays before this (coarse ns) */
    unsigned calls;                        /* ticks not about a mapped block */
    size_t hits, misses, decayed, evicted; /* the statistics (reclaim/alloc.h) */
} rc_large_cache;

typedef struct rc_alloc_state {
    /* hot: read by every small allocation. Requests of 1..fast_max bytes
     * take the inline fast path: fast_max is inline_max while tracing is
     * off, 0 while it is on. So the one compare the fast path makes sends
     * a debug heap's requests and traced ones to the out-of-line paths,
     * and neither costs a plain heap a branch. */
    size_t fast_max;
    /* RC_SMALL_MAX on a plain heap, 0 on a debug heap: requests of
     * 1..inline_max bytes get plain pool blocks (the object layer's inline
     * paths: object_block.h) */
    size_t inline_max;
    /* tracing is on: every block handed out goes to hooks.trace_alloc.
     * Set with fast_max and the pools' free keys (pool.h) by
     * rc_alloc_set_traced, never alone. */
    bool traced;
    struct rc_pool *used[RC_BLOCK_KINDS][RC_SIZE_CLASSES];
    struct rc_pool *used_tail[RC_BLOCK_KINDS][RC_SIZE_CLASSES]; /* NULL if empty */
    /* rc_realloc is moving or resizing a block: a failed request then
     * collects no cycles (malloc.c, collected_for_retry) */
    bool reallocating;

    /* arenas */
    struct rc_arena *usable;
    struct rc_arena *nfp2lasta[RC_POOLS_PER_ARENA + 1];
    struct rc_arena *arenas;
    size_t arenas_allocated, arenas_freed, arenas_current, arenas_highwater;
    size_t arenas_empty; /* of arenas_current, those with every pool free */

    /* large blocks */
    struct rc_large *large;
    size_t large_blocks;    /* live large blocks */
    size_t large_bytes;     /* their usable bytes */
    size_t large_sys_bytes; /* what the system allocator gave for them */
    rc_large_cache cache;

    /* dead objects' blocks the object layer keeps on free lists for reuse
     * (src/object/recycle.c): handed out as far as the pools know, but not
     * in use (rc_heap_stats leaves them out of bytes_in_use); class bytes */
    size_t freelist_blocks, freelist_bytes;

    /* blocks freed by other threads */
    size_t remote_frees; /* drained so far */
    char remote_pad_before[64];
    _Atomic(void *) remote;
    char remote_pad_after[64 - sizeof(void *)];

    /* the debug allocator (debug_guard.h): NULL on a plain heap. front is
     * where a user pointer lies in its raw block (block_layout.h): 0, or
     * RC_DEBUG_FRONT on a debug heap. Both are set when the heap is made. */
    struct rc_debug_state *debug;
    size_t front;

    /* failure injection (rc_heap_inject_faults) */
    unsigned fault_kinds; /* RC_FAULT_* still armed */
    long fault_after;     /* requests to let through first */
    bool fault_sticky;
} rc_alloc_state;

/* How many wholly free arenas the heap may keep mapped now (arena.c). */
static inline size_t rc_arena_spares_kept(const rc_alloc_state *st)
{
    size_t kept = RC_EMPTY_ARENAS_KEPT + (st->arenas_current - st->arenas_empty);
    return kept < RC_EMPTY_ARENAS_MAX ? kept : RC_EMPTY_ARENAS_MAX;
}

#endif
