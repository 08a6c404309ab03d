/* test_threads.c: heaps and threads (alloc.h's policy).
 *
 *  - two threads with their own heaps (one made with rc_heap_new, one the
 *    implicit heap) allocate raw blocks and collect cyclic garbage in
 *    parallel, with exact counts, and end with their heaps as they began;
 *  - threads free each other's raw blocks (the remote-free list) while the
 *    owners allocate; each owner's statistics then count them returned;
 *  - a heap handed from one thread to another and back;
 *  - dropping the last reference to an object of a heap owned by another
 *    thread, taking a heap another thread owns and destroying it stop the
 *    process; dropping it while the heap is owned by no thread is allowed
 *    and takes the heap for the duration;
 *  - a thread's implicit heap is destroyed when the thread exits (its
 *    finalizers run then, on that thread), unless another thread took it.
 *
 * Threads never call CHECK (the harness's counters are not shared safely):
 * they record what they saw, and the main thread checks after joining. */
#include "check.h"

#include <pthread.h>
#include <reclaim.h>
#include <semaphore.h>
#include <stdatomic.h>

typedef struct TNode {
    void *a, *b;
    long v;
} TNode;

static _Thread_local long t_destroyed; /* destroy calls on this thread */
static atomic_long g_destroyed;        /* on any thread */

static void tnode_traverse(void *self, rc_visit_fn visit, void *arg)
{
    TNode *n = self;
    visit(&n->a, arg);
    visit(&n->b, arg);
}

static void tnode_destroy(void *self)
{
    (void)self;
    t_destroyed++;
    atomic_fetch_add(&g_destroyed, 1);
}

static const rc_type tnode_type = {
    .name = "TNode", .size = sizeof(TNode), .traverse = tnode_traverse, .destroy = tnode_destroy};

static TNode *tnode(long v)
{
    TNode *n = rc_new(&tnode_type);
    n->v = v;
    return n;
}

