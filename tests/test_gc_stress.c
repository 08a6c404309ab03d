/* test_gc_stress.c: random operations on a graph of objects, checked after
 * every step against a model kept in plain arrays.
 *
 * Up to N objects of K reference slots. Some are of a type whose finalize
 * resurrects the object once (it takes a new reference to itself, which the
 * test then owns like any other external reference). The model records,
 * per object: alive, the external references the test holds, the edges
 * (slot -> object id), the generation (0, 1, 2 or permanent) and whether
 * finalize ran. From that it predicts every death by reference counting
 * (with resurrection), and for a collection of generation g exactly what
 * the collector must find (gc.h):
 *   S  = alive objects of generations 0..g;
 *   roots = members of S with external references or referenced by an
 *           object outside S; U = S minus what the roots reach within S;
 *   survivors go to generation min(g+1, 2); each member of U with a
 *   finalizer that has not run runs it (and so resurrects itself); what the
 *   resurrected reach within U survives (to generation min(g+1, 2)); the
 *   rest dies, and its edges are dropped, which may kill more by reference
 *   counting; the collection returns how many of U died (CPython 3.9+
 *   counting: the resurrected are not counted).
 * After every step: every live object's rc_refcount equals its external
 * references plus incoming edges, exactly the predicted objects died (each
 * destroy ran once), finalize ran exactly for the predicted objects; after
 * every collection and freeze, each object's generation (seen through
 * rc_gc_for_each_object) is the predicted one.
 *
 * First, a fixed check that a recycled pool's stale bytes are not taken for
 * objects (test_recycled_pool).
 *
 * Usage: test_gc_stress [seed [scale]]: operations = 50000 * scale.
 * Automatic collection is off: only the test's collections run. */
#include "check.h"
#include "rng.h"

#include <reclaim.h>

enum { N = 2000, K = 4, GEN_PERM = 3, C = 16 /* ids per cluster */ };

typedef struct SObj {
    void *s[K];
    int id;
} SObj;

/* ---- what the library did (recorded by the hooks) ---- */

static int real_dead[N]; /* destroy ran for the object now at this id */
static int real_fin[N];  /* finalize calls for the object now at this id */
static int real_gen[N];  /* generation seen by rc_gc_for_each_object */
static long destroy_errors;

static void s_traverse(void *self, rc_visit_fn visit, void *arg)
{
    SObj *o = self;
    for (int i = 0; i < K; i++)
        visit(&o->s[i], arg);
}

static void s_destroy(void *self)
{
    SObj *o = self;
    if (o->id < 0 || o->id >= N || real_dead[o->id])
        destroy_errors++;
    else
        real_dead[o->id] = 1;
    for (int i = 0; i < K; i++)
        if (o->s[i])
            destroy_errors++; /* references must be released before destroy */
}

static void s_finalize(void *self)
{
    SObj *o = self;
    real_fin[o->id]++;
    rc_incref(o); /* resurrects: the test owns this reference now */
}

static const rc_type plain_type = {
    .name = "Plain", .size = sizeof(SObj), .traverse = s_traverse, .destroy = s_destroy};
static const rc_type fin_type = {.name = "Fin",
                                 .size = sizeof(SObj),
                                 .traverse = s_traverse,
                                 .finalize = s_finalize,
                                 .destroy = s_destroy};

/* ---- the model ---- */

typedef struct mobj {
    bool used; /* an object was ever made at this id */
    bool alive;
    bool fin_type;
    bool finalized;
    int gen;
    long ext;
    int edge[K];
    long indeg;
    SObj *ptr;
} mobj;

static mobj m[N];
static int alive_ids[N], alive_pos[N], n_alive;
static int free_ids[N], n_free;
static size_t n_deaths, n_resurrections, n_found, n_collected, n_gc_resurrections;

static long m_refs(int i) { return m[i].ext + m[i].indeg; }

static void m_add_alive(int i)
{
    alive_pos[i] = n_alive;
    alive_ids[n_alive++] = i;
}

static void m_remove_alive(int i)
{
    int last = alive_ids[--n_alive];
    alive_ids[alive_pos[i]] = last;
    alive_pos[last] = alive_pos[i];
    free_ids[n_free++] = i;
}

/* Objects whose count reached zero: finalize (once) resurrects, otherwise
 * they die and drop their edges. */
static int work[N * (K + 1)];
static int n_work;

