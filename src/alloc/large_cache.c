/* large_cache.c: the heap's cache of freed large mappings, its decay, and
 * rc_heap_trim.
 *
 * Why. A mapped large block (large_map.c: 1 MiB or more) was unmapped at
 * its free, so a program that builds and drops big arrays over and over
 * (a list grown by appends, a dict's table, a string builder's buffer) had
 * the kernel fault in and zero fresh pages for every one of them: about a
 * third of a list append's time. mimalloc and jemalloc keep freed memory
 * for a while before they give it back (a purge delay, a decay); so does
 * this cache, with a bound on its bytes.
 *
 * What. An extent is a page-aligned range that held mapped blocks and
 * holds none now. Its first bytes hold its node (rc_large_extent): links
 * in address order, its length, when it was cached. The rest is poisoned
 * for AddressSanitizer and no-access for memcheck (rc_large_mark_cached),
 * so a use of a freed large block is still reported.
 *  - take: a new mapped block takes the smallest extent it fits in (best
 *    fit), from its start. The rest stays cached if it is at least
 *    RC_LARGE_MAP_MIN (it could hold a mapped block), else goes with the
 *    block, whose mapping is then longer than it needs (by less than
 *    1 MiB; it can grow into it without a call).
 *  - grow: a growing block takes the front of the extent that starts where
 *    its mapping ends, if there is one and it is long enough, the same way.
 *    So a list or table that outgrows its block, carved from the front of
 *    a large extent, grows through the rest of it with no system call and
 *    no page fault.
 *  - put: a freed mapping, or the tail a shrink cuts, is merged with the
 *    extents just before and after it (its node's time is then now); one
 *    shorter than RC_LARGE_MAP_MIN even so is unmapped.
 *  - bound: when the bytes cached pass cache->max, the extents cached
 *    longest lose their tails, or go whole, until they do not (evicted);
 *    a bound under RC_LARGE_MAP_MIN turns the cache off.
 *  - decay: an extent cached for decay_ns is unmapped (decayed) by the
 *    next large-block call that reads the clock (rc_large_cache_tick). The
 *    clock is read only while something is cached, on every call about a
 *    mapped block and on every CLOCK_EVERY-th other large-block call or
 *    pool taken from or given back to an arena (arena.c), and by
 *    rc_heap_stats, never on the small blocks' fast paths; decay_at (no
 *    extent decays before it) spares the walk.
 * Nothing here makes a system call that needs memory, except the unmaps;
 * the fault injection of large_map.c sees only the mappings the cache
 * could not supply.
 *
 * Invariants (rc_large_cache_is_valid): the extents are sorted by address,
 * page-aligned, at least RC_LARGE_MAP_MIN long, neither overlapping nor
 * touching (touching ones are merged); their lengths add up to
 * cache->bytes <= cache->max; no extent decays before decay_at. A
 * block's mapping and a cached extent never overlap (large.c hands ranges
 * back and forth whole).
 */
#include "large.h"
#include "sys.h"

#include <string.h>

#define NODE        sizeof(rc_large_extent)
#define KEEP_MIN    RC_LARGE_MAP_MIN /* the shortest extent kept */
#define CLOCK_EVERY 16u              /* large-block calls about small blocks per clock read */

static rc_large_cache *cache_of(rc_heap *heap) { return &heap->alloc.cache; }

