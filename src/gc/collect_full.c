/* collect_full.c: the search of a full collection (generations 0..2), and
 * the end of one whose garbage needs no user code.
 *
 * In a full collection S is every tracked object outside the permanent
 * generation, and each member ends in generation 2 whatever the search
 * finds. The young members were taken out of their lists when the
 * collection began (rc_track_detach_all_young), so the 23 index bits of
 * every member's gc_bits are free until it is settled: they hold its state.
 *
 *   SCANNED (RC_INDEX_NONE)  reached and scanned; RC_INDEX_NONE is also the
 *                            index of a settled member of generation 2, so
 *                            a survivor needs nothing more
 *   REACHED (NONE - 1)       reached, its references not yet scanned
 *   UNSEEN  (NONE - 2)       settled in generation 2 (counted), not reached
 *
 * The search is two sweeps over the object blocks, with nothing to undo
 * after them:
 *
 *   subtract  each member x is settled (UNSEEN), and for each reference of
 *             x to a member c: c.refcnt--. Every count now counts the
 *             references from outside S.
 *   mark      each member x, in the sweep's order (its cursor):
 *               SCANNED: nothing;
 *               REACHED, or UNSEEN with refcnt > 0 (a root): scanned;
 *               UNSEEN with refcnt 0: suspected: appended to U, for now
 *               (CPython's move_unreachable does the same).
 *             Scanning x makes it SCANNED and, for each reference to a
 *             member c, gives c's count back (c.refcnt++) and, if c was
 *             UNSEEN, makes it REACHED: ahead of the cursor, the sweep scans
 *             it when it gets there; behind, it is pushed and scanned now
 *             (depth first, by the same rule).
 *
 * Each edge of a reached object is subtracted once and given back once, so
 * the survivors' counts are exact and they end SCANNED, settled: no third
 * pass restores or classifies them. U's members are its entries still
 * UNSEEN (a suspect reached later is not: walking U drops it). They keep
 * their references to S subtracted: when they need no user code,
 * rc_gc_free_simple_garbage clears each by forgetting those and dropping
 * the others, and frees it; otherwise rc_gc_full_take_unreachable gives
 * them back first, and marks them RC_UNREACHABLE for the steps after.
 *
 * The sweep's order (order_arenas) should be the order the objects were
 * made in: then the references of a chain or a tree built top down point
 * ahead, the sweep meets each child soon after reaching it, the stack
 * stays empty and memory is walked once. It takes the arenas by address,
 * downwards if most were mapped below the one before (mmap's way; the
 * allocator lists them newest first), and each arena's pools and blocks
 * upwards; if references to lower addresses outnumber the others twice
 * over (a structure built children first: one object in about VOTER_EVERY
 * votes, in the subtract sweep) it turns the whole order around. (Turned
 * around, a sweep walks memory downwards, which costs more: 500,000 garbage
 * pairs, whose references go both ways, took 18 ns per object instead of
 * 13 when sampling by parity turned them.) Where the objects were made in another
 * order (arenas and pools reused), those the sweep passes before they are
 * reached are suspected and then pushed: correct, at some cost (and U's
 * memory is bounded: see suspect). A position in the order is a
 * sweep_key. The large blocks come after every arena, so while the sweep
 * is on them, or if there was no memory to sort the arenas, the cursor is
 * at the end and every child reached is pushed.
 *
 * A reference to a header more than NEAR_BYTES from the object holding it
 * (the right children of a tree built depth first) is applied later: the
 * header is prefetched and the edge waits in a ring of RC_GC_RING_SIZE
 * edges; waiting for each of those misses in turn made a full collection
 * of a large tree several times slower than of a chain. Nearer headers
 * are in the cache or on their way, and are applied at once, and so is
 * every edge into the span being swept, so that the sweep does not pass
 * its child first. When an edge is applied does not matter to the counts,
 * only that each sweep applies all of its edges (every span drains the
 * ring); a child is placed against the cursor when its edge is applied.
 *
 * Out of memory: a child that cannot be pushed stays REACHED, and another
 * sweep scans what is REACHED (as often as needed); an object that does not
 * fit in U stays UNSEEN outside it, and rc_gc_full_take_unreachable lets
 * each of those survive with its references given back (the caller then
 * keeps alive what they reach in U: see collect.c).
 */
