/* collect_full.c: the search of a full collection (generations 0..2), and
 * the end of one whose garbage needs no user code.
 *
 * In a full collection S is every tracked object outside the permanent
 * generation, and each member ends in generation 2 whatever the search
 * finds. The young members were taken out of their lists when the
 * collection began (rc_track_detach_all_young), so the 23 index bits of
 * every member's gc_bits are free until it is settled: they hold its state.
 *
 *   REACHED  (RC_INDEX_NONE)  reached: scanned, or to be scanned (see
 *                             below); RC_INDEX_NONE is also the index of a
 *                             settled member of generation 2, so a survivor
 *                             needs nothing more
 *   STALLED  (NONE - 1)       reached, but left unscanned: the mark stack
 *                             could not grow
 *   UNSEEN   (NONE - 2)       settled in generation 2 (counted), not reached
 *
 * The search is two sweeps over the object blocks, with nothing to undo
 * after them:
 *
 *   subtract  each member x is settled (UNSEEN), and for each reference of
 *             x to a member c: c.refcnt--. Every count now counts the
 *             references from outside S.
 *   mark      each member x, in the sweep's order (its cursor):
 *               REACHED: scanned;
 *               UNSEEN with refcnt > 0 (a root): REACHED, and scanned;
 *               UNSEEN with refcnt 0: suspected: appended to U, for now
 *               (CPython's move_unreachable does the same).
 *             Scanning x gives, for each reference of x to a member c, c's
 *             count back (c.refcnt++) and, if c was UNSEEN, makes it
 *             REACHED: ahead of the cursor, the sweep scans it when it gets
 *             there; behind, it is pushed, and scanned (by the same rule)
 *             when the sweep has done the span it is in.
 *
 * So while the sweep can place what it has passed, a REACHED object ahead
 * of the cursor is not scanned yet, and one behind it is scanned or on the
 * stack: the sweep scans what it meets REACHED, and no scan writes the
 * object scanned. Where it cannot (the large blocks, or no order: below),
 * every object reached is pushed, and the sweep scans only the roots it
 * meets. Each edge of a reached object is subtracted once and given back
 * once, so the survivors' counts are exact and they end REACHED, settled:
 * no third pass restores or classifies them. U's members are its entries
 * still UNSEEN (a suspect reached later is not: walking U drops it). They
 * keep their references to S subtracted: when they need no user code,
 * rc_gc_free_simple_garbage clears each by forgetting those and dropping
 * the others, and frees it; otherwise rc_gc_full_take_unreachable gives
 * them back first, and marks them RC_UNREACHABLE for the steps after.
 *
 * The sweep's order (order_arenas) should be the order the objects were
 * made in: then the references of a chain or a tree built top down point
 * ahead, the sweep meets each child soon after reaching it, the stack
 * stays empty and the mark sweep walks memory once. It takes the arenas
 * in the order of the allocator's list, oldest first (the list puts an
 * arena at its front when it is mapped, or started on again once wholly
 * free), and each arena's pools and blocks upwards (the allocator fills
 * an arena's free pools lowest first): so however mmap placed the arenas
 * and the allocator reused them, a structure built in one go lies in the
 * sweep's order. If references to lower addresses within an arena
 * outnumber the others twice over (a structure built children first:
 * about one object in VOTER_EVERY votes, in the subtract sweep) it turns
 * the whole order around. (Turned around, a sweep walks memory downwards,
 * which costs more: 500,000 garbage pairs, whose references go both ways,
 * took 18 ns per object instead of 13 when sampling by parity turned
 * them.) Where the objects were made in another order (pools freed here
 * and there and reused), those the sweep passes before they are reached
 * are suspected and then pushed: correct, at some cost (and U's memory is
 * bounded: see suspect).
 * A position in the order is a sweep_key: the arena's place in the order
 * (a small table, by the arena's base) and the block's offset in it. The
 * large blocks come after every arena, so while the sweep is on them, or
 * if there was no memory for the order, the cursor is at the end and
 * every child reached is pushed; a large block reached from an arena is
 * pushed too.
 *
 * A reference to a header outside the span being swept (a pool), or in a
 * scan of a pushed object more than NEAR_BYTES from it and outside the
 * span (the right children of a tree built depth first), is applied later:
 * the header is prefetched and the edge waits in a ring of RC_GC_RING_SIZE
 * edges; waiting for each of those misses in turn made a full collection
 * of a large tree several times slower than of a chain. The others are in
 * the cache or on their way, and are applied at once, so that the sweep
 * does not pass a child in its span first. When an edge is applied does
 * not matter to the counts, only that each sweep applies all of its edges
 * (the mark sweep drains the ring at the end of every span, the subtract
 * sweep at its own end); a child is placed against the cursor when its
 * edge is applied.
 *
 * Out of memory: a child that cannot be pushed is STALLED, and another
 * sweep scans what is STALLED (as often as needed; it pushes every child
 * it reaches); an object that does not fit in U stays UNSEEN outside it,
 * and rc_gc_full_take_unreachable lets each of those survive with its
 * references given back (the caller then keeps alive what they reach in
 * U: see collect.c).
 */
