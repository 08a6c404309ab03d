/* collect.c: one collection of generations 0..G (the algorithm).
 *
 * The set S is every tracked object of generation <= G (never the permanent
 * one). In_set(x) is a test on x's header alone: tracked and gen <= G.
 *
 * Finding the unreachable needs no per-object memory beyond the header:
 * instead of copying refcounts into a second field as CPython does, the
 * first pass subtracts, from each object's refcnt, the references other
 * members of S hold to it; what remains is the count of references from
 * outside S. Every later step adds back what it subtracted, so that when the
 * marking is done every refcnt is exact again:
 *
 *   subtract  for x in S, for each child c in S of x: c.refcnt--
 *   mark      for x in S with refcnt > 0 (a root) and not marked: mark x,
 *             then depth first from x: for each child c in S of a scanned
 *             object: c.refcnt++ (restored), mark and push c if unmarked
 *   restore   for x in S unmarked, for each child c in S: c.refcnt++
 *   classify  marked: survivor, to generation min(G+1, 2);
 *             unmarked: unreachable (list U, flag UNREACHABLE)
 *
 * Each edge is subtracted once and added back once (by its marked source in
 * mark, or by its unmarked source in restore), so counts are exact, even
 * for a traverse that visits a reference it does not own (counts are
 * unsigned and wrap back). Then, with user code allowed to run from here on
 * and every member of U held by one extra reference so none can die early:
 * legacy finalizer cycles are set aside, weak references cleared, finalizers
 * run, the resurrected found by the same subtract/mark/restore within U, and
 * the rest cleared through traverse and released.
 *
 * The mark stack grows as needed; if it cannot, marked objects are left
 * unscanned (MARK without SCANNED) and found again by rescanning S. If U
 * cannot grow, the objects that do not fit survive this collection.
 */
#include "gc_internal.h"
#include "../alloc/alloc.h"

typedef struct gc_pass {
    rc_heap *heap;
    unsigned gen;         /* collecting generations 0..gen */
    unsigned next_gen;    /* where survivors go */
    bool scan_mode;       /* enumerate S by scanning pools, not lists */
    rc_track_list lists[2];
    unsigned nlists;
    void **stack;
    size_t stack_len, stack_cap;
    bool stack_overflow;
    void **unreach;
    size_t unreach_len, unreach_cap;
    size_t survivors;
    size_t uncollectable; /* set aside at unreach[unreach_len..+this) */
} gc_pass;

typedef void (*gc_object_fn)(gc_pass *pass, void *obj);
typedef bool (*gc_member_fn)(const gc_pass *pass, const void *obj);

static inline bool in_set(const gc_pass *pass, const void *obj)
{
    uint32_t bits = rc_head_of(obj)->gc_bits & (RC_TRACKED | RC_GEN_MASK);
    return bits - RC_TRACKED <= pass->gen; /* untracked wraps to huge */
}

static inline bool in_unreachable(const gc_pass *pass, const void *obj)
{
    (void)pass;
    return (rc_head_of(obj)->gc_bits & RC_UNREACHABLE) != 0;
}

static inline void traverse(void *obj, rc_visit_fn visit, void *arg)
{
    rc_head_of(obj)->type->traverse(obj, visit, arg);
}

/* ---- enumerating S ---- */

typedef struct span_walk {
    gc_pass *pass;
    gc_object_fn fn;
} span_walk;

static void span_in_set(const rc_block_span *span, void *arg)
{
    span_walk *walk = arg;
    for (size_t i = 0; i < span->count; i++) {
        void *obj = rc_block_object(span->first + i * span->stride);
        if (in_set(walk->pass, obj))
            walk->fn(walk->pass, obj);
    }
}

static void for_each_in_set(gc_pass *pass, gc_object_fn fn)
{
    if (pass->scan_mode) {
        span_walk walk = {pass, fn};
        rc_alloc_object_spans(pass->heap, span_in_set, &walk);
        return;
    }
    for (unsigned l = 0; l < pass->nlists; l++)
        for (uint32_t i = 0; i < pass->lists[l].len; i++)
            fn(pass, pass->lists[l].items[i]);
}

