/* object_block.h: the object layer's fast paths into the allocator.
 *
 * The object layer knows its blocks are its own (it made them, and a live
 * object's header says whether the block is large), so it skips the checks
 * that rc_free makes of an arbitrary pointer: finding the owning heap is one
 * arena-map lookup, and freeing a small object block is the pool's inline
 * fast path. The debug builds (RC_CHECKS >= 1) still check every free in
 * the pool's slow path.
 */
#ifndef RC_ALLOC_OBJECT_BLOCK_H
#define RC_ALLOC_OBJECT_BLOCK_H

#include "arena_map.h"
#include "large.h"

/* The heap owning an object block made by rc_alloc_block(..., OBJECT). */
static inline rc_heap *rc_alloc_object_owner(const void *block, bool large)
{
    if (RC_LIKELY(!large))
        return rc_arena_map_get(block)->heap;
    return ((const rc_large *)block - 1)->heap;
}

/* Frees an object block of heap (the caller may work on heap) whose first
 * eight bytes are already zero, as a dead object's header is. */
static inline void rc_alloc_free_object(rc_heap *heap, void *block, bool large)
{
    if (RC_LIKELY(!large)) {
        rc_arena *arena = rc_arena_map_get(block);
        rc_pool_free(heap, rc_pool_of(arena, block), block);
        return;
    }
    rc_alloc_free_block(heap, block);
}

#endif
