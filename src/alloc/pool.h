/* pool.h: arenas, pools and size classes; the allocator's inner structures.
 *
 *   arena (1 MiB, aligned to 1 MiB, one mmap)
 *   +-----------+-----------+-----------+---   ---+-----------+
 *   |  pool 0   |  pool 1   |  pool 2   |   ...   |  pool 15  |   64 KiB each
 *   +-----------+-----------+-----------+---   ---+-----------+
 *   pool memory: [ block | block | ... | block | uncarved ... | slack ]
 *                  ^mem                        ^carved         ^limit
 *
 *   descriptor (struct rc_arena, bookkeeping memory outside the arena):
 *   [ heap, base | pool descriptor 0 | ... | pool descriptor 15 | lists ]
 *
 * A pool holds blocks of one kind (raw or object) and one size class. Its
 * descriptor (struct rc_pool, one 64-byte cache line; the arena descriptor
 * is allocated 64-aligned) is not at the start of the pool, as
 * in CPython, but in an array in its arena's descriptor, as mimalloc keeps
 * its page descriptors: the aligned headers of inline pools all fall in
 * the same few cache sets (8 of them fit in L1 at once), which made a
 * random malloc/free churn miss the cache on most frees; the arena map
 * lookup that every free needs anyway gives the arena, and
 * pool = &arena->pools[(address >> 16) % 16]. It also gives every pool the
 * whole 64 KiB (4096 blocks of 16 bytes, 128 of 512), and leaves the arena's
 * pages untouched until blocks are carved from them.
 *
 * Pools are 64 KiB, as mimalloc's small pages, not CPython's 16 KiB: the
 * descriptors are the allocator's only memory beside the blocks, 64 bytes
 * a pool, so 16 KiB pools cost 0.39% of every arena (a long-lived tree of
 * 32-byte objects took 32.13 anonymous bytes a node, glibc 32.00) and 64
 * KiB pools 0.1% (32.04). Lazy carving keeps a pool's untouched pages free
 * of memory. See docs/allocator.md.
 *
 * Pool invariants (rc_pool_is_valid checks them):
 *   used + length(free list) + (limit - carved) / size == capacity(class)
 *   every free-list block lies in [mem, mem + carved), on a block boundary;
 *   a free block's link is at byte offset 8 (offset 0 of an object block
 *   holds the refcount, which the collector reads);
 *   in an object pool, the first 8 bytes of every carved block that is not
 *   handed out are zero: the refcount, which alloc.h promises, and the
 *   header's gc_bits, which the collector's pool scan tests;
 *   a pool of a mapped arena is in use (used > 0: on its used list, or
 *   off it and full, its free key then carrying RC_FREE_KEY_OFF_LIST) or
 *   free (used == 0, on its arena's free-pool list or untouched, its key
 *   carrying RC_FREE_KEY_OFF_LIST or being RC_FREE_KEY_NONE).
 *
 * Blocks are carved lazily, from `carved` up to `limit`, so an arena's
 * untouched pages cost no memory: RC_CARVE_FIRST bytes' worth first, then
 * as many as are carved already, up to RC_CARVE_BATCH at a time, so that a
 * pool emptied soon after it was taken (a small structure made and freed,
 * which sends the pool back to its arena) carved few blocks it never used.
 */
#ifndef RC_ALLOC_POOL_H
#define RC_ALLOC_POOL_H

#include "alloc.h"
#include "../runtime/heap.h"

#include <stddef.h>

#if RC_SANITIZE
#include <sanitizer/asan_interface.h>
#endif

