/* test_debug_alloc: the debug allocator when nothing goes wrong: the layout
 * of raw and object blocks, small and large (guards, API byte, fills,
 * serial numbers, requested sizes), frees into the quarantine and out of
 * it, realloc, calloc, objects and the collector, remote frees, heap
 * options and RECLAIM_MALLOC, statistics, and out-of-memory handling.
 */
#include "check.h"

#include "alloc/block_layout.h"
#include "alloc/debug_guard.h"
#include "alloc/pool.h"

#include <fcntl.h>
#include <pthread.h>
#include <reclaim.h>

static rc_heap *debug_heap(size_t quarantine_blocks, size_t quarantine_bytes)
{
    rc_heap_options options = {
        .struct_size = sizeof options,
        .malloc_mode = RC_MALLOC_DEBUG,
        .quarantine_blocks = quarantine_blocks,
        .quarantine_bytes = quarantine_bytes,
    };
    rc_heap *heap = rc_heap_new_with(&options);
    CHECK(heap != NULL);
    rc_heap_use(heap);
    return heap;
}

static void heap_done(rc_heap *heap)
{
    CHECK(rc_alloc_validate(heap));
    rc_heap_use(NULL);
    rc_heap_destroy(heap);
}

static rc_alloc_stats stats_of(rc_heap *heap)
{
    rc_alloc_stats s = {.struct_size = sizeof s};
    CHECK_EQ(rc_heap_stats(heap, &s), 0);
    return s;
}

static bool all_bytes(const unsigned char *p, size_t n, unsigned char value)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] != value)
            return false;
    }
    return true;
}

/* The raw block's usable size, from the allocator. */
static size_t raw_usable(const unsigned char *user)
{
    return rc_alloc_usable(user - RC_DEBUG_FRONT);
}

/* Checks the whole layout of a live block of n requested bytes. */
static void check_layout(const unsigned char *user, size_t n, unsigned char api, unsigned char fill)
{
    const unsigned char *raw = user - RC_DEBUG_FRONT;
    size_t usable = raw_usable(user);
    CHECK(usable >= n + RC_DEBUG_OVERHEAD);
    CHECK(all_bytes(raw, 4, 0));
    CHECK_EQ(raw[RC_DEBUG_API_OFFSET], api);
    CHECK(all_bytes(raw + RC_DEBUG_GUARD_OFFSET, RC_DEBUG_FRONT - RC_DEBUG_GUARD_OFFSET, 0xFD));
    if (fill != 0xFF) /* 0xFF: the caller owns the bytes */
        CHECK(all_bytes(user, n, fill));
    size_t tail = usable - RC_DEBUG_FRONT - RC_DEBUG_RECORD - n;
    CHECK(tail >= RC_DEBUG_MIN_TAIL_GUARD);
    CHECK(all_bytes(user + n, tail, 0xFD));
    CHECK_EQ(rc_layout_requested((const char *)raw, usable), n);
}

/* Blocks the program holds: handed out in their pools or large, less the
 * quarantine's. */
static size_t live_blocks(const rc_alloc_stats *s)
{
    size_t n = s->large_blocks;
    for (unsigned c = 0; c < RC_SIZE_CLASSES; c++)
        n += s->classes[c].blocks_used;
    return n - s->quarantine_blocks;
}

static uint64_t serial_of(const void *user)
{
    return rc_layout_serial((const char *)user - RC_DEBUG_FRONT, raw_usable(user));
}