#include "collect_pass.h"
#include "../alloc/object_block.h"
#include "../object/object_free.h"

#include <stdlib.h>
#include <string.h>

/* The sweeps' loops and visitors, each at the start of a cache line: their
 * speed depended on where the link put them, by 15% (a live chain of a
 * million objects collected over and over: 5.8 or 5.1 ns per object, the
 * same code in two builds). */
#define RC_GC_HOT __attribute__((aligned(64)))

/* States, in the index bits (see the top comment). */
#define REACHED     RC_INDEX_NONE
#define STALLED     (RC_INDEX_NONE - 1)
#define UNSEEN      (RC_INDEX_NONE - 2)
#define STATE_MASK  (RC_INDEX_NONE << RC_INDEX_SHIFT)
#define STATE(s)    ((uint32_t)(s) << RC_INDEX_SHIFT)
#define FULL        2u /* the generation collected */
#define MEMBER_MASK (STATE_MASK | RC_TRACKED | RC_GEN_MASK)
#define MEMBER(s)   (STATE(s) | RC_TRACKED | FULL) /* a settled member in state s */
#define NEAR_BYTES  4096 /* a reference this near a pushed object is applied at once */

enum {
    SUSPECTS_FREE = 1 << 16, /* suspects listed before any is dropped */
    VOTER_EVERY = 16,        /* objects whose references vote: about one in this many */
    PREFETCH_BYTES = 1024,   /* the sweeps ask for the memory this far ahead */
};

_Static_assert(UNSEEN != RC_INDEX_PENDING, "a member of U is never counted as pending");
_Static_assert(STATE(REACHED) == STATE_MASK, "reaching an object sets its index bits");

static inline uint32_t state_of(uint32_t bits) { return bits >> RC_INDEX_SHIFT; }

/* From the mark on, every member of S is settled in generation 2: being a
 * member is one test of gc_bits, and so is being one in a given state. */
static inline bool settled_member(uint32_t bits)
{
    return (bits & (RC_TRACKED | RC_GEN_MASK)) == (RC_TRACKED | FULL);
}

static inline bool member_in(uint32_t bits, uint32_t state)
{
    return (bits & MEMBER_MASK) == MEMBER(state);
}

/* ---- the sweep's order ---- */

#define ARENA_MASK ((uintptr_t)RC_ARENA_SIZE - 1)

static inline size_t rank_slot(const gc_pass *pass, uintptr_t base)
{
    return (size_t)((base >> RC_MAP_GRANULE_BITS) * UINT64_C(0x9E3779B97F4A7C15) >> 32) &
           pass->rank_mask;
}

/* The place in the sweep's order (bases) of the arena holding address c;
 * n_bases for an address in no arena of the search (a large block). The
 * table is open-addressed: each slot holds an arena's base, or-ed with its
 * place, or 0. */
static RC_NOINLINE uintptr_t arena_rank(const gc_pass *pass, uintptr_t c)
{
    uintptr_t base = c & ~ARENA_MASK;
    for (size_t i = rank_slot(pass, base);; i = (i + 1) & pass->rank_mask) {
        uintptr_t e = pass->ranks[i];
        if ((e & ~ARENA_MASK) == base)
            return e & ARENA_MASK;
        if (e == 0)
            return pass->n_bases;
    }
}

/* The sweep's order of p (a position in it; p's block, not its header):
 * the place of its arena, then its place in the arena, upwards or
 * downwards (block_flip). */
