/* test_faults_gc: out-of-memory inside the collector and the gc module.
 *
 * Each scenario is swept over the failure point: for n = 0, 1, 2, ... a
 * fresh heap is set up, the (n+1)-th system request of the scenario is made
 * to fail (once, then again with every later one failing too), and the
 * scenario checks that what failed said so (NULL or RC_ENOMEM and an "out
 * of memory" message) and that nothing else went wrong: the collection is
 * still correct, the objects it could not list are freed by a later
 * collection with injection off, destroy counts and reference counts are
 * exact, and the heap's bytes in use return to where they started. The
 * sweep stops at the first n that the scenario's requests never reach.
 * Leaks show up under ASan (Debug tree) when each heap is destroyed.
 *
 * Scenarios: (b) a collection of 1000 garbage rings of 10 while a list
 * keeps 3000 live nodes (mark stack, unreachable list and young list growth
 * fail); (d) gc callbacks, the garbage list under SAVEALL and with legacy
 * finalizers, and the for_each walks. And one exact case: garbage that did not fit in the
 * unreachable list must not see the listed garbage cleared.
 */
#include "faults.h"

/* ---- the sweep ---------------------------------------------------------- */

/* A variable-size object holding n references. */
typedef struct List {
    size_t n;
    void *item[];
} List;

static size_t list_destroyed;

static void list_traverse(void *self, rc_visit_fn visit, void *arg)
{
    List *l = self;
    for (size_t i = 0; i < l->n; i++)
        visit(&l->item[i], arg);
}

static void list_destroy(void *self)
{
    (void)self;
    list_destroyed++;
}

static const rc_type list_type = {
    .name = "List",
    .size = sizeof(List),
    .traverse = list_traverse,
    .destroy = list_destroy,
};

static List *list_new(size_t n)
{
    List *l = rc_new_var(&list_type, n * sizeof(void *));
    l->n = n;
    return l;
}

static void begin(void)
{
    faults_begin();
    list_destroyed = 0;
}

/* What the scenario saw fail agrees with what the injection says. */
static void check_failures(size_t failed, bool sticky)
{
    if (sticky)
        CHECK(failed == 0 || hit);
    else
        CHECK_EQ(failed > 0, hit);
}

static void expect_oom(void) { CHECK_STR_CONTAINS(rc_last_error(), "out of memory"); }

/* 1 if a call that returned rc failed, which it may do only for want of
 * memory, saying so; 0 if it succeeded. */
static size_t failed_for_memory(long rc)
{
    if (rc == 0)
        return 0;
    CHECK_EQ(rc, RC_ENOMEM);
    expect_oom();
    return 1;
}

static void sweep(const char *name, scenario run, int variant)
{
    for (int sticky = 0; sticky < 2; sticky++) {
        long n = 0;
        while (n < 100000 && run(n, sticky, variant))
            n++;
        CHECK(n > 0 && n < 100000);
        printf("%-28s variant %d %-10s %ld failure points\n", name, variant,
               sticky ? "sticky" : "once", n);
    }
}

/* ---- (b) a collection of many cycles ------------------------------------ */

enum { RINGS = 1000, RING = 10, WIDE = 3000 };

enum { PLAIN = 4 }; /* variant flag: no finalizable rings */

/* 1000 garbage rings of 10 (every fourth one of finalizable nodes unless
 * the variant says PLAIN) and a list keeping 3000 nodes alive, all in
 * generation 0. Collecting generation variant & 3 with faults: the mark
 * stack (the list's 3000 children), the unreachable list and generation
 * 1's list may fail to grow. Reachable objects must survive untouched;
 * garbage that could not be listed survives, with what it reaches, and the
 * next collection frees it: the two collections' counts add up exactly.
 * (Plain rings cut by the unreachable list's failure show the bug of
 * test_unlisted_garbage_not_cleared as d1 != r1.) */