static void for_each_unreachable(gc_pass *pass, gc_object_fn fn)
{
    for (size_t i = 0; i < pass->unreach_len; i++)
        fn(pass, pass->unreach[i]);
}

/* ---- the mark stack ---- */

static void push(gc_pass *pass, void *obj)
{
    if (pass->stack_len == pass->stack_cap) {
        size_t cap = pass->stack_cap ? pass->stack_cap * 2 : 1024;
        void **grown = rc_sys_realloc(pass->heap, pass->stack, cap * sizeof *grown);
        if (!grown) {
            pass->stack_overflow = true; /* obj stays marked, unscanned */
            return;
        }
        pass->stack = grown;
        pass->stack_cap = cap;
    }
    pass->stack[pass->stack_len++] = obj;
}

/* ---- subtract, mark, restore: shared by S and by U ---- */

typedef struct edge_ctx {
    gc_pass *pass;
    gc_member_fn member;
} edge_ctx;

static void visit_subtract(void *slot, void *arg)
{
    edge_ctx *ctx = arg;
    void *child = *(void **)slot;
    if (child && ctx->member(ctx->pass, child))
        rc_head_of(child)->refcnt--;
}

static void visit_restore(void *slot, void *arg)
{
    edge_ctx *ctx = arg;
    void *child = *(void **)slot;
    if (child && ctx->member(ctx->pass, child))
        rc_head_of(child)->refcnt++;
}

static void visit_mark(void *slot, void *arg)
{
    edge_ctx *ctx = arg;
    void *child = *(void **)slot;
    if (!child || !ctx->member(ctx->pass, child))
        return;
    rc_object_head *head = rc_head_of(child);
    head->refcnt++;
    if (!(head->gc_bits & RC_MARK)) {
        head->gc_bits |= RC_MARK;
        push(ctx->pass, child);
    }
}

static void scan_marked(edge_ctx *ctx, void *obj)
{
    rc_head_of(obj)->gc_bits |= RC_SCANNED;
    traverse(obj, visit_mark, ctx);
    while (ctx->pass->stack_len) {
        void *next = ctx->pass->stack[--ctx->pass->stack_len];
        rc_head_of(next)->gc_bits |= RC_SCANNED;
        traverse(next, visit_mark, ctx);
    }
}

static edge_ctx set_edges(gc_pass *pass)
{
    return (edge_ctx){pass, in_set};
}

static edge_ctx unreachable_edges(gc_pass *pass)
{
    return (edge_ctx){pass, in_unreachable};
}

static void subtract_in_set(gc_pass *pass, void *obj)
{
    edge_ctx ctx = set_edges(pass);
    traverse(obj, visit_subtract, &ctx);
}

static void subtract_in_unreachable(gc_pass *pass, void *obj)
{
    edge_ctx ctx = unreachable_edges(pass);
    traverse(obj, visit_subtract, &ctx);
}

static void mark_if_root(edge_ctx *ctx, void *obj)
{
    rc_object_head *head = rc_head_of(obj);
    if (head->refcnt != 0 && !(head->gc_bits & RC_MARK)) {
        head->gc_bits |= RC_MARK;
        scan_marked(ctx, obj);
    }
}

static void mark_root_in_set(gc_pass *pass, void *obj)
{
    edge_ctx ctx = set_edges(pass);
    mark_if_root(&ctx, obj);
}

static void mark_root_in_unreachable(gc_pass *pass, void *obj)
{
    edge_ctx ctx = unreachable_edges(pass);
    mark_if_root(&ctx, obj);
}

static void rescan_in_set(gc_pass *pass, void *obj)
{
    uint32_t bits = rc_head_of(obj)->gc_bits;
    edge_ctx ctx = set_edges(pass);
    if ((bits & RC_MARK) && !(bits & RC_SCANNED))
        scan_marked(&ctx, obj);
}

static void rescan_in_unreachable(gc_pass *pass, void *obj)
{
    uint32_t bits = rc_head_of(obj)->gc_bits;
    edge_ctx ctx = unreachable_edges(pass);
    if ((bits & RC_MARK) && !(bits & RC_SCANNED))
        scan_marked(&ctx, obj);
}

