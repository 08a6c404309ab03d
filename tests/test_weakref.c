/* test_weakref.c: weak references, their callbacks and rc_finalize, restating
 * the relevant cases of CPython's Lib/test/test_weakref.py (ReferencesTestCase
 * and FinalizeTestCase; each test names the CPython test it restates) plus
 * the cases the C API adds: callbacks at cycle collection only for weak
 * references that are themselves reachable, resurrection, heap teardown.
 *
 * Callbacks and finalizer functions append a tag to `events`; objects of the
 * Obj type append "~<id>" when destroyed, so tests compare exact sequences. */
#include "check.h"
#include "nodes.h"

#define CHECK_STREQ(got, want)                                                                     \
    do {                                                                                           \
        const char *g_ = (got);                                                                    \
        CHECK_STR_CONTAINS(g_, want);                                                              \
        CHECK_EQ(strlen(g_ ? g_ : ""), strlen(want));                                              \
    } while (0)

/* ---- the event log ---- */

static char events[2048];

static void ev(const char *tag)
{
    size_t len = strlen(events);
    if (len + strlen(tag) + 2 < sizeof events) {
        if (len)
            events[len++] = ' ';
        strcpy(events + len, tag);
    }
}

/* ---- Obj: four reference slots and an id ---- */

typedef struct Obj {
    void *s[4];
    long id;
} Obj;

static size_t obj_destroyed;

static void obj_traverse(void *self, rc_visit_fn visit, void *arg)
{
    Obj *o = self;
    for (int i = 0; i < 4; i++)
        visit(&o->s[i], arg);
}

static void obj_destroy(void *self)
{
    char tag[32];
    snprintf(tag, sizeof tag, "~%ld", ((Obj *)self)->id);
    ev(tag);
    obj_destroyed++;
}

static const rc_type obj_type = {
    .name = "Obj", .size = sizeof(Obj), .traverse = obj_traverse, .destroy = obj_destroy};

/* no traverse: never tracked by the collector (a "different class") */
static const rc_type plain_type = {.name = "Plain", .size = sizeof(Obj), .destroy = obj_destroy};

static void *ref_from_del; /* test_ref_created_during_del */
static size_t del_calls;

static void del_makes_ref(void *self)
{
    del_calls++;
    ref_from_del = rc_weakref_new(self, NULL, NULL);
}

static void del_plain(void *self)
{
    (void)self;
    del_calls++;
}

static const rc_type del_ref_type = {.name = "DelRef",
                                     .size = sizeof(Obj),
                                     .traverse = obj_traverse,
                                     .finalize = del_makes_ref,
                                     .destroy = obj_destroy};
static const rc_type with_del_type = {.name = "WithDel",
                                      .size = sizeof(Obj),
                                      .traverse = obj_traverse,
                                      .finalize = del_plain,
                                      .destroy = obj_destroy};

static Obj *obj_new_of(const rc_type *type, long id)
{
    Obj *o = rc_new(type);
    o->id = id;
    return o;
}

static Obj *obj_new(long id) { return obj_new_of(&obj_type, id); }

/* ---- callbacks ---- */

/* log_cb logs its tag (arg) and notes what it saw: the weak reference it
 * got, whether that (or `watched`) still gave an object, and how many
 * objects were destroyed before it ran. */
static int cb_calls, cb_saw_live;
static rc_weakref *cb_ref, *watched;
static size_t cb_destroyed_before;

static void log_cb(rc_weakref *ref, void *arg)
{
    ev(arg);
    cb_calls++;
    cb_ref = ref;
    cb_destroyed_before = obj_destroyed;
    void *obj = rc_weakref_get(ref);
    void *other = rc_weakref_get(watched);
    cb_saw_live += (obj != NULL) + (other != NULL) + rc_weakref_alive(ref);
    rc_decref(obj);
    rc_decref(other);
}

static void probe_reset(void)
{
    cb_calls = cb_saw_live = 0;
    cb_ref = watched = NULL;
}

static void reset(void)
{
    rc_gc_collect(2);
    events[0] = '\0';
    obj_destroyed = 0;
    del_calls = 0;
    counters_reset();
    probe_reset();
}

/* ==== ReferencesTestCase ==== */

/* test_basic_ref / check_basic_ref, test_constructor_kwargs-like argument
 * errors. */
