/* collect.c: one collection of generations 0..G (the algorithm), but for
 * the search of a full collection (collect_full.c).
 *
 * The set S is every tracked object of generation <= G (never the permanent
 * one). In_set(x) is a test on x's header alone: tracked and gen <= G.
 *
 * Finding the unreachable needs no per-object memory beyond the header:
 * instead of copying refcounts into a second field as CPython does, the
 * first pass subtracts, from each object's refcnt, the references other
 * members of S hold to it; what remains is the count of references from
 * outside S. Every later step adds back what it subtracted, so that when the
 * marking is done every refcnt is exact again. A young collection:
 *
 *   subtract  for x in S, for each child c in S of x: c.refcnt--
 *   mark      for x in S with refcnt > 0 (a root) and not marked: mark x,
 *             then depth first from x: for each child c in S of a scanned
 *             object: c.refcnt++ (restored), mark and push c if unmarked
 *   restore   for x in S unmarked, for each child c in S: c.refcnt++
 *   classify  marked: survivor, to generation G+1;
 *             unmarked: unreachable (list U, flag UNREACHABLE)
 *
 * Each edge is subtracted once and added back once (by its marked source in
 * mark, or by its unmarked source in restore), so counts are exact, even
 * for a traverse that visits a reference it does not own (counts are
 * unsigned and wrap back). A full collection finds U in two sweeps over
 * the pools and leaves U's counts subtracted (collect_full.c); if U needs
 * no user code it is freed at once, else its counts are given back and it
 * goes on as a young collection's U does. Then, with user code allowed to
 * run from here on and every member of U held by one extra reference so
 * none can die early: legacy finalizer cycles are set aside, weak
 * references cleared, finalizers run, the resurrected found by the same
 * subtract/mark/restore within U, and the rest cleared through traverse
 * and released.
 *
 * The mark stack grows as needed; if it cannot, marked objects are left
 * unscanned (MARK without SCANNED) and found again by rescanning S. If U
 * cannot grow, the objects that do not fit survive this collection, and so
 * does everything in U they reach (found as resurrected objects are), so
 * that nothing is cleared while garbage outside U can still see it.
 */
#include "collect_pass.h"

typedef bool (*gc_member_fn)(const void *obj, unsigned gen);

/* Membership tests, on the header alone. S: tracked and gen <= G
 * (rc_gc_in_set). U: the UNREACHABLE mark. Each pass is written once,
 * generic in the test, as a static inline function; the wrappers below fix
 * the test, so that every call on the hot paths is direct and inlined. */
static inline bool in_unreachable(const void *obj, unsigned gen)
{
    (void)gen;
    return (rc_head_of(obj)->gc_bits & RC_UNREACHABLE) != 0;
}

/* ---- what collect_full.c shares ---- */

void rc_gc_push_slow(gc_pass *pass, void *obj)
{
    size_t cap = pass->stack_cap ? pass->stack_cap * 2 : 1024;
    void **grown = rc_sys_realloc(pass->heap, pass->stack, cap * sizeof *grown);
    if (!grown) {
        pass->stack_overflow = true; /* obj stays marked, unscanned */
        return;
    }
    pass->stack = grown;
    pass->stack_cap = cap;
    pass->stack[pass->stack_len++] = obj;
}

bool rc_gc_unreach_grow(gc_pass *pass)
{
    size_t cap = pass->unreach_cap ? pass->unreach_cap * 2 : 256;
    void **grown = rc_sys_realloc(pass->heap, pass->unreach, cap * sizeof *grown);
    if (!grown)
        return false;
    pass->unreach = grown;
    pass->unreach_cap = cap;
    return true;
}

void rc_gc_count_wrapped(const void *obj)
{
    const rc_object_head *head = rc_head_of(obj);
    rc_fatal("object %p of type %s has a reference count too small for the "
             "references traverse reports: a traverse visits a reference its "
             "object does not own",
             obj, head->type->name ? head->type->name : "?");
}

/* ---- subtract, mark, restore: generic in the membership test ---- */

static inline void subtract_child(gc_pass *pass, void *child, gc_member_fn member)
{
    if (member(child, pass->gen))
        rc_head_of(child)->refcnt--;
}

static inline void restore_edge(void *slot, gc_pass *pass, gc_member_fn member)
{
    void *child = *(void **)slot;
    if (child && member(child, pass->gen))
        rc_head_of(child)->refcnt++;
}

