/* test_finalization.c: PEP 442 finalization, restated from CPython's
 * Lib/test/test_finalization.py (SimpleFinalizationTest,
 * SelfCycleFinalizationTest, CycleChainFinalizationTest) and the
 * finalization cases of Lib/test/test_gc.py (is_finalized, resurrection).
 *
 * The CPython classes map to Objs (pyobjs.h) with a finalize side effect:
 * Simple (none), SimpleResurrector (survivors.append(self)), Suicidal
 * (breaks its own references). del_calls is fin_log; each finalizer checks
 * that its object is intact (check_sanity), which also proves that the
 * collector cleared nothing before every finalizer had run. Each test runs
 * with automatic collection off, as SimpleBase.test() does.
 */
#include "check.h"
#include "pyobjs.h"

/* ---- SimpleFinalizationTest: no reference cycles ---- */

/* test_finalization.py: SimpleFinalizationTest.test_simple */
static void test_simple(void)
{
    fresh();
    Obj *s = obj_new(&fin_type, 1, 0);
    rc_weakref *wr = rc_weakref_new(s, NULL, NULL);
    rc_decref(s);
    rc_gc_collect(2);
    CHECK(died_once(wr));
    rc_gc_collect(2);
    CHECK(died_once(wr));
    rc_decref(wr);
}

/* test_finalization.py: SimpleFinalizationTest.test_simple_resurrect. On a
 * death by reference count, resurrection keeps the weak reference alive. */
static void test_simple_resurrect(void)
{
    fresh();
    Obj *s = obj_new(&fin_type, 1, 0);
    s->side_effect = effect_resurrect;
    rc_weakref *wr = rc_weakref_new(s, NULL, NULL);
    rc_decref(s);
    rc_gc_collect(2);
    CHECK(resurrected_once());
    void *alive = rc_weakref_get(wr);
    CHECK(alive == s); /* wr() is not None */
    rc_decref(alive);
    CHECK(rc_gc_is_finalized(s));
    survivors_clear();
    rc_gc_collect(2);
    CHECK(died_once(wr)); /* __del__ not again */
    rc_decref(wr);
}

/* test_finalization.py: SimpleFinalizationTest.test_non_gc (a type without
 * traverse: never tracked, finalized by reference counting alone) */
static void test_non_gc(void)
{
    fresh();
    Obj *s = obj_new(&nongc_type, 1, 0);
    CHECK(!rc_gc_is_tracked(s));
    rc_decref(s);
    rc_gc_collect(2);
    CHECK(died_once(NULL));
    rc_gc_collect(2);
    CHECK(died_once(NULL));
}

/* test_finalization.py: SimpleFinalizationTest.test_non_gc_resurrect.
 * CPython runs __del__ of an untracked object again at its second death
 * (del_calls == ids * 2): it has no GC header to remember it ran. reclaim
 * keeps the finalized bit in every object's header, so finalize runs at
 * most once (object.h), tracked or not, and the second death frees it. */
static void test_non_gc_resurrect(void)
{
    fresh();
    Obj *s = obj_new(&nongc_type, 1, 0);
    s->side_effect = effect_resurrect;
    CHECK(!rc_gc_is_tracked(s));
    rc_decref(s);
    rc_gc_collect(2);
    CHECK(resurrected_once());
    CHECK_EQ(destroy_len, 0);
    survivors_clear();
    rc_gc_collect(2);
    CHECK(died_once(NULL)); /* CPython: finalized twice */
}

/* ---- SelfCycleFinalizationTest ---- */

static Obj *self_cycle(long tag, obj_effect effect)
{
    Obj *s = obj_new(&fin_type, tag, 1);
    obj_set(s, 0, s); /* self.ref = self */
    s->side_effect = effect;
    obj_seal(s);
    return s;
}

