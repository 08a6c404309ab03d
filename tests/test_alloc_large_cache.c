/* test_alloc_large_cache.c: the cache of freed large mappings
 * (src/alloc/large_cache.c) and rc_heap_trim.
 *
 * Exact figures throughout: block sizes are chosen so that a mapping's
 * length is known (a block of k MiB - 64 bytes takes k MiB below 4 MiB;
 * from 4 MiB on lengths are whole 2 MiB), and addresses are checked where
 * the cache decides them: a freed mapping is reused from its start (best
 * fit), split when the rest can hold a mapped block, merged with its
 * neighbours when freed, grown into in place. Then: the hit and miss
 * counts, the bound (eviction of the extents cached longest, a mapping
 * longer than the bound never cached, a cache turned off), the decay (on
 * the large paths, as pools are taken and given back, and in
 * rc_heap_stats; never on the small blocks' fast paths), rc_heap_trim
 * (the cache and the spare arenas, exact bytes), calloc from a reused
 * mapping, fault injection with and without a cached mapping to fall
 * back on, the RSS after freeing 200 MB of large blocks (within the
 * bound; back near the start after trim and after decay), remote frees,
 * tracing, a debug heap, the old struct sizes of the options and
 * statistics, the printed text, and a seeded model test of random
 * allocations, resizes and frees with faults, against which every block's
 * bytes and the cache's invariants are checked.
 * Usage: test_alloc_large_cache [model ops [seed]]
 */
// ctest-labels: slow
#include "check.h"
#include "stats_text.h"
#include "rng.h"
#include "rss.h"

#include "alloc/arena_map.h"
#include "alloc/large.h"
#include "alloc/pool.h"

#include <reclaim.h>

#include <pthread.h>
#include <stddef.h>
#include <sys/mman.h>
#include <stdint.h>
#include <time.h>

#define MiB  ((size_t)1 << 20)
#define HDR  sizeof(rc_large)
#define HOUR ((size_t)3600 * 1000) /* a decay delay no test reaches */

static rc_heap *heap;

static void use_heap(size_t bound, size_t decay_ms)
{
    rc_heap_options options = {.struct_size = sizeof options,
                               .large_cache_bytes = bound,
                               .large_cache_decay_ms = decay_ms};
    heap = rc_heap_new_with(&options);
    CHECK(heap != NULL);
    rc_heap_use(heap);
}

static void drop_heap(void)
{
    CHECK(rc_alloc_validate(heap));
    CHECK(rc_large_cache_is_valid(heap));
    rc_heap_use(NULL);
    rc_heap_destroy(heap);
    heap = NULL;
}

static rc_alloc_stats stats(void)
{
    rc_alloc_stats s = {.struct_size = sizeof s};
    CHECK_EQ(rc_heap_stats(heap, &s), 0);
    return s;
}

static char *header(const void *block) { return (char *)rc_large_of(block); }

/* A block whose mapping is exactly mib MiB (below 4 MiB, or even). */
static void *block_of(size_t mib) { return rc_malloc(mib * MiB - HDR); }

static size_t extents(void)
{
    size_t n = 0;
    for (const rc_large_extent *e = heap->alloc.cache.extents; e; e = e->next)
        n++;
    return n;
}

static bool cached_at(const void *p, size_t len)
{
    for (const rc_large_extent *e = heap->alloc.cache.extents; e; e = e->next)
        if ((const void *)e == p)
            return e->len == len;
    return false;
}

/* Whether a mapping covers address a (/proc/self/maps). */
static bool mapped(const void *a) { return mapping_start(a) != 0; }

static void sleep_ms(long ms)
{
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&t, &t) != 0) {
    }
}

/* ---- reuse, split, merge, grow ------------------------------------------ */

