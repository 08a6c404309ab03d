/* dict_table.c: the compact hash table's mechanics (see dict_table.h)
 * besides finding keys (dict_probe.c): making room (first table, resize),
 * removal, release, iteration, the checker and the not-found message.
 *
 * User code can run in two places here: the collection that a failing
 * allocation may run (during a reserve), and the drop of a reference. A
 * reserve reports a change made meanwhile so that its caller looks again;
 * references are dropped only after the table is consistent.
 */
#include "dict_table.h"

#include <inttypes.h>
#include <stdio.h>

enum { MAX_RESTARTS = 100 };

static size_t entry_size(unsigned kind)
{
    return kind == RC_DICT_GENERAL ? sizeof(rc_dict_entry) : sizeof(rc_dict_pair);
}

static size_t keys_bytes(unsigned log2_size, unsigned log2_width, unsigned kind)
{
    size_t size = (size_t)1 << log2_size;
    return sizeof(rc_dict_table) + (size << log2_width) + (size << 1) / 3 * entry_size(kind);
}

size_t rc_dict_table_bytes(const rc_dict_body *d)
{
    const rc_dict_table *k = d->keys;
    return k ? keys_bytes(k->log2_size, k->log2_width, k->kind) : 0;
}

/* The narrowest index slot for a table of 2**log2_size (CPython's). */
static unsigned index_width_for(unsigned log2_size)
{
    return log2_size < 8 ? 0 : log2_size < 16 ? 1 : log2_size < 32 ? 2 : 3;
}

static rc_dict_table *keys_new(unsigned log2_size, unsigned kind)
{
    unsigned log2_width = index_width_for(log2_size);
    rc_dict_table *k = rc_malloc(keys_bytes(log2_size, log2_width, kind));
    if (!k)
        return NULL;
    k->log2_size = (uint8_t)log2_size;
    k->log2_width = (uint8_t)log2_width;
    k->kind = (uint8_t)kind;
    k->shape = (uint8_t)rc_dict_shape(log2_width, kind);
    k->nentries = 0;
    k->displaced = kind != RC_DICT_INT; /* only int tables track it: dict_table.h */
    k->holes = 0;
    memset(k->indices, 0xff, (size_t)1 << (log2_size + log2_width)); /* all RC_DKIX_EMPTY */
    return k;
}

/* Moves the live ones of entries [0, end) of `from` to the first entries
 * of `to` (the same table, or a new one of the same kind), in order;
 * returns how many. In place, the entries before the first hole stay. */
static size_t pack_entries(rc_dict_table *to, rc_dict_table *from, size_t end)
{
    size_t n = 0;
    while (to == from && n < end && *rc_dict_key_slot(from, n))
        n++;
    if (from->kind == RC_DICT_GENERAL) {
        rc_dict_entry *t = rc_dict_general_entries(to), *f = rc_dict_general_entries(from);
        for (size_t ix = n; ix < end; ix++) {
            if (f[ix].key)
                t[n++] = f[ix];
        }
    } else {
        rc_dict_pair *t = rc_dict_pairs(to), *f = rc_dict_pairs(from);
        for (size_t ix = n; ix < end; ix++) {
            if (f[ix].key)
                t[n++] = f[ix];
        }
    }
    return n;
}

/* Copies the live entries of old (NULL: none) into k, a new table of the
 * same kind or a general one, in order; returns how many. */
static size_t copy_entries(rc_dict_table *k, rc_dict_table *old)
{
    if (!old)
        return 0;
    if (old->kind == k->kind)
        return pack_entries(k, old, old->nentries);
    size_t n = 0; /* a str or int table turning general: the hashes are stored now */
    rc_dict_entry *to = rc_dict_general_entries(k);
    for (size_t ix = 0; ix < old->nentries; ix++) {
        rc_dict_pair p = rc_dict_pairs(old)[ix];
        if (p.key)
            to[n++] = (rc_dict_entry){rc_dict_pair_hash(old->kind, p.key), p.key, p.value};
    }
    return n;
}

