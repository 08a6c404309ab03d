/* test_alloc_stats: exact statistics after known allocations, the text of
 * rc_heap_print_stats, and the struct_size check.
 */
#include "check.h"

#include "alloc/pool.h"

#include <reclaim.h>

static size_t capacity(size_t size) { return RC_POOL_SIZE / size; }

static rc_alloc_stats stats_of(rc_heap *heap)
{
    rc_alloc_stats s = {.struct_size = sizeof s};
    CHECK_EQ(rc_heap_stats(heap, &s), 0);
    return s;
}

static void test_counts(rc_heap *heap)
{
    void *small16[10], *small100[5], *small512[3], *objects[4];
    for (int i = 0; i < 10; i++)
        small16[i] = rc_malloc(16);
    for (int i = 0; i < 5; i++)
        small100[i] = rc_malloc(100);
    for (int i = 0; i < 3; i++)
        small512[i] = rc_malloc(512);
    for (int i = 0; i < 4; i++)
        objects[i] = rc_alloc_block(heap, 30, RC_BLOCK_OBJECT);
    void *large1 = rc_malloc(1000), *large2 = rc_malloc(70000);

    rc_alloc_stats s = stats_of(heap);
    CHECK_EQ(s.struct_size, sizeof s);
    CHECK_EQ(s.classes[0].block_size, 16);
    CHECK_EQ(s.classes[31].block_size, 512);
    CHECK_EQ(s.classes[0].pools, 1);
    CHECK_EQ(s.classes[0].blocks_used, 10);
    CHECK_EQ(s.classes[0].blocks_free, capacity(16) - 10);
    CHECK_EQ(s.classes[6].pools, 1);
    CHECK_EQ(s.classes[6].blocks_used, 5);
    CHECK_EQ(s.classes[6].blocks_free, capacity(112) - 5);
    CHECK_EQ(s.classes[31].blocks_used, 3);
    CHECK_EQ(s.classes[31].blocks_free, capacity(512) - 3);
    CHECK_EQ(s.classes[1].pools, 1); /* the object pool of class 1 */
    CHECK_EQ(s.classes[1].blocks_used, 4);
    CHECK_EQ(s.classes[2].pools, 0);
    CHECK_EQ(s.pools_used, 4);
    CHECK_EQ(s.arenas_current, 1);
    CHECK_EQ(s.arenas_allocated, 1);
    CHECK_EQ(s.arenas_highwater, 1);
    CHECK_EQ(s.pools_empty, RC_ARENA_SIZE / RC_POOL_SIZE - 4);
    CHECK_EQ(s.small_bytes_in_use, 10 * 16 + 5 * 112 + 3 * 512 + 4 * 32);
    CHECK_EQ(s.large_blocks, 2);
    CHECK_EQ(s.large_bytes_in_use, 1008 + 70000);
    CHECK_EQ(s.bytes_in_use, s.small_bytes_in_use + s.large_bytes_in_use);
    CHECK(s.bytes_mapped >= RC_ARENA_SIZE + 71008);
    CHECK(s.bytes_mapped <= RC_ARENA_SIZE + 71008 + 4 * 64);
    CHECK_EQ(s.remote_frees, 0);

    /* the printed table */
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    rc_heap_print_stats(heap, out);
    fclose(out);
    CHECK_STR_CONTAINS(text, "class   size   pools  blocks in use  free blocks");
    char line[128];
    snprintf(line, sizeof line, "    0     16       1             10 %12zu", capacity(16) - 10);
    CHECK_STR_CONTAINS(text, line);
    snprintf(line, sizeof line, "   31    512       1              3 %12zu", capacity(512) - 3);
    CHECK_STR_CONTAINS(text, line);
    CHECK_STR_CONTAINS(text, "arenas_current                    1  arenas mapped now");
    CHECK_STR_CONTAINS(text, "large_blocks                      2  large blocks handed out");
    CHECK_STR_CONTAINS(text, "remote_frees");
    CHECK(strstr(text, "\n    2 ") == NULL); /* empty classes are left out */
    free(text);

    for (int i = 0; i < 10; i++)
        rc_free(small16[i]);
    for (int i = 0; i < 5; i++)
        rc_free(small100[i]);
    for (int i = 0; i < 3; i++)
        rc_free(small512[i]);
    for (int i = 0; i < 4; i++)
        rc_alloc_free_block(heap, objects[i]);
    rc_free(large1);
    rc_free(large2);
    s = stats_of(heap);
    for (int c = 0; c < RC_SIZE_CLASSES; c++) {
        CHECK_EQ(s.classes[c].pools, 0);
        CHECK_EQ(s.classes[c].blocks_used, 0);
    }
    CHECK_EQ(s.pools_used, 0);
    CHECK_EQ(s.bytes_in_use, 0);
    CHECK_EQ(s.large_blocks, 0);
    CHECK_EQ(s.arenas_current, 1); /* the spare */
    CHECK_EQ(s.arenas_freed, 0);
    CHECK_EQ(s.bytes_mapped, RC_ARENA_SIZE);
    CHECK(rc_alloc_validate(heap));
}

static void test_struct_size(rc_heap *heap)
{
    rc_alloc_stats s = {.struct_size = sizeof s - 8};
    CHECK_EQ(rc_heap_stats(heap, &s), RC_EINVAL);
    CHECK_STR_CONTAINS(rc_last_error(), "struct_size");
    CHECK_EQ(rc_heap_stats(heap, NULL), RC_EINVAL);
    s.struct_size = sizeof s;
    CHECK_EQ(rc_heap_stats(NULL, &s), 0); /* NULL: the current heap */
}

/* Many arenas: highwater and freeing down to one spare. */
static void test_arenas(rc_heap *heap)
{
    enum { N = 3 * 64 * 32 }; /* three arenas of 512-byte blocks */
    static void *blocks[N];
    for (int i = 0; i < N; i++)
        blocks[i] = rc_malloc(500);
    rc_alloc_stats s = stats_of(heap);
    CHECK_EQ(s.arenas_current, 3);
    CHECK_EQ(s.classes[31].blocks_used, N);
    CHECK_EQ(s.classes[31].blocks_free, 0);
    CHECK_EQ(s.pools_empty, 0);
    for (int i = 0; i < N; i++)
        rc_free(blocks[i]);
    s = stats_of(heap);
    CHECK_EQ(s.arenas_current, 1);
    CHECK_EQ(s.arenas_highwater, 3);
    CHECK_EQ(s.arenas_freed, 2);
    CHECK_EQ(s.arenas_allocated, 3);
    CHECK(rc_alloc_validate(heap));
}

int main(void)
{
    rc_heap *heap = rc_heap_new();
    CHECK(heap != NULL);
    rc_heap_use(heap);
    test_counts(heap);
    test_struct_size(heap);
    test_arenas(heap);
    rc_heap_use(NULL);
    rc_heap_destroy(heap);
    return check_report();
}
