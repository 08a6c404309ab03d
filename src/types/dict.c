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
#include "dict_lookup.h"

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

/* ---- set and get: a fast path for int and str keys, and the general one
 *
 * The fast paths take keys whose hash is at hand, ints and strs that
 * cached theirs, and tables that have room: one inline lookup
 * (dict_lookup.h), then a store; they call nothing, so they need no frame.
 * rc_dict_set tries a shorter step first for an int key and an int table
 * (dict_set_int: the key's home slot empty, the entry filed there), and
 * reaches its other steps by tail calls.
 * Anything else (a misuse, a key of another type, a str not hashed yet, a
 * key equal to an entry's but another object, a first table, a resize, a
 * str or int table turning general) goes to the general path, which
 * starts over; so does a dead key or dict (count 0), whose use the general
 * path reports. */

/* A live dict? */
static inline __attribute__((always_inline)) bool fast_dict(const void *obj)
{
    return obj && rc_head_of(obj)->refcnt != 0 && rc_head_of(obj)->type == &rc_dict_type;
}

/* The hash of a live int key or str key whose hash is cached, and the kind
 * of table such keys go in; false for any other key. */
static inline __attribute__((always_inline)) bool fast_key(const void *key, uint64_t *hash,
                                                           unsigned *kind)
{
    const rc_object_head *head = rc_head_of(key);
    if (RC_UNLIKELY(head->refcnt == 0))
        return false;
    if (head->type == &rc_int_type) {
        *hash = rc_int_hash_value(((const rc_int_body *)key)->value);
        *kind = RC_DICT_INT;
        return true;
    }
    if (head->type != &rc_str_type)
        return false;
    const rc_str_body *s = key;
    *hash = s->hash;
    *kind = RC_DICT_STR;
    return s->flags & RC_STR_HASHED; /* else the general path hashes it */
}

/* rc_dict_set's general path. The hash is taken first (a user type's hook
 * may change the dict), then the table: the fast lookup finds the key or
 * its free slot, else the careful path makes room or compares with user
 * code. */
static RC_NOINLINE int dict_set_general(void *obj, void *key, void *value)
{
    static const char fn[] = "rc_dict_set";
    if (!dict_key_ok(obj, key, fn))
        return RC_EINVAL;
    if (!value)
        return rc_set_error(RC_EINVAL, "%s: value is NULL", fn);
    rc_dict_body *d = obj;
    const rc_type *type = rc_types_type_of(key);
    unsigned kind = rc_dict_kind_of(type);
    uint64_t hash = rc_dict_key_hash(key, type);
    size_t slot;
    ptrdiff_t ix = d->keys ? rc_dict_table_lookup(d->keys, key, hash, type, &slot) : RC_DKIX_SLOW;
    if (ix == RC_DKIX_EMPTY && slot != RC_DICT_NO_SLOT && rc_dict_table_has_room(d->keys)) {
        rc_dict_table_insert(d, rc_incref(key), hash, rc_incref(value), slot);
        return 0;
    }
    if (ix < 0) {
        int status =
            rc_dict_table_find_or_reserve(d, key, hash, rc_types_match_equal, kind, &ix, &slot, fn);
        if (status)
            return status;
    }
    if (ix == RC_DKIX_EMPTY)
        rc_dict_table_insert(d, rc_incref(key), hash, rc_incref(value), slot);
    else
        rc_dict_table_replace_value(d, (size_t)ix, value);
    return 0;
}

/* rc_dict_store_value out of line: the fast path then calls nothing but
 * in tail position, and needs no frame. */
static RC_NOINLINE int dict_replace(void **field, void *value)
{
    rc_dict_store_value(field, value);
    return 0;
}

/* The fast step for a table of slots of 1 << w bytes and entries of one
 * layout (constants). */
static inline __attribute__((always_inline)) int dict_set_in(rc_dict_body *d, rc_dict_table *k,
                                                             void *key, uint64_t hash, void *value,
                                                             unsigned w, bool pairs)
{
    void **ek = rc_dict_upsert_in(d, k, key, hash, value, w, pairs);
    if (!ek)
        return 0;
    if (ek == RC_DICT_LOOKUP_SLOW)
        return dict_set_general(d, key, value);
    return dict_replace(ek + 1, value); /* the value follows the key */
}

/* The fast step for a live key of the given kind (hash at hand) and d's
 * table, specialized by the table's shape; out of line, so that
 * rc_dict_set needs no frame. */
static RC_NOINLINE int dict_set_shaped(rc_dict_body *d, void *key, uint64_t hash, unsigned kind,
                                       void *value)
{
    rc_dict_table *k = d->keys;
    if (RC_UNLIKELY(!k || (k->kind != RC_DICT_GENERAL && k->kind != kind)))
        return dict_set_general(d, key, value);
    switch (k->shape) {
    case 0:
        return dict_set_in(d, k, key, hash, value, 0, false);
    case 1:
        return dict_set_in(d, k, key, hash, value, 0, true);
    case 2:
        return dict_set_in(d, k, key, hash, value, 1, false);
    case 3:
        return dict_set_in(d, k, key, hash, value, 1, true);
    case 4:
        return dict_set_in(d, k, key, hash, value, 2, false);
    case 5:
        return dict_set_in(d, k, key, hash, value, 2, true);
    case 6:
        return dict_set_in(d, k, key, hash, value, 3, false);
    default:
        return dict_set_in(d, k, key, hash, value, 3, true);
    }
}

