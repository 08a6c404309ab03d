/* dict_table.c: the compact hash table's mechanics (see dict_table.h):
 * index slots, probing, lookup with restarts, insertion, resize, removal.
 *
 * User code can run in three places: a key's equal hook (during a lookup),
 * the collection that a failing allocation may run (during a reserve), and
 * the drop of a reference. Lookups hold the compared key and check the
 * version afterwards, starting again if the dict changed; reserve reports
 * a change so that its caller looks again; references are dropped only
 * after the table is consistent.
 */
#include "dict_table.h"

#include <inttypes.h>
#include <stdio.h>

enum { PERTURB_SHIFT = 5, LINEAR_PROBES = 3, MAX_RESTARTS = 100 };

static size_t table_size(const rc_dict_table *k) { return rc_dict_table_size(k); }

static int64_t get_slot(const rc_dict_table *k, size_t i)
{
    switch (k->log2_width) {
    case 0:
        return ((const int8_t *)(const void *)k->indices)[i];
    case 1:
        return ((const int16_t *)(const void *)k->indices)[i];
    case 2:
        return ((const int32_t *)(const void *)k->indices)[i];
    default:
        return ((const int64_t *)(const void *)k->indices)[i];
    }
}

static void set_slot(rc_dict_table *k, size_t i, int64_t ix)
{
    switch (k->log2_width) {
    case 0:
        ((int8_t *)(void *)k->indices)[i] = (int8_t)ix;
        break;
    case 1:
        ((int16_t *)(void *)k->indices)[i] = (int16_t)ix;
        break;
    case 2:
        ((int32_t *)(void *)k->indices)[i] = (int32_t)ix;
        break;
    default:
        ((int64_t *)(void *)k->indices)[i] = ix;
        break;
    }
}

/* Hash tags. An entry number needs log2_size bits, and a slot has 8 *
 * width - 1 bits below its sign: the spare high bits hold the top bits of
 * the entry's hash, so that a probe passes entries of other hashes without
 * reading them (CPython reads each entry; the tags change no size). */
static unsigned tag_bits(const rc_dict_table *k)
{
    return (8u << k->log2_width) - 1u - k->log2_size;
}

static int64_t tag_of(const rc_dict_table *k, uint64_t hash)
{
    unsigned bits = tag_bits(k);
    return bits ? (int64_t)(hash >> (64 - bits)) : 0;
}

/* The slot value naming entry ix of the given hash. */
static int64_t slot_value(const rc_dict_table *k, size_t ix, uint64_t hash)
{
    return (int64_t)ix | tag_of(k, hash) << k->log2_size;
}

/* The entry number a non-negative slot value names. */
static size_t slot_entry(const rc_dict_table *k, int64_t v)
{
    return (size_t)v & (table_size(k) - 1);
}

/* The hash of a live entry (its key is not NULL). */
static uint64_t entry_hash(rc_dict_table *k, size_t ix)
{
    if (k->kind == RC_DICT_STR)
        return ((const rc_str_body *)*rc_dict_key_slot(k, ix))->hash;
    return ((rc_dict_entry *)(void *)rc_dict_table_entries(k))[ix].hash;
}