static void test_reuse_from_start(void)
{
    use_heap(64 * MiB, HOUR);
    void *p = block_of(3);
    char *a = header(p);
    CHECK_EQ((uintptr_t)a % (2 * MiB), 0);
    rc_free(p);
    rc_alloc_stats s = stats();
    CHECK_EQ(s.large_cache_bytes, 3 * MiB);
    CHECK_EQ(s.large_cache_misses, 1);
    CHECK_EQ(s.large_cache_hits, 0);
    CHECK_EQ(s.bytes_mapped, s.arenas_current * RC_ARENA_SIZE + 3 * MiB);
    CHECK(mapped(a)); /* kept */
    p = block_of(2);  /* from its start; the rest (1 MiB) stays */
    CHECK(header(p) == a);
    CHECK(cached_at(a + 2 * MiB, MiB));
    s = stats();
    CHECK_EQ(s.large_cache_hits, 1);
    CHECK_EQ(s.large_cache_bytes, MiB);
    CHECK_EQ(s.large_header_bytes, HDR);
    /* growing into the extent after it: in place, the whole of it (the
     * rest would be too short to keep) */
    char *q = rc_realloc(p, 2 * MiB + MiB / 2);
    CHECK(q == p);
    s = stats();
    CHECK_EQ(s.large_cache_hits, 2);
    CHECK_EQ(s.large_cache_bytes, 0);
    CHECK_EQ(s.large_header_bytes, 3 * MiB - (2 * MiB + MiB / 2));
    q = rc_realloc(q, 3 * MiB - HDR); /* within its mapping: no request */
    CHECK(q == p);
    q = rc_realloc(q, 5 * MiB); /* nothing cached: the system's (mremap) */
    s = stats();
    CHECK_EQ(s.large_cache_misses, 2);
    CHECK_EQ(s.large_cache_hits, 2);
    CHECK_EQ(s.large_header_bytes, 6 * MiB - 5 * MiB);
    rc_free(q);
    CHECK_EQ(stats().large_cache_bytes, 6 * MiB);
    drop_heap();
}

static void test_split_and_merge(void)
{
    use_heap(64 * MiB, HOUR);
    void *big = block_of(16);
    char *base = header(big);
    rc_free(big);
    void *a = block_of(3), *b = block_of(3), *c = block_of(3);
    CHECK(header(a) == base && header(b) == base + 3 * MiB && header(c) == base + 6 * MiB);
    CHECK(cached_at(base + 9 * MiB, 7 * MiB));
    rc_free(b); /* between two live blocks: an extent of its own */
    CHECK_EQ(extents(), 2);
    CHECK(cached_at(base + 3 * MiB, 3 * MiB));
    rc_free(a); /* merged with b's */
    CHECK_EQ(extents(), 2);
    CHECK(cached_at(base, 6 * MiB));
    rc_free(c); /* merged on both sides */
    CHECK_EQ(extents(), 1);
    CHECK(cached_at(base, 16 * MiB));
    CHECK(rc_large_cache_is_valid(heap));
    /* best fit: the shortest extent that holds the block */
    void *x = block_of(3), *y = block_of(1), *z = block_of(2);
    CHECK(header(y) == base + 3 * MiB && header(z) == base + 4 * MiB);
    rc_free(x); /* extents: 3 MiB at base, 10 MiB at base + 6 MiB */
    void *fit = block_of(2);
    CHECK(header(fit) == base);
    CHECK(cached_at(base + 2 * MiB, MiB));
    void *exact = block_of(1);
    CHECK(header(exact) == base + 2 * MiB);
    CHECK_EQ(extents(), 1);
    void *w = block_of(10); /* the last extent, exactly */
    CHECK(header(w) == base + 6 * MiB);
    CHECK_EQ(extents(), 0);
    /* a rest too short to keep goes with the block: 1.5 MiB asked, the
     * whole 2 MiB extent had */
    rc_free(z);
    CHECK(cached_at(base + 4 * MiB, 2 * MiB));
    void *whole = rc_malloc(MiB + MiB / 2);
    CHECK(header(whole) == base + 4 * MiB);
    CHECK_EQ(rc_large_of(whole)->map_len, 2 * MiB);
    CHECK_EQ(extents(), 0);
    void *all[] = {whole, exact, fit, y, w};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        rc_free(all[i]);
    CHECK(cached_at(base, 16 * MiB));
    CHECK_EQ(extents(), 1);
    drop_heap();
}

