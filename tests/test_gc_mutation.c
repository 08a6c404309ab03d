/* test_gc_mutation.c: the cases of CPython's Lib/test/test_gc.py where the
 * object graph changes while a collection runs: finalizers that collect,
 * break cycles or look at the collector's objects, deep structures freed
 * while finalizers collect (the trashcan), weak reference callbacks and
 * finalizers meeting cyclic garbage (bug 1055820 and bpo-38006), and
 * GCTogglingTests. Objects are pyobjs.h's; automatic collection is off
 * unless a test turns it on, as in test_gc.py's setUpModule.
 */
#include "check.h"
#include "pyobjs.h"

#include <pthread.h>
#include <stdatomic.h>

static long ouch_n, ouch_every;
static int ouch_generation;

static void effect_ouch(Obj *self)
{
    (void)self;
    if (++ouch_n % ouch_every == 0)
        rc_gc_collect(ouch_generation);
}

static Obj *ouch_new(void)
{
    Obj *o = obj_new(&fin_type, -1, 0);
    o->side_effect = effect_ouch;
    return o;
}

/* t = [t, x]: a new node whose slot `deep` takes the reference t */
static Obj *nest(Obj *t, size_t width, size_t deep, size_t leaf, Obj *x)
{
    Obj *n = obj_new(&obj_type, 0, width);
    n->slot[deep] = t;
    n->slot[leaf] = x;
    return n;
}

/* test_gc.py: test_trashcan. Nested lists and dicts of Ouch objects whose
 * __del__ runs a full collection every 17th call, with automatic
 * collection on, built twice (the second build frees the first). Then a
 * far deeper chain (the trashcan's point: no C recursion) whose
 * finalizers collect while the chain is being freed; there every 1000th
 * level has an Ouch and each collects, because the debug build validates
 * the whole heap after every collection. */
static void test_trashcan(void)
{
    fresh();
    ouch_n = 0;
    ouch_every = 17;
    ouch_generation = 2;
    rc_gc_enable();
    const size_t N = 1500;
    Obj *t = NULL, *u = NULL, *v = NULL;
    for (int count = 0; count < 2; count++) {
        Obj *nt = obj_new(&obj_type, 0, 2), *nu = obj_new(&obj_type, 0, 2);
        Obj *nv = obj_new(&obj_type, 0, 4);
        for (size_t i = 0; i < N; i++)
            nt = nest(nt, 2, 0, 1, ouch_new());
        for (size_t i = 0; i < N; i++)
            nu = nest(nu, 2, 0, 1, ouch_new());
        for (size_t i = 0; i < N; i++) /* v = {1: v, 2: Ouch()} */
            nv = nest(nv, 4, 1, 3, ouch_new());
        rc_decref(t);
        rc_decref(u);
        rc_decref(v);
        t = nt, u = nu, v = nv;
    }
    rc_decref(t);
    rc_decref(u);
    rc_decref(v);
    rc_gc_disable();
    CHECK_EQ(ouch_n, 6 * (long)N);
    CHECK_EQ(fin_len, 6 * N);
    CHECK_EQ(destroy_len, 6 * (N + N + 1));
    CHECK_EQ(finalize_errors, 0);

    fresh();
    ouch_n = 0;
    ouch_every = 1;
    const size_t DEEP = 300 * 1000, EVERY = 1000;
    Obj *deep = NULL;
    for (size_t i = 0; i < DEEP; i++)
        deep = nest(deep, 2, 0, 1, i % EVERY ? NULL : ouch_new());
    for (int g = 0; g < 3; g++) {
        ouch_generation = g;
        Obj *chain = deep;
        for (size_t i = 0; i < DEEP / 3; i++)
            chain = chain->slot[0];
        rc_incref(chain);
        rc_decref(deep); /* frees DEEP / 3 levels, collecting generation g */
        deep = chain;    /* the rest has moved up a generation meanwhile */
    }
    rc_decref(deep);
    CHECK_EQ(ouch_n, (long)(DEEP / EVERY));
    CHECK_EQ(destroy_len, DEEP + DEEP / EVERY);
    CHECK_EQ(rc_gc_collect(2), 0);
}

