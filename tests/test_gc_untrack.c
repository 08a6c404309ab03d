/* test_gc_untrack.c: objects of RC_TYPE_IMMUTABLE_REFS types (tuples among
 * them) are born pending and are tracked, once their references are
 * stored (the next birth of an object with traverse, or the next call to
 * the collector), only if one of those may be tracked, as CPython 3.15
 * makes tuples; a tracked one whose references all leave the collector
 * leaves in the next young collection, as CPython untracks tuples. Objects
 * that could be part of a cycle stay tracked, nothing is freed early, and
 * an automatic collection in a birth never judges the still-empty newborn. */
#include "check.h"
#include "nodes.h"

/* A node whose references are set once, right after rc_new. */
static const rc_type frozen_node_type = {
    .name = "FrozenNode",
    .size = sizeof(Node),
    .traverse = node_traverse,
    .destroy = node_destroy,
    .flags = RC_TYPE_IMMUTABLE_REFS,
};

static Node *frozen_new(void *a, void *b)
{
    Node *n = rc_new(&frozen_node_type);
    n->a = a; /* takes the caller's references */
    n->b = b;
    return n;
}

/* A complete tree built children first, as binary-trees builds it. */
static Node *frozen_tree(int depth)
{
    if (depth == 0)
        return frozen_new(NULL, NULL);
    Node *left = frozen_tree(depth - 1);
    Node *right = frozen_tree(depth - 1);
    return frozen_new(left, right);
}

static bool count_one(void *obj, void *arg)
{
    (void)obj;
    ++*(size_t *)arg;
    return true;
}

static size_t objects_of_generation(int generation)
{
    size_t n = 0;
    CHECK_EQ(rc_gc_for_each_object(generation, count_one, &n), 0);
    return n;
}

static size_t tracked_objects(void) { return objects_of_generation(-1); }

/* The program allocates again (a tracked object, at once dropped): the
 * pending object's references are all stored, and its birth settles it. */
static void next_birth(void) { rc_decref(rc_list_new()); }

static size_t young_count(void)
{
    size_t count[RC_GC_GENERATIONS];
    rc_gc_get_count(count);
    return count[0];
}

/* The newest object is pending until the next birth of an object with
 * traverse (its references may still be coming): untracked and uncounted.
 * Then it is judged on the references it was given: a node of atoms is
 * never tracked, nor counted; a node of a list is tracked and counted. */
static void test_pending_until_next_birth(void)
{
    counters_reset();
    rc_gc_collect(2);
    Node *atoms = frozen_new(rc_int_new(7), NULL); /* small ints are immortal */
    next_birth();
    CHECK_EQ(young_count(), 0);
    CHECK(!rc_gc_is_tracked(atoms));
    void *list = rc_list_new(); /* count 1 */
    Node *holder = frozen_new(list, NULL);
    CHECK_EQ(young_count(), 2); /* the call into the collector settled it */
    CHECK(rc_gc_is_tracked(holder));
    CHECK_EQ(objects_of_generation(0), 2);
    rc_decref(holder); /* two tracked deaths (holder, its list) uncount */
    CHECK_EQ(young_count(), 0);
    void *keep = rc_list_new(); /* count 1 */
    rc_decref(atoms);           /* an untracked death does not uncount */
    CHECK_EQ(node_destroyed, 2);
    CHECK_EQ(young_count(), 1);
    rc_decref(keep);
    CHECK_EQ(young_count(), 0);
}

/* The gc functions on one object settle that object's heap, not only the
 * current one: asked about a pending object of another heap, they answer
 * for it settled; tracking one by hand leaves it pending nowhere (else that
 * heap's next birth would track it a second time), and so does untracking
 * one (else that birth would track it again). Each holds a reference that
 * may be tracked, so that settling it tracks it. */
static void test_pending_of_another_heap(void)
{
    counters_reset();
    rc_heap *other = rc_heap_new();
    CHECK(other != NULL);
    Node *child = rc_heap_new_object(other, &node_type, 0); /* mutable: tracked */
    Node *n = rc_heap_new_object(other, &frozen_node_type, 0);
    CHECK(child != NULL && n != NULL);
    n->a = child; /* pending in other, with a reference that may be tracked */
    CHECK(rc_gc_is_tracked(n));
    Node *held = rc_heap_new_object(other, &frozen_node_type, 0);
    CHECK(held != NULL);
    held->a = rc_incref(child); /* pending, as n was */
    CHECK_EQ(rc_gc_track(held), 0);
    Node *dropped = rc_heap_new_object(other, &frozen_node_type, 0);
    CHECK(dropped != NULL);
    dropped->a = rc_incref(child);
    rc_gc_untrack(dropped);
    Node *next = rc_heap_new_object(other, &frozen_node_type, 0); /* settles other */
    rc_heap *mine = rc_heap_current();
    rc_heap_use(other);
    CHECK(!rc_gc_is_tracked(dropped));
    CHECK_EQ(objects_of_generation(0), 3); /* child, n, held: each once */
    rc_decref(n);
    rc_decref(held);
    rc_decref(dropped);
    rc_decref(next);
    CHECK_EQ(node_destroyed, 5);
    CHECK_EQ(rc_gc_collect(0), 0);
    CHECK_EQ(tracked_objects(), 0);
    rc_heap_use(mine);
    rc_heap_destroy(other);
}

