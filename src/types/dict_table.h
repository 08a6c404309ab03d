/* dict_table.h: the compact hash table behind rc_dict and the weak dicts.
 *
 * CPython 3.6+'s layout. A table (rc_dict_table) is one raw block: a small
 * header, an index array of 2**log2_size slots, each 1, 2, 4 or 8 bytes
 * wide (CPython's: the narrowest that holds every entry number), then a
 * dense entries array in insertion order:
 *
 *     [ log2_size | width | kind | shape | displaced | holes | nentries ]
 *     [ index slots ][ entries ... ]
 *
 * (shape, rc_dict_shape of width and kind, picks a lookup's specialized
 * code.)
 * An index slot holds RC_DKIX_EMPTY, RC_DKIX_DUMMY (a deleted entry was
 * here: probing goes on past it) or the number of an entry, with a tag in
 * the slot's spare bits: of the 8 * width - 1 bits below the sign, the
 * entry number needs log2_size; the others hold the same bits of the
 * entry's hash (the ones just above the mask), so that a probe passes
 * entries of other hashes without reading them, and one comparison,
 * (slot & ~mask) == (hash & tag_mask), tells "an entry with my tag" from
 * the rest (empty and dummy slots are negative: all their high bits are
 * set). A lookup starts at slot hash & mask, looks at the 3 slots after it,
 * then jumps to i = (5 i + perturb + 1) & mask, shifting perturb (initially
 * the hash) right by 5 each jump (dict_lookup.h).
 *
 * Kinds. Entries are (hash, key, value) in a general table; a table of
 * kind RC_DICT_STR or RC_DICT_INT only ever holds keys of exactly that
 * type and keeps (key, value), 16 bytes instead of 24, the hash being got
 * from the key (a str caches it, an int's is its value: CPython 3.11's
 * unicode tables, and the same for ints). The first key decides the kind of
 * a new table; a key of another type turns it general by a resize. In a
 * str or int table a lookup of a key of that type runs no user code (the
 * comparison is the type's own), and a lookup of any other key misses at
 * once.
 *
 * Invariants (rc_dict_table_validate checks them):
 *  - nentries <= usable = 2/3 of the size; entries[nentries..usable) unused;
 *  - a deleted entry has key == value == NULL and an index slot DUMMY;
 *  - used == the entries with a key; each is named by exactly one slot,
 *    found by probing from its hash, whose tag is its hash's;
 *  - in a str or int table every key is of that exact type;
 *  - version changes at every insertion of a new key, deletion (but the
 *    quiet one of weak containers) and clear, so that iterators and
 *    lookups interrupted by user code notice;
 *  - displaced is 0 only if every entry named by the index sits in its home
 *    slot, hash & mask. Int tables track it (dense or well-spread int keys,
 *    whose hash is their value, keep it 0): it becomes 1 at the first entry
 *    filed elsewhere and stays so until the index is rebuilt. Str and
 *    general tables have it 1 always (their hashes scatter, so they are
 *    home-only only while tiny), and pay nothing to keep it;
 *  - holes is 0 only if every entry has its key (nentries == used): it
 *    becomes 1 at a removal and at a traversal (whose visitor may clear
 *    keys: the collector's simple-garbage path), and 0 again when a resize
 *    packs the entries, so that a table that never lost an entry grows
 *    without reading its entries to look for holes.
 * A table is rebuilt when an insertion finds no usable entry left: to
 * CPython's calculate_log2_keysize(3 * used) (the smallest power of two
 * >= 3 * used, at least 8; 16 for 1 or 2 live entries), entries compacted
 * (deleted ones dropped), as CPython's insertion_resize; in its own block,
 * resized, when it does not shrink (dict_table.c). An index whose entries
 * all sit in their home slots and that doubles with no entry dropped and
 * the same slot width is split instead of rebuilt (rc_dict_table_split):
 * the entry in slot i has its home at i or i + 2**log2_size in the double,
 * as the hash bit just above the old mask says, and that bit is the lowest
 * of the slot's tag, so no entry or key is read.
 *
 * Entries may briefly hold NULL keys or values while the collector clears
 * a dict in place (its simple-garbage path): every function here skips
 * them, and a resize drops them. If user code reached such a dict through
 * a raw pointer and made it resize between the clearing of an entry's key
 * and of its value, that value's reference would be dropped unreleased (a
 * leak, never a crash); dicts cleared as a whole (rc_release_visit) never
 * show NULLs.
 */
#ifndef RC_DICT_TABLE_H
#define RC_DICT_TABLE_H

#include "types_internal.h"

/* Entry numbers and what a lookup returns instead: RC_DKIX_SLOW asks the
 * caller for the careful lookup (rc_dict_table_find): the fast one met a
 * key whose comparison may run user code. */
