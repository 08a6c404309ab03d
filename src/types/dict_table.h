/* dict_table.h: the compact hash table behind rc_dict and the weak dicts.
 *
 * CPython 3.6+'s layout. A table (rc_dict_table) is one raw block: a small
 * header, an index array of 2**log2_size slots, each 1, 2, 4 or 8 bytes
 * wide (the narrowest that holds every entry number), then a dense entries
 * array in insertion order:
 *
 *     [ log2_size | width | kind | nentries ][ index slots ][ entries ... ]
 *
 * An index slot holds RC_DKIX_EMPTY, RC_DKIX_DUMMY (a deleted entry was
 * here: probing goes on past it) or the number of an entry, with the top
 * bits of the entry's hash in the slot's spare high bits (a tag: probes
 * skip entries of other hashes without reading them). A lookup starts at
 * slot hash & mask, looks at the 3 slots after it, then jumps to
 * i = (5 i + perturb + 1) & mask, shifting perturb (initially the hash)
 * right by 5 each jump (dict_table.c).
 *
 * Entries are (hash, key, value), or (key, value) in a table of kind
 * RC_DICT_STR, which only ever holds str keys (their hash is cached in the
 * str): CPython 3.11's unicode tables, 16 bytes an entry instead of 24. The
 * first key decides the kind of a new table; a non-str key turns a str
 * table into a general one by a resize.
 *
 * Invariants (rc_dict_table_validate checks them):
 *  - nentries <= usable = 2/3 of the size; entries[nentries..usable) unused;
 *  - a deleted entry has key == value == NULL and an index slot DUMMY;
 *  - used == the entries with a key; each is named by exactly one slot,
 *    found by probing from its hash, whose tag is its hash's;
 *  - version changes at every insertion of a new key, deletion (but the
 *    quiet one of weak containers) and clear, so that iterators and
 *    lookups interrupted by user code notice.
 * A table is replaced by a resize when an insertion finds no usable entry
 * left: to CPython's calculate_log2_keysize(3 * used) (the smallest power
 * of two >= 3 * used, at least 8; 16 for 1 or 2 live entries), entries
 * compacted (deleted ones dropped), as CPython's insertion_resize.
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

enum { RC_DKIX_EMPTY = -1, RC_DKIX_DUMMY = -2, RC_DKIX_ERROR = -3 };
enum { RC_DICT_GENERAL = 0, RC_DICT_STR = 1 };
#define RC_DICT_LOG2_MINSIZE 3

typedef struct rc_dict_entry {
    uint64_t hash;
    void *key;
    void *value;
} rc_dict_entry;

typedef struct rc_dict_str_entry {
    void *key;
    void *value;
} rc_dict_str_entry;

typedef struct rc_dict_table {
    uint8_t log2_size;
    uint8_t log2_width; /* bytes per index slot: 1 << log2_width */
    uint8_t kind;       /* RC_DICT_GENERAL or RC_DICT_STR */
    size_t nentries;    /* entries used, deleted ones included */
    unsigned char indices[];
} rc_dict_table;

/* The dict part of an object's body: rc_dict is exactly this. */
typedef struct rc_dict_body {
    size_t used;         /* live entries */
    uint64_t version;    /* see above */
    rc_dict_table *keys; /* NULL: empty, no table */
} rc_dict_body;

static inline size_t rc_dict_table_size(const rc_dict_table *k)
{
    return (size_t)1 << k->log2_size;
}
static inline size_t rc_dict_table_usable(const rc_dict_table *k)
{
    return (rc_dict_table_size(k) << 1) / 3;
}

/* The entries array, after the index. */
static inline unsigned char *rc_dict_table_entries(const rc_dict_table *k)
{
    return (unsigned char *)k->indices + (rc_dict_table_size(k) << k->log2_width);
}

static inline void **rc_dict_key_slot(rc_dict_table *k, size_t ix)
{
    unsigned char *entries = rc_dict_table_entries(k);
    if (k->kind == RC_DICT_STR)
        return &((rc_dict_str_entry *)(void *)entries)[ix].key;
    return &((rc_dict_entry *)(void *)entries)[ix].key;
}

static inline void **rc_dict_value_slot(rc_dict_table *k, size_t ix)
{
    unsigned char *entries = rc_dict_table_entries(k);
    if (k->kind == RC_DICT_STR)
        return &((rc_dict_str_entry *)(void *)entries)[ix].value;
    return &((rc_dict_entry *)(void *)entries)[ix].value;
}

/* Bytes of the table (0 for none): what rc_sizeof adds to the body. */
RC_INTERNAL size_t rc_dict_table_bytes(const rc_dict_body *d);

/* The entry number of key (hash given), or RC_DKIX_EMPTY if absent, or
 * RC_DKIX_ERROR (message set, fn names the caller) if the dict kept
 * changing under the comparisons. match NULL: identity only. *slot gets the
 * index slot naming the entry. */
RC_INTERNAL ptrdiff_t rc_dict_table_find(rc_dict_body *d, const void *key, uint64_t hash,
                                         rc_types_match_fn match, size_t *slot, const char *fn);

/* Makes room for one new entry whose key is a str or not (str_key): a
 * first table, or a resize if no usable entry is left or a str table must
 * become general. 0, RC_ENOMEM, or 1 if the dict changed while memory was
 * found (the caller must look the key up again). */
RC_INTERNAL int rc_dict_table_reserve(rc_dict_body *d, bool str_key);
/* A lookup that prepares an insertion: *ix gets the entry number of key,
 * or RC_DKIX_EMPTY if it is absent, in which case room for it is reserved
 * (for a str key or not) and *slot is the index slot it goes to: the
 * caller may insert without running user code first. 0, RC_ENOMEM or
 * RC_ESTATE (message set; fn names the caller). */
RC_INTERNAL int rc_dict_table_find_or_reserve(rc_dict_body *d, const void *key, uint64_t hash,
                                              rc_types_match_fn match, bool str_key, ptrdiff_t *ix,
                                              size_t *slot, const char *fn);
/* Appends an entry for a key known to be absent, named by index slot
 * `slot`, as rc_dict_table_find_or_reserve left them; takes over the
 * caller's references to key and value. */
RC_INTERNAL void rc_dict_table_insert(rc_dict_body *d, void *key, uint64_t hash, void *value,
                                      size_t slot);
/* Stores value (increfed) in live entry ix, whose key stays, then drops
 * the old value. */
RC_INTERNAL void rc_dict_table_replace_value(rc_dict_body *d, size_t ix, void *value);
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
