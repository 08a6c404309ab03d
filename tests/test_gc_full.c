/* test_gc_full.c: full collections (src/gc/collect_full.c), whose search
 * sweeps the object pools arena by arena in an order of its own (the
 * allocator's list of arenas), marks the children ahead of the sweep for
 * the sweep to scan, suspects what it passes unreached, and frees garbage
 * that needs no user code while clearing it.
 *
 * Each case builds a heap that leans on one part of that and checks the
 * collection exactly: what it returns, every survivor's reference count,
 * which objects were destroyed, that survivors are in generation 2, and the
 * collector's invariants (rc_gc_validate):
 *   - chains built forwards and backwards across several arenas, closed
 *     (garbage) or held (live), with the arena list as built or shuffled;
 *   - a tree built depth first, whose right children lie far from their
 *     parents (edges wait in the ring); one built children first, which the
 *     sweep takes from the root down (on a heap of its own its one system
 *     request is the table of the arenas' order), and with garbage made
 *     among it;
 *   - a chain freed and built again over the spare arenas, forwards and
 *     backwards, which the sweep takes in the order it was made (one
 *     system request: no suspect, no push); large blocks reached from an
 *     arena and from each other, each scanned once;
 *   - objects reached only from objects made after them (suspects reached
 *     after all, so many that U is listed after the marking), a chain
 *     through pools freed and reused in another order, large blocks and
 *     many sizes in one graph, garbage holding references to survivors and
 *     to objects outside the collector;
 *   - a random graph checked against a model over many collections;
 *   - the walk of the object blocks one arena at a time;
 *   - out of memory at every request a full collection makes (mark stack,
 *     unreachable list, the table of the arenas' order: without it the
 *     sweep places nothing, every child is pushed).
 * Usage: test_gc_full [seed]. Automatic collection is off.
 */
#include "faults.h"
#include "rng.h"

/* ---- objects: K references, an id, a body of any size ---- */

enum { K = 3, MAX_IDS = 300000 };

typedef struct GNode {
    void *ref[K];
    long id;
    char body[];
} GNode;

static unsigned char destroyed[MAX_IDS];
static size_t destroy_calls, destroy_errors;

static void g_destroy(void *self)
{
    GNode *g = self;
    destroy_calls++;
    if (g->id < 0 || g->id >= MAX_IDS || destroyed[g->id]++)
        destroy_errors++;
    for (int i = 0; i < K; i++)
        destroy_errors += g->ref[i] != NULL; /* released before destroy */
}

static size_t finalize_calls;
static void g_finalize(void *self)
{
    (void)self;
    finalize_calls++;
}

/* the references lead the body: rc_traverse_refs (the model test below
 * then runs the inline release path too) */
static const rc_type g_type = {.name = "GNode",
                               .size = sizeof(GNode),
                               .traverse = rc_traverse_refs,
                               .refs = K,
                               .destroy = g_destroy};
static const rc_type g_fin_type = {.name = "GFinNode",
                                   .size = sizeof(GNode),
                                   .traverse = rc_traverse_refs,
                                   .refs = K,
                                   .finalize = g_finalize,
                                   .destroy = g_destroy};
/* an object outside the collector (no traverse) that garbage may hold */
static size_t leaves_destroyed;
static void leaf_destroy(void *self)
{
    (void)self;
    leaves_destroyed++;
}
static const rc_type g_leaf_type = {.name = "GLeaf", .size = 8, .destroy = leaf_destroy};

static GNode *g_new(long id, size_t extra)
{
    GNode *g = rc_new_var(&g_type, extra);
    CHECK(g != NULL);
    g->id = id;
    destroyed[id] = 0;
    return g;
}

static void reset(void)
{
    rc_gc_collect(2);
    memset(destroyed, 0, sizeof destroyed);
    destroy_calls = destroy_errors = finalize_calls = leaves_destroyed = 0;
}

/* Survivors of a full collection are in generation 2; the invariants hold. */
static size_t generation_seen;
static bool count_seen(void *obj, void *arg)
{
    (void)obj, (void)arg;
    generation_seen++;
    return true;
}

static void check_settled(size_t tracked)
{
    generation_seen = 0;
    CHECK_EQ(rc_gc_for_each_object(2, count_seen, NULL), 0);
    CHECK_EQ(generation_seen, tracked);
    generation_seen = 0;
    rc_gc_for_each_object(0, count_seen, NULL);
    rc_gc_for_each_object(1, count_seen, NULL);
    CHECK_EQ(generation_seen, 0);
    CHECK_EQ(rc_gc_validate(rc_heap_current()), 0);
    CHECK_EQ(destroy_errors, 0);
}