static void m_push_if_zero(int i)
{
    if (m[i].alive && m_refs(i) == 0)
        work[n_work++] = i;
}

static void m_mark_dead(int i)
{
    m[i].alive = false;
    m_remove_alive(i);
    n_deaths++;
}

/* A dead object's references are released: their targets may die next. */
static void m_drop_edges(int i)
{
    for (int k = 0; k < K; k++) {
        int t = m[i].edge[k];
        if (t < 0)
            continue;
        m[i].edge[k] = -1;
        m[t].indeg--;
        m_push_if_zero(t);
    }
}

static void m_die(int i)
{
    m_mark_dead(i);
    m_drop_edges(i);
}

static void m_cascade(void)
{
    while (n_work) {
        int i = work[--n_work];
        if (!m[i].alive || m_refs(i) != 0)
            continue;
        if (m[i].fin_type && !m[i].finalized) {
            m[i].finalized = true;
            m[i].ext++;
            n_resurrections++;
            continue;
        }
        m_die(i);
    }
}

/* Marks in `mark` everything reachable from the queued ids through edges
 * whose target satisfies member[]. */
static int queue[N];

static void m_reach(int n_queued, char *mark, const char *member)
{
    while (n_queued) {
        int i = queue[--n_queued];
        for (int k = 0; k < K; k++) {
            int t = m[i].edge[k];
            if (t >= 0 && member[t] && !mark[t]) {
                mark[t] = 1;
                queue[n_queued++] = t;
            }
        }
    }
}

/* Applies a collection of generation g to the model; returns what it
 * frees (U minus the resurrected and what they reach). */
static long m_collect(int g)
{
    static char in_s[N], from_outside[N], mark[N], in_u[N], keep[N];
    memset(in_s, 0, sizeof in_s);
    memset(from_outside, 0, sizeof from_outside);
    memset(mark, 0, sizeof mark);
    memset(in_u, 0, sizeof in_u);
    memset(keep, 0, sizeof keep);
    for (int a = 0; a < n_alive; a++) {
        int i = alive_ids[a];
        in_s[i] = m[i].gen <= g;
    }
    for (int a = 0; a < n_alive; a++) {
        int i = alive_ids[a];
        if (!in_s[i])
            for (int k = 0; k < K; k++)
                if (m[i].edge[k] >= 0)
                    from_outside[m[i].edge[k]] = 1;
    }
    int nq = 0;
    for (int a = 0; a < n_alive; a++) {
        int i = alive_ids[a];
        if (in_s[i] && (m[i].ext > 0 || from_outside[i])) {
            mark[i] = 1;
            queue[nq++] = i;
        }
    }
    m_reach(nq, mark, in_s);
    int next = g < 2 ? g + 1 : 2;
    long found = 0;
    for (int a = 0; a < n_alive; a++) {
        int i = alive_ids[a];
        if (!in_s[i])
            continue;
        if (mark[i]) {
            m[i].gen = next;
        } else {
            in_u[i] = 1;
            found++;
        }
    }
    /* finalizers of U run; each resurrects its object */
    nq = 0;
    for (int a = 0; a < n_alive; a++) {
        int i = alive_ids[a];
        if (in_u[i] && m[i].fin_type && !m[i].finalized) {
            m[i].finalized = true;
            m[i].ext++;
            n_resurrections++;
            n_gc_resurrections++;
            keep[i] = 1;
            queue[nq++] = i;
        }
    }
    m_reach(nq, keep, in_u);
    /* the rest of U dies: first all of it, then the cascade outside */
    static int dying[N];
    int n_dying = 0;
    for (int a = 0; a < n_alive; a++) {
        int i = alive_ids[a];
        if (in_u[i] && keep[i])
            m[i].gen = next;
        else if (in_u[i])
            dying[n_dying++] = i;
    }
    for (int d = 0; d < n_dying; d++)
        m_mark_dead(dying[d]);
    for (int d = 0; d < n_dying; d++)
        m_drop_edges(dying[d]);
    m_cascade();
    n_found += (size_t)found;
    n_collected += (size_t)n_dying;
    return n_dying;
}

static int random_alive(void) { return alive_ids[rnd(n_alive)]; }

/* ---- operations: each does the real thing and the model's ---- */

