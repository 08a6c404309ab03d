/* test_faults_objects: out-of-memory above the allocator, for objects,
 * weak references and finalizers.
 *
 * Each scenario is swept over the failure point: for n = 0, 1, 2, ... a
 * fresh heap is set up, the (n+1)-th system request of the scenario (arena
 * mappings, arena descriptors, large blocks, young lists, the collector's
 * scratch lists, the weak table) is made to fail, once, then again with
 * every later request failing too. Every call that fails must return NULL
 * with an "out of memory" message; afterwards, with injection off, the heap
 * must be fully usable: collections free exactly the garbage the scenario
 * left (destroy counts exact), reference counts are exact, and once
 * everything is dropped the heap's bytes in use are where they started. The
 * sweep stops at the first n the scenario's requests never reach. Leaks
 * show up under ASan (Debug tree) when each heap is destroyed.
 *
 * Scenarios: (a) many tracked objects while generation 0's list grows,
 * with automatic collection off and on; (c) weak references and finalizers
 * while the weak table grows; (e) large objects and large raw blocks, whose
 * failure runs one collection through the out-of-memory hook and retries.
 */
#include "faults.h"

/* ---- the sweep ---------------------------------------------------------- */
static size_t collections; /* counted by a gc callback at each stop */
/* Coverage, summed over a sweep: calls that failed, runs that left a young
 * list in overflow mode. */
static size_t overflow_runs;

static void count_collections(rc_gc_phase phase, const rc_gc_info *info, void *arg)
{
    (void)info, (void)arg;
    if (phase == RC_GC_STOP)
        collections++;
}

static void begin(void)
{
    faults_begin();
    collections = 0;
    CHECK_EQ(rc_gc_callback_add(count_collections, NULL), 0);
}

/* faults_disarm, counting runs that left a young list in overflow mode. */
static bool disarm(void)
{
    overflow_runs += heap->objects.young_overflow;
    return faults_disarm();
}

static void expect_oom(size_t *failed)
{
    CHECK_STR_CONTAINS(rc_last_error(), "out of memory");
    (*failed)++;
    total_failed++;
}

static void sweep(const char *name, scenario run, int variant)
{
    overflow_runs = 0;
    for (int sticky = 0; sticky < 2; sticky++) {
        long n = 0;
        total_failed = 0;
        while (n < 100000 && run(n, sticky, variant))
            n++;
        CHECK(n > 0 && n < 100000);
        if (sticky)
            CHECK(total_failed > 0); /* the scenario's calls did fail */
        printf("%-22s variant %d %-6s %3ld failure points, %4zu failed calls, "
               "%2zu young overflows\n",
               name, variant, sticky ? "sticky" : "once", n, total_failed, overflow_runs);
    }
}

/* ---- (a) many tracked objects ------------------------------------------- */

enum { A_PAIRS = 12000 }; /* 24000 objects of 48 bytes: two arenas */
static Node *kept[A_PAIRS];

/* 12000 pairs made with rc_new, each pair a cycle; every third pair is kept,
 * the rest dropped as garbage. Variant 0: the collector disabled (no
 * automatic collection at all, not even for memory); 1: on (threshold
 * 2000, and one collection before retrying a refused request). */
static bool scenario_new(long n, bool sticky, int gc_on)
{
    begin();
    if (!gc_on)
        rc_gc_disable();
    size_t created = 0, singles = 0, garbage = 0, nkept = 0, failed = 0;
    arm(n, sticky);
    /* each failed call runs a full collection: a few are enough */
    for (long i = 0; i < A_PAIRS && failed < 16; i++) {
        error_reset();
        Node *a = rc_new(&node_type);
        if (!a) {
            expect_oom(&failed);
            continue;
        }
        created++;
        error_reset();
        Node *b = rc_new(&node_type);
        if (!b) {
            expect_oom(&failed);
            rc_decref(a); /* dies at once */
            singles++;
            continue;
        }
        created++;
        a->value = i;
        b->value = -i;
        rc_assign(&a->a, b);
        rc_assign(&b->a, a);
        rc_decref(b);
        if (i % 3 == 0) {
            kept[nkept++] = a;
        } else {
            rc_decref(a);
            garbage += 2;
        }
    }
    size_t during = collections;
    bool reached = disarm();
    CHECK(failed == 0 || hit);
    if (!sticky)
        CHECK_EQ(failed, 0); /* one refusal: the retry works */
    if (!gc_on)
        CHECK_EQ(during, 0); /* disabled: the hook does not collect */
    CHECK_EQ(rc_gc_validate(heap), 0);

    /* every object made is tracked, kept pairs intact */
    size_t bad = 0;
    for (size_t k = 0; k < nkept; k++) {
        Node *a = kept[k], *b = a->a;
        bad += !rc_gc_is_tracked(a) || !rc_gc_is_tracked(b) || b->a != a;
        bad += rc_refcount(a) != 2 || rc_refcount(b) != 1 || a->value != -b->value;
    }
    CHECK_EQ(bad, 0);

    /* collections free exactly the garbage left: all of it by collecting
     * generation 0 when no collection ran meanwhile */
    size_t d = node_destroyed;
    CHECK(d >= singles && d <= singles + garbage);
    if (during == 0) {
        CHECK_EQ(d, singles);
        CHECK_EQ(rc_gc_collect(0), garbage);
    }
    long r = rc_gc_collect(0);
    r += rc_gc_collect(1);
    r += rc_gc_collect(2);
    if (during == 0)
        CHECK_EQ(r, 0);
    else
        CHECK_EQ(d + r, singles + garbage);
    CHECK_EQ(node_destroyed, singles + garbage);
    CHECK_EQ(rc_gc_validate(heap), 0);

    for (size_t k = 0; k < nkept; k++)
        rc_decref(kept[k]);
    CHECK_EQ(rc_gc_collect(2), 2 * nkept);
    CHECK_EQ(node_destroyed, created);
    end();
    return reached;
}

