/* release.c: what happens when an object's count reaches zero.
 *
 * Death, in CPython's order: finalize (once per object; it may resurrect by
 * taking a reference), untrack, clear weak references (their callbacks run),
 * then release: traverse with rc_release_visit drops every reference the
 * object holds, destroy frees what it owns, and the block is freed.
 *
 * Release never recurses. The first death on a heap runs the release loop;
 * an object that dies while the loop runs (a child whose last reference was
 * just dropped) is pushed on the release stack and released by the same
 * loop later. So freeing a 10-million-long chain uses constant C stack.
 *
 * The release stack is linked through the dead objects themselves: a
 * pending object's refcnt holds bits 4..35 of the next object's address and
 * gc_bits bits 20..31 hold bits 36..47 (objects are 16-aligned, user space
 * addresses fit in 48 bits). Its TRACKED bit is clear, so the collector never
 * looks at it; its LARGE bit and its type pointer are kept for the loop.
 */
#include "object_internal.h"
#include "../alloc/object_block.h"

enum { LINK_HIGH_SHIFT = 20 };

static void release_push(rc_object_state *state, void *obj)
{
    uintptr_t next = (uintptr_t)state->release_top >> 4;
    if (RC_UNLIKELY(next >> 44))
        rc_fatal("object address %p beyond 48 bits: cannot release it", obj);
    rc_object_head *head = rc_head_of(obj);
    head->refcnt = (uint32_t)next;
    head->gc_bits = (head->gc_bits & RC_LARGE) | (uint32_t)(next >> 32) << LINK_HIGH_SHIFT;
    state->release_top = obj;
    state->release_depth++;
}

static void *release_pop(rc_object_state *state)
{
    void *obj = state->release_top;
    if (!obj)
        return NULL;
    rc_object_head *head = rc_head_of(obj);
    uintptr_t next = (uintptr_t)head->refcnt | (uintptr_t)(head->gc_bits >> LINK_HIGH_SHIFT) << 32;
    state->release_top = (void *)(next << 4);
    state->release_depth--;
    head->refcnt = 0;
    head->gc_bits &= RC_LARGE;
    return obj;
}

void rc_release_visit(void *slot, void *arg)
{
    (void)arg;
    void **field = slot;
    void *old = *field;
    if (old) {
        *field = NULL;
        rc_decref(old);
    }
}

static void release_loop(rc_heap *heap)
{
    rc_object_state *state = &heap->objects;
    state->releasing = true;
    void *obj;
    while ((obj = release_pop(state)) != NULL) {
        rc_object_head *head = rc_head_of(obj);
        const rc_type *type = head->type;
        bool large = (head->gc_bits & RC_LARGE) != 0;
        if (type->traverse)
            type->traverse(obj, rc_release_visit, NULL);
        if (type->destroy)
            type->destroy(obj);
        rc_alloc_free_object(heap, head, large);
    }
    state->releasing = false;
}

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

/* What every death does after finalize and before release: a dying weak
 * reference leaves its referent, the object leaves the collector, and weak
 * references to it are cleared (their callbacks run). */
static void leave_heap(rc_heap *heap, void *obj)
{
    rc_object_head *head = rc_head_of(obj);
    const rc_type *type = head->type;
    if (type->flags & RC_TYPE_INTERNAL_WEAKREF)
        heap->hooks.weakref_dying(heap, obj);
    if (head->gc_bits & RC_TRACKED)
        rc_track_remove(heap, obj);
    if (type->traverse && heap->objects.count0 > 0)
        heap->objects.count0--;
    if (head->gc_bits & RC_WEAKREFS)
        heap->hooks.clear_weakrefs(heap, obj);
}

static void object_dies(rc_heap *heap, void *obj)
{
    rc_object_head *head = rc_head_of(obj);
    const rc_type *type = head->type;
    if (type->finalize && !(head->gc_bits & RC_FINALIZED) && finalize_dying(obj, type))
        return;
    leave_heap(heap, obj);
    release_push(&heap->objects, obj);
    if (!heap->objects.releasing)
        release_loop(heap);
}

void rc_decref_slow(void *obj)
{
    rc_object_head *head = rc_head_of(obj);
    if (RC_UNLIKELY(head->refcnt == 0))
        rc_fatal("rc_decref(%p): the object is already dead (reference count 0): a "
                 "reference was dropped twice, or the object was used after it was freed",
                 obj);
    rc_heap *heap = rc_alloc_object_owner(head, head->gc_bits & RC_LARGE);
    head->refcnt = 0;
    if (RC_LIKELY(heap == rc_thread_heap())) {
        object_dies(heap, obj);
        return;
    }
    bool taken = rc_heap_take(heap, "rc_decref (last reference)");
    object_dies(heap, obj);
    if (taken)
        rc_heap_release(heap);
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
    rc_alloc_free_object(heap, head, large);
}

bool rc_object_is_releasing(rc_heap *heap) { return heap->objects.releasing; }
