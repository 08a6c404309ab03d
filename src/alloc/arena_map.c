/* arena_map.c: the process-wide map from 1 MiB granules to arenas and
 * large-block counts (see arena_map.h for why it is process-wide).
 *
 * Invariants: a root entry, once set, never changes (leaves are never
 * freed); an arena entry is non-NULL exactly while that arena is mapped; a
 * large count is the number of live large-block headers in the granule.
 * Only arena_map_lock's holder creates leaves or writes arena entries.
 */
#include "arena_map.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>

_Atomic(rc_map_leaf *) rc_arena_map_root[(size_t)1 << RC_MAP_ROOT_BITS];

static pthread_mutex_t arena_map_lock = PTHREAD_MUTEX_INITIALIZER;

/* The leaf covering address, mapped if it does not exist yet. Called with
 * the lock held. NULL with a message on failure. */
static rc_map_leaf *leaf_get_or_make(uintptr_t address)
{
    uintptr_t top = address >> (RC_MAP_GRANULE_BITS + RC_MAP_LEAF_BITS);
    if (top >= ((uintptr_t)1 << RC_MAP_ROOT_BITS)) {
        rc_set_error(RC_ENOMEM, "out of memory: address %p is beyond the 48-bit arena map",
                     (void *)address);
        return NULL;
    }
    rc_map_leaf *leaf = atomic_load_explicit(&rc_arena_map_root[top], memory_order_acquire);
    if (leaf)
        return leaf;
    void *mem =
        mmap(NULL, sizeof(rc_map_leaf), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) {
        rc_set_error(RC_ENOMEM, "out of memory: mmap of a %zu KiB arena map leaf failed: %s",
                     sizeof(rc_map_leaf) >> 10, strerror(errno));
        return NULL;
    }
    leaf = mem; /* zero-filled: no arenas, no large blocks */
    atomic_store_explicit(&rc_arena_map_root[top], leaf, memory_order_release);
    return leaf;
}

int rc_arena_map_add(rc_arena *arena)
{
    uintptr_t address = (uintptr_t)arena->base;
    RC_ASSERT(address % RC_ARENA_SIZE == 0);
    pthread_mutex_lock(&arena_map_lock);
    rc_map_leaf *leaf = leaf_get_or_make(address);
    if (leaf) {
        size_t slot = rc_arena_map_slot(address);
        RC_ASSERT(atomic_load_explicit(&leaf->arena[slot], memory_order_relaxed) == NULL);
        RC_ASSERT(atomic_load_explicit(&leaf->large[slot], memory_order_relaxed) == 0);
        atomic_store_explicit(&leaf->arena[slot], arena, memory_order_release);
    }
    pthread_mutex_unlock(&arena_map_lock);
    return leaf ? 0 : RC_ENOMEM;
}

void rc_arena_map_remove(rc_arena *arena)
{
    uintptr_t address = (uintptr_t)arena->base;
    pthread_mutex_lock(&arena_map_lock);
    rc_map_leaf *leaf = rc_arena_map_leaf(address);
    RC_ASSERT(leaf != NULL);
    size_t slot = rc_arena_map_slot(address);
    RC_ASSERT(atomic_load_explicit(&leaf->arena[slot], memory_order_relaxed) == arena);
    atomic_store_explicit(&leaf->arena[slot], NULL, memory_order_release);
    pthread_mutex_unlock(&arena_map_lock);
}

int rc_arena_map_add_large(const void *p)
{
    uintptr_t address = (uintptr_t)p;
    rc_map_leaf *leaf = rc_arena_map_leaf(address);
    if (RC_UNLIKELY(leaf == NULL)) {
        pthread_mutex_lock(&arena_map_lock);
        leaf = leaf_get_or_make(address);
        pthread_mutex_unlock(&arena_map_lock);
        if (!leaf)
            return RC_ENOMEM;
    }
    atomic_fetch_add_explicit(&leaf->large[rc_arena_map_slot(address)], 1, memory_order_release);
    return 0;
}

void rc_arena_map_remove_large(const void *p)
{
    uintptr_t address = (uintptr_t)p;
    rc_map_leaf *leaf = rc_arena_map_leaf(address);
    RC_ASSERT(leaf != NULL);
    uint32_t old = atomic_fetch_sub_explicit(&leaf->large[rc_arena_map_slot(address)], 1,
                                             memory_order_release);
    RC_ASSERT(old > 0);
    (void)old;
}