/* test_finalization.py: SelfCycleFinalizationTest.test_simple */
static void test_self_cycle_simple(void)
{
    fresh();
    Obj *s = self_cycle(1, NULL);
    rc_weakref *wr = rc_weakref_new(s, NULL, NULL);
    rc_decref(s);
    CHECK_EQ(fin_len, 0); /* a cycle: nothing until a collection */
    CHECK_EQ(rc_gc_collect(2), 1);
    CHECK(died_once(wr));
    CHECK_EQ(rc_gc_collect(2), 0);
    CHECK(died_once(wr));
    CHECK_EQ(finalize_errors, 0);
    rc_decref(wr);
}

/* test_finalization.py: SelfCycleFinalizationTest.test_simple_resurrect.
 * Weak references are cleared before finalizers run, so wr() is None
 * although the object lives on, whole (its self reference intact). */
static void test_self_cycle_resurrect(void)
{
    fresh();
    Obj *s = self_cycle(1, effect_resurrect);
    rc_weakref *wr = rc_weakref_new(s, NULL, NULL);
    rc_decref(s);
    rc_gc_collect(2);
    CHECK(resurrected_once());
    CHECK(rc_weakref_get(wr) == NULL);
    CHECK_EQ(destroy_len, 0);
    CHECK(s->slot[0] == s); /* check_sanity: self.ref is self */
    CHECK_EQ(rc_refcount(s), 2);
    CHECK(rc_gc_is_finalized(s));
    CHECK(rc_gc_is_tracked(s));
    survivors_clear();
    CHECK_EQ(rc_gc_collect(2), 1);
    CHECK(died_once(wr)); /* __del__ not called again */
    CHECK_EQ(finalize_errors, 0);
    rc_decref(wr);
}

/* test_finalization.py: SelfCycleFinalizationTest.test_simple_suicide:
 * the finalizer drops the last reference to its own object. */
static void test_self_cycle_suicide(void)
{
    fresh();
    Obj *s = self_cycle(1, effect_suicide);
    rc_weakref *wr = rc_weakref_new(s, NULL, NULL);
    rc_decref(s);
    rc_gc_collect(2);
    CHECK(died_once(wr));
    rc_gc_collect(2);
    CHECK(died_once(wr));
    CHECK_EQ(finalize_errors, 0);
    rc_decref(wr);
}

/* ---- CycleChainFinalizationTest ---- */

enum { LEFT = 0, RIGHT = 1 };
enum kind { SIMPLE, RESURRECT, SUICIDAL };
static size_t chain_errors;

static bool suicided(const Obj *o) { return o->scratch != 0; }

/* ChainedBase.check_sanity */
static void chain_check(Obj *self)
{
    if (suicided(self)) {
        chain_errors += self->slot[LEFT] != NULL || self->slot[RIGHT] != NULL;
        return;
    }
    Obj *left = self->slot[LEFT], *right = self->slot[RIGHT];
    if (!left || !right) {
        chain_errors++;
        return;
    }
    if (suicided(left))
        chain_errors += left->slot[RIGHT] != NULL;
    else
        chain_errors += left->slot[RIGHT] != self;
    if (suicided(right))
        chain_errors += right->slot[LEFT] != NULL;
    else
        chain_errors += right->slot[LEFT] != self;
}

static void chained_simple(Obj *self) { chain_check(self); }

static void chained_resurrect(Obj *self)
{
    chain_check(self);
    effect_resurrect(self);
}

static void chained_suicide(Obj *self)
{
    chain_check(self);
    effect_suicide(self);
}

static const obj_effect chained_effects[] = {chained_simple, chained_resurrect, chained_suicide};

/* build_chain: nodes[i].chain(nodes[i-1]), a ring through left/right.
 * Returns the nodes, each held by one reference of the caller. */
