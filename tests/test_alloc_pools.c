/* test_alloc_pools: the order of a size class's used list, and how tracing
 * and the debug allocator keep the fast paths (pool.h, malloc.c).
 *
 * Used lists: a pool whose free list runs out at the head moves to the tail
 * (so frees into it stay on the fast path), a pool found empty at the head a
 * second time with no allocation from it in between is full and leaves the
 * list, and its first free puts it back at the tail. The test follows one
 * class of 512-byte blocks (32 a pool) block by block against the expected
 * list, on a heap of its own.
 *
 * Carving: a pool carves RC_CARVE_FIRST bytes' worth of blocks first, then
 * as many as it has carved, up to RC_CARVE_BATCH at a time, always in
 * address order; a pool emptied and taken again starts over. Followed for
 * 48-byte blocks (whose batches do not divide the pool) with object
 * blocks, whose dead words read zero, and 32-byte raw blocks.
 *
 * Tracing: while it is on, fast_max is 0 and every pool's free key carries
 * RC_FREE_KEY_TRACED, pools made before tracing started included, so that
 * every traced free reaches the tracer; off again, both are back.
 */
#include "check.h"

#include "alloc/arena_map.h"
#include "alloc/block_layout.h"

#include <reclaim.h>

enum { CLS = 31, SIZE = 512, CAP = RC_POOL_SIZE / SIZE, POOLS = 3 };

static rc_heap *heap;
static char *blocks[POOLS * CAP];

static rc_pool *pool_of(const void *p) { return rc_pool_of(rc_arena_map_get(p), p); }

/* Whether the used list of class CLS is exactly want[0..n), head first,
 * every pool on it keyed so that its frees take the fast path, the tail
 * pointer right. */
static bool list_is(rc_pool *const *want, size_t n)
{
    rc_pool *p = heap->alloc.used[RC_BLOCK_RAW][CLS];
    if (n == 0)
        return p == RC_POOL_SENTINEL;
    for (size_t i = 0; i < n; i++, p = p->next) {
        if (p != want[i] || p->free_key != RC_FREE_KEY(heap, RC_BLOCK_RAW))
            return false;
    }
    return p == NULL && heap->alloc.used_tail[RC_BLOCK_RAW][CLS] == want[n - 1];
}

#define LIST_IS(...)                                                                               \
    do {                                                                                           \
        rc_pool *const want_[] = {__VA_ARGS__};                                                    \
        CHECK(list_is(want_, sizeof want_ / sizeof want_[0]));                                     \
        CHECK(rc_alloc_validate(heap));                                                            \
    } while (0)

/* Full, off its list, its frees sent to the slow path (which relinks it). */
static bool is_full_off_list(const rc_pool *p)
{
    return p->free_key == (RC_FREE_KEY(heap, RC_BLOCK_RAW) | RC_FREE_KEY_OFF_LIST) &&
           p->used == CAP && p->freeblock == NULL && !p->next && !p->prev;
}