/* CPython's calculate_log2_keysize (its 64-bit form): the bit length of
 * ((minsize | 8) - 1) | 7. That is the smallest power of two >= minsize
 * for minsize >= 8, 8 for 0, and 16 for 1..7 (so a full table of 8 with
 * one live entry is rebuilt at 16, as CPython does). */
static unsigned log2_size_for(size_t minsize)
{
    uint64_t m = (((uint64_t)minsize | 8) - 1) | 7;
    return 64u - (unsigned)__builtin_clzll(m);
}

/* Rebuilds d's table at 2**log2_size slots, no fewer than it has, in its
 * own block, resized (a large block grows by remapping its pages, and only
 * the growth is new memory): the entries move up behind the larger index,
 * deleted ones dropped, and the index is made anew, or split when it
 * doubles with every entry in its home slot and none dropped. 0, or
 * RC_ENOMEM with the table untouched. rc_realloc runs no user code. */
static int regrow(rc_dict_body *d, unsigned log2_size)
{
    rc_dict_table *k = d->keys;
    unsigned log2_width = index_width_for(log2_size), old_log2 = k->log2_size;
    bool splits = !k->displaced && log2_size == old_log2 + 1 && log2_width == k->log2_width;
    size_t old_index = rc_dict_table_size(k) << k->log2_width;
    size_t new_index = (size_t)1 << (log2_size + log2_width);
    k = rc_realloc(k, keys_bytes(log2_size, log2_width, k->kind));
    if (!k)
        return RC_ENOMEM;
    memmove(k->indices + new_index, k->indices + old_index, k->nentries * entry_size(k->kind));
    k->log2_size = (uint8_t)log2_size;
    k->log2_width = (uint8_t)log2_width;
    k->shape = (uint8_t)rc_dict_shape(log2_width, k->kind);
    size_t n = k->nentries;
    if (k->holes) /* else no entry lacks its key: nentries == used */
        k->nentries = d->used = pack_entries(k, k, n);
    k->holes = 0;
    d->keys = k;
    if (splits && k->nentries == n) { /* every slot still names its entry */
        rc_dict_table_split(k, old_log2);
        return 0;
    }
    memset(k->indices, 0xff, new_index); /* all RC_DKIX_EMPTY */
    rc_dict_table_index_all(k, k->nentries);
    return 0;
}

/* A table grows in its own block (regrow); a first table, one that turns
 * general or shrinks, and one whose block could not grow (rc_malloc may
 * collect to find memory, which rc_realloc does not) are made anew. */
int rc_dict_table_reserve(rc_dict_body *d, unsigned key_kind)
{
    rc_dict_table *old = d->keys;
    bool to_general = old && old->kind != RC_DICT_GENERAL && old->kind != key_kind;
    if (old && !to_general && rc_dict_table_has_room(old))
        return 0;
    if (d->used > (SIZE_MAX >> 5))
        return rc_set_error(RC_ENOMEM, "rc_dict: %zu entries are too many", d->used);
    unsigned log2_size = log2_size_for(d->used * 3);
    if (old && !to_general && log2_size >= old->log2_size && regrow(d, log2_size) == 0) {
        RC_ASSERT(!RC_EXPENSIVE || rc_dict_table_validate(d) == 0);
        return 0;
    }
    unsigned kind = old ? (to_general ? RC_DICT_GENERAL : old->kind) : key_kind;
    uint64_t version = d->version;
    rc_dict_table *k = keys_new(log2_size, kind);
    if (!k)
        return RC_ENOMEM;
    if (d->version != version || d->keys != old) { /* a collection ran user code */
        rc_free(k);
        return 1;
    }
    k->nentries = d->used = copy_entries(k, old);
    rc_dict_table_index_all(k, k->nentries);
    d->keys = k;
    rc_free(old);
    RC_ASSERT(!RC_EXPENSIVE || rc_dict_table_validate(d) == 0);
    return 0;
}