/* The int step over slots of 1 << w bytes (a constant): an int key goes
 * straight into k, d's int table, if a usable entry is left and the key's
 * home slot is empty (the probe for it would end there at once: it is
 * absent, and its entry is filed at home, so displaced stays). No tag
 * compared, no first free slot kept, no entry read; anything else goes to
 * the table's shaped step. */
static inline __attribute__((always_inline)) int dict_set_int_home(rc_dict_body *d,
                                                                   rc_dict_table *k, void *key,
                                                                   uint64_t hash, void *value,
                                                                   unsigned w)
{
    size_t home = rc_dict_home_slot(k, hash);
    if (!rc_dict_table_has_room(k) || rc_dict_slot_load(k->indices, home, w) != RC_DKIX_EMPTY)
        return dict_set_shaped(d, key, hash, RC_DICT_INT, value);
    rc_dict_insert_in(d, k, rc_incref(key), hash, rc_incref(value), home, w, true);
    return 0;
}

/* dict_set_int_home for k's slot width, out of line, so that rc_dict_set
 * needs no frame. key and value are not NULL (rc_dict_set checked): the
 * hint drops rc_incref's tests. */
static RC_NOINLINE int dict_set_int(rc_dict_body *d, rc_dict_table *k, void *key, uint64_t hash,
                                    void *value)
{
    if (!key || !value)
        __builtin_unreachable();
    switch (k->log2_width) {
    case 0:
        return dict_set_int_home(d, k, key, hash, value, 0);
    case 1:
        return dict_set_int_home(d, k, key, hash, value, 1);
    case 2:
        return dict_set_int_home(d, k, key, hash, value, 2);
    default:
        return dict_set_int_home(d, k, key, hash, value, 3);
    }
}

int rc_dict_set(void *obj, void *key, void *value)
{
    uint64_t hash;
    unsigned kind;
    if (RC_UNLIKELY(!fast_dict(obj) || !key || !value || !fast_key(key, &hash, &kind)))
        return dict_set_general(obj, key, value);
    rc_dict_body *d = obj;
    rc_dict_table *k = d->keys;
    if (kind != RC_DICT_INT || !k || k->kind != RC_DICT_INT)
        return dict_set_shaped(d, key, hash, kind, value);
    return dict_set_int(d, k, key, hash, value);
}

/* Looks key up in d: 0 with *ix the entry number or RC_DKIX_EMPTY, or a
 * negative RC_E* code with a message (not a dict, NULL key, a dict that
 * kept changing under the comparisons). */
static int dict_find(const void *obj, const void *key, ptrdiff_t *ix, size_t *slot, const char *fn)
{
    if (!dict_key_ok(obj, key, fn))
        return RC_EINVAL;
    rc_dict_body *d = (rc_dict_body *)obj; /* a lookup holds keys, changes nothing */
    const rc_type *type = rc_types_type_of(key);
    uint64_t hash = rc_dict_key_hash(key, type);
    *ix = d->keys ? rc_dict_table_lookup(d->keys, key, hash, type, slot) : RC_DKIX_EMPTY;
    if (RC_UNLIKELY(*ix == RC_DKIX_SLOW))
        *ix = rc_dict_table_find(d, key, hash, rc_types_match_equal, slot, fn);
    return *ix == RC_DKIX_ERROR ? RC_ESTATE : 0;
}

/* The value of entry ix of d, a dict, or NULL for none. */
static void *value_at(const void *obj, ptrdiff_t ix)
{
    return ix >= 0 ? *rc_dict_value_slot(((const rc_dict_body *)obj)->keys, (size_t)ix) : NULL;
}

static RC_NOINLINE void *dict_get_general(const void *obj, const void *key)
{
    ptrdiff_t ix;
    size_t slot;
    return dict_find(obj, key, &ix, &slot, "rc_dict_get") ? NULL : value_at(obj, ix);
}

void *rc_dict_get(const void *obj, const void *key)
{
    uint64_t hash;
    unsigned kind;
    if (RC_UNLIKELY(!fast_dict(obj) || !key || !fast_key(key, &hash, &kind)))
        return dict_get_general(obj, key);
    const rc_dict_table *k = ((const rc_dict_body *)obj)->keys;
    if (!k)
        return NULL;
    size_t slot;
    void **ek = rc_dict_lookup(k, key, hash, kind, &slot, false);
    if (RC_UNLIKELY(ek == RC_DICT_LOOKUP_SLOW))
        return dict_get_general(obj, key);
    return ek ? ek[1] : NULL; /* the value follows the key */
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
