/* test_alloc_large_map.c: large blocks of 1 MiB or more (header included)
 * get a mapping of their own (src/alloc/large_map.c): on a 2 MiB boundary,
 * advised to use huge pages, grown by mremap with their bytes kept, their
 * memory back to the system when freed (RSS drops, the mapping is gone,
 * also at heap teardown). The heaps here have no large-block cache, so
 * that every mapping is the system's work (test_alloc_large_cache tests
 * the cache). The statistics count each mapping's length;
 * a resize across the threshold moves the block between the two kinds;
 * failure injection covers mmap and mremap (a failed growth leaves the
 * block as it was); the tracer counts what was asked, never old and new
 * together; foreign pointers and double frees are still told apart; a
 * block freed by another thread comes back through the remote stack.
 */
#include "check.h"
#include "rss.h"

#include "alloc/large.h"
#include "alloc/pool.h"

#include <reclaim.h>

#include <pthread.h>
#include <stdint.h>

#define MiB ((size_t)1 << 20)

static rc_heap *heap;

static rc_alloc_stats stats(void)
{
    rc_alloc_stats s = {.struct_size = sizeof s};
    CHECK_EQ(rc_heap_stats(heap, &s), 0);
    return s;
}

static void fresh_heap(void)
{
    rc_heap_options options = {.struct_size = sizeof options,
                               .large_cache_bytes = RC_LARGE_CACHE_OFF};
    heap = rc_heap_new_with(&options);
    CHECK(heap != NULL);
    rc_heap_use(heap);
}

static void drop_heap(void)
{
    CHECK(rc_alloc_validate(heap));
    rc_heap_use(NULL);
    rc_heap_destroy(heap);
    heap = NULL;
}

static const rc_large *header(const void *p) { return rc_large_of(p); }

static bool is_mapped(const void *p)
{
    const rc_large *h = header(p);
    return h && rc_large_is_mapped(h);
}

/* The byte at i of a block filled by fill(). */
static unsigned char pattern(size_t i) { return (unsigned char)(i * 7 + (i >> 12)); }

static void fill(unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = pattern(i);
}

static size_t pattern_errors(const unsigned char *p, size_t n)
{
    size_t bad = 0;
    for (size_t i = 0; i < n; i++)
        bad += p[i] != pattern(i);
    return bad;
}

/* Whether a mapping starts at address a (/proc/self/maps). */
static bool mapping_at(const void *a) { return mapping_start(a) == (uintptr_t)a; }

/* What the system gave for the heap's one large block (its mapping's
 * length, for a mapped one), as the statistics count it. */
static size_t one_block_sys_bytes(void)
{
    rc_alloc_stats s = stats();
    CHECK_EQ(s.large_blocks, 1);
    return s.large_header_bytes + s.large_bytes_in_use;
}

static void test_threshold_and_layout(void)
{
    fresh_heap();
    void *below = rc_malloc(MiB - 64 - 16), *at = rc_malloc(MiB - 64);
    CHECK(!is_mapped(below) && is_mapped(at));
    CHECK_EQ((uintptr_t)header(at) % (2 * MiB), 0); /* header at the mapping's start */
    CHECK_EQ(rc_usable_size(at), MiB - 64);
    CHECK(rc_heap_of(at) == heap);
    rc_alloc_stats s = stats();
    CHECK_EQ(s.large_blocks, 2);
    CHECK_EQ(s.large_bytes_in_use, 2 * MiB - 128 - 16);
    /* at's mapping is 1 MiB exactly; below's header may be shifted by 64 */
    CHECK(s.large_header_bytes == 128 || s.large_header_bytes == 192);
    /* the mapping's length: whole pages below 4 MiB, whole 2 MiB from on */
    size_t sys_before = s.large_header_bytes + s.large_bytes_in_use;
    void *three = rc_malloc(3 * MiB), *five = rc_malloc(5 * MiB);
    s = stats();
    CHECK_EQ(s.large_header_bytes + s.large_bytes_in_use - sys_before, (3 * MiB + 4096) + 6 * MiB);
    unsigned char *z = rc_calloc(3, MiB);
    CHECK(is_mapped(z));
    size_t nonzero = 0;
    for (size_t i = 0; i < 3 * MiB; i++)
        nonzero += z[i] != 0;
    CHECK_EQ(nonzero, 0);
    const void *h = header(five);
    CHECK(mapping_at(h));
    rc_free(five);
    CHECK(!mapping_at(h)); /* unmapped at its free */
    rc_free(below);
    rc_free(at);
    rc_free(three);
    rc_free(z);
    s = stats();
    CHECK_EQ(s.large_blocks, 0);
    CHECK_EQ(s.large_header_bytes, 0);
    /* heap teardown unmaps the blocks still live */
    void *kept = rc_malloc(8 * MiB);
    h = header(kept);
    CHECK(mapping_at(h));
    drop_heap();
    CHECK(!mapping_at(h));
}

