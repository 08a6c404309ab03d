/* weakdict_value.c: rc_weakvaluedict, weakref.WeakValueDictionary: a dict
 * table of key -> weak reference to the value (weakdict_internal.h). Keys
 * are held; values are not, and an entry leaves the dict when its value
 * dies (by reference counting or in a collection). */
#include "weakdict_internal.h"

static void wvd_traverse(void *self, rc_visit_fn visit, void *arg)
{
    rc_weakdict_traverse(self, true, visit, arg);
}

static void wvd_destroy(void *self)
{
    rc_weakdict_clear(self, true, rc_object_heap(self)->destroying);
}

const rc_type rc_weakvaluedict_type = {
    .name = "weakvaluedict",
    .size = sizeof(rc_dict_body),
    .traverse = wvd_traverse,
    .destroy = wvd_destroy,
};

void *rc_weakvaluedict_new(void) { return rc_new(&rc_weakvaluedict_type); }

int rc_weakvaluedict_set(void *obj, void *key, void *value)
{
    static const char fn[] = "rc_weakvaluedict_set";
    int status = rc_weakdict_key_ok(obj, key, true, fn);
    if (status)
        return status;
    if (!value)
        return rc_set_error(RC_EINVAL, "%s: value is NULL", fn);
    rc_dict_body *d = obj;
    uint64_t hash = rc_hash(key);
    rc_weakref *w = rc_weakdict_ref(d, value, key, hash, rc_weakdict_value_died);
    if (!w)
        return rc_types_prefix_error(rc_is_immortal(value) ? RC_EINVAL : RC_ENOMEM, fn);
    ptrdiff_t ix;
    size_t slot;
    status = rc_dict_table_find_or_reserve(d, key, hash, rc_types_match_equal,
                                           rc_dict_kind_of(rc_type_of(key)), &ix, &slot, fn);
    if (status) {
        rc_weakdict_drop(w);
        return status;
    }
    if (ix == RC_DKIX_EMPTY) {
        rc_dict_table_insert(d, rc_incref(key), hash, w, slot);
        return 0;
    }
    void **value_slot = rc_dict_value_slot(d->keys, (size_t)ix);
    void *old = *value_slot;
    rc_weakdict_record(w)->ident = *rc_dict_key_slot(d->keys, (size_t)ix); /* the key kept */
    *value_slot = w;
    rc_weakdict_drop(old);
    return 0;
}

void *rc_weakvaluedict_get(const void *d, const void *key)
{
    return rc_weakdict_get(d, key, true, "rc_weakvaluedict_get");
}

int rc_weakvaluedict_del(void *d, const void *key)
{
    return rc_weakdict_del(d, key, true, "rc_weakvaluedict_del");
}

size_t rc_weakvaluedict_len(const void *d)
{
    return rc_weakdict_len(d, true, "rc_weakvaluedict_len");
}

void rc_weakvaluedict_clear(void *d)
{
    if (rc_types_check(d, &rc_weakvaluedict_type, "rc_weakvaluedict_clear"))
        rc_weakdict_clear(d, true, false);
}

rc_iter rc_weakvaluedict_iter(const void *d)
{
    return rc_weakdict_iter(d, true, "rc_weakvaluedict_iter");
}

int rc_weakvaluedict_next(rc_iter *it, void **key, void **value)
{
    return rc_weakdict_next(it, key, value, true, "rc_weakvaluedict_next");
}