static void restore_in_set(gc_pass *pass, void *obj)
{
    edge_ctx ctx = set_edges(pass);
    if (!(rc_head_of(obj)->gc_bits & RC_MARK))
        traverse(obj, visit_restore, &ctx);
}

static void restore_in_unreachable(gc_pass *pass, void *obj)
{
    edge_ctx ctx = unreachable_edges(pass);
    if (!(rc_head_of(obj)->gc_bits & RC_MARK))
        traverse(obj, visit_restore, &ctx);
}

/* Marks what the roots of a group reach, rescanning after stack overflow. */
static void mark_group(gc_pass *pass, void (*enumerate)(gc_pass *, gc_object_fn),
                       gc_object_fn mark_root, gc_object_fn rescan)
{
    pass->stack_overflow = false;
    enumerate(pass, mark_root);
    while (pass->stack_overflow) {
        pass->stack_overflow = false;
        enumerate(pass, rescan);
    }
}

/* ---- classify S ---- */

static bool append_unreachable(gc_pass *pass, void *obj)
{
    if (pass->unreach_len == pass->unreach_cap) {
        size_t cap = pass->unreach_cap ? pass->unreach_cap * 2 : 256;
        void **grown = rc_sys_realloc(pass->heap, pass->unreach, cap * sizeof *grown);
        if (!grown)
            return false;
        pass->unreach = grown;
        pass->unreach_cap = cap;
    }
    pass->unreach[pass->unreach_len++] = obj;
    return true;
}

/* Gives obj its generation after this collection. */
static void settle(gc_pass *pass, void *obj, unsigned gen)
{
    if (!pass->scan_mode)
        rc_track_place(pass->heap, obj, gen); /* detached: in no list */
    else if (rc_gen_of(rc_head_of(obj)) != gen)
        rc_track_move(pass->heap, obj, gen);
}

static void classify(gc_pass *pass, void *obj)
{
    rc_object_head *head = rc_head_of(obj);
    if (!(head->gc_bits & RC_MARK) && append_unreachable(pass, obj)) {
        head->gc_bits |= RC_UNREACHABLE;
        settle(pass, obj, 2);
        return;
    }
    head->gc_bits &= ~(RC_MARK | RC_SCANNED);
    settle(pass, obj, pass->next_gen);
    pass->survivors++;
}

/* Finds the unreachable of S (into pass->unreach) and settles survivors. */
static void find_unreachable(gc_pass *pass)
{
    for_each_in_set(pass, subtract_in_set);
    mark_group(pass, for_each_in_set, mark_root_in_set, rescan_in_set);
    for_each_in_set(pass, restore_in_set);
    for_each_in_set(pass, classify);
    for (unsigned l = 0; l < pass->nlists; l++)
        rc_track_recycle(pass->heap, l, &pass->lists[l]);
}

/* ---- U: the steps that may run user code ---- */

/* Moves the entries of U for which keep() says false behind the others and
 * returns how many were moved. The kept ones keep their order (a Lomuto
 * partition); the moved ones stay readable at unreach[unreach_len...]. */
static size_t partition_unreachable(gc_pass *pass, bool (*keep)(void *))
{
    size_t kept = 0;
    for (size_t i = 0; i < pass->unreach_len; i++) {
        void *obj = pass->unreach[i];
        if (keep(obj)) {
            pass->unreach[i] = pass->unreach[kept];
            pass->unreach[kept++] = obj;
        }
    }
    size_t moved = pass->unreach_len - kept;
    pass->unreach_len = kept;
    return moved;
}

static bool is_unmarked(void *obj)
{
    return !(rc_head_of(obj)->gc_bits & RC_MARK);
}

static void visit_mark_plain(void *slot, void *arg)
{
    gc_pass *pass = arg;
    void *child = *(void **)slot;
    if (!child || !in_unreachable(pass, child))
        return;
    rc_object_head *head = rc_head_of(child);
    if (!(head->gc_bits & RC_MARK)) {
        head->gc_bits |= RC_MARK;
        push(pass, child);
    }
}

