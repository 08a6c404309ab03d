/* test_tuple_freelist.c: the tuple free lists (CPython 3.11's: lengths
 * 1..19, at most 2000 each). A dead tuple's block comes back, last in
 * first out, for the next tuple of its length only; the statistics count
 * kept blocks exactly (and leave them out of bytes_in_use); reused tuples
 * are tracked, counted and collected as new ones; weak references to the
 * old tuple stay dead; the lists are per heap; a heap out of memory still
 * reuses; a debug heap keeps none, so a use after free is still caught;
 * and a random sequence of makes and drops matches a model of the lists.
 * (test_tuple_freelist_trace.c: the tracer's figures.)
 */
#include "check.h"

#include "alloc/pool.h"
#include "gc/gc_internal.h"
#include "types/types_internal.h"

#include <reclaim.h>

#define HEADER 16

static rc_heap *heap;

static rc_alloc_stats stats(void)
{
    rc_alloc_stats s = {.struct_size = sizeof s};
    CHECK_EQ(rc_heap_stats(heap, &s), 0);
    return s;
}

/* The class bytes of a tuple of n items. */
static size_t tuple_block(size_t n) { return rc_class_size[rc_class_of(HEADER + 8 + 8 * n)]; }

static void fresh_heap(void)
{
    heap = rc_heap_new();
    CHECK(heap != NULL);
    rc_heap_use(heap);
}

static void drop_heap(void)
{
    CHECK(rc_alloc_validate(heap));
    CHECK_EQ(rc_gc_validate(heap), 0);
    rc_heap_use(NULL);
    rc_heap_destroy(heap);
    heap = NULL;
}

/* A tuple of n copies of item. */
static void *tuple_of(size_t n, void *item)
{
    void *items[32];
    for (size_t i = 0; i < n; i++)
        items[i] = item;
    return rc_tuple_from_array(n, items);
}

static void test_reuse(void)
{
    fresh_heap();
    void *a = rc_int_new(1000), *b = rc_str_from("b");
    size_t in_use = stats().bytes_in_use;
    void *t = rc_tuple_pack(2, a, b);
    CHECK_EQ(stats().bytes_in_use, in_use + tuple_block(2));
    void *old = t;
    CHECK_EQ(rc_refcount(a), 2);
    rc_decref(t);
    CHECK_EQ(rc_refcount(a), 1); /* the items are released at death */
    CHECK_EQ(rc_refcount(b), 1);
    rc_alloc_stats s = stats();
    CHECK_EQ(s.freelist_blocks, 1);
    CHECK_EQ(s.freelist_bytes, tuple_block(2));
    CHECK_EQ(s.bytes_in_use, in_use); /* kept, not in use */
    /* a 3-tuple has the 2-tuple's size class but not its list */
    CHECK_EQ(tuple_block(3), tuple_block(2));
    void *t3 = rc_tuple_pack(3, a, a, a);
    CHECK(t3 != old);
    CHECK_EQ(stats().freelist_blocks, 1);
    /* the next 2-tuple takes the block back, as a new object */
    void *t2 = rc_tuple_pack(2, b, a);
    CHECK(t2 == old);
    CHECK_EQ(rc_refcount(t2), 1);
    CHECK(rc_tuple_get(t2, 0) == b && rc_tuple_get(t2, 1) == a);
    CHECK_EQ(rc_tuple_len(t2), 2);
    CHECK_EQ(rc_refcount(a), 5);
    s = stats();
    CHECK_EQ(s.freelist_blocks, 0);
    CHECK_EQ(s.freelist_bytes, 0);
    CHECK_EQ(s.bytes_in_use, in_use + tuple_block(2) + tuple_block(3));
    rc_decref(t2);
    rc_decref(t3);
    CHECK_EQ(rc_refcount(a), 1);
    /* last in, first out */
    void *x = rc_tuple_pack(1, a), *y = rc_tuple_pack(1, a);
    rc_decref(x);
    rc_decref(y);
    void *first = rc_tuple_pack(1, b), *second = rc_tuple_pack(1, b);
    CHECK(first == y && second == x);
    rc_decref(first);
    rc_decref(second);
    /* the empty tuple is one immortal object, on no list */
    void *e = rc_tuple_pack(0);
    rc_decref(e);
    CHECK(rc_tuple_pack(0) == e && rc_is_immortal(e));
    rc_decref(a);
    rc_decref(b);
    drop_heap();
}