static inline void mark_child(gc_pass *pass, void *child, gc_member_fn member)
{
    if (!member(child, pass->gen))
        return;
    rc_object_head *head = rc_head_of(child);
    head->refcnt++;
    if (!(head->gc_bits & RC_MARK)) {
        head->gc_bits |= RC_MARK;
        pass->marked++;
        rc_gc_push(pass, child);
    }
}

static void visit_subtract_s(void *slot, void *arg)
{
    void *child = *(void **)slot;
    if (child)
        subtract_child(arg, child, rc_gc_in_set);
}

static void visit_mark_s(void *slot, void *arg)
{
    void *child = *(void **)slot;
    if (child)
        mark_child(arg, child, rc_gc_in_set);
}

void rc_gc_visit_restore(void *slot, void *arg) { restore_edge(slot, arg, rc_gc_in_set); }

static void visit_subtract_u(void *slot, void *arg)
{
    void *child = *(void **)slot;
    if (child)
        subtract_child(arg, child, in_unreachable);
}

static void visit_restore_u(void *slot, void *arg) { restore_edge(slot, arg, in_unreachable); }

static void visit_mark_u(void *slot, void *arg)
{
    void *child = *(void **)slot;
    if (child)
        mark_child(arg, child, in_unreachable);
}

/* Scans obj (marked) and everything the depth-first walk reaches. */
static inline void scan_marked(gc_pass *pass, void *obj, rc_visit_fn visit_mark)
{
    rc_head_of(obj)->gc_bits |= RC_SCANNED;
    rc_gc_traverse(obj, visit_mark, pass);
    while (pass->stack_len) {
        void *next = pass->stack[--pass->stack_len];
        rc_head_of(next)->gc_bits |= RC_SCANNED;
        rc_gc_traverse(next, visit_mark, pass);
    }
}

static inline void mark_if_root(gc_pass *pass, void *obj, rc_visit_fn visit_mark)
{
    rc_object_head *head = rc_head_of(obj);
    if (head->refcnt != 0 && !(head->gc_bits & RC_MARK)) {
        head->gc_bits |= RC_MARK;
        pass->marked++;
        scan_marked(pass, obj, visit_mark);
    }
}

static inline void rescan_if_unscanned(gc_pass *pass, void *obj, rc_visit_fn visit_mark)
{
    uint32_t bits = rc_head_of(obj)->gc_bits;
    if ((bits & RC_MARK) && !(bits & RC_SCANNED))
        scan_marked(pass, obj, visit_mark);
}

static inline void restore_if_unmarked(gc_pass *pass, void *obj, rc_visit_fn visit_restore)
{
    if (!(rc_head_of(obj)->gc_bits & RC_MARK))
        rc_gc_traverse(obj, visit_restore, pass);
}

static void subtract_s(gc_pass *pass, void *obj) { rc_gc_traverse(obj, visit_subtract_s, pass); }
static void mark_root_s(gc_pass *pass, void *obj)
{
    rc_gc_check_not_wrapped(obj);
    mark_if_root(pass, obj, visit_mark_s);
}
static void rescan_s(gc_pass *pass, void *obj) { rescan_if_unscanned(pass, obj, visit_mark_s); }
static void restore_s(gc_pass *pass, void *obj)
{
    restore_if_unmarked(pass, obj, rc_gc_visit_restore);
}
static void subtract_u(gc_pass *pass, void *obj) { rc_gc_traverse(obj, visit_subtract_u, pass); }
static void mark_root_u(gc_pass *pass, void *obj) { mark_if_root(pass, obj, visit_mark_u); }
static void rescan_u(gc_pass *pass, void *obj) { rescan_if_unscanned(pass, obj, visit_mark_u); }
static void restore_u(gc_pass *pass, void *obj) { restore_if_unmarked(pass, obj, visit_restore_u); }

/* ---- enumerating S and U ----
 * each_in_span / each_in_lists are inlined into each step below with a
 * constant fn, so the per-object call is direct: one small driver per step
 * instead of an indirect call per object per step. A young collection
 * scans pools only when its lists cannot be trusted (young_overflow). */

static inline void each_in_span(const rc_block_span *span, gc_pass *pass, gc_object_fn fn)
{
    char *block = span->first;
    for (size_t i = 0; i < span->count; i++, block += span->stride) {
        void *obj = rc_block_object(block);
        if (rc_gc_in_set(obj, pass->gen))
            fn(pass, obj);
    }
}

/* The detached lists hold no holes: untrack_acyclic squeezed them out
 * before the first step, and no object dies until U is held. */