#define RC_POOL_SHIFT          16
#define RC_CARVE_BATCH         4096 /* most bytes carved into the free list at a time */
#define RC_CARVE_FIRST         1024 /* the first carve of a pool taken from its arena */
#define RC_POOL_CAPACITY(size) (RC_POOL_SIZE / (size))
#define RC_POOL_MAX_BLOCKS     RC_POOL_CAPACITY(RC_SIZE_CLASS_STEP)
#define RC_LIVE_WORDS          ((RC_POOL_MAX_BLOCKS + 63) / 64)
/* A pool whose free list runs out at the head of its used list moves to
 * the tail (`skipped`): there it gathers the blocks freed into it while the
 * pools ahead of it are used up, and those frees stay on the fast path
 * (mimalloc's order, not CPython's). Only a pool that comes round to the
 * head still empty, having had no free for a whole round, is full: it
 * leaves the list, and its first free takes the slow path and puts it back
 * at the tail. Unlinking every pool that ran out, as soon as it did, made
 * a random churn take a free slow path for 4% of its frees; waiting for
 * more free blocks than one before relinking left freed blocks unusable (an
 * allocation may then map an arena, or fail, while a full pool holds free
 * blocks). Figures: docs/allocator.md. */

typedef struct rc_pool {
    /* hot: read by every free (the first 20 bytes of its cache line) */
    char *freeblock; /* free list head; link at offset 8 */
    /* RC_FREE_KEY(heap, kind) and flags, or RC_FREE_KEY_NONE. Any thread
     * freeing a block of the pool reads it, while the owner may change its
     * flags: relaxed atomics (plain moves), since a thread that does not
     * own the heap never finds its own heap there, whatever flags it reads
     * (rc_pool_free_key, rc_pool_set_free_key) */
    _Atomic(uintptr_t) free_key;
    uint32_t used;   /* blocks handed out */
    uint32_t carved; /* bytes of mem carved into blocks */

    struct rc_pool *next; /* used list, or arena free-pool list */
    struct rc_pool *prev; /* used list */
    char *mem;            /* the pool's RC_POOL_SIZE bytes */
    uint32_t limit;       /* capacity * block size */
    uint8_t cls;          /* size class */
    uint8_t kind;         /* rc_block_kind */
    uint8_t index;        /* in its arena */
    /* the allocation slow path moved this pool, its free list empty, from
     * the head of its used list to the tail, and has not allocated from it
     * since; found so at the head again, it is full and leaves the list */
    uint8_t skipped;
    /* the tracer's side table for this pool's blocks (src/trace), or NULL;
     * a free of a pool with one tells hooks.trace_free, and the tracer's
     * hooks.trace_pool_empty releases it when the pool empties */
    void *side;
} __attribute__((aligned(64))) rc_pool;

/* What the free fast paths compare with the heap freeing (rc_free: the
 * caller's current heap): the owning heap for a raw pool, the heap tagged
 * with 1 for an object pool, so that one compare checks both the kind and
 * the owner. A flag added to the key sends every free of the pool to the
 * slow path (heaps are 16-aligned: bits 1..3 are free):
 *   RC_FREE_KEY_DEBUG     a debug heap's pool;
 *   RC_FREE_KEY_TRACED    every pool of a heap while tracing is on
 *                         (rc_alloc_set_traced), so a pool the tracer
 *                         watches (side set: trace_state.h) needs no test;
 *   RC_FREE_KEY_OFF_LIST  a pool off its used list: full (its first free
 *                         puts it back), or holding no block (in its arena;
 *                         a free there is a double free).
 * A pool never initialized holds RC_FREE_KEY_NONE, which is no heap either.
 * So a key that matches says everything the fast path needs to know but
 * whether the free empties the pool: it pushes the block and checks that
 * the count did not reach zero (rc_pool_push). */
#define RC_FREE_KEY(heap, kind) ((uintptr_t)(heap) | (uintptr_t)(kind))
#define RC_FREE_KEY_NONE        ((uintptr_t)1)
#define RC_FREE_KEY_DEBUG       ((uintptr_t)2)
#define RC_FREE_KEY_TRACED      ((uintptr_t)4)
#define RC_FREE_KEY_OFF_LIST    ((uintptr_t)8)
_Static_assert(RC_BLOCK_RAW == 0 && RC_BLOCK_OBJECT == 1, "the kind tags the key");

