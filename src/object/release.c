/* release.c: what happens when an object's count reaches zero.
 *
 * Death, in CPython's order: finalize (once per object; it may resurrect by
 * taking a reference), untrack, clear weak references (their callbacks run),
 * then release: traverse with rc_release_visit drops every reference the
 * object holds, destroy frees what it owns, and the block is freed, or kept
 * on a free list for the next object of its type and size (recycle.c).
 *
 * Release never recurses. The first death on a heap runs the release loop;
 * an object that dies while the loop runs (a child whose last reference was
 * just dropped) is pushed on the release stack and released by the same
 * loop later. So freeing a 10-million-long chain uses constant C stack.
 *
 * The release stack holds its top RC_RELEASE_BUFFER objects in an array
 * in the heap (two instructions a push or pop) and links any more through
 * the dead objects themselves, so it never needs memory: a spilled object's
 * refcnt holds bits 4..35 of the next spilled object's address and gc_bits
 * bits 20..31 hold bits 36..47 (objects are 16-aligned, user space
 * addresses fit in 48 bits). Every object on the stack has its TRACKED bit
 * clear, so the collector never looks at it; its LARGE bit and its type
 * pointer are kept for the loop. An object in the array has refcnt 0, and
 * beside it the arena its death found (rc_release_entry), so that its free
 * does not look the address up again; a spilled one is looked up again.
 * The loop knows its heap and the arena of the object it releases, so the
 * death of a child in the same arena granule needs no lookup at all, and
 * one of its own heap needs neither the thread's heap nor the running
 * check (child_reached_zero).
 *
 * The held child: the last plain child a release frees is not pushed but
 * held (release_parent.held), and the loop releases it next without a pop:
 * a push and a pop fewer for every object that frees a child. The held
 * child is the stack's top in all but storage: whatever would push, or run
 * code that might (another death's call out, a destroy hook, a traverse's
 * end), first hands it over to the stack (hand_over_held), so objects are
 * released in exactly the order a stack of every child gives.
 *
 * Order: the children an object's release frees are taken in the order that
 * walks memory one way, forwards for a structure built top-down, backwards
 * for one built bottom-up (see release_slots).
 */
#include "object_internal.h"
#include "../alloc/debug_guard.h"
#include "../alloc/object_block.h"
#include "object_free.h"

enum { LINK_HIGH_SHIFT = 20 };

static void spill_push(rc_object_state *state, void *obj)
{
    uintptr_t next = (uintptr_t)state->release_spill >> 4;
    if (RC_UNLIKELY(next >> 44))
        rc_fatal("object address %p beyond 48 bits: cannot release it", obj);
    rc_object_head *head = rc_head_of(obj);
    head->refcnt = (uint32_t)next;
    head->gc_bits = (head->gc_bits & RC_LARGE) | (uint32_t)(next >> 32) << LINK_HIGH_SHIFT;
    state->release_spill = obj;
}

static void *spill_pop(rc_object_state *state)
{
    void *obj = state->release_spill;
    if (!obj)
        return NULL;
    rc_object_head *head = rc_head_of(obj);
    uintptr_t next = (uintptr_t)head->refcnt | (uintptr_t)(head->gc_bits >> LINK_HIGH_SHIFT) << 32;
    state->release_spill = (void *)(next << 4);
    head->refcnt = 0;
    head->gc_bits &= RC_LARGE;
    return obj;
}

/* The header of a dead object waiting for the release loop, in the array
 * or held (below): refcnt 0 and gc_bits large, its RC_LARGE; one 8-byte
 * store for a pool block's. */
static RC_ALWAYS_INLINE void mark_queued(rc_object_head *head, uint32_t large)
{
    head->refcnt = 0;
    head->gc_bits = large;
}

/* Pushes dead obj, whose gc_bits' RC_LARGE is large (the caller knows
 * it). */
static RC_ALWAYS_INLINE void release_push(rc_object_state *state, void *obj, rc_arena *arena,
                                          uint32_t large)
{
    rc_release_entry *top = state->release_top;
    if (RC_LIKELY(top < state->release_buffer + RC_RELEASE_BUFFER)) {
        mark_queued(rc_head_of(obj), large);
        *top = (rc_release_entry){obj, arena};
        state->release_top = top + 1;
        return;
    }
    spill_push(state, obj);
}