static void test_basic_ref(void)
{
    reset();
    Obj *o = obj_new(1);
    rc_weakref *r = rc_weakref_new(o, NULL, NULL);
    CHECK(r != NULL);
    CHECK(rc_weakref_alive(r));
    CHECK_EQ(rc_refcount(o), 1); /* weak: no reference taken */
    void *got = rc_weakref_get(r);
    CHECK(got == o);
    CHECK_EQ(rc_refcount(o), 2); /* get returns a new reference */
    rc_decref(got);
    CHECK_EQ(rc_weakref_count(o), 1);
    rc_decref(o);
    CHECK_STREQ(events, "~1");
    CHECK(!rc_weakref_alive(r));
    CHECK(rc_weakref_get(r) == NULL);
    rc_decref(r);

    CHECK(rc_weakref_new(NULL, NULL, NULL) == NULL);
    CHECK_STR_CONTAINS(rc_last_error(), "obj is NULL");
    CHECK(rc_weakref_get(NULL) == NULL);
    CHECK(!rc_weakref_alive(NULL));
    CHECK_EQ(rc_weakref_count(NULL), 0);
}

/* weakref.h: "NULL with a message if obj is ... immortal (it can never
 * die)". (CPython has no counterpart: immortal objects there are weakly
 * referenceable only if their type is.) */
static void test_immortal_refused(void)
{
    reset();
    Obj *o = obj_new(2);
    rc_make_immortal(o);
    rc_weakref *r = rc_weakref_new(o, NULL, NULL);
    CHECK(r == NULL);
    CHECK_STR_CONTAINS(rc_last_error(), "immortal");
    if (r)
        rc_decref(r);
}

/* test_basic_callback / check_basic_callback: the callback runs once, with
 * the (dead) weak reference, before the object's destroy runs. */
static void test_basic_callback(void)
{
    reset();
    Obj *o = obj_new(1);
    rc_weakref *r = rc_weakref_new(o, log_cb, "cb");
    CHECK(r != NULL);
    CHECK_EQ(rc_refcount(r), 1);
    rc_decref(o);
    CHECK_STREQ(events, "cb ~1");
    CHECK_EQ(cb_calls, 1);
    CHECK(cb_ref == r);
    CHECK_EQ(cb_saw_live, 0);
    CHECK_EQ(cb_destroyed_before, 0);
    CHECK(rc_weakref_get(r) == NULL);
    CHECK_EQ(rc_refcount(r), 1); /* the callback's hold was given back */
    rc_decref(r);
    CHECK_EQ(cb_calls, 1);
}

/* test_multiple_callbacks: every callback runs; the most recently
 * registered first. test_multiple_selfref_callbacks: all the weak
 * references are cleared before any callback runs (r3's sees r1 dead). */
static void test_multiple_callbacks(void)
{
    reset();
    Obj *o = obj_new(1);
    rc_weakref *r1 = rc_weakref_new(o, log_cb, "r1");
    rc_weakref *r2 = rc_weakref_new(o, log_cb, "r2");
    rc_weakref *r3 = rc_weakref_new(o, log_cb, "r3");
    CHECK(r1 != r2 && r2 != r3 && r1 != r3); /* with callbacks: never shared */
    CHECK_EQ(rc_weakref_count(o), 3);
    watched = r1;
    rc_decref(o);
    CHECK_STREQ(events, "r3 r2 r1 ~1");
    CHECK_EQ(cb_calls, 3);
    CHECK_EQ(cb_saw_live, 0);
    CHECK(rc_weakref_get(r2) == NULL && rc_weakref_get(r3) == NULL);
    rc_decref(r1);
    rc_decref(r2);
    rc_decref(r3);
}

/* test_ref_reuse, test_shared_ref_without_callback: a weak reference
 * without callback is shared, whatever was made in between. */
static void test_shared_ref_without_callback(void)
{
    reset();
    Obj *o = obj_new(1);
    rc_weakref *r1 = rc_weakref_new(o, NULL, NULL);
    rc_weakref *with_cb = rc_weakref_new(o, log_cb, "cb");
    rc_weakref *r2 = rc_weakref_new(o, NULL, NULL);
    CHECK(r1 == r2);
    CHECK(r1 != with_cb);
    CHECK_EQ(rc_refcount(r1), 2);
    CHECK_EQ(rc_weakref_count(o), 2);
    rc_weakref *r3 = rc_weakref_new(o, NULL, (void *)"ignored");
    CHECK(r3 == r1); /* the arg of a callback-less reference does not matter */
    rc_decref(r3);
    rc_decref(r2);
    rc_decref(r1);
    CHECK_EQ(rc_weakref_count(o), 1);

    /* the callback reference first, then the shared one (second half of
     * test_ref_reuse) */
    rc_weakref *s1 = rc_weakref_new(o, NULL, NULL);
    rc_weakref *s2 = rc_weakref_new(o, NULL, NULL);
    CHECK(s1 == s2);
    CHECK(s1 != with_cb);
    CHECK_EQ(rc_weakref_count(o), 2);
    rc_decref(with_cb); /* dies first: its callback never runs */
    CHECK_EQ(rc_weakref_count(o), 1);
    rc_decref(o);
    CHECK_STREQ(events, "~1");
    CHECK(!rc_weakref_alive(s1));
    rc_decref(s1);
    rc_decref(s2);
}

/* test_getweakrefcount; test_getweakrefs: dropping one of two callback
 * references unlinks just that one, and only the other's callback runs. */
