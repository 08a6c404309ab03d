/* test_tuple_freelist_trace.c: the tracer's figures with tuple free lists.
 * A kept tuple leaves the traced figures as a freed one does, and a reused
 * one enters them as a new one of the same size, attributed to the call
 * site that made it now (not to the dead tuple's): the figures of a
 * sequence of makes and drops are the same on a plain heap, which reuses,
 * and on a debug heap, which keeps no free lists; snapshots hold no kept
 * block; tracing started or stopped while blocks are kept stays exact.
 */
#include "check.h"

#include "types/types_internal.h"

#include <reclaim.h>

#define NO_TAIL_CALL() __asm__ volatile("" ::: "memory")

/* The bytes a tuple of n items asks for: header, length, items. */
#define TUPLE_REQUEST(n) (16 + 8 + 8 * (size_t)(n))

static size_t current(void)
{
    size_t c = 0;
    rc_trace_get_memory(&c, NULL);
    return c;
}

static size_t peak(void)
{
    size_t p = 0;
    rc_trace_get_memory(NULL, &p);
    return p;
}

static rc_heap *heap_of_mode(rc_malloc_mode mode)
{
    rc_heap_options options = {.struct_size = sizeof options, .malloc_mode = mode};
    rc_heap *heap = rc_heap_new_with(&options);
    CHECK(heap != NULL);
    rc_heap_use(heap);
    return heap;
}

static void drop_heap(rc_heap *heap)
{
    rc_heap_use(NULL);
    rc_heap_destroy(heap);
}

/* Two call sites making 2-tuples (of different code, so that no compiler
 * folds them into one function). */
static __attribute__((noinline)) void *make_at_a(void *item)
{
    void *items[2] = {item, item};
    void *t = rc_tuple_from_array(2, items);
    NO_TAIL_CALL();
    return t;
}

static __attribute__((noinline)) void *make_at_b(void *item)
{
    void *t = rc_tuple_pack(2, item, item);
    NO_TAIL_CALL();
    return t;
}

static uint32_t traceback_id(const void *obj)
{
    const rc_trace_frames *tb = rc_object_traceback(obj);
    CHECK(tb != NULL);
    return tb ? tb->id : 0;
}

static void test_attribution(void)
{
    rc_heap *heap = heap_of_mode(RC_MALLOC_DEFAULT);
    void *one = rc_int_new(1);
    CHECK_EQ(rc_trace_start(1), 0);
    void *fresh_b = make_at_b(one); /* new block: no list has one */
    void *a = make_at_a(one);
    uint32_t site_a = traceback_id(a), site_b = traceback_id(fresh_b);
    CHECK(site_a != site_b);
    CHECK_EQ(current(), 2 * TUPLE_REQUEST(2));
    void *old = a;
    rc_decref(a);
    CHECK_EQ(current(), TUPLE_REQUEST(2)); /* kept: out of the figures */
    CHECK_EQ(peak(), 2 * TUPLE_REQUEST(2));
    void *b = make_at_b(one);
    CHECK(b == old);                   /* a's block ... */
    CHECK_EQ(traceback_id(b), site_b); /* ... made at b's call site */
    CHECK_EQ(current(), 2 * TUPLE_REQUEST(2));
    CHECK_EQ(peak(), 2 * TUPLE_REQUEST(2));
    CHECK_EQ(rc_trace_untraced_blocks(), 0);
    /* a snapshot: the two live tuples (and the int made before tracing:
     * none), never a kept block */
    rc_decref(fresh_b);
    rc_snapshot *snap = rc_snapshot_take();
    CHECK(snap != NULL);
    CHECK_EQ(rc_snapshot_trace_count(snap), 1);
    size_t size = 0;
    CHECK(rc_snapshot_trace(snap, 0, &size) != NULL);
    CHECK_EQ(size, TUPLE_REQUEST(2));
    rc_snapshot_free(snap);
    rc_decref(b);
    CHECK_EQ(current(), 0);
    rc_trace_stop();
    drop_heap(heap);
}

