/* pool.c: size classes, and the slow paths of pools.
 *
 * The pool equation (pool.h), checked by rc_pool_is_valid:
 *   used + length(free list) + (limit - carved) / size == capacity
 * The fast paths (pool.h) pop and push the free list; this file handles
 * what they leave: carving fresh blocks, moving a full pool off its used
 * list and back on when a block comes free, taking a pool from an arena
 * and giving an empty one back, and the misuse checks of a free.
 */
#include "arena_map.h"

#include <string.h>

const uint16_t rc_class_size[RC_SIZE_CLASSES] = {
    16,  32,  48,  64,  80,  96,  112, 128, 144, 160, 176, 192, 208, 224, 240, 256,
    272, 288, 304, 320, 336, 352, 368, 384, 400, 416, 432, 448, 464, 480, 496, 512,
};
_Static_assert(sizeof rc_class_size / sizeof rc_class_size[0] == RC_SIZE_CLASSES,
               "one size per class");

/* For each class, M = 2^64 / size rounded up: n is a multiple of size
 * exactly when n * M (mod 2^64) < M, for every 32-bit n (Lemire, Kaser and
 * Kurz, "Faster remainder by direct computation", 2019). So checking that a
 * pointer is at a block boundary costs a multiply, not a division. */
#define RC_DIVISIBILITY(size) (UINT64_MAX / (size) + 1)
const uint64_t rc_class_divisibility[RC_SIZE_CLASSES] = {
    RC_DIVISIBILITY(16),  RC_DIVISIBILITY(32),  RC_DIVISIBILITY(48),  RC_DIVISIBILITY(64),
    RC_DIVISIBILITY(80),  RC_DIVISIBILITY(96),  RC_DIVISIBILITY(112), RC_DIVISIBILITY(128),
    RC_DIVISIBILITY(144), RC_DIVISIBILITY(160), RC_DIVISIBILITY(176), RC_DIVISIBILITY(192),
    RC_DIVISIBILITY(208), RC_DIVISIBILITY(224), RC_DIVISIBILITY(240), RC_DIVISIBILITY(256),
    RC_DIVISIBILITY(272), RC_DIVISIBILITY(288), RC_DIVISIBILITY(304), RC_DIVISIBILITY(320),
    RC_DIVISIBILITY(336), RC_DIVISIBILITY(352), RC_DIVISIBILITY(368), RC_DIVISIBILITY(384),
    RC_DIVISIBILITY(400), RC_DIVISIBILITY(416), RC_DIVISIBILITY(432), RC_DIVISIBILITY(448),
    RC_DIVISIBILITY(464), RC_DIVISIBILITY(480), RC_DIVISIBILITY(496), RC_DIVISIBILITY(512),
};
#undef RC_DIVISIBILITY

const rc_pool rc_pool_sentinel = {.freeblock = NULL};

/* RC_POOL_CAPACITY of each class, so that the slow paths do not divide. */
#define C(size) RC_POOL_CAPACITY(size)
const uint32_t rc_class_capacity[RC_SIZE_CLASSES] = {
    C(16),  C(32),  C(48),  C(64),  C(80),  C(96),  C(112), C(128), C(144), C(160), C(176),
    C(192), C(208), C(224), C(240), C(256), C(272), C(288), C(304), C(320), C(336), C(352),
    C(368), C(384), C(400), C(416), C(432), C(448), C(464), C(480), C(496), C(512),
};
#undef C

/* ---- used lists ---------------------------------------------------- */

static void used_link_head(rc_alloc_state *st, rc_pool *pool)
{
    rc_pool **head = &st->used[pool->kind][pool->cls];
    pool->prev = NULL;
    pool->next = *head == RC_POOL_SENTINEL ? NULL : *head;
    if (pool->next)
        pool->next->prev = pool;
    else
        st->used_tail[pool->kind][pool->cls] = pool;
    *head = pool;
    rc_pool_set_free_key(pool, rc_pool_free_key(pool) & ~RC_FREE_KEY_OFF_LIST);
}

static void used_link_tail(rc_alloc_state *st, rc_pool *pool)
{
    rc_pool **tail = &st->used_tail[pool->kind][pool->cls];
    if (st->used[pool->kind][pool->cls] == RC_POOL_SENTINEL) {
        used_link_head(st, pool);
        return;
    }
    pool->next = NULL;
    pool->prev = *tail;
    (*tail)->next = pool;
    *tail = pool;
    rc_pool_set_free_key(pool, rc_pool_free_key(pool) & ~RC_FREE_KEY_OFF_LIST);
}