static void test_lengths_and_limit(void)
{
    fresh_heap();
    void *one = rc_int_new(1);
    size_t in_use = stats().bytes_in_use;
    /* lengths 1..19 are kept, 20 and more are not */
    for (size_t n = 1; n <= 25; n++)
        rc_decref(tuple_of(n, one));
    rc_alloc_stats s = stats();
    CHECK_EQ(s.freelist_blocks, 19);
    size_t kept = 0;
    for (size_t n = 1; n <= 19; n++)
        kept += tuple_block(n);
    CHECK_EQ(s.freelist_bytes, kept);
    CHECK_EQ(s.bytes_in_use, in_use);
    for (size_t n = 1; n < RC_TUPLE_FREELISTS; n++)
        CHECK_EQ(heap->types.tuple_free[n].count, 1);
    /* at most 2000 a length */
    size_t class_used = stats().classes[rc_class_of(HEADER + 16)].blocks_used;
    static void *many[2500];
    for (size_t i = 0; i < 2500; i++)
        many[i] = rc_tuple_pack(1, one);
    CHECK_EQ(heap->types.tuple_free[1].count, 0);
    for (size_t i = 0; i < 2500; i++)
        rc_decref(many[i]);
    CHECK_EQ(heap->types.tuple_free[1].count, 2000);
    s = stats();
    CHECK_EQ(s.freelist_blocks, 2000 + 18);
    CHECK_EQ(s.freelist_bytes, kept + 1999 * tuple_block(1));
    CHECK_EQ(s.bytes_in_use, in_use);
    /* kept blocks are handed out as far as the pools know */
    CHECK_EQ(s.classes[rc_class_of(HEADER + 16)].blocks_used, class_used - 1 + 2000);
    drop_heap(); /* the lists' blocks go with the heap (ASan: no leak) */
}

static void test_collector(void)
{
    fresh_heap();
    rc_gc_collect(2);
    size_t count[RC_GC_GENERATIONS];
    rc_gc_get_count(count);
    void *t = rc_tuple_pack(1, rc_int_new(1));
    rc_decref(t);
    size_t before[RC_GC_GENERATIONS];
    rc_gc_get_count(before);
    CHECK_EQ(before[0], count[0]); /* the death uncounted it */
    /* a cycle through a reused tuple: tracked, counted, collected, kept */
    void *list = rc_list_new();
    void *u = rc_tuple_pack(1, list);
    CHECK(u == t);
    CHECK(rc_gc_is_tracked(u));
    size_t after[RC_GC_GENERATIONS];
    rc_gc_get_count(after);
    CHECK_EQ(after[0], before[0] + 2); /* the list and the tuple */
    CHECK_EQ(rc_list_append(list, u), 0);
    rc_decref(u);
    rc_decref(list);
    CHECK_EQ(stats().freelist_blocks, 0);
    CHECK_EQ(rc_gc_collect(0), 2);
    CHECK_EQ(stats().freelist_blocks, 1); /* the collector's release keeps it too */
    CHECK(rc_tuple_pack(1, rc_int_new(2)) == t);
    rc_decref(t);
    /* kept blocks are not objects: the collector's walks do not see them */
    size_t objects = 0;
    void *all = rc_gc_get_objects(-1);
    for (size_t i = 0; i < rc_list_len(all); i++)
        objects += rc_list_get(all, i) == t;
    CHECK_EQ(objects, 0);
    rc_decref(all);
    /* a full collection empties the free lists, as CPython's gc.collect() */
    void *one = rc_int_new(1);
    void *kept[3] = {rc_tuple_pack(1, one), rc_tuple_pack(2, one, one),
                     rc_tuple_pack(3, one, one, one)};
    CHECK(kept[0] == t);
    size_t in_use = stats().bytes_in_use;
    for (int i = 0; i < 3; i++)
        rc_decref(kept[i]);
    rc_alloc_stats s = stats();
    CHECK_EQ(s.freelist_blocks, 3);
    CHECK_EQ(s.bytes_in_use, in_use - tuple_block(1) - tuple_block(2) - tuple_block(3));
    CHECK_EQ(rc_gc_collect(1), 0);
    CHECK_EQ(stats().freelist_blocks, 3); /* only a collection of the oldest generation */
    CHECK_EQ(rc_gc_collect(2), 0);
    s = stats();
    CHECK_EQ(s.freelist_blocks, 0);
    CHECK_EQ(s.freelist_bytes, 0);
    CHECK_EQ(s.bytes_in_use, in_use - tuple_block(1) - tuple_block(2) - tuple_block(3));
    drop_heap();
}