#include "collect_pass.h"
#include "../alloc/object_block.h"
#include "../object/object_free.h"

#include <stdlib.h>

/* States, in the index bits (see the top comment). */
#define SCANNED    RC_INDEX_NONE
#define REACHED    (RC_INDEX_NONE - 1)
#define UNSEEN     (RC_INDEX_NONE - 2)
#define STATE_MASK (RC_INDEX_NONE << RC_INDEX_SHIFT)
#define STATE(s)   ((uint32_t)(s) << RC_INDEX_SHIFT)
#define FULL       2u   /* the generation collected */
#define NEAR_BYTES 4096 /* a reference this near its holder is applied at once */

enum {
    SUSPECTS_FREE = 1 << 16, /* suspects listed before any is dropped */
    VOTER_EVERY = 16,        /* objects whose references vote: about one in this many */
};

_Static_assert(UNSEEN != RC_INDEX_PENDING, "a member of U is never counted as pending");

static inline uint32_t state_of(uint32_t bits) { return bits >> RC_INDEX_SHIFT; }

/* From the mark on, every member of S is settled in generation 2: being a
 * member is one test of gc_bits. */
static inline bool settled_member(uint32_t bits)
{
    return (bits & (RC_TRACKED | RC_GEN_MASK)) == (RC_TRACKED | FULL);
}

/* The sweep's order: arenas one way, each arena's blocks the other or the
 * same way (key_flip has ones in the bits of an arena's address, or of an
 * address within its arena, to reverse their order). */
static inline uintptr_t sweep_key(const gc_pass *pass, const void *p)
{
    return (uintptr_t)p ^ pass->key_flip;
}

/* Whether the sweep takes an arena's blocks downwards. */
static inline bool blocks_down(const gc_pass *pass)
{
    return (pass->key_flip & (RC_ARENA_SIZE - 1)) != 0;
}

/* ---- the ring of edges waiting for their child's header ---- */

/* Whether child lies within NEAR_BYTES of the object whose references are
 * visited (never NULL: NULL lies below every object). */
static inline bool near_holder(const gc_pass *pass, const void *child)
{
    return (uintptr_t)child - pass->near_from < 2 * NEAR_BYTES;
}

static inline void visiting(gc_pass *pass, const void *holder)
{
    pass->near_from = (uintptr_t)holder - NEAR_BYTES;
}

/* ring[ring_next] is the oldest slot: it takes the new edge, and the edge
 * it held (if any) is applied. */
static inline void defer_edge(gc_pass *pass, void *child, gc_object_fn apply)
{
    __builtin_prefetch(rc_head_of(child), 1, 3);
    unsigned i = pass->ring_next++ & (RC_GC_RING_SIZE - 1);
    void *oldest = pass->ring[i];
    pass->ring[i] = child;
    if (oldest)
        apply(pass, oldest);
}

/* Applies the oldest waiting edge; false if none waits. The slots it
 * passes are empty, so the next edge may go just after it. */
static bool apply_oldest(gc_pass *pass, gc_object_fn apply)
{
    for (unsigned k = 0; k < RC_GC_RING_SIZE; k++) {
        unsigned i = (pass->ring_next + k) & (RC_GC_RING_SIZE - 1);
        void *child = pass->ring[i];
        if (child) {
            pass->ring[i] = NULL;
            pass->ring_next = i + 1;
            apply(pass, child);
            return true;
        }
    }
    return false;
}

/* ---- subtract ---- */

static void subtract_child(gc_pass *pass, void *child)
{
    (void)pass;
    if (rc_gc_in_set(child, FULL))
        rc_head_of(child)->refcnt--;
}

static inline void subtract_edge(gc_pass *pass, void *child)
{
    if (near_holder(pass, child))
        subtract_child(pass, child);
    else if (child)
        defer_edge(pass, child, subtract_child);
}

static void visit_subtract(void *slot, void *arg) { subtract_edge(arg, *(void **)slot); }

/* Whether the n-th member votes: about one in VOTER_EVERY, not by any
 * regular step (the members of a regular heap alternate: pairs). */
static inline bool voter(size_t n)
{
    return (uint32_t)(n * UINT32_C(0x9E3779B9)) < UINT32_MAX / VOTER_EVERY;
}

