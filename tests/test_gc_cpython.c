/* test_gc_cpython.c: CPython's Lib/test/test_gc.py (GCTests,
 * GCCallbackTests, GCTogglingTests), restated for reclaim's collector.
 *
 * Python objects become Objs (pyobjs.h): a list, tuple, dict, instance,
 * class, bound method or frame is "a tracked object holding n references";
 * ints and strings are untracked leaves. Where CPython asserts only
 * "collect() != 0" because the interpreter's object layout varies, the C
 * model fixes the layout and the counts are asserted exactly. As in
 * test_gc.py's setUpModule, automatic collection is off unless a test
 * turns it on. The cases where the graph changes during a collection are
 * in test_gc_mutation.c, legacy finalizers in test_gc_legacy.c, PEP 442
 * and resurrection in test_finalization.c.
 */
#include "check.h"
#include "pyobjs.h"

static const rc_type int_type = {.name = "int", .size = sizeof(Obj), .destroy = obj_destroy};

/* test_gc.py: test_list */
static void test_list(void)
{
    fresh();
    Obj *l = obj_new(&obj_type, 1, 1);
    obj_set(l, 0, l); /* l.append(l) */
    CHECK_EQ(rc_gc_collect(2), 0);
    rc_decref(l);
    CHECK_EQ(rc_gc_collect(2), 1);
    CHECK_EQ(destroy_len, 1);
}

/* test_gc.py: test_dict. The key is an untracked int: freed with the dict
 * but not counted, as CPython counts only container objects. */
static void test_dict(void)
{
    fresh();
    Obj *d = obj_new(&obj_type, 1, 2);
    Obj *key = obj_new(&int_type, 2, 0);
    obj_set(d, 0, key); /* d[1] = d */
    obj_set(d, 1, d);
    rc_decref(key);
    CHECK_EQ(rc_gc_collect(2), 0);
    rc_decref(d);
    CHECK_EQ(rc_gc_collect(2), 1);
    CHECK_EQ(destroy_len, 2);
    CHECK_EQ(log_count(destroy_log, destroy_len, 2), 1);
}

/* test_gc.py: test_tuple (the loop closed through a list) */
static void test_tuple(void)
{
    fresh();
    Obj *l = obj_new(&obj_type, 1, 1);
    Obj *t = obj_new(&obj_type, 2, 1);
    obj_set(t, 0, l); /* t = (l,) */
    obj_set(l, 0, t); /* l.append(t) */
    CHECK_EQ(rc_gc_collect(2), 0);
    rc_decref(t);
    rc_decref(l);
    CHECK_EQ(rc_gc_collect(2), 2);
    CHECK_EQ(destroy_len, 2);
}

/* A class: slot 0 its __dict__, slot 1 its __mro__ tuple (which holds the
 * class), slot 2 its base. */
static Obj *class_new(long tag, Obj *base)
{
    Obj *cls = obj_new(&obj_type, tag, 3);
    Obj *dict = obj_new(&obj_type, tag + 1, 4);
    Obj *mro = obj_new(&obj_type, tag + 2, 1);
    obj_set(cls, 0, dict);
    obj_set(cls, 1, mro);
    obj_set(cls, 2, base);
    obj_set(mro, 0, cls);
    rc_decref(dict);
    rc_decref(mro);
    return cls;
}

/* test_gc.py: test_class (A.a = A) and test_newstyleclass (a class alone
 * is already a cycle through its __mro__). */
static void test_class(void)
{
    fresh();
    Obj *a = class_new(10, NULL);
    obj_set(a->slot[0], 0, a); /* A.a = A */
    CHECK_EQ(rc_gc_collect(2), 0);
    rc_decref(a);
    CHECK_EQ(rc_gc_collect(2), 3); /* class, dict, mro */
    CHECK_EQ(destroy_len, 3);

    fresh();
    Obj *b = class_new(20, NULL);
    CHECK_EQ(rc_gc_collect(2), 0);
    rc_decref(b);
    CHECK_EQ(rc_gc_collect(2), 3);
    CHECK_EQ(destroy_len, 3);
}

/* An instance: slot 0 its __dict__ (n_dict slots), slot 1 its class. */
static Obj *instance_new(long tag, Obj *cls, size_t n_dict)
{
    Obj *inst = obj_new(&obj_type, tag, 2);
    Obj *dict = obj_new(&obj_type, tag + 1, n_dict);
    obj_set(inst, 0, dict);
    obj_set(inst, 1, cls);
    rc_decref(dict);
    return inst;
}