/* With transparent huge pages not "never", the mapping can take them: the
 * kernel calls it THP-eligible (it does not promise free huge pages). */
static void test_huge_page_advice(void)
{
    FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
    char mode[128] = "";
    if (f) {
        if (!fgets(mode, sizeof mode, f))
            mode[0] = '\0';
        fclose(f);
    }
    if (!mode[0] || strstr(mode, "[never]")) {
        printf("transparent huge pages off: advice not checked\n");
        return;
    }
    fresh_heap();
    char *p = rc_malloc(8 * MiB);
    memset(p, 1, 8 * MiB);
    FILE *smaps = fopen("/proc/self/smaps", "r");
    CHECK(smaps != NULL);
    char line[512];
    bool in_block = false;
    int eligible = -1;
    while (smaps && fgets(line, sizeof line, smaps)) {
        unsigned long long lo, hi;
        if (sscanf(line, "%llx-%llx ", &lo, &hi) == 2) /* a mapping's first line */
            in_block = lo == (uintptr_t)header(p);
        else if (in_block && sscanf(line, "THPeligible: %d", &eligible) == 1)
            in_block = false;
    }
    if (smaps)
        fclose(smaps);
    CHECK_EQ(eligible, 1);
    rc_free(p);
    drop_heap();
}

static void test_resize(void)
{
    fresh_heap();
    unsigned char *p = rc_malloc(3 * MiB);
    fill(p, 3 * MiB);
    p = rc_realloc(p, 10 * MiB); /* mapped to mapped: mremap */
    CHECK(p && is_mapped(p));
    CHECK_EQ((uintptr_t)header(p) % (2 * MiB), 0);
    CHECK_EQ(pattern_errors(p, 3 * MiB), 0);
    fill(p, 10 * MiB);
    CHECK_EQ(one_block_sys_bytes(), 12 * MiB); /* rounded to 2 MiB */
    for (size_t size = 11 * MiB; size < 80 * MiB; size += size / 8) {
        p = rc_realloc(p, size); /* in place or moved, never copied */
        CHECK(p != NULL);
    }
    CHECK_EQ(pattern_errors(p, 10 * MiB), 0);
    p = rc_realloc(p, 20 * MiB); /* shrunk in place */
    CHECK(p && is_mapped(p));
    CHECK_EQ(rc_usable_size(p), 20 * MiB);
    CHECK_EQ(pattern_errors(p, 10 * MiB), 0);
    CHECK_EQ(one_block_sys_bytes(), 22 * MiB); /* the tail was unmapped */
    CHECK_EQ(mapping_start((const char *)header(p) + 22 * MiB), 0);

    p = rc_realloc(p, 100 * 1024); /* below the threshold: the system allocator's */
    CHECK(p && !is_mapped(p));
    CHECK_EQ(pattern_errors(p, 100 * 1024), 0);
    p = rc_realloc(p, 5 * MiB); /* and back */
    CHECK(p && is_mapped(p));
    CHECK_EQ(pattern_errors(p, 100 * 1024), 0);
    rc_alloc_stats s = stats();
    CHECK_EQ(s.large_blocks, 1);
    CHECK_EQ(s.large_bytes_in_use, 5 * MiB);
    CHECK_EQ(s.large_header_bytes, MiB); /* a 6 MiB mapping */
    rc_free(p);
    drop_heap();
}

static void test_rss_returned(void)
{
    fresh_heap();
    char *p = rc_malloc(64 * MiB);
    memset(p, 0x5A, 64 * MiB);
    p = rc_realloc(p, 96 * MiB);
    memset(p + 64 * MiB, 0x5A, 32 * MiB);
    size_t touched = rss_bytes();
    rc_free(p);
    size_t after = rss_bytes();
    CHECK(after + 90 * MiB < touched);
    drop_heap();
}

