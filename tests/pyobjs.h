/* pyobjs.h: Python-like objects for the tests that restate CPython's
 * Lib/test/test_gc.py and Lib/test/test_finalization.py.
 *
 * An Obj has a tag (its "id" in the logs), an optional side effect its
 * finalize runs (what a Python subclass's __del__ would do), and n reference
 * slots (a list, tuple, dict or instance __dict__ all become "an object
 * holding n references"). The types differ only in what the collector sees:
 *
 *   obj_type      a container without finalizer (list, dict, plain instance)
 *   fin_type      a container with a PEP 442 finalizer (class with __del__)
 *   legacy_type   a container with a legacy finalizer (tp_del): uncollectable
 *                 in a cycle
 *   nongc_type    finalizer but no traverse: never tracked (without_gc)
 *
 * Every finalize and destroy is logged in order, and every finalize checks
 * that the object was not cleared before it ran (its slots_at_birth count
 * of non-NULL references may only drop through the object's own side
 * effect). Survivors are the objects a finalizer resurrected, held by the
 * test as CPython's class-wide `survivors` list holds them.
 */
#ifndef RC_TEST_PYOBJS_H
#define RC_TEST_PYOBJS_H

#include <reclaim.h>
#include <string.h>

typedef struct Obj Obj;
typedef void (*obj_effect)(Obj *self);

struct Obj {
    long tag;
    obj_effect side_effect; /* run by finalize, as SimpleBase.side_effect */
    long scratch;           /* free for the tests (counters, flags) */
    long sealed_refs;       /* non-NULL slots at obj_seal; -1: not sealed */
    size_t n;
    void *slot[];
};

enum { LOG_MAX = 4096 };
static long fin_log[LOG_MAX];
static size_t fin_len;
static long destroy_log[LOG_MAX];
static size_t destroy_len;
static size_t finalize_errors; /* a finalizer saw a broken object */
static void *survivors[LOG_MAX];
static size_t survivor_len;

static inline void obj_traverse(void *self, rc_visit_fn visit, void *arg)
{
    Obj *o = self;
    for (size_t i = 0; i < o->n; i++)
        visit(&o->slot[i], arg);
}

static inline void obj_finalize(void *self)
{
    Obj *o = self;
    if (fin_len < LOG_MAX)
        fin_log[fin_len] = o->tag;
    fin_len++; /* counts beyond what the log keeps */
    /* check_sanity: the object is alive and its references are where they
     * were when sealed (the collector clears nothing before every
     * finalizer ran; only an object's own side effect changes its slots) */
    long refs = 0;
    for (size_t i = 0; i < o->n; i++)
        refs += o->slot[i] != NULL;
    if (rc_refcount(o) == 0 || (o->sealed_refs >= 0 && refs != o->sealed_refs))
        finalize_errors++;
    if (o->side_effect)
        o->side_effect(o);
}

static inline void obj_destroy(void *self)
{
    Obj *o = self;
    if (destroy_len < LOG_MAX)
        destroy_log[destroy_len] = o->tag;
    destroy_len++;
}

static const rc_type obj_type = {
    .name = "Obj", .size = sizeof(Obj), .traverse = obj_traverse, .destroy = obj_destroy};
static const rc_type fin_type = {.name = "FinObj",
                                 .size = sizeof(Obj),
                                 .traverse = obj_traverse,
                                 .finalize = obj_finalize,
                                 .destroy = obj_destroy};
static const rc_type legacy_type = {.name = "Legacy",
                                    .size = sizeof(Obj),
                                    .traverse = obj_traverse,
                                    .finalize = obj_finalize,
                                    .destroy = obj_destroy,
                                    .flags = RC_TYPE_LEGACY_FINALIZE};
static const rc_type nongc_type = {
    .name = "NonGC", .size = sizeof(Obj), .finalize = obj_finalize, .destroy = obj_destroy};

/* A new object of type with n (zeroed) slots. */
static inline Obj *obj_new(const rc_type *type, long tag, size_t n)
{
    Obj *o = rc_new_var(type, n * sizeof(void *));
    if (o) {
        o->tag = tag;
        o->n = n;
        o->sealed_refs = -1;
    }
    return o;
}

/* Records o's references as the ones its finalizer must find intact. */
static inline void obj_seal(Obj *o)
{
    o->sealed_refs = 0;
    for (size_t i = 0; i < o->n; i++)
        o->sealed_refs += o->slot[i] != NULL;
}