static void build_chain(const enum kind *kinds, size_t n, Obj **nodes)
{
    for (size_t i = 0; i < n; i++) {
        nodes[i] = obj_new(&fin_type, 10 + (long)i, 2);
        nodes[i]->side_effect = chained_effects[kinds[i]];
    }
    for (size_t i = 0; i < n; i++) {
        Obj *left = nodes[(i + n - 1) % n];
        obj_set(nodes[i], LEFT, left);
        obj_set(left, RIGHT, nodes[i]);
    }
    for (size_t i = 0; i < n; i++)
        obj_seal(nodes[i]);
}

static void check_chain(const enum kind *kinds, size_t n)
{
    fresh();
    chain_errors = 0;
    Obj *nodes[8];
    rc_weakref *wrs[8];
    long ids[8], survivor_ids[8];
    size_t n_survivors = 0;
    bool has_suicidal = false;
    build_chain(kinds, n, nodes);
    for (size_t i = 0; i < n; i++) {
        ids[i] = nodes[i]->tag;
        wrs[i] = rc_weakref_new(nodes[i], NULL, NULL);
        if (kinds[i] == RESURRECT)
            survivor_ids[n_survivors++] = ids[i];
        has_suicidal |= kinds[i] == SUICIDAL;
    }
    for (size_t i = 0; i < n; i++) /* del nodes */
        rc_decref(nodes[i]);
    CHECK_EQ(fin_len, 0);
    long found = rc_gc_collect(2);
    CHECK(log_is_set(fin_log, fin_len, ids, n));
    CHECK(survivors_are(survivor_ids, n_survivors));
    size_t dead_wrs = 0;
    for (size_t i = 0; i < n; i++)
        dead_wrs += !rc_weakref_alive(wrs[i]);
    CHECK_EQ(dead_wrs, n); /* cleared before the finalizers, even if resurrected */
    CHECK_EQ(chain_errors, 0);
    CHECK_EQ(finalize_errors, 0);
    if (n_survivors == 0) {
        CHECK_EQ(destroy_len, n);
        if (!has_suicidal)
            CHECK_EQ(found, (long)n);
    } else {
        /* in these chains every node is reachable from a resurrector */
        CHECK_EQ(destroy_len, 0);
        survivors_clear();
    }
    CHECK_EQ(rc_gc_collect(2), n_survivors ? (long)n : 0);
    CHECK(log_is_set(fin_log, fin_len, ids, n)); /* no second __del__ */
    CHECK_EQ(survivor_len, 0);
    CHECK_EQ(destroy_len, n);
    for (size_t i = 0; i < n; i++)
        rc_decref(wrs[i]);
}

/* test_finalization.py: CycleChainFinalizationTest, all eight cases */
static void test_chains(void)
{
    enum kind homogenous[] = {SIMPLE, SIMPLE, SIMPLE};                    /* test_homogenous */
    enum kind homogenous_resurrect[] = {RESURRECT, RESURRECT, RESURRECT}; /* _resurrect */
    enum kind homogenous_suicidal[] = {SUICIDAL, SUICIDAL, SUICIDAL};     /* _suicidal */
    enum kind suicidal_one[] = {SUICIDAL, SIMPLE, SUICIDAL, SIMPLE}; /* heterogenous_suicidal_one */
    enum kind suicidal_two[] = {SUICIDAL, SUICIDAL, SIMPLE, SIMPLE}; /* heterogenous_suicidal_two */
    enum kind resurrect_one[] = {RESURRECT, SIMPLE, RESURRECT,
                                 SIMPLE};                     /* heterogenous_resurrect_one */
    enum kind resurrect_two[] = {RESURRECT, SIMPLE, SUICIDAL, /* heterogenous_resurrect_two */
                                 RESURRECT, SIMPLE, SUICIDAL};
    enum kind resurrect_three[] = {RESURRECT, RESURRECT, SIMPLE, /* heterogenous_resurrect_three */
                                   SIMPLE,    SUICIDAL,  SUICIDAL};
    check_chain(homogenous, 3);
    check_chain(homogenous_resurrect, 3);
    check_chain(homogenous_suicidal, 3);
    check_chain(suicidal_one, 4);
    check_chain(suicidal_two, 4);
    check_chain(resurrect_one, 4);
    check_chain(resurrect_two, 6);
    check_chain(resurrect_three, 6);
}