static inline uintptr_t sweep_key(const gc_pass *pass, const void *p)
{
    uintptr_t c = (uintptr_t)p;
    uintptr_t rank =
        (c & ~ARENA_MASK) == pass->cursor_arena ? pass->cursor_rank : arena_rank(pass, c);
    return rank << RC_MAP_GRANULE_BITS | ((c ^ pass->block_flip) & ARENA_MASK);
}

/* Whether the sweep takes an arena's blocks downwards. */
static inline bool blocks_down(const gc_pass *pass) { return pass->block_flip != 0; }

/* Whether the sweep has passed child (or is at it), so that child must be
 * pushed when reached. A large block counts as passed while the sweep is
 * in the arenas: reached, it is pushed, so that everything reached is
 * pushed once the sweep cannot place what it passes (see sweep_member). */
static inline bool passed(const gc_pass *pass, const void *child)
{
    uintptr_t c = (uintptr_t)child;
    if ((c & ~ARENA_MASK) == pass->cursor_arena)
        return (c ^ pass->block_flip) <= pass->cursor;
    if (pass->cursor == UINTPTR_MAX)
        return true;
    uintptr_t rank = arena_rank(pass, c);
    return rank < pass->cursor_rank || rank == pass->n_bases;
}

/* ---- the span being swept, and the ring of edges waiting ---- */

static inline void enter_span(gc_pass *pass, const rc_block_span *span)
{
    pass->span_start = (uintptr_t)span->first;
    pass->span_bytes = span->count * span->stride;
}

/* Whether child is a block of the span being swept (never NULL: NULL lies
 * below every span). */
static inline bool in_span(const gc_pass *pass, const void *child)
{
    return (uintptr_t)child - pass->span_start < pass->span_bytes;
}

/* Whether child lies within NEAR_BYTES of the pushed object being scanned
 * (never NULL). */
static inline bool near_holder(const gc_pass *pass, const void *child)
{
    return (uintptr_t)child - pass->near_from < 2 * NEAR_BYTES;
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
    if (RC_LIKELY(in_span(pass, child)))
        subtract_child(pass, child);
    else if (child)
        defer_edge(pass, child, subtract_child);
}

RC_GC_HOT static void visit_subtract(void *slot, void *arg) { subtract_edge(arg, *(void **)slot); }

/* The references of one object in about VOTER_EVERY also vote for the
 * direction of the sweep: most point from an object to objects made before
 * it (a structure built children first) or after it (built top down), and
 * the sweep should meet each object before its children. */
static void visit_subtract_voting(void *slot, void *arg)
{
    gc_pass *pass = arg;
    void *child = *(void **)slot;
    if (((uintptr_t)child ^ pass->voter) <= ARENA_MASK) /* in its arena */
        pass->votes[(uintptr_t)child > pass->voter]++;
    subtract_edge(pass, child);
}

/* Settles the members among the blocks [block, end), stride bytes apart,
 * in generation 2, UNSEEN (every member is then in generation 2,
 * examined; settle_counts sets the counts), and subtracts their references
 * (visiting them with visit; voting: they vote); returns how many there
 * were. */
static inline size_t subtract_blocks(gc_pass *pass, char *block, char *end, size_t stride,
                                     rc_visit_fn visit, bool voting)
{
    size_t members = 0;
    for (; block != end; block += stride) {
        __builtin_prefetch(block + PREFETCH_BYTES, 1, 3);
        void *obj = rc_block_object(block);
        rc_object_head *head = rc_head_of(obj);
        uint32_t bits = head->gc_bits;
        if (RC_UNLIKELY(!rc_gc_bits_in_set(bits, FULL)))
            continue;
        head->gc_bits = (bits & ~(RC_GEN_MASK | STATE_MASK)) | FULL | STATE(UNSEEN);
        members++;
        if (voting)
            pass->voter = (uintptr_t)obj;
        rc_gc_traverse(obj, visit, pass);
    }
    return members;
}

/* Each a loop of its own, few values live across the calls of traverse. */
RC_GC_HOT static RC_NOINLINE size_t subtract_run(gc_pass *pass, char *block, char *end,
                                                 size_t stride)
{
    return subtract_blocks(pass, block, end, stride, visit_subtract, false);
}

RC_GC_HOT static RC_NOINLINE size_t subtract_run_voting(gc_pass *pass, char *block, char *end,
                                                        size_t stride)
{
    return subtract_blocks(pass, block, end, stride, visit_subtract_voting, true);
}