/* A pending object that dies before it is settled leaves nothing behind
 * (ASan sees any later look at its block). */
static void test_pending_dies_first(void)
{
    counters_reset();
    rc_gc_collect(2);
    Node *n = frozen_new(rc_list_new(), NULL);
    rc_decref(n);
    CHECK_EQ(node_destroyed, 1);
    next_birth();
    CHECK_EQ(young_count(), 0);
    CHECK_EQ(tracked_objects(), 0);
}

static size_t young_collections(void)
{
    rc_gc_stats stats[RC_GC_GENERATIONS];
    rc_gc_get_stats(stats);
    return stats[0].collections;
}

static void test_tuple_of_atoms_untracked(void)
{
    rc_gc_collect(2);
    void *s = rc_str_from("text"), *i = rc_int_new(1000);
    void *t = rc_tuple_pack(2, i, s);
    rc_decref(s);
    rc_decref(i);
    CHECK(!rc_gc_is_tracked(t));
    CHECK_EQ(young_count(), 0);
    CHECK_EQ(tracked_objects(), 0);
    CHECK_EQ(rc_refcount(t), 1);
    CHECK_EQ(rc_int_value(rc_tuple_get(t, 0)), 1000);
    rc_decref(t);
}

static void test_tuple_of_list_stays_tracked(void)
{
    rc_gc_collect(2);
    void *list = rc_list_new();
    void *t = rc_tuple_pack(1, list);
    CHECK_EQ(rc_gc_collect(0), 0);
    CHECK(rc_gc_is_tracked(t));
    CHECK_EQ(rc_gc_collect(2), 0);
    CHECK(rc_gc_is_tracked(t));
    /* and the cycle through it is still found */
    CHECK_EQ(rc_list_append(list, t), 0);
    rc_decref(t);
    rc_decref(list);
    CHECK_EQ(rc_gc_collect(2), 2);
}

static void test_nested_tuples_never_tracked(void)
{
    rc_gc_collect(2);
    void *inner = rc_tuple_pack(1, rc_int_new(5)); /* small ints are immortal */
    void *middle = rc_tuple_pack(2, inner, inner);
    void *outer = rc_tuple_pack(1, middle);
    rc_decref(inner);
    rc_decref(middle);
    CHECK(!rc_gc_is_tracked(inner));
    CHECK(!rc_gc_is_tracked(middle));
    CHECK(!rc_gc_is_tracked(outer));
    CHECK_EQ(tracked_objects(), 0);
    rc_decref(outer);
}

/* A tree built children first is never tracked: nothing is counted, and
 * no collection runs while it is built. */
static void test_tree_never_tracked(void)
{
    counters_reset();
    rc_gc_collect(2);
    size_t before = young_collections();
    Node *tree = frozen_tree(10); /* 2047 nodes, with threshold 0 at 2000 */
    CHECK_EQ(young_collections(), before);
    CHECK_EQ(young_count(), 0);
    CHECK_EQ(tracked_objects(), 0);
    CHECK(!rc_gc_is_tracked(tree));
    CHECK_EQ(node_destroyed, 0);
    rc_decref(tree);
    CHECK_EQ(node_destroyed, 2047);
    CHECK_EQ(rc_gc_collect(2), 0);
}

/* An object holding a mutable one may be part of a cycle, even while the
 * mutable one is untracked: it stays tracked. */
static void test_mutable_referent_keeps_tracking(void)
{
    counters_reset();
    rc_gc_collect(2);
    Node *mutable = node_new(1);
    rc_gc_untrack(mutable);
    Node *holder = frozen_new(mutable, NULL);
    CHECK_EQ(rc_gc_collect(0), 0);
    CHECK(rc_gc_is_tracked(holder));
    rc_decref(holder);
    CHECK_EQ(node_destroyed, 2);
}

/* A referent without traverse can never be tracked. */
static void test_untracked_type_referent(void)
{
    counters_reset();
    rc_gc_collect(2);
    void *leaf = rc_new(&leaf_type);
    Node *holder = frozen_new(leaf, NULL);
    next_birth();
    CHECK_EQ(rc_gc_collect(0), 0);
    CHECK(!rc_gc_is_tracked(holder));
    rc_decref(holder);
    CHECK_EQ(node_destroyed, 1);
}

/* A tracked child keeps its parent tracked until the child leaves: a
 * parent in generation 0 whose child is tracked again (rc_gc_track) after
 * it leaves in the collection after the child does; a parent after its
 * child leaves in the same one. */
