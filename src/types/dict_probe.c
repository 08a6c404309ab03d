/* dict_probe.c: finding a key's entry in a compact table (dict_table.h),
 * and where a new entry's slot goes.
 *
 * The fast lookup is inline in dict_lookup.h; here are its out-of-line
 * parts: the comparison of a key with an entry's equal-hash key that is
 * another object, and rc_dict_table_lookup for callers that want an entry
 * number. The careful lookup (rc_dict_table_find) compares through a match
 * function that may run user code: it holds the compared key and checks
 * the version afterwards, starting again if the dict changed. A new table
 * is indexed here too (rc_dict_table_index_all), along the same probe
 * sequence, or split when it doubles with every entry in its home slot.
 */
#include "dict_lookup.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

enum { MAX_RESTARTS = 100 };

/* ---- the fast lookup's out-of-line parts ---- */

int rc_dict_entry_matches(const rc_dict_table *k, size_t ix, const void *key, uint64_t hash)
{
    if (k->kind == RC_DICT_GENERAL) { /* rc_equal's answer, if it runs no user code */
        const rc_dict_entry *e = &rc_dict_general_entries(k)[ix];
        return e->key && e->hash == hash ? rc_types_match_quick(e->key, key, rc_types_match_equal)
                                         : 0;
    }
    const void *ek = rc_dict_pairs(k)[ix].key;
    if (!ek)
        return 0;
    if (k->kind == RC_DICT_INT)
        return ((const rc_int_body *)ek)->value == ((const rc_int_body *)key)->value;
    return ((const rc_str_body *)ek)->hash == hash && rc_strlike_equal(ek, key);
}

ptrdiff_t rc_dict_table_lookup(const rc_dict_table *k, const void *key, uint64_t hash,
                               const rc_type *type, size_t *slot)
{
    void **ek = rc_dict_lookup(k, key, hash, rc_dict_kind_of(type), slot, true);
    if (!ek)
        return RC_DKIX_EMPTY;
    if (ek == RC_DICT_LOOKUP_SLOW)
        return RC_DKIX_SLOW;
    return rc_dict_slot_entry(k, rc_dict_slot_get(k, *slot));
}

void rc_dict_table_insert(rc_dict_body *d, void *key, uint64_t hash, void *value, size_t slot)
{
    rc_dict_table *k = d->keys;
    RC_ASSERT(k && k->nentries < rc_dict_table_usable(k));
    RC_ASSERT(k->kind == RC_DICT_GENERAL || rc_dict_kind_of(rc_type_of(key)) == k->kind);
    RC_ASSERT(slot == rc_dict_table_free_slot(k, hash));
    bool pairs = k->kind != RC_DICT_GENERAL;
    switch (k->log2_width) {
    case 0:
        rc_dict_insert_in(d, k, key, hash, value, slot, 0, pairs);
        break;
    case 1:
        rc_dict_insert_in(d, k, key, hash, value, slot, 1, pairs);
        break;
    case 2:
        rc_dict_insert_in(d, k, key, hash, value, slot, 2, pairs);
        break;
    default:
        rc_dict_insert_in(d, k, key, hash, value, slot, 3, pairs);
        break;
    }
}

/* ---- the careful lookup ---- */

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

/* One probe of the table; RC_DKIX_ERROR - 1 asks for a restart. When key
 * is absent, *slot is where an insertion goes: the first slot on the path
 * that names no entry (a dummy, or the empty slot that ended it). */