/* A shrink gives its tail to the cache; the next block takes it. */
static void test_shrink(void)
{
    use_heap(64 * MiB, HOUR);
    char *p = rc_malloc(20 * MiB);
    memset(p, 0x33, 20 * MiB);
    char *base = header(p);
    CHECK(rc_realloc(p, 8 * MiB) == p);
    CHECK(cached_at(base + 10 * MiB, 12 * MiB));
    CHECK_EQ(stats().large_header_bytes, 2 * MiB);
    size_t bad = 0;
    for (size_t i = 0; i < 8 * MiB; i++)
        bad += (unsigned char)p[i] != 0x33;
    CHECK_EQ(bad, 0);
    void *q = block_of(12);
    CHECK(header(q) == base + 10 * MiB);
    rc_free(q);
    rc_free(p);
    CHECK(cached_at(base, 22 * MiB));
    drop_heap();
}

/* ---- bound, decay, trim ------------------------------------------------- */

static void test_bound(void)
{
    use_heap(8 * MiB, HOUR);
    void *p1 = block_of(3);
    char *h1 = header(p1);
    rc_free(p1);
    sleep_ms(10); /* the coarse clock must tell the two apart */
    void *p2 = block_of(6);
    char *h2 = header(p2); /* a mapping of its own, not touching p1's */
    rc_free(p2);           /* 9 MiB: the one cached longest loses 1 MiB */
    rc_alloc_stats s = stats();
    CHECK_EQ(s.large_cache_bytes, 8 * MiB);
    CHECK_EQ(s.large_cache_evicted, MiB);
    CHECK(cached_at(h1, 2 * MiB) && cached_at(h2, 6 * MiB));
    CHECK(!mapped(h1 + 2 * MiB));
    void *big = block_of(10); /* longer than the bound: never cached */
    char *h = header(big);
    rc_free(big);
    s = stats();
    CHECK_EQ(s.large_cache_bytes, 8 * MiB);
    CHECK_EQ(s.large_cache_evicted, 11 * MiB);
    CHECK(!mapped(h));
    CHECK(rc_large_cache_is_valid(heap));
    drop_heap();

    use_heap(RC_LARGE_CACHE_OFF, 0);
    p1 = block_of(3);
    h = header(p1);
    rc_free(p1);
    s = stats();
    CHECK_EQ(s.large_cache_bytes, 0);
    CHECK_EQ(s.large_cache_evicted, 0);
    CHECK(!mapped(h));
    drop_heap();
}

static void test_decay(void)
{
    use_heap(64 * MiB, 50);
    void *p = block_of(8);
    char *h = header(p);
    rc_free(p);
    CHECK_EQ(heap->alloc.cache.bytes, 8 * MiB);
    sleep_ms(120);
    void *keep = rc_malloc(64);    /* its pool stays in use */
    for (int i = 0; i < 1000; i++) /* the small-block fast paths never look */
        rc_free(rc_malloc(64));
    CHECK_EQ(heap->alloc.cache.bytes, 8 * MiB);
    rc_free(keep);
    enum { POOLS = 20, PER_POOL = RC_POOL_SIZE / 64 };
    static void *smalls[POOLS * PER_POOL];
    for (int i = 0; i < POOLS * PER_POOL; i++) /* pools taken from arenas: every 16th looks */
        smalls[i] = rc_malloc(64);
    CHECK_EQ(heap->alloc.cache.bytes, 0);
    CHECK_EQ(stats().large_cache_decayed, 8 * MiB);
    for (int i = 0; i < POOLS * PER_POOL; i++)
        rc_free(smalls[i]);
    void *q = block_of(2); /* a mapped block's call: decays first, then misses */
    rc_alloc_stats s = stats();
    CHECK_EQ(s.large_cache_decayed, 8 * MiB);
    CHECK_EQ(s.large_cache_hits, 0);
    CHECK_EQ(s.large_cache_misses, 2);
    /* unmapped: q, or an arena of the small blocks, may be there now */
    CHECK(!mapped(h) || (h >= header(q) && h < header(q) + 2 * MiB) || rc_arena_map_get(h));
    rc_free(q);
    sleep_ms(120);
    for (int i = 0; i < 16; i++) /* smaller large blocks: every 16th reads the clock */
        rc_free(rc_malloc(1000));
    CHECK_EQ(heap->alloc.cache.bytes, 0);
    rc_free(block_of(3));
    sleep_ms(120);
    s = stats(); /* rc_heap_stats applies the decay too */
    CHECK_EQ(s.large_cache_bytes, 0);
    CHECK_EQ(s.large_cache_decayed, 8 * MiB + 2 * MiB + 3 * MiB);
    for (int i = 0; i < POOLS * PER_POOL; i++) /* taken while nothing is cached */
        smalls[i] = rc_malloc(64);
    rc_free(block_of(4));
    sleep_ms(120);
    for (int i = 0; i < POOLS * PER_POOL; i++) /* pools given back: every 16th looks */
        rc_free(smalls[i]);
    CHECK_EQ(heap->alloc.cache.bytes, 0);
    CHECK_EQ(stats().large_cache_decayed, 8 * MiB + 2 * MiB + 3 * MiB + 4 * MiB);
    drop_heap();
}