static inline void each_in_lists(gc_pass *pass, gc_object_fn fn)
{
    for (unsigned l = 0; l < pass->nlists; l++) {
        void **items = pass->lists[l].items;
        RC_ASSERT(pass->lists[l].holes == 0);
        for (uint32_t i = 0, n = pass->lists[l].len; i < n; i++)
            fn(pass, items[i]);
    }
}

static inline void each_unreachable(gc_pass *pass, gc_object_fn fn)
{
    for (size_t i = 0; i < pass->unreach_len; i++)
        fn(pass, pass->unreach[i]);
}

static void span_subtract(const rc_block_span *span, void *arg)
{
    each_in_span(span, arg, subtract_s);
}
static void span_mark_roots(const rc_block_span *span, void *arg)
{
    each_in_span(span, arg, mark_root_s);
}
static void span_rescan(const rc_block_span *span, void *arg) { each_in_span(span, arg, rescan_s); }
static void span_restore(const rc_block_span *span, void *arg)
{
    each_in_span(span, arg, restore_s);
}

typedef struct gc_step {
    rc_span_fn span;              /* the step over pools (scan mode) */
    void (*lists)(gc_pass *pass); /* the step over the young lists */
} gc_step;

static void lists_subtract(gc_pass *pass) { each_in_lists(pass, subtract_s); }
static void lists_mark_roots(gc_pass *pass) { each_in_lists(pass, mark_root_s); }
static void lists_rescan(gc_pass *pass) { each_in_lists(pass, rescan_s); }
static void lists_restore(gc_pass *pass) { each_in_lists(pass, restore_s); }

static const gc_step step_subtract = {span_subtract, lists_subtract};
static const gc_step step_mark_roots = {span_mark_roots, lists_mark_roots};
static const gc_step step_rescan = {span_rescan, lists_rescan};
static const gc_step step_restore = {span_restore, lists_restore};

static void run_step(gc_pass *pass, const gc_step *step)
{
    if (pass->scan_mode)
        rc_alloc_object_spans(pass->heap, step->span, pass);
    else
        step->lists(pass);
}

/* Marks from the roots (mark_roots), then, as long as the mark stack
 * overflowed, scans the objects left marked but unscanned (rescan). Each
 * argument walks a whole group: one indirect call per walk, not per object. */
static void mark_until_done(gc_pass *pass, void (*mark_roots)(gc_pass *), void (*rescan)(gc_pass *))
{
    pass->stack_overflow = false;
    mark_roots(pass);
    while (pass->stack_overflow) {
        pass->stack_overflow = false;
        rescan(pass);
    }
}

static void set_mark_roots(gc_pass *pass) { run_step(pass, &step_mark_roots); }
static void set_rescan(gc_pass *pass) { run_step(pass, &step_rescan); }
static void unreachable_mark_roots(gc_pass *pass) { each_unreachable(pass, mark_root_u); }
static void unreachable_rescan(gc_pass *pass) { each_unreachable(pass, rescan_u); }

/* Marks what the roots reach in S. */
static void mark_set(gc_pass *pass) { mark_until_done(pass, set_mark_roots, set_rescan); }

/* The same within U. */
static void mark_unreachable(gc_pass *pass)
{
    mark_until_done(pass, unreachable_mark_roots, unreachable_rescan);
}

/* ---- classify S (young collections) ---- */

/* Gives obj its generation after this collection. The objects of S are in
 * no list (detached at the start), except in a scan forced by
 * young_overflow. */
static inline void give_generation(gc_pass *pass, void *obj, unsigned gen)
{
    if (!pass->scan_mode)
        rc_track_place(pass->heap, obj, gen);
    else if (rc_gen_of(rc_head_of(obj)) != gen)
        rc_track_move(pass->heap, obj, gen);
}

/* A survivor goes to its generation, its marks cleared. */
static void survive(gc_pass *pass, void *obj)
{
    rc_head_of(obj)->gc_bits &= ~(RC_MARK | RC_SCANNED);
    give_generation(pass, obj, pass->next_gen);
    pass->survivors++;
}

/* An unreachable object joins U, held by one extra reference (the hold)
 * from here to its end, so that none can die while user code runs. A
 * reachable one (or one that does not fit in U) survives. */
static void classify(gc_pass *pass, void *obj)
{
    rc_object_head *head = rc_head_of(obj);
    if (!(head->gc_bits & RC_MARK)) {
        if (rc_gc_append_unreachable(pass, obj)) {
            rc_gc_note_unreachable(pass, head->gc_bits, head->type);
            head->gc_bits |= RC_UNREACHABLE;
            head->refcnt++;
            give_generation(pass, obj, 2);
            return;
        }
        pass->unreach_overflow = true;
    }
    survive(pass, obj);
}