/* test_gc.py: test_trashcan_threads: two threads, each on its own heap,
 * build and free nested structures whose objects have finalizers; every
 * object made is finalized. */
static atomic_long thread_inits, thread_dels;
static atomic_bool threads_stop;

static void count_del(void *self)
{
    (void)self;
    atomic_fetch_add(&thread_dels, 1);
}

/* No logging types here: the logs are not thread-safe. */
static const rc_type thread_c_type = {.name = "C",
                                      .size = sizeof(Obj) + sizeof(void *),
                                      .traverse = obj_traverse,
                                      .finalize = count_del};
static const rc_type thread_list_type = {
    .name = "list", .size = sizeof(Obj) + sizeof(void *), .traverse = obj_traverse};

static void *run_thread(void *arg)
{
    (void)arg;
    while (!atomic_load(&threads_stop)) {
        Obj *x = rc_new(&thread_c_type);
        x->n = 1;
        atomic_fetch_add(&thread_inits, 1);
        for (int i = 0; i < 60; i++) {
            Obj *c = rc_new(&thread_c_type); /* x = [C([x])] */
            c->n = 1;
            c->slot[0] = x;
            atomic_fetch_add(&thread_inits, 1);
            x = rc_new(&thread_list_type);
            x->n = 1;
            x->slot[0] = c;
        }
        rc_decref(x);
    }
    rc_gc_collect(2);
    return NULL;
}

static void test_trashcan_threads(void)
{
    pthread_t threads[2];
    for (int i = 0; i < 2; i++)
        CHECK_EQ(pthread_create(&threads[i], NULL, run_thread, NULL), 0);
    usleep(300 * 1000);
    atomic_store(&threads_stop, true);
    for (int i = 0; i < 2; i++)
        pthread_join(threads[i], NULL);
    CHECK(atomic_load(&thread_inits) > 0);
    CHECK_EQ(atomic_load(&thread_inits), atomic_load(&thread_dels));
}

static void effect_boom(Obj *self) /* del self.attr */ { obj_set(self, 0, NULL); }

static long boom2_max;

static void effect_boom2(Obj *self) /* breaks the cycle only the 2nd time */
{
    if (++self->scratch > 1)
        obj_set(self, 0, NULL);
    if (self->scratch > boom2_max)
        boom2_max = self->scratch;
}

/* test_gc.py: test_boom, test_boom2 (and the identical _new variants),
 * adapted: the graph mutates during the collection because a finalizer
 * breaks the cycle. Both objects are freed exactly once, counted, and
 * nothing goes to gc.garbage. */
static void boom_case(obj_effect effect)
{
    fresh();
    Obj *a = obj_new(&fin_type, 1, 1), *b = obj_new(&fin_type, 2, 1);
    a->side_effect = b->side_effect = effect;
    obj_set(a, 0, b);
    obj_set(b, 0, a);
    obj_seal(a);
    obj_seal(b);
    CHECK_EQ(rc_gc_collect(2), 0);
    size_t garbagelen = rc_gc_garbage_len();
    rc_decref(a);
    rc_decref(b);
    CHECK_EQ(rc_gc_collect(2), 2);
    CHECK_EQ(rc_gc_garbage_len(), garbagelen);
    long both[] = {1, 2};
    CHECK(log_is_set(fin_log, fin_len, both, 2));
    CHECK(log_is_set(destroy_log, destroy_len, both, 2));
    CHECK_EQ(rc_gc_collect(2), 0);
}

static void test_boom(void)
{
    boom_case(effect_boom);
    boom2_max = 0;
    boom_case(effect_boom2);
    CHECK_EQ(boom2_max, 1); /* finalize ran once: no second time */
}

static void effect_attr_none(Obj *self) /* self.attr = None */ { obj_set(self, 0, NULL); }