/* The subtract sweep over a span. A run of about one block in
 * VOTER_EVERY votes, from a place that changes from span to span by no
 * regular step (a regular heap repeats itself: pairs); a run, so that the
 * call of the visitor changes its target twice a span, not at every vote. */
static void span_subtract(const rc_block_span *span, void *arg)
{
    gc_pass *pass = arg;
    enter_span(pass, span);
    size_t n = span->count, stride = span->stride, run = (n + VOTER_EVERY - 1) / VOTER_EVERY;
    uint32_t h = (uint32_t)(++pass->spans_seen * UINT32_C(0x9E3779B9));
    size_t at = (size_t)(((uint64_t)h * (n - run + 1)) >> 32);
    char *first = span->first, *vote = first + at * stride, *rest = vote + run * stride;
    pass->members += subtract_run(pass, first, vote, stride) +
                     subtract_run_voting(pass, vote, rest, stride) +
                     subtract_run(pass, rest, first + n * stride, stride);
}

/* ---- mark ---- */

/* Pushes child, just reached behind the cursor; STALLED if the stack
 * cannot grow (a later sweep scans it). */
static RC_NOINLINE void reached_behind(gc_pass *pass, void *child)
{
    size_t len = pass->stack_len;
    pass->marked++; /* the sweep counts those it meets REACHED */
    pass->revived++;
    rc_gc_push(pass, child);
    if (RC_UNLIKELY(pass->stack_len == len))
        rc_head_of(child)->gc_bits &= ~STATE(REACHED ^ STALLED);
}

/* An edge to child, met by a scan: child's count given back; if it was
 * UNSEEN, it is REACHED, and pushed if the sweep has passed it (in_span:
 * child is in the span the sweep is on, whose order is that of the
 * addresses ^ flip, flip being block_flip). The calls are the last thing it
 * does, so that the visitors need no frame. */
static inline void mark_child(gc_pass *pass, void *child, bool in_span, uintptr_t flip)
{
    rc_object_head *head = rc_head_of(child);
    uint32_t bits = head->gc_bits;
    if (RC_LIKELY(member_in(bits, UNSEEN))) {
        head->refcnt++;
        head->gc_bits = bits | STATE(REACHED);
        if (RC_UNLIKELY(in_span ? ((uintptr_t)child ^ flip) <= pass->cursor : passed(pass, child)))
            reached_behind(pass, child); /* suspected, or unordered */
    } else if (settled_member(bits)) {
        head->refcnt++;
    }
}

static void apply_mark(gc_pass *pass, void *child) { mark_child(pass, child, false, 0); }

static RC_NOINLINE void defer_mark(gc_pass *pass, void *child)
{
    defer_edge(pass, child, apply_mark);
}

/* The references of an object the sweep scans at its cursor. */
static inline void mark_edge(gc_pass *pass, void *child, uintptr_t flip)
{
    if (RC_LIKELY(in_span(pass, child)))
        mark_child(pass, child, true, flip);
    else if (child)
        defer_mark(pass, child);
}

RC_GC_HOT static void visit_mark(void *slot, void *arg)
{
    gc_pass *pass = arg;
    mark_edge(pass, *(void **)slot, pass->block_flip);
}

/* The same, the sweep taking the blocks upwards (block_flip 0). */
RC_GC_HOT static void visit_mark_up(void *slot, void *arg) { mark_edge(arg, *(void **)slot, 0); }

/* The references of a pushed object (behind the cursor, anywhere). */
static void visit_mark_pushed(void *slot, void *arg)
{
    gc_pass *pass = arg;
    void *child = *(void **)slot;
    if (near_holder(pass, child) || in_span(pass, child))
        mark_child(pass, child, false, 0);
    else if (child)
        defer_mark(pass, child);
}

static void scan_pushed(gc_pass *pass)
{
    while (pass->stack_len) {
        void *obj = pass->stack[--pass->stack_len];
        pass->near_from = (uintptr_t)obj - NEAR_BYTES;
        rc_gc_traverse(obj, visit_mark_pushed, pass);
    }
}

/* Applies every edge waiting, and scans what that pushes. */
static void drain(gc_pass *pass)
{
    do
        scan_pushed(pass);
    while (apply_oldest(pass, apply_mark));
}