static void test_trim(void)
{
    use_heap(64 * MiB, HOUR);
    CHECK_EQ(rc_heap_trim(heap), 0); /* nothing kept yet */
    enum { N = 60000 };
    static void *small[N];
    for (int i = 0; i < N; i++)
        small[i] = rc_malloc(64); /* about 4 MiB of arenas */
    for (int i = 0; i < N; i++)
        rc_free(small[i]);
    rc_free(block_of(3));
    rc_free(block_of(8));
    rc_alloc_stats before = stats();
    CHECK(before.arenas_current >= 4);
    CHECK_EQ(before.large_cache_bytes, 11 * MiB);
    size_t released = rc_heap_trim(heap);
    rc_alloc_stats after = stats();
    CHECK_EQ(after.large_cache_bytes, 0);
    CHECK(after.arenas_current <= 1); /* one may hold the heap's own objects */
    CHECK_EQ(released, 11 * MiB + (before.arenas_current - after.arenas_current) * RC_ARENA_SIZE);
    CHECK_EQ(after.arenas_freed - before.arenas_freed,
             before.arenas_current - after.arenas_current);
    CHECK_EQ(after.bytes_mapped, after.arenas_current * RC_ARENA_SIZE);
    CHECK_EQ(rc_heap_trim(heap), 0);
    CHECK(rc_alloc_validate(heap));
    for (int i = 0; i < N; i++) /* the arenas come back on demand */
        small[i] = rc_malloc(64);
    for (int i = 0; i < N; i++)
        rc_free(small[i]);
    size_t spares = stats().arenas_current - after.arenas_current;
    CHECK(spares >= 3);
    rc_heap_use(NULL); /* a heap no thread owns may be trimmed too */
    CHECK_EQ(rc_heap_trim(heap), spares * RC_ARENA_SIZE);
    rc_heap_use(heap);
    drop_heap();
}

static void *trim_from_thread(void *arg)
{
    rc_heap_trim(arg);
    return NULL;
}

/* In a child: trimming a heap another thread owns stops the process. */
static void trim_owned_elsewhere(void)
{
    use_heap(0, 0);
    pthread_t thread;
    pthread_create(&thread, NULL, trim_from_thread, heap);
    pthread_join(thread, NULL);
}

static void test_trim_misuse(void)
{
    CHECK_DEATH(trim_owned_elsewhere, "rc_heap_trim: heap ");
    CHECK_DEATH(trim_owned_elsewhere, "is in use by another thread");
}

/* ---- contents --------------------------------------------------------------- */

static size_t count_not(const unsigned char *p, size_t n, unsigned char byte)
{
    size_t bad = 0;
    for (size_t i = 0; i < n; i++)
        bad += p[i] != byte;
    return bad;
}

static void test_calloc_and_contents(void)
{
    use_heap(64 * MiB, HOUR);
    unsigned char *p = block_of(3);
    memset(p, 0xAB, 3 * MiB - HDR);
    char *h = header(p);
    rc_free(p);
    unsigned char *z = rc_calloc(1, 2 * MiB - HDR); /* a reused mapping, zeroed */
    CHECK(header(z) == h);
    CHECK_EQ(count_not(z, rc_usable_size(z), 0), 0);
    CHECK_EQ(stats().large_cache_hits, 1);
    memset(z, 0x5C, 2 * MiB - HDR);
    z = rc_realloc(z, 3 * MiB - HDR); /* grown into the rest: bytes kept */
    CHECK(header(z) == h);
    CHECK_EQ(count_not(z, 2 * MiB - HDR, 0x5C), 0);
    CHECK_EQ(rc_usable_size(z), 3 * MiB - HDR);
    rc_free(z);
    drop_heap();
}