/* The next object to release in *obj, and in *arena its arena or NULL;
 * false if the stack is empty. */
static inline bool release_pop(rc_object_state *state, void **obj, rc_arena **arena)
{
    rc_release_entry *top = state->release_top;
    if (RC_LIKELY(top > state->release_buffer)) {
        state->release_top = --top;
        *obj = top->obj;
        *arena = top->arena;
        return true;
    }
    *arena = NULL;
    *obj = spill_pop(state);
    return *obj != NULL;
}

/* Reverses the objects pushed to the array since its top was mark, unless
 * some spilled: the children an object released are then freed in the
 * order its traverse visited them. */
static inline void reverse_pushed(rc_object_state *state, rc_release_entry *mark, const void *spill)
{
    if (state->release_spill != spill)
        return;
    rc_release_entry *lo = mark;
    rc_release_entry *hi = state->release_top - 1;
    if (hi == lo + 1) { /* two children, the common case */
        rc_release_entry t = *lo;
        *lo = *hi;
        *hi = t;
        return;
    }
    for (; lo < hi; lo++, hi--) {
        rc_release_entry t = *lo;
        *lo = *hi;
        *hi = t;
    }
}

static RC_NOINLINE void release_loop(rc_heap *heap);

/* Runs finalize on an object whose count just reached zero; true if it
 * resurrected the object (which then lives on, finalized). */
static bool finalize_dying(void *obj, const rc_type *type)
{
    rc_object_head *head = rc_head_of(obj);
    head->gc_bits |= RC_FINALIZED;
    head->refcnt = 1;
    type->finalize(obj);
    if (head->refcnt == RC_IMMORTAL)
        return true;
    return --head->refcnt != 0;
}

/* An untracked dying object is no longer pending if it was. */
static inline void leave_pending(rc_object_state *state, const void *obj)
{
    if (obj == state->pending_immutable)
        state->pending_immutable = NULL;
}

/* The object leaves the collector: untracked and no longer counted in
 * count0 if it was tracked, no longer pending if it was. */
static inline void leave_collector(rc_heap *heap, void *obj)
{
    rc_object_state *state = &heap->objects;
    if (rc_track_remove(heap, obj)) {
        if (state->count0 > 0)
            state->count0--;
    } else {
        leave_pending(state, obj);
    }
}

/* What every death does after finalize and before release: a dying weak
 * reference leaves its referent, the object leaves the collector, and weak
 * references to it are cleared (their callbacks run). */
static inline void leave_heap(rc_heap *heap, void *obj)
{
    rc_object_head *head = rc_head_of(obj);
    const rc_type *type = head->type;
    if (RC_UNLIKELY(type->flags & RC_TYPE_INTERNAL_WEAKREF))
        heap->hooks.weakref_dying(heap, obj);
    leave_collector(heap, obj);
    if (RC_UNLIKELY(head->gc_bits & RC_WEAKREFS))
        heap->hooks.clear_weakrefs(heap, obj);
}

/* Dead obj (of arena, or NULL: unknown) joins the release stack, and the
 * release loop runs unless it is running already (it takes obj in turn). */
static inline void queue_release(rc_heap *heap, void *obj, rc_arena *arena)
{
    release_push(&heap->objects, obj, arena, rc_head_of(obj)->gc_bits & RC_LARGE);
    if (!heap->objects.releasing)
        release_loop(heap);
}

/* Whether the death of an object of type, with gc_bits bits and no weak
 * references, calls out: a finalizer that has not run, or the weak
 * reference layer (the object is a weak reference). */
static inline bool type_calls_out(const rc_type *type, uint32_t bits)
{
    return (type->finalize && !(bits & RC_FINALIZED)) || (type->flags & RC_TYPE_INTERNAL_WEAKREF);
}

/* Whether a death calls out: type_calls_out, or weak references to the
 * object exist. */
static inline bool death_calls_out(const rc_object_head *head, const rc_type *type)
{
    return type_calls_out(type, head->gc_bits) || (head->gc_bits & RC_WEAKREFS);
}