/* ---- the arena list, shuffled ---- */

/* Moves the oldest arena to the front of the heap's list (the one last
 * started on first): the sweep, which follows the list, then meets the
 * objects of that arena after the ones made after them, and must still be
 * right (it suspects them, then reaches them from behind). */
static void shuffle_arenas(rc_heap *h)
{
    rc_alloc_state *st = &h->alloc;
    rc_arena *last = st->arenas;
    while (last && last->all_next)
        last = last->all_next;
    if (!last || last == st->arenas)
        return;
    last->all_prev->all_next = NULL;
    last->all_prev = NULL;
    last->all_next = st->arenas;
    st->arenas->all_prev = last;
    st->arenas = last;
}

static size_t arena_count(rc_heap *h)
{
    size_t n = 0;
    for (rc_arena *a = h->alloc.arenas; a; a = a->all_next)
        n++;
    return n;
}

/* ---- chains ---- */

enum { CHAIN = 70000 }; /* 64-byte blocks: five arenas */

static GNode *chain[CHAIN];

/* A chain of n nodes of ids 0..n-1, node i holding node i+1. Built
 * forwards (each new node is the last) or backwards (each new node is the
 * first). Returns the head with the caller's reference. */
static GNode *chain_build(size_t n, bool forwards)
{
    for (size_t k = 0; k < n; k++) {
        size_t i = forwards ? k : n - 1 - k;
        chain[i] = g_new((long)i, 16);
        if (forwards && i > 0) {
            chain[i - 1]->ref[0] = chain[i]; /* takes the reference */
        } else if (!forwards && i + 1 < n) {
            chain[i]->ref[0] = chain[i + 1];
        }
    }
    return chain[0];
}

static void check_chain_counts(size_t n)
{
    size_t bad = 0;
    for (size_t i = 0; i < n; i++)
        bad += rc_refcount(chain[i]) != 1 || destroyed[i];
    CHECK_EQ(bad, 0);
}

/* Live, then garbage (closed into a ring), in each order. */
static void test_chains(void)
{
    rc_heap *h = rc_heap_current();
    for (int variant = 0; variant < 4; variant++) {
        bool forwards = variant & 1, shuffled = variant & 2;
        reset();
        GNode *head = chain_build(CHAIN, forwards);
        CHECK(arena_count(h) >= 4);
        if (shuffled)
            shuffle_arenas(h);
        CHECK_EQ(rc_gc_collect(2), 0);
        check_chain_counts(CHAIN);
        check_settled(CHAIN);
        chain[CHAIN - 1]->ref[1] = rc_incref(head); /* close it */
        rc_decref(head);
        if (shuffled)
            shuffle_arenas(h);
        CHECK_EQ(rc_gc_collect(2), CHAIN);
        CHECK_EQ(destroy_calls, CHAIN);
        check_settled(0);
    }
}

/* ---- a tree built depth first ---- */

enum { DEPTH = 15 }; /* 65535 nodes */

static GNode *tree_build(int depth, long *next_id)
{
    GNode *t = g_new((*next_id)++, 0);
    if (depth > 1) {
        t->ref[0] = tree_build(depth - 1, next_id);
        t->ref[1] = tree_build(depth - 1, next_id);
    }
    return t;
}

static void tree_check(GNode *t, size_t *bad)
{
    for (int i = 0; i < 2; i++)
        if (t->ref[i]) {
            *bad += rc_refcount(t->ref[i]) != 1;
            tree_check(t->ref[i], bad);
        }
}

/* Each leaf refers back to the root: live while the root is held, one
 * garbage cycle after. */
static void leaves_to_root(GNode *t, GNode *root)
{
    if (!t->ref[0]) {
        t->ref[2] = rc_incref(root);
        return;
    }
    leaves_to_root(t->ref[0], root);
    leaves_to_root(t->ref[1], root);
}

