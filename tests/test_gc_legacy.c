/* test_gc_legacy.c: legacy finalizers (CPython's tp_del; reclaim's
 * RC_TYPE_LEGACY_FINALIZE) and gc.garbage, restated from CPython's
 * Lib/test/test_gc.py (test_legacy_finalizer, GCCallbackTests'
 * test_collect_garbage, test_garbage_at_shutdown, the shutdown tests) and
 * Lib/test/test_finalization.py (LegacyFinalizationTest).
 *
 * Unreachable objects of a legacy type, and everything they reach, are
 * uncollectable: never finalized by the collector, counted as
 * uncollectable, the legacy ones appended to gc.garbage, weak references
 * to them left alone. A legacy finalizer still runs when an object dies
 * by reference count.
 */
#include "check.h"
#include "pyobjs.h"

static bool garbage_has(const void *obj)
{
    for (size_t i = 0; i < rc_gc_garbage_len(); i++)
        if (rc_gc_garbage_item(i) == obj)
            return true;
    return false;
}

/* test_gc.py: test_legacy_finalizer and test_legacy_finalizer_newclass */
static void test_legacy_finalizer(void)
{
    fresh();
    Obj *a = obj_new(&legacy_type, 1, 1);
    obj_set(a, 0, a); /* a.a = a */
    Obj *b = obj_new(&obj_type, 2, 1);
    obj_set(b, 0, b);
    rc_gc_collect(2);
    rc_gc_stats before[3], after[3];
    rc_gc_get_stats(before);
    rc_decref(a);
    rc_decref(b);
    CHECK_EQ(rc_gc_collect(2), 2); /* b collected, a uncollectable */
    rc_gc_get_stats(after);
    CHECK_EQ(after[2].collected - before[2].collected, 1);
    CHECK_EQ(after[2].uncollectable - before[2].uncollectable, 1);
    CHECK_EQ(fin_len, 0);
    CHECK_EQ(destroy_len, 1);
    CHECK_EQ(rc_gc_garbage_len(), 1);
    Obj *obj = rc_gc_garbage_item(0); /* for obj in gc.garbage: id(obj) == id_a */
    CHECK(obj == a);
    CHECK_EQ(rc_refcount(a), 2); /* itself and gc.garbage */
    obj_set(obj, 0, NULL);       /* del obj.a */
    rc_gc_garbage_clear();       /* gc.garbage.remove(obj) */
    CHECK_EQ(fin_len, 1);        /* the legacy finalizer runs at a plain death */
    CHECK_EQ(destroy_len, 2);
    CHECK_EQ(rc_gc_collect(2), 0);
}

/* A legacy object that is not in a cycle but only reachable from one is
 * uncollectable too (it is unreachable and has a legacy finalizer); the
 * cycle itself is collected, and clearing it does not free the object
 * gc.garbage now holds. */
static void test_legacy_reachable_from_cycle(void)
{
    fresh();
    Obj *a = obj_new(&obj_type, 1, 2), *b = obj_new(&obj_type, 2, 1);
    Obj *l = obj_new(&legacy_type, 3, 0);
    obj_set(a, 0, b), obj_set(b, 0, a), obj_set(a, 1, l);
    rc_decref(a), rc_decref(b), rc_decref(l);
    CHECK_EQ(rc_gc_collect(2), 3);
    CHECK_EQ(destroy_len, 2);
    CHECK_EQ(fin_len, 0);
    CHECK_EQ(rc_gc_garbage_len(), 1);
    CHECK(rc_gc_garbage_item(0) == l);
    CHECK_EQ(rc_refcount(l), 1);
    rc_gc_garbage_clear();
    CHECK_EQ(fin_len, 1);
    CHECK_EQ(destroy_len, 3);
}

/* Everything a legacy cycle reaches is uncollectable with it: a PEP 442
 * finalizer in there must not run, weak references into it stay, and
 * only the legacy objects go to gc.garbage (the count has them all). */