static RC_NOINLINE void object_dies_calling_out(rc_heap *heap, void *obj)
{
    rc_object_head *head = rc_head_of(obj);
    const rc_type *type = head->type;
    head->refcnt = 0; /* a child's death leaves it to the push */
    if (type->finalize && !(head->gc_bits & RC_FINALIZED) && finalize_dying(obj, type))
        return;
    leave_heap(heap, obj);
    queue_release(heap, obj, NULL);
}

/* The start of a death that does not call out: obj leaves the collector
 * and true is returned (the caller queues it); a death that calls out is
 * taken whole by object_dies_calling_out, and false returned. The
 * commonest death, of an untracked object without weak references whose
 * type does not call out, is tested first, its header bits at once. */
static RC_ALWAYS_INLINE bool leave_plainly(rc_heap *heap, void *obj)
{
    rc_object_head *head = rc_head_of(obj);
    uint32_t bits = head->gc_bits;
    if (RC_LIKELY(!(bits & (RC_TRACKED | RC_WEAKREFS)) && !type_calls_out(head->type, bits))) {
        leave_pending(&heap->objects, obj);
        return true;
    }
    if (RC_UNLIKELY(death_calls_out(head, head->type))) {
        object_dies_calling_out(heap, obj);
        return false;
    }
    leave_collector(heap, obj);
    return true;
}

/* A death. The common one (no call out) is the untracking and a push,
 * with no register saved but the frame pointer; the rest is out of line,
 * as is the release loop (inlined, its six saved registers were paid by
 * every death, most of which only push a child for the running loop). */
static inline void object_dies(rc_heap *heap, void *obj, rc_arena *arena)
{
    if (leave_plainly(heap, obj))
        queue_release(heap, obj, arena);
}

/* rc_decref_slow's rare cases are out of line too, so that its common one
 * (a pool object of the caller's current heap) saves no registers either. */

static RC_NORETURN RC_NOINLINE void already_dead(void *obj)
{
    rc_debug_check_object_use(obj, "rc_decref"); /* a debug heap says more */
    rc_fatal("rc_decref(%p): the object is already dead (reference count 0): a "
             "reference was dropped twice, or the object was used after it was freed",
             obj);
}

static RC_NOINLINE void object_dies_elsewhere(rc_heap *heap, void *obj)
{
    bool taken = rc_heap_take(heap, "rc_decref (last reference)");
    object_dies(heap, obj, NULL);
    if (taken)
        rc_heap_release(heap);
}

/* obj, of heap (and of arena if its block is a plain pool block, else
 * NULL), has just lost its last reference. */
static inline void last_reference_dropped(rc_heap *heap, rc_arena *arena, void *obj)
{
    rc_head_of(obj)->refcnt = 0;
    if (RC_LIKELY(heap == rc_thread_heap()))
        object_dies(heap, obj, arena);
    else
        object_dies_elsewhere(heap, obj);
}

/* The same for an object whose block takes the out-of-line paths. */
static RC_NOINLINE void out_of_line_block_dies(void *obj)
{
    last_reference_dropped(rc_alloc_object_owner_slow(rc_head_of(obj)), NULL, obj);
}

/* rc_decref_slow's body. */
static RC_ALWAYS_INLINE void count_reached_zero(void *obj)
{
    rc_object_head *head = rc_head_of(obj);
    if (RC_UNLIKELY(head->refcnt == 0))
        already_dead(obj);
    if (RC_UNLIKELY(head->gc_bits & RC_LARGE)) {
        out_of_line_block_dies(obj);
    } else {
        rc_arena *arena = rc_alloc_object_arena(head);
        last_reference_dropped(rc_alloc_arena_heap(arena), arena, obj);
    }
}

void rc_decref_slow(void *obj) { count_reached_zero(obj); }

/* Drops one reference to child (NULL-safe), without touching the slot it
 * came from; true if that was the last one, or if the count was 0 already
 * (a misuse, which the caller's death path catches). */