/* o.slot[i] = value (the safe store). */
static inline void obj_set(Obj *o, size_t i, void *value) { rc_assign(&o->slot[i], value); }

/* Side effects for finalize, as the CPython test classes define them. */
static inline void effect_resurrect(Obj *self) /* survivors.append(self) */
{
    if (survivor_len < LOG_MAX)
        survivors[survivor_len++] = rc_incref(self);
}

static inline void effect_suicide(Obj *self) /* self.ref = None: break the cycle */
{
    self->scratch = 1; /* "suicided" */
    for (size_t i = 0; i < self->n; i++)
        obj_set(self, i, NULL);
}

static inline void survivors_clear(void)
{
    size_t n = survivor_len;
    survivor_len = 0;
    for (size_t i = 0; i < n; i++)
        rc_decref(survivors[i]);
}

static inline void logs_reset(void)
{
    fin_len = destroy_len = 0;
    finalize_errors = 0;
}

/* How many times tag appears in a log (of len entries, of which the
 * first LOG_MAX are kept). */
static inline size_t log_count(const long *log, size_t len, long tag)
{
    size_t k = 0;
    for (size_t i = 0; i < len && i < LOG_MAX; i++)
        k += log[i] == tag;
    return k;
}

/* True if the log holds exactly the tags (each once), in any order: the
 * C form of assertEqual(sorted(del_calls), sorted(ids)). */
static inline bool log_is_set(const long *log, size_t len, const long *tags, size_t ntags)
{
    if (len != ntags || len > LOG_MAX)
        return false;
    for (size_t i = 0; i < ntags; i++)
        if (log_count(log, len, tags[i]) != 1)
            return false;
    return true;
}

/* The same for the survivors' tags. */
static inline bool survivors_are(const long *tags, size_t ntags)
{
    long got[LOG_MAX];
    for (size_t i = 0; i < survivor_len; i++)
        got[i] = ((Obj *)survivors[i])->tag;
    return log_is_set(got, survivor_len, tags, ntags);
}

/* A single object tagged 1 is gone for good: finalized once, destroyed
 * once, not among the survivors, and its weak reference wr (if any) dead.
 * CPython's assert_del_calls(ids), assert_survivors([]) and
 * assertIs(wr(), None) together. */
static inline bool died_once(const rc_weakref *wr)
{
    long ids[] = {1};
    return log_is_set(fin_log, fin_len, ids, 1) && survivor_len == 0 && destroy_len == 1 &&
           !rc_weakref_alive(wr);
}

/* The object tagged 1 was finalized once and resurrected itself (CPython's
 * assert_del_calls(ids) and assert_survivors(ids)). */
static inline bool resurrected_once(void)
{
    long ids[] = {1};
    return log_is_set(fin_log, fin_len, ids, 1) && survivors_are(ids, 1);
}

/* How many lines of text (debug output) begin with prefix. */
static inline size_t count_lines(const char *text, const char *prefix)
{
    size_t n = 0;
    for (const char *p = text; p && (p = strstr(p, prefix)) != NULL; p++)
        n += p == text || p[-1] == '\n';
    return n;
}

/* Whether obj is among the tracked objects of a generation (get_objects). */
typedef struct find_arg {
    const void *target;
    size_t seen;
    size_t hits;
} find_arg;

static inline bool find_visit(void *obj, void *arg)
{
    find_arg *f = arg;
    f->seen++;
    if (obj == f->target)
        f->hits++;
    return true;
}

static inline size_t gen_holds(int generation, const void *obj)
{
    find_arg f = {obj, 0, 0};
    rc_gc_for_each_object(generation, find_visit, &f);
    return f.hits;
}

static inline size_t gen_size(int generation)
{
    find_arg f = {NULL, 0, 0};
    rc_gc_for_each_object(generation, find_visit, &f);
    return f.seen;
}

/* A clean start, as CPython's setUp/preclean: no garbage from earlier
 * tests, empty logs, automatic collection off. */
static inline void fresh(void)
{
    rc_gc_disable();
    rc_gc_set_debug(0);
    survivors_clear();
    rc_gc_garbage_clear();
    rc_gc_collect(2);
    rc_gc_garbage_clear();
    rc_gc_collect(2);
    logs_reset();
}

#endif