static bool scenario_rings(long n, bool sticky, int variant)
{
    int gen = variant & 3;
    bool fin = !(variant & PLAIN);
    begin();
    rc_gc_disable();
    List *wide = list_new(WIDE);
    for (size_t i = 0; i < WIDE; i++)
        wide->item[i] = node_new(-(long)i - 1);
    for (long r = 0; r < RINGS; r++) {
        const rc_type *type = fin && r % 4 == 0 ? &fin_node_type : &node_type;
        Node *first = rc_new(type), *prev = first;
        for (long i = 1; i < RING; i++) {
            Node *next = rc_new(type);
            next->value = r * RING + i;
            prev->a = next; /* takes next's reference */
            prev = next;
        }
        rc_assign(&prev->a, first);
        rc_decref(first);
    }
    CHECK_EQ(node_destroyed, 0);

    arm(n, sticky);
    long r1 = rc_gc_collect(gen);
    bool reached = faults_disarm();
    size_t d1 = node_destroyed;
    CHECK(r1 >= 0 && r1 <= RINGS * RING);
    /* what was collected is what was freed, and no more */
    CHECK_EQ(d1, r1);
    if (!reached)
        CHECK_EQ(r1, RINGS * RING);
    /* the reachable are untouched, counts exact */
    size_t bad = 0;
    for (size_t i = 0; i < WIDE; i++) {
        Node *x = wide->item[i];
        bad += rc_refcount(x) != 1 || x->value != -(long)i - 1 || !rc_gc_is_tracked(x);
    }
    CHECK_EQ(bad, 0);
    CHECK_EQ(rc_refcount(wide), 1);
    CHECK_EQ(rc_gc_validate(heap), 0);
    rc_gc_stats stats[RC_GC_GENERATIONS];
    rc_gc_get_stats(stats);
    CHECK_EQ(stats[gen].collected, r1);

    /* a collection without faults frees the rest, exactly */
    long r2 = rc_gc_collect(2);
    CHECK_EQ(r1 + r2, RINGS * RING);
    CHECK_EQ(node_destroyed, RINGS * RING);
    CHECK_EQ(node_finalized, fin ? (RINGS + 3) / 4 * RING : 0); /* each once */
    CHECK_EQ(rc_gc_collect(2), 0);
    rc_decref(wide);
    CHECK_EQ(node_destroyed, RINGS * RING + WIDE);
    CHECK_EQ(list_destroyed, 1);
    end();
    return reached;
}

/* The exact case behind (b). A plain node Y and a finalizable node X form a
 * cycle; 255 garbage self-cycles come first in generation 0's list, so the
 * unreachable list's first 256 entries take them and Y, and its growth for
 * X fails: X survives as garbage that could not be listed, still referring
 * to Y. Y must not be cleared while X can still see it: X's finalizer (run
 * by a later collection, or by X's death) must find Y intact, and when X
 * resurrects itself, the cycle must be whole. */
static Node *resurrected;
static size_t saw_cleared;

static void check_partner(void *self)
{
    Node *x = self;
    node_finalized++;
    Node *y = x->a;
    saw_cleared += y == NULL || y->a != x;
    rc_assign(&resurrected, x);
}

static const rc_type checking_fin_type = {
    .name = "CheckingFin",
    .size = sizeof(Node),
    .traverse = node_traverse,
    .finalize = check_partner,
    .destroy = node_destroy,
};

static void test_unlisted_garbage_not_cleared(void)
{
    begin();
    rc_gc_disable();
    for (int i = 0; i < 255; i++) {
        Node *self = node_new(i);
        rc_assign(&self->a, self);
        rc_decref(self);
    }
    Node *y = node_new(1000);
    Node *x = rc_new(&checking_fin_type);
    x->value = 1001;
    rc_assign(&y->a, x);
    rc_assign(&x->a, y);
    rc_decref(x);
    rc_decref(y);
    saw_cleared = 0;
    resurrected = NULL;

    /* request 1: the unreachable list's first 256 entries; request 2, its
     * growth for X, fails */
    arm(1, false);
    long r1 = rc_gc_collect(0);
    CHECK(faults_disarm());
    CHECK_EQ(r1, 255);
    CHECK_EQ(node_destroyed, 255);
    CHECK_EQ(saw_cleared, 0);
    CHECK_EQ(node_finalized, 0); /* X is garbage nobody has looked at yet */
    CHECK(resurrected == NULL);

    /* the next collection finds X and Y whole; X resurrects (both live) */
    rc_gc_collect(2);
    CHECK_EQ(node_finalized, 1);
    CHECK_EQ(saw_cleared, 0);
    CHECK(resurrected != NULL);
    if (resurrected) {
        Node *ry = resurrected->a;
        CHECK(ry != NULL && ry->value == 1000 && ry->a == resurrected);
    }
    CHECK_EQ(node_destroyed, 255);
    rc_decref(resurrected); /* finalized already: the cycle is plain garbage */
    resurrected = NULL;
    CHECK_EQ(rc_gc_collect(2), 2);
    CHECK_EQ(node_destroyed, 257);
    end();
}