static void test_tree(void)
{
    reset();
    long n = 0;
    GNode *root = tree_build(DEPTH, &n);
    leaves_to_root(root, root);
    CHECK_EQ(rc_gc_collect(2), 0);
    size_t bad = 0;
    tree_check(root, &bad);
    CHECK_EQ(bad, 0);
    CHECK_EQ(rc_refcount(root), 1 + (1 << (DEPTH - 1)));
    check_settled((size_t)n);
    rc_decref(root);
    CHECK_EQ(rc_gc_collect(2), n);
    CHECK_EQ(destroy_calls, n);
    check_settled(0);
}

/* A tree built children first, 131071 nodes, with a garbage pair made
 * after every 16 nodes: the sweep meets each child before its parent, so
 * most of what it suspects is reached after all, and past SUSPECTS_FREE it
 * stops listing suspects and lists U after the marking. Live, then with the
 * root dropped (one cycle through leaves and root). */
static long pair_ids;

static GNode *tree_children_first(int depth, long *next_id, bool pairs)
{
    GNode *left = depth > 1 ? tree_children_first(depth - 1, next_id, pairs) : NULL;
    GNode *right = depth > 1 ? tree_children_first(depth - 1, next_id, pairs) : NULL;
    GNode *t = g_new((*next_id)++, 0);
    t->ref[0] = left;
    t->ref[1] = right;
    if (pairs && *next_id % 16 == 0) { /* garbage: a pair */
        GNode *a = g_new(MAX_IDS - 1 - pair_ids++, 0), *b = g_new(MAX_IDS - 1 - pair_ids++, 0);
        a->ref[0] = b; /* takes b's reference */
        b->ref[0] = rc_incref(a);
        rc_decref(a);
    }
    return t;
}

/* System requests (rc_sys_*, mmap) a call of rc_gc_collect(2) makes. */
static long collect_requests(long *found)
{
    rc_heap *h = rc_heap_current();
    rc_heap_inject_faults(h, RC_FAULT_MMAP | RC_FAULT_MALLOC, 1000000, false);
    *found = rc_gc_collect(2);
    long made = 1000000 - h->alloc.fault_after;
    rc_heap_inject_faults(h, 0, -1, false);
    return made;
}

static void test_built_children_first(void)
{
    reset();
    long n = 0;
    pair_ids = 0;
    GNode *root = tree_children_first(17, &n, true);
    leaves_to_root(root, root);
    CHECK_EQ(rc_gc_collect(2), pair_ids);
    CHECK_EQ(destroy_calls, pair_ids);
    size_t bad = 0;
    tree_check(root, &bad);
    CHECK_EQ(bad, 0);
    CHECK_EQ(rc_refcount(root), 1 + (1 << 16));
    check_settled((size_t)n);
    CHECK_EQ(rc_gc_collect(2), 0);
    rc_decref(root);
    CHECK_EQ(rc_gc_collect(2), n);
    CHECK_EQ(destroy_calls, n + pair_ids);
    check_settled(0);
}

/* A smaller such tree (4095 nodes) in the one fresh arena of a heap of its
 * own, made upwards in it: the votes turn the sweep around, from the root
 * down, so that it suspects and pushes nothing, and the unreachable list
 * and the mark stack are never made: the collection's one system request
 * is the table of the arenas' order (taken the other way, the list and
 * the stack grow: seven requests). Several arenas, each way:
 * test_rebuilt_chain_swept_in_order. */
static void test_children_first_swept_from_root(void)
{
    rc_heap *own = rc_heap_new(), *before = rc_heap_current();
    CHECK(own != NULL);
    rc_heap_use(own);
    rc_gc_disable();
    long n = 0;
    GNode *root = tree_children_first(12, &n, false);
    CHECK_EQ(rc_alloc_arena_bases(own, NULL, 0), 1);
    long found;
    long requests = collect_requests(&found); /* the heap's first */
    CHECK_EQ(found, 0);
    CHECK_EQ(requests, 1); /* the order of the arenas */
    rc_decref(root);
    rc_gc_collect(2);
    rc_heap_use(before);
    rc_heap_destroy(own);
}

/* A chain of five arenas' worth on a plain heap of its own, freed from its head
 * (so its pools come free lowest first, its arenas one after the other)
 * and built again over the spare arenas, forwards and backwards (each node
 * then made before its holder: the votes turn the sweep around), four
 * times: the allocator reuses them in the sweep's order (arena.c), so the
 * sweep suspects and pushes nothing. Its one system request is the table
 * of the arenas' order (U and the mark stack are never made); the counts
 * are exact. Taken in another order, the sweep would suspect whole arenas
 * of the chain and push them when it reached them. */
