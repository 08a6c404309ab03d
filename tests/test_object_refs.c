/* test_object_refs.c: types whose references lead their body
 * (traverse = rc_traverse_refs, refs = n). The library then releases and
 * tests those references inline: a death releases exactly them, in the
 * order that walks memory one way (the children of a bottom-up structure
 * last first, of a top-down one first first, whatever the type's traverse);
 * the collector and introspection see exactly them; rc_new refuses refs
 * that do not fit; a 10-million-long chain is freed from one rc_decref. */
#include "check.h"
#include "nodes.h"

typedef struct Pair {
    void *first;
    void *second;
    long value;
} Pair;

/* Logs value, as a Node's. A type with destroy finds every slot NULL:
 * the release set them so before it runs. */
static void pair_destroy(void *self)
{
    Pair *p = self;
    CHECK(p->first == NULL && p->second == NULL);
    node_destroy(self);
}

static const rc_type pair_type = {
    .name = "Pair",
    .size = sizeof(Pair),
    .traverse = rc_traverse_refs,
    .refs = 2,
    .destroy = pair_destroy,
};

static const rc_type frozen_pair_type = {
    .name = "FrozenPair",
    .size = sizeof(Pair),
    .traverse = rc_traverse_refs,
    .refs = 2,
    .destroy = pair_destroy,
    .flags = RC_TYPE_IMMUTABLE_REFS,
};

/* Three references, so that a death and a settling take the loop the
 * library keeps for more than a pair. */
typedef struct Triple {
    void *refs[3];
    long value;
} Triple;

static void triple_destroy(void *self)
{
    Triple *t = self;
    CHECK(t->refs[0] == NULL && t->refs[1] == NULL && t->refs[2] == NULL);
    node_destroyed++;
    if (node_log_len < 64)
        node_log[node_log_len++] = t->value;
}

static const rc_type frozen_triple_type = {
    .name = "FrozenTriple",
    .size = sizeof(Triple),
    .traverse = rc_traverse_refs,
    .refs = 3,
    .destroy = triple_destroy,
    .flags = RC_TYPE_IMMUTABLE_REFS,
};

static Triple *triple_new(long value, void *a, void *b, void *c)
{
    Triple *t = rc_new(&frozen_triple_type);
    CHECK(t != NULL);
    t->refs[0] = a; /* takes the caller's references */
    t->refs[1] = b;
    t->refs[2] = c;
    t->value = value;
    return t;
}

static Pair *pair_new(const rc_type *type, long value, void *first, void *second)
{
    Pair *p = rc_new(type);
    CHECK(p != NULL);
    p->first = first; /* takes the caller's references */
    p->second = second;
    p->value = value;
    return p;
}

static void test_refs_must_fit(void)
{
    static const rc_type too_many = {
        .name = "TooMany", .size = 16, .traverse = rc_traverse_refs, .refs = 3};
    CHECK(rc_new(&too_many) == NULL);
    CHECK_STR_CONTAINS(rc_last_error(),
                       "rc_new: type TooMany declares 3 references in a body of 16 bytes");
    CHECK(rc_new_var(&too_many, 64) == NULL); /* the refs lead the fixed part */
    CHECK_STR_CONTAINS(rc_last_error(), "declares 3 references");
    static const rc_type none = {.name = "NoRefs", .size = 8, .traverse = rc_traverse_refs};
    void *obj = rc_new(&none);
    CHECK(obj != NULL);
    CHECK(rc_gc_is_tracked(obj)); /* a type with traverse, not immutable */
    CHECK_EQ(rc_gc_collect(2), 0);
    rc_decref(obj);
}

/* The order a parent's dying children are freed in: the last first if the
 * first lies below the parent (built bottom-up), else the first first. */
static void expect_order(const void *parent, const void *first, long p, long a, long b)
{
    CHECK_EQ(node_log_len, 3);
    CHECK_EQ(node_log[0], p);
    bool bottom_up = (uintptr_t)first < (uintptr_t)parent;
    CHECK_EQ(node_log[1], bottom_up ? b : a);
    CHECK_EQ(node_log[2], bottom_up ? a : b);
}