/* test_gc.py: test_instance (a.a = a); the class stays alive and its
 * count comes back exactly. */
static void test_instance(void)
{
    fresh();
    Obj *cls = class_new(10, NULL);
    size_t cls_refs = rc_refcount(cls);
    Obj *a = instance_new(1, cls, 1);
    obj_set(a->slot[0], 0, a);
    CHECK_EQ(rc_gc_collect(2), 0);
    rc_decref(a);
    CHECK_EQ(rc_gc_collect(2), 2); /* instance and its __dict__ */
    CHECK_EQ(rc_refcount(cls), cls_refs);
    rc_decref(cls);
    CHECK_EQ(rc_gc_collect(2), 3);
    CHECK_EQ(destroy_len, 5);
}

/* test_gc.py: test_newinstance. A subclass of a list whose instance is big
 * enough to be a large block (not in a pool), classes deleted while their
 * instances are garbage, and A.a = A() closing a class cycle. */
static void test_newinstance(void)
{
    fresh();
    Obj *A = class_new(100, NULL);
    Obj *a = instance_new(1, A, 1);
    obj_set(a->slot[0], 0, a);
    rc_decref(a);
    CHECK_EQ(rc_gc_collect(2), 2);

    Obj *B = class_new(200, NULL);    /* class B(list) */
    Obj *C = class_new(300, B);       /* class C(B, A): base B */
    obj_set(C->slot[0], 1, A);        /* and A, through its dict */
    Obj *c = instance_new(2, C, 100); /* a list-like body of 100 slots */
    CHECK(rc_usable_size(rc_head_of(c->slot[0])) > RC_SMALL_MAX);
    obj_set(c->slot[0], 99, c);
    rc_decref(c);
    CHECK_EQ(rc_gc_collect(2), 2);
    rc_decref(B);
    rc_decref(C);
    CHECK_EQ(rc_gc_collect(2), 6); /* B and C with their dicts and mros */
    Obj *inst = instance_new(3, A, 0);
    obj_set(A->slot[0], 0, inst); /* A.a = A() */
    rc_decref(inst);
    rc_decref(A);
    CHECK_EQ(rc_gc_collect(2), 5); /* A, dict, mro, the instance, its dict */
    CHECK_EQ(rc_gc_collect(2), 0);
}

/* test_gc.py: test_method (self.init = self.__init__: a bound method holds
 * the instance) */
static void test_method(void)
{
    fresh();
    Obj *a = instance_new(1, NULL, 1);
    Obj *bound = obj_new(&obj_type, 3, 2); /* (function, self) */
    obj_set(bound, 1, a);
    obj_set(a->slot[0], 0, bound);
    rc_decref(bound);
    CHECK_EQ(rc_gc_collect(2), 0);
    rc_decref(a);
    CHECK_EQ(rc_gc_collect(2), 3);
}

/* test_gc.py: test_function (f -> globals d -> f) and test_frame (a frame
 * whose local variable holds the frame) */
static void test_function_and_frame(void)
{
    fresh();
    Obj *d = obj_new(&obj_type, 1, 2);
    Obj *f = obj_new(&obj_type, 2, 2); /* (globals, code) */
    Obj *code = obj_new(&int_type, 3, 0);
    obj_set(f, 0, d);
    obj_set(f, 1, code);
    obj_set(d, 1, f);
    rc_decref(code);
    rc_decref(f);
    CHECK_EQ(rc_gc_collect(2), 0);
    rc_decref(d);
    CHECK_EQ(rc_gc_collect(2), 2);
    CHECK_EQ(destroy_len, 3);

    fresh();
    Obj *frame = obj_new(&obj_type, 4, 3); /* localsplus */
    obj_set(frame, 2, frame);
    rc_decref(frame);
    CHECK_EQ(rc_gc_collect(2), 1);
}