static void test_rebuilt_chain_swept_in_order(void)
{
    /* plain even under RECLAIM_MALLOC=debug: a debug heap's quarantine holds
     * freed blocks back, and so reuses them in another order */
    rc_heap_options plain = {.struct_size = sizeof plain, .malloc_mode = RC_MALLOC_DEFAULT};
    rc_heap *own = rc_heap_new_with(&plain), *before = rc_heap_current();
    CHECK(own != NULL);
    rc_heap_use(own);
    rc_gc_disable();
    for (int round = 0; round < 4; round++) {
        memset(destroyed, 0, sizeof destroyed);
        GNode *head = chain_build(CHAIN, round % 2 == 0);
        CHECK(arena_count(own) >= 5);
        long found;
        CHECK_EQ(collect_requests(&found), 1);
        CHECK_EQ(found, 0);
        check_chain_counts(CHAIN);
        CHECK_EQ(rc_gc_validate(own), 0);
        rc_decref(head);
    }
    rc_heap_use(before);
    rc_heap_destroy(own);
}

/* Large blocks come after the arenas in the sweep, which cannot place
 * them: a large block reached from an arena is pushed, and so is every
 * object reached while the sweep is on the large blocks; met later, none
 * may be scanned again (its children's counts would be given back twice).
 * A chain from a small node through large ones made last first (the sweep
 * meets them first to last, after each was pushed), and a chain of large
 * ones made last first held only at its head; exact counts, then both
 * closed into cycles and found. */
static void test_large_reached_once(void)
{
    enum { LARGE = 6, BIG = 5000 };
    GNode *small, *big[LARGE], *held[LARGE];
    reset();
    for (int i = LARGE - 1; i >= 0; i--) {
        big[i] = g_new(10 + i, BIG);
        held[i] = g_new(20 + i, BIG);
        if (i + 1 < LARGE) {
            big[i]->ref[0] = big[i + 1]; /* takes the reference */
            held[i]->ref[0] = held[i + 1];
        }
    }
    small = g_new(0, 0);
    small->ref[0] = big[0];
    CHECK_EQ(rc_gc_collect(2), 0);
    size_t bad = rc_refcount(small) != 1;
    for (int i = 0; i < LARGE; i++)
        bad += rc_refcount(big[i]) != 1 || rc_refcount(held[i]) != 1 || destroyed[10 + i] ||
               destroyed[20 + i];
    CHECK_EQ(bad, 0);
    check_settled(1 + 2 * LARGE);
    big[LARGE - 1]->ref[0] = small;    /* takes the test's reference */
    held[LARGE - 1]->ref[0] = held[0]; /* likewise */
    CHECK_EQ(rc_gc_collect(2), 1 + 2 * LARGE);
    CHECK_EQ(destroy_calls, 1 + 2 * LARGE);
    check_settled(0);
}

/* Groups of a chain built backwards (each node made before the one holding
 * it: the sweep suspects 15 nodes, then reaches them from the last) and a
 * chain built forwards, so that neither direction wins the votes; every
 * fourth backward chain is a garbage ring. Past SUSPECTS_FREE entries, most
 * reached after all, the sweep stops listing suspects, and U is listed
 * after the marking: the garbage met after that point must be found too. */
enum { GROUPS = 8000, GROUP = 16 };

static void test_suspects_dropped(void)
{
    static GNode *heads[2 * GROUPS];
    reset();
    long id = 0, garbage = 0;
    for (int g = 0; g < GROUPS; g++) {
        GNode *first = g_new(id++, 0), *prev = first; /* backwards */
        for (int i = 1; i < GROUP; i++) {
            GNode *next = g_new(id++, 0);
            next->ref[0] = prev; /* takes prev's reference */
            prev = next;
        }
        if (g % 4 == 3) { /* a ring, let go of */
            first->ref[0] = prev;
            heads[2 * g] = NULL;
            garbage += GROUP;
        } else {
            heads[2 * g] = prev;
        }
        GNode *head = g_new(id++, 0); /* forwards */
        prev = head;
        for (int i = 1; i < GROUP; i++) {
            GNode *next = g_new(id++, 0);
            prev->ref[0] = next;
            prev = next;
        }
        heads[2 * g + 1] = head;
    }
    CHECK_EQ(rc_gc_collect(2), garbage);
    CHECK_EQ(destroy_errors, 0);
    size_t bad = 0;
    for (int h = 0; h < 2 * GROUPS; h++)
        for (GNode *n = heads[h]; n; n = n->ref[0])
            bad += rc_refcount(n) != 1;
    CHECK_EQ(bad, 0);
    check_settled((size_t)(2 * GROUPS * GROUP - garbage));
    for (int h = 0; h < 2 * GROUPS; h++)
        rc_decref(heads[h]);
    CHECK_EQ(rc_gc_collect(2), 0);
    check_settled(0);
}

