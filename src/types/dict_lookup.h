/* dict_lookup.h: the probe sequence and the fast lookup of a compact table
 * (dict_table.h), inline for rc_dict_get and rc_dict_set (dict.c) and the
 * out-of-line forms (dict_probe.c).
 *
 * The fast lookup never runs user code, so it reads the table without
 * re-checking it. Its loop is specialized by the index's slot width and the
 * entry layout (general or pairs), so that a slot load is one instruction
 * and an entry's key one more: a hit on the key object itself (what a
 * program that keeps its keys does) costs one index load, one entry load
 * and no call. An entry is read only when its slot's tag matches the hash,
 * and its key object only to compare it with an equal-hash key that is not
 * the same object. Three steps, each taken only when the one before cannot
 * decide (RC_DICT_LOOKUP_SLOW):
 *  1. inline in rc_dict_get and rc_dict_set's shaped step (dict.c),
 *     calling nothing: identity;
 *  2. out of line (rc_dict_table_lookup): comparisons that run no user
 *     code (rc_dict_entry_matches: ints, strs, bytes);
 *  3. the careful lookup (rc_dict_table_find), for keys of user types
 *     whose equal hook may change the dict.
 */
#ifndef RC_DICT_LOOKUP_H
#define RC_DICT_LOOKUP_H

#include "dict_table.h"

enum { RC_DICT_PERTURB_SHIFT = 5, RC_DICT_LINEAR_PROBES = 3 };

/* The probe sequence: slot hash & mask and the RC_DICT_LINEAR_PROBES slots
 * after it (the same cache line, mostly: a failed lookup usually ends
 * there, as in CPython's sets), then a jump to 5 i + perturb + 1 from the
 * run's first slot, perturb (initially the hash) shifted right by 5 at
 * each jump (CPython's dict recurrence, which reaches every slot). */
typedef struct rc_dict_probe {
    size_t base, i, mask;
    uint64_t perturb;
} rc_dict_probe;

static inline rc_dict_probe rc_dict_probe_start(size_t mask, uint64_t hash)
{
    return (rc_dict_probe){(size_t)hash & mask, (size_t)hash & mask, mask, hash};
}

static inline void rc_dict_probe_next(rc_dict_probe *s)
{
    if (s->base + RC_DICT_LINEAR_PROBES <= s->mask && s->i < s->base + RC_DICT_LINEAR_PROBES) {
        s->i++;
        return;
    }
    s->perturb >>= RC_DICT_PERTURB_SHIFT;
    s->base = s->i = (s->base * 5 + (size_t)s->perturb + 1) & s->mask;
}

/* Entry ix of k, whose key is not key itself but whose slot's tag matches
 * hash, against key: 1 equal, 0 not, -1 if the type's equal hook must
 * decide (dict_probe.c). */
RC_INTERNAL int rc_dict_entry_matches(const rc_dict_table *k, size_t ix, const void *key,
                                      uint64_t hash);

/* What a lookup returns when it cannot decide: the inline one met an
 * entry of the same tag whose key is another object (the out-of-line
 * lookup compares them), the out-of-line one a comparison that needs an
 * equal hook (the careful lookup runs it). */
#define RC_DICT_LOOKUP_SLOW ((void **)(uintptr_t)1)

/* The lookup over slots of 1 << w bytes and entries of one layout (pairs:
 * a str or int table), both constants. It compares keys that are other
 * objects only if `compare` (out of line); without, it calls nothing, so
 * that the function it is inlined in needs no frame. */
static inline __attribute__((always_inline)) void **
rc_dict_lookup_in(const rc_dict_table *k, const void *key, uint64_t hash, size_t *slot, unsigned w,
                  bool pairs, bool compare)
{
    size_t mask = rc_dict_table_size(k) - 1, first_free = RC_DICT_NO_SLOT;
    size_t stride = pairs ? sizeof(rc_dict_pair) : sizeof(rc_dict_entry);
    size_t key_at = pairs ? offsetof(rc_dict_pair, key) : offsetof(rc_dict_entry, key);
    unsigned char *keys = (unsigned char *)k->indices + ((mask + 1) << w) + key_at;
    uint64_t want = hash & rc_dict_tag_mask(k->log2_size, w);
    for (rc_dict_probe seq = rc_dict_probe_start(mask, hash);; rc_dict_probe_next(&seq)) {
        int64_t v = rc_dict_slot_load(k->indices, seq.i, w);
        if (((uint64_t)v & ~(uint64_t)mask) == want) {
            size_t ix = (size_t)v & mask;
            void **ek = (void **)(void *)(keys + ix * stride);
            int equal = *ek == key ? 1 : !compare ? -1 : rc_dict_entry_matches(k, ix, key, hash);
            if (equal < 0)
                return RC_DICT_LOOKUP_SLOW;
            if (equal) {
                *slot = seq.i;
                return ek;
            }
        } else if (v < 0) {
            if (v == RC_DKIX_EMPTY) {
                *slot = first_free != RC_DICT_NO_SLOT ? first_free : seq.i;
                return NULL;
            }
            if (first_free == RC_DICT_NO_SLOT)
                first_free = seq.i;
        }
    }
}