static void span_classify(const rc_block_span *span, void *arg)
{
    each_in_span(span, arg, classify);
}
static void lists_classify(gc_pass *pass) { each_in_lists(pass, classify); }
static const gc_step step_classify = {span_classify, lists_classify};

/* Whether marking reached all of S (known in list mode only: the lists'
 * entries are S). Then no count needs restoring. */
static bool all_marked(const gc_pass *pass)
{
    if (pass->scan_mode)
        return false;
    size_t members = 0;
    for (unsigned l = 0; l < pass->nlists; l++)
        members += pass->lists[l].len;
    return pass->marked == members;
}

/* classify, when marking reached every object of the young lists: each
 * survives. */
static void promote_all(gc_pass *pass) { each_in_lists(pass, survive); }

/* ---- acyclic objects leave the collector (CPython's untrack_tuples) ----
 * An object of an RC_TYPE_IMMUTABLE_REFS type whose references all lead to
 * objects that can never be tracked can never be part of a cycle: a young
 * collection untracks it before examining S, so no later step or
 * collection looks at it again. It holds no reference to a member of S, so
 * leaving it out changes no other object's count. The lists are in
 * allocation order, so a tree built children first leaves in one walk.
 * (A pending object, whose references may still be coming, is in no list:
 * settle.c.) */

static inline bool is_acyclic(void *obj)
{
    const rc_type *type = rc_head_of(obj)->type;
    return (type->flags & RC_TYPE_IMMUTABLE_REFS) && !rc_object_refs_may_be_tracked(obj, type);
}

/* Untracks the acyclic objects of the detached lists and squeezes them and
 * the holes out, so that the steps after walk only what is left (often
 * nothing). The survivors' index bits go stale: nothing reads them before
 * each is given a place. */
static void untrack_acyclic(gc_pass *pass)
{
    for (unsigned l = pass->nlists; l-- > 0;) { /* older objects first */
        rc_track_list *list = &pass->lists[l];
        uint32_t kept = 0;
        for (uint32_t i = 0; i < list->len; i++) {
            void *obj = list->items[i];
            if (!obj)
                continue;
            if (is_acyclic(obj))
                rc_track_forget_detached(obj);
            else
                list->items[kept++] = obj;
        }
        list->len = kept;
        list->holes = 0;
    }
}

/* Finds the unreachable of a young S (into pass->unreach) and places
 * survivors. */
