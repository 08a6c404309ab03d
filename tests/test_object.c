/* test_object.c: reference counts, immortality, rc_assign, RC_AUTO, the
 * order of death, and deep structures freed without C-stack recursion. */
#include "check.h"
#include "nodes.h"

static void test_counts(void)
{
    counters_reset();
    Node *n = node_new(1);
    CHECK_EQ(rc_refcount(n), 1);
    CHECK(rc_type_of(n) == &node_type);
    CHECK(rc_incref(n) == n);
    CHECK_EQ(rc_refcount(n), 2);
    rc_decref(n);
    CHECK_EQ(rc_refcount(n), 1);
    CHECK_EQ(node_destroyed, 0);
    rc_decref(n);
    CHECK_EQ(node_destroyed, 1);
    rc_incref(NULL);
    rc_decref(NULL);
    CHECK(rc_type_of(NULL) == NULL);
}

static void test_zero_filled_and_var(void)
{
    Node *n = node_new(0);
    CHECK(n->a == NULL && n->b == NULL);
    rc_decref(n);
    unsigned char *big = rc_new_var(&leaf_type, 5000);
    CHECK(big != NULL);
    int all_zero = 1;
    for (size_t i = 0; i < sizeof(long) + 5000; i++)
        all_zero &= big[i] == 0;
    CHECK(all_zero);
    rc_decref(big);
    CHECK(rc_new(NULL) == NULL);
    CHECK_STR_CONTAINS(rc_last_error(), "type is NULL");
}

enum { SIZED_MAX = 160 }; /* bodies 1..160: both sides of rc_new's inline limit (64) */

/* Makes an object of body bytes: rc_new of a type of that size, or
 * rc_new_var of a 1-byte type with the rest as extra bytes. */
static unsigned char *sized_new(const rc_type *types, size_t body, bool var)
{
    return var ? rc_new_var(&types[1], body - 1) : rc_new(&types[body]);
}

/* Every body size, whether made by rc_new or rc_new_var, on the heap in
 * use: a block reused dirty (its last body filled with 0xA5; reused at
 * once unless a debug heap's quarantine holds it, and a debug heap's fresh
 * blocks are filled with 0xCD) comes back zero-filled, and its neighbours'
 * bodies (made just before and after it, filled too) are untouched by the
 * zeroing, which may round the body up within its block. */
static void check_sized_bodies(bool var)
{
    static rc_type types[SIZED_MAX + 1];
    for (size_t n = 1; n <= SIZED_MAX; n++)
        types[n] = (rc_type){.name = "Sized", .size = n};
    int zeroed = 1, kept = 1;
    for (size_t n = 1; n <= SIZED_MAX; n++) {
        unsigned char *before = sized_new(types, n, var);
        unsigned char *mid = sized_new(types, n, var);
        unsigned char *after = sized_new(types, n, var);
        memset(before, 0xA5, n);
        memset(mid, 0xA5, n);
        memset(after, 0xA5, n);
        unsigned char *dirty = mid;
        rc_decref(mid);
        rc_alloc_stats stats = {.struct_size = sizeof stats};
        CHECK_EQ(rc_heap_stats(NULL, &stats), 0);
        mid = sized_new(types, n, var);
        CHECK(stats.quarantine_blocks > 0 || mid == dirty);
        CHECK_EQ(rc_refcount(mid), 1);
        CHECK(rc_type_of(mid) == (var ? &types[1] : &types[n]));
        for (size_t i = 0; i < n; i++) {
            zeroed &= mid[i] == 0;
            kept &= before[i] == 0xA5 && after[i] == 0xA5;
        }
        CHECK_EQ(rc_refcount(before), 1);
        CHECK_EQ(rc_refcount(after), 1);
        rc_decref(before);
        rc_decref(mid);
        rc_decref(after);
    }
    CHECK(zeroed);
    CHECK(kept);
}

static void test_sized_bodies(void)
{
    check_sized_bodies(false);
    check_sized_bodies(true);
    /* the out-of-line paths: a debug heap, then tracing */
    rc_heap_options options = {.struct_size = sizeof options, .malloc_mode = RC_MALLOC_DEBUG};
    rc_heap *debug = rc_heap_new_with(&options);
    CHECK(debug != NULL);
    rc_heap *mine = rc_heap_use(debug);
    check_sized_bodies(false);
    check_sized_bodies(true);
    rc_heap_use(mine);
    rc_heap_destroy(debug);
    CHECK_EQ(rc_trace_start(1), 0);
    check_sized_bodies(false);
    rc_trace_stop();
}

/* A body size that wraps around (type size + extra bytes) is refused,
 * whether it wraps to 0 or to a small size, and so is one too large for
 * a header. */
