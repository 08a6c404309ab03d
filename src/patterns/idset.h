/* idset.h: a set of objects by identity (address), holding a reference to
 * each: the object pool's in-use set.
 *
 * Open addressing with linear probing; deletion shifts the following run
 * back (no tombstones). Invariants: cap is 0 or a power of two; len is the
 * number of non-NULL slots and len <= cap / 2 after every add; every
 * object sits in the probe run that starts at its home slot. slots is a
 * block of the current heap (rc_calloc), NULL when cap is 0.
 *
 * The collector clears a garbage set through rc_idset_traverse, which may
 * leave NULL slots inside runs and len too high: lookups in such a set may
 * miss, but nothing it does reads out of bounds, and a rebuild (growth)
 * recounts len.
 *
 * Why not the types' tables: rc_set and rc_dict match keys with rc_equal
 * (two equal strs would be one entry, and release would read the header
 * of a stray pointer). In identity mode (match NULL) rc_set_table cannot
 * reserve room before create runs, so an acquire short of memory would
 * make an object in vain; rc_dict_table can, but it keeps deleted entries
 * in its dense array and so reallocates its table every few
 * acquire/release cycles, which a pool in its steady state should not pay.
 */
#ifndef RC_PATTERNS_IDSET_H
#define RC_PATTERNS_IDSET_H

#include "patterns_internal.h"

typedef struct rc_idset {
    void **slots;
    size_t cap, len;
} rc_idset;

/* Makes room for one more entry without allocating in rc_idset_add:
 * 0, or RC_ENOMEM with the set unchanged. */
RC_INTERNAL int rc_idset_reserve(rc_idset *set);
/* Adds obj (not in the set; room reserved); the set takes the caller's
 * reference. */
RC_INTERNAL void rc_idset_add(rc_idset *set, void *obj);
/* Removes obj and hands its reference to the caller; false if absent. */
RC_INTERNAL bool rc_idset_remove(rc_idset *set, const void *obj);
RC_INTERNAL void rc_idset_traverse(rc_idset *set, rc_visit_fn visit, void *arg);
/* Frees the slots (their references must be gone: destroy after traverse). */
RC_INTERNAL void rc_idset_free(rc_idset *set);

#endif
