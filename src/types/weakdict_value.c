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

static int wvd_key_ok(const void *d, const void *key, const char *fn)
{
    if (!rc_types_check(d, &rc_weakvaluedict_type, fn))
        return RC_EINVAL;
    return key ? 0 : rc_set_error(RC_EINVAL, "%s: key is NULL", fn);
}

int rc_weakvaluedict_set(void *obj, void *key, void *value)
{
    static const char fn[] = "rc_weakvaluedict_set";
    int status = wvd_key_ok(obj, key, fn);
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
                                           rc_type_of(key) == &rc_str_type, &ix, &slot, fn);
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

/* Looks key up: 0 with *ix its entry number or RC_DKIX_EMPTY, or a
 * negative RC_E* code with a message. */
static int wvd_find(const void *obj, const void *key, ptrdiff_t *ix, size_t *slot, const char *fn)
{
    int status = wvd_key_ok(obj, key, fn);
    if (status)
        return status;
    rc_dict_body *d = (rc_dict_body *)obj; /* a lookup changes nothing */
    *ix = rc_dict_table_find(d, key, rc_hash(key), rc_types_match_equal, slot, fn);
    return *ix == RC_DKIX_ERROR ? RC_ESTATE : 0;
}

void *rc_weakvaluedict_get(const void *obj, const void *key)
{
    ptrdiff_t ix;
    size_t slot;
    if (wvd_find(obj, key, &ix, &slot, "rc_weakvaluedict_get") || ix < 0)
        return NULL;
    return rc_weakdict_referent(*rc_dict_value_slot(((const rc_dict_body *)obj)->keys, (size_t)ix));
}

int rc_weakvaluedict_del(void *obj, const void *key)
{
    ptrdiff_t ix;
    size_t slot;
    int status = wvd_find(obj, key, &ix, &slot, "rc_weakvaluedict_del");
    if (status)
        return status;
    if (ix == RC_DKIX_EMPTY) {
        char buf[96];
        return rc_set_error(RC_ENOTFOUND, "rc_weakvaluedict_del: key %s not found",
                            rc_types_describe(key, buf, sizeof buf));
    }
    rc_weakdict_remove(obj, (size_t)ix, slot, true, false);
    return 0;
}

size_t rc_weakvaluedict_len(const void *obj)
{
    return rc_types_check(obj, &rc_weakvaluedict_type, "rc_weakvaluedict_len")
               ? ((const rc_dict_body *)obj)->used
               : 0;
}

void rc_weakvaluedict_clear(void *obj)
{
    if (rc_types_check(obj, &rc_weakvaluedict_type, "rc_weakvaluedict_clear"))
        rc_weakdict_clear(obj, true, false);
}

rc_iter rc_weakvaluedict_iter(const void *obj)
{
    if (!rc_types_check(obj, &rc_weakvaluedict_type, "rc_weakvaluedict_iter"))
        return (rc_iter){.container = NULL};
    return rc_dict_table_iter(obj, obj);
}

int rc_weakvaluedict_next(rc_iter *it, void **key, void **value)
{
    if (!it)
        return rc_set_error(RC_EINVAL, "rc_weakvaluedict_next: it is NULL");
    if (!rc_types_check(it->container, &rc_weakvaluedict_type, "rc_weakvaluedict_next"))
        return RC_EINVAL;
    void *k, *w;
    int status;
    while ((status = rc_dict_table_iter_next(it, it->container, &k, &w)) > 0) {
        void *referent = rc_weakdict_referent(w);
        if (!referent) /* died; its callback has not run yet */
            continue;
        if (key)
            *key = k;
        if (value)
            *value = referent;
        return 1;
    }
    return status;
}