static size_t entry_size(unsigned kind)
{
    return kind == RC_DICT_STR ? sizeof(rc_dict_str_entry) : sizeof(rc_dict_entry);
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

typedef enum { NO_MATCH, MATCH, CHANGED } match_result;

/* Compares entry ix's key ek with key: held while match runs; CHANGED if
 * the dict changed meanwhile (the lookup must start again). */
static match_result compare(rc_dict_body *d, rc_dict_table *k, size_t ix, void *ek, const void *key,
                            rc_types_match_fn match)
{
    int quick = rc_types_match_quick(ek, key, match);
    if (quick >= 0)
        return quick ? MATCH : NO_MATCH;
    uint64_t version = d->version;
    rc_incref(ek);
    bool equal = match(ek, key);
    rc_decref(ek);
    if (d->version != version || d->keys != k || *rc_dict_key_slot(k, ix) != ek)
        return CHANGED;
    return equal ? MATCH : NO_MATCH;
}

/* The probe sequence: slot hash & mask and the LINEAR_PROBES slots after
 * it (the same cache line, mostly: a failed lookup usually ends there, as
 * in CPython's sets), then a jump to 5 i + perturb + 1 from the run's
 * first slot, perturb (initially the hash) shifted right by 5 at each
 * jump (CPython's dict recurrence, which reaches every slot). */
typedef struct probe_seq {
    size_t base, i, mask;
    uint64_t perturb;
} probe_seq;

static probe_seq seq_start(const rc_dict_table *k, uint64_t hash)
{
    size_t mask = table_size(k) - 1;
    return (probe_seq){(size_t)hash & mask, (size_t)hash & mask, mask, hash};
}

static void seq_next(probe_seq *s)
{
    if (s->base + LINEAR_PROBES <= s->mask && s->i < s->base + LINEAR_PROBES) {
        s->i++;
        return;
    }
    s->perturb >>= PERTURB_SHIFT;
    s->base = s->i = (s->base * 5 + (size_t)s->perturb + 1) & s->mask;
}

/* One probe of the table; RC_DKIX_ERROR - 1 asks for a restart. When key
 * is absent, *slot is where an insertion goes: the first slot on the path
 * that names no entry (a dummy, or the empty slot that ended it). */
static ptrdiff_t probe(rc_dict_body *d, const void *key, uint64_t hash, rc_types_match_fn match,
                       size_t *slot)
{
    rc_dict_table *k = d->keys;
    if (!k)
        return RC_DKIX_EMPTY;
    int64_t tag = tag_of(k, hash);
    size_t first_free = SIZE_MAX;
    for (probe_seq seq = seq_start(k, hash);; seq_next(&seq)) {
        size_t i = seq.i;
        int64_t v = get_slot(k, i);
        if (v < 0 && first_free == SIZE_MAX)
            first_free = i;
        if (v == RC_DKIX_EMPTY) {
            *slot = first_free;
            return RC_DKIX_EMPTY;
        }
        if (v >= 0 && v >> k->log2_size == tag) {
            size_t ix = slot_entry(k, v);
            void *ek = *rc_dict_key_slot(k, ix);
            if (ek == key) {
                *slot = i;
                return (ptrdiff_t)ix;
            }
            if (ek && entry_hash(k, ix) == hash) {
                match_result r = compare(d, k, ix, ek, key, match);
                if (r == CHANGED)
                    return RC_DKIX_ERROR - 1;
                if (r == MATCH) {
                    *slot = i;
                    return (ptrdiff_t)ix;
                }
            }
        }
    }
}

ptrdiff_t rc_dict_table_find(rc_dict_body *d, const void *key, uint64_t hash,
                             rc_types_match_fn match, size_t *slot, const char *fn)
{
    for (int restarts = 0; restarts < MAX_RESTARTS; restarts++) {
        ptrdiff_t ix = probe(d, key, hash, match, slot);
        if (ix != RC_DKIX_ERROR - 1)
            return ix;
    }
    rc_set_error(RC_ESTATE, "%s: the dict changed during every comparison of %d lookups", fn,
                 MAX_RESTARTS);
    return RC_DKIX_ERROR;
}

/* The first slot on hash's probe sequence that names no entry. */
static size_t free_slot(const rc_dict_table *k, uint64_t hash)
{
    probe_seq seq = seq_start(k, hash);
    while (get_slot(k, seq.i) >= 0)
        seq_next(&seq);
    return seq.i;
}

static void entry_store(rc_dict_table *k, size_t ix, void *key, uint64_t hash, void *value)
{
    if (k->kind == RC_DICT_GENERAL) {
        ((rc_dict_entry *)(void *)rc_dict_table_entries(k))[ix].hash = hash;
    }
    *rc_dict_key_slot(k, ix) = key;
    *rc_dict_value_slot(k, ix) = value;
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
    k->nentries = 0;
    memset(k->indices, 0xff, (size_t)1 << (log2_size + log2_width)); /* all RC_DKIX_EMPTY */
    return k;
}

/* Indexes entries [0, n) of k, all live. Their home slots are scattered
 * over the index: prefetching the slot of an entry a little ahead lets
 * those cache misses overlap, which is most of a large resize's speed. */
static void index_all(rc_dict_table *k, size_t n)
{
    enum { AHEAD = 16 };
    size_t mask = table_size(k) - 1;
    for (size_t j = 0; j < n; j++) {
        if (j + AHEAD < n) {
            size_t home = (size_t)entry_hash(k, j + AHEAD) & mask;
            __builtin_prefetch(k->indices + (home << k->log2_width), 1);
        }
        uint64_t hash = entry_hash(k, j);
        set_slot(k, free_slot(k, hash), slot_value(k, j, hash));
    }
}

/* Moves the live entries of old into k (empty), in order, and indexes
 * them; returns how many. */
static size_t keys_fill(rc_dict_table *k, rc_dict_table *old)
{
    size_t n = 0;
    for (size_t ix = 0; old && ix < old->nentries; ix++) {
        void *key = *rc_dict_key_slot(old, ix);
        if (key)
            entry_store(k, n++, key, entry_hash(old, ix), *rc_dict_value_slot(old, ix));
    }
    k->nentries = n;
    index_all(k, n);
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

int rc_dict_table_reserve(rc_dict_body *d, bool str_key)
{
    rc_dict_table *old = d->keys;
    bool to_general = old && old->kind == RC_DICT_STR && !str_key;
    if (old && !to_general && old->nentries < rc_dict_table_usable(old))
        return 0;
    if (d->used > (SIZE_MAX >> 5))
        return rc_set_error(RC_ENOMEM, "rc_dict: %zu entries are too many", d->used);
    unsigned kind = old ? (to_general ? RC_DICT_GENERAL : old->kind)
                        : (str_key ? RC_DICT_STR : RC_DICT_GENERAL);
    uint64_t version = d->version;
    rc_dict_table *k = keys_new(log2_size_for(d->used * 3), kind);
    if (!k)
        return RC_ENOMEM;
    if (d->version != version || d->keys != old) { /* a collection ran user code */
        rc_free(k);
        return 1;
    }
    d->used = keys_fill(k, old);
    d->keys = k;
    rc_free(old);
    RC_ASSERT(!RC_EXPENSIVE || rc_dict_table_validate(d) == 0);
    return 0;
}

int rc_dict_table_find_or_reserve(rc_dict_body *d, const void *key, uint64_t hash,
                                  rc_types_match_fn match, bool str_key, ptrdiff_t *ix,
                                  size_t *slot, const char *fn)
{
    for (int restarts = 0; restarts < MAX_RESTARTS; restarts++) {
        *ix = rc_dict_table_find(d, key, hash, match, slot, fn);
        if (*ix == RC_DKIX_ERROR)
            return RC_ESTATE;
        if (*ix >= 0)
            return 0;
        rc_dict_table *before = d->keys;
        int status = rc_dict_table_reserve(d, str_key);
        if (status == 0 && d->keys != before) /* a new table: the free slot moved */
            *slot = free_slot(d->keys, hash);
        if (status <= 0)
            return status;
    }
    return rc_set_error(RC_ESTATE, "%s: the dict changed while memory was found, %d times", fn,
                        MAX_RESTARTS);
}

void rc_dict_table_insert(rc_dict_body *d, void *key, uint64_t hash, void *value, size_t slot)
{
    rc_dict_table *k = d->keys;
    RC_ASSERT(k && k->nentries < rc_dict_table_usable(k));
    RC_ASSERT(k->kind == RC_DICT_GENERAL || rc_type_of(key) == &rc_str_type);
    RC_ASSERT(slot == free_slot(k, hash));
    size_t ix = k->nentries++;
    entry_store(k, ix, key, hash, value);
    set_slot(k, slot, slot_value(k, ix, hash));
    d->used++;
    d->version++;
}

void rc_dict_table_replace_value(rc_dict_body *d, size_t ix, void *value)
{
    void **slot = rc_dict_value_slot(d->keys, ix);
    void *old = *slot;
    *slot = rc_incref(value);
    rc_decref(old);
}

void rc_dict_table_remove(rc_dict_body *d, size_t ix, size_t slot, void **key, void **value,
                          bool quiet)
{
    rc_dict_table *k = d->keys;
    RC_ASSERT(get_slot(k, slot) >= 0 && slot_entry(k, get_slot(k, slot)) == ix);
    set_slot(k, slot, RC_DKIX_DUMMY);
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
    for (size_t ix = 0; k && ix < k->nentries; ix++) {
        rc_decref(*rc_dict_key_slot(k, ix));
        rc_decref(*rc_dict_value_slot(k, ix));
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
    if (k->nentries > rc_dict_table_usable(k) || k->log2_width != index_width_for(k->log2_size))
        return invalid("nentries past usable, or a wrong index width");
    size_t live = 0, named = 0;
    for (size_t ix = 0; ix < k->nentries; ix++) {
        void *key = *rc_dict_key_slot(k, ix);
        if (!key)
            continue;
        live++;
        if (k->kind == RC_DICT_STR && rc_type_of(key) != &rc_str_type)
            return invalid("a key that is not a str in a str table");
        size_t slot;
        if (probe(d, key, entry_hash(k, ix), NULL, &slot) != (ptrdiff_t)ix)
            return invalid("an entry its hash does not find");
    }
    for (size_t i = 0; i < table_size(k); i++) {
        int64_t v = get_slot(k, i);
        if (v < RC_DKIX_DUMMY || (v >= 0 && slot_entry(k, v) >= k->nentries))
            return invalid("an index slot out of range");
        if (v >= 0 && *rc_dict_key_slot(k, slot_entry(k, v)) &&
            v >> k->log2_size != tag_of(k, entry_hash(k, slot_entry(k, v))))
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