static void test_faults(void)
{
    fresh_heap();
    unsigned char *p = rc_malloc(4 * MiB);
    fill(p, 4 * MiB);
    rc_alloc_stats before = stats();
    rc_heap_inject_faults(heap, RC_FAULT_MALLOC, 0, true);
    CHECK(rc_malloc(2 * MiB) == NULL);
    CHECK_STR_CONTAINS(rc_last_error(), "out of memory: mmap of a ");
    CHECK(rc_realloc(p, 16 * MiB) == NULL);
    CHECK_STR_CONTAINS(rc_last_error(), "out of memory: mremap of a ");
    CHECK(rc_realloc(p, 512 * 1024) == NULL); /* to the system allocator: a request */
    CHECK_EQ(pattern_errors(p, 4 * MiB), 0);
    rc_alloc_stats s = stats();
    CHECK_EQ(s.large_blocks, before.large_blocks);
    CHECK_EQ(s.large_bytes_in_use, before.large_bytes_in_use);
    CHECK_EQ(s.large_header_bytes, before.large_header_bytes);
    unsigned char *q = rc_realloc(p, 2 * MiB); /* a shrink takes no memory */
    CHECK(q == p);
    CHECK_EQ(pattern_errors(q, 2 * MiB), 0);
    rc_heap_inject_faults(heap, 0, -1, false);
    q = rc_realloc(q, 16 * MiB);
    CHECK(q != NULL);
    CHECK_EQ(pattern_errors(q, 2 * MiB), 0);
    CHECK_EQ(one_block_sys_bytes(), 18 * MiB);
    rc_free(q);
    /* the n-th request failing, for each n a growth sequence makes */
    size_t failures = 0, bad = 0;
    for (long n = 0; n < 12; n++) {
        unsigned char *b = rc_malloc(MiB);
        fill(b, MiB);
        rc_heap_inject_faults(heap, RC_FAULT_MALLOC, n, false);
        size_t size = MiB;
        for (int step = 0; step < 12; step++) {
            unsigned char *grown = rc_realloc(b, size * 3 / 2);
            if (!grown) {
                failures++;
                continue;
            }
            b = grown;
            size = size * 3 / 2;
        }
        rc_heap_inject_faults(heap, 0, -1, false);
        bad += pattern_errors(b, MiB);
        rc_free(b);
        bad += stats().large_blocks != 0;
    }
    CHECK_EQ(failures, 12); /* each growth is one request: the (n+1)-th failed */
    CHECK_EQ(bad, 0);
    drop_heap();
}

static void test_tracing(void)
{
    fresh_heap();
    CHECK_EQ(rc_trace_start(1), 0);
    size_t current, peak;
    void *p = rc_malloc(3 * MiB);
    rc_trace_get_memory(&current, &peak);
    CHECK_EQ(current, 3 * MiB);
    p = rc_realloc(p, 10 * MiB);
    rc_trace_get_memory(&current, &peak);
    CHECK_EQ(current, 10 * MiB);
    CHECK_EQ(peak, 10 * MiB); /* never the old and the new together */
    p = rc_realloc(p, 100 * 1024);
    rc_trace_get_memory(&current, &peak);
    CHECK_EQ(current, 100 * 1024);
    CHECK(rc_block_traceback(p) != NULL);
    p = rc_realloc(p, 2 * MiB);
    rc_trace_get_memory(&current, &peak);
    CHECK_EQ(current, 2 * MiB);
    CHECK_EQ(peak, 10 * MiB);
    rc_free(p);
    rc_trace_get_memory(&current, NULL);
    CHECK_EQ(current, 0);
    rc_trace_stop();
    drop_heap();
}

static char *victim;
static void free_inside(void) { rc_free(victim + 4096); }
static void free_twice(void)
{
    rc_free(victim);
    rc_free(victim);
}

static void test_misuse(void)
{
    fresh_heap();
    victim = rc_malloc(2 * MiB);
    CHECK_DEATH(free_inside, "not allocated by reclaim");
    CHECK_DEATH(free_twice, "not allocated by reclaim (or it is a double free)");
    rc_free(victim);
    drop_heap();
}

static void *free_from_thread(void *p)
{
    rc_free(p); /* not the owner: the heap's remote stack */
    return NULL;
}

static void test_remote_free(void)
{
    fresh_heap();
    void *p = rc_malloc(3 * MiB);
    const void *h = header(p);
    pthread_t thread;
    CHECK_EQ(pthread_create(&thread, NULL, free_from_thread, p), 0);
    pthread_join(thread, NULL);
    CHECK(mapping_at(h));              /* waits for the owner */
    CHECK_EQ(stats().large_blocks, 0); /* drained by the statistics call */
    CHECK(!mapping_at(h));
    drop_heap();
}

int main(void)
{
    test_threshold_and_layout();
    test_huge_page_advice();
    test_resize();
    test_rss_returned();
    test_faults();
    test_tracing();
    test_misuse();
    test_remote_free();
    return check_report();
}