static size_t callbacks;
static void count_callback(rc_weakref *ref, void *arg)
{
    (void)ref;
    (void)arg;
    callbacks++;
}

static void test_weakrefs(void)
{
    fresh_heap();
    void *t = rc_tuple_pack(2, rc_int_new(1), rc_int_new(2));
    rc_weakref *ref = rc_weakref_new(t, count_callback, NULL);
    CHECK(ref != NULL);
    CHECK_EQ(rc_weakref_count(t), 1);
    void *old = t;
    rc_decref(t);
    CHECK_EQ(callbacks, 1);
    CHECK(rc_weakref_get(ref) == NULL);
    void *u = rc_tuple_pack(2, rc_int_new(3), rc_int_new(4));
    CHECK(u == old);
    CHECK_EQ(rc_weakref_count(u), 0); /* the old tuple's reference stays dead */
    CHECK(rc_weakref_get(ref) == NULL);
    rc_weakref *ref2 = rc_weakref_new(u, count_callback, NULL);
    rc_decref(u);
    CHECK_EQ(callbacks, 2);
    CHECK(rc_weakref_get(ref2) == NULL);
    rc_decref(ref);
    rc_decref(ref2);
    drop_heap();
}

static void test_per_heap(void)
{
    fresh_heap();
    rc_heap *first = heap;
    void *t = rc_tuple_pack(1, rc_int_new(1));
    rc_decref(t); /* kept by the first heap */
    rc_heap *second = rc_heap_new();
    rc_heap_use(second);
    void *u = rc_tuple_pack(1, rc_int_new(1));
    CHECK(u != t);
    CHECK(rc_heap_of(u) == second);
    rc_decref(u); /* kept by the second heap */
    rc_heap_use(first);
    CHECK(rc_tuple_pack(1, rc_int_new(1)) == t);
    rc_decref(t);
    CHECK_EQ(first->types.tuple_free[1].count, 1);
    CHECK_EQ(second->types.tuple_free[1].count, 1);
    /* a tuple of the second heap dropped from the first goes to its own
     * heap's list */
    rc_heap_use(second);
    void *v = rc_tuple_pack(1, rc_int_new(1));
    CHECK(v == u);
    rc_heap_use(first);
    rc_decref(v);
    CHECK_EQ(second->types.tuple_free[1].count, 1);
    CHECK_EQ(first->types.tuple_free[1].count, 1);
    rc_heap_destroy(second);
    drop_heap();
}

/* Out of memory: a full arena and no system memory; a kept block still
 * makes a tuple of its length, any other size fails cleanly. */
static void test_out_of_memory(void)
{
    fresh_heap();
    void *one = rc_int_new(1);
    size_t in_use = stats().bytes_in_use;
    static void *made[8192];
    size_t n = 0;
    rc_heap_inject_faults(heap, RC_FAULT_MMAP | RC_FAULT_MALLOC, 0, true);
    while (n < 8192 && (made[n] = tuple_of(19, one)) != NULL)
        n++;
    CHECK(n > 1000 && n < 8192); /* the one arena filled */
    CHECK_STR_CONTAINS(rc_last_error(), "out of memory");
    CHECK(tuple_of(10, one) == NULL); /* a class with no pool, and none can be had */
    rc_decref(made[--n]);
    void *again = tuple_of(19, one);
    CHECK(again != NULL);
    CHECK(again == made[n]);
    CHECK(tuple_of(19, one) == NULL);
    rc_heap_inject_faults(heap, 0, -1, false);
    rc_decref(again);
    while (n > 0)
        rc_decref(made[--n]);
    rc_alloc_stats s = stats();
    CHECK_EQ(s.bytes_in_use, in_use);
    CHECK_EQ(s.freelist_blocks, 2000);
    CHECK_EQ(heap->types.tuple_free[19].count, 2000);
    drop_heap();
}

/* A pack that fails after taking a kept block (a NULL item) gives it
 * back. */