/* Appends an entry for key, absent from k, named by index slot `slot`
 * (where the lookup left it), with a usable entry left and a key k's kind
 * takes; takes over the caller's references to key and value. Slots of
 * 1 << w bytes, entries of one layout, both constants. */
static inline __attribute__((always_inline)) void
rc_dict_insert_in(rc_dict_body *d, rc_dict_table *k, void *key, uint64_t hash, void *value,
                  size_t slot, unsigned w, bool pairs)
{
    /* first, so that nothing stays live across the stores below: one test
     * of a flag that keeps its value in a str or general table */
    if (!k->displaced && slot != rc_dict_home_slot(k, hash))
        k->displaced = 1; /* an int table's first entry off its home slot */
    size_t ix = k->nentries++;
    unsigned char *entries = k->indices + (rc_dict_table_size(k) << w);
    if (pairs)
        ((rc_dict_pair *)(void *)entries)[ix] = (rc_dict_pair){key, value};
    else
        ((rc_dict_entry *)(void *)entries)[ix] = (rc_dict_entry){hash, key, value};
    uint64_t tag = hash & rc_dict_tag_mask(k->log2_size, w);
    rc_dict_slot_store(k->indices, slot, w, (int64_t)((uint64_t)ix | tag));
    d->used++;
    d->version++;
}

/* rc_dict_set's fast step: looks key up in k (d's table) and, if absent
 * and a usable entry is left, inserts it (taking new references to key
 * and value): NULL then; else what the lookup found (the key's field, or
 * RC_DICT_LOOKUP_SLOW, which a full table gives too). */
static inline __attribute__((always_inline)) void **rc_dict_upsert_in(rc_dict_body *d,
                                                                      rc_dict_table *k, void *key,
                                                                      uint64_t hash, void *value,
                                                                      unsigned w, bool pairs)
{
    size_t slot;
    void **ek = rc_dict_lookup_in(k, key, hash, &slot, w, pairs, false);
    if (ek)
        return ek;
    if (RC_UNLIKELY(!rc_dict_table_has_room(k)))
        return RC_DICT_LOOKUP_SLOW;
    rc_dict_insert_in(d, k, rc_incref(key), hash, rc_incref(value), slot, w, pairs);
    return NULL;
}

/* The lookup of key (whose type's keys belong to tables of key_kind:
 * rc_dict_kind_of; hash given) in k: the address of its entry's key
 * field (the value field follows it), with *slot the index slot naming the
 * entry; or NULL if key is absent, with *slot where an insertion of key
 * goes (RC_DICT_NO_SLOT if key cannot go in k: a str or int table and a key
 * of another type); or RC_DICT_LOOKUP_SLOW (see above). */
static inline __attribute__((always_inline)) void **rc_dict_lookup(const rc_dict_table *k,
                                                                   const void *key, uint64_t hash,
                                                                   unsigned key_kind, size_t *slot,
                                                                   bool compare)
{
    bool pairs = k->kind != RC_DICT_GENERAL;
    if (pairs && key_kind != k->kind) { /* no key of another type is in k */
        *slot = RC_DICT_NO_SLOT;
        return NULL;
    }
    switch (k->shape) {
    case 0:
        return rc_dict_lookup_in(k, key, hash, slot, 0, false, compare);
    case 1:
        return rc_dict_lookup_in(k, key, hash, slot, 0, true, compare);
    case 2:
        return rc_dict_lookup_in(k, key, hash, slot, 1, false, compare);
    case 3:
        return rc_dict_lookup_in(k, key, hash, slot, 1, true, compare);
    case 4:
        return rc_dict_lookup_in(k, key, hash, slot, 2, false, compare);
    case 5:
        return rc_dict_lookup_in(k, key, hash, slot, 2, true, compare);
    case 6:
        return rc_dict_lookup_in(k, key, hash, slot, 3, false, compare);
    default:
        return rc_dict_lookup_in(k, key, hash, slot, 3, true, compare);
    }
}

#endif