static void test_getweakrefcount(void)
{
    reset();
    Obj *o = obj_new(1);
    Obj *never = obj_new(2);
    rc_weakref *ref1 = rc_weakref_new(o, NULL, NULL);
    rc_weakref *ref2 = rc_weakref_new(o, log_cb, "x");
    CHECK_EQ(rc_weakref_count(o), 2);
    rc_weakref *ref3 = rc_weakref_new(o, NULL, NULL); /* ref1 again */
    rc_weakref *ref4 = rc_weakref_new(o, log_cb, "y");
    CHECK_EQ(rc_weakref_count(o), 3);
    rc_decref(ref1);
    CHECK_EQ(rc_weakref_count(o), 3); /* ref3 still holds the shared one */
    rc_decref(ref3);
    CHECK_EQ(rc_weakref_count(o), 2);
    rc_decref(ref4);
    CHECK_EQ(rc_weakref_count(o), 1);
    CHECK_EQ(rc_weakref_count(never), 0);
    rc_decref(o);
    CHECK_STREQ(events, "x ~1"); /* y's reference died first */
    rc_decref(ref2);
    rc_decref(never);
}

/* test_subclass_refs_with_cycle: the weak reference holding (through its
 * owner) the only strong reference to its referent dies first, so its
 * callback is not called. Here a holder's first slot keeps the weak
 * reference and its second the referent; release visits them in order. */
static void test_weakref_dies_before_referent(void)
{
    reset();
    Obj *holder = obj_new(9);
    Obj *o = obj_new(1);
    holder->s[0] = rc_weakref_new(o, log_cb, "cb");
    holder->s[1] = o; /* takes our reference */
    rc_decref(holder);
    CHECK_EQ(obj_destroyed, 2);
    CHECK(strstr(events, "cb") == NULL);

    /* the other order: the weak reference still lives when o dies */
    events[0] = '\0';
    holder = obj_new(9);
    o = obj_new(1);
    holder->s[0] = o;
    holder->s[1] = rc_weakref_new(o, log_cb, "cb");
    rc_decref(holder);
    CHECK_EQ(obj_destroyed, 4);
    CHECK(strstr(events, "cb") != NULL);
}

/* An object holding a weak reference to itself: by reference counting the
 * reference is alive when the object dies (callback runs); in a garbage
 * cycle it is garbage itself (no callback). */
static void test_self_weakref(void)
{
    reset();
    Obj *o = obj_new(1);
    o->s[0] = rc_weakref_new(o, log_cb, "cb");
    rc_decref(o);
    CHECK_STREQ(events, "cb ~1");

    events[0] = '\0';
    o = obj_new(2);
    o->s[0] = rc_weakref_new(o, log_cb, "cb");
    rc_assign(&o->s[1], o);
    rc_decref(o);
    CHECK_EQ(rc_gc_collect(2), 2); /* o and its weak reference */
    CHECK_STREQ(events, "~2");
}

/* test_callback_in_cycle (test_callback_in_cycle_1): I holds J strongly and
 * a weak reference to J with a callback about I; J is in a self-cycle.
 * Everything is garbage, the weak reference too: no callback. */
static void test_callback_in_cycle(void)
{
    reset();
    Obj *I = obj_new(1), *J = obj_new(2);
    rc_assign(&J->s[0], J);
    rc_assign(&I->s[0], J);
    I->s[1] = rc_weakref_new(J, log_cb, "I.acallback");
    rc_assign(&I->s[2], I); /* I is in a cycle too (through its callback) */
    rc_decref(I);
    rc_decref(J);
    CHECK_STREQ(events, "");
    CHECK_EQ(rc_gc_collect(2), 3); /* I, J, the weak reference */
    CHECK_EQ(obj_destroyed, 2);
    CHECK(strstr(events, "acallback") == NULL);
}

/* test_callback_reachable_one_way (test_callback_in_cycle_3): c2 is in a
 * self-cycle and holds c1 and a weak reference to c1; c1 is reachable only
 * from c2. */
static void test_callback_reachable_one_way(void)
{
    reset();
    Obj *c1 = obj_new(1), *c2 = obj_new(2);
    rc_assign(&c2->s[0], c2);
    rc_assign(&c2->s[1], c1);
    c2->s[2] = rc_weakref_new(c1, log_cb, "c2.cb");
    rc_decref(c1);
    rc_decref(c2);
    CHECK_EQ(obj_destroyed, 0);
    CHECK_EQ(rc_gc_collect(2), 3);
    CHECK_EQ(obj_destroyed, 2);
    CHECK(strstr(events, "c2.cb") == NULL);
}

/* test_callback_different_classes (test_callback_in_cycle_4): as above,
 * with c1 of another type, one the collector does not track. */