/* test_gc.py: test_saveall */
static void test_saveall(void)
{
    fresh();
    CHECK_EQ(rc_gc_garbage_len(), 0);
    Obj *L = obj_new(&obj_type, 1, 1);
    obj_set(L, 0, L);
    unsigned debug = rc_gc_get_debug();
    rc_gc_set_debug(debug | RC_GC_DEBUG_SAVEALL);
    CHECK_EQ(rc_gc_get_debug(), RC_GC_DEBUG_SAVEALL);
    rc_decref(L);
    CHECK_EQ(rc_gc_collect(2), 1);
    rc_gc_set_debug(debug);
    CHECK_EQ(rc_gc_garbage_len(), 1);
    Obj *obj = rc_incref(rc_gc_garbage_item(0)); /* gc.garbage.pop() */
    rc_gc_garbage_clear();
    CHECK(obj == L);
    CHECK(obj->slot[0] == obj); /* saved whole, not cleared */
    CHECK_EQ(rc_refcount(obj), 2);
    CHECK_EQ(destroy_len, 0);
    rc_decref(obj);
    CHECK_EQ(rc_gc_collect(2), 1);
    CHECK_EQ(destroy_len, 1);
}

/* dir(self): allocates and drops tracked objects, so that with threshold
 * 1 the finalizer itself triggers collections. */
static void effect_allocate(Obj *self)
{
    (void)self;
    for (int i = 0; i < 8; i++) {
        Obj *tmp = obj_new(&obj_type, 1000 + i, 1);
        obj_set(tmp, 0, tmp);
        rc_decref(tmp);
    }
}

/* test_gc.py: test_del and test_del_newclass: __del__ triggering
 * collections (threshold 1), once on a death by reference count and once
 * on a cycle collected by an automatic collection. */
static void test_del(void)
{
    fresh();
    size_t thresholds[3];
    rc_gc_get_threshold(thresholds);
    rc_gc_stats before[3], after[3];
    rc_gc_get_stats(before);
    rc_gc_enable();
    rc_gc_set_threshold(1, 10, 10);
    Obj *a = obj_new(&fin_type, 1, 1);
    a->side_effect = effect_allocate;
    rc_decref(a);
    CHECK_EQ(log_count(fin_log, fin_len, 1), 1);
    CHECK_EQ(log_count(destroy_log, destroy_len, 1), 1);

    Obj *b = obj_new(&fin_type, 2, 1);
    b->side_effect = effect_allocate;
    obj_set(b, 0, b);
    rc_decref(b);
    for (int i = 0; i < 4; i++) /* allocations: collections come */
        rc_decref(obj_new(&obj_type, 3, 0));
    rc_gc_disable();
    rc_gc_set_threshold(thresholds[0], thresholds[1], thresholds[2]);
    rc_gc_get_stats(after);
    CHECK(after[0].collections > before[0].collections);
    rc_gc_collect(2);
    CHECK_EQ(log_count(fin_log, fin_len, 2), 1);
    CHECK_EQ(log_count(destroy_log, destroy_len, 2), 1);
    size_t dir_objects = 0;
    for (long tag = 1000; tag < 1008; tag++)
        dir_objects += log_count(destroy_log, destroy_len, tag);
    CHECK_EQ(dir_objects, 16); /* every dir(self) object freed */
    CHECK_EQ(finalize_errors, 0);
}

/* test_gc.py: test_get_count */
static void test_get_count(void)
{
    fresh();
    size_t abc[3], def[3];
    rc_gc_get_count(abc);
    Obj *x = obj_new(&obj_type, 1, 0);
    rc_gc_get_count(def);
    CHECK_EQ(abc[1], 0);
    CHECK_EQ(abc[2], 0);
    CHECK_EQ(def[1], 0);
    CHECK_EQ(def[2], 0);
    CHECK_EQ(abc[0], 0);
    CHECK_EQ(def[0], abc[0] + 1);
    Obj *leaf = obj_new(&int_type, 2, 0); /* untracked: not counted */
    rc_gc_get_count(def);
    CHECK_EQ(def[0], abc[0] + 1);
    rc_decref(leaf);
    rc_decref(x);
    rc_gc_get_count(def);
    CHECK_EQ(def[0], abc[0]);
}

/* Whether x is in generation gen and in no other (get_objects(g)). */
static bool only_in(int gen, const void *x)
{
    for (int g = 0; g < 3; g++)
        if (gen_holds(g, x) != (g == gen))
            return false;
    return true;
}

/* test_gc.py: test_collect_generations, test_get_objects and
 * test_get_objects_generations: x trickles into the next generation after
 * each collect(N). */