static void check_release_order(const rc_type *type, bool bottom_up)
{
    counters_reset();
    Pair *parent = NULL, *a, *b;
    if (!bottom_up)
        parent = pair_new(type, 1, NULL, NULL);
    a = pair_new(type, 2, NULL, NULL);
    b = pair_new(type, 3, NULL, NULL);
    if (bottom_up)
        parent = pair_new(type, 1, NULL, NULL);
    parent->first = a;
    parent->second = b;
    rc_decref(parent);
    expect_order(parent, a, 1, 2, 3);
}

/* The same rule through a type's own traverse (nodes.h's Node: a, b). */
static void check_release_order_traverse(bool bottom_up)
{
    counters_reset();
    Node *parent = NULL, *a, *b;
    if (!bottom_up)
        parent = node_new(1);
    a = node_new(2);
    b = node_new(3);
    if (bottom_up)
        parent = node_new(1);
    parent->a = a;
    parent->b = b;
    rc_decref(parent);
    expect_order(parent, a, 1, 2, 3);
}

/* The same rule for three children: c, b, a bottom-up, a, b, c top-down. */
static void check_release_order_triple(bool bottom_up)
{
    counters_reset();
    Triple *parent = NULL;
    if (!bottom_up)
        parent = triple_new(1, NULL, NULL, NULL);
    Triple *a = triple_new(2, NULL, NULL, NULL);
    Triple *b = triple_new(3, NULL, NULL, NULL);
    Triple *c = triple_new(4, NULL, NULL, NULL);
    if (bottom_up)
        parent = triple_new(1, NULL, NULL, NULL);
    CHECK_EQ((uintptr_t)a < (uintptr_t)parent, bottom_up);
    parent->refs[0] = a;
    parent->refs[1] = b;
    parent->refs[2] = c;
    rc_decref(parent);
    CHECK_EQ(node_log_len, 4);
    CHECK_EQ(node_log[0], 1);
    for (int i = 0; i < 3; i++)
        CHECK_EQ(node_log[1 + i], bottom_up ? 4 - i : 2 + i);
}

static void test_release_order(void)
{
    for (int bottom_up = 0; bottom_up < 2; bottom_up++) {
        check_release_order(&pair_type, bottom_up);
        check_release_order(&frozen_pair_type, bottom_up);
        check_release_order_traverse(bottom_up);
        check_release_order_triple(bottom_up);
    }
}

/* A pair without destroy: its release holds its last plain dying child
 * for the loop instead of pushing it (release.c), which must not change
 * the order. */
static const rc_type bare_pair_type = {
    .name = "BarePair",
    .size = sizeof(Pair),
    .traverse = rc_traverse_refs,
    .refs = 2,
    .flags = RC_TYPE_IMMUTABLE_REFS,
};

enum child_kind { PLAIN, TRACKED, FINALIZED, LARGE, KINDS };

/* A child whose destroy logs value, dying through the path kind names:
 * plain (untracked pool block), tracked (a Node), with a finalizer, or in
 * a large block. */
static void *child_new(enum child_kind kind, long value)
{
    if (kind == PLAIN || kind == LARGE) {
        Pair *p = kind == PLAIN ? rc_new(&frozen_pair_type) : rc_new_var(&frozen_pair_type, 4096);
        CHECK(p != NULL);
        p->value = value;
        return p;
    }
    Node *n = rc_new(kind == TRACKED ? &node_type : &fin_node_type);
    CHECK(n != NULL);
    n->value = value;
    return n;
}

/* Every pair of kinds, built both ways: the children are destroyed in
 * the order of expect_order, whichever path each death takes, and each
 * finalizer runs once. */