/* ---- suspects reached after all; reused pools; sizes; large blocks ---- */

/* Objects reached only from a list made after them: the sweep passes and
 * suspects each before the list reaches it. Between them, garbage made at
 * the same time (a doubly linked list of the odd ones), which must be
 * found whatever the suspecting did. */
static void test_reached_from_behind(void)
{
    enum { N = 20000 };
    static GNode *items[N];
    reset();
    for (long i = 0; i < N; i++)
        items[i] = g_new(i, (size_t)(i % 5) * 40);
    for (long i = 1; i + 2 < N; i += 2) {
        items[i]->ref[0] = rc_incref(items[i + 2]);
        items[i + 2]->ref[1] = rc_incref(items[i]);
    }
    GNode *list = g_new(N, 0);
    GNode *prev = list;
    for (long i = 0; i < N; i += 2) { /* the list: a chain of the even ones */
        prev->ref[2] = items[i];      /* takes the reference */
        prev = items[i];
    }
    for (long i = 1; i < N; i += 2)
        rc_decref(items[i]);
    CHECK_EQ(rc_gc_collect(2), N / 2);
    size_t bad = 0;
    for (long i = 0; i < N; i++)
        bad += i % 2 ? !destroyed[i] : rc_refcount(items[i]) != 1 || destroyed[i];
    CHECK_EQ(bad, 0);
    check_settled(N / 2 + 1);
    rc_decref(list); /* a chain: freed by counting */
    CHECK_EQ(destroy_calls, N + 1);
    CHECK_EQ(rc_gc_collect(2), 0);
    check_settled(0);
}

/* A chain made in pools half freed, in the order the allocator hands their
 * blocks back; with large blocks and objects of many sizes in it, and
 * garbage holding survivors and objects outside the collector. */
static void test_reused_and_mixed(void)
{
    enum { FILL = 30000, N = 12000 };
    static GNode *fill[FILL];
    reset();
    rng_state = 88172645463325252u;
    for (long i = 0; i < FILL; i++)
        fill[i] = g_new(MAX_IDS - 1 - i, 0);
    for (long i = 0; i < FILL; i++) {
        if (rnd(3)) { /* two thirds go: their blocks are reused below */
            rc_decref(fill[i]);
            fill[i] = NULL;
        }
    }
    size_t kept = 0;
    for (long i = 0; i < FILL; i++)
        kept += fill[i] != NULL;
    memset(destroyed, 0, sizeof destroyed);
    destroy_calls = 0;
    GNode *survivor = g_new(N + 1, 0);
    for (long i = 0; i < N; i++) {
        size_t extra = (size_t)(i % 97 == 0 ? 700 + rnd(3000) : rnd(400)); /* some large */
        chain[i] = g_new(i, extra);
        if (i > 0)
            chain[i - 1]->ref[0] = chain[i];
        chain[i]->ref[1] = rc_incref(survivor); /* garbage -> survivor */
        if (i % 10 == 0)
            chain[i]->ref[2] = rc_new(&g_leaf_type); /* garbage -> outside */
    }
    GNode *head = chain[0];
    CHECK_EQ(rc_gc_collect(2), 0);
    check_chain_counts(N);
    CHECK_EQ(rc_refcount(survivor), N + 1);
    check_settled(N + 1 + kept);
    chain[N - 1]->ref[0] = head; /* a ring: takes the test's reference */
    CHECK_EQ(rc_gc_collect(2), N);
    CHECK_EQ(destroy_calls, N);
    CHECK_EQ(leaves_destroyed, (N + 9) / 10);
    CHECK_EQ(rc_refcount(survivor), 1); /* garbage's references forgotten */
    check_settled(1 + kept);
    rc_decref(survivor);
    for (long i = 0; i < FILL; i++)
        rc_decref(fill[i]);
}

/* ---- a random graph against a model ---- */