/* ---- (c) weak references and finalizers --------------------------------- */

enum { W_OBJS = 1000, W_BEFORE = 100 };
static Node *wobj[W_OBJS];
static rc_weakref *wref[W_OBJS];
static rc_finalizer *wfin[W_OBJS];
static unsigned char cb_runs[W_OBJS], fin_runs[W_OBJS];

static void weak_callback(rc_weakref *ref, void *arg)
{
    CHECK(!rc_weakref_alive(ref));
    (*(unsigned char *)arg)++;
}

static void finalizer_fn(void *arg) { (*(unsigned char *)arg)++; }

static rc_weakref *make_ref(size_t i)
{
    /* odd: with a callback; even: the shared one */
    return rc_weakref_new(wobj[i], i % 2 ? weak_callback : NULL, i % 2 ? &cb_runs[i] : NULL);
}

/* 1000 objects; weak references to the first 100 before injection, then
 * to the rest and a finalizer for each while the weak table grows (64,
 * 128, ... 2048 slots). A failure leaves the object as it was, without a
 * new weak reference; the ones made earlier stay intact. */
static bool scenario_weak(long n, bool sticky, int variant)
{
    (void)variant;
    begin();
    memset(cb_runs, 0, sizeof cb_runs);
    memset(fin_runs, 0, sizeof fin_runs);
    for (size_t i = 0; i < W_OBJS; i++) {
        wobj[i] = node_new((long)i);
        wref[i] = NULL;
        wfin[i] = NULL;
    }
    for (size_t i = 0; i < W_BEFORE; i++)
        CHECK((wref[i] = make_ref(i)) != NULL);
    size_t failed = 0;

    arm(n, sticky);
    for (size_t i = W_BEFORE; i < W_OBJS; i++) {
        error_reset();
        if (!(wref[i] = make_ref(i))) {
            expect_oom(&failed);
            CHECK_EQ(rc_weakref_count(wobj[i]), 0);
        } else if (i % 2 == 0) {
            rc_weakref *again = make_ref(i); /* shared: needs no memory */
            CHECK(again == wref[i]);
            rc_decref(again);
        }
        error_reset();
        if (!(wfin[i] = rc_finalize(wobj[i], finalizer_fn, &fin_runs[i])))
            expect_oom(&failed);
        else
            CHECK(rc_finalizer_alive(wfin[i]));
    }
    bool reached = disarm();
    CHECK(failed == 0 || hit);
    if (!sticky)
        CHECK(failed <= 1);

    size_t bad = 0;
    for (size_t i = 0; i < W_OBJS; i++) {
        bad += rc_refcount(wobj[i]) != 1 || wobj[i]->value != (long)i;
        bad += rc_weakref_count(wobj[i]) != (size_t)(wref[i] != NULL) + (wfin[i] != NULL);
        if (wref[i]) {
            void *o = rc_weakref_get(wref[i]);
            bad += o != wobj[i] || !rc_weakref_alive(wref[i]);
            rc_decref(o);
        }
    }
    CHECK_EQ(bad, 0);
    /* the objects that failed take weak references now */
    for (size_t i = W_BEFORE; i < W_OBJS; i++) {
        if (!wref[i])
            CHECK((wref[i] = make_ref(i)) != NULL);
        if (!wfin[i])
            CHECK((wfin[i] = rc_finalize(wobj[i], finalizer_fn, &fin_runs[i])) != NULL);
    }
    /* each callback and finalizer runs once, when its object dies */
    for (size_t i = 0; i < W_OBJS; i++)
        rc_decref(wobj[i]);
    CHECK_EQ(node_destroyed, W_OBJS);
    for (size_t i = 0; i < W_OBJS; i++) {
        bad += cb_runs[i] != (i % 2 ? 1 : 0);
        bad += fin_runs[i] != (i >= W_BEFORE ? 1 : 0);
        bad += rc_weakref_alive(wref[i]) || rc_finalizer_alive(wfin[i]);
        rc_decref(wref[i]);
        rc_decref(wfin[i]);
    }
    CHECK_EQ(bad, 0);
    end();
    return reached;
}