static void test_legacy_cycle_reaches_finalizers(void)
{
    fresh();
    Obj *l = obj_new(&legacy_type, 1, 2);
    Obj *f = obj_new(&fin_type, 2, 1);
    Obj *plain = obj_new(&obj_type, 3, 0);
    obj_set(l, 0, f), obj_set(f, 0, l), obj_set(l, 1, plain);
    rc_weakref *wf = rc_weakref_new(f, NULL, NULL);
    rc_decref(l), rc_decref(f), rc_decref(plain);
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&text, &size);
    rc_gc_set_debug_output(out);
    rc_gc_set_debug(RC_GC_DEBUG_UNCOLLECTABLE | RC_GC_DEBUG_COLLECTABLE | RC_GC_DEBUG_STATS);
    CHECK_EQ(rc_gc_collect(2), 3);
    rc_gc_set_debug(0);
    rc_gc_set_debug_output(NULL);
    fclose(out);
    CHECK_EQ(fin_len, 0);
    CHECK_EQ(destroy_len, 0);
    CHECK(rc_weakref_alive(wf));
    CHECK_EQ(rc_gc_garbage_len(), 1);
    CHECK(garbage_has(l));
    CHECK_EQ(count_lines(text, "gc: uncollectable <"), 3);
    CHECK_EQ(count_lines(text, "gc: uncollectable <Legacy 0x"), 1);
    CHECK_EQ(count_lines(text, "gc: uncollectable <FinObj 0x"), 1);
    CHECK_EQ(count_lines(text, "gc: uncollectable <Obj 0x"), 1);
    CHECK_EQ(count_lines(text, "gc: collectable <"), 0);
    CHECK_STR_CONTAINS(text, "gc: done, 3 unreachable, 3 uncollectable, ");
    free(text);
    /* still uncollectable next time, and not appended twice */
    rc_gc_garbage_clear();
    CHECK_EQ(rc_gc_collect(2), 3);
    CHECK_EQ(rc_gc_garbage_len(), 1);
    CHECK_EQ(fin_len, 0);
    /* break it: the plain death finalizes each once */
    Obj *lg = rc_gc_garbage_item(0);
    obj_set(lg, 0, NULL);
    rc_gc_garbage_clear();
    CHECK_EQ(fin_len, 2);
    CHECK_EQ(destroy_len, 3);
    CHECK(!rc_weakref_alive(wf));
    rc_decref(wf);
}

/* ---- GCCallbackTests.test_collect_garbage ---- */

/* Uncollectable(): a pair of legacy objects, partners of each other */
static Obj *uncollectable_new(long tag)
{
    Obj *a = obj_new(&legacy_type, tag, 1), *b = obj_new(&legacy_type, tag + 1, 1);
    obj_set(a, 0, b), obj_set(b, 0, a);
    rc_decref(b);
    return a;
}

typedef struct cb_visit {
    int who;
    rc_gc_phase phase;
    rc_gc_info info;
} cb_visit;
static cb_visit cb_visits[16];
static size_t cb_len;
static bool cb_cleanup;

static void cb(rc_gc_phase phase, const rc_gc_info *info, void *arg)
{
    int who = (int)(intptr_t)arg;
    if (cb_len < 16)
        cb_visits[cb_len++] = (cb_visit){who, phase, *info};
    if (who == 2 && phase == RC_GC_STOP && cb_cleanup) {
        /* clean the Uncollectables from gc.garbage: break each pair */
        for (size_t i = 0; i < rc_gc_garbage_len(); i++) {
            Obj *e = rc_gc_garbage_item(i);
            if (rc_type_of(e) == &legacy_type)
                obj_set(e, 0, NULL); /* e.partner = None */
        }
        rc_gc_garbage_clear();
    }
}