/* test_gc.py: test_bug21435: a finalizer in a cycle drops the reference
 * that kept its partner in the cycle. */
static void test_bug21435(void)
{
    fresh();
    Obj *a = obj_new(&obj_type, 1, 1);
    Obj *b = obj_new(&fin_type, 2, 2);
    Obj *x = obj_new(&obj_type, 3, 0);
    b->side_effect = effect_attr_none;
    obj_set(b, 1, x); /* B(A()) */
    rc_decref(x);
    obj_set(a, 0, b);
    obj_set(b, 0, a);
    rc_decref(a);
    rc_decref(b);
    CHECK_EQ(rc_gc_collect(2), 3);
    CHECK_EQ(fin_len, 1);
    CHECK_EQ(destroy_len, 3);
}

static size_t during_seen_self, during_seen_any, during_referrers;

static bool see_self(void *obj, void *arg)
{
    during_seen_any++;
    during_seen_self += obj == arg;
    return true;
}

static bool count_any(void *obj, void *arg)
{
    (void)obj;
    ++*(size_t *)arg;
    return true;
}

static long during_collect;

static void effect_get_objects(Obj *self)
{
    rc_gc_for_each_object(-1, see_self, self);
    rc_gc_for_each_referrer(self, count_any, &during_referrers);
    during_collect = rc_gc_collect(2); /* already collecting: 0 */
}

/* test_gc.py: test_get_objects_during_gc: a finalizer run by a collection
 * looks at the collector's objects: it must not find itself among them,
 * nor any referrer (it is garbage, its only referrer is itself).
 * (This failed while introspect.c showed objects flagged RC_UNREACHABLE,
 * which classify() settles in generation 2, to user code.) */
static void test_get_objects_during_gc(void)
{
    fresh();
    during_seen_self = during_seen_any = during_referrers = 0;
    during_collect = -1;
    Obj *keep = obj_new(&obj_type, 2, 0);
    Obj *obj = obj_new(&fin_type, 1, 1);
    obj->side_effect = effect_get_objects;
    obj_set(obj, 0, obj);
    rc_decref(obj);
    CHECK_EQ(rc_gc_collect(2), 1);
    CHECK_EQ(fin_len, 1);          /* collected = True */
    CHECK(during_seen_any >= 1);   /* keep, at least */
    CHECK_EQ(during_seen_self, 0); /* obj is not self */
    CHECK_EQ(during_referrers, 0); /* get_referrers(self) == [] */
    CHECK_EQ(during_collect, 0);
    CHECK_EQ(destroy_len, 1);
    rc_decref(keep);
}

static bool detector_fired;

static void it_happened(rc_weakref *ref, void *arg)
{
    (void)ref, (void)arg;
    detector_fired = true;
}

/* GC_Detector: a weak reference, with callback, to a piece of cyclic
 * trash. The weak reference is returned (the caller holds it). */
static rc_weakref *gc_detector(void)
{
    detector_fired = false;
    Obj *c = obj_new(&obj_type, 666, 1); /* C1055820(666) */
    obj_set(c, 0, c);
    rc_weakref *wr = rc_weakref_new(c, it_happened, NULL);
    rc_decref(c);
    return wr;
}

/* Allocates list-like objects kept in junk until the detector fires or
 * limit allocations were made; returns how many were made. */
static int allocate_until_gc(Obj **junk, int limit)
{
    int i = 0;
    while (!detector_fired) {
        if (++i > limit)
            break;
        junk[i - 1] = obj_new(&obj_type, 0, 0); /* junk.append([]) */
    }
    return i;
}

/* test_gc.py: GCTogglingTests.test_indirect_calls_with_gc_disabled (with
 * gc_threshold(1000, 0, 0)) */