/* The references of one object in VOTER_EVERY also vote for the direction
 * of the sweep: most point from an object to objects made before it (a
 * structure built children first) or after it (built top down), and the
 * sweep should meet each object before its children. */
static void visit_subtract_voting(void *slot, void *arg)
{
    gc_pass *pass = arg;
    void *child = *(void **)slot;
    if (child)
        pass->votes[(uintptr_t)child > pass->near_from + NEAR_BYTES]++;
    subtract_edge(pass, child);
}

static void span_subtract(const rc_block_span *span, void *arg)
{
    gc_pass *pass = arg;
    size_t members = 0;
    char *block = span->first;
    for (size_t i = 0; i < span->count; i++, block += span->stride) {
        void *obj = rc_block_object(block);
        if (!rc_gc_in_set(obj, FULL))
            continue;
        rc_object_head *head = rc_head_of(obj);
        rc_track_settle_old(pass->heap, obj);
        head->gc_bits = (head->gc_bits & ~STATE_MASK) | STATE(UNSEEN);
        members++;
        visiting(pass, obj);
        rc_gc_traverse(obj, voter(members) ? visit_subtract_voting : visit_subtract, pass);
    }
    pass->members += members;
}

/* ---- mark ---- */

static void mark_child(gc_pass *pass, void *child)
{
    rc_object_head *head = rc_head_of(child);
    uint32_t bits = head->gc_bits;
    if (!settled_member(bits))
        return;
    head->refcnt++;
    if (state_of(bits) != UNSEEN)
        return;
    head->gc_bits = (bits & ~STATE_MASK) | STATE(REACHED);
    pass->marked++;
    if (sweep_key(pass, child) <= pass->cursor) { /* passed: suspected */
        pass->revived++;
        rc_gc_push(pass, child);
    }
}

static void visit_mark(void *slot, void *arg)
{
    gc_pass *pass = arg;
    void *child = *(void **)slot;
    if (near_holder(pass, child) || (uintptr_t)child - pass->span_start < pass->span_bytes)
        mark_child(pass, child);
    else if (child)
        defer_edge(pass, child, mark_child);
}

static void scan(gc_pass *pass, void *obj)
{
    rc_head_of(obj)->gc_bits |= STATE(SCANNED);
    visiting(pass, obj);
    rc_gc_traverse(obj, visit_mark, pass);
}

static void scan_pushed(gc_pass *pass)
{
    while (pass->stack_len)
        scan(pass, pass->stack[--pass->stack_len]);
}

/* Applies every edge waiting, and scans what that pushes. */
static void drain(gc_pass *pass)
{
    do
        scan_pushed(pass);
    while (apply_oldest(pass, mark_child));
}

/* Lists obj, UNSEEN, in U. */
static void list_unseen(gc_pass *pass, void *obj, uint32_t bits, uintptr_t beyond)
{
    if (!rc_gc_append_unreachable(pass, obj)) {
        pass->unreach_overflow = true;
        return;
    }
    pass->u_unordered |= beyond != 0;
    rc_gc_note_unreachable(pass, bits, rc_head_of(obj)->type);
}

/* An UNSEEN object with no reference from outside S, met by the first
 * sweep: in U unless something reached reaches it. Once U holds
 * SUSPECTS_FREE entries of which most were reached after all (a heap met
 * in another order than it was made: built children first, or through
 * arenas in another order), suspects are no longer listed, and U is listed
 * afresh after the marking (list_unreached), so that U's memory stays in
 * proportion to the garbage. */
static void suspect(gc_pass *pass, void *obj, uint32_t bits, uintptr_t beyond)
{
    if (pass->suspects_dropped)
        return;
    if (RC_UNLIKELY(pass->unreach_len == pass->unreach_cap) && pass->unreach_len >= SUSPECTS_FREE &&
        pass->revived * 2 > pass->unreach_len) {
        pass->suspects_dropped = true; /* rather than U grow */
        return;
    }
    list_unseen(pass, obj, bits, beyond);
}

/* One member at the cursor. The first sweep also finds roots and suspects;
 * the later ones (after a stack overflow) scan what is REACHED. */
