/* arena_map.h: which 1 MiB granules of the address space hold reclaim
 * memory, for every heap of the process.
 *
 * This is the only process-wide mutable state of reclaim, and it must be:
 * rc_free and rc_decref are given nothing but an address, from any thread,
 * and must find the owning heap (or tell that the pointer is not ours)
 * without knowing which heap to ask.
 *
 * A two-level radix tree over 48-bit addresses, keyed by address >> 20:
 * a static root of 2^14 leaf pointers, each leaf (mapped on first need,
 * never freed) holding for its 2^14 granules
 *   arena[i]: the rc_arena whose 1 MiB arena is granule i, or NULL;
 *   large[i]: how many live large-block headers lie in granule i (they come
 *             from the system allocator: see large.c).
 * A granule holding an arena holds nothing else, so at most one of the two
 * is non-zero. Writers: arena entries under one mutex (arenas are mapped and
 * unmapped rarely); large counts with atomic adds. Readers take no lock:
 * acquire loads, so a reader that finds an arena sees it initialized.
 */
#ifndef RC_ALLOC_ARENA_MAP_H
#define RC_ALLOC_ARENA_MAP_H

#include "pool.h"

#define RC_MAP_ADDRESS_BITS 48
#define RC_MAP_GRANULE_BITS 20
#define RC_MAP_LEAF_BITS    14
#define RC_MAP_ROOT_BITS    (RC_MAP_ADDRESS_BITS - RC_MAP_GRANULE_BITS - RC_MAP_LEAF_BITS)
#define RC_MAP_LEAF_ENTRIES ((size_t)1 << RC_MAP_LEAF_BITS)

_Static_assert(((size_t)1 << RC_MAP_GRANULE_BITS) == RC_ARENA_SIZE, "a granule is an arena");

typedef struct rc_map_leaf {
    _Atomic(rc_arena *) arena[RC_MAP_LEAF_ENTRIES];
    _Atomic(uint32_t) large[RC_MAP_LEAF_ENTRIES];
} rc_map_leaf;

/* The root, defined in arena_map.c; read here so that lookups inline. */
RC_INTERNAL extern _Atomic(rc_map_leaf *) rc_arena_map_root[(size_t)1 << RC_MAP_ROOT_BITS];

static inline rc_map_leaf *rc_arena_map_leaf(uintptr_t address)
{
    uintptr_t top = address >> (RC_MAP_GRANULE_BITS + RC_MAP_LEAF_BITS);
    if (RC_UNLIKELY(top >= ((uintptr_t)1 << RC_MAP_ROOT_BITS)))
        return NULL;
    return atomic_load_explicit(&rc_arena_map_root[top], memory_order_acquire);
}

static inline size_t rc_arena_map_slot(uintptr_t address)
{
    return (address >> RC_MAP_GRANULE_BITS) & (RC_MAP_LEAF_ENTRIES - 1);
}

/* The arena holding p, or NULL. Any thread, no lock. Always inline: it is
 * on every death's path, where a call costs a third of it. */
static RC_ALWAYS_INLINE rc_arena *rc_arena_map_get(const void *p)
{
    rc_map_leaf *leaf = rc_arena_map_leaf((uintptr_t)p);
    if (RC_UNLIKELY(leaf == NULL))
        return NULL;
    return atomic_load_explicit(&leaf->arena[rc_arena_map_slot((uintptr_t)p)],
                                memory_order_acquire);
}

/* Whether p's granule holds a live large-block header. */
static inline bool rc_arena_map_has_large(const void *p)
{
    rc_map_leaf *leaf = rc_arena_map_leaf((uintptr_t)p);
    return leaf && atomic_load_explicit(&leaf->large[rc_arena_map_slot((uintptr_t)p)],
                                        memory_order_acquire) != 0;
}

/* Registers arena (whose base is 1 MiB aligned); 0, or RC_ENOMEM with a
 * message if a leaf could not be mapped or the address is out of range. */
RC_INTERNAL int rc_arena_map_add(rc_arena *arena);
RC_INTERNAL void rc_arena_map_remove(rc_arena *arena);
/* Counts a large-block header at p in (or out of) its granule. */
RC_INTERNAL int rc_arena_map_add_large(const void *p);
RC_INTERNAL void rc_arena_map_remove_large(const void *p);

#endif