static void test_raw_layout(void)
{
    rc_heap *heap = debug_heap(0, 0);
    CHECK(heap->alloc.debug != NULL);
    CHECK_EQ(heap->alloc.front, RC_DEBUG_FRONT);
    size_t sizes[] = {0, 1, 15, 16, 24, 100, 472, 473, 512, 513, 5000, 100000};
    unsigned char *blocks[12];
    for (int i = 0; i < 12; i++) {
        blocks[i] = rc_malloc(sizes[i]);
        CHECK(blocks[i] != NULL);
        CHECK_EQ((uintptr_t)blocks[i] % 16, 0);
        check_layout(blocks[i], sizes[i], 'r', 0xCD);
        CHECK_EQ(rc_usable_size(blocks[i]), sizes[i]);
        CHECK_EQ(serial_of(blocks[i]), (uint64_t)i + 1); /* a fresh heap numbers from 1 */
        CHECK(rc_heap_of(blocks[i]) == heap);
    }
    /* 472 + 40 fills a 512-byte class block; one more byte makes it large */
    CHECK_EQ(raw_usable(blocks[6]), 512);
    CHECK(raw_usable(blocks[7]) > RC_SMALL_MAX);
    CHECK(blocks[0] != blocks[1]);
    memset(blocks[10], 0x5A, 5000); /* the caller's bytes, all of them */
    check_layout(blocks[10], 5000, 'r', 0x5A);
    rc_alloc_stats s = stats_of(heap);
    size_t requested = 0;
    for (int i = 0; i < 12; i++)
        requested += sizes[i];
    CHECK_EQ(s.requested_bytes, requested);
    CHECK_EQ(live_blocks(&s), 12);
    for (int i = 0; i < 12; i++)
        rc_free(blocks[i]);
    s = stats_of(heap);
    CHECK_EQ(s.requested_bytes, 0);
    CHECK_EQ(s.quarantine_blocks, 12);
    CHECK_EQ(live_blocks(&s), 0);
    heap_done(heap);
}

static void test_calloc_and_fills(void)
{
    rc_heap *heap = debug_heap(0, 0);
    unsigned char *z = rc_calloc(3, 7);
    check_layout(z, 21, 'r', 0);
    unsigned char *big = rc_calloc(1000, 3);
    check_layout(big, 3000, 'r', 0);
    unsigned char *p = rc_malloc(40);
    rc_free(p);
    /* quarantined: 0xDD over the user's bytes, freed in the API byte, the
     * guards and the record as they were */
    CHECK(all_bytes(p, 40, 0xDD));
    CHECK_EQ(p[-RC_DEBUG_FRONT + RC_DEBUG_API_OFFSET], 'f');
    CHECK(all_bytes(p - 11, 11, 0xFD));
    CHECK(all_bytes(p + 40, raw_usable(p) - RC_DEBUG_FRONT - RC_DEBUG_RECORD - 40, 0xFD));
    rc_free(z);
    rc_free(big);
    CHECK(all_bytes(big, 3000, 0xDD));
    CHECK(rc_calloc(SIZE_MAX / 2, 4) == NULL);
    CHECK_STR_CONTAINS(rc_last_error(), "overflows size_t");
    heap_done(heap);
}

/* Freed blocks wait in the quarantine (still in use in their pools), the
 * oldest leaving first when it is over its block or byte limit. */
static void test_quarantine(void)
{
    rc_heap *heap = debug_heap(4, 4000);
    void *p[6];
    for (int i = 0; i < 6; i++)
        p[i] = rc_malloc(24); /* 64-byte raw blocks */
    rc_alloc_stats s = stats_of(heap);
    unsigned cls = rc_class_of(24 + RC_DEBUG_OVERHEAD);
    CHECK_EQ(s.classes[cls].blocks_used, 6);
    for (int i = 0; i < 6; i++)
        rc_free(p[i]);
    s = stats_of(heap);
    CHECK_EQ(s.quarantine_blocks, 4);
    CHECK_EQ(s.quarantine_bytes, 4 * 64);
    CHECK_EQ(s.classes[cls].blocks_used, 4); /* the two oldest went back */
    CHECK_EQ(rc_debug_quarantine_type(heap, (char *)p[0] - RC_DEBUG_FRONT), NULL);
    /* the validator checks the quarantine's invariants */
    CHECK(rc_alloc_validate(heap));
    unsigned char *api = (unsigned char *)p[5] - RC_DEBUG_FRONT + RC_DEBUG_API_OFFSET;
    *api = 'r';
    CHECK(!rc_debug_validate(heap));
    *api = 'f';
    heap->alloc.debug->bytes += 16;
    CHECK(!rc_debug_validate(heap));
    heap->alloc.debug->bytes -= 16;
    CHECK(rc_debug_validate(heap));
    /* the byte limit: a block bigger than all of it pushes out the older
     * ones, oldest first, then itself */
    void *big = rc_malloc(5000);
    rc_free(big);
    s = stats_of(heap);
    CHECK_EQ(s.quarantine_blocks, 0);
    CHECK_EQ(s.large_blocks, 0);
    CHECK_EQ(s.classes[cls].blocks_used, 0);
    void *small = rc_malloc(3000);
    rc_free(small);
    CHECK_EQ(stats_of(heap).quarantine_bytes, 3040);
    void *again = rc_malloc(24); /* a block back from the quarantine */
    bool reused = false;
    for (int i = 0; i < 6; i++)
        reused |= again == p[i];
    CHECK(reused);
    rc_free(again);
    CHECK(rc_debug_quarantine_flush(heap));
    CHECK(!rc_debug_quarantine_flush(heap));
    s = stats_of(heap);
    CHECK_EQ(s.quarantine_blocks, 0);
    CHECK_EQ(s.bytes_in_use, 0);
    heap_done(heap);
}