static void test_callback_different_classes(void)
{
    reset();
    Obj *c1 = obj_new_of(&plain_type, 1), *c2 = obj_new(2);
    CHECK(!rc_gc_is_tracked(c1));
    rc_assign(&c2->s[0], c2);
    rc_assign(&c2->s[1], c1);
    c2->s[2] = rc_weakref_new(c1, log_cb, "c2.cb");
    rc_decref(c1);
    rc_decref(c2);
    CHECK_EQ(rc_gc_collect(2), 2); /* c2 and the weak reference; c1 dies by count */
    CHECK_EQ(obj_destroyed, 2);
    CHECK(strstr(events, "c2.cb") == NULL);
}

/* test_callback_in_cycle_resurrection: c1 <-> c2, each with a weak reference
 * to the other whose callback would resurrect its target; both reference
 * the "class" K, itself in a cycle, to which the test holds a weak
 * reference with callback. Only the external one's callback runs. */
static void *resurrected[4];
static size_t n_resurrected;

static void resurrect_cb(rc_weakref *ref, void *arg)
{
    (void)ref;
    ev("acallback");
    if (n_resurrected < 4)
        rc_assign(&resurrected[n_resurrected++], ((Obj *)arg)->s[0]);
}

static void test_callback_in_cycle_resurrection(void)
{
    reset();
    n_resurrected = 0;
    Obj *K = obj_new(0), *c1 = obj_new(1), *c2 = obj_new(2);
    rc_assign(&K->s[0], K);
    rc_assign(&c1->s[0], c2);
    rc_assign(&c2->s[0], c1);
    rc_assign(&c1->s[1], K);
    rc_assign(&c2->s[1], K);
    c1->s[2] = rc_weakref_new(c2, resurrect_cb, c1);
    c2->s[2] = rc_weakref_new(c1, resurrect_cb, c2);
    rc_weakref *wr = rc_weakref_new(K, log_cb, "C went away");
    rc_decref(c1);
    rc_decref(c2);
    rc_decref(K);
    CHECK_STREQ(events, "");       /* dropping is not enough */
    CHECK_EQ(rc_gc_collect(2), 5); /* K, c1, c2, c1's and c2's weak references */
    CHECK_EQ(n_resurrected, 0);
    CHECK(strstr(events, "C went away") == events); /* first, before any ~ */
    CHECK(strstr(events, "acallback") == NULL);
    CHECK_EQ(obj_destroyed, 3);
    CHECK(rc_weakref_get(wr) == NULL);
    events[0] = '\0';
    CHECK_EQ(rc_gc_collect(2), 0);
    CHECK_STREQ(events, "");
    for (size_t i = 0; i < n_resurrected; i++)
        rc_assign(&resurrected[i], NULL);
    rc_decref(wr);
}

/* test_callbacks_on_callback: weak references whose callbacks belong to
 * cyclic garbage never call back; a weak reference held from outside to
 * the (garbage) "bound method" object does. */
static void test_callbacks_on_callback(void)
{
    reset();
    Obj *c = obj_new(1), *d = obj_new(2);
    Obj *callback = obj_new(3); /* c.cb: the bound method, holding c */
    rc_assign(&c->s[0], d);
    rc_assign(&d->s[0], c);
    rc_assign(&callback->s[0], c);
    c->s[1] = rc_weakref_new(d, log_cb, "cb called");        /* won't trigger */
    rc_assign(&c->s[2], callback);                           /* c.wr holds its callback */
    d->s[1] = rc_weakref_new(callback, log_cb, "cb called"); /* ditto */
    rc_weakref *external_wr = rc_weakref_new(callback, log_cb, "safe_callback called");
    void *got = rc_weakref_get(external_wr);
    CHECK(got == callback);
    rc_decref(got);
    rc_decref(callback);
    rc_decref(c);
    rc_decref(d);
    CHECK_STREQ(events, "");
    CHECK_EQ(rc_gc_collect(2), 5); /* c, d, callback, two weak references */
    CHECK(strstr(events, "safe_callback called") == events);
    CHECK(strstr(events, "cb called") == NULL);
    CHECK(rc_weakref_get(external_wr) == NULL);
    events[0] = '\0';
    CHECK_EQ(rc_gc_collect(2), 0);
    CHECK_STREQ(events, "");
    rc_decref(external_wr);
}

/* A callback that drops another weak reference still waiting for its own
 * callback: that one still runs (the pending chain holds it), and both
 * are freed afterwards without error. */
static rc_weakref *to_drop;

static void drop_other_cb(rc_weakref *ref, void *arg)
{
    (void)ref;
    ev(arg);
    rc_decref(to_drop); /* the test's only reference */
    to_drop = NULL;
}

static void drop_self_cb(rc_weakref *ref, void *arg)
{
    ev(arg);
    rc_decref(ref); /* the reference the test handed over */
}