static void used_unlink(rc_alloc_state *st, rc_pool *pool)
{
    if (pool->prev)
        pool->prev->next = pool->next;
    else
        st->used[pool->kind][pool->cls] = pool->next ? pool->next : RC_POOL_SENTINEL;
    if (pool->next)
        pool->next->prev = pool->prev;
    else
        st->used_tail[pool->kind][pool->cls] = pool->prev;
    pool->next = pool->prev = NULL;
    /* full, or holding no block */
    rc_pool_set_free_key(pool, rc_pool_free_key(pool) | RC_FREE_KEY_OFF_LIST);
    pool->skipped = 0;
}

/* Moves pool, the first of a used list of two pools or more, to its tail. */
static void used_rotate(rc_alloc_state *st, rc_pool *pool, rc_block_kind kind, unsigned cls)
{
    rc_pool **tail = &st->used_tail[kind][cls];
    st->used[kind][cls] = pool->next;
    pool->next->prev = NULL;
    pool->next = NULL;
    pool->prev = *tail;
    (*tail)->next = pool;
    *tail = pool;
}

/* ---- allocation slow path -------------------------------------------- */

static void pool_init(rc_pool *pool, rc_heap *heap, rc_block_kind kind, unsigned cls)
{
    pool->freeblock = NULL;
    rc_pool_set_free_key(pool, rc_pool_key(heap, kind));
    pool->used = 0;
    pool->carved = 0;
    pool->limit = (uint32_t)(rc_pool_capacity(cls) * rc_class_size[cls]);
    pool->cls = (uint8_t)cls;
    pool->kind = (uint8_t)kind;
    pool->skipped = 0;
}

/* Bytes of pool's next carve (pool.h): as many as are carved already,
 * within [RC_CARVE_FIRST, RC_CARVE_BATCH]. */
static size_t carve_bytes(const rc_pool *pool)
{
    size_t bytes = pool->carved;
    if (bytes < RC_CARVE_FIRST)
        return RC_CARVE_FIRST;
    return bytes < RC_CARVE_BATCH ? bytes : RC_CARVE_BATCH;
}

/* One block carved: an object block's dead word (refcnt, gc_bits at the
 * user pointer, front bytes in: block_layout.h) zeroed, since a recycled
 * pool holds old data there, and its link set. */
static inline void carve_block(char *b, char *next, bool object, size_t front)
{
    if (object) {
        RC_UNPOISON(b + front, sizeof(uint64_t));
        *(uint64_t *)(b + front) = 0;
    }
    rc_block_set_next(b, next);
}

/* Carves the next batch of blocks into the pool's empty free list, in
 * address order. */
static void pool_carve(rc_pool *pool, size_t front)
{
    size_t size = rc_pool_block_size(pool);
    size_t n = carve_bytes(pool) / size;
    size_t room = (size_t)(pool->limit - pool->carved) / size;
    if (n > room)
        n = room;
    bool object = pool->kind == RC_BLOCK_OBJECT;
    char *first = pool->mem + pool->carved, *last = first + (n - 1) * size;
    for (char *b = first; b != last; b += size)
        carve_block(b, b + size, object, front);
    carve_block(last, NULL, object, front);
    pool->freeblock = first;
    pool->carved = (uint32_t)(pool->carved + n * size);
}

/* The class's used list is empty, or its first pool has blocks left to
 * carve: a pool from an arena if needed, then a batch of blocks. Kept out of
 * rc_pool_alloc_slow, whose common case (move past a full pool) then saves
 * few registers. */
static RC_NOINLINE void *alloc_refill(rc_heap *heap, rc_block_kind kind, unsigned cls)
{
    rc_alloc_state *st = &heap->alloc;
    rc_pool *pool = st->used[kind][cls];
    if (pool == RC_POOL_SENTINEL) {
        pool = rc_arena_take_pool(heap);
        if (!pool)
            return NULL;
        pool_init(pool, heap, kind, cls);
        used_link_head(st, pool);
    }
    RC_ASSERT(!pool->freeblock && pool->carved < pool->limit);
    pool_carve(pool, heap->alloc.front);
    RC_ASSERT(!RC_EXPENSIVE || rc_pool_is_valid(pool));
    return rc_pool_alloc(heap, kind, cls);
}

