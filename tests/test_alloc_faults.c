/* test_alloc_faults: out-of-memory handling with injected failures. A
 * failed request returns NULL with a message, leaves the heap consistent
 * and usable, calls the out-of-memory hook once and retries once.
 */
#include "check.h"

#include "alloc/pool.h"

#include <reclaim.h>

static rc_heap *heap;

static rc_alloc_stats stats(void)
{
    rc_alloc_stats s = {.struct_size = sizeof s};
    CHECK_EQ(rc_heap_stats(heap, &s), 0);
    return s;
}

/* Fills the heap's arenas with 512-byte blocks until the next one needs a
 * new arena, which fails (sticky); returns how many were had. */
static size_t fill_until_failure(void **blocks, size_t max)
{
    size_t n = 0;
    while (n < max && (blocks[n] = rc_malloc(512)) != NULL)
        n++;
    return n;
}

static void test_mmap_once(void)
{
    static void *blocks[10000];
    rc_alloc_stats s0 = stats();
    rc_heap_inject_faults(heap, RC_FAULT_MMAP, 0, true);
    size_t n = fill_until_failure(blocks, 10000);
    CHECK_EQ(stats().arenas_current, s0.arenas_current);
    rc_heap_inject_faults(heap, RC_FAULT_MMAP, 0, false);
    CHECK(rc_malloc(512) == NULL);
    CHECK_STR_CONTAINS(rc_last_error(), "out of memory: mmap of a 1 MiB arena failed");
    CHECK_EQ(stats().arenas_current, s0.arenas_current);
    CHECK(rc_alloc_validate(heap));
    void *p = rc_malloc(512); /* not sticky: works again */
    CHECK(p != NULL);
    CHECK_EQ(stats().arenas_current, s0.arenas_current + 1);
    CHECK_EQ(stats().classes[31].blocks_used, s0.classes[31].blocks_used + n + 1);
    rc_free(p);
    for (size_t i = 0; i < n; i++)
        rc_free(blocks[i]);
    CHECK_EQ(stats().bytes_in_use, s0.bytes_in_use);
}

static void test_mmap_sticky(void)
{
    static void *blocks[10000];
    rc_alloc_stats s0 = stats();
    rc_heap_inject_faults(heap, RC_FAULT_MMAP, 0, true);
    size_t n = fill_until_failure(blocks, 10000);
    /* every empty pool of the mapped arenas, and the free blocks of the
     * class's pools, and then no more */
    CHECK_EQ(n, s0.pools_empty * (RC_POOL_SIZE / 512) + s0.classes[31].blocks_free);
    CHECK_STR_CONTAINS(rc_last_error(), "mmap");
    CHECK(rc_malloc(512) == NULL); /* sticky */
    CHECK(rc_malloc(16) == NULL);
    rc_alloc_stats s = stats();
    CHECK_EQ(s.classes[31].blocks_used, s0.classes[31].blocks_used + n);
    CHECK_EQ(s.arenas_current, s0.arenas_current);
    CHECK(rc_alloc_validate(heap));
    /* freeing makes room again without new arenas */
    rc_free(blocks[--n]);
    blocks[n] = rc_malloc(512);
    CHECK(blocks[n] != NULL);
    n++;
    /* injection off: grows again */
    rc_heap_inject_faults(heap, RC_FAULT_MMAP, -1, false);
    void *more = rc_malloc(512);
    CHECK(more != NULL);
    CHECK_EQ(stats().arenas_current, s0.arenas_current + 1);
    rc_free(more);
    for (size_t i = 0; i < n; i++)
        rc_free(blocks[i]);
    CHECK_EQ(stats().bytes_in_use, s0.bytes_in_use);
}

/* The hook frees what the test stashed, as a collection would. */
static void *stash[64];
static int hook_calls;
static void out_of_memory(rc_heap *h)
{
    hook_calls++;
    for (int i = 0; i < 64; i++) {
        rc_alloc_free_block(h, stash[i]);
        stash[i] = NULL;
    }
}