static void test_collect_generations(void)
{
    fresh();
    Obj *x = obj_new(&obj_type, 1, 1);
    obj_set(x, 0, x);
    CHECK(only_in(0, x));
    CHECK_EQ(gen_holds(-1, x), 1);
    size_t c[3];
    rc_gc_collect(0);
    rc_gc_get_count(c);
    CHECK_EQ(c[1], 1);
    CHECK_EQ(c[2], 0);
    CHECK(only_in(1, x));
    rc_gc_collect(1);
    rc_gc_get_count(c);
    CHECK_EQ(c[1], 0);
    CHECK_EQ(c[2], 1);
    CHECK(only_in(2, x));
    rc_gc_collect(2);
    rc_gc_get_count(c);
    CHECK_EQ(c[1], 0);
    CHECK_EQ(c[2], 0);
    CHECK(only_in(2, x));
    rc_decref(x);
    CHECK_EQ(rc_gc_collect(2), 1);
    CHECK_EQ(gen_holds(-1, x), 0);
}

/* test_gc.py: test_get_objects_arguments */
static void test_get_objects_arguments(void)
{
    fresh();
    Obj *keep[3];
    keep[0] = obj_new(&obj_type, 0, 0);
    rc_gc_collect(1); /* keep[0] to generation 2 */
    keep[1] = obj_new(&obj_type, 1, 0);
    rc_gc_collect(0); /* keep[1] to generation 1 */
    keep[2] = obj_new(&obj_type, 2, 0);
    CHECK_EQ(gen_size(-1), gen_size(0) + gen_size(1) + gen_size(2));
    CHECK_EQ(gen_size(0), 1);
    CHECK_EQ(gen_size(1), 1);
    CHECK_EQ(rc_gc_for_each_object(1000, find_visit, &(find_arg){0}), RC_EINVAL);
    CHECK_EQ(rc_gc_for_each_object(-1000, find_visit, &(find_arg){0}), RC_EINVAL);
    CHECK_EQ(rc_gc_for_each_object(3, find_visit, &(find_arg){0}), RC_EINVAL);
    for (int g = 0; g < 3; g++)
        rc_decref(keep[g]);
}

/* test_gc.py: test_get_stats */
static void test_get_stats(void)
{
    fresh();
    rc_gc_stats old[3], now[3];
    rc_gc_get_stats(old);
    rc_gc_collect(0);
    rc_gc_get_stats(now);
    CHECK_EQ(now[0].collections, old[0].collections + 1);
    CHECK_EQ(now[1].collections, old[1].collections);
    CHECK_EQ(now[2].collections, old[2].collections);
    rc_gc_collect(2);
    rc_gc_get_stats(now);
    CHECK_EQ(now[0].collections, old[0].collections + 1);
    CHECK_EQ(now[1].collections, old[1].collections);
    CHECK_EQ(now[2].collections, old[2].collections + 1);
    Obj *l = obj_new(&obj_type, 1, 1);
    obj_set(l, 0, l);
    rc_decref(l);
    rc_gc_collect(1);
    rc_gc_stats last[3];
    rc_gc_get_stats(last);
    CHECK_EQ(last[1].collected, now[1].collected + 1);
    CHECK_EQ(last[1].uncollectable, now[1].uncollectable);
    CHECK_EQ(last[0].collected, now[0].collected);
}

typedef struct ref_list {
    void *items[16];
    size_t len;
} ref_list;

static bool collect_ref(void *obj, void *arg)
{
    ref_list *l = arg;
    if (l->len < 16)
        l->items[l->len++] = obj;
    return true;
}

static bool list_has(const ref_list *l, const void *obj)
{
    for (size_t i = 0; i < l->len; i++)
        if (l->items[i] == obj)
            return true;
    return false;
}

/* test_gc.py: test_get_referents (and test_get_referents_on_capsule: an
 * untracked object has none); gc.get_referrers, which test_gc.py uses in
 * test_get_objects_during_gc. */