#if RC_SANITIZE
static void read_after_free(void)
{
    use_heap(64 * MiB, HOUR);
    volatile char *p = block_of(3);
    p[MiB] = 1;
    rc_free((void *)p);
    printf("%d\n", p[MiB]); /* the extent is cached, and poisoned */
}
#endif

/* A freed block's mapping stays mapped in the cache; a use of it is still
 * caught (ASan: poisoned; memcheck: no access, checked by valgrind_ runs
 * of this program's other tests). */
static void test_use_after_free(void)
{
#if RC_SANITIZE
    CHECK_DEATH(read_after_free, "use-after-poison");
#endif
}

/* A range that spans two of the system's mappings (two freed mappings
 * merged in the cache can make one) cannot be resized by mremap: its growth
 * moves it by a copy. Made here by advising its halves differently. */
static void test_remap_across_mappings(void)
{
    use_heap(64 * MiB, HOUR);
    size_t len = 4 * MiB;
    unsigned char *r = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(r != MAP_FAILED);
    for (size_t i = 0; i < len; i += 4096)
        r[i] = (unsigned char)(i >> 12);
    CHECK_EQ(madvise(r, len / 2, MADV_NOHUGEPAGE), 0); /* two mappings now */
    CHECK_EQ(mapping_start(r + len / 2), (uintptr_t)(r + len / 2));
    unsigned char *moved = rc_large_remap(heap, r, len, 8 * MiB);
    CHECK(moved != NULL);
    size_t bad = 0;
    for (size_t i = 0; i < len; i += 4096)
        bad += moved[i] != (unsigned char)(i >> 12);
    CHECK_EQ(bad, 0);
    CHECK_EQ(count_not(moved + len, 4 * MiB, 0), 0); /* the growth is zero */
    CHECK_EQ((uintptr_t)moved % (2 * MiB), 0);
    CHECK(moved == r || !mapped(r));
    rc_large_unmap(moved, 8 * MiB);
    drop_heap();
}

/* ---- out of memory ---------------------------------------------------------- */

static void test_faults(void)
{
    use_heap(64 * MiB, HOUR);
    rc_free(block_of(8));
    rc_heap_inject_faults(heap, RC_FAULT_MMAP | RC_FAULT_MALLOC, 0, true);
    void *p = block_of(2); /* a hit needs no system request */
    CHECK(p != NULL);
    void *q = rc_realloc(p, 4 * MiB - HDR); /* nor does growing into the rest */
    CHECK(q == p);
    CHECK_EQ(heap->alloc.fault_kinds, RC_FAULT_MMAP | RC_FAULT_MALLOC); /* never reached */
    CHECK(block_of(6) == NULL); /* 4 MiB cached, 6 needed: the system, which fails */
    CHECK_STR_CONTAINS(rc_last_error(), "out of memory: mmap of a 6291456-byte large block");
    rc_alloc_stats s = stats();
    CHECK_EQ(s.large_cache_bytes, 0); /* released to make room before failing */
    CHECK_EQ(s.large_blocks, 1);
    CHECK(rc_realloc(q, 5 * MiB) == NULL); /* nothing after it: mremap, failed */
    CHECK_STR_CONTAINS(rc_last_error(), "out of memory: mremap of a ");
    CHECK_EQ(stats().large_header_bytes, HDR);
    rc_heap_inject_faults(heap, 0, -1, false);
    rc_free(block_of(3));
    /* one failure: the cache goes, the retry succeeds */
    rc_heap_inject_faults(heap, RC_FAULT_MALLOC, 0, false);
    void *r = block_of(6);
    CHECK(r != NULL);
    s = stats();
    CHECK_EQ(s.large_cache_bytes, 0);
    /* the 8 MiB; 6 MiB and its retry after a collection; the mremap; the
     * 3 MiB; this one */
    CHECK_EQ(s.large_cache_misses, 1 + 2 + 1 + 1 + 1);
    rc_free(r);
    rc_free(q);
    drop_heap();
}

/* ---- memory back to the system ----------------------------------------- */

#define RSS_TOTAL ((size_t)200 << 20)

static size_t rss_slack(void)
{
    size_t slack = 20 * MiB;
#if RC_SANITIZE
    slack += RSS_TOTAL / 8; /* ASan's shadow of what was touched */
#endif
    return slack;
}