static void test_indirect_calls_with_gc_disabled(void)
{
    fresh();
    static Obj *junk[10001];
    size_t t[3];
    rc_gc_get_threshold(t);
    rc_gc_set_threshold(1000, 0, 0);
    rc_gc_enable();
    rc_weakref *det = gc_detector();
    int made = allocate_until_gc(junk, 10000);
    CHECK(detector_fired);
    CHECK(made <= 1001);
    for (int i = 0; i < (detector_fired ? made : made - 1); i++)
        rc_decref(junk[i]);
    rc_decref(det);

    rc_gc_disable();
    det = gc_detector();
    made = allocate_until_gc(junk, 10000);
    CHECK_EQ(made, 10001);
    CHECK(!detector_fired);
    for (int i = 0; i < 10000; i++)
        rc_decref(junk[i]);
    rc_gc_enable();
    rc_gc_collect(2);
    CHECK(detector_fired); /* an explicit collection still finds it */
    rc_decref(det);
    rc_gc_disable();
    rc_gc_set_threshold(t[0], t[1], t[2]);
}

/* C1055820: an object with a self-loop, cyclic trash once unreachable */
static Obj *c1055820(long i, size_t extra_slots)
{
    Obj *c = obj_new(&obj_type, i, 1 + extra_slots);
    obj_set(c, 0, c);
    return c;
}

static rc_weakref *b_wrs[2];
static size_t b_calls, b_alive_seen;

static void b_callback(rc_weakref *ref, void *arg)
{
    (void)ref, (void)arg;
    b_calls++;
    for (int i = 0; i < 2; i++) { /* ouch[:] = [wr() for wr in WRs] */
        void *obj = rc_weakref_get(b_wrs[i]);
        b_alive_seen += obj != NULL;
        rc_decref(obj);
    }
}

/* test_gc.py: test_bug1055820b: callbacks of reachable weak references to
 * cyclic trash run, and every weak reference to the trash is already
 * dead when the first one runs (no callback can resurrect an instance the
 * collector is about to clear). */
static void test_bug1055820b(void)
{
    fresh();
    b_calls = b_alive_seen = 0;
    Obj *Cs = obj_new(&obj_type, 100, 2);
    for (int i = 0; i < 2; i++) {
        Obj *c = c1055820(i, 0);
        obj_set(Cs, (size_t)i, c);
        b_wrs[i] = rc_weakref_new(c, b_callback, NULL);
        rc_decref(c);
    }
    rc_gc_collect(2);
    CHECK_EQ(b_calls, 0);
    rc_decref(Cs); /* Cs = None: the two instances are trash */
    CHECK_EQ(rc_gc_collect(2), 2);
    CHECK_EQ(b_calls, 2);      /* else the callbacks did not run */
    CHECK_EQ(b_alive_seen, 0); /* wr() is None in every callback */
    CHECK_EQ(destroy_len, 3);
    for (int i = 0; i < 2; i++) {
        CHECK(!rc_weakref_alive(b_wrs[i]));
        rc_decref(b_wrs[i]);
    }
}

static size_t garbage_wr_calls;

static void garbage_wr_callback(rc_weakref *ref, void *arg)
{
    (void)ref, (void)arg;
    garbage_wr_calls++;
}

/* The counterpart of test_bug1055820b that test_gc.py relies on: a weak
 * reference that is itself part of the cyclic trash never calls back. */
static void test_garbage_weakref_no_callback(void)
{
    fresh();
    garbage_wr_calls = 0;
    Obj *c = c1055820(1, 1);
    rc_weakref *wr = rc_weakref_new(c, garbage_wr_callback, NULL);
    obj_set(c, 1, wr); /* c holds its own weak reference */
    rc_decref(wr);
    rc_decref(c);
    CHECK_EQ(rc_gc_collect(2), 2); /* c and the weak reference */
    CHECK_EQ(garbage_wr_calls, 0);
    CHECK_EQ(destroy_len, 1);
}

static rc_weakref *c2wr;
static size_t ouch_len, ouch_alive;

static void record_c2(void)
{
    void *obj = rc_weakref_get(c2wr); /* ouch[:] = [c2wr()] */
    ouch_len = 1;
    ouch_alive += obj != NULL;
    rc_decref(obj);
}