static void test_failed_pack(void)
{
    fresh_heap();
    void *a = rc_str_from("a");
    void *t = rc_tuple_pack(3, a, a, a);
    rc_decref(t);
    CHECK(rc_tuple_pack(3, a, (void *)NULL, a) == NULL);
    CHECK_STR_CONTAINS(rc_last_error(), "rc_tuple_pack: item 1 is NULL");
    CHECK_EQ(rc_refcount(a), 1);
    CHECK_EQ(stats().freelist_blocks, 1);
    CHECK(rc_tuple_pack(3, a, a, a) == t);
    rc_decref(t);
    rc_decref(a);
    drop_heap();
}

static void *dead_tuple;
static void use_dead_tuple(void) { (void)rc_tuple_len(dead_tuple); }
static void drop_dead_tuple(void) { rc_decref(dead_tuple); }

static void test_debug_heap(void)
{
    rc_heap_options options = {.struct_size = sizeof options, .malloc_mode = RC_MALLOC_DEBUG};
    heap = rc_heap_new_with(&options);
    CHECK(heap != NULL);
    rc_heap_use(heap);
    void *t = rc_tuple_pack(1, rc_int_new(1));
    rc_decref(t);
    CHECK_EQ(stats().freelist_blocks, 0); /* freed into the quarantine */
    CHECK(rc_tuple_pack(1, rc_int_new(1)) != t);
    dead_tuple = t;
    CHECK_DEATH(use_dead_tuple, "used after it was freed");
    drop_heap();
    /* a plain heap: a kept tuple fails type checks, and a reference
     * dropped to it is caught */
    fresh_heap();
    dead_tuple = rc_tuple_pack(1, rc_int_new(1));
    rc_decref(dead_tuple);
    CHECK_EQ(stats().freelist_blocks, 1);
    CHECK_EQ(rc_tuple_len(dead_tuple), 0);
    CHECK_STR_CONTAINS(rc_last_error(), "rc_tuple_len: expected a tuple");
    CHECK(!rc_is_tuple(dead_tuple));
    CHECK_DEATH(drop_dead_tuple, "already dead");
    drop_heap();
}

/* Random makes and drops of lengths 0..24 against a model of the lists. */
static uint64_t rng = 0x2545F4914F6CDD1Du;
static uint64_t next_random(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void test_model(void)
{
    fresh_heap();
    void *one = rc_int_new(1);
    size_t base = stats().bytes_in_use;
    enum { SLOTS = 4096, STEPS = 60000 };
    static void *live[SLOTS];
    size_t kept[RC_TUPLE_FREELISTS] = {0}, live_bytes = 0, bad = 0, reuses = 0;
    for (size_t step = 0; step < STEPS; step++) {
        size_t slot = next_random() % SLOTS, n = 1 + next_random() % 24;
        if (live[slot]) {
            size_t len = rc_tuple_len(live[slot]);
            live_bytes -= tuple_block(len);
            rc_decref(live[slot]);
            live[slot] = NULL;
            if (len < RC_TUPLE_FREELISTS && kept[len] < RC_TUPLE_FREELIST_MAX)
                kept[len]++;
            continue;
        }
        bool reuse = n < RC_TUPLE_FREELISTS && kept[n] > 0;
        void *expected = reuse ? heap->types.tuple_free[n].head : NULL;
        live[slot] = tuple_of(n, one);
        bad += live[slot] == NULL || (reuse && live[slot] != expected);
        reuses += reuse;
        if (reuse)
            kept[n]--;
        live_bytes += tuple_block(n);
        if (step % 1000 == 0) {
            rc_alloc_stats s = stats();
            size_t blocks = 0, bytes = 0;
            for (size_t k = 1; k < RC_TUPLE_FREELISTS; k++) {
                blocks += kept[k];
                bytes += kept[k] * tuple_block(k);
                bad += heap->types.tuple_free[k].count != kept[k];
            }
            bad += s.freelist_blocks != blocks || s.freelist_bytes != bytes;
            bad += s.bytes_in_use != base + live_bytes;
        }
    }
    CHECK_EQ(bad, 0);
    CHECK(reuses > STEPS / 8);
    for (size_t i = 0; i < SLOTS; i++)
        rc_decref(live[i]);
    CHECK_EQ(stats().bytes_in_use, base);
    drop_heap();
}

int main(void)
{
    test_reuse();
    test_lengths_and_limit();
    test_collector();
    test_weakrefs();
    test_per_heap();
    test_out_of_memory();
    test_failed_pack();
    test_debug_heap();
    test_model();
    return check_report();
}