static void test_parent_waits_for_child(void)
{
    counters_reset();
    rc_gc_collect(2);
    Node *child = frozen_new(NULL, NULL);
    CHECK(!rc_gc_is_tracked(child));
    CHECK_EQ(rc_gc_track(child), 0);
    Node *parent = frozen_new(child, NULL);
    CHECK(rc_gc_is_tracked(parent)); /* its child was tracked when settled */
    rc_gc_untrack(child);
    CHECK_EQ(rc_gc_track(child), 0); /* now after parent in generation 0 */
    CHECK_EQ(rc_gc_collect(0), 0);
    CHECK(rc_gc_is_tracked(parent)); /* child was tracked when parent was seen */
    CHECK(!rc_gc_is_tracked(child));
    CHECK_EQ(rc_gc_collect(1), 0); /* parent, now in generation 1 */
    CHECK(!rc_gc_is_tracked(parent));
    rc_decref(parent);
    CHECK_EQ(node_destroyed, 2);
}

/* A gc callback that asks the collector something, as user code run by a
 * collection may: every call into the gc module settles the pending
 * object. */
static size_t callback_calls;
static void ask_the_collector(rc_gc_phase phase, const rc_gc_info *info, void *arg)
{
    (void)phase, (void)info, (void)arg;
    callback_calls++;
    (void)young_count();
}

/* A collection that runs during a tuple's birth (settling the tuple before
 * it brought the count past the threshold) finds the newborn still empty:
 * neither it nor the user code it runs (a callback calling the gc module)
 * may judge it then, for its items are stored after. Here the item is a
 * list that the tuple then joins: a cycle the collector must see. */
static void test_collection_at_birth_keeps_newborn(void)
{
    rc_gc_collect(2);
    size_t saved[RC_GC_GENERATIONS];
    rc_gc_get_threshold(saved);
    rc_gc_set_threshold(1, saved[1], saved[2]);
    void *list = rc_list_new();           /* count 1 */
    void *first = rc_tuple_pack(1, list); /* pending: count 1 */
    size_t before = young_collections();
    CHECK_EQ(rc_gc_callback_add(ask_the_collector, NULL), 0);
    callback_calls = 0;
    void *t = rc_tuple_pack(1, list); /* settles first (count 2 > 1): collects */
    CHECK_EQ(callback_calls, 2);      /* start and stop */
    CHECK_EQ(rc_gc_callback_remove(ask_the_collector, NULL), 0);
    CHECK_EQ(young_collections(), before + 1);
    rc_gc_set_threshold(saved[0], saved[1], saved[2]);
    CHECK(rc_gc_is_tracked(first));
    CHECK(rc_gc_is_tracked(t));
    CHECK_EQ(rc_list_append(list, t), 0);
    rc_decref(t);
    rc_decref(first); /* dies at once: nothing but the list refers to it */
    rc_decref(list);
    CHECK_EQ(rc_gc_collect(2), 2);
    CHECK_EQ(tracked_objects(), 0);
}

/* A type that breaks its promise (a reference stored after the object was
 * settled untracked) can leak the cycle it makes, but frees nothing
 * early. */
static void test_broken_promise_leaks_safely(void)
{
    counters_reset();
    rc_gc_collect(2);
    Node *frozen = frozen_new(NULL, NULL);
    next_birth();
    CHECK_EQ(rc_gc_collect(0), 0);
    CHECK(!rc_gc_is_tracked(frozen));
    Node *mutable = node_new(2);
    rc_assign(&mutable->a, frozen);
    rc_assign(&frozen->a, mutable); /* the broken promise: a cycle */
    rc_decref(mutable);
    CHECK_EQ(rc_gc_collect(2), 0);
    CHECK_EQ(node_destroyed, 0);
    CHECK_EQ(rc_refcount(frozen), 2);
    /* the program can still break the cycle itself */
    rc_assign(&frozen->a, NULL);
    CHECK_EQ(node_destroyed, 1);
    rc_decref(frozen);
    CHECK_EQ(node_destroyed, 2);
}

/* Garbage cycles among tracked objects are still collected when acyclic
 * objects hang off them, and the acyclic ones die with them. */
static void test_cycle_holding_acyclic(void)
{
    counters_reset();
    rc_gc_collect(2);
    Node *x = node_new(1), *y = node_new(2);
    rc_assign(&x->a, y);
    rc_assign(&y->a, x);
    x->b = frozen_tree(3); /* 15 nodes, x owns the root */
    next_birth();
    rc_decref(x);
    rc_decref(y);
    CHECK_EQ(rc_gc_collect(0), 2);
    CHECK_EQ(node_destroyed, 17);
}

int main(void)
{
    test_tuple_of_atoms_untracked();
    test_pending_until_next_birth();
    test_pending_dies_first();
    test_pending_of_another_heap();
    test_tuple_of_list_stays_tracked();
    test_nested_tuples_never_tracked();
    test_tree_never_tracked();
    test_mutable_referent_keeps_tracking();
    test_untracked_type_referent();
    test_parent_waits_for_child();
    test_broken_promise_leaks_safely();
    test_cycle_holding_acyclic();
    test_collection_at_birth_keeps_newborn();
    return check_report();
}
