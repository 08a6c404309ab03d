/* weak_state.h: the weak-reference layer's part of a heap.
 *
 * table maps each object that has weak references (RC_WEAKREFS set in its
 * header) to the first of them; an object without weak references has no
 * entry. Open addressing with linear probing and backward-shift deletion:
 * no tombstones, and a lookup stops at the first empty slot. cap is a power
 * of two (or 0) and len <= cap * 3/4.
 *
 * registry lists the live finalizers (rc_finalize), newest first; it holds
 * one reference to each.
 */
#ifndef RC_WEAK_STATE_H
#define RC_WEAK_STATE_H

#include <stddef.h>

struct rc_weakref;
struct rc_finalizer;

typedef struct rc_weak_slot {
    void *obj;               /* NULL: empty */
    struct rc_weakref *head; /* the object's first weak reference */
} rc_weak_slot;

typedef struct rc_weak_state {
    rc_weak_slot *table;
    size_t cap, len;
    struct rc_finalizer *registry;
} rc_weak_state;

#endif
