/* set_table.h: the open-addressing hash table behind rc_set and
 * rc_weakset (CPython's setobject).
 *
 * A table is a raw block of mask + 1 entries (a power of two, at least 8),
 * each (key, hash), of three kinds:
 *   unused   key == NULL, hash == 0
 *   dummy    key == NULL, hash != 0 (a deleted entry: probing goes on)
 *   active   key != NULL
 * A lookup starts at entry hash & mask, looks at up to 9 entries after it
 * (linear probing, cache-friendly), then jumps to i = (5 i + 1 + perturb)
 * & mask, shifting perturb (initially the hash) right by 5 each jump; it
 * stops at the first unused entry. An insertion takes the first dummy it
 * passed, else that unused entry.
 *
 * Invariants (rc_set_table_validate checks them):
 *  - used = active entries; fill = active + dummy entries;
 *  - fill * 5 < mask * 3 after every insertion (so an unused entry always
 *    ends a probe): when an insertion into an unused entry reaches it, the
 *    table is rebuilt, as CPython's set_table_resize, at the smallest power
 *    of two > 4 * used (2 * used past 50,000), without dummies;
 *  - version changes at every insertion, deletion (but the quiet one of
 *    rc_weakset) and clear.
 * An empty set has no table (table NULL, mask 0). Entries may briefly hold
 * NULL keys while the collector clears a set in place; they read as dummies.
 */
#ifndef RC_SET_TABLE_H
#define RC_SET_TABLE_H

#include "types_internal.h"

#define RC_SET_MINSIZE 8

typedef struct rc_set_entry {
    void *key;
    uint64_t hash;
} rc_set_entry;

/* The set part of an object's body: rc_set is exactly this. */
typedef struct rc_set_body {
    size_t fill, used, mask;
    uint64_t version;
    rc_set_entry *table; /* NULL: empty, no table */
} rc_set_body;

/* Bytes of the table (0 for none): what rc_sizeof adds to the body. */
RC_INTERNAL size_t rc_set_table_bytes(const rc_set_body *s);

/* Looks key (of hash) up: 0 with *found the active entry holding it or
 * NULL, or RC_ESTATE (message set, fn names the caller) if the set kept
 * changing under the comparisons. match NULL: identity only. */
RC_INTERNAL int rc_set_table_find(rc_set_body *s, const void *key, uint64_t hash,
                                  rc_types_match_fn match, rc_set_entry **found, const char *fn);
/* Adds insert (taking over the caller's reference) unless an entry that
 * match finds for key is there: 1 added, 0 there already (the caller still
 * owns insert), or RC_ENOMEM / RC_ESTATE with the set unchanged. */
RC_INTERNAL int rc_set_table_add(rc_set_body *s, const void *key, uint64_t hash,
                                 rc_types_match_fn match, void *insert, const char *fn);
/* Makes an active entry a dummy and returns its key reference (for the
 * caller to drop). `quiet` keeps the version (rc_weakset's callbacks). */
RC_INTERNAL void *rc_set_table_remove(rc_set_body *s, rc_set_entry *entry, bool quiet);
/* Takes the whole table out of s (left empty, version changed); release
 * drops its keys and frees it. n is the table's mask + 1. */
RC_INTERNAL rc_set_entry *rc_set_table_detach(rc_set_body *s, size_t *n);
RC_INTERNAL void rc_set_table_release(rc_set_entry *table, size_t n);

/* Visits every active key, reloading the table at each step. */
RC_INTERNAL void rc_set_table_traverse(rc_set_body *s, rc_visit_fn visit, void *arg);

RC_INTERNAL rc_iter rc_set_table_iter(const void *container, const rc_set_body *s);
/* RC_ESTATE with CPython's message if s changed since rc_set_table_iter,
 * else 1 with the next active key (borrowed) or 0 at the end. */
RC_INTERNAL int rc_set_table_iter_next(rc_iter *it, const rc_set_body *s, void **key);

/* Checks the invariants above; 0 if they hold, else -1 with a message. */
RC_INTERNAL int rc_set_table_validate(rc_set_body *s);

#endif