int rc_dict_table_find_or_reserve(rc_dict_body *d, const void *key, uint64_t hash,
                                  rc_types_match_fn match, unsigned key_kind, ptrdiff_t *ix,
                                  size_t *slot, const char *fn)
{
    for (int restarts = 0; restarts < MAX_RESTARTS; restarts++) {
        *ix = rc_dict_table_find(d, key, hash, match, slot, fn);
        if (*ix == RC_DKIX_ERROR)
            return RC_ESTATE;
        if (*ix >= 0)
            return 0;
        int status = rc_dict_table_reserve(d, key_kind);
        if (status == 0) /* a rebuilt table (perhaps at the same address) has new slots */
            *slot = rc_dict_table_free_slot(d->keys, hash);
        if (status <= 0)
            return status;
    }
    return rc_set_error(RC_ESTATE, "%s: the dict changed while memory was found, %d times", fn,
                        MAX_RESTARTS);
}

void rc_dict_table_remove(rc_dict_body *d, size_t ix, size_t slot, void **key, void **value,
                          bool quiet)
{
    rc_dict_table *k = d->keys;
    RC_ASSERT(rc_dict_slot_get(k, slot) >= 0 &&
              rc_dict_slot_entry(k, rc_dict_slot_get(k, slot)) == ix);
    rc_dict_slot_set(k, slot, RC_DKIX_DUMMY);
    k->holes = 1;
    *key = *rc_dict_key_slot(k, ix);
    *value = *rc_dict_value_slot(k, ix);
    *rc_dict_key_slot(k, ix) = NULL;
    *rc_dict_value_slot(k, ix) = NULL;
    d->used--;
    if (!quiet)
        d->version++;
}

rc_dict_table *rc_dict_table_detach(rc_dict_body *d)
{
    rc_dict_table *k = d->keys;
    d->keys = NULL;
    d->used = 0;
    d->version++;
    return k;
}

void rc_dict_table_release(rc_dict_table *k)
{
    size_t n = k ? k->nentries : 0;
    for (size_t ix = 0; ix < n && k->kind == RC_DICT_GENERAL; ix++) {
        rc_decref(rc_dict_general_entries(k)[ix].key);
        rc_decref(rc_dict_general_entries(k)[ix].value);
    }
    for (size_t ix = 0; ix < n && k->kind != RC_DICT_GENERAL; ix++) {
        rc_decref(rc_dict_pairs(k)[ix].key);
        rc_decref(rc_dict_pairs(k)[ix].value);
    }
    rc_free(k);
}

bool rc_dict_table_next(const rc_dict_body *d, size_t *pos, void **key, void **value)
{
    rc_dict_table *k = d->keys;
    while (k && *pos < k->nentries) {
        size_t ix = (*pos)++;
        void *ek = *rc_dict_key_slot(k, ix), *ev = *rc_dict_value_slot(k, ix);
        if (ek && ev) {
            *key = ek;
            *value = ev;
            return true;
        }
    }
    return false;
}

void rc_dict_table_traverse(rc_dict_body *d, rc_visit_fn visit, void *arg)
{
    for (size_t ix = 0; d->keys && ix < d->keys->nentries; ix++) {
        d->keys->holes = 1; /* the visitor may clear the key */
        if (*rc_dict_key_slot(d->keys, ix))
            visit(rc_dict_key_slot(d->keys, ix), arg);
        if (d->keys && ix < d->keys->nentries && *rc_dict_value_slot(d->keys, ix))
            visit(rc_dict_value_slot(d->keys, ix), arg);
    }
}

rc_iter rc_dict_table_iter(const void *container, const rc_dict_body *d)
{
    return (rc_iter){.container = container, .pos = 0, .len = d->used, .version = d->version};
}