static void test_get_referents_and_referrers(void)
{
    fresh();
    Obj *ints[3];
    Obj *alist = obj_new(&obj_type, 1, 4); /* [1, 3, 5] and a NULL slot */
    for (int i = 0; i < 3; i++) {
        ints[i] = obj_new(&int_type, 2 * i + 1, 0);
        obj_set(alist, (size_t)i + (i == 2), ints[i]);
    }
    ref_list got = {.len = 0};
    CHECK_EQ(rc_gc_for_each_referent(alist, collect_ref, &got), 0);
    CHECK_EQ(got.len, 3);
    for (int i = 0; i < 3; i++)
        CHECK(list_has(&got, ints[i]));
    got.len = 0;
    CHECK_EQ(rc_gc_for_each_referent(ints[0], collect_ref, &got), 0);
    CHECK_EQ(got.len, 0);

    Obj *holder = obj_new(&obj_type, 9, 2); /* holds alist twice */
    obj_set(holder, 0, alist);
    obj_set(holder, 1, alist);
    Obj *other = obj_new(&obj_type, 10, 1);
    got.len = 0;
    CHECK_EQ(rc_gc_for_each_referrer(alist, collect_ref, &got), 0);
    CHECK_EQ(got.len, 1); /* once, however many slots refer */
    CHECK(got.items[0] == holder);
    got.len = 0;
    rc_gc_for_each_referrer(ints[1], collect_ref, &got);
    CHECK_EQ(got.len, 1);
    CHECK(got.items[0] == alist);
    got.len = 0;
    rc_gc_for_each_referrer(other, collect_ref, &got);
    CHECK_EQ(got.len, 0);
    size_t before = rc_refcount(alist);
    rc_decref(holder);
    rc_decref(other);
    CHECK_EQ(rc_refcount(alist), before - 2);
    for (int i = 0; i < 3; i++)
        rc_decref(ints[i]);
    rc_decref(alist);
    CHECK_EQ(destroy_len, 6);
}

/* test_gc.py: test_is_tracked */
static void test_is_tracked(void)
{
    fresh();
    CHECK(!rc_gc_is_tracked(NULL));
    Obj *i = obj_new(&int_type, 1, 0);
    CHECK(!rc_gc_is_tracked(i));
    Obj *ng = obj_new(&nongc_type, 2, 0);
    CHECK(!rc_gc_is_tracked(ng));
    Obj *l = obj_new(&obj_type, 3, 0); /* even with no slots */
    CHECK(rc_gc_is_tracked(l));
    Obj *f = obj_new(&fin_type, 4, 0);
    CHECK(rc_gc_is_tracked(f));
    Obj *big = obj_new(&obj_type, 5, 200);
    CHECK(rc_gc_is_tracked(big));
    rc_gc_untrack(l);
    CHECK(!rc_gc_is_tracked(l));
    CHECK_EQ(gen_holds(-1, l), 0);
    CHECK_EQ(rc_gc_track(l), 0);
    CHECK(rc_gc_is_tracked(l));
    CHECK_EQ(rc_gc_track(i), RC_EINVAL);
    CHECK(!rc_gc_is_tracked(i));
    Obj *imm = obj_new(&obj_type, 6, 0);
    rc_make_immortal(imm);
    CHECK(!rc_gc_is_tracked(imm));
    CHECK_EQ(rc_gc_track(imm), RC_EINVAL);
    rc_decref(i);
    rc_decref(ng);
    rc_decref(l);
    rc_decref(f);
    rc_decref(big);
}

/* test_gc.py: test_freeze, test_traverse_frozen_objects and
 * test_deferred_refcount_frozen: frozen objects are never examined, their
 * counts stay exact when young garbage refers to them, and collecting
 * while frozen is harmless. */
static void test_freeze(void)
{
    fresh();
    Obj *x = obj_new(&obj_type, 1, 3);
    Obj *cyc = obj_new(&obj_type, 2, 1); /* frozen garbage */
    obj_set(cyc, 0, cyc);
    rc_decref(cyc);
    size_t tracked = gen_size(-1);
    rc_gc_freeze();
    CHECK_EQ(rc_gc_freeze_count(), tracked);
    CHECK(rc_gc_freeze_count() > 0);
    CHECK_EQ(gen_size(-1), 0);
    CHECK(rc_gc_is_tracked(x));
    size_t c[3];
    rc_gc_get_count(c);
    CHECK_EQ(c[0], 0);
    CHECK_EQ(rc_gc_collect(2), 0); /* frozen garbage is left */
    Obj *y = obj_new(&obj_type, 3, 2);
    obj_set(y, 0, x);
    obj_set(y, 1, y);
    rc_decref(y);
    CHECK_EQ(rc_gc_collect(2), 1);
    CHECK_EQ(rc_refcount(x), 1);
    CHECK_EQ(rc_gc_freeze_count(), tracked);
    rc_gc_unfreeze();
    CHECK_EQ(rc_gc_freeze_count(), 0);
    CHECK_EQ(gen_holds(2, x), 1);
    CHECK_EQ(rc_gc_collect(2), 1); /* cyc, thawed */
    rc_decref(x);
    CHECK_EQ(destroy_len, 3);
}