static void test_callback_drops_pending_weakref(void)
{
    reset();
    Obj *o = obj_new(1);
    rc_weakref *older = rc_weakref_new(o, log_cb, "older");
    rc_weakref *newer = rc_weakref_new(o, drop_other_cb, "newer");
    to_drop = older;
    rc_decref(o);
    CHECK_STREQ(events, "newer older ~1");
    CHECK_EQ(cb_calls, 1);
    CHECK(cb_ref == older);
    CHECK(to_drop == NULL);
    rc_decref(newer);

    /* the same at cycle collection */
    reset();
    o = obj_new(2);
    rc_assign(&o->s[0], o);
    older = rc_weakref_new(o, log_cb, "older");
    newer = rc_weakref_new(o, drop_other_cb, "newer");
    to_drop = older;
    rc_decref(o);
    CHECK_EQ(rc_gc_collect(2), 1);
    CHECK_STREQ(events, "newer older ~2");
    CHECK(cb_ref == older);
    rc_decref(newer);

    /* a callback dropping the last reference to its own weak reference */
    reset();
    o = obj_new(3);
    rc_weakref_new(o, drop_self_cb, "self"); /* owned by the callback */
    rc_decref(o);
    CHECK_STREQ(events, "self ~3");
}

/* A callback that makes new objects and new weak references to them (with
 * callbacks that run later), at a refcount death and at a collection. */
static Obj *made_in_cb;
static rc_weakref *made_ref;

static void create_cb(rc_weakref *ref, void *arg)
{
    (void)ref;
    ev(arg);
    made_in_cb = obj_new(50);
    made_ref = rc_weakref_new(made_in_cb, log_cb, "made-cb");
    rc_weakref *shared = rc_weakref_new(made_in_cb, NULL, NULL);
    rc_decref(shared);
}

static void test_callback_creates_objects(void)
{
    reset();
    Obj *o = obj_new(1);
    rc_weakref *r = rc_weakref_new(o, create_cb, "create");
    rc_decref(o);
    CHECK(made_in_cb != NULL && made_ref != NULL);
    CHECK_EQ(rc_weakref_count(made_in_cb), 1);
    CHECK(rc_weakref_alive(made_ref));
    rc_decref(made_in_cb);
    CHECK_STREQ(events, "create ~1 made-cb ~50");
    rc_decref(made_ref);
    rc_decref(r);

    events[0] = '\0';
    o = obj_new(2);
    rc_assign(&o->s[0], o);
    r = rc_weakref_new(o, create_cb, "create");
    rc_decref(o);
    CHECK_EQ(rc_gc_collect(2), 1);
    CHECK(rc_weakref_alive(made_ref));
    rc_assign(&made_in_cb->s[0], made_in_cb); /* garbage for the next collection */
    rc_decref(made_in_cb);
    CHECK_EQ(rc_gc_collect(2), 1);
    CHECK_STREQ(events, "create ~2 made-cb ~50");
    rc_decref(made_ref);
    rc_decref(r);
}

/* test_sf_bug_840829 and test_callback_gcs: a callback that runs a
 * collection in the middle of a deallocation (the dying objects must not be
 * seen by it), and one that asks for a collection while one runs (it does
 * nothing and returns 0). */
static long collect_in_cb_result;

static void collect_cb(rc_weakref *ref, void *arg)
{
    (void)ref;
    ev(arg);
    collect_in_cb_result = rc_gc_collect(2);
}

static void make_garbage_pair(long id)
{
    Obj *x = obj_new(id), *y = obj_new(id + 1);
    rc_assign(&x->s[0], y);
    rc_assign(&y->s[0], x);
    rc_decref(x);
    rc_decref(y);
}

static void test_callback_collects(void)
{
    reset();
    make_garbage_pair(100);
    Obj *c = obj_new(1);
    rc_weakref *wr = rc_weakref_new(c, collect_cb, "collect");
    collect_in_cb_result = -1;
    rc_decref(c);
    CHECK_EQ(collect_in_cb_result, 2);
    CHECK_EQ(obj_destroyed, 3);
    rc_decref(wr);

    /* second part: c2 -> c1 -> c1.i, the weak reference is to c1.i */
    reset();
    Obj *c1 = obj_new(1);
    c1->s[0] = obj_new(2);
    wr = rc_weakref_new(c1->s[0], collect_cb, "collect");
    Obj *c2 = obj_new(3);
    rc_assign(&c2->s[0], c1);
    rc_decref(c1);
    make_garbage_pair(100);
    collect_in_cb_result = -1;
    rc_decref(c2);
    CHECK_EQ(collect_in_cb_result, 2);
    CHECK_EQ(obj_destroyed, 5);
    CHECK_EQ(rc_gc_collect(2), 0);
    rc_decref(wr);

    /* test_callback_gcs: the object has a finalizer */
    reset();
    Obj *x = obj_new_of(&with_del_type, 1);
    wr = rc_weakref_new(x, collect_cb, "collect");
    collect_in_cb_result = -1;
    rc_decref(x);
    CHECK_EQ(del_calls, 1);
    CHECK_EQ(collect_in_cb_result, 0);
    CHECK_EQ(obj_destroyed, 1);
    rc_decref(wr);

    /* a callback run by the collector: its collection does nothing */
    reset();
    x = obj_new(1);
    rc_assign(&x->s[0], x);
    wr = rc_weakref_new(x, collect_cb, "collect");
    rc_decref(x);
    make_garbage_pair(100);
    collect_in_cb_result = -1;
    CHECK_EQ(rc_gc_collect(2), 3);
    CHECK_EQ(collect_in_cb_result, 0);
    CHECK_EQ(obj_destroyed, 3);
    rc_decref(wr);
}