int rc_dict_table_iter_next(rc_iter *it, const rc_dict_body *d, void **key, void **value)
{
    if (it->version != d->version)
        return rc_set_error(RC_ESTATE, d->used != it->len
                                           ? "dictionary changed size during iteration"
                                           : "dictionary keys changed during iteration");
    return rc_dict_table_next(d, &it->pos, key, value) ? 1 : 0;
}

/* ---- the checker ---- */

static int invalid(const char *what)
{
    rc_set_error(RC_EINVAL, "rc_dict_table_validate: %s", what);
    return -1;
}

int rc_dict_table_validate(rc_dict_body *d)
{
    rc_dict_table *k = d->keys;
    if (!k)
        return d->used == 0 ? 0 : invalid("used > 0 without a table");
    if (k->nentries > rc_dict_table_usable(k) || k->log2_width != index_width_for(k->log2_size) ||
        k->shape != rc_dict_shape(k->log2_width, k->kind))
        return invalid("nentries past usable, or a wrong index width or shape");
    if (k->displaced > 1 || (k->kind != RC_DICT_INT && !k->displaced))
        return invalid("displaced not 1 in a str or general table, or not 0 or 1");
    if (k->holes > 1 || (!k->holes && d->used != k->nentries))
        return invalid("holes 0 with an entry that lost its key, or not 0 or 1");
    size_t live = 0, named = 0;
    for (size_t ix = 0; ix < k->nentries; ix++) {
        void *key = *rc_dict_key_slot(k, ix);
        if (!key)
            continue;
        live++;
        if (k->kind != RC_DICT_GENERAL && rc_dict_kind_of(rc_type_of(key)) != k->kind)
            return invalid("a key of another type in a str or int table");
        size_t slot;
        uint64_t hash = rc_dict_entry_hash(k, ix, k->kind);
        if (rc_dict_table_find(d, key, hash, NULL, &slot, "validate") != (ptrdiff_t)ix)
            return invalid("an entry its hash does not find");
        if (!k->displaced && slot != rc_dict_home_slot(k, hash))
            return invalid("an entry off its home slot, displaced 0");
    }
    uint64_t tags = rc_dict_tag_mask(k->log2_size, k->log2_width);
    for (size_t i = 0; i < rc_dict_table_size(k); i++) {
        int64_t v = rc_dict_slot_get(k, i);
        if (v < RC_DKIX_DUMMY || (v >= 0 && rc_dict_slot_entry(k, v) >= k->nentries))
            return invalid("an index slot out of range");
        size_t ix = v >= 0 ? rc_dict_slot_entry(k, v) : 0;
        if (v >= 0 && *rc_dict_key_slot(k, ix) &&
            ((uint64_t)v & ~(uint64_t)(rc_dict_table_size(k) - 1)) !=
                (rc_dict_entry_hash(k, ix, k->kind) & tags))
            return invalid("an index slot whose tag is not its entry's hash");
        named += v >= 0;
    }
    if (live != d->used || named != live)
        return invalid("used, live entries and index slots disagree");
    return 0;
}

/* ---- messages ---- */

/* A short description of a key: 42, 'text', <Node object at 0x...>. */
static const char *describe(const void *key, char *buf, size_t size)
{
    const rc_type *type = key ? rc_type_of(key) : NULL;
    if (!key)
        snprintf(buf, size, "NULL");
    else if (type == &rc_int_type)
        snprintf(buf, size, "%" PRId64, rc_int_value(key));
    else if (type == &rc_str_type)
        snprintf(buf, size, "'%.40s%s'", rc_str_data(key), rc_str_len(key) > 40 ? "..." : "");
    else
        snprintf(buf, size, "<%s object at %p>", type->name ? type->name : "?", key);
    return buf;
}

int rc_dict_key_missing(const void *key, const char *fn)
{
    char buf[96];
    return rc_set_error(RC_ENOTFOUND, "%s: key %s not found", fn, describe(key, buf, sizeof buf));
}