static void test_hook(void)
{
    static void *blocks[10000];
    rc_heap_inject_faults(heap, RC_FAULT_MMAP, 0, true);
    size_t n = fill_until_failure(blocks, 10000);
    /* stash the last 64 as if they were garbage */
    CHECK(n > 64);
    for (int i = 0; i < 64; i++)
        stash[i] = blocks[--n];
    heap->hooks.out_of_memory = out_of_memory;
    hook_calls = 0;
    void *p = rc_malloc(512);
    CHECK(p != NULL); /* the retry after the hook found room */
    CHECK_EQ(hook_calls, 1);
    /* nothing left to free: the hook runs once more and the request fails */
    while ((blocks[n] = rc_malloc(512)) != NULL)
        n++;
    CHECK_EQ(hook_calls, 2);
    CHECK_STR_CONTAINS(rc_last_error(), "mmap");
    heap->hooks.out_of_memory = NULL;
    rc_heap_inject_faults(heap, 0, -1, false);
    rc_free(p);
    for (size_t i = 0; i < n; i++)
        rc_free(blocks[i]);
    CHECK(rc_alloc_validate(heap));
}

static void test_malloc_faults(void)
{
    rc_alloc_stats s0 = stats();
    rc_heap_inject_faults(heap, RC_FAULT_MALLOC, 0, false);
    CHECK(rc_malloc(1000) == NULL);
    CHECK_STR_CONTAINS(rc_last_error(), "out of memory: malloc of");
    CHECK_EQ(stats().large_blocks, s0.large_blocks);
    void *big = rc_malloc(1000);
    CHECK(big != NULL);
    memset(big, 7, 1000);

    /* realloc failure leaves the block as it was: large to large ... */
    rc_heap_inject_faults(heap, RC_FAULT_MALLOC, 0, false);
    CHECK(rc_realloc(big, 200000) == NULL);
    CHECK_STR_CONTAINS(rc_last_error(), "malloc");
    CHECK_EQ(((unsigned char *)big)[999], 7);
    CHECK_EQ(rc_usable_size(big), 1008);
    /* ... and small to large */
    unsigned char *small = rc_malloc(100);
    memset(small, 9, 100);
    rc_heap_inject_faults(heap, RC_FAULT_MALLOC, 0, false);
    CHECK(rc_realloc(small, 5000) == NULL);
    CHECK_EQ(small[99], 9);
    CHECK_EQ(rc_usable_size(small), 112);
    CHECK(rc_alloc_validate(heap));

    /* sticky: every large request fails from the third on (a request may
     * take two system calls when a header would straddle a page) */
    rc_heap_inject_faults(heap, RC_FAULT_MALLOC, 2, true);
    void *got[4];
    size_t n = 0;
    while (n < 4 && (got[n] = rc_malloc(3000)) != NULL)
        n++;
    CHECK(n >= 1 && n <= 2);
    CHECK(rc_malloc(700) == NULL);
    /* small blocks in existing arenas need no system request */
    void *tiny = rc_malloc(16);
    CHECK(tiny != NULL);
    rc_heap_inject_faults(heap, RC_FAULT_MALLOC, -1, false);
    for (size_t i = 0; i < n; i++)
        rc_free(got[i]);
    rc_free(tiny);
    rc_free(small);
    rc_free(big);
    CHECK_EQ(stats().large_blocks, s0.large_blocks);
    CHECK(rc_alloc_validate(heap));
}

/* The arena descriptor is bookkeeping from the system allocator too. */
static void test_descriptor_fault(void)
{
    static void *blocks[4096];
    size_t n = 0;
    rc_heap_inject_faults(heap, RC_FAULT_MMAP, 0, true);
    n = fill_until_failure(blocks, 4096); /* use up the arenas there are */
    rc_heap_inject_faults(heap, RC_FAULT_MALLOC, 0, false);
    CHECK(rc_malloc(512) == NULL);
    CHECK_STR_CONTAINS(rc_last_error(), "malloc");
    CHECK(rc_alloc_validate(heap));
    void *p = rc_malloc(512);
    CHECK(p != NULL);
    rc_free(p);
    for (size_t i = 0; i < n; i++)
        rc_free(blocks[i]);
}

int main(void)
{
    heap = rc_heap_new();
    rc_heap_use(heap);
    /* the collector's hook would retry after a collection: test the
     * allocator alone, with hooks of the test's own */
    heap->hooks.out_of_memory = NULL;
    test_mmap_once();
    test_mmap_sticky();
    test_hook();
    test_malloc_faults();
    test_descriptor_fault();
    CHECK(rc_alloc_validate(heap));
    rc_heap_use(NULL);
    rc_heap_destroy(heap);
    return check_report();
}