/* Lists obj, UNSEEN, in U. */
static inline void list_unseen(gc_pass *pass, void *obj, uint32_t bits, uintptr_t beyond)
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
static inline void suspect(gc_pass *pass, void *obj, uint32_t bits, uintptr_t beyond)
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

/* One member at the cursor, in the first sweep: scanned if REACHED or a
 * root, suspected if UNSEEN with no reference from outside S. Returns 1 if
 * it was scanned (marked: reached ahead of the sweep, or a root). */
static inline size_t sweep_member(gc_pass *pass, void *obj, uintptr_t flip, uintptr_t beyond,
                                  rc_visit_fn visit)
{
    rc_object_head *head = rc_head_of(obj);
    uint32_t bits = head->gc_bits;
    if (RC_UNLIKELY(!member_in(bits, REACHED))) {
        if (!member_in(bits, UNSEEN))
            return 0;
        rc_gc_check_not_wrapped(obj);
        if (head->refcnt == 0) {
            suspect(pass, obj, bits, beyond);
            return 0;
        }
        head->gc_bits = bits | STATE(REACHED); /* a root */
    } else if (beyond) {
        return 0; /* pushed when reached: scanned from the stack */
    }
    pass->cursor = ((uintptr_t)obj ^ flip) | beyond;
    rc_gc_traverse(obj, visit, pass);
    return 1;
}

/* The usual span: its blocks upwards, the sweep placing what it passes. */
RC_GC_HOT static RC_NOINLINE size_t mark_run_up(gc_pass *pass, char *block, char *end,
                                                size_t stride)
{
    size_t marked = 0;
    for (; block != end; block += stride) {
        __builtin_prefetch(block + PREFETCH_BYTES, 1, 3);
        marked += sweep_member(pass, rc_block_object(block), 0, 0, visit_mark_up);
    }
    return marked;
}

/* A span's blocks in the sweep's order: from first, step bytes at a time,
 * to last; beyond is UINTPTR_MAX when the sweep cannot place what it has
 * passed (a large block, or no order: no memory for its table). */
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

/* The first sweep over a span; the pushed objects are scanned, and the
 * waiting edges applied, at its end, with the whole span behind. */
static void span_mark(const rc_block_span *span, void *arg)
{
    gc_pass *pass = arg;
    if (!span->count)
        return;
    span_order o = in_order(pass, span);
    enter_span(pass, span);
    if (o.step > 0 && !o.beyond) {
        pass->marked += mark_run_up(pass, o.first, o.last + o.step, (size_t)o.step);
    } else {
        ptrdiff_t ahead = o.step > 0 ? PREFETCH_BYTES : -PREFETCH_BYTES;
        for (char *block = o.first;; block += o.step) {
            __builtin_prefetch(block + ahead, 1, 3);
            pass->marked +=
                sweep_member(pass, rc_block_object(block), pass->block_flip, o.beyond, visit_mark);
            if (block == o.last)
                break;
        }
    }
    pass->cursor = ((uintptr_t)rc_block_object(o.last) ^ pass->block_flip) | o.beyond;
    drain(pass);
}

/* A later sweep (after the stack could not grow): the STALLED objects are
 * scanned, with the cursor at the end (every child reached is pushed). */
static void span_rescan(const rc_block_span *span, void *arg)
{
    gc_pass *pass = arg;
    enter_span(pass, span);
    char *block = span->first;
    for (size_t i = 0; i < span->count; i++, block += span->stride) {
        void *obj = rc_block_object(block);
        rc_object_head *head = rc_head_of(obj);
        if (member_in(head->gc_bits, STALLED)) {
            head->gc_bits |= STATE(REACHED);
            pass->near_from = (uintptr_t)obj - NEAR_BYTES;
            rc_gc_traverse(obj, visit_mark_pushed, pass);
        }
    }
    drain(pass);
}

/* The arenas in the order the objects were most likely made in (see the
 * top comment), into pass->bases, with the table of their places and
 * block_flip to match; false without memory, or arenas (the sweep then
 * places nothing). */