enum { GN = 6000, CLUSTER = 16 };

static GNode *gptr[GN];
static int gedge[GN][K], gext[GN];
static bool galive[GN], gfin[GN];

static void g_make(int i, bool finalizers)
{
    gfin[i] = finalizers && rnd(16) == 0;
    gptr[i] = rc_new_var(gfin[i] ? &g_fin_type : &g_type, rnd(8) == 0 ? 600 : (size_t)rnd(300));
    gptr[i]->id = i;
    destroyed[i] = 0;
    galive[i] = true;
    gext[i] = 1;
    for (int k = 0; k < K; k++)
        gedge[i][k] = -1;
}

/* The references each model object receives from live objects. */
static void model_indegrees(long indeg[GN])
{
    memset(indeg, 0, GN * sizeof *indeg);
    for (int i = 0; i < GN; i++)
        for (int k = 0; k < K; k++)
            if (galive[i] && gedge[i][k] >= 0)
                indeg[gedge[i][k]]++;
}

/* Deaths by counting: alive objects with no external reference and no
 * reference from a live object die, and drop their edges. */
static void model_count_deaths(void)
{
    static long indeg[GN];
    static int work[GN];
    model_indegrees(indeg);
    int top = 0;
    for (int i = 0; i < GN; i++)
        if (galive[i] && gext[i] == 0 && indeg[i] == 0)
            work[top++] = i;
    while (top) {
        int i = work[--top];
        galive[i] = false;
        for (int k = 0; k < K; k++) {
            int t = gedge[i][k];
            gedge[i][k] = -1;
            if (t >= 0 && --indeg[t] == 0 && gext[t] == 0 && galive[t])
                work[top++] = t;
        }
    }
}

/* What a full collection must find: everything alive that no external
 * reference reaches. Marks the reached in `reached`. */
static long model_unreachable(bool *reached)
{
    static int stack[GN];
    int top = 0;
    for (int i = 0; i < GN; i++) {
        reached[i] = galive[i] && gext[i] > 0;
        if (reached[i])
            stack[top++] = i;
    }
    while (top) {
        int i = stack[--top];
        for (int k = 0; k < K; k++) {
            int t = gedge[i][k];
            if (t >= 0 && !reached[t]) {
                reached[t] = true;
                stack[top++] = t;
            }
        }
    }
    long n = 0;
    for (int i = 0; i < GN; i++)
        n += galive[i] && !reached[i];
    return n;
}

/* Live objects have the model's counts; dead ones were destroyed once. */
static long check_model(void)
{
    static long indeg[GN];
    model_indegrees(indeg);
    long bad = 0;
    for (int i = 0; i < GN; i++) {
        if (galive[i])
            bad += destroyed[i] || (long)rc_refcount(gptr[i]) != gext[i] + indeg[i];
        else if (gptr[i])
            bad += destroyed[i] != 1;
    }
    return bad;
}

/* Rounds of: make objects where ids are free (blocks freed earlier are
 * reused, so pools fill in a shuffled order), wire random edges (most
 * within a cluster of CLUSTER ids, the rest anywhere), let go of half the
 * clusters and some other objects (dropping their external references
 * frees what counting frees), and collect. Finalizers do not resurrect:
 * every unreachable object dies, its finalizer run once. */
static void round_make_and_wire(int round)
{
    for (int i = 0; i < GN; i++)
        if (!galive[i] && rnd(3) != 0)
            g_make(i, round % 2); /* U is simple garbage in some rounds */
    for (int e = 0; e < GN * 2; e++) {
        int src = rnd(GN);
        int k = rnd(K);
        int t = rnd(8) ? src / CLUSTER * CLUSTER + rnd(CLUSTER) : rnd(GN);
        if (!galive[src] || !galive[t] || gedge[src][k] >= 0)
            continue;
        gptr[src]->ref[k] = rc_incref(gptr[t]);
        gedge[src][k] = t;
    }
    if (round % 3 == 2)
        shuffle_arenas(rc_heap_current());
}

static void round_let_go(void)
{
    for (int c = 0; c < GN / CLUSTER; c++) {
        bool abandon = rnd(2) == 0;
        for (int i = c * CLUSTER; i < (c + 1) * CLUSTER; i++)
            if (galive[i] && gext[i] > 0 && (abandon || rnd(4) == 0)) {
                gext[i] = 0;
                rc_decref(gptr[i]); /* may free what counting frees */
            }
    }
    model_count_deaths();
}

