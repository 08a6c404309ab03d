/* weakdict_key.c: rc_weakkeydict, weakref.WeakKeyDictionary: a dict table
 * of weak reference to the key -> value (weakdict_internal.h). Values are
 * held; keys are not, and an entry leaves the dict when its key dies. Keys
 * are matched by equality of the live referents (rc_equal), entries filed
 * under the hash of the key. Keys must be objects that can die (not
 * immortal): rc_weakkeydict_set fails with RC_EINVAL otherwise. */
#include "weakdict_internal.h"

static void wkd_traverse(void *self, rc_visit_fn visit, void *arg)
{
    rc_weakdict_traverse(self, false, visit, arg);
}

static void wkd_destroy(void *self)
{
    rc_weakdict_clear(self, false, rc_object_heap(self)->destroying);
}

const rc_type rc_weakkeydict_type = {
    .name = "weakkeydict",
    .size = sizeof(rc_dict_body),
    .traverse = wkd_traverse,
    .destroy = wkd_destroy,
};

void *rc_weakkeydict_new(void) { return rc_new(&rc_weakkeydict_type); }

static int wkd_key_ok(const void *d, const void *key, const char *fn)
{
    if (!rc_types_check(d, &rc_weakkeydict_type, fn))
        return RC_EINVAL;
    return key ? 0 : rc_set_error(RC_EINVAL, "%s: key is NULL", fn);
}

/* Looks key up (hash given): 0 with *ix its entry number or RC_DKIX_EMPTY,
 * or RC_ESTATE with a message. */
static int wkd_find(const void *obj, const void *key, uint64_t hash, ptrdiff_t *ix, size_t *slot,
                    const char *fn)
{
    rc_dict_body *d = (rc_dict_body *)obj; /* a lookup changes nothing */
    *ix = rc_dict_table_find(d, key, hash, rc_weakdict_match_referent, slot, fn);
    return *ix == RC_DKIX_ERROR ? RC_ESTATE : 0;
}

/* Stores value in entry ix (the key stays), dropping the old value last. */
static void replace_value(rc_dict_body *d, ptrdiff_t ix, void *value)
{
    void **value_slot = rc_dict_value_slot(d->keys, (size_t)ix);
    void *old = *value_slot;
    *value_slot = rc_incref(value);
    rc_decref(old);
}

int rc_weakkeydict_set(void *obj, void *key, void *value)
{
    static const char fn[] = "rc_weakkeydict_set";
    int status = wkd_key_ok(obj, key, fn);
    if (status)
        return status;
    if (!value)
        return rc_set_error(RC_EINVAL, "%s: value is NULL", fn);
    rc_dict_body *d = obj;
    uint64_t hash = rc_hash(key);
    ptrdiff_t ix;
    size_t slot;
    if ((status = wkd_find(d, key, hash, &ix, &slot, fn)) != 0)
        return status;
    if (ix >= 0) {
        replace_value(d, ix, value);
        return 0;
    }
    /* A new key: its weak reference first (making it may run user code),
     * then look again while reserving room. */
    rc_weakref *w = rc_weakdict_ref(d, key, NULL, hash, rc_weakdict_key_died);
    if (!w)
        return rc_types_prefix_error(rc_is_immortal(key) ? RC_EINVAL : RC_ENOMEM, fn);
    status = rc_dict_table_find_or_reserve(d, key, hash, rc_weakdict_match_referent, false, &ix,
                                           &slot, fn);
    if (status == 0 && ix == RC_DKIX_EMPTY) {
        rc_dict_table_insert(d, w, hash, rc_incref(value), slot);
        return 0;
    }
    if (status == 0) /* user code added the key meanwhile */
        replace_value(d, ix, value);
    rc_weakdict_drop(w);
    return status;
}

void *rc_weakkeydict_get(const void *obj, const void *key)
{
    ptrdiff_t ix;
    size_t slot;
    if (wkd_key_ok(obj, key, "rc_weakkeydict_get") ||
        wkd_find(obj, key, rc_hash(key), &ix, &slot, "rc_weakkeydict_get") || ix < 0)
        return NULL;
    return *rc_dict_value_slot(((const rc_dict_body *)obj)->keys, (size_t)ix);
}

int rc_weakkeydict_del(void *obj, const void *key)
{
    static const char fn[] = "rc_weakkeydict_del";
    ptrdiff_t ix;
    size_t slot;
    int status = wkd_key_ok(obj, key, fn);
    if (!status)
        status = wkd_find(obj, key, rc_hash(key), &ix, &slot, fn);
    if (status)
        return status;
    if (ix == RC_DKIX_EMPTY) {
        char buf[96];
        return rc_set_error(RC_ENOTFOUND, "%s: key %s not found", fn,
                            rc_types_describe(key, buf, sizeof buf));
    }
    rc_weakdict_remove(obj, (size_t)ix, slot, false, false);
    return 0;
}

size_t rc_weakkeydict_len(const void *obj)
{
    return rc_types_check(obj, &rc_weakkeydict_type, "rc_weakkeydict_len")
               ? ((const rc_dict_body *)obj)->used
               : 0;
}

void rc_weakkeydict_clear(void *obj)
{
    if (rc_types_check(obj, &rc_weakkeydict_type, "rc_weakkeydict_clear"))
        rc_weakdict_clear(obj, false, false);
}

rc_iter rc_weakkeydict_iter(const void *obj)
{
    if (!rc_types_check(obj, &rc_weakkeydict_type, "rc_weakkeydict_iter"))
        return (rc_iter){.container = NULL};
    return rc_dict_table_iter(obj, obj);
}

int rc_weakkeydict_next(rc_iter *it, void **key, void **value)
{
    if (!it)
        return rc_set_error(RC_EINVAL, "rc_weakkeydict_next: it is NULL");
    if (!rc_types_check(it->container, &rc_weakkeydict_type, "rc_weakkeydict_next"))
        return RC_EINVAL;
    void *w, *v;
    int status;
    while ((status = rc_dict_table_iter_next(it, it->container, &w, &v)) > 0) {
        void *referent = rc_weakdict_referent(w);
        if (!referent) /* died; its callback has not run yet */
            continue;
        if (key)
            *key = referent;
        if (value)
            *value = v;
        return 1;
    }
    return status;
}