/* check_gc_during_creation (test_gc_during_ref_creation): making a weak
 * reference runs an automatic collection that frees a garbage cycle
 * holding the object's shared weak reference. */
static void test_gc_during_ref_creation(void)
{
    reset();
    rc_gc_disable();
    Obj *referenced = obj_new(1);
    Obj *a = obj_new(2);
    rc_assign(&a->s[0], a);
    a->s[1] = rc_weakref_new(referenced, NULL, NULL);
    rc_decref(a); /* a and its weak reference are cyclic garbage */
    rc_gc_stats before[3], after[3];
    rc_gc_get_stats(before);
    rc_gc_set_threshold(1, 1, 1);
    rc_gc_enable();
    rc_weakref *r = rc_weakref_new(referenced, log_cb, "cb");
    rc_gc_get_stats(after);
    rc_gc_set_threshold(2000, 10, 10);
    CHECK(r != NULL);
    CHECK_EQ(after[0].collections, before[0].collections + 1);
    CHECK_EQ(after[0].collected, before[0].collected + 2);
    CHECK_EQ(obj_destroyed, 1); /* a */
    CHECK(rc_weakref_alive(r));
    CHECK_EQ(rc_weakref_count(referenced), 1);
    rc_decref(referenced);
    CHECK_STREQ(events, "~2 cb ~1");
    rc_decref(r);
}

/* test_ref_created_during_del: a weak reference made in the object's
 * finalizer is cleared when the object then dies. */
static void test_ref_created_during_del(void)
{
    reset();
    ref_from_del = NULL;
    Obj *w = obj_new_of(&del_ref_type, 1);
    rc_decref(w);
    CHECK_EQ(del_calls, 1);
    CHECK_EQ(obj_destroyed, 1);
    CHECK(ref_from_del != NULL);
    CHECK(!rc_weakref_alive(ref_from_del));
    CHECK(rc_weakref_get(ref_from_del) == NULL);
    rc_decref(ref_from_del);
}

/* Resurrection by the type's finalize. At a refcount death finalize runs
 * before weak references are cleared, so a resurrected object keeps them;
 * at a collection they are cleared before finalizers run (gc.h steps 4-5),
 * so they die although the object lives on. */
static void test_weakref_to_resurrected(void)
{
    reset();
    void *holder = NULL;
    node_resurrect_into = &holder;
    Node *n = rc_new(&fin_node_type);
    n->value = 1;
    rc_weakref *r = rc_weakref_new(n, log_cb, "cb");
    rc_decref(n);
    CHECK_EQ(node_finalized, 1);
    CHECK(holder == n);
    CHECK(rc_weakref_alive(r));
    void *got = rc_weakref_get(r);
    CHECK(got == n);
    rc_decref(got);
    CHECK_STREQ(events, "");
    node_resurrect_into = NULL;
    rc_assign(&holder, NULL); /* finalize ran already: now it dies */
    CHECK_EQ(node_finalized, 1);
    CHECK_EQ(node_destroyed, 1);
    CHECK_STREQ(events, "cb");
    CHECK(!rc_weakref_alive(r));
    rc_decref(r);

    /* in a cycle */
    reset();
    holder = NULL;
    node_resurrect_into = &holder;
    n = rc_new(&fin_node_type);
    rc_assign(&n->a, n);
    r = rc_weakref_new(n, log_cb, "cb");
    rc_decref(n);
    CHECK_EQ(rc_gc_collect(2), 0); /* none freed: the resurrected are not counted */
    CHECK_EQ(node_finalized, 1);
    CHECK_EQ(node_destroyed, 0);
    CHECK(holder == n);
    CHECK_EQ(rc_refcount(n), 2); /* its self-reference and holder */
    CHECK_STREQ(events, "cb");
    CHECK(!rc_weakref_alive(r));
    CHECK_EQ(rc_weakref_count(n), 0);
    node_resurrect_into = NULL;
    rc_decref(r);
    rc_assign(&holder, NULL);
    CHECK_EQ(rc_gc_collect(2), 1);
    CHECK_EQ(node_finalized, 1);
    CHECK_EQ(node_destroyed, 1);
}