static void test_realloc(void)
{
    rc_heap *heap = debug_heap(0, 0);
    unsigned char *p = rc_realloc(NULL, 10);
    check_layout(p, 10, 'r', 0xCD);
    for (int i = 0; i < 10; i++)
        p[i] = (unsigned char)i;
    uint64_t serial = serial_of(p);
    unsigned char *q = rc_realloc(p, 12); /* same class: still a new block */
    CHECK(q != p);
    CHECK(serial_of(q) == serial + 1);
    check_layout(q, 12, 'r', 0xFF);
    CHECK(q[9] == 9 && q[10] == 0xCD && q[11] == 0xCD);
    CHECK(all_bytes(p, 10, 0xDD)); /* the old one is in the quarantine */
    unsigned char *r = rc_realloc(q, 3000);
    CHECK(r[0] == 0 && r[9] == 9 && r[12] == 0xCD);
    check_layout(r, 3000, 'r', 0xFF);
    unsigned char *s = rc_realloc(r, 5);
    check_layout(s, 5, 'r', 0xFF);
    CHECK(s[4] == 4);
    unsigned char *t = rc_realloc(s, 0);
    check_layout(t, 0, 'r', 0xFF);
    rc_free(t);
    heap_done(heap);
}

/* A block moved between a plain heap and a debug heap by rc_realloc. */
static void test_realloc_across_heaps(void)
{
    rc_heap *plain = rc_heap_new();
    rc_heap_use(plain);
    char *p = rc_malloc(20);
    strcpy(p, "from the plain heap");
    rc_heap *heap = debug_heap(0, 0);
    char *q = rc_realloc(p, 30);
    CHECK_STR_CONTAINS(q, "from the plain heap");
    check_layout((unsigned char *)q, 30, 'r', 0xFF);
    rc_heap_use(plain);
    char *back = rc_realloc(q, 40);
    CHECK(rc_heap_of(back) == plain);
    CHECK_STR_CONTAINS(back, "from the plain heap");
    rc_free(back);
    rc_heap_use(heap);
    CHECK_EQ(stats_of(heap).quarantine_blocks, 1);
    heap_done(heap);
    rc_heap_use(NULL);
    rc_heap_destroy(plain);
}

typedef struct Pair {
    void *a, *b;
    long value;
} Pair;

static int pairs_destroyed;
static void pair_traverse(void *self, rc_visit_fn visit, void *arg)
{
    visit(&((Pair *)self)->a, arg);
    visit(&((Pair *)self)->b, arg);
}
static void pair_destroy(void *self)
{
    (void)self;
    pairs_destroyed++;
}
static const rc_type pair_type = {
    .name = "Pair", .size = sizeof(Pair), .traverse = pair_traverse, .destroy = pair_destroy};