static void c0_callback(rc_weakref *ref, void *arg)
{
    (void)ref, (void)arg;
    record_c2();
}

static void effect_record_c2(Obj *self)
{
    (void)self;
    record_c2();
}

/* test_gc.py: GCTogglingTests.test_bug1055820c (callback on a weak
 * reference to an old object) and test_bug1055820d (a finalizer on the old
 * object): collecting generation 0 finds c1 and c2 trash; clearing c1
 * drops the last reference to the old c0, whose callback (or finalizer)
 * runs in the middle of the collection and asks for c2 through a weak
 * reference without callback: it must get None, as c2 is being cleared. */
static void bug1055820cd(bool use_finalizer)
{
    fresh();
    ouch_len = ouch_alive = 0;
    Obj *c0 = c1055820(0, 0);
    if (use_finalizer) { /* class D(C1055820) with a __del__ */
        rc_decref(c0);
        c0 = obj_new(&fin_type, 0, 1);
        obj_set(c0, 0, c0);
        c0->side_effect = effect_record_c2;
    }
    rc_gc_collect(2); /* c0 to generation 2 */
    CHECK_EQ(gen_holds(2, c0), 1);
    Obj *c1 = c1055820(1, 1);
    obj_set(c1, 1, c0);   /* c1.keep_c0_alive = c0 */
    obj_set(c0, 0, NULL); /* del c0.loop */
    Obj *c2 = c1055820(2, 0);
    c2wr = rc_weakref_new(c2, NULL, NULL); /* no callback */
    rc_weakref *c0wr = use_finalizer ? NULL : rc_weakref_new(c0, c0_callback, NULL);
    rc_decref(c0), rc_decref(c1), rc_decref(c2);

    size_t t[3];
    rc_gc_get_threshold(t);
    if (use_finalizer)
        rc_gc_set_threshold(1000, 0, 0); /* @gc_threshold(1000, 0, 0) */
    rc_gc_stats before[3], after[3];
    rc_gc_get_stats(before);
    rc_gc_enable(); /* let gc happen "naturally" */
    rc_weakref *detector = gc_detector();
    static Obj *junk[10001];
    int made = 0;
    bool ouch_early = false;
    while (!detector_fired && made < 10000) {
        ouch_early |= ouch_len != 0;
        junk[made++] = obj_new(&obj_type, 0, 0);
    }
    rc_gc_disable();
    rc_gc_set_threshold(t[0], t[1], t[2]);
    rc_gc_get_stats(after);
    CHECK(detector_fired);
    CHECK(!ouch_early);
    CHECK_EQ(after[2].collections, before[2].collections); /* c0 not in it */
    CHECK_EQ(ouch_len, 1);   /* else the callback / __del__ did not run */
    CHECK_EQ(ouch_alive, 0); /* c2wr() is None */
    for (int i = 0; i < made; i++)
        rc_decref(junk[i]);
    rc_decref(detector);
    rc_decref(c0wr);
    rc_decref(c2wr);
    CHECK_EQ(rc_gc_collect(2), 0);
}

static void test_bug1055820c(void) { bug1055820cd(false); }

static void test_bug1055820d(void) { bug1055820cd(true); }

static size_t trash_wr_calls;

static void trash_wr_callback(rc_weakref *ref, void *arg)
{
    (void)ref, (void)arg;
    trash_wr_calls++;
}

/* test_gc.py: test_trash_weakref_clear (bpo-38006). Z <- Y <- A (self
 * loop) -> WZ, a weak reference to Z with a callback, kept alive longer by
 * a second cycle. Y is not tracked (ContainerNoGC), so the collector
 * cannot see that Z is trash; Z dies only when clearing A frees Y. WZ is
 * trash too, so it must have been cleared before that: no callback. */
