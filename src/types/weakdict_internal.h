/* weakdict_internal.h: what the weak containers share (weakref's
 * WeakValueDictionary, WeakKeyDictionary and WeakSet).
 *
 * A weak value dict is an rc_dict table of key -> W, a weak key dict one of
 * W -> value, a weak set an rc_set table of W, where W is a weak reference
 * (to the value, the key, the item) whose callback removes its entry. The
 * container's body is the table itself (rc_dict_body, rc_set_body); it
 * holds its keys, values and weak references strongly and traverses them.
 *
 * The entry of a W is found from W alone through a record, W's callback
 * argument: the container, the hash the entry is filed under and the
 * entry's identity (its key object in a weak value dict, W itself in the
 * others), looked up by identity without running user code. The callback
 * removes the entry quietly (rc_dict_table_remove / rc_set_table_remove
 * with quiet): entries never move on a delete, so iterations go on, and
 * skip the hole.
 *
 * Invariant: a W whose callback is armed is in its container, and its
 * record is live. Whatever takes a W out of a container (a delete, a
 * replacement, a clear, the container's death, the callback itself)
 * disarms it first (rc_weakdict_disarm: a no-op callback, no argument) and
 * frees the record, so that a W kept alive elsewhere (the weakref layer
 * holds a dying referent's weak references while their callbacks run)
 * never calls back into a container that is gone.
 *
 * Records are raw blocks. A weak container that becomes garbage holds its
 * W's, which are younger than it (each is made by the container), so they
 * are garbage of the same collection: the collector then clears the
 * container through traverse with rc_release_visit, which disarms and
 * frees every record.
 */
#ifndef RC_WEAKDICT_INTERNAL_H
#define RC_WEAKDICT_INTERNAL_H

#include "dict_table.h"
#include "set_table.h"

typedef struct rc_weak_record {
    void *container;
    const void *ident; /* the entry's key object (weak value dict), or W */
    uint64_t hash;
} rc_weak_record;

/* A new weak reference to referent whose callback (callback) removes the
 * entry of ident (NULL: the weak reference itself) filed under hash from
 * container. NULL with a message (referent immortal, out of memory). */
RC_INTERNAL rc_weakref *rc_weakdict_ref(void *container, void *referent, const void *ident,
                                        uint64_t hash, rc_weakref_callback callback);
/* The record of w (its callback argument); NULL once disarmed. */
RC_INTERNAL rc_weak_record *rc_weakdict_record(rc_weakref *w);
/* Disarms w (see above) and frees its record; w stays the caller's. */
RC_INTERNAL void rc_weakdict_disarm(rc_weakref *w);
/* rc_weakdict_disarm, then drops the caller's reference to w. */
RC_INTERNAL void rc_weakdict_drop(rc_weakref *w);

/* The referent of w, borrowed (alive: someone else holds it), or NULL. */
RC_INTERNAL void *rc_weakdict_referent(void *w);
/* Matches an entry whose key is a weak reference (entry_key) with a
 * looked-up object: its live referent is that object or equal to it. */
RC_INTERNAL bool rc_weakdict_match_referent(const void *entry_key, const void *key);

/* For the dict-based ones: weak_values says whether W is the value (a weak
 * value dict) or the key (a weak key dict). */
/* Takes every entry out of d (left empty), disarming the W's first, then
 * drops them; at heap teardown only frees the table. */
RC_INTERNAL void rc_weakdict_clear(rc_dict_body *d, bool weak_values, bool teardown);
/* The traverse both dict-based types use. */
RC_INTERNAL void rc_weakdict_traverse(rc_dict_body *d, bool weak_values, rc_visit_fn visit,
                                      void *arg);
/* Removes entry ix (index slot `slot`) of d, disarms its W, drops its key
 * and value. quiet: see rc_dict_table_remove. */
RC_INTERNAL void rc_weakdict_remove(rc_dict_body *d, size_t ix, size_t slot, bool weak_values,
                                    bool quiet);
/* The callbacks: the entry of ref leaves its container. */
RC_INTERNAL void rc_weakdict_value_died(rc_weakref *ref, void *arg);
RC_INTERNAL void rc_weakdict_key_died(rc_weakref *ref, void *arg);

/* The public operations of both dict-based types, fn naming the caller
 * in messages: obj must be a weak value dict (weak_values) or a weak key
 * dict, else RC_EINVAL. */
/* 0 if obj is of the type and key is not NULL, else RC_EINVAL. */
RC_INTERNAL int rc_weakdict_key_ok(const void *obj, const void *key, bool weak_values,
                                   const char *fn);
/* Looks key (hash given) up, by equality of the key objects or, in a
 * weak key dict, of the live referents: 0 with *ix its entry number or
 * RC_DKIX_EMPTY, or RC_ESTATE with a message. */
RC_INTERNAL int rc_weakdict_find(const void *obj, const void *key, uint64_t hash, bool weak_values,
                                 ptrdiff_t *ix, size_t *slot, const char *fn);
RC_INTERNAL void *rc_weakdict_get(const void *obj, const void *key, bool weak_values,
                                  const char *fn);
RC_INTERNAL int rc_weakdict_del(void *obj, const void *key, bool weak_values, const char *fn);
RC_INTERNAL size_t rc_weakdict_len(const void *obj, bool weak_values, const char *fn);
RC_INTERNAL rc_iter rc_weakdict_iter(const void *obj, bool weak_values, const char *fn);
/* The next entry whose referent lives (dead ones are skipped): the key and
 * value as the user stored them. */
RC_INTERNAL int rc_weakdict_next(rc_iter *it, void **key, void **value, bool weak_values,
                                 const char *fn);

#endif