/* ---- (e) large objects and blocks --------------------------------------- */

enum { BIG = 4000, BIGS = 8, E_PAIRS = 20 };

/* 20 garbage pairs for the collector, then 8 objects with 4000 extra bytes
 * and 8 raw blocks of 5000 bytes (large: the system allocator). A refused
 * request runs one collection through the out-of-memory hook (seen by a gc
 * callback, which also sees the garbage freed) and retries once. */
static bool scenario_large(long n, bool sticky, int variant)
{
    (void)variant;
    begin();
    rc_gc_set_threshold(0, 10, 10); /* collections come from the hook alone */
    for (long i = 0; i < E_PAIRS; i++) {
        Node *a = node_new(i), *b = node_new(i);
        rc_assign(&a->a, b);
        rc_assign(&b->a, a);
        rc_decref(a);
        rc_decref(b);
    }
    Node *big[BIGS];
    unsigned char *raw[BIGS];
    size_t failed = 0, made = 0;
    arm(n, sticky);
    for (int i = 0; i < BIGS; i++) {
        error_reset();
        big[i] = rc_new_var(&node_type, BIG);
        if (!big[i]) {
            expect_oom(&failed);
            CHECK_STR_CONTAINS(rc_last_error(), "malloc of");
        } else {
            made++;
        }
        error_reset();
        raw[i] = rc_malloc(5000);
        if (!raw[i]) {
            expect_oom(&failed);
            CHECK_STR_CONTAINS(rc_last_error(), "malloc of");
        }
    }
    bool reached = disarm();
    if (!sticky) {
        /* the one refused request: a collection, and the retry worked */
        CHECK_EQ(failed, 0);
        CHECK_EQ(collections, hit ? 1 : 0);
    } else {
        /* each failed call ran exactly one collection */
        CHECK_EQ(collections, failed);
    }
    if (collections && !sticky)
        CHECK_EQ(node_destroyed, 2 * E_PAIRS); /* the hook's collection freed them */
    size_t bad = 0;
    for (int i = 0; i < BIGS; i++) {
        if (big[i]) {
            const unsigned char *body = (const unsigned char *)big[i];
            for (size_t k = sizeof(Node); k < sizeof(Node) + BIG; k += 97)
                bad += body[k] != 0;
            bad += !rc_gc_is_tracked(big[i]) || rc_refcount(big[i]) != 1;
        }
        if (raw[i])
            memset(raw[i], 0xab, 5000);
    }
    CHECK_EQ(bad, 0);
    rc_alloc_stats s = {.struct_size = sizeof s};
    rc_heap_stats(heap, &s);
    size_t raws = 0;
    for (int i = 0; i < BIGS; i++)
        raws += raw[i] != NULL;
    CHECK_EQ(s.large_blocks, made + raws);

    /* the rest of the garbage goes with one collection */
    size_t d = node_destroyed;
    CHECK_EQ(rc_gc_collect(2), 2 * E_PAIRS - d);
    CHECK_EQ(node_destroyed, 2 * E_PAIRS);
    for (int i = 0; i < BIGS; i++) {
        rc_decref(big[i]);
        rc_free(raw[i]);
    }
    CHECK_EQ(node_destroyed, 2 * E_PAIRS + made);
    end();
    return reached;
}

int main(void)
{
    error_reset();
    CHECK_STR_CONTAINS(rc_last_error(), "invalid generation");
    sweep("rc_new, gc off", scenario_new, 0);
    CHECK(overflow_runs > 0); /* young list growth failed and was survived */
    sweep("rc_new, gc on", scenario_new, 1);
    sweep("weakrefs, finalizers", scenario_weak, 0);
    sweep("large objects", scenario_large, 0);
    return check_report();
}