static void test_collect_garbage(void)
{
    fresh();
    CHECK_EQ(rc_gc_callback_add(cb, (void *)1), 0);
    CHECK_EQ(rc_gc_callback_add(cb, (void *)2), 0);
    cb_len = 0;
    cb_cleanup = false;
    /* each Uncollectable() makes two objects garbage */
    rc_decref(uncollectable_new(10));
    rc_decref(uncollectable_new(20));
    Obj *c = obj_new(&obj_type, 666, 1); /* C1055820(666) */
    obj_set(c, 0, c);
    rc_decref(c);
    CHECK_EQ(rc_gc_collect(2), 5);
    CHECK_EQ(cb_len, 4);
    for (size_t i = 0; i < cb_len; i++) {
        if (cb_visits[i].phase != RC_GC_STOP)
            continue;
        CHECK_EQ(cb_visits[i].info.collected, 1);
        CHECK_EQ(cb_visits[i].info.uncollectable, 4);
    }
    CHECK_EQ(rc_gc_garbage_len(), 4);
    for (size_t i = 0; i < rc_gc_garbage_len(); i++)
        CHECK(rc_type_of(rc_gc_garbage_item(i)) == &legacy_type);
    /* CPython's loop variable e still holds the last one: its pair stays
     * reachable, so the next collection finds only the other pair. */
    Obj *e = rc_incref(rc_gc_garbage_item(rc_gc_garbage_len() - 1));
    cb_cleanup = true;
    cb_len = 0;
    rc_gc_garbage_clear(); /* gc.garbage[:] = [] */
    CHECK_EQ(rc_gc_collect(2), 2);
    CHECK_EQ(cb_len, 4);
    for (size_t i = 0; i < cb_len; i++) {
        if (cb_visits[i].phase != RC_GC_STOP)
            continue;
        CHECK_EQ(cb_visits[i].info.collected, 0);
        CHECK_EQ(cb_visits[i].info.uncollectable, 2);
    }
    CHECK_EQ(rc_gc_garbage_len(), 0); /* the Uncollectables are gone */
    CHECK_EQ(fin_len, 2);
    CHECK_EQ(destroy_len, 3);
    rc_decref(e); /* tearDown: the last pair, cleaned the same way */
    CHECK_EQ(rc_gc_collect(2), 2);
    CHECK_EQ(rc_gc_garbage_len(), 0);
    CHECK_EQ(destroy_len, 5);
    CHECK_EQ(fin_len, 4);
    CHECK_EQ(rc_gc_callback_remove(cb, (void *)1), 0);
    CHECK_EQ(rc_gc_callback_remove(cb, (void *)2), 0);
}

/* ---- test_finalization.py: LegacyFinalizationTest ---- */

/* test_finalization.py: LegacyFinalizationTest.test_legacy (no cycle: the
 * legacy finalizer runs at the death by reference count) */
static void test_legacy(void)
{
    fresh();
    Obj *s = obj_new(&legacy_type, 1, 0);
    rc_weakref *wr = rc_weakref_new(s, NULL, NULL);
    rc_decref(s);
    rc_gc_collect(2);
    CHECK(died_once(wr));
    rc_gc_collect(2);
    CHECK(died_once(wr));
    CHECK_EQ(rc_gc_garbage_len(), 0);
    rc_decref(wr);
}

/* test_finalization.py: LegacyFinalizationTest.test_legacy_resurrect.
 * Two documented differences from CPython, whose tp_del runs after the
 * weak references were cleared and again at every later death
 * (tp_del_calls == ids * 2): reclaim has one finalize per type, and it
 * runs at most once per object (object.h), before weak references are
 * cleared; a resurrected object's weak references stay alive. */
static void test_legacy_resurrect(void)
{
    fresh();
    Obj *s = obj_new(&legacy_type, 1, 0);
    s->side_effect = effect_resurrect;
    rc_weakref *wr = rc_weakref_new(s, NULL, NULL);
    rc_decref(s);
    rc_gc_collect(2);
    CHECK(resurrected_once());
    CHECK(rc_weakref_alive(wr)); /* CPython: None */
    survivors_clear();
    rc_gc_collect(2);
    CHECK(died_once(wr)); /* CPython: finalized and resurrected again */
    CHECK_EQ(rc_gc_garbage_len(), 0);
    rc_decref(wr);
}