/* ==== FinalizeTestCase ==== */

typedef struct add_args {
    long x, y, z;
    long results[4];
    int n;
} add_args;

static void add(void *arg)
{
    add_args *a = arg;
    if (a->n < 4)
        a->results[a->n++] = a->x + a->y + a->z;
}

/* test_finalize: call, detach and death, each at most once. */
static void test_finalize(void)
{
    reset();
    Obj *a = obj_new(1);
    add_args args = {67, 43, 89, {0}, 0};
    rc_finalizer *f = rc_finalize(a, add, &args);
    CHECK(f != NULL);
    CHECK(rc_finalizer_alive(f));
    CHECK(rc_finalizer_atexit(f));
    CHECK_EQ(rc_refcount(f), 2); /* ours and the registry's */
    CHECK_EQ(rc_weakref_count(a), 1);
    CHECK(rc_finalizer_call(f));
    CHECK(!rc_finalizer_call(f));
    CHECK(!rc_finalizer_call(f));
    CHECK(!rc_finalizer_detach(f));
    CHECK(!rc_finalizer_alive(f));
    CHECK_EQ(args.n, 1);
    CHECK_EQ(args.results[0], 199);
    CHECK_EQ(rc_refcount(f), 1); /* the registry let go */
    CHECK_EQ(rc_weakref_count(a), 0);
    rc_decref(f);

    args.n = 0;
    f = rc_finalize(a, add, &args);
    CHECK(rc_finalizer_detach(f));
    CHECK(!rc_finalizer_call(f));
    CHECK(!rc_finalizer_call(f));
    CHECK(!rc_finalizer_detach(f));
    CHECK(!rc_finalizer_alive(f));
    CHECK_EQ(args.n, 0);
    CHECK_EQ(rc_weakref_count(a), 0);
    rc_decref(f);

    args.n = 0;
    f = rc_finalize(a, add, &args);
    rc_decref(a);
    CHECK_EQ(args.n, 1);
    CHECK_EQ(args.results[0], 199);
    CHECK(!rc_finalizer_call(f));
    CHECK(!rc_finalizer_call(f));
    CHECK(!rc_finalizer_detach(f));
    CHECK(!rc_finalizer_alive(f));
    CHECK_EQ(args.n, 1);
    rc_decref(f);
    CHECK(!rc_finalizer_alive(NULL));
    CHECK(!rc_finalizer_call(NULL));
    CHECK(!rc_finalizer_detach(NULL));
}

/* test_arg_errors: missing arguments give NULL and a message; a NULL arg
 * for the function is passed through. */
static void *seen_arg = (void *)1;

static void note_arg(void *arg) { seen_arg = arg; }

static void test_arg_errors(void)
{
    reset();
    Obj *a = obj_new(1);
    CHECK(rc_finalize(NULL, note_arg, a) == NULL);
    CHECK_STR_CONTAINS(rc_last_error(), "rc_finalize: obj is NULL");
    CHECK(rc_finalize(a, NULL, a) == NULL);
    CHECK_STR_CONTAINS(rc_last_error(), "rc_finalize: fn is NULL");
    Obj *imm = obj_new(2);
    rc_make_immortal(imm); /* weakref.h: it can never die */
    CHECK(rc_finalize(imm, note_arg, NULL) == NULL);
    CHECK_STR_CONTAINS(rc_last_error(), "immortal");
    CHECK_EQ(rc_weakref_count(a), 0);
    rc_finalizer *f = rc_finalize(a, note_arg, NULL);
    CHECK(f != NULL);
    CHECK(rc_finalizer_call(f));
    CHECK(seen_arg == NULL);
    rc_decref(f);
    rc_decref(a);
}

/* test_order: several finalizers on one object; handles dropped early keep
 * theirs registered; at death they run newest first. */
static void ev_fn(void *arg) { ev(arg); }

static void test_order(void)
{
    reset();
    Obj *a = obj_new(1);
    rc_finalizer *f1 = rc_finalize(a, ev_fn, "f1");
    rc_finalizer *f2 = rc_finalize(a, ev_fn, "f2");
    rc_finalizer *f3 = rc_finalize(a, ev_fn, "f3");
    rc_finalizer *f4 = rc_finalize(a, ev_fn, "f4");
    rc_finalizer *f5 = rc_finalize(a, ev_fn, "f5");
    rc_decref(f1); /* finalizers keep themselves alive */
    rc_decref(f4);
    CHECK(rc_finalizer_alive(f2));
    CHECK(rc_finalizer_alive(f3));
    CHECK(rc_finalizer_alive(f5));
    CHECK_EQ(rc_weakref_count(a), 5);
    CHECK(rc_finalizer_detach(f5));
    CHECK(!rc_finalizer_alive(f5));
    CHECK(!rc_finalizer_call(f5)); /* nothing: previously unregistered */
    ev("A");
    CHECK(rc_finalizer_call(f3));
    CHECK(!rc_finalizer_alive(f3));
    ev("B");
    CHECK(!rc_finalizer_call(f3)); /* nothing: previously called */
    ev("C");
    rc_decref(a); /* f4, f2, f1 */
    CHECK(!rc_finalizer_alive(f2));
    ev("D");
    CHECK(!rc_finalizer_call(f2));
    CHECK_STREQ(events, "A f3 B C f4 f2 f1 ~1 D");
    rc_decref(f2);
    rc_decref(f3);
    rc_decref(f5);
}