static void test_rotation(void)
{
    heap = rc_heap_new();
    CHECK(heap != NULL);
    rc_heap *previous = rc_heap_use(heap);
    for (size_t i = 0; i < POOLS * CAP; i++)
        blocks[i] = rc_malloc(SIZE);
    rc_pool *p1 = pool_of(blocks[0]), *p2 = pool_of(blocks[CAP]), *p3 = pool_of(blocks[2 * CAP]);
    CHECK(p1 != p2 && p2 != p3 && p1 != p3);
    for (size_t i = 0; i < POOLS * CAP; i++)
        CHECK(pool_of(blocks[i]) == (i < CAP ? p1 : i < 2 * CAP ? p2 : p3));
    /* p1 and p2 were alone on the list when they ran out: full, off it;
     * p3 ran out last and stays until an allocation finds it empty */
    CHECK(is_full_off_list(p1) && is_full_off_list(p2));
    LIST_IS(p3);

    rc_free(blocks[0]); /* a full pool's first free: back, at the tail */
    LIST_IS(p3, p1);
    rc_free(blocks[CAP]);
    LIST_IS(p3, p1, p2);
    rc_free(blocks[2 * CAP]);
    rc_free(blocks[2 * CAP + 1]);
    CHECK(rc_malloc(SIZE) == blocks[2 * CAP + 1]); /* last freed, first out */
    CHECK(rc_malloc(SIZE) == blocks[2 * CAP]);
    LIST_IS(p3, p1, p2); /* p3 is empty, and no allocation has looked yet */

    /* p3 ran out at the head: to the tail, not off the list */
    CHECK(rc_malloc(SIZE) == blocks[0]);
    LIST_IS(p1, p2, p3);
    CHECK(p3->skipped && !p1->skipped);
    CHECK(rc_malloc(SIZE) == blocks[CAP]);
    LIST_IS(p2, p3, p1);

    /* a free into p3, which waits at the tail: p3 then serves the next
     * allocation once p2 (empty) moved behind it, and is no longer skipped */
    rc_free(blocks[2 * CAP + 2]);
    CHECK_EQ(p3->used, CAP - 1);
    CHECK(rc_malloc(SIZE) == blocks[2 * CAP + 2]);
    LIST_IS(p3, p1, p2);
    CHECK(!p3->skipped && p1->skipped && p2->skipped);

    /* p3 runs out again: to the tail; then p1 and p2 come round still
     * empty with no allocation since they were skipped, and leave as full;
     * so does p3; the block comes from a new pool */
    char *fresh = rc_malloc(SIZE);
    rc_pool *p4 = pool_of(fresh);
    CHECK(p4 != p1 && p4 != p2 && p4 != p3);
    CHECK(is_full_off_list(p1) && is_full_off_list(p2) && is_full_off_list(p3));
    LIST_IS(p4);
    CHECK_EQ(p4->used, 1);

    rc_free(blocks[3]); /* p2 and p3 stay off until a free */
    LIST_IS(p4, p1);
    CHECK(!p1->skipped);
    rc_free(fresh); /* p4's last block: the pool goes back to its arena */
    LIST_IS(p1);
    CHECK_EQ(p4->used, 0);
    CHECK(p4->free_key & RC_FREE_KEY_OFF_LIST); /* a free there now is a double free */
    for (size_t i = 0; i < POOLS * CAP; i++)
        if (i != 3)
            rc_free(blocks[i]);
    LIST_IS();
    rc_alloc_stats s = {.struct_size = sizeof s};
    CHECK_EQ(rc_heap_stats(heap, &s), 0);
    CHECK_EQ(s.classes[CLS].blocks_used, 0);
    CHECK_EQ(s.pools_used, 0);
    rc_heap_use(previous);
    rc_heap_destroy(heap);
}

/* A churn of many live blocks of one class: the pools keep their free
 * blocks usable (no pool with a free block is off its list, which the
 * validator checks, and no allocation takes a new pool while one of the
 * class has a free block). */
static void test_churn(void)
{
    enum { LIVE = 1000, STEPS = 200000 };
    static char *live[LIVE];
    heap = rc_heap_new();
    rc_heap *previous = rc_heap_use(heap);
    for (size_t i = 0; i < LIVE; i++)
        live[i] = rc_malloc(SIZE);
    uint64_t rng = 88172645463325252u;
    for (long n = 0; n < STEPS; n++) {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        size_t i = (size_t)(rng % LIVE);
        rc_free(live[i]);
        live[i] = rc_malloc(SIZE);
        CHECK(live[i] != NULL);
        if (n % 20000 == 0)
            CHECK(rc_alloc_validate(heap));
    }
    rc_alloc_stats s = {.struct_size = sizeof s};
    CHECK_EQ(rc_heap_stats(heap, &s), 0);
    CHECK_EQ(s.classes[CLS].blocks_used, LIVE);
    CHECK_EQ(s.classes[CLS].blocks_used + s.classes[CLS].blocks_free,
             s.classes[CLS].pools * (size_t)CAP);
    /* a new pool is taken only when every pool of the class is full, and
     * the live blocks never exceed LIVE: so exactly the pools LIVE needs */
    CHECK_EQ(s.classes[CLS].pools, (LIVE + CAP - 1) / CAP);
    for (size_t i = 0; i < LIVE; i++)
        rc_free(live[i]);
    CHECK_EQ(rc_heap_stats(heap, &s), 0);
    CHECK_EQ(s.pools_used, 0);
    rc_heap_use(previous);
    rc_heap_destroy(heap);
}