static void scan_plain(gc_pass *pass, void *obj)
{
    rc_head_of(obj)->gc_bits |= RC_SCANNED;
    traverse(obj, visit_mark_plain, pass);
    while (pass->stack_len) {
        void *next = pass->stack[--pass->stack_len];
        rc_head_of(next)->gc_bits |= RC_SCANNED;
        traverse(next, visit_mark_plain, pass);
    }
}

static void mark_if_legacy(gc_pass *pass, void *obj)
{
    rc_object_head *head = rc_head_of(obj);
    if ((head->type->flags & RC_TYPE_LEGACY_FINALIZE) && !(head->gc_bits & RC_MARK)) {
        head->gc_bits |= RC_MARK;
        scan_plain(pass, obj);
    }
}

static void rescan_plain(gc_pass *pass, void *obj)
{
    uint32_t bits = rc_head_of(obj)->gc_bits;
    if ((bits & RC_MARK) && !(bits & RC_SCANNED))
        scan_plain(pass, obj);
}

static void clear_temp_bits(gc_pass *pass, void *obj)
{
    (void)pass;
    rc_head_of(obj)->gc_bits &= ~RC_GC_TEMP_BITS;
}

/* Step 3: cycles holding a legacy finalizer, and all they reach, are
 * uncollectable: they leave U for the next generation; the legacy objects
 * themselves (all of them under SAVEALL) go on the garbage list. */
static void set_aside_uncollectable(gc_pass *pass)
{
    rc_heap *heap = pass->heap;
    mark_group(pass, for_each_unreachable, mark_if_legacy, rescan_plain);
    pass->uncollectable = partition_unreachable(pass, is_unmarked);
    for (size_t i = 0; i < pass->uncollectable; i++) {
        void *obj = pass->unreach[pass->unreach_len + i];
        rc_object_head *head = rc_head_of(obj);
        head->gc_bits &= ~RC_GC_TEMP_BITS;
        rc_track_move(heap, obj, pass->next_gen);
        bool save = (head->type->flags & RC_TYPE_LEGACY_FINALIZE) ||
                    (heap->gc.debug & RC_GC_DEBUG_SAVEALL);
        if (save && !rc_gc_garbage_append(heap, rc_incref(obj)))
            rc_decref(obj);
    }
}

static void print_found(gc_pass *pass)
{
    unsigned debug = pass->heap->gc.debug;
    if (debug & RC_GC_DEBUG_COLLECTABLE)
        for (size_t i = 0; i < pass->unreach_len; i++)
            rc_gc_debug_object(pass->heap, "collectable", pass->unreach[i]);
    if (debug & RC_GC_DEBUG_UNCOLLECTABLE)
        for (size_t i = 0; i < pass->uncollectable; i++)
            rc_gc_debug_object(pass->heap, "uncollectable", pass->unreach[pass->unreach_len + i]);
}

static void add_hold(gc_pass *pass, void *obj)
{
    (void)pass;
    rc_head_of(obj)->refcnt++;
}

static void remove_hold_count(gc_pass *pass, void *obj)
{
    (void)pass;
    rc_head_of(obj)->refcnt--;
}

static void finalize_one(gc_pass *pass, void *obj)
{
    (void)pass;
    rc_object_head *head = rc_head_of(obj);
    if (head->type->finalize && !(head->gc_bits & RC_FINALIZED)) {
        head->gc_bits |= RC_FINALIZED;
        head->type->finalize(obj);
    }
}

static bool still_unreachable(void *obj)
{
    return (rc_head_of(obj)->gc_bits & RC_UNREACHABLE) != 0;
}

/* A resurrected object (or one user code untracked) leaves U alive. */
static void release_resurrected(gc_pass *pass, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        void *obj = pass->unreach[pass->unreach_len + i];
        rc_object_head *head = rc_head_of(obj);
        head->gc_bits &= ~RC_GC_TEMP_BITS;
        if (head->gc_bits & RC_TRACKED)
            rc_track_move(pass->heap, obj, pass->next_gen);
        rc_decref(obj); /* our hold */
    }
}

/* Step 6: objects that finalizers made reachable again, and all they
 * reach, survive. The same subtract/mark/restore as for S, within U, with
 * the hold taken out of the counts while it runs. */