static void test_held_child_order(void)
{
    for (int bottom_up = 0; bottom_up < 2; bottom_up++) {
        for (int kx = 0; kx < KINDS; kx++) {
            for (int ky = 0; ky < KINDS; ky++) {
                counters_reset();
                Pair *parent = bottom_up ? NULL : pair_new(&bare_pair_type, 1, NULL, NULL);
                void *x = child_new(kx, 2), *y = child_new(ky, 3);
                if (bottom_up)
                    parent = pair_new(&bare_pair_type, 1, NULL, NULL);
                parent->first = x;
                parent->second = y;
                rc_decref(parent);
                CHECK_EQ(node_log_len, 2);
                bool x_first = (uintptr_t)x > (uintptr_t)parent;
                CHECK_EQ(node_log[0], x_first ? 2 : 3);
                CHECK_EQ(node_log[1], x_first ? 3 : 2);
                CHECK_EQ(node_finalized, (size_t)(kx == FINALIZED) + (ky == FINALIZED));
            }
        }
    }
}

/* Two levels of bare pairs over logged leaves, built bottom-up: the
 * grandchildren go last first, the second subtree before the first, as a
 * stack of every dying child gives. */
static void test_held_child_subtrees(void)
{
    counters_reset();
    Pair *a1 = pair_new(&frozen_pair_type, 1, NULL, NULL);
    Pair *a2 = pair_new(&frozen_pair_type, 2, NULL, NULL);
    Pair *a = pair_new(&bare_pair_type, 0, a1, a2);
    Pair *b1 = pair_new(&frozen_pair_type, 3, NULL, NULL);
    Pair *b2 = pair_new(&frozen_pair_type, 4, NULL, NULL);
    Pair *b = pair_new(&bare_pair_type, 0, b1, b2);
    rc_decref(pair_new(&bare_pair_type, 0, a, b));
    CHECK_EQ(node_log_len, 4);
    CHECK_EQ(node_log[0], 4);
    CHECK_EQ(node_log[1], 3);
    CHECK_EQ(node_log[2], 2);
    CHECK_EQ(node_log[3], 1);
}

/* A pair whose destroy drops one more reference, kept outside its refs
 * (in value's place): what that frees is released before the children the
 * pair freed, as a stack of every death gives. */
typedef struct OwnerPair {
    void *refs[2];
    void *extra;
} OwnerPair;

static void owner_destroy(void *self)
{
    OwnerPair *p = self;
    rc_decref(p->extra);
}

static const rc_type owner_pair_type = {
    .name = "OwnerPair",
    .size = sizeof(OwnerPair),
    .traverse = rc_traverse_refs,
    .refs = 2,
    .destroy = owner_destroy,
};

static void test_destroy_frees_after_children(void)
{
    counters_reset();
    Pair *a = pair_new(&frozen_pair_type, 2, NULL, NULL);
    Pair *b = pair_new(&frozen_pair_type, 3, NULL, NULL);
    Pair *extra = pair_new(&frozen_pair_type, 4, NULL, NULL);
    OwnerPair *owner = rc_new(&owner_pair_type);
    CHECK(owner != NULL);
    owner->refs[0] = a;
    owner->refs[1] = b;
    owner->extra = extra;
    rc_decref(owner);
    CHECK_EQ(node_log_len, 3);
    CHECK_EQ(node_log[0], 4);
    CHECK_EQ(node_log[1], 3);
    CHECK_EQ(node_log[2], 2);
}

/* A child still referenced elsewhere loses one reference; the parent's
 * death goes past a NULL slot and an immortal child. */
static void test_release_counts(void)
{
    counters_reset();
    Pair *shared = pair_new(&pair_type, 2, NULL, NULL);
    Pair *parent = pair_new(&pair_type, 1, rc_incref(shared), rc_int_new(3));
    CHECK_EQ(rc_refcount(shared), 2);
    rc_decref(parent);
    CHECK_EQ(node_destroyed, 1);
    CHECK_EQ(rc_refcount(shared), 1);
    rc_decref(shared);
    CHECK_EQ(node_destroyed, 2);
}

static bool collect_into(void *obj, void *arg)
{
    void **seen = arg;
    while (*seen)
        seen++;
    *seen = obj;
    return true;
}

/* The collector and introspection see the refs: a cycle of pairs is
 * collected, referents are the non-NULL refs in order, a pair is found
 * among its child's referrers. */