/* The collection of a round against the model; returns what it found. */
static long round_collect(size_t *fin_died, const bool *was_alive)
{
    static bool reached[GN];
    long want = model_unreachable(reached);
    long got = rc_gc_collect(2);
    CHECK_EQ(got, want);
    for (int i = 0; i < GN; i++) {
        if (galive[i] && !reached[i]) {
            galive[i] = false;
            for (int k = 0; k < K; k++)
                gedge[i][k] = -1;
        }
        *fin_died += was_alive[i] && !galive[i] && gfin[i];
    }
    CHECK_EQ(finalize_calls, *fin_died);
    for (int i = 0; i < GN; i++)
        if (galive[i] && gext[i] == 0 && rnd(4) == 0) {
            gext[i] = 1;
            rc_incref(gptr[i]);
        }
    return got;
}

static void test_random_graph(uint64_t seed)
{
    static bool was_alive[GN];
    reset();
    rng_state = seed ? seed : 1;
    memset(galive, 0, sizeof galive);
    memset(gptr, 0, sizeof gptr);
    long collected = 0, bad = 0;
    size_t fin_died = 0;
    for (int round = 0; round < 12 && !bad; round++) {
        round_make_and_wire(round);
        memcpy(was_alive, galive, sizeof galive);
        round_let_go();
        collected += round_collect(&fin_died, was_alive);
        bad += check_model();
    }
    CHECK_EQ(bad, 0);
    printf("random graph: %ld collected over 12 collections\n", collected);
    CHECK(collected > GN / 4); /* the rounds did collect */
    for (int i = 0; i < GN; i++)
        while (galive[i] && gext[i]-- > 0)
            rc_decref(gptr[i]);
    rc_gc_collect(2);
    check_settled(0);
}

/* ---- the order of the sweep ---- */

typedef struct arena_walk {
    char *base; /* the arena walked */
    bool down;  /* its pools by decreasing address */
    char *last; /* the last span's first block */
    size_t spans, blocks, bad;
} arena_walk;

static void check_arena_span(const rc_block_span *span, void *arg)
{
    arena_walk *w = arg;
    w->bad += span->large || span->first < w->base || span->first >= w->base + RC_ARENA_SIZE;
    if (w->last)
        w->bad += w->down ? span->first >= w->last : span->first <= w->last;
    w->last = span->first;
    w->spans++;
    w->blocks += span->count;
}

static void count_span(const rc_block_span *span, void *arg)
{
    size_t *counts = arg;
    counts[span->large]++;
    counts[2] += span->count;
}

/* The walk one arena at a time lists what rc_alloc_object_spans does: each
 * arena's pools one way or the other, then the large blocks; the arena
 * list in order or shuffled. */
static void test_arena_walk(void)
{
    rc_heap *h = rc_heap_current();
    reset();
    GNode *head = chain_build(CHAIN, true);
    GNode *big = g_new(CHAIN + 1, 4000);
    static char *bases[4096];
    for (int shuffled = 0; shuffled < 2; shuffled++) {
        if (shuffled)
            shuffle_arenas(h);
        size_t all[3] = {0}, large[3] = {0};
        rc_alloc_object_spans(h, count_span, all);
        rc_alloc_large_object_spans(h, count_span, large);
        CHECK_EQ(large[0], 0);
        CHECK_EQ(large[1], all[1]);
        size_t n = rc_alloc_arena_bases(h, bases, 4096);
        CHECK_EQ(n, arena_count(h));
        CHECK_EQ(rc_alloc_arena_bases(h, NULL, 0), n);
        for (int down = 0; down < 2; down++) {
            size_t spans = 0, blocks = 0, bad = 0;
            for (size_t i = 0; i < n; i++) {
                arena_walk w = {.base = bases[i], .down = down};
                bad += (uintptr_t)bases[i] % RC_ARENA_SIZE != 0;
                rc_alloc_arena_object_spans(h, bases[i], down, check_arena_span, &w);
                spans += w.spans;
                blocks += w.blocks;
                bad += w.bad;
            }
            CHECK_EQ(bad, 0);
            CHECK_EQ(spans, all[0]);
            CHECK_EQ(blocks + large[2], all[2]);
            CHECK(spans >= CHAIN / (RC_POOL_SIZE / 64)); /* every pool of the chain */
        }
    }
    rc_decref(head);
    rc_decref(big);
}