static bool order_arenas(gc_pass *pass)
{
    size_t n = rc_alloc_arena_bases(pass->heap, NULL, 0), slots = 4;
    if (n == 0 || n > ARENA_MASK)
        return false; /* nothing to place, or places would not fit */
    while (slots < 2 * n)
        slots *= 2;
    char **bases = rc_sys_malloc(pass->heap, (n + slots) * sizeof(uintptr_t));
    if (!bases)
        return false;
    rc_alloc_arena_bases(pass->heap, bases, n); /* the one last started on first */
    bool reverse = pass->votes[0] > 2 * pass->votes[1];
    for (size_t i = 0; !reverse && i < n / 2; i++) { /* oldest first */
        char *t = bases[i];
        bases[i] = bases[n - 1 - i];
        bases[n - 1 - i] = t;
    }
    pass->block_flip = reverse ? ARENA_MASK : 0;
    pass->bases = bases;
    pass->n_bases = n;
    pass->ranks = memset((uintptr_t *)(bases + n), 0, slots * sizeof(uintptr_t));
    pass->rank_mask = slots - 1;
    for (size_t r = 0; r < n; r++) {
        size_t i = rank_slot(pass, (uintptr_t)bases[r]);
        while (pass->ranks[i])
            i = (i + 1) & pass->rank_mask;
        pass->ranks[i] = (uintptr_t)bases[r] | r;
    }
    return true;
}

/* The cursor in arena number r of the sweep's order (base; n_bases and
 * no base for the large blocks, which follow every arena). */
static void enter_arena(gc_pass *pass, size_t r, uintptr_t base)
{
    pass->cursor_arena = base;
    pass->cursor_rank = r;
}

/* A sweep in the order of bases, if order_arenas could make one. */
static void sweep(gc_pass *pass, rc_span_fn fn)
{
    if (!pass->ordered) {
        rc_alloc_object_spans(pass->heap, fn, pass);
        return;
    }
    for (size_t r = 0; r < pass->n_bases; r++) {
        enter_arena(pass, r, (uintptr_t)pass->bases[r]);
        rc_alloc_arena_object_spans(pass->heap, pass->bases[r], blocks_down(pass), fn, pass);
    }
    enter_arena(pass, pass->n_bases, 1); /* 1: no arena's base */
    rc_alloc_large_object_spans(pass->heap, fn, pass);
}

