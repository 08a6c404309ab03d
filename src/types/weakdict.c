/* weakdict.c: the machinery the weak containers share (see
 * weakdict_internal.h): weak references with records, disarming, the
 * callbacks of the dict-based ones, clearing and traversal.
 *
 * Disarming writes the weak reference's callback and argument, which only
 * the weakref layer's struct shows (weak_internal.h); nothing else of that
 * layer is touched here.
 */
#include "weakdict_internal.h"
#include "../weakref/weak_internal.h"

/* The callback of a disarmed weak reference: it may still be called once
 * if its referent was dying while it was disarmed. */
static void disarmed(rc_weakref *ref, void *arg) { (void)ref, (void)arg; }

rc_weakref *rc_weakdict_ref(void *container, void *referent, const void *ident, uint64_t hash,
                            rc_weakref_callback callback)
{
    rc_weak_record *record = rc_malloc(sizeof *record);
    if (!record)
        return NULL;
    *record = (rc_weak_record){container, ident, hash};
    rc_weakref *w = rc_weakref_new(referent, callback, record);
    if (!w) {
        rc_free(record);
        return NULL;
    }
    if (!ident)
        record->ident = w;
    return w;
}

rc_weak_record *rc_weakdict_record(rc_weakref *w) { return ((struct rc_weakref *)w)->arg; }

void rc_weakdict_disarm(rc_weakref *w)
{
    if (!w)
        return;
    struct rc_weakref *ref = (struct rc_weakref *)w;
    void *record = ref->arg;
    ref->callback = disarmed;
    ref->arg = NULL;
    rc_free(record);
}

void rc_weakdict_drop(rc_weakref *w)
{
    rc_weakdict_disarm(w);
    rc_decref(w);
}

void *rc_weakdict_referent(void *w) { return w ? ((struct rc_weakref *)w)->referent : NULL; }

bool rc_weakdict_match_referent(const void *entry_key, const void *key)
{
    void *referent = rc_weakdict_referent((void *)entry_key);
    if (!referent)
        return false;
    if (referent == key)
        return true;
    rc_incref(referent); /* an equal hook may drop it */
    bool equal = rc_equal(referent, key);
    rc_decref(referent);
    return equal;
}

/* The weak reference of entry ix of table k. */
static void *weak_slot_of(rc_dict_table *k, size_t ix, bool weak_values)
{
    return weak_values ? *rc_dict_value_slot(k, ix) : *rc_dict_key_slot(k, ix);
}

void rc_weakdict_clear(rc_dict_body *d, bool weak_values, bool teardown)
{
    rc_dict_table *k = rc_dict_table_detach(d);
    if (!k)
        return;
    if (teardown) { /* the records and weak references go with the heap */
        rc_free(k);
        return;
    }
    for (size_t ix = 0; ix < k->nentries; ix++)
        rc_weakdict_disarm(weak_slot_of(k, ix, weak_values));
    rc_dict_table_release(k);
}

void rc_weakdict_traverse(rc_dict_body *d, bool weak_values, rc_visit_fn visit, void *arg)
{
    if (visit == rc_release_visit)
        rc_weakdict_clear(d, weak_values, false);
    else
        rc_dict_table_traverse(d, visit, arg);
}

void rc_weakdict_remove(rc_dict_body *d, size_t ix, size_t slot, bool weak_values, bool quiet)
{
    void *key, *value;
    rc_dict_table_remove(d, ix, slot, &key, &value, quiet);
    rc_weakdict_disarm(weak_values ? value : key);
    rc_decref(key);
    rc_decref(value);
}

/* The callbacks find the entry by identity (no user code runs) and check
 * that it is still ref's before removing it. */
static void entry_died(rc_weakref *ref, rc_weak_record *record, bool weak_values)
{
    rc_dict_body *d = record->container;
    size_t slot;
    ptrdiff_t ix = rc_dict_table_find(d, record->ident, record->hash, NULL, &slot, "weak dict");
    if (ix >= 0 && weak_slot_of(d->keys, (size_t)ix, weak_values) == ref)
        rc_weakdict_remove(d, (size_t)ix, slot, weak_values, true);
    else
        rc_weakdict_disarm(ref); /* not in d (cannot happen while armed) */
}

void rc_weakdict_value_died(rc_weakref *ref, void *arg) { entry_died(ref, arg, true); }

void rc_weakdict_key_died(rc_weakref *ref, void *arg) { entry_died(ref, arg, false); }
