/* object_block.h: the object layer's fast paths into the allocator.
 *
 * The object layer knows its blocks are its own (it made them, and a live
 * object's header records which path its block takes: RC_LARGE), so it
 * skips the checks that rc_free makes of an arbitrary pointer: finding the
 * owning heap of a plain pool block is one arena-map lookup, and freeing
 * one is the pool's inline fast path. Every other block (a large block, or
 * any block of a debug heap, whose user pointer is not its raw block: see
 * block_layout.h) takes the out-of-line paths of malloc.c. The debug builds
 * (RC_CHECKS >= 1) still check every pool free in the pool's slow path.
 */
#ifndef RC_ALLOC_OBJECT_BLOCK_H
#define RC_ALLOC_OBJECT_BLOCK_H

#include "arena_map.h"
#include "large.h"

/* Whether an object block of size bytes made now on heap is a plain pool
 * block, which the inline paths below find and free (the object layer
 * records the answer: RC_LARGE clear). No on a debug heap, whose
 * inline_max is 0. */
static inline bool rc_alloc_object_inline(const rc_heap *heap, size_t size)
{
    return size <= heap->alloc.inline_max;
}

/* A plain pool block of size bytes (1..RC_SMALL_MAX) for an object, taken
 * as rc_malloc's inline fast path takes one (fast_max <= inline_max: the
 * block is a plain pool block, RC_LARGE clear): NULL, doing nothing, if
 * that path is closed to the request (tracing, a debug heap: fast_max is 0)
 * or its class's first pool is empty; the caller then takes rc_alloc_block,
 * which handles every case. It makes no call, so rc_new's common path
 * stays a leaf function. */
static inline void *rc_alloc_object_fast(rc_heap *heap, size_t size)
{
    if (RC_UNLIKELY(!rc_alloc_is_fast(heap, size)))
        return NULL;
    return rc_alloc_fast_pop(heap, size, RC_BLOCK_OBJECT);
}

/* The out-of-line paths (malloc.c): the heap owning an object block of any
 * heap (stops the process if block is none), and freeing one. */
RC_INTERNAL rc_heap *rc_alloc_object_owner_slow(const void *block);
RC_INTERNAL void rc_alloc_free_object_slow(rc_heap *heap, void *block);

/* The arena of a plain pool object block (RC_LARGE clear: made when
 * rc_alloc_object_inline said yes), and its heap: a death looks the arena
 * up once, finds the owner in it, and frees the block with it. Any other
 * object block's owner: rc_alloc_object_owner_slow. */
static inline rc_arena *rc_alloc_object_arena(const void *block) { return rc_arena_map_get(block); }
static inline rc_heap *rc_alloc_arena_heap(const rc_arena *arena) { return arena->heap; }

/* Frees an object block of heap (the caller may work on heap) whose first
 * eight bytes are already zero, as a dead object's header is (but for
 * RC_LARGE in gc_bits, on the out-of-line path). arena is the block's
 * (rc_alloc_object_arena) if the caller knows it, else NULL. */
static inline void rc_alloc_free_object(rc_heap *heap, rc_arena *arena, void *block,
                                        bool out_of_line)
{
    if (RC_LIKELY(!out_of_line)) {
        if (!arena)
            arena = rc_alloc_object_arena(block);
        rc_pool_free(heap, rc_pool_of(arena, block), block, RC_BLOCK_OBJECT);
        return;
    }
    rc_alloc_free_object_slow(heap, block);
}

#endif
