/* arena.c: a heap's arenas, and the pools they hand out.
 *
 * Invariants (rc_alloc_validate checks them):
 *   arena->nfree == length(arena->freepools) + (RC_POOLS_PER_ARENA - ntouched)
 *   the heap's usable list holds exactly the arenas with nfree > 0, sorted
 *   by nfree ascending; nfp2lasta[n] is the last of them with nfree == n;
 *   the arenas with every pool free (the spares) are the last of the usable
 *   list, st->arenas_empty of them, at most rc_arena_spares_kept(st).
 *
 * Policy (CPython's obmalloc): pools are taken from the arena with the
 * fewest free pools, so that busy arenas fill up and lightly used ones
 * drain and can be unmapped. Re-sorting after a pool comes back is O(1)
 * with nfp2lasta: the arena moves just past the last arena that had its old
 * count. Keeping wholly free arenas avoids mapping and unmapping an arena
 * on every iteration of a loop that allocates and frees one block at an
 * arena boundary (bpo-37257, where CPython keeps one), and keeping several
 * spares a program that builds and frees structures of a few MiB over and
 * over the page faults of mapping them again, the most expensive part of an
 * allocation on a fresh page. How many: RC_EMPTY_ARENAS_KEPT, and one more
 * for every arena in use, up to RC_EMPTY_ARENAS_MAX (a garbage-collected
 * runtime's heap that may grow to twice what is live before it gives
 * memory back), so that temporary structures as big as the live heap are
 * spared the faults too, while a heap that frees everything keeps only the
 * floor. The oldest spare goes first. Within an arena, pools used before
 * are reused first (their pages are resident), then untouched ones in order. The descriptor comes
 * from the system allocator (bookkeeping; RC_FAULT_MALLOC).
 *
 * Order (for the collector's full sweep, src/gc/collect_full.c, which takes
 * the arenas in the order of the heap's list, oldest first, and each
 * arena's pools by address): an arena's free pools are reused lowest
 * address first (the free-pool list is kept sorted: untouched pools lie
 * above every touched one, so the arena is filled upwards), and an arena
 * started on again once wholly free moves to the front of the list, as a
 * new one goes. Then a structure built in one go lies in the list's order,
 * however the arenas were mapped and reused.
 */
#include "arena_map.h"
#include "large.h"
#include "sys.h"

#include <string.h>

/* ---- the usable list ------------------------------------------------ */

static void usable_unlink(rc_alloc_state *st, rc_arena *a)
{
    if (a->prev)
        a->prev->next = a->next;
    else
        st->usable = a->next;
    if (a->next)
        a->next->prev = a->prev;
    a->next = a->prev = NULL;
}

static void usable_insert_after(rc_alloc_state *st, rc_arena *a, rc_arena *after)
{
    a->prev = after;
    a->next = after ? after->next : st->usable;
    if (a->next)
        a->next->prev = a;
    if (after)
        after->next = a;
    else
        st->usable = a;
}

/* ---- the list of all arenas (newest, or last started on, first) ------ */

static void arenas_push(rc_alloc_state *st, rc_arena *a)
{
    a->all_prev = NULL;
    a->all_next = st->arenas;
    if (st->arenas)
        st->arenas->all_prev = a;
    st->arenas = a;
}

static void arenas_unlink(rc_alloc_state *st, rc_arena *a)
{
    if (a->all_prev)
        a->all_prev->all_next = a->all_next;
    else
        st->arenas = a->all_next;
    if (a->all_next)
        a->all_next->all_prev = a->all_prev;
}

/* ---- mapping and unmapping -------------------------------------------- */

static rc_arena *arena_new(rc_heap *heap)
{
    rc_alloc_state *st = &heap->alloc;
    rc_arena *a = rc_sys_malloc_aligned(heap, _Alignof(rc_arena), sizeof *a);
    if (!a)
        return NULL;
    memset(a, 0, sizeof *a);
    a->base = rc_sys_map_arena(heap);
    if (!a->base) {
        rc_sys_free(heap, a);
        return NULL;
    }
    a->heap = heap;
    a->nfree = RC_POOLS_PER_ARENA;
    for (unsigned i = 0; i < RC_POOLS_PER_ARENA; i++) {
        a->pools[i].index = (uint8_t)i;
        a->pools[i].free_key = RC_FREE_KEY_NONE;
        a->pools[i].mem = a->base + (size_t)i * RC_POOL_SIZE;
    }
    if (st->arenas_current > 0) /* see the policy above */
        rc_sys_populate_arena(a->base);
    RC_POISON(a->base, RC_ARENA_SIZE);
    if (rc_arena_map_add(a) != 0) {
        rc_sys_unmap_arena(a->base);
        rc_sys_free(heap, a);
        return NULL;
    }
    arenas_push(st, a);
    st->arenas_empty++; /* until take_pool takes its first pool */
    st->arenas_allocated++;
    if (++st->arenas_current > st->arenas_highwater)
        st->arenas_highwater = st->arenas_current;
    return a;
}

/* Unmaps a, which must be off the usable list. */
static void arena_free(rc_heap *heap, rc_arena *a)
{
    rc_alloc_state *st = &heap->alloc;
    if (a->nfree == RC_POOLS_PER_ARENA)
        st->arenas_empty--;
    arenas_unlink(st, a);
    rc_arena_map_remove(a);
    rc_sys_unmap_arena(a->base);
    rc_sys_free(heap, a);
    st->arenas_freed++;
    st->arenas_current--;
}

