/* weakdict.c: the machinery the weak containers share (see
 * weakdict_internal.h): weak references with records, disarming, the
 * callbacks of the dict-based ones, clearing and traversal; and the public
 * operations both dict-based types have (get, del, len, iteration), one
 * function each with weak_values telling the two apart.
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

/* ---- the public operations of both dict-based types ---- */

static const rc_type *weakdict_type(bool weak_values)
{
    return weak_values ? &rc_weakvaluedict_type : &rc_weakkeydict_type;
}

int rc_weakdict_key_ok(const void *obj, const void *key, bool weak_values, const char *fn)
{
    if (!rc_types_check(obj, weakdict_type(weak_values), fn))
        return RC_EINVAL;
    return key ? 0 : rc_set_error(RC_EINVAL, "%s: key is NULL", fn);
}

int rc_weakdict_find(const void *obj, const void *key, uint64_t hash, bool weak_values,
                     ptrdiff_t *ix, size_t *slot, const char *fn)
{
    rc_dict_body *d = (rc_dict_body *)obj; /* a lookup changes nothing */
    /* each call with a constant match: the link-time optimizer specializes
     * the lookup by it, rc_dict's own lookups included (a variable match
     * here costs bench/dict_reclaim 5% more instructions) */
    *ix = weak_values ? rc_dict_table_find(d, key, hash, rc_types_match_equal, slot, fn)
                      : rc_dict_table_find(d, key, hash, rc_weakdict_match_referent, slot, fn);
    return *ix == RC_DKIX_ERROR ? RC_ESTATE : 0;
}

void *rc_weakdict_get(const void *obj, const void *key, bool weak_values, const char *fn)
{
    ptrdiff_t ix;
    size_t slot;
    if (rc_weakdict_key_ok(obj, key, weak_values, fn) ||
        rc_weakdict_find(obj, key, rc_hash(key), weak_values, &ix, &slot, fn) || ix < 0)
        return NULL;
    void *value = *rc_dict_value_slot(((const rc_dict_body *)obj)->keys, (size_t)ix);
    return weak_values ? rc_weakdict_referent(value) : value;
}

int rc_weakdict_del(void *obj, const void *key, bool weak_values, const char *fn)
{
    ptrdiff_t ix;
    size_t slot;
    int status = rc_weakdict_key_ok(obj, key, weak_values, fn);
    if (!status)
        status = rc_weakdict_find(obj, key, rc_hash(key), weak_values, &ix, &slot, fn);
    if (status)
        return status;
    if (ix == RC_DKIX_EMPTY)
        return rc_dict_key_missing(key, fn);
    rc_weakdict_remove(obj, (size_t)ix, slot, weak_values, false);
    return 0;
}

size_t rc_weakdict_len(const void *obj, bool weak_values, const char *fn)
{
    return rc_types_check(obj, weakdict_type(weak_values), fn) ? ((const rc_dict_body *)obj)->used
                                                               : 0;
}

rc_iter rc_weakdict_iter(const void *obj, bool weak_values, const char *fn)
{
    if (!rc_types_check(obj, weakdict_type(weak_values), fn))
        return (rc_iter){.container = NULL};
    return rc_dict_table_iter(obj, obj);
}

int rc_weakdict_next(rc_iter *it, void **key, void **value, bool weak_values, const char *fn)
{
    if (!it)
        return rc_set_error(RC_EINVAL, "%s: it is NULL", fn);
    if (!rc_types_check(it->container, weakdict_type(weak_values), fn))
        return RC_EINVAL;
    void *k, *v;
    int status;
    while ((status = rc_dict_table_iter_next(it, it->container, &k, &v)) > 0) {
        void *referent = rc_weakdict_referent(weak_values ? v : k);
        if (!referent) /* died; its callback has not run yet */
            continue;
        if (key)
            *key = weak_values ? k : referent;
        if (value)
            *value = weak_values ? referent : v;
        return 1;
    }
    return status;
}
