/* large.h: blocks over RC_SMALL_MAX bytes, from the system allocator, or
 * from a mapping of their own from RC_LARGE_MAP_MIN bytes on (large.c
 * explains both, and how a foreign pointer is told apart safely), and the
 * cache of freed mappings (large_cache.c).
 */
#ifndef RC_ALLOC_LARGE_H
#define RC_ALLOC_LARGE_H

#include "pool.h"

typedef struct rc_large {
    struct rc_large *prev; /* the heap's list of large blocks */
    struct rc_large *next;
    rc_heap *heap;
    size_t size;     /* usable bytes, a multiple of 16 */
    uintptr_t magic; /* the block's address ^ RC_LARGE_LIVE while it lives */
    /* the tracer's record (src/trace): requested bytes and traceback index,
     * 0 while untraced; a free of a block with a traceback tells
     * hooks.trace_free */
    size_t trace_size;
    /* a mapped block's mapping: its length from the header on, a multiple
     * of 4 KiB, at least what the block needs (large.c); 0 if not mapped */
    size_t map_len;
    uint32_t trace_tb;
    uint8_t kind;   /* rc_block_kind */
    uint16_t shift; /* bytes from the system block's start to this header */
} rc_large;

_Static_assert(sizeof(rc_large) == 64, "large blocks stay 16-aligned; large.c's layout");

/* Whether h's block has a mapping of its own (large_map.c). */
static inline bool rc_large_is_mapped(const rc_large *h) { return h->map_len != 0; }

/* A large block of at least size bytes (zero-filled if zero); NULL with a
 * message. Does not call the out-of-memory hook (the caller does). */
RC_INTERNAL void *rc_large_alloc(rc_heap *heap, size_t size, rc_block_kind kind, bool zero);
RC_INTERNAL void rc_large_free(rc_heap *heap, rc_large *h);
/* Resizes h's block (same heap, new size > RC_SMALL_MAX); the new block,
 * or NULL with a message and h untouched. */
RC_INTERNAL void *rc_large_realloc(rc_heap *heap, rc_large *h, size_t size);
/* The header of live large block p, or NULL if p is not one. Never reads
 * outside the page of p, and reads nothing unless p's granule holds a live
 * large-block header. */
RC_INTERNAL rc_large *rc_large_of(const void *p);
/* Whether p looks like a large block freed already (for the message). */
RC_INTERNAL bool rc_large_was_freed(const void *p);
RC_INTERNAL void rc_large_free_all(rc_heap *heap);

static inline void *rc_large_block(rc_large *h) { return h + 1; }

/* ---- mappings of their own (large_map.c) ---------------------------------- */

/* The smallest page size: a page of 4 KiB never spans two real pages.
 * Mappings and cached extents are whole pages of it. */
#define RC_LARGE_PAGE ((size_t)4096)
/* A block whose header and bytes come to this many or more gets a mapping
 * of its own: huge pages, growth by mremap, memory back at its free. */
#define RC_LARGE_MAP_MIN   ((size_t)1 << 20)
#define RC_LARGE_HUGE_PAGE ((size_t)2 << 20) /* where mappings start; a huge page */
/* From this length on, a mapping's length is a multiple of 2 MiB. */
#define RC_LARGE_MAP_HUGE ((size_t)4 << 20)

/* A zero-filled mapping of len bytes (a multiple of 4 KiB) on a 2 MiB
 * boundary, advised to use huge pages; NULL with a message. */
RC_INTERNAL void *rc_large_map(rc_heap *heap, size_t len);
/* Mapping p of old_len bytes grown to len (multiples of 4 KiB, len >
 * old_len): in place if it can be, else moved to a 2 MiB boundary
 * (contents kept; copied only if p's range spans two of the system's
 * mappings, which mremap cannot move). NULL with a message, p untouched,
 * if it cannot grow. */
RC_INTERNAL void *rc_large_remap(rc_heap *heap, void *p, size_t old_len, size_t len);
RC_INTERNAL void rc_large_unmap(void *p, size_t len);
/* For the checkers, a range of a mapping that holds no block now (cached:
 * AddressSanitizer's poison, memcheck's no-access), or holds one again or
 * is about to be unmapped (unpoisoned, so that a later mapping there does
 * not start out poisoned; undefined: not zero). No-ops outside them. */
RC_INTERNAL void rc_large_mark_cached(void *p, size_t len);
RC_INTERNAL void rc_large_mark_reused(void *p, size_t len);

/* ---- the cache of freed mappings (large_cache.c) -------------------------- */

/* A cached extent's node, at its start. */
typedef struct rc_large_extent {
    struct rc_large_extent *prev, *next; /* address order */
    size_t len;                          /* bytes, a multiple of 4 KiB */
    uint64_t since;                      /* coarse ns: cached (or merged) then */
} rc_large_extent;

/* Whether the cache keeps anything: a bound under RC_LARGE_MAP_MIN, the
 * shortest extent kept, turns it off (rc_heap_options). */
static inline bool rc_large_cache_is_on(const rc_large_cache *cache)
{
    return cache->max >= RC_LARGE_MAP_MIN;
}
/* The bound and the delay from options (resolved: not NULL; 0: the
 * defaults). */
RC_INTERNAL void rc_large_cache_init(rc_heap *heap, const rc_heap_options *options);
/* A mapping of at least len bytes (a multiple of 4 KiB) from the cache,
 * its length in *got: len, or the whole extent if the rest could hold no
 * mapped block. Not zero. NULL if no extent is long enough (a miss). */
RC_INTERNAL char *rc_large_cache_take(rc_heap *heap, size_t len, size_t *got);
/* Grows the mapping that ends at end by at least need bytes taken from the
 * extent that starts there (or all of it, as for take); the bytes taken,
 * or 0 if there is no such extent or it is too short (a miss). */
RC_INTERNAL size_t rc_large_cache_grow(rc_heap *heap, char *end, size_t need);
/* Mapped range [p, p + len) (4 KiB multiples) holds no block any more:
 * cached, merged with its neighbours, or unmapped if the cache cannot keep
 * it. */
RC_INTERNAL void rc_large_cache_put(rc_heap *heap, char *p, size_t len);
/* Unmaps every cached extent; the bytes unmapped. */
RC_INTERNAL size_t rc_large_cache_release(rc_heap *heap);
/* The decay: unmaps the extents unused for the delay. Called on the
 * large-block paths and as arenas hand out and take back pools; reads the
 * clock only if something is cached, and then on every call about a mapped
 * block (mapped) but only on every 16th other. */
RC_INTERNAL void rc_large_cache_tick(rc_heap *heap, bool mapped);
/* Whether the cache's invariants hold (large_cache.c); false with a report
 * on stderr. */
RC_INTERNAL bool rc_large_cache_is_valid(rc_heap *heap);

#endif