static void test_objects(void)
{
    rc_heap *heap = debug_heap(0, 0);
    pairs_destroyed = 0;
    Pair *x = rc_new(&pair_type), *y = rc_new(&pair_type);
    unsigned char *bx = (unsigned char *)x - RC_HEADER_SIZE;
    check_layout(bx, RC_HEADER_SIZE + sizeof(Pair), 'o', 0xFF);
    CHECK(all_bytes((unsigned char *)x, sizeof(Pair), 0));
    CHECK(rc_heap_of(x) == heap);
    CHECK(rc_type_of(x) == &pair_type);
    CHECK_EQ(rc_refcount(x), 1);
    rc_assign(&x->a, y);
    rc_assign(&y->a, x); /* a cycle */
    void *big = rc_new_var(&pair_type, 2000);
    CHECK(big != NULL);
    check_layout((unsigned char *)big - RC_HEADER_SIZE, RC_HEADER_SIZE + sizeof(Pair) + 2000, 'o',
                 0xFF);
    rc_assign(&y->b, big);
    rc_decref(big);
    rc_decref(x);
    rc_decref(y);
    CHECK_EQ(pairs_destroyed, 0);
    CHECK_EQ(rc_gc_collect(2), 3);
    CHECK_EQ(pairs_destroyed, 3);
    /* freed objects: dead word zero (the collector's scan skips them), the
     * rest of the header and body 0xDD, the type remembered */
    CHECK(all_bytes(bx, 8, 0));
    CHECK(all_bytes(bx + 8, 8 + sizeof(Pair), 0xDD));
    CHECK(rc_debug_quarantine_type(heap, (char *)bx - RC_DEBUG_FRONT) == &pair_type);
    CHECK_EQ(rc_gc_collect(2), 0);
    /* a long chain dies without recursion on a debug heap too */
    Pair *head = NULL;
    for (int i = 0; i < 10000; i++) {
        Pair *n = rc_new(&pair_type);
        n->a = head;
        head = n;
    }
    rc_decref(head);
    CHECK_EQ(pairs_destroyed, 10003);
    heap_done(heap);
}

static void *remote_free(void *arg)
{
    void **blocks = arg;
    for (int i = 0; i < 8; i++)
        rc_free(blocks[i]);
    return NULL;
}

static void test_remote_free(void)
{
    rc_heap *heap = debug_heap(0, 0);
    void *blocks[8];
    for (int i = 0; i < 8; i++)
        blocks[i] = rc_malloc(i < 4 ? 32 : 2000);
    pthread_t thread;
    CHECK_EQ(pthread_create(&thread, NULL, remote_free, blocks), 0);
    pthread_join(thread, NULL);
    /* checked and filled by the thread, quarantined when the owner drains */
    CHECK(all_bytes(blocks[0], 32, 0xDD));
    CHECK_EQ(heap->alloc.debug->count, 0);
    rc_alloc_stats s = stats_of(heap);
    CHECK_EQ(s.quarantine_blocks, 8);
    CHECK_EQ(s.remote_frees, 8);
    CHECK_EQ(s.requested_bytes, 0);
    CHECK(all_bytes((unsigned char *)blocks[0] - 11, 11, 0xFD)); /* the link's bytes restored */
    heap_done(heap);
}

static void test_options(void)
{
    rc_heap_options bad = {.struct_size = sizeof bad - 8};
    CHECK(rc_heap_new_with(&bad) == NULL);
    CHECK_STR_CONTAINS(rc_last_error(), "struct_size");
    rc_heap_options bad_mode = {.struct_size = sizeof bad_mode, .malloc_mode = 7};
    CHECK(rc_heap_new_with(&bad_mode) == NULL);
    CHECK_STR_CONTAINS(rc_last_error(), "malloc_mode 7");

    setenv("RECLAIM_MALLOC", "debug", 1);
    rc_heap *from_env = rc_heap_new();
    CHECK(from_env && from_env->alloc.debug != NULL);
    rc_heap_options plain = {.struct_size = sizeof plain, .malloc_mode = RC_MALLOC_DEFAULT};
    rc_heap *forced = rc_heap_new_with(&plain);
    CHECK(forced && forced->alloc.debug == NULL && forced->alloc.fast_max == RC_SMALL_MAX);
    setenv("RECLAIM_MALLOC", "default", 1);
    rc_heap *named_default = rc_heap_new_with(NULL);
    CHECK(named_default && named_default->alloc.debug == NULL);
    rc_heap_destroy(from_env);
    rc_heap_destroy(forced);
    rc_heap_destroy(named_default);

    /* an unknown value: a message on stderr, and the default allocator */
    setenv("RECLAIM_MALLOC", "pymalloc_debug", 1);
    fflush(stderr);
    int saved = dup(2);
    char path[] = "/tmp/test_debug_alloc_XXXXXX";
    int fd = mkstemp(path);
    dup2(fd, 2);
    rc_heap *unknown = rc_heap_new();
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    char text[512] = {0};
    CHECK(pread(fd, text, sizeof text - 1, 0) > 0);
    close(fd);
    unlink(path);
    CHECK_STR_CONTAINS(text, "reclaim: RECLAIM_MALLOC=pymalloc_debug is not understood (use "
                             "\"debug\" or \"default\"); the heap uses the default allocator");
    CHECK(unknown && unknown->alloc.debug == NULL);
    rc_heap_destroy(unknown);
    unsetenv("RECLAIM_MALLOC");
}