static uint64_t add_saturated(uint64_t a, uint64_t b)
{
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

void rc_large_cache_init(rc_heap *heap, const rc_heap_options *options)
{
    size_t max = options->large_cache_bytes;
    uint64_t ms = options->large_cache_decay_ms;
    if (!ms)
        ms = RC_LARGE_CACHE_DEFAULT_DECAY_MS;
    *cache_of(heap) = (rc_large_cache){
        .max = max ? max : RC_LARGE_CACHE_DEFAULT_BYTES,
        .decay_ns = ms > UINT64_MAX / 1000000u ? UINT64_MAX : ms * 1000000u,
        .decay_at = UINT64_MAX,
    };
}

/* ---- the list ----------------------------------------------------------- */

static void extent_unlink(rc_large_cache *c, rc_large_extent *e)
{
    if (e->prev)
        e->prev->next = e->next;
    else
        c->extents = e->next;
    if (e->next)
        e->next->prev = e->prev;
}

/* Writes the node of extent [p, p + len) and links it between prev and
 * next (its neighbours in address order). */
static rc_large_extent *extent_link(rc_large_cache *c, char *p, size_t len, uint64_t since,
                                    rc_large_extent *prev, rc_large_extent *next)
{
    rc_large_mark_reused(p, NODE);
    rc_large_extent *e = (rc_large_extent *)(void *)p;
    *e = (rc_large_extent){.prev = prev, .next = next, .len = len, .since = since};
    if (prev)
        prev->next = e;
    else
        c->extents = e;
    if (next)
        next->prev = e;
    return e;
}

/* Unmaps cached bytes (poisoned: rc_large_mark_cached). */
static void unmap_cached(void *p, size_t len)
{
    rc_large_mark_reused(p, len);
    rc_large_unmap(p, len);
}

/* Unmaps e whole; its length. */
static size_t extent_unmap(rc_large_cache *c, rc_large_extent *e)
{
    size_t len = e->len;
    extent_unlink(c, e);
    c->bytes -= len;
    unmap_cached(e, len);
    return len;
}

/* Takes the first want bytes of e (want <= e->len), or all of it if the
 * rest would be too short to keep; the bytes taken, made usable. */
static size_t extent_take_front(rc_large_cache *c, rc_large_extent *e, size_t want)
{
    rc_large_extent *prev = e->prev, *next = e->next;
    size_t len = e->len;
    uint64_t since = e->since;
    size_t got = len - want < KEEP_MIN ? len : want;
    extent_unlink(c, e);
    c->bytes -= got;
    rc_large_mark_reused(e, got);
    if (got < len)
        extent_link(c, (char *)e + got, len - got, since, prev, next);
    return got;
}

/* After each change, in the expensive checks. */
static void check(rc_heap *heap)
{
    (void)heap;
    RC_ASSERT(!RC_EXPENSIVE || rc_large_cache_is_valid(heap));
}

/* ---- taking ------------------------------------------------------------- */

char *rc_large_cache_take(rc_heap *heap, size_t len, size_t *got)
{
    rc_large_cache *c = cache_of(heap);
    rc_large_extent *best = NULL;
    for (rc_large_extent *e = c->extents; e; e = e->next)
        if (e->len >= len && (!best || e->len < best->len))
            best = e;
    if (!best) {
        c->misses++;
        return NULL;
    }
    c->hits++;
    *got = extent_take_front(c, best, len);
    check(heap);
    return (char *)best;
}

size_t rc_large_cache_grow(rc_heap *heap, char *end, size_t need)
{
    rc_large_cache *c = cache_of(heap);
    rc_large_extent *e = c->extents;
    while (e && (char *)e < end)
        e = e->next;
    if (!e || (char *)e != end || e->len < need) {
        c->misses++;
        return 0;
    }
    c->hits++;
    size_t got = extent_take_front(c, e, need);
    check(heap);
    return got;
}

/* ---- putting back ------------------------------------------------------ */

/* The extent cached longest (the cache is not empty). */
static rc_large_extent *oldest(const rc_large_cache *c)
{
    rc_large_extent *old = c->extents;
    for (rc_large_extent *e = old->next; e; e = e->next)
        if (e->since < old->since)
            old = e;
    return old;
}

/* Unmaps the tails, or the whole, of the extents cached longest until the
 * cache is within its bound. */
static void evict_to_bound(rc_large_cache *c)
{
    while (c->bytes > c->max) {
        rc_large_extent *old = oldest(c);
        size_t excess = (c->bytes - c->max + RC_LARGE_PAGE - 1) & ~(RC_LARGE_PAGE - 1);
        if (old->len >= excess + KEEP_MIN) {
            old->len -= excess;
            c->bytes -= excess;
            c->evicted += excess;
            unmap_cached((char *)old + old->len, excess);
        } else {
            c->evicted += extent_unmap(c, old);
        }
    }
}

/* [p, p + len) added to the list, merged with the extents it touches; the
 * extent that holds it now. */
static rc_large_extent *insert_merged(rc_large_cache *c, char *p, size_t len, uint64_t now)
{
    rc_large_extent *prev = NULL, *next = c->extents;
    while (next && (char *)next < p) {
        prev = next;
        next = next->next;
    }
    RC_ASSERT(!prev || (char *)prev + prev->len <= p);
    RC_ASSERT(!next || p + len <= (char *)next);
    c->bytes += len;
    rc_large_extent *e;
    if (prev && (char *)prev + prev->len == p) {
        rc_large_mark_cached(p, len);
        prev->len += len;
        prev->since = now;
        e = prev;
    } else {
        e = extent_link(c, p, len, now, prev, next);
        rc_large_mark_cached(p + NODE, len - NODE);
    }
    if (next && p + len == (char *)next) {
        e->len += next->len;
        extent_unlink(c, next);
        rc_large_mark_cached(next, NODE);
    }
    return e;
}

void rc_large_cache_put(rc_heap *heap, char *p, size_t len)
{
    rc_large_cache *c = cache_of(heap);
    RC_ASSERT((uintptr_t)p % RC_LARGE_PAGE == 0 && len % RC_LARGE_PAGE == 0 && len > 0);
    if (!rc_large_cache_is_on(c)) {
        rc_large_unmap(p, len);
        return;
    }
    if (len > c->max) {
        c->evicted += len;
        rc_large_unmap(p, len);
        return;
    }
    uint64_t now = rc_sys_coarse_ns();
    rc_large_extent *e = insert_merged(c, p, len, now);
    if (e->len < KEEP_MIN) {
        extent_unmap(c, e);
    } else {
        uint64_t due = add_saturated(now, c->decay_ns);
        if (due < c->decay_at)
            c->decay_at = due;
        evict_to_bound(c);
    }
    check(heap);
}

/* ---- giving back -------------------------------------------------------- */

size_t rc_large_cache_release(rc_heap *heap)
{
    rc_large_cache *c = cache_of(heap);
    size_t bytes = 0;
    while (c->extents)
        bytes += extent_unmap(c, c->extents);
    c->decay_at = UINT64_MAX;
    return bytes;
}

/* Unmaps the extents due by now; decay_at becomes the next one's due. */
static RC_NOINLINE void decay(rc_large_cache *c, uint64_t now)
{
    uint64_t next_due = UINT64_MAX;
    rc_large_extent *after;
    for (rc_large_extent *e = c->extents; e; e = after) {
        after = e->next;
        uint64_t due = add_saturated(e->since, c->decay_ns);
        if (due <= now)
            c->decayed += extent_unmap(c, e);
        else if (due < next_due)
            next_due = due;
    }
    c->decay_at = next_due;
}

void rc_large_cache_tick(rc_heap *heap, bool mapped)
{
    rc_large_cache *c = cache_of(heap);
    if (RC_LIKELY(!c->extents))
        return;
    if (!mapped && ++c->calls % CLOCK_EVERY != 0)
        return;
    uint64_t now = rc_sys_coarse_ns();
    if (now >= c->decay_at)
        decay(c, now);
    check(heap);
}

size_t rc_heap_trim(rc_heap *heap)
{
    if (!heap && !(heap = rc_heap_for_call()))
        return 0;
    rc_heap_check_access(heap, "rc_heap_trim");
    rc_alloc_drain_remote(heap); /* their mappings join the cache first */
    return rc_large_cache_release(heap) + rc_arena_trim(heap);
}

/* ---- the checker --------------------------------------------------------- */

static bool broken(const char *what, const void *where)
{
    fprintf(stderr, "reclaim: large-block cache invalid: %s (at %p)\n", what, where);
    return false;
}

bool rc_large_cache_is_valid(rc_heap *heap)
{
    const rc_large_cache *c = cache_of(heap);
    size_t bytes = 0;
    const rc_large_extent *prev = NULL;
    for (const rc_large_extent *e = c->extents; e; prev = e, e = e->next) {
        if (e->prev != prev)
            return broken("links", e);
        if ((uintptr_t)e % RC_LARGE_PAGE != 0 || e->len % RC_LARGE_PAGE != 0 || e->len < KEEP_MIN)
            return broken("an extent not page-aligned, or too short", e);
        if (prev && (const char *)prev + prev->len >= (const char *)e)
            return broken("extents out of order, overlapping or touching", e);
        if (add_saturated(e->since, c->decay_ns) < c->decay_at)
            return broken("an extent due before decay_at", e);
        bytes += e->len;
    }
    if (bytes != c->bytes || bytes > c->max)
        return broken("byte count or bound", c);
    return true;
}