/* The order is needed until U is cleared (cleared_before). */
static void end_order(gc_pass *pass)
{
    rc_sys_free(pass->heap, pass->bases);
    pass->bases = NULL;
    pass->ranks = NULL;
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
        if (member_in(bits, UNSEEN))
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

/* The generation counts, in one go rather than member by member (the
 * branches of counting each cost more than the rest of a member's step in
 * the subtract sweep): every member of S, which is every tracked object
 * outside the permanent generation, is now in generation 2 and examined,
 * so generation 2 counts them all and none is pending. rc_gc_validate
 * checks the counts after each collection in the debug builds. */
static void settle_counts(gc_pass *pass)
{
    rc_object_state *objects = &pass->heap->objects;
    RC_ASSERT(objects->gen_count[0] == 0 && objects->gen_count[1] == 0);
    objects->gen_count[FULL] = pass->members;
    objects->old_pending = 0;
}

void rc_gc_find_unreachable_full(gc_pass *pass)
{
    rc_alloc_object_spans(pass->heap, span_subtract, pass);
    while (apply_oldest(pass, subtract_child)) {
    }
    settle_counts(pass);
    pass->ordered = order_arenas(pass);
    sweep(pass, span_mark);
    pass->cursor = UINTPTR_MAX; /* past every arena: the later sweeps push what they reach */
    while (pass->stack_overflow) {
        pass->stack_overflow = false;
        rc_alloc_object_spans(pass->heap, span_rescan, pass);
    }
    if (pass->suspects_dropped && pass->marked < pass->members)
        list_unreached(pass);
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

/* The death of a member of simple garbage, cleared: every reference to it
 * came from U and is gone (its count is 0). What rc_object_release_cleared
 * does, less what simple garbage cannot need (a finalizer to run, weak
 * references, a weak reference's own death), inline in the loop that frees
 * a million objects: untracked (a member of U is in generation 2, examined,
 * in no list: rc_track_remove comes down to the count), counted out of
 * count[0] as at every death, destroyed, then its block recycled or freed. */
static inline void release_member(gc_pass *pass, void *obj, struct rc_arena *arena)
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
    rc_object_free_dead(heap, obj, type, large, large ? NULL : arena);
}

/* Whether child, met while clearing the holder and before it in the
 * sweep's order, is a member of U cleared before it: then it is freed, and
 * must not be read. U lists its members in the sweep's order, so those
 * are the ones before the holder: the member just before it (a pair's
 * partner), or one found by key in unreach[0..u_kept - 1), searched from
 * the end, where a ring's partner lies, by doubling steps, then halving. */
static RC_NOINLINE bool cleared_before(const gc_pass *pass, const void *child)
{
    void *const *u = pass->unreach;
    size_t hi = pass->u_kept - 1, step = 1;
    uintptr_t key = sweep_key(pass, child);
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

/* A reference of garbage to child: forgotten if child is a member of S (it
 * was subtracted), dropped if not. */
static inline void clear_edge(void *child)
{
    if (!rc_gc_in_set(child, FULL))
        rc_decref(child);
}

/* Clears a slot of simple garbage not in the sweep's order (no member of
 * U is freed before all are cleared). */
static void visit_clear_subtracted(void *slot, void *arg)
{
    (void)arg;
    void *child = *(void **)slot;
    if (!child)
        return;
    *(void **)slot = NULL;
    clear_edge(child);
}

static void clear_subtracted(gc_pass *pass, void *obj)
{
    rc_gc_traverse(obj, visit_clear_subtracted, pass);
}

/* clear_edge, unless child is a member of U cleared (freed) already: child
 * is in another arena than the holder, or before it in its arena. */
static RC_NOINLINE void clear_edge_elsewhere(gc_pass *pass, void *child)
{
    uintptr_t c = (uintptr_t)child;
    bool before =
        (c & ~ARENA_MASK) == pass->cursor_arena || arena_rank(pass, c) < pass->cursor_rank;
    if (!before || !cleared_before(pass, child))
        clear_edge(child);
}

/* A slot of the holder, being cleared. The members of U are cleared in
 * the sweep's order, so a child ahead of the holder in its arena is not
 * freed yet, and one just before it is. */
static void visit_clear_in_order(void *slot, void *arg)
{
    gc_pass *pass = arg;
    void *child = *(void **)slot;
    if (!child)
        return;
    *(void **)slot = NULL;
    uintptr_t c = (uintptr_t)child;
    if (RC_LIKELY((c & ~ARENA_MASK) == pass->cursor_arena &&
                  (c ^ pass->block_flip) > (pass->holder ^ pass->block_flip))) {
        clear_edge(child);
    } else if (child != pass->previous) {
        clear_edge_elsewhere(pass, child);
    }
}

/* Clears and frees obj, the next member of U (unreach[u_kept - 1]); the
 * member before it (if any) is previous. */
static void clear_and_release(gc_pass *pass, void *obj)
{
    uintptr_t c = (uintptr_t)obj;
    if ((c & ~ARENA_MASK) != pass->cursor_arena) {
        enter_arena(pass, arena_rank(pass, c), c & ~ARENA_MASK);
        pass->holder_arena = rc_alloc_object_arena(rc_head_of(obj)); /* NULL: none */
    }
    pass->previous = (void *)pass->holder;
    pass->holder = c;
    rc_gc_traverse(obj, visit_clear_in_order, pass);
    release_member(pass, obj, pass->holder_arena);
}

/* Two traversals of each garbage object (subtract, clear), and no pass
 * over the survivors after the marking. If U is in the sweep's order, each
 * member is freed as soon as it is cleared (one walk over U, not two). */
void rc_gc_free_simple_garbage(gc_pass *pass)
{
    if (pass->ordered && !pass->u_unordered) {
        keep_members(pass, clear_and_release);
    } else {
        keep_members(pass, clear_subtracted);
        for (size_t i = 0; i < pass->unreach_len; i++)
            release_member(pass, pass->unreach[i], NULL);
    }
    end_order(pass);
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
        if (member_in(bits, UNSEEN)) {
            head->gc_bits = bits | STATE(REACHED);
            rc_gc_traverse(obj, rc_gc_visit_restore, pass);
        }
    }
}

void rc_gc_full_take_unreachable(gc_pass *pass)
{
    end_order(pass);
    keep_members(pass, take_member);
    if (pass->unreach_overflow)
        rc_alloc_object_spans(pass->heap, span_keep_left_out, pass);
}
