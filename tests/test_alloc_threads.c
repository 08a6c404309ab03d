/* test_alloc_threads: heaps in parallel, and blocks freed by threads that
 * do not own their heap (the remote-free list, drained by the owner).
 */
#include "check.h"

#include "alloc/pool.h"

#include <reclaim.h>

#include <pthread.h>
#include <stdatomic.h>

enum { LIVE = 2000, OPS = 300000, CROSS = 20000 };

static uint64_t next_random(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *state = x;
}

/* Each thread churns its own implicit heap and checks its blocks. */
static void *churn(void *arg)
{
    uint64_t rng = (uintptr_t)arg * 0x9E3779B97F4A7C15u + 1;
    static _Thread_local unsigned char *live[LIVE];
    static _Thread_local size_t sizes[LIVE];
    long bad = 0;
    for (int i = 0; i < OPS; i++) {
        size_t slot = next_random(&rng) % LIVE;
        if (live[slot]) {
            bad += live[slot][0] != (unsigned char)slot ||
                   live[slot][sizes[slot] - 1] != (unsigned char)slot;
            rc_free(live[slot]);
        }
        size_t size = 1 + next_random(&rng) % (i % 16 ? 512 : 3000);
        live[slot] = rc_malloc(size);
        sizes[slot] = size;
        live[slot][0] = live[slot][size - 1] = (unsigned char)slot;
    }
    for (int i = 0; i < LIVE; i++)
        rc_free(live[i]);
    rc_alloc_stats s = {.struct_size = sizeof s};
    rc_heap_stats(NULL, &s);
    bad += s.bytes_in_use != 0;
    return (void *)(intptr_t)bad;
}

static void test_parallel_heaps(void)
{
    pthread_t threads[2];
    for (intptr_t i = 0; i < 2; i++)
        pthread_create(&threads[i], NULL, churn, (void *)(i + 1));
    for (int i = 0; i < 2; i++) {
        void *bad;
        pthread_join(threads[i], &bad);
        CHECK_EQ((intptr_t)bad, 0);
    }
}

/* Another thread frees all of a batch of our blocks. */
static void *free_all(void *arg)
{
    void **blocks = arg;
    for (int i = 0; i < CROSS; i++)
        rc_free(blocks[i]);
    return NULL;
}

static void test_remote_free(void)
{
    rc_heap *heap = rc_heap_current();
    static void *blocks[CROSS];
    for (int i = 0; i < CROSS; i++)
        blocks[i] = rc_malloc(i % 50 ? (size_t)(1 + i % 512) : 2000);
    rc_alloc_stats s = {.struct_size = sizeof s};
    rc_heap_stats(heap, &s);
    size_t before = s.remote_frees;
    CHECK(s.bytes_in_use > 0);
    pthread_t t;
    pthread_create(&t, NULL, free_all, blocks);
    pthread_join(t, NULL);
    /* still counted as used until the owner drains them */
    CHECK(atomic_load(&heap->alloc.remote) != NULL);
    rc_heap_stats(heap, &s); /* drains */
    CHECK_EQ(s.remote_frees - before, CROSS);
    CHECK_EQ(s.bytes_in_use, 0);
    CHECK_EQ(s.large_blocks, 0);
    CHECK(rc_alloc_validate(heap));
}

/* Remote frees while the owner keeps allocating (and draining). */
static atomic_int producer_done;
static void *free_while_owner_works(void *arg)
{
    void **blocks = arg;
    for (int i = 0; i < CROSS; i++)
        rc_free(blocks[i]);
    atomic_store(&producer_done, 1);
    return NULL;
}

static void test_concurrent_drain(void)
{
    rc_heap *heap = rc_heap_current();
    static void *blocks[CROSS], *mine[CROSS];
    for (int i = 0; i < CROSS; i++)
        blocks[i] = rc_malloc((size_t)(1 + (i * 37) % 600));
    rc_alloc_stats s = {.struct_size = sizeof s};
    rc_heap_stats(heap, &s);
    size_t before = s.remote_frees;
    pthread_t t;
    pthread_create(&t, NULL, free_while_owner_works, blocks);
    int n = 0;
    while (!atomic_load(&producer_done) || n < CROSS) {
        if (n == CROSS) {
            for (int i = 0; i < CROSS; i++)
                rc_free(mine[i]);
            n = 0;
        }
        mine[n] = rc_malloc((size_t)(1 + (n * 13) % 512));
        n++;
    }
    pthread_join(t, NULL);
    for (int i = 0; i < n; i++)
        rc_free(mine[i]);
    rc_alloc_drain_remote(heap);
    rc_heap_stats(heap, &s);
    CHECK_EQ(s.remote_frees - before, CROSS);
    CHECK_EQ(s.bytes_in_use, 0);
    CHECK(rc_alloc_validate(heap));
}

/* A thread's implicit heap goes away at thread exit; its blocks were all
 * freed by then. Blocks of a heap handed over with rc_heap_use. */
static void *use_handed_heap(void *arg)
{
    rc_heap *heap = arg;
    rc_heap_use(heap);
    void *p = rc_malloc(64);
    rc_free(p);
    rc_heap_use(NULL);
    return NULL;
}

static void test_handover(void)
{
    rc_heap *heap = rc_heap_new();
    rc_heap *previous = rc_heap_use(heap);
    void *p = rc_malloc(64);
    rc_heap_use(previous);
    pthread_t t;
    pthread_create(&t, NULL, use_handed_heap, heap);
    pthread_join(t, NULL);
    rc_free(p); /* heap owned by nobody: remote list */
    rc_alloc_stats s = {.struct_size = sizeof s};
    rc_heap_stats(heap, &s);
    CHECK_EQ(s.bytes_in_use, 0);
    CHECK_EQ(s.remote_frees, 1);
    rc_heap_destroy(heap);
}

int main(void)
{
    test_parallel_heaps();
    test_remote_free();
    test_concurrent_drain();
    test_handover();
    rc_heap_destroy(rc_heap_current());
    return check_report();
}