enum { RC_DKIX_EMPTY = -1, RC_DKIX_DUMMY = -2, RC_DKIX_ERROR = -3, RC_DKIX_SLOW = -4 };
enum { RC_DICT_GENERAL = 0, RC_DICT_STR = 1, RC_DICT_INT = 2 };
#define RC_DICT_LOG2_MINSIZE 3
#define RC_DICT_NO_SLOT      SIZE_MAX

typedef struct rc_dict_entry {
    uint64_t hash;
    void *key;
    void *value;
} rc_dict_entry;

/* An entry of a str or int table. */
typedef struct rc_dict_pair {
    void *key;
    void *value;
} rc_dict_pair;

typedef struct rc_dict_table {
    uint8_t log2_size;
    uint8_t log2_width; /* bytes per index slot: 1 << log2_width */
    uint8_t kind;       /* RC_DICT_GENERAL, RC_DICT_STR or RC_DICT_INT */
    uint8_t shape;      /* rc_dict_shape(log2_width, kind): how lookups dispatch */
    uint8_t displaced;  /* 0: every entry in its home slot (int tables; see above) */
    uint8_t holes;      /* 0: every entry has its key (see above) */
    size_t nentries;    /* entries used, deleted ones included */
    unsigned char indices[];
} rc_dict_table;

/* The dict part of an object's body: rc_dict is exactly this. */
typedef struct rc_dict_body {
    size_t used;         /* live entries */
    uint64_t version;    /* see above */
    rc_dict_table *keys; /* NULL: empty, no table */
} rc_dict_body;

/* The index of a table's specialized lookup code: its slot width and
 * whether its entries are pairs (a str or int table). */
static inline unsigned rc_dict_shape(unsigned log2_width, unsigned kind)
{
    return log2_width * 2 + (kind != RC_DICT_GENERAL);
}

/* Whether k has a usable entry left: nentries < 2/3 of the size. */
static inline bool rc_dict_table_has_room(const rc_dict_table *k)
{
    return 3 * k->nentries + 3 <= (size_t)2 << k->log2_size;
}

static inline size_t rc_dict_table_size(const rc_dict_table *k)
{
    return (size_t)1 << k->log2_size;
}
static inline size_t rc_dict_table_usable(const rc_dict_table *k)
{
    return (rc_dict_table_size(k) << 1) / 3;
}

/* The slot where every probe for hash starts, its entry's home slot. */
static inline size_t rc_dict_home_slot(const rc_dict_table *k, uint64_t hash)
{
    return (size_t)hash & (rc_dict_table_size(k) - 1);
}

/* ---- index slots ---- */

/* Slot i of an index whose slots are 1 << w bytes; w is a constant where
 * it matters (dict_probe.c specializes its loops by it). */
static inline __attribute__((always_inline)) int64_t rc_dict_slot_load(const unsigned char *index,
                                                                       size_t i, unsigned w)
{
    switch (w) {
    case 0:
        return ((const int8_t *)(const void *)index)[i];
    case 1:
        return ((const int16_t *)(const void *)index)[i];
    case 2:
        return ((const int32_t *)(const void *)index)[i];
    default:
        return ((const int64_t *)(const void *)index)[i];
    }
}

static inline __attribute__((always_inline)) void rc_dict_slot_store(unsigned char *index, size_t i,
                                                                     unsigned w, int64_t v)
{
    switch (w) {
    case 0:
        ((int8_t *)(void *)index)[i] = (int8_t)v;
        break;
    case 1:
        ((int16_t *)(void *)index)[i] = (int16_t)v;
        break;
    case 2:
        ((int32_t *)(void *)index)[i] = (int32_t)v;
        break;
    default:
        ((int64_t *)(void *)index)[i] = v;
        break;
    }
}

static inline int64_t rc_dict_slot_get(const rc_dict_table *k, size_t i)
{
    return rc_dict_slot_load(k->indices, i, k->log2_width);
}

static inline void rc_dict_slot_set(rc_dict_table *k, size_t i, int64_t v)
{
    rc_dict_slot_store(k->indices, i, k->log2_width, v);
}

/* The hash bits a slot keeps as its tag: those below the slot's sign bit
 * and above the mask. */
static inline uint64_t rc_dict_tag_mask(unsigned log2_size, unsigned w)
{
    uint64_t below_sign = (UINT64_C(1) << ((8u << w) - 1)) - 1;
    return below_sign & ~((UINT64_C(1) << log2_size) - 1);
}