/* ---- out of memory ---- */

/* A list of n references, made after its items. */
typedef struct GList {
    size_t n;
    void *item[];
} GList;

static void list_traverse(void *self, rc_visit_fn visit, void *arg)
{
    GList *l = self;
    for (size_t i = 0; i < l->n; i++)
        visit(&l->item[i], arg);
}

static const rc_type g_list_type = {
    .name = "GList", .size = sizeof(GList), .traverse = list_traverse};

enum { FAULT_RINGS = 300, FAULT_RING = 10, FAULT_WIDE = 6000 };

/* Garbage rings made first (the unreachable list grows), then 6000 items
 * held only by a list made after them (the mark stack grows: each is
 * behind the sweep when the list reaches it), in several arenas, their
 * list shuffled (variant 1). Whatever request fails,
 * the survivors' counts are exact, only garbage is freed, and the next
 * collection frees the rest. */
static bool scenario_full(long n, bool sticky, int variant)
{
    faults_begin();
    rc_gc_disable();
    memset(destroyed, 0, sizeof destroyed);
    destroy_calls = destroy_errors = 0;
    long id = 0;
    for (int r = 0; r < FAULT_RINGS; r++) {
        GNode *first = g_new(id++, 0), *prev = first;
        for (int i = 1; i < FAULT_RING; i++) {
            GNode *next = g_new(id++, 100);
            prev->ref[0] = next;
            prev = next;
        }
        prev->ref[0] = first; /* the ring takes the first's reference */
    }
    long garbage = id;
    static GNode *items[FAULT_WIDE];
    for (int i = 0; i < FAULT_WIDE; i++)
        items[i] = g_new(id++, 400); /* bigger: more arenas */
    GList *list = rc_new_var(&g_list_type, FAULT_WIDE * sizeof(void *));
    list->n = FAULT_WIDE;
    for (int i = 0; i < FAULT_WIDE; i++)
        list->item[i] = items[i]; /* takes the reference */
    CHECK(arena_count(heap) >= 3);
    if (variant)
        shuffle_arenas(heap);

    arm(n, sticky);
    long r1 = rc_gc_collect(2);
    bool reached = faults_disarm();
    CHECK(r1 >= 0 && r1 <= garbage);
    CHECK_EQ(destroy_calls, r1);
    if (!reached)
        CHECK_EQ(r1, garbage);
    size_t bad = 0;
    for (int i = 0; i < FAULT_WIDE; i++)
        bad += rc_refcount(items[i]) != 1 || destroyed[items[i]->id];
    CHECK_EQ(bad, 0);
    CHECK_EQ(rc_refcount(list), 1);
    CHECK_EQ(rc_gc_validate(heap), 0);
    long r2 = rc_gc_collect(2);
    CHECK_EQ(r1 + r2, garbage);
    CHECK_EQ(destroy_calls, garbage);
    rc_decref(list);
    CHECK_EQ(destroy_calls, id);
    CHECK_EQ(destroy_errors, 0);
    end();
    return reached;
}

/* For n = 0, 1, ... until the collection no longer reaches the n-th
 * request, once and then with every later request failing too. */
static void fault_sweep(const char *name, int variant)
{
    for (int sticky = 0; sticky < 2; sticky++) {
        long n = 0;
        while (n < 1000 && scenario_full(n, sticky, variant))
            n++;
        CHECK(n >= 3 + variant && n < 1000);
        printf("%s: %ld failure points (%s)\n", name, n, sticky ? "sticky" : "once");
    }
}

int main(int argc, char **argv)
{
    uint64_t seed = argc > 1 ? strtoull(argv[1], NULL, 0) : 20240611;
    printf("seed %llu\n", (unsigned long long)seed);
    rc_gc_disable();
    test_chains();
    test_tree();
    test_built_children_first();
    test_children_first_swept_from_root();
    test_rebuilt_chain_swept_in_order();
    test_large_reached_once();
    test_suspects_dropped();
    test_reached_from_behind();
    test_reused_and_mixed();
    test_random_graph(seed);
    test_arena_walk();
    fault_sweep("full collection", 0);
    fault_sweep("full collection, arenas shuffled", 1);
    error_reset(); /* the fixture's: an invalid generation is refused */
    CHECK_STR_CONTAINS(rc_last_error(), "invalid generation");
    return check_report();
}