/* Allocates and touches 200 MB of large blocks (1 to 8 MiB), frees them in
 * the order made; the RSS before. */
static size_t churn_large(void **blocks, size_t cap)
{
    size_t start = rss_bytes(), n = 0, total = 0;
    while (total < RSS_TOTAL && n < cap) {
        size_t size = (1 + (size_t)rnd(8)) * MiB - HDR;
        blocks[n] = rc_malloc(size);
        CHECK(blocks[n] != NULL);
        memset(blocks[n++], 0x77, size);
        total += size;
    }
    for (size_t i = 0; i < n; i++)
        rc_free(blocks[i]);
    return start;
}

static void test_rss(void)
{
    static void *blocks[256];
    rng_state = 7;
    use_heap(0, HOUR); /* the default bound */
    size_t start = churn_large(blocks, 256);
    size_t cached = stats().large_cache_bytes;
    CHECK(cached > 0 && cached <= RC_LARGE_CACHE_DEFAULT_BYTES);
    CHECK(rss_bytes() <= start + RC_LARGE_CACHE_DEFAULT_BYTES + rss_slack());
    CHECK(rc_heap_trim(heap) >= cached);
    CHECK(rss_bytes() <= start + rss_slack());
    drop_heap();

    use_heap(0, 50);
    start = churn_large(blocks, 256);
    sleep_ms(120);
    stats(); /* the decay's turn */
    CHECK_EQ(heap->alloc.cache.bytes, 0);
    CHECK(rss_bytes() <= start + rss_slack());
    drop_heap();
}

/* ---- other threads, tracing, debug heaps ----------------------------------- */

static void *free_from_thread(void *p)
{
    rc_free(p); /* not the owner: the heap's remote stack */
    return NULL;
}

static void test_remote_free(void)
{
    use_heap(64 * MiB, HOUR);
    void *p = block_of(3);
    char *h = header(p);
    pthread_t thread;
    CHECK_EQ(pthread_create(&thread, NULL, free_from_thread, p), 0);
    pthread_join(thread, NULL);
    CHECK_EQ(heap->alloc.cache.bytes, 0);  /* waits on the stack */
    CHECK_EQ(rc_heap_trim(heap), 3 * MiB); /* drained into the cache, then unmapped */
    CHECK(!mapped(h));
    drop_heap();
}

static void test_tracing(void)
{
    use_heap(64 * MiB, HOUR);
    rc_free(block_of(8));
    CHECK_EQ(rc_trace_start(1), 0);
    size_t current, peak;
    void *p = block_of(2);
    rc_trace_get_memory(&current, &peak);
    CHECK_EQ(current, 2 * MiB - HDR);
    p = rc_realloc(p, 5 * MiB); /* grown into the rest of the extent */
    rc_trace_get_memory(&current, &peak);
    CHECK_EQ(current, 5 * MiB);
    CHECK_EQ(peak, 5 * MiB);
    CHECK(rc_block_traceback(p) != NULL);
    rc_free(p);
    rc_trace_get_memory(&current, NULL);
    CHECK_EQ(current, 0);
    CHECK_EQ(stats().large_cache_hits, 2);
    rc_trace_stop();
    drop_heap();
}

static void test_debug_heap(void)
{
    rc_heap_options options = {
        .struct_size = sizeof options, .malloc_mode = RC_MALLOC_DEBUG, .quarantine_blocks = 1};
    heap = rc_heap_new_with(&options);
    CHECK(heap != NULL);
    rc_heap_use(heap);
    unsigned char *p = rc_malloc(6 * MiB);
    memset(p, 1, 6 * MiB);
    rc_free(p);
    rc_free(rc_malloc(16)); /* pushes p out of the one-block quarantine */
    CHECK_EQ(heap->alloc.cache.bytes, 8 * MiB);
    unsigned char *q = rc_calloc(1, 2 * MiB);
    CHECK_EQ(count_not(q, 2 * MiB, 0), 0);
    CHECK_EQ(rc_usable_size(q), 2 * MiB);
    unsigned char *r = rc_malloc(MiB + 100);
    CHECK_EQ(count_not(r, MiB + 100, 0xCD), 0); /* the debug fill, not old bytes */
    CHECK_EQ(stats().large_cache_hits, 2);
    rc_free(q);
    rc_free(r);
    drop_heap();
}