/* Exact figures on a debug heap: what the pools see, and what was asked. */
static void test_stats(void)
{
    rc_heap *heap = debug_heap(0, 0);
    void *a = rc_malloc(8), *b = rc_malloc(100), *c = rc_malloc(600);
    rc_alloc_stats s = stats_of(heap);
    CHECK_EQ(s.classes[rc_class_of(48)].blocks_used, 1);  /* 8 + 40 */
    CHECK_EQ(s.classes[rc_class_of(140)].blocks_used, 1); /* 100 + 40 */
    CHECK_EQ(s.small_bytes_in_use, 48 + 144);
    CHECK_EQ(s.large_blocks, 1);
    CHECK_EQ(s.large_bytes_in_use, 640);
    CHECK_EQ(s.requested_bytes, 708);
    CHECK_EQ(s.bookkeeping_bytes, sizeof(rc_arena) + sizeof(rc_debug_state) +
                                      RC_DEBUG_QUARANTINE_BLOCKS * sizeof(rc_debug_entry));
    rc_free(b);
    s = stats_of(heap);
    CHECK_EQ(s.requested_bytes, 608);
    CHECK_EQ(s.quarantine_blocks, 1);
    CHECK_EQ(s.quarantine_bytes, 144);
    CHECK_EQ(s.small_bytes_in_use, 48 + 144); /* still in its pool */
    CHECK_EQ(s.bytes_in_use, 48 + 640);       /* but not the program's */
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    rc_heap_print_stats(heap, out);
    fclose(out);
    CHECK_STR_CONTAINS(text, "allocator: debug (40 bytes of guards and records a block; "
                             "quarantine of at most 1024 blocks and 4194304 bytes)");
    CHECK_STR_CONTAINS(text, "quarantine_blocks                 1  debug: freed blocks held back");
    CHECK_STR_CONTAINS(text, "requested_bytes                 608");
    free(text);
    rc_free(a);
    rc_free(c);
    heap_done(heap);
}

/* Out of memory: no block half-made, and the quarantine gives way before
 * an allocation fails. */
static void test_out_of_memory(void)
{
    rc_heap *heap = debug_heap(4096, SIZE_MAX);
    enum { N = RC_POOLS_PER_ARENA * (RC_POOL_SIZE / 512) }; /* one arena of 512-byte blocks */
    static void *blocks[N];
    for (int i = 0; i < N; i++)
        blocks[i] = rc_malloc(512 - RC_DEBUG_OVERHEAD);
    CHECK_EQ(stats_of(heap).arenas_current, 1);
    for (int i = 0; i < 100; i++)
        rc_free(blocks[i]);
    rc_heap_inject_faults(heap, RC_FAULT_MMAP, 0, true);
    void *p = rc_malloc(512 - RC_DEBUG_OVERHEAD); /* no arena: the quarantine lets go */
    CHECK(p != NULL);
    rc_alloc_stats s = stats_of(heap);
    CHECK_EQ(s.quarantine_blocks, 0);
    CHECK_EQ(s.arenas_current, 1);
    for (int i = 100; i < N; i++)
        rc_free(blocks[i]);
    rc_heap_inject_faults(heap, RC_FAULT_MALLOC, 0, true);
    CHECK(rc_malloc(100000) == NULL);
    CHECK_STR_CONTAINS(rc_last_error(), "out of memory: malloc of");
    CHECK_EQ(stats_of(heap).quarantine_blocks, 0); /* flushed on the way */
    rc_heap_inject_faults(heap, 0, -1, false);
    CHECK(rc_malloc(SIZE_MAX - 8) == NULL);
    CHECK_STR_CONTAINS(rc_last_error(), "more than a block can hold");
    rc_free(p);
    heap_done(heap);
}

int main(void)
{
    unsetenv("RECLAIM_MALLOC");
    test_raw_layout();
    test_calloc_and_fills();
    test_quarantine();
    test_realloc();
    test_realloc_across_heaps();
    test_objects();
    test_remote_free();
    test_options();
    test_stats();
    test_out_of_memory();
    return check_report();
}
