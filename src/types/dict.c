/* dict.c: rc_dict, Python's dict: an insertion-ordered compact hash table
 * (dict_table.c) of owned key and value references.
 *
 * Every change stores first and drops references last, so the code a drop
 * runs (a finalizer, a weak reference callback) sees a consistent dict.
 * Dropping every reference at once (death, or the collector clearing a
 * cycle: traverse with rc_release_visit) takes the whole table out first,
 * as CPython's dict_tp_clear does, so that user code run by those drops
 * finds an empty dict, never a half-cleared one.
 */
#include "dict_table.h"

static void dict_traverse(void *self, rc_visit_fn visit, void *arg)
{
    rc_dict_body *d = self;
    if (visit == rc_release_visit) {
        rc_dict_table_release(rc_dict_table_detach(d));
        return;
    }
    rc_dict_table_traverse(d, visit, arg);
}

/* Normally the table is gone already (traverse released it). Entries that
 * user code stored while the collector was clearing the dict are dropped
 * here, except at heap teardown, where every object goes at once. */
static void dict_destroy(void *self)
{
    rc_dict_table *keys = rc_dict_table_detach(self);
    if (!keys)
        return;
    if (rc_object_heap(self)->destroying)
        rc_free(keys);
    else
        rc_dict_table_release(keys);
}

const rc_type rc_dict_type = {
    .name = "dict",
    .size = sizeof(rc_dict_body),
    .traverse = dict_traverse,
    .destroy = dict_destroy,
};

void *rc_dict_new(void) { return rc_new(&rc_dict_type); }

bool rc_is_dict(const void *obj) { return obj && rc_type_of(obj) == &rc_dict_type; }

static bool dict_key_ok(const void *d, const void *key, const char *fn)
{
    if (!rc_types_check(d, &rc_dict_type, fn))
        return false;
    if (key)
        return true;
    rc_set_error(RC_EINVAL, "%s: key is NULL", fn);
    return false;
}

int rc_dict_set(void *obj, void *key, void *value)
{
    if (!dict_key_ok(obj, key, "rc_dict_set"))
        return RC_EINVAL;
    if (!value)
        return rc_set_error(RC_EINVAL, "rc_dict_set: value is NULL");
    rc_dict_body *d = obj;
    uint64_t hash = rc_hash(key);
    ptrdiff_t ix;
    size_t slot;
    int status =
        rc_dict_table_find_or_reserve(d, key, hash, rc_types_match_equal,
                                      rc_type_of(key) == &rc_str_type, &ix, &slot, "rc_dict_set");
    if (status)
        return status;
    if (ix == RC_DKIX_EMPTY) {
        rc_dict_table_insert(d, rc_incref(key), hash, rc_incref(value), slot);
        return 0;
    }
    rc_dict_table_replace_value(d, (size_t)ix, value);
    return 0;
}

/* Looks key up in d: 0 with *ix the entry number or RC_DKIX_EMPTY, or a
 * negative RC_E* code with a message (not a dict, NULL key, a dict that
 * kept changing under the comparisons). */
static int dict_find(const void *obj, const void *key, ptrdiff_t *ix, size_t *slot, const char *fn)
{
    if (!dict_key_ok(obj, key, fn))
        return RC_EINVAL;
    rc_dict_body *d = (rc_dict_body *)obj; /* a lookup holds keys, changes nothing */
    *ix = rc_dict_table_find(d, key, rc_hash(key), rc_types_match_equal, slot, fn);
    return *ix == RC_DKIX_ERROR ? RC_ESTATE : 0;
}

/* The value of entry ix of d, a dict, or NULL for none. */
static void *value_at(const void *obj, ptrdiff_t ix)
{
    return ix >= 0 ? *rc_dict_value_slot(((const rc_dict_body *)obj)->keys, (size_t)ix) : NULL;
}

void *rc_dict_get(const void *obj, const void *key)
{
    ptrdiff_t ix;
    size_t slot;
    return dict_find(obj, key, &ix, &slot, "rc_dict_get") ? NULL : value_at(obj, ix);
}

int rc_dict_contains(const void *obj, const void *key)
{
    ptrdiff_t ix;
    size_t slot;
    int status = dict_find(obj, key, &ix, &slot, "rc_dict_contains");
    return status ? status : value_at(obj, ix) != NULL;
}

/* Takes key's entry out of d; its value (the dict's reference) in *value.
 * 0, or RC_ENOTFOUND / RC_EINVAL / RC_ESTATE with a message. */
static int dict_take(void *obj, const void *key, void **value, const char *fn)
{
    ptrdiff_t ix;
    size_t slot;
    int status = dict_find(obj, key, &ix, &slot, fn);
    if (status)
        return status;
    if (ix == RC_DKIX_EMPTY)
        return rc_dict_key_missing(key, fn);
    void *old_key;
    rc_dict_table_remove(obj, (size_t)ix, slot, &old_key, value, false);
    rc_decref(old_key);
    return 0;
}

int rc_dict_del(void *obj, const void *key)
{
    void *value = NULL;
    int status = dict_take(obj, key, &value, "rc_dict_del");
    rc_decref(value);
    return status;
}

void *rc_dict_pop(void *obj, const void *key)
{
    void *value = NULL;
    int status = dict_take(obj, key, &value, "rc_dict_pop");
    if (status == 0 && !value)
        rc_set_error(RC_ENOTFOUND, "rc_dict_pop: the entry was being cleared");
    return value;
}

size_t rc_dict_len(const void *obj)
{
    return rc_types_check(obj, &rc_dict_type, "rc_dict_len") ? ((const rc_dict_body *)obj)->used
                                                             : 0;
}

void rc_dict_clear(void *obj)
{
    if (rc_types_check(obj, &rc_dict_type, "rc_dict_clear"))
        rc_dict_table_release(rc_dict_table_detach(obj));
}