/* ---- (d) callbacks, the garbage list, the for_each walks ---------------- */

static size_t cb_calls[12];

static void count_calls(rc_gc_phase phase, const rc_gc_info *info, void *arg)
{
    (void)phase, (void)info;
    (*(size_t *)arg)++;
}

/* 12 registrations: the array grows from 4 to 8 to 16 entries. A failed
 * one returns RC_ENOMEM and never runs; the others run once per phase. */
static bool scenario_callbacks(long n, bool sticky, int variant)
{
    (void)variant;
    begin();
    memset(cb_calls, 0, sizeof cb_calls);
    bool ok[12];
    size_t failed = 0;
    arm(n, sticky);
    for (int i = 0; i < 12; i++) {
        error_reset();
        int rc = rc_gc_callback_add(count_calls, &cb_calls[i]);
        ok[i] = rc == 0;
        failed += failed_for_memory(rc);
    }
    bool reached = faults_disarm();
    check_failures(failed, sticky);
    if (sticky && failed)
        CHECK(!ok[11]);
    CHECK_EQ(rc_gc_collect(0), 0);
    for (int i = 0; i < 12; i++) {
        CHECK_EQ(cb_calls[i], ok[i] ? 2 : 0);
        CHECK_EQ(rc_gc_callback_remove(count_calls, &cb_calls[i]), ok[i] ? 0 : RC_ENOTFOUND);
    }
    /* the array still works */
    CHECK_EQ(rc_gc_callback_add(count_calls, &cb_calls[0]), 0);
    rc_gc_collect(0);
    CHECK_EQ(cb_calls[0], ok[0] ? 4 : 2);
    CHECK_EQ(rc_gc_callback_remove(count_calls, &cb_calls[0]), 0);
    end();
    return reached;
}

enum { PAIRS = 150 };

static const rc_type legacy_node_type = {
    .name = "LegacyNode",
    .size = sizeof(Node),
    .traverse = node_traverse,
    .finalize = node_finalize,
    .destroy = node_destroy,
    .flags = RC_TYPE_LEGACY_FINALIZE,
};

static bool break_cycle(void *obj, void *arg)
{
    (void)arg;
    rc_assign(&((Node *)obj)->a, NULL);
    return true;
}

/* 150 garbage pairs, while the unreachable list and the garbage list (16,
 * 32, ... 512 entries) may fail to grow. Variant 0: plain nodes under
 * SAVEALL; 1: nodes with a legacy finalizer (uncollectable, each appended
 * to the garbage list). Nothing is freed; what the list took holds one
 * reference more; what it could not take stays as it was. Then every pair
 * is freed exactly once: by a collection (0), or (1) by breaking the cycles
 * of all generation 2, found by rc_gc_for_each_object, when the legacy
 * finalizers run as the objects die by reference counting. */
static bool scenario_garbage(long n, bool sticky, int legacy)
{
    begin();
    rc_gc_disable();
    const rc_type *type = legacy ? &legacy_node_type : &node_type;
    for (long i = 0; i < PAIRS; i++) {
        Node *a = rc_new(type), *b = rc_new(type);
        rc_assign(&a->a, b);
        rc_assign(&b->a, a);
        rc_decref(a);
        rc_decref(b);
    }
    rc_gc_set_debug(legacy ? 0 : RC_GC_DEBUG_SAVEALL);
    arm(n, sticky);
    long r1 = rc_gc_collect(2);
    bool reached = faults_disarm();
    rc_gc_set_debug(0);
    CHECK_EQ(node_destroyed, 0);
    CHECK_EQ(node_finalized, 0);
    size_t saved = rc_gc_garbage_len();
    CHECK(r1 >= 0 && (size_t)r1 <= 2 * PAIRS);
    /* the return counts the unreachable found; those the garbage list
     * could not take are neither saved nor freed (as in CPython) */
    CHECK(saved <= (size_t)r1);
    rc_gc_stats stats[RC_GC_GENERATIONS];
    rc_gc_get_stats(stats);
    CHECK_EQ(stats[2].uncollectable, legacy ? r1 : 0);
    if (!hit)
        CHECK_EQ(r1, 2 * PAIRS);
    if (!reached)
        CHECK_EQ(saved, 2 * PAIRS);
    size_t bad = 0;
    for (size_t i = 0; i < saved; i++)
        bad += rc_refcount(rc_gc_garbage_item(i)) != 2;
    CHECK_EQ(bad, 0);
    CHECK_EQ(rc_gc_validate(heap), 0);
    rc_gc_garbage_clear();
    CHECK_EQ(rc_gc_garbage_len(), 0);
    CHECK_EQ(node_destroyed, 0);
    if (legacy) {
        CHECK_EQ(rc_gc_collect(2), 2 * PAIRS); /* all uncollectable, again */
        rc_gc_garbage_clear();
        CHECK_EQ(rc_gc_for_each_object(2, break_cycle, NULL), 0);
        CHECK_EQ(node_finalized, 2 * PAIRS);
    } else {
        CHECK_EQ(rc_gc_collect(2), 2 * PAIRS);
    }
    CHECK_EQ(node_destroyed, 2 * PAIRS);
    end();
    return reached;
}