static inline uintptr_t rc_pool_free_key(const rc_pool *pool)
{
    return atomic_load_explicit(&pool->free_key, memory_order_relaxed);
}

static inline void rc_pool_set_free_key(rc_pool *pool, uintptr_t key)
{
    atomic_store_explicit(&pool->free_key, key, memory_order_relaxed);
}

/* The free key of a pool of heap, of the given kind, on its used list. */
static inline uintptr_t rc_pool_key(const rc_heap *heap, unsigned kind)
{
    return RC_FREE_KEY(heap, kind) | (heap->alloc.debug ? RC_FREE_KEY_DEBUG : 0) |
           (heap->alloc.traced ? RC_FREE_KEY_TRACED : 0);
}

typedef struct rc_arena {
    rc_heap *heap;                     /* owner (free slow paths; the fast path reads free_key) */
    char *base;                        /* 1 MiB aligned */
    rc_pool pools[RC_POOLS_PER_ARENA]; /* at offset 64: a cache line each */
    struct rc_arena *next;             /* heap's usable list, fewest free pools first */
    struct rc_arena *prev;
    struct rc_arena *all_next; /* every arena of the heap */
    struct rc_arena *all_prev;
    rc_pool *freepools; /* pools used before, free now */
    unsigned nfree;     /* free pools: on freepools or never touched */
    unsigned ntouched;  /* pools [0, ntouched) were initialized */
#if RC_CHECKS >= 1
    /* a bit per block handed out: exact double-free detection */
    uint64_t live[RC_POOLS_PER_ARENA][RC_LIVE_WORDS];
#endif
} rc_arena;

_Static_assert(sizeof(rc_pool) == 64, "a pool descriptor is a cache line");
_Static_assert(RC_ARENA_SIZE % RC_POOL_SIZE == 0, "arenas hold whole pools");
_Static_assert(((size_t)1 << RC_POOL_SHIFT) == RC_POOL_SIZE, "pool shift");
_Static_assert(RC_POOLS_PER_ARENA <= 255, "a pool index fits uint8_t");
_Static_assert(RC_POOL_SIZE <= UINT32_MAX, "pool offsets fit uint32_t");
_Static_assert(RC_SIZE_CLASSES *RC_SIZE_CLASS_STEP == RC_SMALL_MAX, "classes cover 1..512");
_Static_assert(RC_SIZE_CLASSES <= 256, "a class fits uint8_t");
_Static_assert(RC_POOL_CAPACITY(RC_SMALL_MAX) >= 16, "big classes still share a pool");
_Static_assert(RC_POOL_SIZE % RC_SMALL_MAX == 0, "the largest class wastes nothing");
_Static_assert(RC_CARVE_FIRST >= RC_SMALL_MAX && RC_CARVE_FIRST <= RC_CARVE_BATCH,
               "a carve batch holds a block");

/* The size-class table: class c holds blocks of rc_class_size[c] bytes. */
RC_INTERNAL extern const uint16_t rc_class_size[RC_SIZE_CLASSES];
/* The empty used list: its free list is NULL and it is never written. */
RC_INTERNAL extern const rc_pool rc_pool_sentinel;
#define RC_POOL_SENTINEL ((rc_pool *)&rc_pool_sentinel)

static inline unsigned rc_class_of(size_t size) /* 1 <= size <= RC_SMALL_MAX */
{
    return (unsigned)((size - 1) >> 4);
}

/* The pool holding p, an address inside arena. */
static inline rc_pool *rc_pool_of(rc_arena *arena, const void *p)
{
    /* &pools[(p >> RC_POOL_SHIFT) % 64], with one shift and one mask */
    uintptr_t offset =
        ((uintptr_t)p >> (RC_POOL_SHIFT - 6)) & ((uintptr_t)(RC_POOLS_PER_ARENA - 1) << 6);
    return (rc_pool *)((char *)arena->pools + offset);
}

static inline rc_arena *rc_pool_arena(const rc_pool *pool)
{
    return (rc_arena *)((char *)(pool - pool->index) - offsetof(rc_arena, pools));
}