static void find_unreachable_young(gc_pass *pass)
{
    if (!pass->scan_mode)
        untrack_acyclic(pass);
    run_step(pass, &step_subtract);
    mark_set(pass);
    if (all_marked(pass)) { /* nothing to restore, all survive */
        promote_all(pass);
    } else {
        run_step(pass, &step_restore);
        run_step(pass, &step_classify);
    }
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

static bool is_unmarked(void *obj) { return !(rc_head_of(obj)->gc_bits & RC_MARK); }

static void visit_mark_plain(void *slot, void *arg)
{
    gc_pass *pass = arg;
    void *child = *(void **)slot;
    if (!child || !in_unreachable(child, 0))
        return;
    rc_object_head *head = rc_head_of(child);
    if (!(head->gc_bits & RC_MARK)) {
        head->gc_bits |= RC_MARK;
        rc_gc_push(pass, child);
    }
}

static void mark_if_legacy(gc_pass *pass, void *obj)
{
    rc_object_head *head = rc_head_of(obj);
    if ((head->type->flags & RC_TYPE_LEGACY_FINALIZE) && !(head->gc_bits & RC_MARK)) {
        head->gc_bits |= RC_MARK;
        scan_marked(pass, obj, visit_mark_plain);
    }
}

static void rescan_plain(gc_pass *pass, void *obj)
{
    rescan_if_unscanned(pass, obj, visit_mark_plain);
}

/* Marks, without touching counts, what legacy-finalizer objects reach in U. */
static void legacy_roots(gc_pass *pass) { each_unreachable(pass, mark_if_legacy); }
static void legacy_rescan(gc_pass *pass) { each_unreachable(pass, rescan_plain); }

static void mark_legacy_reachable(gc_pass *pass)
{
    mark_until_done(pass, legacy_roots, legacy_rescan);
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
    mark_legacy_reachable(pass);
    pass->uncollectable = partition_unreachable(pass, is_unmarked);
    for (size_t i = 0; i < pass->uncollectable; i++) {
        void *obj = pass->unreach[pass->unreach_len + i];
        rc_object_head *head = rc_head_of(obj);
        head->gc_bits &= ~RC_GC_TEMP_BITS;
        rc_track_move(heap, obj, pass->next_gen);
        bool save =
            (head->type->flags & RC_TYPE_LEGACY_FINALIZE) || (heap->gc.debug & RC_GC_DEBUG_SAVEALL);
        if (!save || !rc_gc_garbage_append(heap, obj))
            rc_decref(obj); /* the hold; the object lives on */
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

static void add_hold_count(gc_pass *pass, void *obj)
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
    rc_object_head *head = rc_head_of(obj);
    if (head->type->finalize && !(head->gc_bits & RC_FINALIZED)) {
        head->gc_bits |= RC_FINALIZED;
        pass->user_code_ran = true;
        head->type->finalize(obj);
    }
}

static bool still_unreachable(void *obj) { return in_unreachable(obj, 0); }

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
    each_unreachable(pass, remove_hold_count);
    each_unreachable(pass, subtract_u);
    mark_unreachable(pass);
    each_unreachable(pass, restore_u);
    each_unreachable(pass, add_hold_count);
    release_resurrected(pass, partition_unreachable(pass, is_unmarked));
}

/* Garbage keeps its UNREACHABLE mark while references are cleared, so user
 * code run by the deaths this causes (destroy hooks, finalizers of objects
 * outside U) never sees a half-cleared object in gc.get_objects(). */
static void clear_references(gc_pass *pass, void *obj)
{
    (void)pass;
    const rc_type *type = rc_head_of(obj)->type;
    if (type->traverse)
        type->traverse(obj, rc_release_visit, NULL);
}

/* Drops the hold. If it is the last reference the object dies now, with
 * its references already cleared and its finalize run (or none): it is
 * freed directly, without traversing it again. */
static void drop_hold(gc_pass *pass, void *obj)
{
    rc_object_head *head = rc_head_of(obj);
    head->gc_bits &= ~RC_GC_TEMP_BITS;
    if (head->refcnt == 1 && (head->gc_bits & RC_FINALIZED || !head->type->finalize))
        rc_object_release_cleared(pass->heap, obj);
    else
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
    if (pass->heap->gc.debug & RC_GC_DEBUG_SAVEALL) {
        each_unreachable(pass, clear_temp_bits);
        each_unreachable(pass, save_or_drop);
        return;
    }
    each_unreachable(pass, clear_references);
    each_unreachable(pass, drop_hold);
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
    if (gen == 2) {
        rc_track_detach_all_young(heap); /* collect_full.c settles them all */
    } else if (pass->scan_mode) {
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

/* Finds U. True if that ended the collection: a full collection's garbage
 * that needed no user code is freed already. */
static bool find_unreachable(gc_pass *pass)
{
    if (pass->gen < 2) {
        find_unreachable_young(pass);
        return false;
    }
    rc_gc_find_unreachable_full(pass);
    if (rc_gc_simple_garbage(pass)) {
        rc_gc_free_simple_garbage(pass);
        return true;
    }
    rc_gc_full_take_unreachable(pass);
    return false;
}

rc_gc_result rc_gc_collect_heap(rc_heap *heap, unsigned gen)
{
    gc_pass pass;
    start_pass(&pass, heap, gen);
    if (find_unreachable(&pass)) {
        rc_gc_result result = {pass.unreach_len, 0, pass.survivors};
        return_scratch(&pass);
        return result;
    }
    /* Garbage left out of U is alive to this collection and may refer into
     * U: what it reaches there survives too, intact, as if resurrected, so
     * that no finalizer ever sees a cleared object. */
    if (pass.unreach_overflow)
        find_resurrected(&pass);
    set_aside_uncollectable(&pass);
    rc_gc_result result = {0, pass.uncollectable, pass.survivors};
    print_found(&pass);
    /* From here on user code may run; U is held. */
    if (rc_gc_any_weakrefs(&pass))
        pass.user_code_ran =
            heap->hooks.clear_weakrefs_unreachable(heap, pass.unreach, pass.unreach_len);
    if (pass.any_finalizers)
        each_unreachable(&pass, finalize_one);
    if (pass.user_code_ran) /* else nothing could have made U reachable */
        find_resurrected(&pass);
    result.collected = pass.unreach_len; /* CPython 3.9+: resurrected ones are not */
    delete_garbage(&pass);
    return_scratch(&pass);
    return result;
}
