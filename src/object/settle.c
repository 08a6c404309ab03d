/* settle.c: when an object of an RC_TYPE_IMMUTABLE_REFS type is tracked,
 * and the out-of-line part of a birth's joining of the collector (the
 * inline part, rc_object_join_collector, tail-calls it for any case that
 * needs a call).
 *
 * Such an object is born untracked and uncounted, as the heap's pending
 * immutable object (object_state.h): its references come after rc_new.
 * rc_object_settle (object_internal.h) decides, once they are stored,
 * whether it is ever tracked: only if one of them may be tracked (CPython
 * 3.15 makes tuples so). It runs at the next birth of an object with
 * traverse and at every call into the collector's API (rc_gc_heap), which
 * the type's promise covers: the references are stored by then.
 *
 * Invariants: at most one pending object per heap; it is untracked, alive
 * and not immortal when made pending; its death (release.c) or settling
 * clears it. An automatic collection in a birth never settles the newborn
 * (still zero-filled): it is hidden for the collection's length.
 */
#include "object_internal.h"

static void visit_find_trackable(void *slot, void *arg)
{
    void *child = *(void **)slot;
    if (child && rc_object_may_be_tracked(child))
        *(bool *)arg = true;
}

bool rc_object_refs_may_be_tracked_slow(void *obj, const rc_type *type)
{
    bool trackable = false;
    type->traverse(obj, visit_find_trackable, &trackable);
    return trackable;
}

void *rc_object_collect_in_birth(rc_heap *heap, void *newborn)
{
    rc_object_state *state = &heap->objects;
    void *pending = state->pending_immutable; /* newborn, or NULL */
    state->pending_immutable = NULL;
    heap->hooks.collect_due(heap);
    /* user code run by the collection (finalizers, callbacks) may have
     * left an object of its own pending, its references stored */
    rc_object_settle(heap);
    state->pending_immutable = pending;
    return newborn;
}

void *rc_object_join_slow(rc_heap *heap, void *obj, const rc_type *type)
{
    rc_object_state *state = &heap->objects;
    rc_object_settle(heap);
    if (type->flags & RC_TYPE_IMMUTABLE_REFS)
        state->pending_immutable = obj;
    else
        rc_object_track_counted(heap, obj);
    if (state->count0 > state->collect_at)
        return rc_object_collect_in_birth(heap, obj);
    return obj;
}