void rc_arena_release_all(rc_heap *heap)
{
    rc_alloc_state *st = &heap->alloc;
    while (st->arenas)
        arena_free(heap, st->arenas);
    st->usable = NULL;
    memset(st->nfp2lasta, 0, sizeof st->nfp2lasta);
}

/* Unmaps spares, the oldest first, until at most keep are left; returns
 * the bytes unmapped. The spares end the usable list (nfree ascending), the
 * one last emptied first of them (usable_resort puts it there): nfp2lasta
 * names the oldest, and the others of their count precede it. */
static size_t spares_trim(rc_heap *heap, size_t keep)
{
    rc_alloc_state *st = &heap->alloc;
    size_t freed = 0;
    rc_arena *a;
    while (st->arenas_empty > keep && (a = st->nfp2lasta[RC_POOLS_PER_ARENA]) != NULL) {
        rc_arena *p = a->prev;
        st->nfp2lasta[RC_POOLS_PER_ARENA] = p && p->nfree == RC_POOLS_PER_ARENA ? p : NULL;
        usable_unlink(st, a);
        arena_free(heap, a);
        freed += RC_ARENA_SIZE;
    }
    return freed;
}

size_t rc_arena_trim(rc_heap *heap) { return spares_trim(heap, 0); }

/* ---- taking and returning pools ------------------------------------- */

/* Moves a to the front of the heap's list of arenas, where a new arena
 * goes: the list is in the order the arenas were last started on. */
static void arenas_to_front(rc_alloc_state *st, rc_arena *a)
{
    if (!a->all_prev)
        return;
    arenas_unlink(st, a);
    arenas_push(st, a);
}

/* Puts pool on its arena's free-pool list, which is kept by address (pool
 * index), lowest first. */
static void freepools_insert(rc_arena *a, rc_pool *pool)
{
    rc_pool **at = &a->freepools;
    while (*at && (*at)->index < pool->index)
        at = &(*at)->next;
    pool->next = *at;
    *at = pool;
}

rc_pool *rc_arena_take_pool(rc_heap *heap)
{
    rc_alloc_state *st = &heap->alloc;
    rc_large_cache_tick(heap, false); /* the cache decays as pools come and go */
    rc_arena *a = st->usable;
    if (!a) {
        a = arena_new(heap);
        if (!a)
            return NULL;
        st->usable = a;
        st->nfp2lasta[a->nfree] = a;
    }
    /* a is the head, so it has the fewest free pools; taking one keeps the
     * order and only the nfp2lasta entries of a's old and new counts move */
    unsigned nf = a->nfree;
    RC_ASSERT(nf > 0 && a->prev == NULL);
    if (st->nfp2lasta[nf] == a)
        st->nfp2lasta[nf] = NULL;
    if (nf > 1) {
        RC_ASSERT(st->nfp2lasta[nf - 1] == NULL);
        st->nfp2lasta[nf - 1] = a;
    }
    a->nfree = nf - 1;
    if (a->nfree == 0)
        usable_unlink(st, a);
    if (nf == RC_POOLS_PER_ARENA) {
        st->arenas_empty--;
        arenas_to_front(st, a); /* started on again: as if new */
    }

    rc_pool *pool = a->freepools;
    if (pool) {
        a->freepools = pool->next;
    } else {
        RC_ASSERT(a->ntouched < RC_POOLS_PER_ARENA);
        pool = &a->pools[a->ntouched++];
    }
    return pool;
}

/* a got a free pool back and now has nf (> 1) free pools: restore the
 * order of the usable list by moving a past the last arena that had nf-1. */
static void usable_resort(rc_alloc_state *st, rc_arena *a, unsigned nf)
{
    rc_arena *lastnf = st->nfp2lasta[nf - 1];
    RC_ASSERT(lastnf != NULL);
    if (lastnf == a) {
        rc_arena *p = a->prev;
        st->nfp2lasta[nf - 1] = (p && p->nfree == nf - 1) ? p : NULL;
    }
    a->nfree = nf;
    if (st->nfp2lasta[nf] == NULL)
        st->nfp2lasta[nf] = a;
    if (lastnf == a)
        return; /* already the rightmost of its old count: in order */
    usable_unlink(st, a);
    usable_insert_after(st, a, lastnf);
}

void rc_arena_return_pool(rc_heap *heap, rc_pool *pool)
{
    rc_alloc_state *st = &heap->alloc;
    rc_large_cache_tick(heap, false);
    rc_arena *a = rc_pool_arena(pool);
    RC_ASSERT(pool->used == 0);
    if (pool->side)
        heap->hooks.trace_pool_empty(heap, pool);
    RC_ASSERT(pool->side == NULL);
    freepools_insert(a, pool);
    RC_POISON(pool->mem, RC_POOL_SIZE);

    unsigned nf = a->nfree + 1;
    if (nf == 1) {
        /* was full: it now has the fewest free pools of all */
        a->nfree = 1;
        usable_insert_after(st, a, NULL);
        if (!st->nfp2lasta[1])
            st->nfp2lasta[1] = a;
        return;
    }
    usable_resort(st, a, nf);
    if (nf == RC_POOLS_PER_ARENA) {
        /* a spare now, and one arena fewer in use: the number kept may
         * have dropped as the number of spares rose */
        st->arenas_empty++;
        spares_trim(heap, rc_arena_spares_kept(st));
    }
}