/* ---- GCCallbackTests ---- */

typedef struct visit_entry {
    int who;
    rc_gc_phase phase;
    rc_gc_info info;
} visit_entry;
static visit_entry visits[64];
static size_t visit_len;

static void cb(rc_gc_phase phase, const rc_gc_info *info, void *arg)
{
    if (visit_len < 64)
        visits[visit_len++] = (visit_entry){(int)(intptr_t)arg, phase, *info};
}

/* test_gc.py: GCCallbackTests.test_collect and test_collect_generation */
static void test_callbacks(void)
{
    fresh();
    CHECK_EQ(rc_gc_callback_add(cb, (void *)1), 0);
    CHECK_EQ(rc_gc_callback_add(cb, (void *)2), 0);
    visit_len = 0;
    Obj *l = obj_new(&obj_type, 1, 1);
    obj_set(l, 0, l);
    rc_decref(l);
    rc_gc_collect(2);
    CHECK_EQ(visit_len, 4);
    int n1 = 0, n2 = 0, starts = 0, stops = 0;
    for (size_t i = 0; i < visit_len; i++) {
        n1 += visits[i].who == 1;
        n2 += visits[i].who == 2;
        starts += visits[i].phase == RC_GC_START;
        stops += visits[i].phase == RC_GC_STOP;
        CHECK_EQ(visits[i].info.generation, 2);
    }
    CHECK_EQ(n1, 2);
    CHECK_EQ(n2, 2);
    CHECK_EQ(starts, 2);
    CHECK_EQ(stops, 2);
    /* in the order added, start before stop */
    CHECK(visits[0].who == 1 && visits[0].phase == RC_GC_START);
    CHECK(visits[1].who == 2 && visits[1].phase == RC_GC_START);
    CHECK(visits[2].who == 1 && visits[2].phase == RC_GC_STOP);
    CHECK_EQ(visits[2].info.collected, 1);
    CHECK_EQ(visits[3].info.collected, 1);
    CHECK_EQ(visits[3].info.uncollectable, 0);
    for (int g = 0; g < 2; g++) {
        visit_len = 0;
        rc_gc_collect(g);
        CHECK_EQ(visit_len, 4);
        CHECK_EQ(visits[0].info.generation, g);
        CHECK_EQ(visits[3].info.generation, g);
    }
    CHECK_EQ(rc_gc_callback_remove(cb, (void *)1), 0);
    CHECK_EQ(rc_gc_callback_remove(cb, (void *)2), 0);
    visit_len = 0;
    rc_gc_collect(2);
    CHECK_EQ(visit_len, 0);
}

/* The debug output format (test_gc.py checks it through
 * test_garbage_at_shutdown's "gc: uncollectable <X 0x...>" lines;
 * DEBUG_STATS and DEBUG_COLLECTABLE write the same way). */