/* test_finalization.py: LegacyFinalizationTest.test_legacy_self_cycle:
 * the self-cycle ends in gc.garbage, unfinalized, its weak reference
 * alive; breaking the cycle and clearing gc.garbage frees it. */
static void test_legacy_self_cycle(void)
{
    fresh();
    Obj *s = obj_new(&legacy_type, 1, 1);
    obj_set(s, 0, s);
    rc_weakref *wr = rc_weakref_new(s, NULL, NULL);
    rc_decref(s);
    rc_gc_collect(2);
    CHECK_EQ(fin_len, 0);
    CHECK_EQ(survivor_len, 0);
    CHECK_EQ(rc_gc_garbage_len(), 1);
    CHECK(rc_gc_garbage_item(0) == s);
    void *alive = rc_weakref_get(wr);
    CHECK(alive == s); /* wr() is not None */
    rc_decref(alive);
    obj_set(rc_gc_garbage_item(0), 0, NULL); /* gc.garbage[0].ref = None */
    rc_gc_garbage_clear();
    CHECK_EQ(rc_gc_garbage_len(), 0);
    CHECK(rc_weakref_get(wr) == NULL);
    CHECK_EQ(destroy_len, 1);
    CHECK_EQ(fin_len, 1); /* at the plain death (CPython's test ignores it) */
    rc_decref(wr);
}

/* ---- shutdown: heap destruction ---- */

static Obj *make_x_pair(void)
{
    Obj *x = obj_new(&legacy_type, 1, 2); /* X('first') */
    Obj *y = obj_new(&legacy_type, 2, 0); /* X('second') */
    obj_set(x, 0, x);                     /* x.x = x */
    obj_set(x, 1, y);                     /* x.y = X('second') */
    rc_decref(y);
    return x;
}

/* test_gc.py: test_garbage_at_shutdown, on a heap of its own. CPython
 * reports "gc: 2 uncollectable objects at shutdown" and, with
 * DEBUG_UNCOLLECTABLE, prints them; reclaim prints the two lines when the
 * collection finds them and, when the heap is destroyed, runs the destroy
 * hook of every object still alive (no finalizers), gc.garbage's
 * included. With DEBUG_SAVEALL nothing is printed. */
static void garbage_at_shutdown(unsigned debug)
{
    logs_reset();
    rc_heap *heap = rc_heap_new();
    rc_heap *previous = rc_heap_use(heap);
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&text, &size);
    rc_gc_set_debug_output(out);
    rc_gc_set_debug(debug);
    Obj *x = make_x_pair();
    rc_decref(x); /* del x */
    CHECK_EQ(rc_gc_collect(2), 2);
    CHECK_EQ(rc_gc_garbage_len(), 2);
    CHECK(garbage_has(x));
    fflush(out);
    if (debug & RC_GC_DEBUG_UNCOLLECTABLE) {
        char two[128];
        snprintf(two, sizeof two, "gc: uncollectable <Legacy %p>\n", (void *)x);
        CHECK_STR_CONTAINS(text, two);
        CHECK_EQ(count_lines(text, "gc: uncollectable <Legacy 0x"), 2);
        const char *first = strstr(text, "gc: uncollectable <");
        const char *eol = first ? strchr(first, '\n') : NULL;
        CHECK(eol && strncmp(eol + 1, "gc: uncollectable <Legacy 0x", 28) == 0);
    } else {
        CHECK_EQ(count_lines(text, "gc: uncollectable"), 0);
    }
    rc_gc_set_debug_output(NULL);
    fclose(out);
    free(text);
    CHECK(rc_heap_use(previous) == heap);
    rc_heap_destroy(heap);
    long both[] = {1, 2};
    CHECK(log_is_set(destroy_log, destroy_len, both, 2));
    CHECK_EQ(fin_len, 0);
}

