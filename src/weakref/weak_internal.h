/* weak_internal.h: weak references as the layer's files see them.
 *
 * A weak reference is the body of an object of an internal type (flagged
 * RC_TYPE_INTERNAL_WEAKREF, tracked so the collector can tell whether it is
 * itself unreachable). While its referent lives it is on the referent's
 * list: the shared weak reference without callback (if any) first, then
 * those with callbacks, newest first, which is the order callbacks run in.
 * A weak reference leaves the list when it dies, when its referent dies, or
 * (a finalizer) when it runs or is detached; referent is NULL off the list.
 *
 * A finalizer is a weak reference whose callback runs its function, with
 * its place on the heap's registry.
 */
#ifndef RC_WEAK_INTERNAL_H
#define RC_WEAK_INTERNAL_H

#include "../object/object_internal.h"

struct rc_weakref {
    void *referent; /* NULL once cleared */
    rc_weakref_callback callback;
    void *arg;
    struct rc_weakref *prev, *next;  /* the referent's list */
    struct rc_weakref *pending_next; /* callbacks waiting to run */
};

struct rc_finalizer {
    struct rc_weakref ref;
    rc_finalizer_fn fn;
    void *arg;
    struct rc_finalizer *reg_prev, *reg_next;
    bool alive;
    bool atexit;
};

/* The traverse of the weak reference and finalizer types: they hold no
 * references, and are tracked only so that a collection can tell whether a
 * weak reference is itself unreachable. */
RC_INTERNAL void rc_weak_traverse(void *self, rc_visit_fn visit, void *arg);

RC_INTERNAL int rc_weak_init(rc_heap *heap);
RC_INTERNAL void rc_weak_fini(rc_heap *heap);
/* Runs the live finalizers marked atexit, newest first (heap teardown). */
RC_INTERNAL void rc_weak_run_atexit(rc_heap *heap);

/* The table (weak_table.c). */
RC_INTERNAL struct rc_weakref *rc_weak_table_get(rc_heap *heap, const void *obj);
/* Sets obj's first weak reference (replacing it); RC_ENOMEM on failure. */
RC_INTERNAL int rc_weak_table_put(rc_heap *heap, void *obj, struct rc_weakref *head);
/* Removes obj's entry and returns its first weak reference (NULL if none). */
RC_INTERNAL struct rc_weakref *rc_weak_table_take(rc_heap *heap, const void *obj);
RC_INTERNAL void rc_weak_table_fini(rc_heap *heap);

/* Takes ref off its referent's list (if on one) and clears it. */
RC_INTERNAL void rc_weak_unlink(rc_heap *heap, struct rc_weakref *ref);
/* Puts ref, already set up with referent and callback, on the referent's
 * list; RC_ENOMEM if the table could not grow. */
RC_INTERNAL int rc_weak_link(rc_heap *heap, struct rc_weakref *ref);

#endif