/* ---- test_gc.py's finalization cases ---- */

/* test_gc.py: test_is_finalized */
static void test_is_finalized(void)
{
    fresh();
    Obj *three = obj_new(&obj_type, 3, 0);
    CHECK(!rc_gc_is_finalized(three));
    CHECK(!rc_gc_is_finalized(NULL));
    rc_decref(three);
    Obj *lazarus = obj_new(&fin_type, 1, 0);
    lazarus->side_effect = effect_resurrect;
    CHECK(!rc_gc_is_finalized(lazarus));
    rc_decref(lazarus);
    rc_gc_collect(2);
    CHECK_EQ(survivor_len, 1);
    lazarus = survivors[--survivor_len]; /* storage.pop() */
    CHECK(rc_gc_is_finalized(lazarus));
    rc_decref(lazarus);
}

/* test_gc.py: test_resurrection_only_happens_once_per_object */
static void test_resurrection_only_happens_once_per_object(void)
{
    fresh();
    Obj *laz = self_cycle(1, effect_resurrect);
    CHECK_EQ(fin_len, 0);
    rc_decref(laz);
    rc_gc_collect(2);
    CHECK_EQ(fin_len, 1);
    CHECK_EQ(survivor_len, 1);
    survivors_clear();
    CHECK_EQ(fin_len, 1);
    rc_gc_collect(2);
    CHECK_EQ(fin_len, 1);
    CHECK_EQ(survivor_len, 0);
    CHECK_EQ(destroy_len, 1);
}

/* test_gc.py: test_resurrection_is_transitive: what a resurrected object
 * reaches survives with it, untouched. Built twice: as test_gc.py builds
 * it, and as a longer chain made in reverse (children before parents), so
 * that survival cannot depend on the order the collector visits U in. */
static void test_resurrection_is_transitive(void)
{
    fresh();
    Obj *laz = obj_new(&fin_type, 1, 1);
    laz->side_effect = effect_resurrect;
    Obj *cargo = obj_new(&obj_type, 2, 2);
    obj_set(cargo, 0, cargo); /* self.me = self */
    obj_set(laz, 0, cargo);   /* laz.cargo = cargo */
    obj_set(cargo, 1, laz);   /* cargo.laz = laz */
    obj_seal(laz);
    rc_decref(laz), rc_decref(cargo);
    rc_gc_collect(2);
    CHECK_EQ(survivor_len, 1);
    Obj *instance = survivors[--survivor_len];
    CHECK(instance == laz);
    CHECK(instance->slot[0] == cargo); /* hasattr(instance, "cargo") */
    CHECK(cargo->slot[0] == cargo && cargo->slot[1] == laz);
    CHECK_EQ(rc_refcount(cargo), 2);
    CHECK_EQ(destroy_len, 0);
    CHECK_EQ(finalize_errors, 0);
    CHECK_EQ(rc_gc_collect(2), 0);
    rc_decref(instance);
    CHECK_EQ(rc_gc_collect(2), 2);
    CHECK_EQ(fin_len, 1);
    CHECK_EQ(destroy_len, 2);

    for (int gen = 0; gen < 3; gen += 2) {
        fresh();
        enum { K = 6 };
        Obj *c[K]; /* laz -> c[K-1] -> ... -> c[0] -> c[K-1], made c[0] first */
        for (int i = 0; i < K; i++)
            c[i] = obj_new(&obj_type, 10 + i, 1);
        for (int i = 1; i < K; i++)
            obj_set(c[i], 0, c[i - 1]);
        obj_set(c[0], 0, c[K - 1]);
        laz = obj_new(&fin_type, 1, 1);
        laz->side_effect = effect_resurrect;
        obj_set(laz, 0, c[K - 1]);
        obj_set(c[2], 0, laz); /* and back into laz from the middle */
        for (int i = 0; i < K; i++)
            rc_decref(c[i]);
        rc_decref(laz);
        CHECK_EQ(destroy_len, 2); /* c[1] and c[0], left out of the cycle */
        rc_gc_collect(gen);
        CHECK_EQ(survivor_len, 1);
        CHECK_EQ(destroy_len, 2); /* nothing the resurrected laz reaches */
        Obj *o = laz->slot[0];
        int intact = 0;
        for (int i = K - 1; i >= 3 && o; i--, o = o->slot[0])
            intact += o->tag == 10 + i;
        CHECK_EQ(intact, K - 3);
        CHECK(o == c[2] && c[2]->slot[0] == laz);
        survivors_clear();
        CHECK_EQ(rc_gc_collect(2), 5); /* laz and c[2..5] */
        CHECK_EQ(destroy_len, K + 1);
        CHECK_EQ(fin_len, 1);
    }
}