static void op_create(void)
{
    int i = free_ids[--n_free];
    bool fin = rnd(8) == 0;
    SObj *o = rc_new(fin ? &fin_type : &plain_type);
    o->id = i;
    real_dead[i] = 0;
    real_fin[i] = 0;
    m[i] = (mobj){.used = true,
                  .alive = true,
                  .fin_type = fin,
                  .gen = 0,
                  .ext = 1,
                  .edge = {-1, -1, -1, -1},
                  .ptr = o};
    m_add_alive(i);
}

static void op_incref(int i)
{
    rc_incref(m[i].ptr);
    m[i].ext++;
}

static void op_drop(int i)
{
    rc_decref(m[i].ptr); /* may free it: the model says whether */
    m[i].ext--;
    m_push_if_zero(i);
    m_cascade();
}

static void op_assign(int src, int k, int target)
{
    rc_assign(&m[src].ptr->s[k], target >= 0 ? m[target].ptr : NULL);
    if (target >= 0)
        m[target].indeg++;
    int old = m[src].edge[k];
    m[src].edge[k] = target;
    if (old >= 0) {
        m[old].indeg--;
        m_push_if_zero(old);
        m_cascade();
    }
}

/* Drops every external reference to the objects of a cluster (a data
 * structure let go of). */
static void op_abandon(int cluster)
{
    for (int i = cluster * C; i < (cluster + 1) * C; i++)
        while (m[i].alive && m[i].ext > 0)
            op_drop(i);
}

/* The permanent generation goes back to generation 2. */
static void op_unfreeze(void)
{
    rc_gc_unfreeze();
    for (int a = 0; a < n_alive; a++)
        if (m[alive_ids[a]].gen == GEN_PERM)
            m[alive_ids[a]].gen = 2;
}

/* A live object of the cluster, or -1. */
static int in_cluster(int cluster)
{
    int i = cluster * C + rnd(C);
    return m[i].alive ? i : -1;
}

/* ---- checking ---- */

static long step;
static int reported;

static void mismatch(const char *what, int i, long got, long want)
{
    if (reported++ < 10)
        fprintf(stderr, "step %ld: object %d: %s is %ld, model says %ld\n", step, i, what, got,
                want);
}

/* The model's live objects must be alive with the predicted counts; its
 * dead ones must have been destroyed; finalize ran exactly as predicted. */
static long verify(void)
{
    long bad = 0;
    for (int i = 0; i < N; i++) {
        if (!m[i].used)
            continue;
        if (m[i].alive) {
            if (real_dead[i]) {
                mismatch("destroyed (alive in the model)", i, 1, 0), bad++;
                continue;
            }
            long rc = (long)rc_refcount(m[i].ptr);
            if (rc != m_refs(i))
                mismatch("refcount", i, rc, m_refs(i)), bad++;
        } else if (!real_dead[i]) {
            mismatch("destroyed (dead in the model)", i, 0, 1), bad++;
        }
        if (real_fin[i] != (m[i].finalized ? 1 : 0))
            mismatch("finalize calls", i, real_fin[i], m[i].finalized), bad++;
    }
    if (destroy_errors)
        mismatch("destroy errors", -1, destroy_errors, 0), bad++;
    return bad;
}

static bool note_gen(void *obj, void *arg)
{
    int id = ((SObj *)obj)->id;
    real_gen[id] = (int)(intptr_t)arg;
    return true;
}

static long verify_generations(void)
{
    for (int a = 0; a < n_alive; a++)
        real_gen[alive_ids[a]] = GEN_PERM; /* unless seen in 0..2 */
    for (int g = 0; g < 3; g++)
        rc_gc_for_each_object(g, note_gen, (void *)(intptr_t)g);
    long bad = 0;
    size_t perm = 0;
    for (int a = 0; a < n_alive; a++) {
        int i = alive_ids[a];
        perm += m[i].gen == GEN_PERM;
        if (real_gen[i] != m[i].gen)
            mismatch("generation", i, real_gen[i], m[i].gen), bad++;
    }
    if (rc_gc_freeze_count() != perm)
        mismatch("freeze count", -1, (long)rc_gc_freeze_count(), (long)perm), bad++;
    return bad;
}

/* A pool that held raw blocks, all freed, is recycled for objects of the
 * same size class. Its free blocks' old bytes must not look like tracked
 * objects to a full collection, which scans the object pools and decides
 * membership by gc_bits: the allocator must zero refcnt and gc_bits (it
 * once zeroed refcnt only, and this crashed). Run in a child: the failure
 * is a crash. */