static RC_ALWAYS_INLINE bool drop_is_last(void *child)
{
    if (!child)
        return false;
    rc_object_head *head = rc_head_of(child);
    uint32_t count = head->refcnt;
    if (count == 1)
        return true;
    if (RC_LIKELY(count - 2 < RC_IMMORTAL - 2)) { /* 2 .. RC_IMMORTAL - 1 */
        head->refcnt = count - 1;
        return false;
    }
    return count == 0; /* RC_IMMORTAL: nothing */
}

/* What the release loop knows of the object whose references it drops: its
 * heap (the loop's: every object on a heap's release stack is the heap's),
 * its arena (NULL: unknown) and the object; and the child it holds for the
 * loop to release next (NULL: none) with that child's arena. */
typedef struct release_parent {
    rc_heap *heap;
    rc_arena *arena;
    const void *obj;
    void *held;
    rc_arena *held_arena;
} release_parent;

/* Whether a and b lie in the same arena granule (RC_ARENA_SIZE, aligned). */
static inline bool same_granule(const void *a, const void *b)
{
    return (((uintptr_t)a ^ (uintptr_t)b) >> RC_MAP_GRANULE_BITS) == 0;
}

/* The held child (see the top of the file) goes on the stack, if any. */
static RC_ALWAYS_INLINE void hand_over_held(release_parent *parent)
{
    if (parent->held) {
        release_push(&parent->heap->objects, parent->held, parent->held_arena, 0);
        parent->held = NULL;
    }
}

/* child, a plain pool block of the loop's heap in arena, is dead: held for
 * the loop, whose next object it is. The child held before goes on the
 * stack first, whichever way the death goes (one that calls out may push,
 * and its own push comes after). */
static RC_ALWAYS_INLINE void child_dies(release_parent *parent, void *child, rc_arena *arena)
{
    hand_over_held(parent);
    if (leave_plainly(parent->heap, child)) {
        mark_queued(rc_head_of(child), 0);
        parent->held = child;
        parent->held_arena = arena;
    }
}

/* child, a reference parent held, just lost its last one. Most such
 * children are plain pool blocks of the loop's heap, often in the parent's
 * arena granule (one compare, where the arena map costs three dependent
 * loads). Such a child is in the parent's arena, which is the loop's
 * heap's (a granule is one arena or none, and a debug heap's arenas hold
 * no plain block), whether the loop knows the arena (parent->arena) or not
 * (NULL: the free looks it up). Any other takes rc_decref_slow's path. */
static RC_ALWAYS_INLINE void child_reached_zero(release_parent *parent, void *child)
{
    rc_object_head *head = rc_head_of(child);
    if (RC_LIKELY(!(head->gc_bits & RC_LARGE) && head->refcnt != 0)) {
        if (RC_LIKELY(same_granule(child, parent->obj))) {
            child_dies(parent, child, parent->arena);
            return;
        }
        rc_arena *arena = rc_alloc_object_arena(head);
        if (RC_LIKELY(rc_alloc_arena_heap(arena) == parent->heap)) {
            child_dies(parent, child, arena);
            return;
        }
    }
    hand_over_held(parent);
    count_reached_zero(child);
}

/* Releases the reference in *field, which is set to NULL first (rc_type's
 * promise; a store into a block whose free writes its link anyway costs
 * less than a test of whether to make it). */
static RC_ALWAYS_INLINE void release_child_slot(release_parent *parent, void **field)
{
    void *child = *field;
    if (!child)
        return;
    *field = NULL;
    if (drop_is_last(child))
        child_reached_zero(parent, child);
}

/* The slot visitor that releases a reference (object_internal.h): arg is
 * NULL (the collector clearing a cycle: the slot is set to NULL, and the
 * death takes rc_decref_slow's path), or the release loop's parent. */
void rc_release_visit(void *slot, void *arg)
{
    if (arg) {
        release_child_slot(arg, slot);
        return;
    }
    void **field = slot;
    void *old = *field;
    *field = NULL;
    if (drop_is_last(old))
        count_reached_zero(old);
}

/* Releases the references obj holds; those that were the last push their
 * objects on the release stack, and the order they come off it decides
 * how memory is walked. A structure built top-down (each object made
 * before its children, at a higher address as pools hand blocks out) is
 * freed in ascending address order if the first child comes off first; one
 * built bottom-up (children first: the Benchmarks Game's trees, any
 * tuple-like object) in descending order if the last child comes off
 * first: both are one stream the hardware prefetcher follows, where the
 * other order jumps at every level (a cache miss per node on a big tree).
 * So the first child's address against obj's picks the order. The
 * n slots here are an rc_traverse_refs type's, released inline, a pair
 * with no loop. */