static rc_weakref *other_wr;
static size_t other_alive_in_finalizer;

static void effect_read_other(Obj *self)
{
    void *other = rc_weakref_get(other_wr);
    other_alive_in_finalizer += other != NULL;
    rc_decref(other);
    void *me = rc_weakref_get(self->slot[1]);
    other_alive_in_finalizer += me != NULL;
    rc_decref(me);
}

/* The order of a collection that test_finalization.py's "wr() is None"
 * after a resurrection relies on (CPython 3.12/3.13: handle_weakrefs
 * before finalize_garbage): weak references to every object of the
 * garbage, the finalizer's own included, are cleared before any finalizer
 * runs, so a finalizer cannot reach other garbage through them. */
static void test_finalizers_run_after_weakrefs_cleared(void)
{
    fresh();
    other_alive_in_finalizer = 0;
    Obj *a = obj_new(&fin_type, 1, 2), *b = obj_new(&obj_type, 2, 1);
    a->side_effect = effect_read_other;
    obj_set(a, 0, b), obj_set(b, 0, a);
    other_wr = rc_weakref_new(b, NULL, NULL);
    rc_weakref *own = rc_weakref_new(a, NULL, NULL);
    obj_set(a, 1, own); /* a holds a weak reference to itself */
    rc_decref(own), rc_decref(a), rc_decref(b);
    CHECK_EQ(rc_gc_collect(2), 3);
    CHECK_EQ(fin_len, 1);
    CHECK_EQ(other_alive_in_finalizer, 0);
    CHECK_EQ(destroy_len, 2);
    rc_decref(other_wr);
}

static size_t stop_collected;

static void stop_cb(rc_gc_phase phase, const rc_gc_info *info, void *arg)
{
    (void)arg;
    if (phase == RC_GC_STOP)
        stop_collected = info->collected;
}

static void getstats(size_t *collected, size_t *uncollectable)
{
    rc_gc_stats stats[3];
    rc_gc_get_stats(stats);
    *collected = stats[2].collected;
    *uncollectable = stats[2].uncollectable;
}

static void new_a(void) /* A(): a self-loop, trash at once */
{
    Obj *a = obj_new(&obj_type, 100, 1);
    obj_set(a, 0, a);
    rc_decref(a);
}

static void new_z(void) /* Z(A) with a resurrecting __del__ */
{
    rc_decref(self_cycle(200, effect_resurrect));
}

/* test_gc.py: test_resurrection_does_not_block_cleanup_of_other_objects.
 * Since CPython 3.9 collect(), get_stats() and the callbacks' "collected"
 * count only what was actually freed: a resurrected object is not
 * collected. The same figure reaches the stop callbacks.
 * (This failed while rc_gc_collect_heap took `collected` before the
 * finalizers ran, counting the resurrected Z as CPython 3.8 did.) */