static inline void sweep_member(gc_pass *pass, void *obj, uintptr_t beyond, bool first)
{
    rc_object_head *head = rc_head_of(obj);
    uint32_t bits = head->gc_bits;
    if (!settled_member(bits) || state_of(bits) == SCANNED)
        return;
    if (state_of(bits) != REACHED) {
        if (!first)
            return;
        rc_gc_check_not_wrapped(obj);
        if (head->refcnt == 0) {
            suspect(pass, obj, bits, beyond);
            return;
        }
        pass->marked++; /* a root */
    }
    pass->cursor = sweep_key(pass, obj) | beyond;
    scan(pass, obj);
    scan_pushed(pass);
}

/* A span's blocks in the sweep's order: from first, step bytes at a time,
 * to last; beyond is UINTPTR_MAX when the sweep cannot place what it has
 * passed (a large block, or arenas that could not be sorted). */
typedef struct span_order {
    char *first, *last;
    ptrdiff_t step;
    uintptr_t beyond;
} span_order;

static inline span_order in_order(const gc_pass *pass, const rc_block_span *span)
{
    span_order o = {span->first, span->first + (span->count - 1) * span->stride,
                    (ptrdiff_t)span->stride, pass->ordered && !span->large ? 0 : UINTPTR_MAX};
    if (blocks_down(pass)) {
        char *t = o.first;
        o.first = o.last;
        o.last = t;
        o.step = -o.step;
    }
    return o;
}

static inline void sweep_span(const rc_block_span *span, gc_pass *pass, bool first)
{
    if (!span->count)
        return;
    span_order o = in_order(pass, span);
    pass->span_start = (uintptr_t)span->first;
    pass->span_bytes = span->count * span->stride;
    char *block = o.first;
    for (size_t i = 0; i < span->count; i++, block += o.step)
        sweep_member(pass, rc_block_object(block), o.beyond, first);
    /* the waiting edges, before the sweep meets any of their children, with
     * the whole span behind (the cursor stood at the last object scanned) */
    pass->cursor = sweep_key(pass, rc_block_object(o.last)) | o.beyond;
    drain(pass);
}

static void span_mark(const rc_block_span *span, void *arg) { sweep_span(span, arg, true); }
static void span_rescan(const rc_block_span *span, void *arg) { sweep_span(span, arg, false); }

static int compare_bases(const void *x, const void *y)
{
    const char *a = *(char *const *)x, *b = *(char *const *)y;
    return (a > b) - (a < b);
}

/* The arenas by address, in the order the objects were most likely made
 * in (see the top comment), into pass->bases, and key_flip to match; false
 * without memory (the sweep then places nothing). */
static bool order_arenas(gc_pass *pass)
{
    size_t n = rc_alloc_arena_bases(pass->heap, NULL, 0), rises = 0;
    if (n == 0)
        return true;
    char **bases = rc_sys_malloc(pass->heap, n * sizeof *bases);
    if (!bases)
        return false;
    rc_alloc_arena_bases(pass->heap, bases, n);
    for (size_t i = 0; i + 1 < n; i++)
        rises += bases[i] < bases[i + 1]; /* the newer, the lower */
    bool mapped_down = 2 * rises > n - 1, reverse = pass->votes[0] > 2 * pass->votes[1];
    qsort(bases, n, sizeof *bases, compare_bases);
    bool down = mapped_down != reverse;
    for (size_t i = 0; down && i < n / 2; i++) {
        char *t = bases[i];
        bases[i] = bases[n - 1 - i];
        bases[n - 1 - i] = t;
    }
    pass->key_flip = down ? ~(uintptr_t)(RC_ARENA_SIZE - 1) : 0;
    if (reverse)
        pass->key_flip ^= RC_ARENA_SIZE - 1; /* and the blocks within them */
    pass->bases = bases;
    pass->n_bases = n;
    return true;
}

/* A sweep in the order of key_flip, if order_arenas could make one. */
static void sweep(gc_pass *pass, rc_span_fn fn)
{
    if (!pass->ordered) {
        rc_alloc_object_spans(pass->heap, fn, pass);
        return;
    }
    for (size_t i = 0; i < pass->n_bases; i++)
        rc_alloc_arena_object_spans(pass->heap, pass->bases[i], blocks_down(pass), fn, pass);
    rc_alloc_large_object_spans(pass->heap, fn, pass);
}