/* The slot value naming entry ix of the given hash. */
static inline int64_t rc_dict_slot_value(const rc_dict_table *k, size_t ix, uint64_t hash)
{
    return (int64_t)((uint64_t)ix | (hash & rc_dict_tag_mask(k->log2_size, k->log2_width)));
}

/* The entry number a non-negative slot value names. */
static inline size_t rc_dict_slot_entry(const rc_dict_table *k, int64_t v)
{
    return (size_t)v & (rc_dict_table_size(k) - 1);
}

/* ---- entries ---- */

/* The entries array, after the index. */
static inline unsigned char *rc_dict_table_entries(const rc_dict_table *k)
{
    return (unsigned char *)k->indices + (rc_dict_table_size(k) << k->log2_width);
}

static inline rc_dict_entry *rc_dict_general_entries(const rc_dict_table *k)
{
    return (rc_dict_entry *)(void *)rc_dict_table_entries(k);
}

static inline rc_dict_pair *rc_dict_pairs(const rc_dict_table *k)
{
    return (rc_dict_pair *)(void *)rc_dict_table_entries(k);
}

static inline void **rc_dict_key_slot(rc_dict_table *k, size_t ix)
{
    if (k->kind != RC_DICT_GENERAL)
        return &rc_dict_pairs(k)[ix].key;
    return &rc_dict_general_entries(k)[ix].key;
}

static inline void **rc_dict_value_slot(rc_dict_table *k, size_t ix)
{
    if (k->kind != RC_DICT_GENERAL)
        return &rc_dict_pairs(k)[ix].value;
    return &rc_dict_general_entries(k)[ix].value;
}

/* ---- keys ---- */

/* The table kind that keys of type belong to. */
static inline unsigned rc_dict_kind_of(const rc_type *type)
{
    return type == &rc_str_type   ? RC_DICT_STR
           : type == &rc_int_type ? RC_DICT_INT
                                  : RC_DICT_GENERAL;
}

/* rc_hash(key) of a key of the given type, the built-in ones inline (a
 * str's cached hash, an int's value) and the rest through the type's hook,
 * which may run user code. */
static inline __attribute__((always_inline)) uint64_t rc_dict_key_hash(const void *key,
                                                                       const rc_type *type)
{
    if (type == &rc_int_type)
        return rc_int_hash_value(((const rc_int_body *)key)->value);
    if (type == &rc_str_type) {
        const rc_str_body *s = key;
        return RC_LIKELY(s->flags & RC_STR_HASHED) ? s->hash : rc_strlike_hash(s);
    }
    return rc_hash(key);
}

/* The hash of a key of a str or int table (of that kind). */
static inline uint64_t rc_dict_pair_hash(unsigned kind, const void *key)
{
    if (kind == RC_DICT_STR)
        return ((const rc_str_body *)key)->hash;
    return rc_int_hash_value(((const rc_int_body *)key)->value);
}

/* The hash of live entry ix (its key is not NULL) of k, whose kind is
 * given (k->kind; a constant where it matters: dict_probe.c indexes a new
 * table by a copy for each kind). */
static inline __attribute__((always_inline)) uint64_t rc_dict_entry_hash(const rc_dict_table *k,
                                                                         size_t ix, unsigned kind)
{
    if (kind == RC_DICT_GENERAL)
        return rc_dict_general_entries(k)[ix].hash;
    return rc_dict_pair_hash(kind, rc_dict_pairs(k)[ix].key);
}

/* ---- operations (dict_probe.c: lookups; dict_table.c: the rest) ---- */

/* Bytes of the table (0 for none): what rc_sizeof adds to the body. */
RC_INTERNAL size_t rc_dict_table_bytes(const rc_dict_body *d);

/* The fast lookup of key (of type, hash given) in table k, running no user
 * code: its entry number, or RC_DKIX_EMPTY if it is absent, with *slot the
 * index slot naming the entry, or where an insertion of key goes
 * (RC_DICT_NO_SLOT if key cannot go in k: a str or int table and a key of
 * another type); or RC_DKIX_SLOW if an entry of the same hash must be
 * compared by its type's equal hook (use rc_dict_table_find). */
RC_INTERNAL ptrdiff_t rc_dict_table_lookup(const rc_dict_table *k, const void *key, uint64_t hash,
                                           const rc_type *type, size_t *slot);

/* The entry number of key (hash given), or RC_DKIX_EMPTY if absent, or
 * RC_DKIX_ERROR (message set, fn names the caller) if the dict kept
 * changing under the comparisons. match NULL: identity only. *slot gets the
 * index slot naming the entry, or where an insertion goes. */
RC_INTERNAL ptrdiff_t rc_dict_table_find(rc_dict_body *d, const void *key, uint64_t hash,
                                         rc_types_match_fn match, size_t *slot, const char *fn);

