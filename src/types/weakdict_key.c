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

int rc_weakkeydict_set(void *obj, void *key, void *value)
{
    static const char fn[] = "rc_weakkeydict_set";
    int status = rc_weakdict_key_ok(obj, key, false, fn);
    if (status)
        return status;
    if (!value)
        return rc_set_error(RC_EINVAL, "%s: value is NULL", fn);
    rc_dict_body *d = obj;
    uint64_t hash = rc_hash(key);
    ptrdiff_t ix;
    size_t slot;
    if ((status = rc_weakdict_find(d, key, hash, false, &ix, &slot, fn)) != 0)
        return status;
    if (ix >= 0) {
        rc_dict_table_replace_value(d, (size_t)ix, value);
        return 0;
    }
    /* A new key: its weak reference first (making it may run user code),
     * then look again while reserving room. */
    rc_weakref *w = rc_weakdict_ref(d, key, NULL, hash, rc_weakdict_key_died);
    if (!w)
        return rc_types_prefix_error(rc_is_immortal(key) ? RC_EINVAL : RC_ENOMEM, fn);
    status = rc_dict_table_find_or_reserve(d, key, hash, rc_weakdict_match_referent,
                                           RC_DICT_GENERAL, &ix, &slot, fn);
    if (status == 0 && ix == RC_DKIX_EMPTY) {
        rc_dict_table_insert(d, w, hash, rc_incref(value), slot);
        return 0;
    }
    if (status == 0) /* user code added the key meanwhile */
        rc_dict_table_replace_value(d, (size_t)ix, value);
    rc_weakdict_drop(w);
    return status;
}

void *rc_weakkeydict_get(const void *d, const void *key)
{
    return rc_weakdict_get(d, key, false, "rc_weakkeydict_get");
}

int rc_weakkeydict_del(void *d, const void *key)
{
    return rc_weakdict_del(d, key, false, "rc_weakkeydict_del");
}

size_t rc_weakkeydict_len(const void *d) { return rc_weakdict_len(d, false, "rc_weakkeydict_len"); }

void rc_weakkeydict_clear(void *d)
{
    if (rc_types_check(d, &rc_weakkeydict_type, "rc_weakkeydict_clear"))
        rc_weakdict_clear(d, false, false);
}

rc_iter rc_weakkeydict_iter(const void *d)
{
    return rc_weakdict_iter(d, false, "rc_weakkeydict_iter");
}

int rc_weakkeydict_next(rc_iter *it, void **key, void **value)
{
    return rc_weakdict_next(it, key, value, false, "rc_weakkeydict_next");
}