/* The arenas' order is not needed past the search (key_flip stays). */
static void end_order(gc_pass *pass)
{
    rc_sys_free(pass->heap, pass->bases);
    pass->bases = NULL;
    pass->n_bases = 0;
}

static void span_list_unreached(const rc_block_span *span, void *arg)
{
    gc_pass *pass = arg;
    if (!span->count)
        return;
    span_order o = in_order(pass, span);
    char *block = o.first;
    for (size_t i = 0; i < span->count; i++, block += o.step) {
        void *obj = rc_block_object(block);
        uint32_t bits = rc_head_of(obj)->gc_bits;
        if (settled_member(bits) && state_of(bits) == UNSEEN)
            list_unseen(pass, obj, bits, o.beyond);
    }
}

/* U afresh, in the sweep's order, when suspects were dropped. */
static void list_unreached(gc_pass *pass)
{
    pass->unreach_len = 0;
    pass->u_bits = pass->u_type_flags = 0;
    pass->any_finalizers = pass->u_unordered = false;
    sweep(pass, span_list_unreached);
}

void rc_gc_find_unreachable_full(gc_pass *pass)
{
    rc_alloc_object_spans(pass->heap, span_subtract, pass);
    while (apply_oldest(pass, subtract_child)) {
    }
    pass->ordered = order_arenas(pass);
    sweep(pass, span_mark);
    while (pass->stack_overflow) {
        pass->stack_overflow = false;
        sweep(pass, span_rescan);
    }
    if (pass->suspects_dropped && pass->marked < pass->members)
        list_unreached(pass);
    end_order(pass);
}

/* ---- U ---- */

static inline bool is_unseen(const void *obj)
{
    return state_of(rc_head_of(obj)->gc_bits) == UNSEEN;
}

/* Drops U's entries of suspects reached after all; fn(pass, member) for
 * each member left, which is then unreach[u_kept - 1]. The walk ends when
 * it has met every member not reached (all of them are in U unless it
 * overflowed): a live heap met in another order than it was made has U
 * full of suspects reached later, and no member. */
static inline void keep_members(gc_pass *pass, gc_object_fn fn)
{
    size_t unreached = pass->unreach_overflow ? SIZE_MAX : pass->members - pass->marked;
    pass->u_kept = 0;
    for (size_t i = 0; i < pass->unreach_len && pass->u_kept < unreached; i++) {
        void *obj = pass->unreach[i];
        if (!is_unseen(obj))
            continue;
        pass->unreach[pass->u_kept++] = obj;
        fn(pass, obj);
    }
    pass->unreach_len = pass->u_kept;
    pass->survivors = pass->members - pass->u_kept;
}

bool rc_gc_simple_garbage(const gc_pass *pass)
{
    unsigned shown = RC_GC_DEBUG_SAVEALL | RC_GC_DEBUG_COLLECTABLE;
    return !rc_gc_any_weakrefs(pass) && !rc_gc_any_legacy(pass) && !pass->any_finalizers &&
           !pass->unreach_overflow && !(pass->heap->gc.debug & shown);
}

/* Clears a slot of simple garbage. A reference to a member of S was
 * subtracted and never given back, so it is only forgotten; a reference to
 * anything outside S is dropped (which may free it). */
static void visit_clear_subtracted(void *slot, void *arg)
{
    gc_pass *pass = arg;
    void *child = *(void **)slot;
    if (!child)
        return;
    *(void **)slot = NULL;
    if (!rc_gc_in_set(child, pass->gen))
        rc_decref(child);
}

static void clear_subtracted(gc_pass *pass, void *obj)
{
    rc_gc_traverse(obj, visit_clear_subtracted, pass);
}

/* The death of a member of simple garbage, cleared: every reference to it
 * came from U and is gone (its count is 0). What rc_object_release_cleared
 * does, less what simple garbage cannot need (a finalizer to run, weak
 * references, a weak reference's own death), inline in the loop that frees
 * a million objects: untracked (a member of U is in generation 2, examined,
 * in no list: rc_track_remove comes down to the count), counted out of
 * count[0] as at every death, destroyed, then its block recycled or freed. */
