/* finalize.c: weakref.finalize for C.
 *
 * A finalizer is a weak reference to its object whose callback runs the
 * user's function. The heap's registry holds a reference to every live
 * finalizer, so dropping the handle does not cancel it. A finalizer leaves
 * the registry exactly once: when it runs (its object died, or it was
 * called), when it is detached, or at heap teardown. `alive` is true
 * exactly while it is registered.
 */
#include "weak_internal.h"

static const rc_type finalizer_type = {
    .name = "finalize",
    .size = sizeof(struct rc_finalizer),
    .traverse = rc_weak_traverse,
    .flags = RC_TYPE_INTERNAL_WEAKREF,
};

static void registry_add(rc_heap *heap, struct rc_finalizer *f)
{
    f->reg_prev = NULL;
    f->reg_next = heap->weak.registry;
    if (f->reg_next)
        f->reg_next->reg_prev = f;
    heap->weak.registry = rc_incref(f);
}

/* Takes f off the registry and its weak reference off the object; drops
 * the registry's reference last (f may die then). */
static void retire(rc_heap *heap, struct rc_finalizer *f)
{
    f->alive = false;
    rc_weak_unlink(heap, &f->ref);
    f->ref.callback = NULL;
    if (f->reg_prev)
        f->reg_prev->reg_next = f->reg_next;
    else
        heap->weak.registry = f->reg_next;
    if (f->reg_next)
        f->reg_next->reg_prev = f->reg_prev;
    f->reg_prev = f->reg_next = NULL;
    rc_decref(f);
}

/* Runs f's function if f is alive; f must be held by the caller. */
static bool run(rc_heap *heap, struct rc_finalizer *f)
{
    if (!f->alive)
        return false;
    rc_finalizer_fn fn = f->fn;
    void *arg = f->arg;
    retire(heap, f);
    fn(arg);
    return true;
}

static void on_object_death(rc_weakref *ref, void *arg)
{
    (void)arg;
    struct rc_finalizer *f = (struct rc_finalizer *)ref;
    run(rc_object_heap(f), f);
}

rc_finalizer *rc_finalize(void *obj, rc_finalizer_fn fn, void *arg)
{
    if (!obj || !fn || rc_is_immortal(obj)) {
        rc_set_error(RC_EINVAL, "rc_finalize: %s",
                     !obj  ? "obj is NULL"
                     : !fn ? "fn is NULL"
                           : "obj is immortal (it can never die)");
        return NULL;
    }
    rc_heap *heap = rc_object_heap(obj);
    rc_heap_check_access(heap, "rc_finalize");
    struct rc_finalizer *f = rc_heap_new_object(heap, &finalizer_type, 0);
    if (!f)
        return NULL;
    f->ref = (struct rc_weakref){.referent = obj, .callback = on_object_death};
    f->fn = fn;
    f->arg = arg;
    if (rc_weak_link(heap, &f->ref) != 0) {
        f->ref.referent = NULL;
        rc_decref(f);
        return NULL;
    }
    f->alive = true;
    f->atexit = true;
    registry_add(heap, f);
    return f;
}

bool rc_finalizer_alive(const rc_finalizer *f) { return f && f->alive; }

bool rc_finalizer_detach(rc_finalizer *f)
{
    if (!f || !f->alive)
        return false;
    retire(rc_object_heap(f), f);
    return true;
}

bool rc_finalizer_call(rc_finalizer *f) { return f && run(rc_object_heap(f), f); }

void rc_finalizer_set_atexit(rc_finalizer *f, bool atexit)
{
    if (f)
        f->atexit = atexit;
}

bool rc_finalizer_atexit(const rc_finalizer *f) { return f && f->atexit; }

/* Newest first; finalizers registered meanwhile run too (they are newer);
 * those not marked atexit are retired without running. */
void rc_weak_run_atexit(rc_heap *heap)
{
    struct rc_finalizer *f;
    while ((f = heap->weak.registry) != NULL) {
        rc_incref(f);
        if (f->atexit)
            run(heap, f);
        else
            retire(heap, f);
        rc_decref(f);
    }
}