/* Blocks kept before tracing starts, or while it stops, are traced when
 * reused. */
static void test_start_and_stop(void)
{
    rc_heap *heap = heap_of_mode(RC_MALLOC_DEFAULT);
    void *one = rc_int_new(1);
    void *t = rc_tuple_pack(3, one, one, one);
    rc_decref(t); /* kept untraced */
    CHECK_EQ(rc_trace_start(4), 0);
    void *u = rc_tuple_pack(3, one, one, one);
    CHECK(u == t);
    CHECK_EQ(current(), TUPLE_REQUEST(3));
    CHECK(rc_object_traceback(u) != NULL);
    rc_decref(u); /* kept; its trace forgotten */
    CHECK_EQ(current(), 0);
    rc_trace_stop();
    CHECK_EQ(rc_trace_start(1), 0);
    u = rc_tuple_pack(3, one, one, one);
    CHECK(u == t);
    CHECK_EQ(current(), TUPLE_REQUEST(3));
    rc_trace_stop(); /* forgets u's trace; u is dropped untraced */
    rc_decref(u);
    CHECK_EQ(rc_trace_start(1), 0);
    CHECK_EQ(current(), 0);
    u = rc_tuple_pack(3, one, one, one);
    CHECK(u == t);
    CHECK_EQ(current(), TUPLE_REQUEST(3));
    rc_decref(u);
    CHECK_EQ(current(), 0);
    CHECK_EQ(rc_trace_untraced_blocks(), 0);
    rc_trace_stop();
    drop_heap(heap);
}

/* The traced figures after each step of a fixed sequence of makes and
 * drops (lengths 1..24, so some kept and some not), on a heap of mode. */
enum { STEPS = 3000, SLOTS = 64 };

static void figures_of(rc_malloc_mode mode, size_t *cur, size_t *top, size_t *reuses)
{
    rc_heap *heap = heap_of_mode(mode);
    void *one = rc_int_new(1);
    void *live[SLOTS] = {0};
    uint64_t rng = 0x9E3779B97F4A7C15u;
    CHECK_EQ(rc_trace_start(1), 0);
    *reuses = 0;
    for (size_t step = 0; step < STEPS; step++) {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        size_t slot = rng % SLOTS, n = 1 + (rng >> 32) % 24;
        if (live[slot]) {
            rc_decref(live[slot]);
            live[slot] = NULL;
        } else {
            void *items[24];
            for (size_t i = 0; i < n; i++)
                items[i] = one;
            void *expected = n < RC_TUPLE_FREELISTS ? heap->types.tuple_free[n].head : NULL;
            live[slot] = rc_tuple_from_array(n, items);
            *reuses += expected && live[slot] == expected;
        }
        cur[step] = current();
        top[step] = peak();
    }
    for (size_t i = 0; i < SLOTS; i++)
        rc_decref(live[i]);
    CHECK_EQ(current(), 0);
    CHECK_EQ(rc_trace_untraced_blocks(), 0);
    rc_trace_stop();
    drop_heap(heap);
}

static void test_same_figures(void)
{
    static size_t cur_plain[STEPS], top_plain[STEPS], cur_debug[STEPS], top_debug[STEPS];
    size_t reuses_plain, reuses_debug;
    figures_of(RC_MALLOC_DEFAULT, cur_plain, top_plain, &reuses_plain);
    figures_of(RC_MALLOC_DEBUG, cur_debug, top_debug, &reuses_debug);
    CHECK(reuses_plain > STEPS / 10); /* the plain heap reused blocks ... */
    CHECK_EQ(reuses_debug, 0);        /* ... the debug heap none */
    size_t differ = 0;
    for (size_t i = 0; i < STEPS; i++)
        differ += cur_plain[i] != cur_debug[i] || top_plain[i] != top_debug[i];
    CHECK_EQ(differ, 0);
    CHECK(top_plain[STEPS - 1] > 0);
}

int main(void)
{
    test_attribution();
    test_start_and_stop();
    test_same_figures();
    return check_report();
}