static uint64_t next_rand(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* The heap's statistics; every figure (size_t)-1 if the call fails. */
static rc_alloc_stats stats_of(rc_heap *heap)
{
    rc_alloc_stats st = {.struct_size = sizeof st};
    if (rc_heap_stats(heap, &st) != 0)
        memset(&st, 0xFF, sizeof st);
    return st;
}

/* ---- 1. two heaps in parallel ---- */

enum { ROUNDS = 400, NBLOCKS = 48 };

typedef struct worker {
    int id;
    bool explicit_heap;
    rc_heap *heap;
    bool had_heap, current_ok;
    long expected, collected, bad_collects, bad_destroyed, bad_blocks;
    size_t in_use_start, in_use_end;
} worker;

/* Both workers hold their heaps at once (else a heap freed by a finished
 * worker could come back at the same address for the other). */
static pthread_barrier_t both_have_heaps;

static void *parallel_worker(void *arg)
{
    worker *w = arg;
    if (w->explicit_heap) {
        w->heap = rc_heap_new();
        w->had_heap = rc_heap_use(w->heap) != NULL;
    } else {
        w->heap = rc_heap_current();
    }
    pthread_barrier_wait(&both_have_heaps);
    w->current_ok = rc_heap_current() == w->heap;
    rc_gc_disable(); /* only our collections: exact counts */
    w->in_use_start = stats_of(NULL).bytes_in_use;
    uint64_t seed = 0x9E3779B97F4A7C15u + (uint64_t)w->id;
    TNode *keep = NULL; /* one survivor a round, in a chain */
    for (long r = 0; r < ROUNDS; r++) {
        unsigned char *blk[NBLOCKS];
        size_t sz[NBLOCKS];
        for (int i = 0; i < NBLOCKS; i++) {
            sz[i] = 1 + next_rand(&seed) % (i % 8 == 0 ? 3000 : 300);
            blk[i] = rc_malloc(sz[i]);
            if (!blk[i] || rc_heap_of(blk[i]) != w->heap || rc_usable_size(blk[i]) < sz[i]) {
                w->bad_blocks++;
                continue;
            }
            memset(blk[i], (w->id * 31 + i) & 0xff, sz[i]);
        }
        for (int i = 0; i < NBLOCKS; i++)
            for (size_t j = 0; blk[i] && j < sz[i]; j++)
                if (blk[i][j] != ((w->id * 31 + i) & 0xff)) {
                    w->bad_blocks++;
                    break;
                }
        for (int i = 1; i < NBLOCKS; i += 2)
            rc_free(blk[i]);
        for (int i = 0; i < NBLOCKS; i += 2)
            rc_free(blk[i]);

        long n = 5 + r % 40; /* a ring with chords */
        TNode *first = tnode(0), *prev = first;
        for (long i = 1; i < n; i++) {
            TNode *t = tnode(i);
            rc_assign(&prev->a, t);
            rc_decref(t);
            prev = t;
        }
        rc_assign(&prev->a, first);
        rc_assign(&prev->b, prev);
        rc_assign(&first->b, first->a);
        TNode *s = tnode(-1);
        s->a = keep; /* takes over our reference to the chain */
        keep = s;
        rc_decref(first);
        long before = t_destroyed;
        long got = rc_gc_collect((int)(r % 3));
        if (got != n)
            w->bad_collects++;
        if (t_destroyed - before != n)
            w->bad_destroyed++;
        w->expected += n;
        w->collected += got;
    }
    long before = t_destroyed;
    rc_decref(keep);
    if (t_destroyed - before != ROUNDS)
        w->bad_destroyed++;
    if (rc_gc_collect(2) != 0)
        w->bad_collects++;
    w->in_use_end = stats_of(NULL).bytes_in_use;
    if (w->explicit_heap) {
        rc_heap_use(NULL);
        rc_heap_destroy(w->heap);
    }
    return NULL;
}

static void test_parallel_heaps(void)
{
    worker w[2] = {{.id = 0, .explicit_heap = true}, {.id = 1, .explicit_heap = false}};
    pthread_t t[2];
    pthread_barrier_init(&both_have_heaps, NULL, 2);
    for (int i = 0; i < 2; i++)
        CHECK_EQ(pthread_create(&t[i], NULL, parallel_worker, &w[i]), 0);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    pthread_barrier_destroy(&both_have_heaps);
    CHECK(w[0].heap != NULL && w[1].heap != NULL && w[0].heap != w[1].heap);
    for (int i = 0; i < 2; i++) {
        CHECK(!w[i].had_heap);
        CHECK(w[i].current_ok);
        CHECK_EQ(w[i].bad_blocks, 0);
        CHECK_EQ(w[i].bad_collects, 0);
        CHECK_EQ(w[i].bad_destroyed, 0);
        CHECK_EQ(w[i].collected, w[i].expected);
        CHECK_EQ(w[i].in_use_start, 0);
        CHECK_EQ(w[i].in_use_end, w[i].in_use_start);
    }
}

/* ---- 2. remote frees ---- */

enum { XROUNDS = 200, XBLOCKS = 64 };

typedef struct xfer {
    int id;
    pthread_barrier_t *barrier;
    void *mine[XBLOCKS];
    struct xfer *other;
    rc_heap *heap;
    size_t in_use_base, remote_base, remote_end, in_use_end;
    long bad;
} xfer;

static void *remote_worker(void *arg)
{
    xfer *x = arg;
    x->heap = rc_heap_current();
    rc_alloc_stats base = stats_of(NULL);
    x->in_use_base = base.bytes_in_use;
    x->remote_base = base.remote_frees;
    uint64_t seed = 77 + (uint64_t)x->id;
    for (int r = 0; r < XROUNDS; r++) {
        for (int i = 0; i < XBLOCKS; i++) {
            size_t size = 1 + next_rand(&seed) % (i % 16 == 0 ? 2000 : 500);
            x->mine[i] = rc_malloc(size);
            if (!x->mine[i])
                x->bad++;
            else
                memset(x->mine[i], 0xA5, size);
        }
        pthread_barrier_wait(x->barrier); /* both batches made */
        for (int i = 0; i < XBLOCKS; i++) {
            rc_free(x->other->mine[i]); /* a block of the other heap: remote */
            /* meanwhile our own heap works (and drains its remote list) */
            void *churn = rc_malloc(1 + next_rand(&seed) % 600);
            if (!churn || rc_heap_of(churn) != x->heap)
                x->bad++;
            rc_free(churn);
        }
        pthread_barrier_wait(x->barrier); /* both batches freed */
    }
    rc_alloc_stats end = stats_of(NULL);
    x->remote_end = end.remote_frees;
    x->in_use_end = end.bytes_in_use;
    return NULL;
}

static void test_remote_free(void)
{
    pthread_barrier_t barrier;
    pthread_barrier_init(&barrier, NULL, 2);
    xfer x[2] = {{.id = 0, .barrier = &barrier}, {.id = 1, .barrier = &barrier}};
    x[0].other = &x[1];
    x[1].other = &x[0];
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        CHECK_EQ(pthread_create(&t[i], NULL, remote_worker, &x[i]), 0);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    pthread_barrier_destroy(&barrier);
    CHECK(x[0].heap != x[1].heap);
    for (int i = 0; i < 2; i++) {
        CHECK_EQ(x[i].bad, 0);
        CHECK_EQ(x[i].remote_base, 0);
        CHECK_EQ(x[i].remote_end, XROUNDS * XBLOCKS);
        CHECK_EQ(x[i].in_use_end, x[i].in_use_base);
    }
}

/* ---- 3. handing a heap over and back ---- */

enum { HELD = 10, PAIRS = 5 };

typedef struct handover {
    pthread_barrier_t barrier;
    rc_heap *heap;
    TNode *held[HELD];
    TNode *left_by_b;
    pthread_t a_thread, b_thread;
    /* what A saw */
    bool a_gave_up, a_took_back;
    long a_destroyed_own;
    /* what B saw */
    bool b_had_none, b_gave_back;
    long b_collected, b_destroyed;
} handover;

static pthread_t fin_thread;
static atomic_int fin_runs;

static void note_finalizer(void *arg)
{
    (void)arg;
    fin_thread = pthread_self();
    atomic_fetch_add(&fin_runs, 1);
}

static void *handover_a(void *arg)
{
    handover *h = arg;
    h->heap = rc_heap_new();
    rc_heap_use(h->heap);
    rc_gc_disable();
    for (int i = 0; i < HELD; i++)
        h->held[i] = tnode(i);
    rc_finalizer *f = rc_finalize(h->held[0], note_finalizer, NULL);
    rc_decref(f);
    for (int i = 0; i < PAIRS; i++) {
        TNode *x = tnode(100 + i), *y = tnode(200 + i);
        rc_assign(&x->a, y);
        rc_assign(&y->a, x);
        rc_decref(x);
        rc_decref(y);
    }
    h->a_gave_up = rc_heap_use(NULL) == h->heap;
    pthread_barrier_wait(&h->barrier); /* B takes it */
    pthread_barrier_wait(&h->barrier); /* B gave it back */
    h->a_took_back = rc_heap_use(h->heap) == NULL;
    long before = t_destroyed;
    rc_decref(h->left_by_b);
    h->a_destroyed_own = t_destroyed - before;
    rc_heap_use(NULL);
    rc_heap_destroy(h->heap);
    return NULL;
}

static void *handover_b(void *arg)
{
    handover *h = arg;
    pthread_barrier_wait(&h->barrier);
    h->b_had_none = rc_heap_use(h->heap) == NULL;
    for (int i = 0; i < HELD; i++)
        rc_decref(h->held[i]); /* the last references: freed here */
    h->b_collected = rc_gc_collect(2);
    h->b_destroyed = t_destroyed;
    h->left_by_b = tnode(999);
    h->b_gave_back = rc_heap_use(NULL) == h->heap;
    pthread_barrier_wait(&h->barrier);
    return NULL;
}

static void test_handover(void)
{
    static handover h;
    atomic_store(&fin_runs, 0);
    pthread_barrier_init(&h.barrier, NULL, 2);
    CHECK_EQ(pthread_create(&h.a_thread, NULL, handover_a, &h), 0);
    CHECK_EQ(pthread_create(&h.b_thread, NULL, handover_b, &h), 0);
    pthread_join(h.a_thread, NULL);
    pthread_join(h.b_thread, NULL);
    pthread_barrier_destroy(&h.barrier);
    CHECK(h.a_gave_up);
    CHECK(h.b_had_none);
    CHECK_EQ(h.b_collected, 2 * PAIRS);
    CHECK_EQ(h.b_destroyed, HELD + 2 * PAIRS);
    CHECK_EQ(atomic_load(&fin_runs), 1);
    CHECK(pthread_equal(fin_thread, h.b_thread));
    CHECK(h.b_gave_back);
    CHECK(h.a_took_back);
    CHECK_EQ(h.a_destroyed_own, 1);
}

/* ---- 4. misuse across threads (each in a forked child) ---- */

static void *victim;

static void *drop_victim(void *arg)
{
    (void)arg;
    rc_decref(victim);
    return NULL;
}

static void *take_heap(void *arg)
{
    rc_heap_use(arg);
    return NULL;
}

static void *destroy_heap(void *arg)
{
    rc_heap_destroy(arg);
    return NULL;
}

static void run_thread(void *(*fn)(void *), void *arg)
{
    pthread_t t;
    if (pthread_create(&t, NULL, fn, arg) == 0)
        pthread_join(t, NULL);
}

/* The main thread owns the heap; another drops the object's last ref. */
static void foreign_last_ref(void)
{
    victim = tnode(1);
    run_thread(drop_victim, NULL);
}

static void take_owned_heap(void) { run_thread(take_heap, rc_heap_current()); }

static void destroy_owned_heap(void) { run_thread(destroy_heap, rc_heap_current()); }

/* Dropping the last reference while the heap is owned by no thread is
 * allowed and "takes the heap for the duration of the deallocation": a
 * thread trying to take it meanwhile must be stopped. The destroy hook
 * holds the deallocation open until the main thread has tried. */
static sem_t in_destroy, tried;

static void blocking_destroy(void *self)
{
    (void)self;
    atomic_fetch_add(&g_destroyed, 1);
    sem_post(&in_destroy);
    sem_wait(&tried);
}

static const rc_type blocking_type = {
    .name = "Blocking", .size = sizeof(TNode), .destroy = blocking_destroy};

static void take_heap_during_foreign_dealloc(void)
{
    sem_init(&in_destroy, 0, 0);
    sem_init(&tried, 0, 0);
    rc_heap *mine = rc_heap_current();
    rc_heap *h = rc_heap_new();
    rc_heap_use(h);
    victim = rc_new(&blocking_type);
    rc_heap_use(mine); /* h is owned by no thread now */
    pthread_t t;
    pthread_create(&t, NULL, drop_victim, NULL);
    sem_wait(&in_destroy);
    rc_heap_use(h); /* the dropping thread has it: must stop here */
    sem_post(&tried);
    pthread_join(t, NULL);
}

static void test_misuse(void)
{
    CHECK_DEATH(foreign_last_ref, "in use by another thread");
    CHECK_DEATH(take_owned_heap, "in use by another thread");
    CHECK_DEATH(destroy_owned_heap, "in use by another thread");
    CHECK_DEATH(take_heap_during_foreign_dealloc, "in use by another thread");
}

/* Allowed: the last reference dropped on a thread while the heap is owned
 * by none. */
static void test_foreign_drop_unowned(void)
{
    rc_heap *mine = rc_heap_current();
    rc_heap *h = rc_heap_new();
    CHECK(rc_heap_use(h) == mine);
    victim = tnode(5);
    TNode *child = tnode(6);
    rc_assign(&((TNode *)victim)->a, child);
    rc_decref(child);
    CHECK(rc_heap_use(mine) == h);
    long before = atomic_load(&g_destroyed);
    run_thread(drop_victim, NULL);
    CHECK_EQ(atomic_load(&g_destroyed) - before, 2);
    CHECK_EQ(stats_of(h).bytes_in_use, 0);
    rc_heap_destroy(h);
    CHECK(rc_heap_current() == mine);
}

/* ---- 5. the implicit heap at thread exit ---- */

typedef struct exiting {
    rc_heap *heap;
    pthread_t self;
    pthread_barrier_t *barrier; /* NULL: just exit */
    bool gave_up;
} exiting;

static void *exiting_thread(void *arg)
{
    exiting *e = arg;
    e->self = pthread_self();
    e->heap = rc_heap_current();
    TNode *obj = tnode(1); /* kept alive: only teardown ends it */
    rc_finalizer *f = rc_finalize(obj, note_finalizer, NULL);
    rc_decref(f); /* the registration survives the handle */
    if (e->barrier) {
        e->gave_up = rc_heap_use(NULL) == e->heap;
        pthread_barrier_wait(e->barrier); /* main takes the heap */
        pthread_barrier_wait(e->barrier);
    }
    return NULL;
}

static void test_implicit_heap_at_exit(void)
{
    atomic_store(&fin_runs, 0);
    long before = atomic_load(&g_destroyed);
    exiting e = {0};
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, exiting_thread, &e), 0);
    pthread_join(t, NULL);
    CHECK_EQ(atomic_load(&fin_runs), 1);
    CHECK(pthread_equal(fin_thread, e.self));
    CHECK_EQ(atomic_load(&g_destroyed) - before, 1); /* teardown's destroy */

    /* handed to the main thread before exiting: not destroyed at exit */
    atomic_store(&fin_runs, 0);
    before = atomic_load(&g_destroyed);
    pthread_barrier_t barrier;
    pthread_barrier_init(&barrier, NULL, 2);
    exiting e2 = {.barrier = &barrier};
    CHECK_EQ(pthread_create(&t, NULL, exiting_thread, &e2), 0);
    pthread_barrier_wait(&barrier);
    rc_heap *mine = rc_heap_use(e2.heap);
    pthread_barrier_wait(&barrier);
    pthread_join(t, NULL);
    pthread_barrier_destroy(&barrier);
    CHECK(e2.gave_up);
    CHECK_EQ(atomic_load(&fin_runs), 0);
    CHECK_EQ(atomic_load(&g_destroyed) - before, 0);
    CHECK(rc_heap_current() == e2.heap);
    CHECK(rc_heap_use(mine) == e2.heap);
    rc_heap_destroy(e2.heap);
    CHECK_EQ(atomic_load(&fin_runs), 1);
    CHECK(pthread_equal(fin_thread, pthread_self()));
    CHECK_EQ(atomic_load(&g_destroyed) - before, 1);
}

int main(void)
{
    rc_heap_current(); /* the main thread's heap, for the tests that switch */
    test_parallel_heaps();
    test_remote_free();
    test_handover();
    test_foreign_drop_unowned();
    test_implicit_heap_at_exit();
    test_misuse();
    return check_report();
}