/* ---- versions, text ---------------------------------------------------------- */

static void test_struct_sizes(void)
{
    /* options as built before the cache's fields: the defaults */
    rc_heap_options old = {.struct_size = offsetof(rc_heap_options, large_cache_bytes)};
    heap = rc_heap_new_with(&old);
    CHECK(heap != NULL);
    CHECK_EQ(heap->alloc.cache.max, RC_LARGE_CACHE_DEFAULT_BYTES);
    CHECK_EQ(heap->alloc.cache.decay_ns, (uint64_t)RC_LARGE_CACHE_DEFAULT_DECAY_MS * 1000000);
    rc_heap_use(heap);
    rc_free(block_of(2));
    /* statistics as built before: the prefix filled, nothing after it */
    size_t old_size = offsetof(rc_alloc_stats, large_cache_bytes);
    union {
        rc_alloc_stats s;
        unsigned char bytes[sizeof(rc_alloc_stats)];
    } u;
    memset(&u, 0xEE, sizeof u);
    u.s.struct_size = old_size;
    CHECK_EQ(rc_heap_stats(heap, &u.s), 0);
    CHECK_EQ(u.s.struct_size, old_size);
    CHECK_EQ(u.s.bytes_mapped, u.s.arenas_current * RC_ARENA_SIZE + u.s.large_bytes_in_use +
                                   u.s.large_header_bytes + 2 * MiB);
    CHECK_EQ(count_not(u.bytes + old_size, sizeof u - old_size, 0xEE), 0);
    rc_alloc_stats bad = {.struct_size = old_size + 8};
    CHECK_EQ(rc_heap_stats(heap, &bad), RC_EINVAL);
    CHECK_STR_CONTAINS(rc_last_error(), "struct_size");
    rc_heap_options wrong = {.struct_size = offsetof(rc_heap_options, large_cache_decay_ms)};
    CHECK(rc_heap_new_with(&wrong) == NULL);
    CHECK_STR_CONTAINS(rc_last_error(), "struct_size");
    drop_heap();
}

static void test_printed(void)
{
    use_heap(64 * MiB, 250);
    rc_free(block_of(3));
    rc_free(block_of(1)); /* taken from the 3 MiB one: a hit */
    char *text = printed_stats(heap);
    CHECK_STR_CONTAINS(text, "large_cache_bytes           3145728  bytes of freed large mappings");
    CHECK_STR_CONTAINS(text, "large_cache_hits                  1  large mappings and growths");
    CHECK_STR_CONTAINS(text, "large_cache_misses                1  ");
    CHECK_STR_CONTAINS(text, "large-block cache: 3145728 bytes kept (at most 67108864; unmapped "
                             "after 250 ms unused)\n");
    free(text);
    drop_heap();
    use_heap(RC_LARGE_CACHE_OFF, 0);
    text = printed_stats(heap);
    CHECK_STR_CONTAINS(text, "\nlarge-block cache: off\n");
    free(text);
    drop_heap();
}

/* ---- the model ---------------------------------------------------------------- */

#define SLOTS 12

typedef struct slot {
    unsigned char *p;
    size_t size;
    unsigned char seed;
} slot;

/* Byte i of a block filled with seed. */
static unsigned char fill_byte(unsigned char seed, size_t i)
{
    return (unsigned char)(seed + i * 131 + (i >> 12));
}

/* The bytes of an n-byte block the model writes and checks: the first and
 * last KiB byte by byte, and one at every 64 KiB between. */
static size_t next_sample(size_t i, size_t n)
{
    if (i + 1 < 1024 || i + 1 + 1024 >= n)
        return i + 1;
    size_t boundary = (i / 65536 + 1) * 65536;
    return boundary + 1024 < n ? boundary : n - 1024;
}

/* Writes s's samples, or (check) counts those below limit that are wrong. */
static size_t touch(const slot *s, bool check, size_t limit)
{
    size_t bad = 0;
    for (size_t i = 0; i < s->size && i < limit; i = next_sample(i, s->size)) {
        if (check)
            bad += s->p[i] != fill_byte(s->seed, i);
        else
            s->p[i] = fill_byte(s->seed, i);
    }
    return bad;
}

