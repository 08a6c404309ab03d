/* test_alloc_basic: rc_malloc/rc_calloc/rc_realloc/rc_free/rc_usable_size
 * on the current heap: sizes, alignment, contents, zeroing, overflow.
 */
#include "check.h"

#include "alloc/pool.h"

#include <reclaim.h>

static void fill(unsigned char *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (unsigned char)(seed + i * 7);
}

static int filled(const unsigned char *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != (unsigned char)(seed + i * 7))
            return 0;
    return 1;
}

static void test_sizes(void)
{
    static void *blocks[700];
    for (size_t size = 0; size < 700; size++) {
        unsigned char *p = rc_malloc(size);
        CHECK(p != NULL);
        CHECK_EQ((uintptr_t)p % 16, 0);
        size_t usable = rc_usable_size(p);
        CHECK(usable >= size);
        if (size <= RC_SMALL_MAX)
            CHECK_EQ(usable, size ? (size + 15) / 16 * 16 : 16);
        fill(p, usable, (unsigned)size);
        blocks[size] = p;
        CHECK(rc_heap_of(p) == rc_heap_current());
    }
    for (size_t size = 0; size < 700; size++)
        CHECK(filled(blocks[size], rc_usable_size(blocks[size]), (unsigned)size));
    for (size_t size = 0; size < 700; size++)
        rc_free(blocks[size]);
    rc_free(NULL);
    CHECK_EQ(rc_usable_size(NULL), 0);
}

static void test_zero_size_distinct(void)
{
    void *a = rc_malloc(0), *b = rc_malloc(0);
    CHECK(a && b && a != b);
    CHECK_EQ(rc_usable_size(a), 16);
    rc_free(a);
    rc_free(b);
}

static void test_big(void)
{
    size_t sizes[] = {513, 1000, 4096, 65536, 1 << 20, (1 << 20) + 1, 8 << 20};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        unsigned char *p = rc_malloc(sizes[i]);
        CHECK(p != NULL);
        CHECK_EQ((uintptr_t)p % 16, 0);
        CHECK(rc_usable_size(p) >= sizes[i]);
        fill(p, sizes[i], 3);
        CHECK(filled(p, sizes[i], 3));
        rc_block_kind kind = RC_BLOCK_OBJECT;
        CHECK(rc_alloc_owner(p, &kind) == rc_heap_current());
        CHECK_EQ(kind, RC_BLOCK_RAW);
        rc_free(p);
    }
    /* many large blocks at once: list and header placement */
    void *many[300];
    for (int i = 0; i < 300; i++) {
        many[i] = rc_malloc(513 + (size_t)i * 37);
        CHECK(many[i] != NULL);
        fill(many[i], 513 + (size_t)i * 37, (unsigned)i);
    }
    for (int i = 0; i < 300; i += 2)
        rc_free(many[i]);
    for (int i = 1; i < 300; i += 2) {
        CHECK(filled(many[i], 513 + (size_t)i * 37, (unsigned)i));
        rc_free(many[i]);
    }
}

static void test_calloc(void)
{
    /* dirty some blocks first so that calloc must really zero */
    for (int round = 0; round < 2; round++) {
        void *dirty[64];
        for (int i = 0; i < 64; i++) {
            dirty[i] = rc_malloc(100);
            memset(dirty[i], 0xAB, 100);
        }
        for (int i = 0; i < 64; i++)
            rc_free(dirty[i]);
        unsigned char *z = rc_calloc(10, 10);
        CHECK(z != NULL);
        int zero = 1;
        for (size_t i = 0; i < rc_usable_size(z); i++)
            zero &= z[i] == 0;
        CHECK(zero);
        rc_free(z);
    }
    unsigned char *big = rc_calloc(1000, 100);
    CHECK(big != NULL);
    int zero = 1;
    for (size_t i = 0; i < 100000; i++)
        zero &= big[i] == 0;
    CHECK(zero);
    rc_free(big);
    void *z0 = rc_calloc(0, 5);
    CHECK(z0 != NULL);
    rc_free(z0);

    CHECK(rc_calloc((size_t)1 << 62, 8) == NULL);
    CHECK_STR_CONTAINS(rc_last_error(),
                       "rc_calloc: 4611686018427387904 * 8 bytes overflows size_t");
    CHECK(rc_calloc(SIZE_MAX, SIZE_MAX) == NULL);
    CHECK_STR_CONTAINS(rc_last_error(), "overflows");
}

