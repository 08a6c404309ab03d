/* object_free.h: the end of every object's death, shared by the release
 * loop (release.c) and the collector's freeing of simple garbage
 * (gc/collect_full.c), which both reach it with the object's references
 * released and its destroy hook run.
 */
#ifndef RC_OBJECT_FREE_H
#define RC_OBJECT_FREE_H

#include "object_internal.h"
#include "../alloc/object_block.h"

/* The end of every death (release.c, and the collector's freeing of simple
 * garbage): the block goes back to the allocator, unless the type keeps it
 * on a free list (RC_TYPE_INTERNAL_RECYCLE, recycle.c). The header reads
 * refcnt 0 and gc_bits 0 (but RC_LARGE). arena: the block's, if the caller
 * looked it up already, else NULL. */
static inline void rc_object_free_dead(rc_heap *heap, void *obj, const rc_type *type, bool large,
                                       rc_arena *arena)
{
    if (RC_UNLIKELY(type->flags & RC_TYPE_INTERNAL_RECYCLE) && heap->hooks.recycle(heap, obj))
        return;
    rc_alloc_free_object(heap, arena, rc_head_of(obj), large);
}

#endif