static void test_collector_sees_refs(void)
{
    counters_reset();
    rc_gc_collect(2);
    Pair *x = pair_new(&pair_type, 1, NULL, NULL);
    Pair *y = pair_new(&pair_type, 2, NULL, NULL);
    x->second = rc_incref(y);
    y->first = rc_incref(x);
    void *seen[4] = {0};
    CHECK_EQ(rc_gc_for_each_referent(x, collect_into, seen), 0);
    CHECK(seen[0] == y && seen[1] == NULL);
    void *referrers[4] = {0};
    CHECK_EQ(rc_gc_for_each_referrer(x, collect_into, referrers), 0);
    CHECK(referrers[0] == y && referrers[1] == NULL);
    rc_decref(x);
    rc_decref(y);
    CHECK_EQ(node_destroyed, 0);
    CHECK_EQ(rc_gc_collect(2), 2);
    CHECK_EQ(node_destroyed, 2);
}

/* An immutable pair or triple is tracked only if a ref may be tracked,
 * whichever slot holds it. */
static void test_immutable_pairs_settled(void)
{
    counters_reset();
    rc_gc_collect(2);
    Pair *atoms = pair_new(&frozen_pair_type, 1, rc_int_new(5), rc_str_from("s"));
    Pair *of_list = pair_new(&frozen_pair_type, 2, rc_list_new(), NULL);
    Pair *of_atoms = pair_new(&frozen_pair_type, 3, rc_incref(atoms), NULL);
    Pair *of_tracked = pair_new(&frozen_pair_type, 4, rc_incref(of_list), NULL);
    Pair *second_tracked = pair_new(&frozen_pair_type, 5, rc_incref(atoms), rc_incref(of_list));
    Triple *third_tracked = triple_new(6, NULL, rc_incref(atoms), rc_incref(of_list));
    Triple *all_atoms = triple_new(7, rc_incref(atoms), rc_int_new(8), rc_incref(of_atoms));
    CHECK(!rc_gc_is_tracked(atoms));
    CHECK(rc_gc_is_tracked(of_list));
    CHECK(!rc_gc_is_tracked(of_atoms));
    CHECK(rc_gc_is_tracked(of_tracked));
    CHECK(rc_gc_is_tracked(second_tracked));
    CHECK(rc_gc_is_tracked(third_tracked));
    CHECK(!rc_gc_is_tracked(all_atoms));
    size_t count[RC_GC_GENERATIONS];
    rc_gc_get_count(count);
    CHECK_EQ(count[0], 5); /* the list, of_list, of_tracked, second_tracked, third_tracked */
    rc_decref(all_atoms);
    rc_decref(third_tracked);
    rc_decref(second_tracked);
    rc_decref(of_tracked);
    rc_decref(of_list);
    rc_decref(of_atoms);
    rc_decref(atoms);
    CHECK_EQ(node_destroyed, 7);
    rc_gc_get_count(count);
    CHECK_EQ(count[0], 0);
}

/* A weak reference to a child released inline is cleared, its callback
 * run, when the parent's death drops the child's last reference. */
static size_t callbacks;
static void on_death(rc_weakref *ref, void *arg)
{
    (void)ref;
    (void)arg;
    callbacks++;
}

static void test_weak_child(void)
{
    counters_reset();
    callbacks = 0;
    Pair *child = pair_new(&frozen_pair_type, 2, NULL, NULL);
    rc_weakref *ref = rc_weakref_new(child, on_death, NULL);
    Pair *parent = pair_new(&frozen_pair_type, 1, child, NULL);
    rc_decref(parent);
    CHECK_EQ(callbacks, 1);
    CHECK(rc_weakref_get(ref) == NULL);
    CHECK_EQ(node_destroyed, 2);
    rc_decref(ref);
}

static size_t heap_bytes(rc_heap *heap)
{
    rc_alloc_stats stats = {.struct_size = sizeof stats};
    CHECK_EQ(rc_heap_stats(heap, &stats), RC_OK);
    return stats.bytes_in_use;
}

/* The release loop takes a child of its own heap in a plain pool block at
 * once; every other child leaves that lane and still dies exactly once, in
 * order: one of another heap (which its own heap's loop frees), a large
 * one, one whose finalizer resurrects it, one whose finalizer does not. */