/* test_all_freed: once it ran, a finalizer whose handle was dropped is
 * freed (a weak reference to it dies). Also at a cycle collection. */
static void test_all_freed(void)
{
    reset();
    Obj *a = obj_new(1);
    rc_finalizer *f = rc_finalize(a, ev_fn, "123");
    rc_weakref *wr_f = rc_weakref_new(f, NULL, NULL);
    CHECK(wr_f != NULL);
    rc_decref(f);
    CHECK(rc_weakref_alive(wr_f)); /* the registry keeps it */
    rc_decref(a);
    CHECK_STREQ(events, "123 ~1");
    CHECK(!rc_weakref_alive(wr_f));
    rc_decref(wr_f);

    reset();
    a = obj_new(2);
    rc_assign(&a->s[0], a);
    f = rc_finalize(a, ev_fn, "456");
    wr_f = rc_weakref_new(f, NULL, NULL);
    rc_decref(f);
    rc_decref(a);
    CHECK_STREQ(events, "");
    CHECK_EQ(rc_gc_collect(2), 1); /* a; the finalizer is reachable (registry) */
    CHECK_STREQ(events, "456 ~2");
    CHECK(!rc_weakref_alive(wr_f));
    rc_decref(wr_f);
}

/* test_atexit: at heap destruction the live finalizers marked atexit run,
 * newest first, including one registered by a finalizer meanwhile; those
 * with atexit false do not run. Here on a heap made with rc_heap_new. */
static Obj *atexit_obj;

static void f3_error(void *arg)
{
    (void)arg;
    rc_finalizer *g1 = rc_finalize(atexit_obj, ev_fn, "g1");
    ev("f3 error");
    rc_decref(g1);
}

static void test_atexit(void)
{
    reset();
    rc_heap *h = rc_heap_new();
    CHECK(h != NULL);
    rc_heap *prev = rc_heap_use(h);
    CHECK(prev != NULL && prev != h);
    CHECK(rc_heap_current() == h);
    atexit_obj = obj_new(7);
    CHECK(rc_heap_of(atexit_obj) == h);
    Obj *dead_before = obj_new(8);
    rc_finalizer *f1 = rc_finalize(atexit_obj, ev_fn, "f1");
    rc_finalizer *f2 = rc_finalize(atexit_obj, ev_fn, "f2");
    rc_finalizer *f3 = rc_finalize(atexit_obj, f3_error, NULL);
    rc_finalizer *f4 = rc_finalize(atexit_obj, ev_fn, "f4");
    rc_finalizer *f5 = rc_finalize(dead_before, ev_fn, "f5");
    CHECK(rc_finalizer_atexit(f1));
    rc_finalizer_set_atexit(f2, false);
    CHECK(!rc_finalizer_atexit(f2));
    CHECK(rc_finalizer_atexit(f3));
    CHECK(rc_finalizer_atexit(f4));
    rc_decref(dead_before); /* f5 runs now, not again at exit */
    CHECK_STREQ(events, "f5 ~8");
    events[0] = '\0';
    rc_decref(f1);
    rc_decref(f2);
    rc_decref(f3);
    rc_decref(f4);
    rc_decref(f5);
    CHECK(rc_heap_use(prev) == h);
    rc_heap_destroy(h);
    /* the object is still alive at teardown: its destroy hook runs after
     * the finalizers */
    CHECK_STREQ(events, "f4 f3 error g1 f1 ~7");
    CHECK(rc_heap_current() == prev);
}

int main(void)
{
    test_basic_ref();
    test_immortal_refused();
    test_basic_callback();
    test_multiple_callbacks();
    test_shared_ref_without_callback();
    test_getweakrefcount();
    test_weakref_dies_before_referent();
    test_self_weakref();
    test_callback_in_cycle();
    test_callback_reachable_one_way();
    test_callback_different_classes();
    test_callback_in_cycle_resurrection();
    test_callbacks_on_callback();
    test_callback_drops_pending_weakref();
    test_callback_creates_objects();
    test_callback_collects();
    test_gc_during_ref_creation();
    test_ref_created_during_del();
    test_weakref_to_resurrected();
    test_finalize();
    test_arg_errors();
    test_order();
    test_all_freed();
    test_atexit();
    return check_report();
}