static void test_debug_output(void)
{
    fresh();
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&text, &size);
    Obj *keep = obj_new(&obj_type, 9, 0);
    Obj *a = obj_new(&obj_type, 1, 1), *b = obj_new(&obj_type, 2, 1), *c = obj_new(&obj_type, 3, 1);
    obj_set(a, 0, b), obj_set(b, 0, c), obj_set(c, 0, a);
    rc_decref(a), rc_decref(b), rc_decref(c);
    char expected[128];
    snprintf(expected, sizeof expected, "gc: objects in each generation: %zu %zu %zu\n",
             gen_size(0), gen_size(1), gen_size(2));
    rc_gc_set_debug_output(out);
    rc_gc_set_debug(RC_GC_DEBUG_STATS | RC_GC_DEBUG_COLLECTABLE);
    CHECK_EQ(rc_gc_collect(1), 3);
    rc_gc_set_debug(0);
    rc_gc_set_debug_output(NULL);
    fclose(out);
    CHECK(strncmp(text, "gc: collecting generation 1...\n", 31) == 0);
    CHECK_STR_CONTAINS(text, expected);
    CHECK_STR_CONTAINS(text, "gc: objects in permanent generation: 0\n");
    CHECK_EQ(count_lines(text, "gc: collectable <Obj 0x"), 3);
    char line[64];
    snprintf(line, sizeof line, "gc: collectable <Obj %p>\n", (void *)a);
    CHECK_STR_CONTAINS(text, line);
    CHECK_STR_CONTAINS(text, "gc: done, 3 unreachable, 0 uncollectable, ");
    const char *done = text ? strstr(text, "gc: done") : NULL;
    CHECK(done && strstr(done, "s elapsed\n") && strchr(done, '\n')[1] == '\0');
    free(text);
    rc_decref(keep);

    /* DEBUG_LEAK: collectable lines, and everything saved */
    text = NULL;
    out = open_memstream(&text, &size);
    Obj *l = obj_new(&obj_type, 4, 1);
    obj_set(l, 0, l);
    rc_decref(l);
    rc_gc_set_debug_output(out);
    rc_gc_set_debug(RC_GC_DEBUG_LEAK);
    CHECK_EQ(rc_gc_collect(2), 1);
    rc_gc_set_debug(0);
    rc_gc_set_debug_output(NULL);
    fclose(out);
    CHECK_EQ(count_lines(text, "gc: collectable <Obj 0x"), 1);
    CHECK_EQ(count_lines(text, "gc: collecting"), 0); /* no STATS */
    CHECK_EQ(rc_gc_garbage_len(), 1);
    CHECK(rc_gc_garbage_item(0) == l);
    free(text);
    rc_gc_garbage_clear();
}

/* A pair whose count is one too small: b holds two references to a, which
 * counts only one of them after the extra drop. */
static void make_refcount_error(Obj **pa, Obj **pb)
{
    fresh();
    Obj *a = obj_new(&obj_type, 1, 4);
    for (int i = 0; i < 3; i++) {
        Obj *n = obj_new(&int_type, 10 + i, 0);
        obj_set(a, (size_t)i, n);
        rc_decref(n);
    }
    Obj *b = obj_new(&obj_type, 2, 2);
    obj_set(b, 0, a);
    obj_set(b, 1, a);
    obj_set(a, 3, b);
    rc_decref(a); /* ctypes.pythonapi.Py_DecRef(a) */
    rc_decref(a); /* del a */
    rc_decref(b); /* del b */
    *pa = a;
    *pb = b;
}

static void collect_refcount_error(void)
{
    Obj *a, *b;
    make_refcount_error(&a, &b);
    rc_gc_collect(2);
}

/* test_gc.py: GCCallbackTests.test_refcount_errors. CPython's debug build
 * stops with "refcount is too small"; so does reclaim's (RC_CHECKS >= 1).
 * Without the checks the collector must at least not free what is still
 * referenced: the pair stays alive and every count as it was. */
static void test_refcount_errors(void)
{
    if (RC_CHECKS >= 1) {
        CHECK_DEATH(collect_refcount_error, "reference count too small");
        return;
    }
    Obj *a, *b;
    make_refcount_error(&a, &b);
    CHECK_EQ(rc_refcount(a), 1);
    CHECK_EQ(rc_gc_collect(2), 0);
    CHECK_EQ(destroy_len, 0);
    CHECK_EQ(rc_refcount(a), 1);
    CHECK_EQ(rc_refcount(b), 1);
    rc_incref(a); /* repair the count: now plain cyclic trash */
    CHECK_EQ(rc_gc_collect(2), 2);
    CHECK_EQ(destroy_len, 5);
}

int main(void)
{
    rc_gc_disable();
    test_list();
    test_dict();
    test_tuple();
    test_class();
    test_instance();
    test_newinstance();
    test_method();
    test_function_and_frame();
    test_saveall();
    test_del();
    test_get_count();
    test_collect_generations();
    test_get_objects_arguments();
    test_get_stats();
    test_get_referents_and_referrers();
    test_is_tracked();
    test_freeze();
    test_callbacks();
    test_debug_output();
    test_refcount_errors();
    return check_report();
}