static inline size_t rc_pool_block_size(const rc_pool *pool)
{
    return ((size_t)pool->cls + 1) * RC_SIZE_CLASS_STEP;
}

/* ---- AddressSanitizer poisoning: free blocks and uncarved memory ------ */

#if RC_SANITIZE
#define RC_POISON(p, n)   ASAN_POISON_MEMORY_REGION((p), (n))
#define RC_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define RC_POISON(p, n)   ((void)(p), (void)(n))
#define RC_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

/* A free block is poisoned whole, except an object block's dead word (the
 * collector reads refcnt: the 8 bytes at the user pointer, block_layout.h);
 * links are reached by the helpers below. */
static inline void rc_block_poison(char *b, const rc_pool *pool)
{
#if RC_SANITIZE
    RC_POISON(b, rc_pool_block_size(pool));
    if (pool->kind == RC_BLOCK_OBJECT)
        RC_UNPOISON(b + rc_pool_arena(pool)->heap->alloc.front, sizeof(uint64_t));
#else
    (void)b, (void)pool;
#endif
}

static inline char *rc_block_next(char *b)
{
    RC_UNPOISON(b + 8, sizeof(char *));
    char *next = *(char **)(b + 8);
    RC_POISON(b + 8, sizeof(char *));
    return next;
}

static inline void rc_block_set_next(char *b, char *next)
{
    RC_UNPOISON(b + 8, sizeof(char *));
    *(char **)(b + 8) = next;
    RC_POISON(b + 8, sizeof(char *));
}

/* ---- debug: which blocks are handed out (RC_CHECKS >= 1) ------------- */

#if RC_CHECKS >= 1
static inline uint64_t *rc_live_word(const rc_pool *pool, const char *b, uint64_t *bit)
{
    size_t index = (size_t)(b - pool->mem) / rc_pool_block_size(pool);
    *bit = (uint64_t)1 << (index % 64);
    return &rc_pool_arena(pool)->live[pool->index][index / 64];
}
#endif

static inline void rc_live_mark(const rc_pool *pool, const char *b)
{
#if RC_CHECKS >= 1
    uint64_t bit, *word = rc_live_word(pool, b, &bit);
    RC_ASSERT(!(*word & bit));
    *word |= bit;
#else
    (void)pool, (void)b;
#endif
}

/* ---- the fast paths ---------------------------------------------------- */

RC_INTERNAL void *rc_pool_alloc_slow(rc_heap *heap, rc_block_kind kind, unsigned cls);
RC_INTERNAL void rc_pool_free_slow(rc_heap *heap, rc_pool *pool, char *b);
/* A free of b emptied pool, which is on its used list: off the list, back
 * to its arena. Stops the process first if b is not at a block boundary
 * (a pointer into the pool that is no block), as the slow path would. */
RC_INTERNAL void rc_pool_emptied(rc_heap *heap, rc_pool *pool, char *b);

/* Whether a pool in use is on its used list (off it, it is full). */
static inline bool rc_pool_on_used_list(const rc_pool *pool)
{
    return !(rc_pool_free_key(pool) & RC_FREE_KEY_OFF_LIST);
}

/* The first block of pool's free list, taken; NULL if the list is empty
 * (the empty sentinel's always is). */
static inline void *rc_pool_pop(rc_pool *pool)
{
    char *b = pool->freeblock;
    if (RC_UNLIKELY(b == NULL))
        return NULL;
    pool->freeblock = rc_block_next(b);
    pool->used++;
    RC_UNPOISON(b, rc_pool_block_size(pool));
    rc_live_mark(pool, b);
    return b;
}

/* Whether a request of size bytes may take the allocation fast path:
 * 1..512 bytes (size 0 wraps) on a plain heap while tracing is off
 * (fast_max: alloc_state.h). */
static inline bool rc_alloc_is_fast(const rc_heap *heap, size_t size)
{
    return size - 1 < heap->alloc.fast_max;
}