static void test_trash_weakref_clear(void)
{
    fresh();
    trash_wr_calls = 0;
    Obj *a = obj_new(&obj_type, 1, 3);
    obj_set(a, 0, a);
    Obj *y = obj_new(&obj_type, 2, 1);
    rc_gc_untrack(y); /* ContainerNoGC */
    Obj *z = obj_new(&obj_type, 3, 0);
    obj_set(y, 0, z);
    obj_set(a, 1, y);
    rc_weakref *wz = rc_weakref_new(z, trash_wr_callback, NULL);
    obj_set(a, 2, wz);
    Obj *wr_cycle = obj_new(&obj_type, 4, 2);
    obj_set(wr_cycle, 0, wz);
    obj_set(wr_cycle, 1, wr_cycle);
    rc_decref(wz), rc_decref(z), rc_decref(y);
    rc_gc_collect(2);
    rc_decref(a), rc_decref(wr_cycle);
    CHECK_EQ(rc_gc_collect(2), 3); /* a, wr_cycle, wz */
    CHECK_EQ(trash_wr_calls, 0);   /* callback.assert_not_called() */
    CHECK_EQ(destroy_len, 4);      /* a, y, z, wr_cycle */
}

static void *late_func; /* the global `func` */
static Obj *latefin_global;

static void effect_latefin(Obj *self) /* func = self.ref() */
{
    late_func = rc_weakref_get(self->slot[0]);
}

static void effect_cyclic(Obj *self)
{
    /* self[1].ref = weakref.ref(self[0]); del latefin (the global) */
    rc_weakref *ref = rc_weakref_new(self->slot[0], NULL, NULL);
    obj_set(self->slot[1], 0, ref);
    rc_decref(ref);
    Obj *late = latefin_global;
    latefin_global = NULL;
    rc_decref(late);
}

/* test_gc.py: test_function_tp_clear_leaves_consistent_state (gh-91636).
 * cyc's finalizer makes a weak reference to func (garbage, in a cycle with
 * cyc) and hands it to latefin, whose finalizer runs while the collector
 * clears the garbage and asks the weak reference for func. CPython 3.13
 * returns the cleared function there, and so does reclaim (3.14 returns
 * None): what comes back must be whole: alive, its references cleared (not
 * dangling), and freed exactly once when dropped. */
static void test_function_tp_clear_leaves_consistent_state(void)
{
    fresh();
    late_func = NULL;
    latefin_global = obj_new(&fin_type, 1, 1); /* LateFin, slot: ref */
    latefin_global->side_effect = effect_latefin;
    Obj *func = obj_new(&obj_type, 2, 1);
    Obj *cyc = obj_new(&fin_type, 3, 2); /* (func, latefin) */
    cyc->side_effect = effect_cyclic;
    obj_set(cyc, 0, func);
    obj_set(cyc, 1, latefin_global);
    obj_set(func, 0, cyc); /* func.__module__ = cyc */
    rc_decref(func), rc_decref(cyc);
    rc_gc_collect(2);
    CHECK_EQ(log_count(fin_log, fin_len, 1), 1);
    CHECK_EQ(log_count(fin_log, fin_len, 3), 1);
    CHECK(latefin_global == NULL);
    CHECK(late_func == func); /* as CPython 3.13 */
    if (late_func) {
        Obj *f = late_func;
        CHECK(f->slot[0] == NULL); /* cleared, consistently */
        CHECK_EQ(rc_refcount(f), 1);
        CHECK_EQ(log_count(destroy_log, destroy_len, 2), 0);
        late_func = NULL;
        rc_decref(f);
    }
    CHECK_EQ(rc_gc_collect(2), 0);
    CHECK_EQ(log_count(destroy_log, destroy_len, 2), 1);
    CHECK_EQ(destroy_len, 3);
}

int main(void)
{
    rc_gc_disable();
    test_trashcan();
    test_trashcan_threads();
    test_boom();
    test_bug21435();
    test_get_objects_during_gc();
    test_bug1055820b();
    test_garbage_weakref_no_callback();
    test_bug1055820c();
    test_bug1055820d();
    test_trash_weakref_clear();
    test_function_tp_clear_leaves_consistent_state();
    test_indirect_calls_with_gc_disabled();
    return check_report();
}