static rc_object_head *carve_one(size_t size, rc_block_kind kind)
{
    static const rc_type type = {.name = "Carved"};
    void *b = kind == RC_BLOCK_RAW ? rc_malloc(size) : rc_new_var(&type, size - 16);
    CHECK(b != NULL);
    return kind == RC_BLOCK_RAW ? b : rc_head_of(b);
}

static void uncarve_one(rc_object_head *block, rc_block_kind kind)
{
    if (kind == RC_BLOCK_RAW)
        rc_free(block);
    else
        rc_decref(block + 1);
}

/* The pool's carved bytes after each refill, by pool.h's policy: the
 * first carve takes RC_CARVE_FIRST bytes' worth of blocks, each later one
 * as many bytes as are carved already, at most RC_CARVE_BATCH, and the
 * last what is left of the pool's whole blocks. Returns how many. */
static size_t carve_steps(size_t size, uint32_t *want, size_t max)
{
    size_t limit = RC_POOL_SIZE / size * size, carved = 0, n = 0;
    while (carved < limit && n < max) {
        size_t bytes = carved < RC_CARVE_FIRST   ? RC_CARVE_FIRST
                       : carved < RC_CARVE_BATCH ? carved
                                                 : RC_CARVE_BATCH;
        size_t nblocks = bytes / size;
        if (carved + nblocks * size > limit)
            nblocks = (limit - carved) / size;
        carved += nblocks * size;
        want[n++] = (uint32_t)carved;
    }
    return n;
}

/* Allocates a pool's worth of blocks of size (kind), one by one on a heap
 * of its own, checking that they come in address order and that the
 * pool's carved bytes after each refill are those of carve_steps, its
 * limit last; then frees them (the pool goes back to its arena) and checks
 * that the next block, from the same pool taken again, carves the first
 * batch anew. */
static void check_carving(size_t size, rc_block_kind kind, const uint32_t *first, size_t nfirst)
{
    static rc_object_head *taken[RC_POOL_SIZE / 16];
    uint32_t want[64];
    size_t n = carve_steps(size, want, 64);
    for (size_t i = 0; i < nfirst; i++)
        CHECK_EQ(want[i], first[i]);
    heap = rc_heap_new();
    CHECK(heap != NULL);
    rc_heap *previous = rc_heap_use(heap);
    size_t cap = RC_POOL_SIZE / size, refills = 0;
    for (size_t i = 0; i < cap; i++) {
        taken[i] = carve_one(size, kind);
        rc_pool *pool = pool_of(taken[i]);
        CHECK(i == 0 || (char *)taken[i] == (char *)taken[i - 1] + size);
        if (pool->carved != (refills ? want[refills - 1] : 0)) {
            CHECK(refills < n && pool->carved == want[refills]);
            refills++;
        }
        CHECK(rc_pool_is_valid(pool));
    }
    rc_pool *pool = pool_of(taken[0]);
    CHECK_EQ(refills, n);
    CHECK_EQ(want[n - 1], pool->limit);
    CHECK_EQ(pool->limit, cap * size);
    for (size_t i = 0; i < cap; i++)
        uncarve_one(taken[i], kind);
    CHECK_EQ(pool->used, 0);
    CHECK(pool->free_key & RC_FREE_KEY_OFF_LIST);  /* back in its arena */
    rc_object_head *again = carve_one(size, kind); /* the lowest free pool */
    CHECK(again == taken[0] && pool->carved == want[0] && rc_pool_is_valid(pool));
    uncarve_one(again, kind);
    CHECK(rc_alloc_validate(heap));
    rc_heap_use(previous);
    rc_heap_destroy(heap);
}

