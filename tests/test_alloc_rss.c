/* test_alloc_rss: memory goes back to the system. Allocating and then
 * freeing 200 MB of small blocks of mixed sizes must bring the resident set
 * back to within 20 MB of where it started (arenas are unmapped, 8 MiB of
 * spares kept once nothing is in use), and destroying a heap returns
 * everything.
 */
// ctest-labels: slow
#include "check.h"
#include "rss.h"
#include "alloc/alloc_state.h"

#include <reclaim.h>

#include <unistd.h>

static uint64_t rng = 0x9E3779B97F4A7C15u;
static uint64_t next_random(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

#define TOTAL ((size_t)200 << 20)

/* Allocates TOTAL bytes of small blocks into blocks[] (count returned). */
static size_t allocate_all(void **blocks, size_t max)
{
    size_t n = 0, bytes = 0;
    while (bytes < TOTAL && n < max) {
        size_t size = 1 + next_random() % 512;
        blocks[n] = rc_malloc(size);
        CHECK(blocks[n] != NULL);
        memset(blocks[n], 0x5A, size); /* really touch it */
        bytes += size;
        n++;
    }
    return n;
}

/* How far above its start the RSS may stay once everything is freed. */
static size_t rss_slack(void)
{
    size_t slack = (size_t)20 << 20;
#if RC_SANITIZE
    slack += TOTAL / 8 + ((size_t)16 << 20); /* ASan's shadow: 1/8 of the bytes touched */
#endif
    return slack;
}

static void shuffle(void **blocks, size_t n)
{
    for (size_t i = n - 1; i > 0; i--) {
        size_t j = next_random() % (i + 1);
        void *t = blocks[i];
        blocks[i] = blocks[j];
        blocks[j] = t;
    }
}

static void test_free_returns_memory(void **blocks, size_t max)
{
    size_t before = rss_bytes();
    size_t n = allocate_all(blocks, max);
    size_t peak = rss_bytes();
    CHECK(peak > before + TOTAL / 2);
    shuffle(blocks, n); /* free in random order: the hard case */
    for (size_t i = 0; i < n; i++)
        rc_free(blocks[i]);
    size_t after = rss_bytes();
    printf("rss: before %zu MB, peak %zu MB, after %zu MB\n", before >> 20, peak >> 20,
           after >> 20);
    CHECK(after <= before + rss_slack());
    rc_alloc_stats s = {.struct_size = sizeof s};
    rc_heap_stats(NULL, &s);
    CHECK(s.arenas_freed > 0);
    CHECK(s.arenas_current <= RC_EMPTY_ARENAS_KEPT);
    CHECK_EQ(s.bytes_in_use, 0);
}

static void test_destroy_returns_memory(void **blocks, size_t max)
{
    rc_heap *heap = rc_heap_new();
    rc_heap *previous = rc_heap_use(heap);
    size_t before = rss_bytes();
    size_t n = allocate_all(blocks, max);
    for (size_t i = 0; i < n; i += 100)
        blocks[i] = rc_realloc(blocks[i], 5000); /* some large blocks too */
    CHECK(rss_bytes() > before + TOTAL / 2);
    rc_heap_use(previous);
    rc_heap_destroy(heap);
    CHECK(rss_bytes() <= before + rss_slack());
}

int main(void)
{
    size_t max = TOTAL / 8;
    void **blocks = malloc(max * sizeof *blocks);
    /* its pages count from here on (a zero fill could be turned into a
     * calloc, whose fresh pages would only count as the test touched them) */
    memset(blocks, 0xA5, max * sizeof *blocks);
    test_free_returns_memory(blocks, max);
    test_free_returns_memory(blocks, max); /* and again: nothing accumulates */
    test_destroy_returns_memory(blocks, max);
    free(blocks);
    rc_heap_destroy(rc_heap_current());
    return check_report();
}