static void recycled_pool_child(void)
{
    enum { BLOCKS = 2048 };
    static void *raw[BLOCKS];
    void *keep = rc_malloc(200); /* keeps the arena (and its pools) mapped */
    for (int i = 0; i < BLOCKS; i++) {
        raw[i] = rc_malloc(sizeof(SObj) + RC_HEADER_SIZE);
        memset(raw[i], 0x04, sizeof(SObj) + RC_HEADER_SIZE); /* "tracked, gen 0" */
    }
    for (int i = 0; i < BLOCKS; i++)
        rc_free(raw[i]);
    SObj *o = rc_new(&plain_type);
    o->id = 0;
    long found = rc_gc_collect(2);
    rc_decref(o);
    rc_free(keep);
    _exit(found == 0 ? 0 : 3);
}

static void test_recycled_pool(void)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0)
        recycled_pool_child();
    int status = -1;
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

int main(int argc, char **argv)
{
    uint64_t seed = argc > 1 ? strtoull(argv[1], NULL, 0) : 20240607;
    long scale = argc > 2 ? strtol(argv[2], NULL, 0) : 1;
    long ops = 50000 * (scale > 0 ? scale : 1);
    printf("seed %llu, %ld operations\n", (unsigned long long)seed, ops);
    rng_state = seed ? seed : 1;
    test_recycled_pool();
    rc_gc_disable(); /* only the test's collections */
    rc_gc_collect(2);
    for (int i = N - 1; i >= 0; i--)
        free_ids[n_free++] = i;

    long collections = 0, failures = 0;
    for (step = 0; step < ops && !failures; step++) {
        int r = rnd(1000);
        bool collected = false;
        if (r < 220 || n_alive < 8) {
            if (n_free)
                op_create();
        } else if (r < 240) {
            op_incref(random_alive());
        } else if (r < 330) {
            int i = random_alive();
            for (int tries = 0; tries < 4 && m[i].ext == 0; tries++)
                i = random_alive();
            if (m[i].ext > 0)
                op_drop(i);
        } else if (r < (n_alive > N / 2 ? 350 : 335)) {
            op_abandon(random_alive() / C);
        } else if (r < 930) {
            int src = random_alive();
            int target = rnd(10) < 3 ? -1 : rnd(5) ? in_cluster(src / C) : random_alive();
            op_assign(src, rnd(K), target);
        } else if (r < 995) {
            int g = r < 960 ? 0 : r < 980 ? 1 : 2;
            long want = m_collect(g);
            long got = rc_gc_collect(g);
            if (got != want)
                mismatch("rc_gc_collect result", g, got, want), failures++;
            collections++;
            collected = true;
        } else if (r < 997) {
            rc_gc_freeze();
            for (int a = 0; a < n_alive; a++)
                m[alive_ids[a]].gen = GEN_PERM;
            collected = true;
        } else {
            op_unfreeze();
            collected = true;
        }
        failures += verify();
        if (collected)
            failures += verify_generations();
    }
    CHECK_EQ(failures, 0);
    size_t loop_found = n_collected, loop_gc_res = n_gc_resurrections;
    if (failures)
        fprintf(stderr, "failed at step %ld with seed %llu\n", step - 1, (unsigned long long)seed);

    /* the end: drop every external reference; a full collection (after
     * unfreezing) must leave nothing */
    if (!failures) {
        op_unfreeze();
        for (int round = 0; round < 4 && n_alive; round++) {
            while (n_alive) {
                int i = -1;
                for (int a = 0; a < n_alive && i < 0; a++)
                    if (m[alive_ids[a]].ext > 0)
                        i = alive_ids[a];
                if (i < 0)
                    break;
                op_drop(i);
            }
            long want = m_collect(2);
            CHECK_EQ(rc_gc_collect(2), want);
            CHECK_EQ(verify(), 0);
        }
        CHECK_EQ(n_alive, 0);
        CHECK_EQ(rc_gc_collect(2), 0);
    }
    /* the run exercised what it is meant to (true for the default seed) */
    CHECK(loop_found > 0);
    CHECK(loop_gc_res > 0);
    CHECK(n_resurrections > n_gc_resurrections);
    printf("%ld collections, %zu found unreachable, %zu collected, %zu deaths, %zu "
           "resurrections (%zu by the collector)\n",
           collections, n_found, n_collected, n_deaths, n_resurrections, n_gc_resurrections);
    return check_report();
}
