/* types_state.h: the built-in types' part of a heap (layer 5).
 *
 * small_ints[v - RC_SMALL_INT_MIN] is the heap's immortal int object for v,
 * or NULL until first asked for (made lazily, so that a heap that never
 * uses ints spends nothing on them).
 *
 * The intern table holds every interned str of the heap: open addressing
 * with linear probing, keyed by the str's hash; cap is a power of two (or
 * 0) and len <= cap * 3/4. Interned strings are immortal, so entries are
 * never removed and the table needs no tombstones. Its memory is the heap's
 * bookkeeping memory (rc_sys_*), not counted as blocks in use.
 *
 * empty_tuple is the immortal () or NULL until first made.
 *
 * tuple_free[n] (1 <= n < RC_TUPLE_FREELISTS) holds up to
 * RC_TUPLE_FREELIST_MAX blocks of dead tuples of length n for new ones
 * (CPython 3.11's tuple free lists: lengths 1..19, 2000 each), kept
 * through the object layer (src/object/recycle.c); none on a debug heap.
 */
#ifndef RC_TYPES_STATE_H
#define RC_TYPES_STATE_H

#include "../object/object_state.h"

#include <stddef.h>

enum { RC_TUPLE_FREELISTS = 20, RC_TUPLE_FREELIST_MAX = 2000 };

#define RC_SMALL_INT_MIN (-5)
#define RC_SMALL_INT_MAX 256
#define RC_SMALL_INTS    (RC_SMALL_INT_MAX - RC_SMALL_INT_MIN + 1)

typedef struct rc_intern_table {
    void **slots; /* rc_str objects; NULL: empty */
    size_t cap, len;
} rc_intern_table;

typedef struct rc_types_state {
    void *small_ints[RC_SMALL_INTS];
    rc_intern_table interned;
    void *empty_tuple;
    rc_object_freelist tuple_free[RC_TUPLE_FREELISTS]; /* [0] unused: () is one object */
} rc_types_state;

#endif