static void test_resurrection_does_not_block_cleanup_of_other_objects(void)
{
    enum { N = 100 };
    fresh();
    CHECK_EQ(rc_gc_callback_add(stop_cb, NULL), 0);
    size_t oldc, oldnc, c, nc;
    getstats(&oldc, &oldnc);
    for (int i = 0; i < N; i++)
        new_a();
    long t = rc_gc_collect(2);
    getstats(&c, &nc);
    CHECK_EQ(t, N);
    CHECK_EQ(c - oldc, N);
    CHECK_EQ(nc - oldnc, 0);
    CHECK_EQ(stop_collected, N);

    oldc = c, oldnc = nc; /* Z() is merely resurrected: nothing collected */
    new_z();
    t = rc_gc_collect(2);
    getstats(&c, &nc);
    CHECK_EQ(t, 0);
    CHECK_EQ(c - oldc, 0);
    CHECK_EQ(nc - oldnc, 0);
    CHECK_EQ(stop_collected, 0);
    CHECK_EQ(survivor_len, 1);

    oldc = c, oldnc = nc; /* Z() does not keep the A()s from being collected */
    for (int i = 0; i < N; i++)
        new_a();
    new_z();
    t = rc_gc_collect(2);
    getstats(&c, &nc);
    CHECK_EQ(t, N);
    CHECK_EQ(c - oldc, N);
    CHECK_EQ(nc - oldnc, 0);
    CHECK_EQ(stop_collected, N);
    CHECK_EQ(log_count(destroy_log, destroy_len, 100), 2 * N);

    oldc = c, oldnc = nc; /* zs.clear(): the two Zs go now */
    CHECK_EQ(survivor_len, 2);
    survivors_clear();
    t = rc_gc_collect(2);
    getstats(&c, &nc);
    CHECK_EQ(t, 2);
    CHECK_EQ(c - oldc, 2);
    CHECK_EQ(nc - oldnc, 0);
    CHECK_EQ(log_count(destroy_log, destroy_len, 200), 2);
    CHECK_EQ(log_count(fin_log, fin_len, 200), 2);
    CHECK_EQ(rc_gc_callback_remove(stop_cb, NULL), 0);
}

/* PEP 442's guarantee that test_finalization.py's check_sanity relies on,
 * for a cycle holding an object reachable only through it: every
 * finalizer in the garbage runs before any reference in it is cleared, in
 * whichever order the finalizers run. */
static void test_finalizers_see_intact_garbage(void)
{
    fresh();
    Obj *ring[5];
    for (int i = 0; i < 5; i++)
        ring[i] = obj_new(i % 2 ? &obj_type : &fin_type, i, 2);
    Obj *leaf = obj_new(&fin_type, 9, 0);
    for (int i = 0; i < 5; i++) {
        obj_set(ring[i], 0, ring[(i + 1) % 5]);
        obj_set(ring[i], 1, leaf);
    }
    rc_decref(leaf);
    for (int i = 0; i < 5; i++) {
        if (i % 2 == 0)
            obj_seal(ring[i]);
        rc_decref(ring[i]);
    }
    CHECK_EQ(rc_gc_collect(2), 6);
    CHECK_EQ(fin_len, 4); /* ring[0], [2], [4] and the leaf */
    CHECK_EQ(finalize_errors, 0);
    CHECK_EQ(destroy_len, 6);
}

int main(void)
{
    rc_gc_disable();
    test_simple();
    test_simple_resurrect();
    test_non_gc();
    test_non_gc_resurrect();
    test_self_cycle_simple();
    test_self_cycle_resurrect();
    test_self_cycle_suicide();
    test_chains();
    test_is_finalized();
    test_resurrection_only_happens_once_per_object();
    test_resurrection_is_transitive();
    test_resurrection_does_not_block_cleanup_of_other_objects();
    test_finalizers_run_after_weakrefs_cleared();
    test_finalizers_see_intact_garbage();
    return check_report();
}