static void test_realloc(void)
{
    /* within a class: same block */
    unsigned char *p = rc_malloc(20);
    fill(p, 20, 1);
    CHECK(rc_realloc(p, 32) == p);
    CHECK(rc_realloc(p, 17) == p);
    /* between classes, up through large and back down */
    size_t steps[] = {33, 100, 512, 513, 5000, 100000, 3000, 700, 300, 48, 0};
    size_t have = 17;
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        size_t keep = have < steps[i] ? have : steps[i];
        unsigned char *q = rc_realloc(p, steps[i]);
        CHECK(q != NULL);
        CHECK_EQ((uintptr_t)q % 16, 0);
        CHECK(filled(q, keep, 1));
        CHECK(rc_usable_size(q) >= steps[i]);
        fill(q, steps[i], 1);
        p = q;
        have = steps[i];
    }
    CHECK_EQ(rc_usable_size(p), 16);
    rc_free(p);
    /* realloc(NULL) is malloc */
    p = rc_realloc(NULL, 40);
    CHECK(p != NULL && rc_usable_size(p) == 48);
    rc_free(p);
    /* large to large many times (system realloc, relinking) */
    void *keep[8];
    for (int i = 0; i < 8; i++)
        keep[i] = rc_malloc(600 + (size_t)i);
    unsigned char *g = rc_malloc(600);
    fill(g, 600, 9);
    size_t size = 600;
    for (int i = 0; i < 200; i++) {
        size_t next = 600 + (size_t)((i * 7919) % 200000);
        unsigned char *h = rc_realloc(g, next);
        CHECK(h != NULL);
        CHECK(filled(h, size < next ? size : next, 9));
        fill(h, next, 9);
        g = h;
        size = next;
    }
    rc_free(g);
    for (int i = 0; i < 8; i++)
        rc_free(keep[i]);
    CHECK(rc_alloc_validate(rc_heap_current()));
}

static void test_explicit_heap(void)
{
    rc_heap *heap = rc_heap_new();
    CHECK(heap != NULL);
    void *a = rc_heap_malloc(heap, 40);
    void *b = rc_heap_calloc(heap, 4, 4);
    void *c = rc_heap_malloc(heap, 4000);
    CHECK(a && b && c);
    CHECK(rc_heap_of(a) == heap && rc_heap_of(b) == heap && rc_heap_of(c) == heap);
    CHECK(rc_heap_of(a) != rc_heap_current());
    c = rc_heap_realloc(heap, c, 8000);
    CHECK(c && rc_heap_of(c) == heap);
    /* realloc onto the current heap moves a block of another heap */
    void *moved = rc_realloc(a, 200);
    CHECK(moved != NULL && rc_heap_of(moved) == rc_heap_current());
    rc_free(moved);
    rc_free(b); /* heap owned by nobody: goes through its remote list */
    rc_alloc_stats s = {.struct_size = sizeof s};
    CHECK_EQ(rc_heap_stats(heap, &s), 0);
    CHECK_EQ(s.classes[0].blocks_used, 0);
    CHECK_EQ(s.large_blocks, 1);
    rc_heap_destroy(heap); /* c goes with it */
    int x;
    CHECK(rc_heap_of(&x) == NULL);
    CHECK_STR_CONTAINS(rc_last_error(), "not allocated by reclaim");
}

int main(void)
{
    test_sizes();
    test_zero_size_distinct();
    test_big();
    test_calloc();
    test_realloc();
    test_explicit_heap();
    CHECK(rc_alloc_validate(rc_heap_current()));
    rc_heap_destroy(rc_heap_current());
    return check_report();
}