static void test_garbage_at_shutdown(void)
{
    garbage_at_shutdown(0);
    garbage_at_shutdown(RC_GC_DEBUG_UNCOLLECTABLE);
    garbage_at_shutdown(RC_GC_DEBUG_SAVEALL);
}

static int atexit_ran;

static void say_del_called(void *arg)
{
    (void)arg;
    atexit_ran++;
}

/* test_gc.py: test_gc_main_module_at_shutdown and
 * test_gc_ordinary_module_at_shutdown: l = [C()]; l.append(l) left for
 * shutdown. CPython collects it at shutdown and C.__del__ prints;
 * reclaim's rc_heap_destroy runs weakref.finalize-style finalizers
 * (rc_finalize) and destroy hooks, not finalize: the documented way to
 * have code run at heap destruction is rc_finalize. */
static void test_gc_at_shutdown(void)
{
    logs_reset();
    atexit_ran = 0;
    rc_heap *heap = rc_heap_new();
    rc_heap *previous = rc_heap_use(heap);
    Obj *c = obj_new(&fin_type, 1, 0);
    Obj *l = obj_new(&obj_type, 2, 2);
    obj_set(l, 0, c), obj_set(l, 1, l);
    rc_finalizer *f = rc_finalize(c, say_del_called, NULL);
    rc_decref(f); /* the heap keeps it registered */
    rc_decref(c), rc_decref(l);
    rc_heap_use(previous);
    rc_heap_destroy(heap);
    CHECK_EQ(atexit_ran, 1);
    CHECK_EQ(fin_len, 0);
    long both[] = {1, 2};
    CHECK(log_is_set(destroy_log, destroy_len, both, 2));
}

/* DEBUG_SAVEALL with a legacy cycle: gc.garbage gets the collectable
 * objects and every uncollectable one, legacy or not; nothing is freed
 * and the count is unchanged. */
static void test_saveall_with_legacy(void)
{
    fresh();
    Obj *x = obj_new(&legacy_type, 1, 2), *y = obj_new(&legacy_type, 2, 1);
    Obj *reached = obj_new(&obj_type, 4, 0); /* reached from the legacy cycle */
    Obj *plain = obj_new(&obj_type, 3, 1);   /* an ordinary cycle */
    obj_set(x, 0, x), obj_set(x, 1, y), obj_set(y, 0, reached), obj_set(plain, 0, plain);
    rc_decref(y), rc_decref(reached), rc_decref(x), rc_decref(plain);
    rc_gc_set_debug(RC_GC_DEBUG_SAVEALL);
    CHECK_EQ(rc_gc_collect(2), 4); /* plain; x, y, reached uncollectable */
    rc_gc_set_debug(0);
    CHECK_EQ(rc_gc_garbage_len(), 4);
    CHECK(garbage_has(x) && garbage_has(y) && garbage_has(reached) && garbage_has(plain));
    CHECK(plain->slot[0] == plain); /* saved whole */
    CHECK_EQ(destroy_len, 0);
    CHECK_EQ(fin_len, 0);
    obj_set(x, 0, NULL); /* break both cycles */
    obj_set(plain, 0, NULL);
    rc_gc_garbage_clear();
    CHECK_EQ(destroy_len, 4);
    CHECK_EQ(fin_len, 2); /* x and y, at their plain deaths */
}

int main(void)
{
    rc_gc_disable();
    test_legacy_finalizer();
    test_legacy_reachable_from_cycle();
    test_legacy_cycle_reaches_finalizers();
    test_collect_garbage();
    test_legacy();
    test_legacy_resurrect();
    test_legacy_self_cycle();
    test_garbage_at_shutdown();
    test_gc_at_shutdown();
    test_saveall_with_legacy();
    return check_report();
}