static inline void release_slots(release_parent *parent, void **slots, size_t n)
{
    if (n == 2) { /* a pair, the commonest: no loop */
        size_t first = (uintptr_t)slots[0] > (uintptr_t)parent->obj; /* top-down: slot 1 */
        release_child_slot(parent, &slots[first]);
        release_child_slot(parent, &slots[first ^ 1]);
    } else if (n > 1 && (uintptr_t)slots[0] > (uintptr_t)parent->obj) { /* top-down */
        for (size_t i = n; i-- > 0;)
            release_child_slot(parent, &slots[i]);
    } else {
        for (size_t i = 0; i < n; i++)
            release_child_slot(parent, &slots[i]);
    }
}

/* The references of a type with its own traverse, through it, in its
 * visiting order, reversed after if need be (release_slots says why): the
 * parent is made in memory, for the traverse gets its address, and the
 * child it holds at the end goes on the stack before the reversal. */
static RC_NOINLINE void release_through_traverse(rc_heap *heap, rc_arena *arena, void *obj,
                                                 const rc_type *type)
{
    rc_object_state *state = &heap->objects;
    release_parent parent = {heap, arena, obj, NULL, NULL};
    rc_release_entry *mark = state->release_top;
    const void *spill = state->release_spill;
    type->traverse(obj, rc_release_visit, &parent);
    hand_over_held(&parent);
    if (state->release_top - mark > 1 && (uintptr_t)mark->obj > (uintptr_t)obj)
        reverse_pushed(state, mark, spill);
}

/* Releases dead obj (of arena, or NULL: unknown): its references, its
 * destroy hook, its block. Returns the child it holds for the loop to
 * release next (NULL: none), that child's arena in *held_arena. An
 * rc_traverse_refs type's references are released inline, the parent's
 * fields, the held child among them, in registers (callgrind,
 * binary-trees at depth 14: 9 instructions a node fewer than one parent in
 * memory, and 3 fewer again with the held child: its tests cost most of
 * what the push and pop it saves did). */
static RC_ALWAYS_INLINE void *release_one(rc_heap *heap, void *obj, rc_arena *arena,
                                          rc_arena **held_arena)
{
    rc_object_head *head = rc_head_of(obj);
    const rc_type *type = head->type;
    release_parent parent = {heap, arena, obj, NULL, NULL};
    if (type->traverse == rc_traverse_refs)
        release_slots(&parent, obj, type->refs);
    else if (type->traverse)
        release_through_traverse(heap, arena, obj, type);
    if (type->destroy) {
        hand_over_held(&parent);
        type->destroy(obj);
    }
    /* an object with an arena is a pool block's */
    rc_object_free_dead(heap, obj, type, !arena && (head->gc_bits & RC_LARGE), arena);
    *held_arena = parent.held_arena;
    return parent.held;
}

static RC_NOINLINE void release_loop(rc_heap *heap)
{
    rc_object_state *state = &heap->objects;
    state->releasing = true;
    void *obj;
    rc_arena *arena;
    while (release_pop(state, &obj, &arena)) {
        do
            obj = release_one(heap, obj, arena, &arena);
        while (obj);
    }
    state->releasing = false;
}

void rc_object_release_cleared(rc_heap *heap, void *obj)
{
    rc_object_head *head = rc_head_of(obj);
    const rc_type *type = head->type;
    RC_ASSERT(head->refcnt == 1 && (!type->finalize || (head->gc_bits & RC_FINALIZED)));
    head->refcnt = 0;
    leave_heap(heap, obj);
    bool large = (head->gc_bits & RC_LARGE) != 0;
    if (type->destroy)
        type->destroy(obj);
    head->gc_bits &= RC_LARGE; /* a small block's first 8 bytes are now 0 */
    rc_object_free_dead(heap, obj, type, large, NULL);
}

bool rc_object_is_releasing(rc_heap *heap) { return heap->objects.releasing; }