void *rc_pool_alloc_slow(rc_heap *heap, rc_block_kind kind, unsigned cls)
{
    rc_alloc_state *st = &heap->alloc;
    if (atomic_load_explicit(&st->remote, memory_order_relaxed))
        rc_alloc_drain_remote(heap);
    for (;;) {
        rc_pool *pool = st->used[kind][cls];
        if (pool->freeblock) {
            RC_ASSERT(!RC_EXPENSIVE || rc_pool_is_valid(pool));
            pool->skipped = 0;
            return rc_pool_alloc(heap, kind, cls);
        }
        if (pool == RC_POOL_SENTINEL || pool->carved < pool->limit)
            return alloc_refill(heap, kind, cls);
        /* ran out: to the tail (pool.h), unless it went a whole round
         * without a free (or is alone): then it is full and leaves the list
         * until a block comes free */
        if (pool->skipped || pool->next == NULL) {
            used_unlink(st, pool);
        } else {
            pool->skipped = 1;
            used_rotate(st, pool, kind, cls);
        }
    }
}

/* ---- free slow path ------------------------------------------------- */

static RC_NORETURN void double_free(const rc_pool *pool, const char *b)
{
    rc_fatal("rc_free(%p): double free of a %zu-byte block", (const void *)b,
             rc_pool_block_size(pool));
}

/* Stops the process unless b is at a block boundary of pool. */
static void check_block(const rc_pool *pool, char *b)
{
    if (!rc_pool_is_block(pool, b))
        rc_fatal("rc_free(%p): pointer was not allocated by reclaim (it points into a pool of "
                 "%zu-byte blocks, but not at a block)",
                 (void *)b, rc_pool_block_size(pool));
}

/* Stops the process unless b is a block of pool that is handed out. */
static void check_free(const rc_pool *pool, char *b)
{
    check_block(pool, b);
    if (pool->used == 0 || pool->freeblock == b)
        double_free(pool, b);
#if RC_SANITIZE
    if (__asan_address_is_poisoned(b + 8))
        double_free(pool, b);
#endif
#if RC_CHECKS >= 1
    uint64_t bit, *word = rc_live_word(pool, b, &bit);
    if (!(*word & bit))
        double_free(pool, b);
    *word &= ~bit;
#endif
}

void rc_pool_free_slow(rc_heap *heap, rc_pool *pool, char *b)
{
    rc_alloc_state *st = &heap->alloc;
    if (pool->side) /* tracing: the block's trace goes first */
        heap->hooks.trace_free(heap, b, pool);
    check_free(pool, b);
    *(char **)(b + 8) = pool->freeblock;
    pool->freeblock = b;
    rc_block_poison(b, pool);
    if (--pool->used == 0) {
        RC_ASSERT(rc_pool_on_used_list(pool)); /* a full pool has 16 blocks or more */
        rc_pool_emptied(heap, pool, b);
        return;
    }
    if (!rc_pool_on_used_list(pool)) { /* it was full */
        used_link_tail(st, pool);      /* at the tail: see pool.h */
        /* only here: debug builds send every free through this function */
        RC_ASSERT(!RC_EXPENSIVE || rc_pool_is_valid(pool));
    }
}

RC_NOINLINE void rc_pool_emptied(rc_heap *heap, rc_pool *pool, char *b)
{
    check_block(pool, b); /* checked already if it came from rc_pool_free_slow */
    used_unlink(&heap->alloc, pool);
    rc_arena_return_pool(heap, pool);
}

/* ---- validation ---------------------------------------------------- */

static bool free_block_ok(const rc_pool *pool, char *b)
{
    if (!rc_pool_is_block(pool, b))
        return false;
    if (pool->kind == RC_BLOCK_OBJECT &&
        *(const uint64_t *)(b + rc_pool_arena(pool)->heap->alloc.front) != 0)
        return false;
#if RC_CHECKS >= 1
    uint64_t bit, *word = rc_live_word(pool, b, &bit);
    if (*word & bit)
        return false;
#endif
    return true;
}

bool rc_pool_is_valid(const rc_pool *pool)
{
    if (pool->kind >= RC_BLOCK_KINDS || pool->cls >= RC_SIZE_CLASSES)
        return false;
    size_t size = rc_pool_block_size(pool);
    unsigned capacity = rc_pool_capacity(pool->cls);
    if (size != rc_class_size[pool->cls] || pool->limit != capacity * size)
        return false;
    if (pool->carved > pool->limit || pool->carved % size != 0)
        return false;
    size_t nfree = 0;
    for (char *b = pool->freeblock; b; b = rc_block_next(b)) {
        if (!free_block_ok(pool, b) || ++nfree > capacity)
            return false;
    }
    size_t uncarved = (size_t)(pool->limit - pool->carved) / size;
    return pool->used + nfree + uncarved == capacity;
}