static void test_children_off_the_fast_lane(void)
{
    counters_reset();
    rc_heap *mine = rc_heap_current();
    size_t base = heap_bytes(mine);
    rc_heap *other = rc_heap_new();
    CHECK(rc_heap_use(other) == mine);
    size_t other_base = heap_bytes(other);
    Pair *foreign = pair_new(&pair_type, 10, NULL, NULL);
    CHECK(heap_bytes(other) > other_base);
    CHECK(rc_heap_use(mine) == other); /* other is now nobody's */

    Pair *large = rc_new_var(&pair_type, 4096);
    CHECK(large != NULL);
    large->value = 11;
    Node *fin_a = rc_new(&fin_node_type);
    fin_a->value = 12;
    Node *fin_b = rc_new(&fin_node_type);
    fin_b->value = 13;

    Pair *inner = pair_new(&pair_type, 2, foreign, large);
    Pair *root = pair_new(&pair_type, 1, inner, pair_new(&pair_type, 3, fin_a, fin_b));
    rc_decref(root);
    /* both finalizers ran, neither resurrected: all seven died, once each */
    CHECK_EQ(node_finalized, 2);
    CHECK_EQ(node_destroyed, 7);
    long seen = 0;
    for (size_t i = 0; i < node_log_len; i++)
        seen |= 1L << node_log[i];
    CHECK_EQ(seen,
             (1L << 1) | (1L << 2) | (1L << 3) | (1L << 10) | (1L << 11) | (1L << 12) | (1L << 13));
    CHECK_EQ(heap_bytes(mine), base);
    CHECK_EQ(heap_bytes(other), other_base);

    /* again, with a resurrection: the finalizer stores its object in saved,
     * which then outlives its parent, and only its own death frees it */
    counters_reset();
    void *saved = NULL;
    Node *resurrected = rc_new(&fin_node_type);
    resurrected->value = 20;
    root = pair_new(&pair_type, 21, resurrected, NULL);
    node_resurrect_into = &saved;
    rc_decref(root);
    CHECK(saved == resurrected);
    CHECK_EQ(rc_refcount(saved), 1);
    CHECK_EQ(node_destroyed, 1); /* the root only */
    node_resurrect_into = NULL;
    rc_decref(saved);
    CHECK_EQ(node_destroyed, 2);
    CHECK_EQ(node_finalized, 1); /* never twice */
    CHECK_EQ(heap_bytes(mine), base);
    rc_heap_destroy(other);
}

/* A chain built bottom-up, each pair holding the one before: freeing it
 * from its head uses constant C stack, and every block goes back. */
static void test_long_chain(void)
{
    static const rc_type link_type = {
        .name = "Link",
        .size = sizeof(void *),
        .traverse = rc_traverse_refs,
        .refs = 1,
        .flags = RC_TYPE_IMMUTABLE_REFS,
    };
    rc_alloc_stats before = {.struct_size = sizeof before};
    CHECK_EQ(rc_heap_stats(rc_heap_current(), &before), RC_OK);
    void *head = NULL;
    size_t made = 0;
    for (; made < 10 * 1000 * 1000; made++) {
        void **link = rc_new(&link_type);
        if (!link)
            break;
        *link = head;
        head = link;
    }
    CHECK_EQ(made, 10 * 1000 * 1000);
    size_t count[RC_GC_GENERATIONS];
    rc_gc_get_count(count);
    CHECK_EQ(count[0], 0); /* never tracked, so never collected */
    rc_decref(head);
    rc_alloc_stats after = {.struct_size = sizeof after};
    CHECK_EQ(rc_heap_stats(rc_heap_current(), &after), RC_OK);
    CHECK_EQ(after.bytes_in_use, before.bytes_in_use);
}

int main(void)
{
    test_refs_must_fit();
    test_release_order();
    test_held_child_order();
    test_held_child_subtrees();
    test_destroy_frees_after_children();
    test_release_counts();
    test_collector_sees_refs();
    test_immutable_pairs_settled();
    test_weak_child();
    test_children_off_the_fast_lane();
    test_long_chain();
    return check_report();
}