static void test_var_size_overflow(void)
{
    /* a live block of the class a wrapped size of 7 would take, so that
     * its pool has free blocks and rc_new's inline path could take one */
    void *keep = rc_new(&leaf_type);
    CHECK(rc_new_var(&leaf_type, SIZE_MAX - sizeof(long) + 1) == NULL); /* wraps to 0 */
    CHECK_STR_CONTAINS(rc_last_error(), "too large");
    CHECK(rc_new_var(&leaf_type, SIZE_MAX) == NULL); /* wraps to 7 */
    CHECK_STR_CONTAINS(rc_last_error(), "too large");
    CHECK(rc_heap_new_object(rc_heap_current(), &leaf_type, SIZE_MAX) == NULL);
    CHECK_STR_CONTAINS(rc_last_error(), "too large");
    CHECK(rc_new_var(&leaf_type, SIZE_MAX - 20) == NULL); /* no room for the header */
    CHECK_STR_CONTAINS(rc_last_error(), "too large");
    rc_decref(keep);
}

static void test_assign_releases_children(void)
{
    counters_reset();
    Node *parent = node_new(1);
    Node *child = node_new(2);
    rc_assign(&parent->a, child);
    CHECK_EQ(rc_refcount(child), 2);
    rc_decref(child);
    rc_assign(&parent->a, parent->a); /* self-assignment of the only ref */
    CHECK_EQ(rc_refcount(child), 1);
    CHECK_EQ(node_destroyed, 0);
    rc_decref(parent);
    CHECK_EQ(node_destroyed, 2);
    /* the parent's destroy runs first; the child it released waits on the
     * release stack until the parent is gone */
    CHECK_EQ(node_log[0], 1);
    CHECK_EQ(node_log[1], 2);
}

static void test_immortal(void)
{
    counters_reset();
    Node *n = node_new(7);
    rc_make_immortal(n);
    CHECK(rc_is_immortal(n));
    CHECK(!rc_gc_is_tracked(n));
    CHECK_EQ(rc_refcount(n), RC_IMMORTAL);
    rc_incref(n);
    rc_decref(n);
    rc_decref(n);
    rc_decref(n);
    CHECK_EQ(rc_refcount(n), RC_IMMORTAL);
    CHECK_EQ(node_destroyed, 0);
}

static void test_auto(void)
{
    counters_reset();
    {
        RC_AUTO void *n = node_new(3);
        CHECK_EQ(rc_refcount(n), 1);
    }
    CHECK_EQ(node_destroyed, 1);
}

static void test_finalizer_resurrects_once(void)
{
    counters_reset();
    static const rc_type t = {.name = "Phoenix",
                              .size = sizeof(Node),
                              .traverse = node_traverse,
                              .finalize = node_finalize,
                              .destroy = node_destroy};
    void *saved = NULL;
    node_resurrect_into = &saved;
    Node *n = rc_new(&t);
    rc_decref(n);
    CHECK_EQ(node_finalized, 1);
    CHECK_EQ(node_destroyed, 0);
    CHECK(saved == n);
    CHECK(rc_gc_is_finalized(n));
    CHECK_EQ(rc_refcount(n), 1);
    node_resurrect_into = NULL;
    rc_decref(saved); /* dies for good: finalize does not run again */
    CHECK_EQ(node_finalized, 1);
    CHECK_EQ(node_destroyed, 1);
}

/* A chain of `length` nodes, each holding the next through a. */
static Node *make_chain(size_t length)
{
    Node *head = NULL;
    for (size_t i = 0; i < length; i++) {
        Node *n = node_new((long)i);
        n->a = head;
        head = n;
    }
    return head;
}

static void test_long_chain(void)
{
    counters_reset();
    rc_gc_disable();
    Node *head = make_chain(10 * 1000 * 1000);
    rc_decref(head); /* must not overflow the C stack */
    CHECK_EQ(node_destroyed, 10 * 1000 * 1000);
    rc_gc_enable();
}

static Node *make_deep_tree(size_t depth)
{
    /* a "tree as deep": each node has a leaf on b and the rest on a */
    Node *top = NULL;
    for (size_t i = 0; i < depth; i++) {
        Node *n = node_new((long)i);
        n->a = top;
        n->b = node_new(-1);
        top = n;
    }
    return top;
}

static void test_deep_tree(void)
{
    counters_reset();
    rc_gc_disable();
    Node *top = make_deep_tree(5 * 1000 * 1000);
    rc_decref(top);
    CHECK_EQ(node_destroyed, 10 * 1000 * 1000);
    rc_gc_enable();
}

static void drop_dead(void)
{
    Node *n = node_new(1);
    rc_decref(n);
    rc_decref(n);
}

#ifdef RC_CHECKED_REFCOUNTS
static void drop_raw_block(void)
{
    void *block = rc_malloc(64);
    rc_decref((char *)block + 16);
}

static void drop_stack_pointer(void)
{
    long local[4] = {0};
    rc_decref(&local[2]);
}
#endif

static void test_misuse(void)
{
    CHECK_DEATH(drop_dead, "already dead");
#ifdef RC_CHECKED_REFCOUNTS
    CHECK_DEATH(drop_raw_block, "not a reclaim object");
    CHECK_DEATH(drop_stack_pointer, "not a reclaim object");
#endif
}

int main(void)
{
    test_counts();
    test_zero_filled_and_var();
    test_sized_bodies();
    test_var_size_overflow();
    test_assign_releases_children();
    test_immortal();
    test_auto();
    test_finalizer_resurrects_once();
    test_long_chain();
    test_deep_tree();
    test_misuse();
    return check_report();
}