/* Live blocks' mappings and cached extents never overlap. */
static bool disjoint(const slot *slots)
{
    for (int i = 0; i < SLOTS; i++) {
        const rc_large *a = slots[i].p ? rc_large_of(slots[i].p) : NULL;
        if (!a || !rc_large_is_mapped(a))
            continue;
        for (const rc_large_extent *e = heap->alloc.cache.extents; e; e = e->next)
            if ((const char *)a < (const char *)e + e->len &&
                (const char *)e < (const char *)a + a->map_len)
                return false;
    }
    return true;
}

static size_t random_size(void)
{
    switch (rnd(4)) {
    case 0:
        return 513 + (size_t)rnd(256 * 1024);
    case 1:
        return MiB - HDR + (size_t)rnd(3) * MiB;
    default:
        return MiB + (size_t)rng() % (20 * MiB);
    }
}

static void model_step(slot *slots, size_t *bad)
{
    slot *s = &slots[rnd(SLOTS)];
    if (rnd(8) == 0)
        rc_heap_inject_faults(heap, RC_FAULT_MALLOC | RC_FAULT_MMAP, rnd(2), false);
    if (!s->p) {
        s->size = random_size();
        s->seed = (unsigned char)rng();
        s->p = rc_malloc(s->size);
        if (s->p)
            touch(s, false, SIZE_MAX);
    } else if (rnd(3) == 0) {
        *bad += touch(s, true, SIZE_MAX);
        rc_free(s->p);
        s->p = NULL;
    } else {
        size_t size = random_size();
        unsigned char *q = rc_realloc(s->p, size);
        if (q) { /* the old samples that still fit, then the new ones */
            slot moved = {q, s->size, s->seed};
            *bad += touch(&moved, true, size);
            *s = (slot){q, size, s->seed};
            touch(s, false, SIZE_MAX);
        } else {
            *bad += touch(s, true, SIZE_MAX); /* a failed resize leaves the block */
        }
    }
    rc_heap_inject_faults(heap, 0, -1, false);
}

static void test_model(long ops, uint64_t seed)
{
    rng_state = seed;
    use_heap(48 * MiB, rnd(2) ? HOUR : 5);
    slot slots[SLOTS] = {{0}};
    size_t bad = 0, broken = 0;
    for (long op = 0; op < ops; op++) {
        model_step(slots, &bad);
        rc_alloc_stats s = stats();
        broken += !rc_large_cache_is_valid(heap) || !disjoint(slots) ||
                  s.large_cache_bytes > 48 * MiB ||
                  s.bytes_mapped != s.arenas_current * RC_ARENA_SIZE + s.large_bytes_in_use +
                                        s.large_header_bytes + s.large_cache_bytes;
        if (op % 500 == 499)
            rc_heap_trim(heap);
    }
    for (int i = 0; i < SLOTS; i++)
        if (slots[i].p) {
            bad += touch(&slots[i], true, SIZE_MAX);
            rc_free(slots[i].p);
        }
    rc_alloc_stats s = stats();
    CHECK_EQ(bad, 0);
    CHECK_EQ(broken, 0);
    CHECK_EQ(s.large_blocks, 0);
    CHECK(s.large_cache_hits > 0 && s.large_cache_misses > 0);
    printf("model: %ld ops, seed %llu: %zu hits, %zu misses, %zu decayed, %zu evicted bytes\n", ops,
           (unsigned long long)seed, s.large_cache_hits, s.large_cache_misses,
           s.large_cache_decayed, s.large_cache_evicted);
    drop_heap();
}

int main(int argc, char **argv)
{
    long ops = argc > 1 ? atol(argv[1]) : 3000;
    uint64_t seed = argc > 2 ? strtoull(argv[2], NULL, 0) : 42;
    test_reuse_from_start();
    test_split_and_merge();
    test_shrink();
    test_bound();
    test_decay();
    test_trim();
    test_trim_misuse();
    test_calloc_and_contents();
    test_remap_across_mappings();
    test_use_after_free();
    test_faults();
    test_rss();
    test_remote_free();
    test_tracing();
    test_debug_heap();
    test_struct_sizes();
    test_printed();
    test_model(ops, seed);
    return check_report();
}