static bool count_all(void *obj, void *arg)
{
    (void)obj;
    (*(size_t *)arg)++;
    return true;
}

static bool count_ten(void *obj, void *arg)
{
    (void)obj;
    return ++*(size_t *)arg < 10;
}

enum { OBJECTS = 500, LISTED = 200 };

/* rc_gc_for_each_object / _referrer / _referent gather into a vector that
 * may fail to grow: RC_ENOMEM, the function is called for nothing, and
 * every reference taken while gathering is given back. */
static bool scenario_for_each(long n, bool sticky, int variant)
{
    (void)variant;
    begin();
    rc_gc_disable();
    static Node *nodes[OBJECTS];
    List *list = list_new(LISTED);
    for (size_t i = 0; i < OBJECTS; i++)
        nodes[i] = node_new((long)i);
    for (size_t i = 0; i < LISTED; i++)
        list->item[i] = rc_incref(nodes[i]);
    size_t failed = 0;

    arm(n, sticky);
    size_t calls = 0;
    error_reset();
    int rc = rc_gc_for_each_object(-1, count_all, &calls);
    CHECK_EQ(calls, rc ? 0 : OBJECTS + 1);
    failed += failed_for_memory(rc);
    calls = 0;
    error_reset();
    rc = rc_gc_for_each_object(0, count_ten, &calls);
    CHECK_EQ(calls, rc ? 0 : 10);
    failed += failed_for_memory(rc);
    calls = 0;
    error_reset();
    rc = rc_gc_for_each_referrer(nodes[0], count_all, &calls);
    CHECK_EQ(calls, rc ? 0 : 1);
    failed += failed_for_memory(rc);
    calls = 0;
    error_reset();
    rc = rc_gc_for_each_referent(list, count_all, &calls);
    CHECK_EQ(calls, rc ? 0 : LISTED);
    failed += failed_for_memory(rc);
    bool reached = faults_disarm();
    check_failures(failed, sticky);

    size_t bad = 0;
    for (size_t i = 0; i < OBJECTS; i++)
        bad += rc_refcount(nodes[i]) != (i < LISTED ? 2u : 1u);
    CHECK_EQ(bad, 0);
    CHECK_EQ(rc_refcount(list), 1);
    calls = 0;
    CHECK_EQ(rc_gc_for_each_object(-1, count_all, &calls), 0);
    CHECK_EQ(calls, OBJECTS + 1);
    for (size_t i = 0; i < OBJECTS; i++)
        rc_decref(nodes[i]);
    CHECK_EQ(node_destroyed, OBJECTS - LISTED);
    rc_decref(list);
    CHECK_EQ(node_destroyed, OBJECTS);
    CHECK_EQ(list_destroyed, 1);
    end();
    return reached;
}

int main(void)
{
    error_reset();
    CHECK_STR_CONTAINS(rc_last_error(), "invalid generation");
    test_unlisted_garbage_not_cleared();
    sweep("rings, collect(0)", scenario_rings, 0);
    sweep("rings, collect(2)", scenario_rings, 2);
    sweep("plain rings, collect(0)", scenario_rings, 0 | PLAIN);
    sweep("plain rings, collect(2)", scenario_rings, 2 | PLAIN);
    sweep("callbacks", scenario_callbacks, 0);
    sweep("garbage list (SAVEALL)", scenario_garbage, 0);
    sweep("garbage list (legacy)", scenario_garbage, 1);
    sweep("for_each walks", scenario_for_each, 0);
    return check_report();
}