/* The fast path's block for a request of size bytes (1..512) of kind: the
 * first free block of its class's first used pool; NULL if there is none
 * (the slow path's case). */
static inline void *rc_alloc_fast_pop(rc_heap *heap, size_t size, rc_block_kind kind)
{
    return rc_pool_pop(heap->alloc.used[kind][(size - 1) >> 4]); /* rc_class_of */
}

static inline void *rc_pool_alloc(rc_heap *heap, rc_block_kind kind, unsigned cls)
{
    void *b = rc_pool_pop(heap->alloc.used[kind][cls]);
    return RC_LIKELY(b != NULL) ? b : rc_pool_alloc_slow(heap, kind, cls);
}

/* Frees block b of pool, whose free key matched the heap freeing it (see
 * RC_FREE_KEY: the pool is on its used list, and neither traced nor a
 * debug heap's). Only a block at the head of the free list (a double free)
 * and the debug builds' checks take the slow path before the push; a pool
 * the free empties goes back to its arena after it (rc_pool_emptied, which
 * also makes the slow path's check that b is a block). */
static inline void rc_pool_push(rc_heap *heap, rc_pool *pool, char *b)
{
    char *head = pool->freeblock;
    if (RC_UNLIKELY(head == b || RC_CHECKS >= 1 || RC_SANITIZE)) {
        rc_pool_free_slow(heap, pool, b);
        return;
    }
    *(char **)(b + 8) = head;
    pool->freeblock = b;
    if (RC_UNLIKELY(--pool->used == 0))
        rc_pool_emptied(heap, pool, b);
}

/* Frees block b, of the given kind, of pool, on a heap the caller may work
 * on: the fast path if the pool's key says so, else the slow path (which
 * tells the tracer, puts a full pool back on its list, checks a debug
 * heap's and misused blocks). */
static inline void rc_pool_free(rc_heap *heap, rc_pool *pool, char *b, rc_block_kind kind)
{
    if (RC_LIKELY(rc_pool_free_key(pool) == RC_FREE_KEY(heap, kind)))
        rc_pool_push(heap, pool, b);
    else
        rc_pool_free_slow(heap, pool, b);
}

/* ---- arenas (arena.c) ------------------------------------------------ */

/* A free pool of the heap, taken out of its arena (mapping a new arena if
 * needed); NULL with a message if memory is short. Its header is stale. */
RC_INTERNAL rc_pool *rc_arena_take_pool(rc_heap *heap);
/* Gives an empty pool back to its arena; may unmap the arena. */
RC_INTERNAL void rc_arena_return_pool(rc_heap *heap, rc_pool *pool);
/* Unmaps every arena of the heap (rc_alloc_fini). */
RC_INTERNAL void rc_arena_release_all(rc_heap *heap);
/* Unmaps the wholly free arenas kept as spares (rc_heap_trim); the bytes. */
RC_INTERNAL size_t rc_arena_trim(rc_heap *heap);

/* ---- pools (pool.c) ---------------------------------------------------- */

/* The capacity of a pool of class cls, and whether b is a block boundary
 * of pool below its carve limit. */
RC_INTERNAL extern const uint32_t rc_class_capacity[RC_SIZE_CLASSES];
static inline unsigned rc_pool_capacity(unsigned cls) { return rc_class_capacity[cls]; }
RC_INTERNAL extern const uint64_t rc_class_divisibility[RC_SIZE_CLASSES];
static inline bool rc_pool_is_block(const rc_pool *pool, const void *b)
{
    size_t offset = (size_t)((const char *)b - pool->mem); /* huge if b < mem */
    uint64_t m = rc_class_divisibility[pool->cls];
    return offset < pool->carved && (uint64_t)offset * m < m;
}
/* RC_CHECKS >= 2 (or tests): the pool equation and free-list checks. */
RC_INTERNAL bool rc_pool_is_valid(const rc_pool *pool);
/* The whole heap: arenas, lists, pools, large blocks. */
RC_INTERNAL bool rc_alloc_validate(rc_heap *heap);

#endif