/* The first slot on hash's probe path that names no entry: where an entry
 * of that hash goes. */
RC_INTERNAL size_t rc_dict_table_free_slot(const rc_dict_table *k, uint64_t hash);

/* Indexes entries [0, n) of k, a new table whose index is all empty and
 * whose entries are all live. */
RC_INTERNAL void rc_dict_table_index_all(rc_dict_table *k, size_t n);

/* Doubles the index of k, a table of 2**old_log2 slots whose entries all
 * sit in their home slots (displaced 0) and none deleted, in place: the
 * block has room for the double index (the entries moved up already) of
 * the same slot width, and k's header describes the double already. */
RC_INTERNAL void rc_dict_table_split(rc_dict_table *k, unsigned old_log2);

/* Makes room for one new entry whose key belongs to tables of key_kind
 * (rc_dict_kind_of): a first table, or a resize if no usable entry is
 * left or a str or int table must become general. 0, RC_ENOMEM, or 1 if
 * the dict changed while memory was found (the caller must look the key
 * up again). */
RC_INTERNAL int rc_dict_table_reserve(rc_dict_body *d, unsigned key_kind);
/* A lookup that prepares an insertion: *ix gets the entry number of key,
 * or RC_DKIX_EMPTY if it is absent, in which case room for it is reserved
 * (for a key of key_kind) and *slot is the index slot it goes to: the
 * caller may insert without running user code first. 0, RC_ENOMEM or
 * RC_ESTATE (message set; fn names the caller). */
RC_INTERNAL int rc_dict_table_find_or_reserve(rc_dict_body *d, const void *key, uint64_t hash,
                                              rc_types_match_fn match, unsigned key_kind,
                                              ptrdiff_t *ix, size_t *slot, const char *fn);

/* Appends an entry for a key known to be absent, named by index slot
 * `slot`, as a lookup or rc_dict_table_find_or_reserve left them (with a
 * usable entry left, and a key the table's kind takes); takes over the
 * caller's references to key and value. */
RC_INTERNAL void rc_dict_table_insert(rc_dict_body *d, void *key, uint64_t hash, void *value,
                                      size_t slot);

/* Stores value (increfed) in an entry's value field, then drops the old
 * value (last: the drop may run user code). */
static inline void rc_dict_store_value(void **field, void *value)
{
    void *old = *field;
    *field = rc_incref(value);
    rc_decref(old);
}

/* The same for live entry ix of d, whose key stays. */
static inline void rc_dict_table_replace_value(rc_dict_body *d, size_t ix, void *value)
{
    rc_dict_store_value(rc_dict_value_slot(d->keys, ix), value);
}

/* Unlinks entry ix (named by index slot `slot`) and returns its key and
 * value references in *key and *value for the caller to drop. `quiet`
 * keeps the version (weak containers' callbacks, so that iterations go on:
 * entries never move on a delete). */
RC_INTERNAL void rc_dict_table_remove(rc_dict_body *d, size_t ix, size_t slot, void **key,
                                      void **value, bool quiet);
/* Takes the whole table out of d (left empty, version changed); the caller
 * drops the entries with rc_dict_table_release. */
RC_INTERNAL rc_dict_table *rc_dict_table_detach(rc_dict_body *d);
/* Drops every key and value of a detached table, then frees it. */
RC_INTERNAL void rc_dict_table_release(rc_dict_table *keys);

/* The next live entry at or after *pos (advancing *pos past it): true,
 * with borrowed *key and *value; false at the end. */
RC_INTERNAL bool rc_dict_table_next(const rc_dict_body *d, size_t *pos, void **key, void **value);

/* Visits the key and value of every entry, reloading the table at each
 * step (a visitor that runs user code may change it). */
RC_INTERNAL void rc_dict_table_traverse(rc_dict_body *d, rc_visit_fn visit, void *arg);

/* The iterator step the dict types share: RC_ESTATE with CPython's message
 * if d changed since rc_dict_table_iter, else 1 with the next live entry
 * (borrowed) or 0 at the end. */
RC_INTERNAL int rc_dict_table_iter_next(rc_iter *it, const rc_dict_body *d, void **key,
                                        void **value);
RC_INTERNAL rc_iter rc_dict_table_iter(const void *container, const rc_dict_body *d);

/* Checks the invariants above; 0 if they hold, else -1 with a message. */
RC_INTERNAL int rc_dict_table_validate(rc_dict_body *d);

/* RC_ENOTFOUND with "<fn>: key ... not found", the key shown as 42, 'text'
 * or <Node object at 0x...>. */
RC_INTERNAL int rc_dict_key_missing(const void *key, const char *fn);

#endif