static void test_carving(void)
{
    /* 48: 21 blocks (1008 bytes), 21, 42, 84 (4032 bytes), then 85 (4080
     * bytes) at a time, and the blocks that fit in what is left (65520
     * bytes in all: 1365 blocks) */
    static const uint32_t bytes48[] = {1008, 2016, 4032, 8064, 12144, 16224};
    static const uint32_t bytes32[] = {1024, 2048, 4096, 8192, 12288, 16384};
    uint32_t want[64];
    size_t n = carve_steps(48, want, 64);
    CHECK_EQ(n, 19);
    CHECK_EQ(want[n - 1], 65520);
    check_carving(48, RC_BLOCK_OBJECT, bytes48, sizeof bytes48 / sizeof bytes48[0]);
    check_carving(48, RC_BLOCK_RAW, bytes48, sizeof bytes48 / sizeof bytes48[0]);
    check_carving(32, RC_BLOCK_RAW, bytes32, sizeof bytes32 / sizeof bytes32[0]);
}

static bool key_traced(const void *block)
{
    return (pool_of(block)->free_key & RC_FREE_KEY_TRACED) != 0;
}

static size_t traced_now(void)
{
    size_t current = 0, peak = 0;
    rc_heap_trace_get_memory(heap, &current, &peak);
    return current;
}

static void test_tracing_keys(void)
{
    heap = rc_heap_new();
    rc_heap *previous = rc_heap_use(heap);
    char *before = rc_malloc(40); /* its pool exists before tracing starts */
    CHECK_EQ(heap->alloc.fast_max, RC_SMALL_MAX);
    CHECK(!key_traced(before));

    CHECK_EQ(rc_heap_trace_start(heap, 1), 0);
    CHECK(heap->alloc.traced && heap->alloc.fast_max == 0);
    CHECK_EQ(heap->alloc.inline_max, RC_SMALL_MAX); /* objects keep their inline paths */
    CHECK(key_traced(before));
    char *during = rc_malloc(40);
    CHECK(pool_of(during) == pool_of(before));
    CHECK_EQ(traced_now(), 40);
    char *zeroed = rc_calloc(3, 10); /* traced once, with the size asked */
    CHECK_EQ(traced_now(), 70);
    CHECK(key_traced(zeroed));
    char *other = rc_malloc(300); /* a pool made while tracing */
    CHECK(key_traced(other));
    CHECK_EQ(traced_now(), 370);
    rc_free(during); /* a pool older than tracing: the free still tells the tracer */
    CHECK_EQ(traced_now(), 330);
    rc_free(zeroed);
    rc_free(before); /* never traced: nothing to forget */
    CHECK_EQ(traced_now(), 300);
    CHECK(rc_alloc_validate(heap));

    rc_heap_trace_stop(heap);
    CHECK(!heap->alloc.traced && heap->alloc.fast_max == RC_SMALL_MAX);
    CHECK(!key_traced(other));
    CHECK_EQ(pool_of(other)->free_key, RC_FREE_KEY(heap, RC_BLOCK_RAW));
    rc_free(other);
    char *after = rc_malloc(40);
    CHECK(after != NULL && !key_traced(after));
    rc_free(after);
    CHECK(rc_alloc_validate(heap));
    rc_heap_use(previous);
    rc_heap_destroy(heap);
}

/* A debug heap keeps every request off the fast paths, traced or not. */
static void test_debug_heap_stays_slow(void)
{
    rc_heap_options options = {.struct_size = sizeof options, .malloc_mode = RC_MALLOC_DEBUG};
    heap = rc_heap_new_with(&options);
    CHECK(heap != NULL);
    CHECK(heap->alloc.inline_max == 0 && heap->alloc.fast_max == 0);
    void *b = rc_heap_malloc(heap, 24);
    rc_pool *pool = pool_of(rc_layout_raw(heap, b));
    CHECK(pool->free_key & RC_FREE_KEY_DEBUG);
    CHECK_EQ(rc_heap_trace_start(heap, 1), 0);
    CHECK(heap->alloc.fast_max == 0 && (pool->free_key & RC_FREE_KEY_TRACED));
    rc_heap_trace_stop(heap);
    CHECK(heap->alloc.fast_max == 0 && heap->alloc.inline_max == 0);
    CHECK_EQ(pool->free_key, RC_FREE_KEY(heap, RC_BLOCK_RAW) | RC_FREE_KEY_DEBUG);
    rc_heap_destroy(heap);
}

int main(void)
{
    test_rotation();
    test_churn();
    test_carving();
    test_tracing_keys();
    test_debug_heap_stays_slow();
    return check_report();
}