static void find_resurrected(gc_pass *pass)
{
    release_resurrected(pass, partition_unreachable(pass, still_unreachable));
    for_each_unreachable(pass, remove_hold_count);
    for_each_unreachable(pass, subtract_in_unreachable);
    mark_group(pass, for_each_unreachable, mark_root_in_unreachable, rescan_in_unreachable);
    for_each_unreachable(pass, restore_in_unreachable);
    for_each_unreachable(pass, add_hold);
    release_resurrected(pass, partition_unreachable(pass, is_unmarked));
}

static void clear_references(gc_pass *pass, void *obj)
{
    (void)pass;
    const rc_type *type = rc_head_of(obj)->type;
    if (type->traverse)
        type->traverse(obj, rc_release_visit, NULL);
}

static void drop_hold(gc_pass *pass, void *obj)
{
    (void)pass;
    rc_decref(obj);
}

static void save_or_drop(gc_pass *pass, void *obj)
{
    if (!rc_gc_garbage_append(pass->heap, obj))
        rc_decref(obj);
}

/* Step 7: the rest is garbage: cleared and freed, or saved (SAVEALL). */
static void delete_garbage(gc_pass *pass)
{
    for_each_unreachable(pass, clear_temp_bits);
    if (pass->heap->gc.debug & RC_GC_DEBUG_SAVEALL) {
        for_each_unreachable(pass, save_or_drop);
        return;
    }
    for_each_unreachable(pass, clear_references);
    for_each_unreachable(pass, drop_hold);
}

/* ---- the driver ---- */

static void take_scratch(gc_pass *pass)
{
    rc_gc_state *gc = &pass->heap->gc;
    pass->stack = gc->mark_stack;
    pass->stack_cap = gc->mark_stack_cap;
    pass->unreach = gc->unreachable;
    pass->unreach_cap = gc->unreachable_cap;
    gc->mark_stack = gc->unreachable = NULL;
    gc->mark_stack_cap = gc->unreachable_cap = 0;
}

/* Keeps scratch buffers up to this many entries for the next collection. */
enum { SCRATCH_KEEP = 1 << 16 };

static void return_scratch(gc_pass *pass)
{
    rc_gc_state *gc = &pass->heap->gc;
    if (pass->stack_cap <= SCRATCH_KEEP && !gc->mark_stack) {
        gc->mark_stack = pass->stack;
        gc->mark_stack_cap = pass->stack_cap;
    } else {
        rc_sys_free(pass->heap, pass->stack);
    }
    if (pass->unreach_cap <= SCRATCH_KEEP && !gc->unreachable) {
        gc->unreachable = pass->unreach;
        gc->unreachable_cap = pass->unreach_cap;
    } else {
        rc_sys_free(pass->heap, pass->unreach);
    }
}

static void start_pass(gc_pass *pass, rc_heap *heap, unsigned gen)
{
    *pass = (gc_pass){.heap = heap, .gen = gen, .next_gen = gen < 2 ? gen + 1 : 2};
    pass->scan_mode = gen == 2 || heap->objects.young_overflow;
    if (pass->scan_mode) {
        /* every young object of S is re-placed below: lists can be trusted
         * again unless generation 1 is left out of S */
        if (gen >= 1)
            heap->objects.young_overflow = false;
    } else {
        for (unsigned g = 0; g <= gen; g++)
            rc_track_detach_young(heap, g, &pass->lists[g]);
        pass->nlists = gen + 1;
    }
    take_scratch(pass);
}

rc_gc_result rc_gc_collect_heap(rc_heap *heap, unsigned gen)
{
    gc_pass pass;
    start_pass(&pass, heap, gen);
    find_unreachable(&pass);
    set_aside_uncollectable(&pass);
    rc_gc_result result = {pass.unreach_len, pass.uncollectable, pass.survivors};
    print_found(&pass);
    /* From here on user code may run; U is held. */
    for_each_unreachable(&pass, add_hold);
    if (pass.unreach_len)
        heap->hooks.clear_weakrefs_unreachable(heap, pass.unreach, pass.unreach_len);
    for_each_unreachable(&pass, finalize_one);
    find_resurrected(&pass);
    delete_garbage(&pass);
    return_scratch(&pass);
    return result;
}
