/* test_alloc_objects: object blocks as the collector sees them. Every
 * object block that may hold a live object is in a span of
 * rc_alloc_object_spans; in object pools the first eight bytes (refcnt and
 * gc_bits) of every free or never-used carved block are zero, even in pools that held raw blocks
 * before; raw pools are never reported.
 */
#include "check.h"

#include "alloc/pool.h"

#include <reclaim.h>

enum { N = 3000 };

typedef struct census {
    size_t live;    /* blocks with a nonzero first word */
    size_t dead;    /* with a zero one */
    size_t dirty;   /* dead, but with nonzero gc_bits */
    size_t large;   /* spans of one large block */
    size_t foreign; /* spans that hold a raw block we know */
    void *raw;
} census;

static void count_span(const rc_block_span *span, void *arg)
{
    census *c = arg;
    if (span->count == 1 && span->stride > RC_SMALL_MAX)
        c->large++;
    for (size_t i = 0; i < span->count; i++) {
        char *block = span->first + i * span->stride;
        if (block == c->raw)
            c->foreign++;
        if (*(uint32_t *)block) {
            c->live++;
        } else {
            c->dead++;
            c->dirty += ((uint32_t *)block)[1] != 0;
        }
    }
}

static census take_census(rc_heap *heap, void *raw)
{
    census c = {.raw = raw};
    rc_alloc_object_spans(heap, count_span, &c);
    return c;
}

int main(void)
{
    rc_heap *heap = rc_heap_new();
    rc_heap_use(heap);
    static uint32_t *objects[N];

    /* dirty raw pools of the classes, then free them so they are recycled */
    static unsigned char *raw[N];
    for (int i = 0; i < N; i++) {
        raw[i] = rc_malloc(16 + (size_t)(i % 8) * 16);
        memset(raw[i], 0xFF, 16 + (size_t)(i % 8) * 16);
    }
    for (int i = 0; i < N; i++)
        rc_free(raw[i]);

    void *keep_raw = rc_malloc(32);
    for (int i = 0; i < N; i++) {
        objects[i] = rc_alloc_block(heap, 16 + (size_t)(i % 8) * 16, RC_BLOCK_OBJECT);
        CHECK_EQ(objects[i][0], 0); /* handed out with a zero refcount */
        objects[i][0] = 1;          /* as the object layer does */
        objects[i][1] = 0xFFFF;     /* gc_bits, left set when it dies */
    }
    uint32_t *large = rc_alloc_block(heap, 3000, RC_BLOCK_OBJECT);
    large[0] = 1;
    census c = take_census(heap, keep_raw);
    CHECK_EQ(c.live, N + 1);
    /* rc_heap_of takes an object's body as well as its block */
    CHECK(rc_heap_of(objects[5]) == heap);
    CHECK(rc_heap_of((char *)objects[5] + RC_HEADER_SIZE) == heap);
    CHECK(rc_heap_of((char *)large + RC_HEADER_SIZE) == heap);
    CHECK(rc_heap_of((char *)keep_raw + RC_HEADER_SIZE) == NULL);
    CHECK_EQ(c.large, 1);
    CHECK_EQ(c.foreign, 0);

    /* kill half of each class; the freed blocks' first words read zero */
    size_t killed = 0;
    for (int i = 0; i < N; i++) {
        if ((i / 8) % 2 == 0) {
            rc_alloc_free_block(heap, objects[i]);
            objects[i] = NULL;
            killed++;
        }
    }
    c = take_census(heap, keep_raw);
    CHECK_EQ(c.live, N - killed + 1);
    CHECK(c.dead >= killed);
    CHECK_EQ(c.dirty, 0);

    /* dying objects keep refcnt 0 until freed: such blocks count as dead */
    objects[8][0] = 0;
    c = take_census(heap, keep_raw);
    CHECK_EQ(c.live, N - killed);
    objects[8][0] = 1;

    for (int i = 0; i < N; i++)
        if (objects[i])
            rc_alloc_free_block(heap, objects[i]);
    rc_alloc_free_block(heap, large);
    c = take_census(heap, keep_raw);
    CHECK_EQ(c.live, 0);
    CHECK_EQ(c.large, 0);
    rc_block_kind kind = RC_BLOCK_OBJECT;
    CHECK(rc_alloc_owner(keep_raw, &kind) == heap && kind == RC_BLOCK_RAW);
    rc_free(keep_raw);
    CHECK(rc_alloc_validate(heap));
    rc_heap_use(NULL);
    rc_heap_destroy(heap);
    return check_report();
}
