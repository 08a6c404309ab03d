/* validate.c: rc_alloc_validate, the checker behind the invariants stated
 * in alloc_state.h, pool.h, arena.c and large.c. Run by the expensive
 * assertions (RC_CHECKS >= 2) and by the tests. Reports the first broken
 * invariant on stderr and returns false.
 */
#include "arena_map.h"
#include "debug_guard.h"
#include "large.h"

static bool broken(const char *what, const void *where)
{
    fprintf(stderr, "rc_alloc_validate: %s (%p)\n", what, where);
    return false;
}

/* Counts the pools of the list in *listed. */
static bool used_list_ok(rc_heap *heap, unsigned kind, unsigned cls, size_t *listed)
{
    const rc_pool *head = heap->alloc.used[kind][cls];
    if (head == RC_POOL_SENTINEL)
        return true;
    const rc_pool *prev = NULL;
    for (const rc_pool *p = head; p; prev = p, p = p->next) {
        ++*listed;
        if (p->prev != prev || !rc_pool_on_used_list(p))
            return broken("used list links", p);
        if (p->kind != kind || p->cls != cls || rc_pool_arena(p)->heap != heap || p->used == 0)
            return broken("pool on the wrong used list", p);
        if (!rc_pool_is_valid(p))
            return broken("pool equation or free list", p);
    }
    return true;
}

/* Counts the pools in use whose key says they are on a used list in
 * *listed. */
static bool arena_pools_ok(rc_heap *heap, const rc_arena *a, size_t *listed)
{
    if (a->heap != heap || rc_arena_map_get(a->base) != a)
        return broken("arena not in the arena map", a);
    unsigned nfree = RC_POOLS_PER_ARENA - a->ntouched;
    for (const rc_pool *p = a->freepools; p; p = p->next) {
        if (p->used != 0 || rc_pool_arena(p) != a || ++nfree > RC_POOLS_PER_ARENA)
            return broken("arena free-pool list", p);
        if (p->next && p->next->index <= p->index) /* reused lowest first: arena.c */
            return broken("arena free-pool list out of address order", p);
    }
    if (nfree != a->nfree)
        return broken("arena free-pool count", a);
    for (unsigned i = 0; i < a->ntouched; i++) {
        const rc_pool *p = &a->pools[i];
        if (p->used == 0)
            continue;
        if (p->index != i || p->mem != a->base + (size_t)i * RC_POOL_SIZE || !rc_pool_is_valid(p))
            return broken("pool in use", p);
        unsigned capacity = rc_pool_capacity(p->cls);
        if ((rc_pool_free_key(p) & ~RC_FREE_KEY_OFF_LIST) != rc_pool_key(heap, p->kind))
            return broken("pool's free key", p);
        if (!rc_pool_on_used_list(p) && (p->used != capacity || p->carved < p->limit))
            return broken("pool with room off its used list", p);
        *listed += rc_pool_on_used_list(p);
    }
    return true;
}

static bool usable_list_ok(const rc_alloc_state *st)
{
    size_t spares = 0;
    const rc_arena *prev = NULL;
    for (const rc_arena *a = st->usable; a; prev = a, a = a->next) {
        if (a->prev != prev || a->nfree == 0 || (prev && prev->nfree > a->nfree))
            return broken("usable arenas out of order", a);
        bool last_of_count = !a->next || a->next->nfree != a->nfree;
        if ((st->nfp2lasta[a->nfree] == a) != last_of_count)
            return broken("nfp2lasta", a);
        if (a->nfree == RC_POOLS_PER_ARENA && ++spares > rc_arena_spares_kept(st))
            return broken("more wholly free arenas than are kept", a);
    }
    if (spares != st->arenas_empty)
        return broken("wholly free arenas miscounted", st);
    for (unsigned n = 0; n <= RC_POOLS_PER_ARENA; n++) {
        if (st->nfp2lasta[n] && st->nfp2lasta[n]->nfree != n)
            return broken("nfp2lasta names an arena of another count", st->nfp2lasta[n]);
    }
    return true;
}

static bool large_list_ok(rc_heap *heap)
{
    const rc_alloc_state *st = &heap->alloc;
    size_t count = 0, bytes = 0;
    const rc_large *prev = NULL;
    for (const rc_large *h = st->large; h; prev = h, h = h->next) {
        if (h->prev != prev || h->heap != heap || rc_large_of(h + 1) != h)
            return broken("large block list", h);
        if (rc_large_is_mapped(h) &&
            (h->map_len % RC_LARGE_PAGE != 0 || h->map_len < sizeof *h + h->size))
            return broken("large block's mapping length", h); /* map_len: large.h */
        count++;
        bytes += h->size;
    }
    if (count != st->large_blocks || bytes != st->large_bytes)
        return broken("large block counts", heap);
    return true;
}

bool rc_alloc_validate(rc_heap *heap)
{
    const rc_alloc_state *st = &heap->alloc;
    for (unsigned c = 0; c < RC_SIZE_CLASSES; c++) {
        if (rc_class_size[c] != (c + 1) * RC_SIZE_CLASS_STEP)
            return broken("size class table", &rc_class_size[c]);
    }
    if (rc_pool_sentinel.freeblock != NULL)
        return broken("the empty-list sentinel was written", &rc_pool_sentinel);
    if (st->fast_max != (st->traced ? 0 : st->inline_max)) /* rc_alloc_set_traced */
        return broken("fast_max out of step with inline_max and traced", heap);
    size_t on_lists = 0, marked_on_lists = 0;
    for (unsigned k = 0; k < RC_BLOCK_KINDS; k++)
        for (unsigned c = 0; c < RC_SIZE_CLASSES; c++)
            if (!used_list_ok(heap, k, c, &on_lists))
                return false;
    size_t arenas = 0;
    for (const rc_arena *a = st->arenas; a; a = a->all_next) {
        arenas++;
        if (!arena_pools_ok(heap, a, &marked_on_lists))
            return false;
        if (a->nfree > 0 && !a->prev && st->usable != a)
            return broken("arena with free pools off the usable list", a);
    }
    if (arenas != st->arenas_current)
        return broken("arena count", heap);
    if (on_lists != marked_on_lists) /* a pool whose key says listed, but is not */
        return broken("pools on used lists", heap);
    return usable_list_ok(st) && large_list_ok(heap) && rc_debug_validate(heap);
}