static ptrdiff_t probe(rc_dict_body *d, const void *key, uint64_t hash, rc_types_match_fn match,
                       size_t *slot)
{
    rc_dict_table *k = d->keys;
    if (!k)
        return RC_DKIX_EMPTY;
    size_t mask = rc_dict_table_size(k) - 1, first_free = RC_DICT_NO_SLOT;
    uint64_t want = hash & rc_dict_tag_mask(k->log2_size, k->log2_width);
    for (rc_dict_probe seq = rc_dict_probe_start(mask, hash);; rc_dict_probe_next(&seq)) {
        int64_t v = rc_dict_slot_get(k, seq.i);
        if (v < 0 && first_free == RC_DICT_NO_SLOT)
            first_free = seq.i;
        if (v == RC_DKIX_EMPTY) {
            *slot = first_free;
            return RC_DKIX_EMPTY;
        }
        if (((uint64_t)v & ~(uint64_t)mask) != want)
            continue;
        size_t ix = rc_dict_slot_entry(k, v);
        void *ek = *rc_dict_key_slot(k, ix);
        if (ek == key || (ek && rc_dict_entry_hash(k, ix, k->kind) == hash)) {
            match_result r = ek == key ? MATCH : compare(d, k, ix, ek, key, match);
            if (r == CHANGED)
                return RC_DKIX_ERROR - 1;
            if (r == MATCH) {
                *slot = seq.i;
                return (ptrdiff_t)ix;
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

/* ---- free slots ---- */

size_t rc_dict_table_free_slot(const rc_dict_table *k, uint64_t hash)
{
    rc_dict_probe seq = rc_dict_probe_start(rc_dict_table_size(k) - 1, hash);
    while (rc_dict_slot_get(k, seq.i) >= 0)
        rc_dict_probe_next(&seq);
    return seq.i;
}

/* ---- indexing a new table ---- */

/* Indexes entries [0, n) of k (a new table: its index is all empty, the
 * entries all live), over slots of 1 << w bytes. Their home slots are
 * scattered over the index: prefetching the slot of an entry AHEAD entries
 * ahead lets those cache misses overlap, which is most of a large resize's
 * speed. The hashes wait in a ring meanwhile: in a str or int table a hash
 * is read from the key object (prefetched AHEAD entries further still). */
static inline __attribute__((always_inline)) void index_width(rc_dict_table *k, size_t n,
                                                              unsigned w, unsigned kind)
{
    enum { AHEAD = 16 };
    uint64_t ring[AHEAD];
    size_t mask = rc_dict_table_size(k) - 1;
    uint64_t tags = rc_dict_tag_mask(k->log2_size, w);
    bool pairs = kind != RC_DICT_GENERAL, displaced = false;
    for (size_t j = 0; j < n + AHEAD; j++) {
        if (j >= AHEAD) { /* entry j - AHEAD goes in, freeing its place in the ring */
            size_t ix = j - AHEAD;
            uint64_t hash = ring[ix % AHEAD];
            rc_dict_probe seq = rc_dict_probe_start(mask, hash);
            while (rc_dict_slot_load(k->indices, seq.i, w) >= 0)
                rc_dict_probe_next(&seq);
            rc_dict_slot_store(k->indices, seq.i, w, (int64_t)(ix | (hash & tags)));
            if (kind == RC_DICT_INT)
                displaced |= seq.i != ((size_t)hash & mask);
        }
        if (j < n) { /* entry j: its hash, its home slot prefetched */
            if (pairs && j + AHEAD < n)
                __builtin_prefetch(rc_dict_pairs(k)[j + AHEAD].key);
            uint64_t hash = rc_dict_entry_hash(k, j, kind);
            ring[j % AHEAD] = hash;
            __builtin_prefetch(k->indices + (((size_t)hash & mask) << w), 1);
        }
    }
    k->displaced = kind != RC_DICT_INT || displaced;
}

/* index_width for the table's width, a constant in each copy. */
static inline __attribute__((always_inline)) void index_kind(rc_dict_table *k, size_t n,
                                                             unsigned kind)
{
    switch (k->log2_width) {
    case 0:
        index_width(k, n, 0, kind);
        break;
    case 1:
        index_width(k, n, 1, kind);
        break;
    case 2:
        index_width(k, n, 2, kind);
        break;
    default:
        index_width(k, n, 3, kind);
        break;
    }
}

void rc_dict_table_index_all(rc_dict_table *k, size_t n)
{
    if (k->kind == RC_DICT_INT)
        index_kind(k, n, RC_DICT_INT);
    else if (k->kind == RC_DICT_STR)
        index_kind(k, n, RC_DICT_STR);
    else
        index_kind(k, n, RC_DICT_GENERAL);
}

/* ---- splitting an index in two ---- */

/* rc_dict_table_split over slots of 1 << w bytes (a constant), from the
 * top down, so that slot i is read before it is written and slot
 * i + half is past every slot still to read. In the old index an entry's
 * slot value is its number and the hash bits from old_log2 up: the lowest
 * of those, `half`, is the new mask's top bit, which picks slot i or
 * i + half; the new tag is the old one without it. */
static inline __attribute__((always_inline)) void split_width(unsigned char *index, size_t half,
                                                              unsigned w)
{
    size_t i = half;
#if defined(__SSE2__)
    if (w == 2) { /* 4 slots at a time, without branches (half is a multiple of 4) */
        __m128i bit = _mm_set1_epi32((int32_t)half), ones = _mm_set1_epi32(-1);
        for (; i >= 4; i -= 4) {
            __m128i *at = (__m128i *)(void *)(index + ((i - 4) << 2));
            __m128i v = _mm_loadu_si128(at);
            __m128i has_bit = _mm_cmpeq_epi32(_mm_and_si128(v, bit), bit);
            __m128i up = _mm_andnot_si128(_mm_srai_epi32(v, 31), has_bit); /* entries moving */
            _mm_storeu_si128(at, _mm_or_si128(v, up)); /* those leave RC_DKIX_EMPTY */
            _mm_storeu_si128((__m128i *)(void *)(index + ((i - 4 + half) << 2)),
                             _mm_or_si128(_mm_andnot_si128(bit, v), _mm_xor_si128(up, ones)));
        }
    }
#endif
    while (i-- > 0) {
        int64_t v = rc_dict_slot_load(index, i, w);
        bool up = v >= 0 && ((uint64_t)v & half);
        rc_dict_slot_store(index, i, w, up ? RC_DKIX_EMPTY : v);
        rc_dict_slot_store(index, i + half, w,
                           up ? (int64_t)((uint64_t)v & ~(uint64_t)half) : RC_DKIX_EMPTY);
    }
}

void rc_dict_table_split(rc_dict_table *k, unsigned old_log2)
{
    size_t half = (size_t)1 << old_log2;
    RC_ASSERT(!k->displaced && old_log2 + 1 < (8u << k->log2_width));
    switch (k->log2_width) {
    case 0:
        split_width(k->indices, half, 0);
        break;
    case 1:
        split_width(k->indices, half, 1);
        break;
    case 2:
        split_width(k->indices, half, 2);
        break;
    default:
        split_width(k->indices, half, 3);
        break;
    }
    RC_ASSERT(k->log2_size == old_log2 + 1);
}