static inline void release_member(gc_pass *pass, void *obj)
{
    rc_heap *heap = pass->heap;
    rc_object_head *head = rc_head_of(obj);
    const rc_type *type = head->type;
    uint32_t bits = head->gc_bits;
    if (RC_UNLIKELY(head->refcnt != 0)) { /* a traverse reported a reference twice */
        head->gc_bits = bits & ~RC_GC_TEMP_BITS;
        rc_set_gen_index(head, FULL, RC_INDEX_NONE); /* it lives on, cleared */
        return;
    }
    RC_ASSERT(settled_member(bits) && rc_index_of(head) != RC_INDEX_PENDING);
    uint32_t large = bits & RC_LARGE;
    head->gc_bits = bits & (RC_FINALIZED | RC_LARGE); /* as destroy may look */
    heap->objects.gen_count[FULL]--;
    if (heap->objects.count0 > 0)
        heap->objects.count0--;
    if (type->destroy)
        type->destroy(obj);
    head->gc_bits = large; /* a small block's first 8 bytes are 0 */
    rc_object_free_dead(heap, obj, type, large, NULL);
}

/* Whether child, met while clearing unreach[u_kept - 1] (whose sweep_key is
 * the cursor), is a member of U cleared before it: then it is freed, and
 * must not be read. U lists its members in the sweep's order, so those
 * are the ones before the holder in that order, found by key in
 * unreach[0..u_kept): searched from the end, where a pair's or a ring's
 * partner lies, by doubling steps, then halving. */
static bool cleared_before(const gc_pass *pass, const void *child)
{
    uintptr_t key = sweep_key(pass, child);
    if (key >= pass->cursor)
        return false;
    void *const *u = pass->unreach;
    size_t hi = pass->u_kept - 1, step = 1;
    while (step <= hi && sweep_key(pass, u[hi - step]) > key) {
        hi -= step;
        step *= 2;
    }
    size_t lo = step <= hi ? hi - step : 0;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        uintptr_t at = sweep_key(pass, u[mid]);
        if (at == key)
            return true;
        if (at < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}

static void visit_clear_in_order(void *slot, void *arg)
{
    gc_pass *pass = arg;
    void *child = *(void **)slot;
    if (!child)
        return;
    *(void **)slot = NULL;
    if (!cleared_before(pass, child) && !rc_gc_in_set(child, FULL))
        rc_decref(child);
}

static void clear_and_release(gc_pass *pass, void *obj)
{
    pass->cursor = sweep_key(pass, obj);
    rc_gc_traverse(obj, visit_clear_in_order, pass);
    release_member(pass, obj);
}

/* Two traversals of each garbage object (subtract, clear), and no pass
 * over the survivors after the marking. If U is in the sweep's order, each
 * member is freed as soon as it is cleared (one walk over U, not two). */
void rc_gc_free_simple_garbage(gc_pass *pass)
{
    if (pass->ordered && !pass->u_unordered) {
        keep_members(pass, clear_and_release);
        return;
    }
    keep_members(pass, clear_subtracted);
    for (size_t i = 0; i < pass->unreach_len; i++)
        release_member(pass, pass->unreach[i]);
}

/* A member of U as a young collection's: marked, settled, held, and its
 * references given back. */
static void take_member(gc_pass *pass, void *obj)
{
    rc_object_head *head = rc_head_of(obj);
    head->gc_bits |= RC_UNREACHABLE;
    rc_set_gen_index(head, FULL, RC_INDEX_NONE);
    head->refcnt++; /* the hold */
    rc_gc_traverse(obj, rc_gc_visit_restore, pass);
}

/* Objects that did not fit in U: still UNSEEN once U's members are taken.
 * Each survives, its references given back. */
static void span_keep_left_out(const rc_block_span *span, void *arg)
{
    gc_pass *pass = arg;
    char *block = span->first;
    for (size_t i = 0; i < span->count; i++, block += span->stride) {
        void *obj = rc_block_object(block);
        rc_object_head *head = rc_head_of(obj);
        uint32_t bits = head->gc_bits;
        if (settled_member(bits) && state_of(bits) == UNSEEN) {
            head->gc_bits = bits | STATE(SCANNED);
            rc_gc_traverse(obj, rc_gc_visit_restore, pass);
        }
    }
}

void rc_gc_full_take_unreachable(gc_pass *pass)
{
    keep_members(pass, take_member);
    if (pass->unreach_overflow)
        rc_alloc_object_spans(pass->heap, span_keep_left_out, pass);
}
