/* collect_pass.h: the state of one collection, and the small steps that
 * collect.c (young collections, and what follows the search in every
 * collection) and collect_full.c (the search of a full collection) share.
 *
 * Invariants while a collection searches S (see collect.c's top comment):
 * the mark stack holds marked objects whose references are not yet
 * scanned; unreach[0..unreach_len) holds objects of S found unreachable
 * (in a full collection, suspects: also some reached later, which U's walk
 * drops, see collect_full.c); u_bits, u_type_flags and any_finalizers
 * cover at least every member of U.
 */
#ifndef RC_GC_COLLECT_PASS_H
#define RC_GC_COLLECT_PASS_H

#include "gc_internal.h"
#include "../alloc/alloc.h"

/* Edges of a full collection waiting for their child's header (see
 * collect_full.c). A power of two. */
enum { RC_GC_RING_SIZE = 16 };

typedef struct gc_pass {
    rc_heap *heap;
    unsigned gen;      /* collecting generations 0..gen */
    unsigned next_gen; /* where survivors go */
    bool scan_mode;    /* enumerate S by scanning pools, not lists */
    rc_track_list lists[2];
    unsigned nlists;
    void **stack;
    size_t stack_len, stack_cap;
    bool stack_overflow;
    void **unreach;
    size_t unreach_len, unreach_cap;
    bool unreach_overflow; /* unreachable objects left out of U survive */
    size_t survivors;
    size_t marked;         /* objects marked reachable (a full collection:
                              with its roots) */
    size_t uncollectable;  /* set aside at unreach[unreach_len..+this) */
    bool user_code_ran;    /* a finalizer or weakref callback ran */
    uint32_t u_bits;       /* the gc_bits of U's members, or-ed */
    uint32_t u_type_flags; /* the flags of their types, or-ed */
    bool any_finalizers;   /* U has objects whose finalize has not run */
    /* a full collection's (collect_full.c) */
    size_t members; /* |S| */
    char **bases;   /* the arenas in the sweep's order */
    size_t n_bases;
    uintptr_t *ranks; /* their places, by base (open-addressed) */
    size_t rank_mask;
    bool ordered;                  /* so: the sweep places what it passed */
    uintptr_t block_flip;          /* RC_ARENA_SIZE - 1: the sweep takes an
                                      arena's blocks downwards; 0: upwards */
    size_t votes[2];               /* sampled references to lower and higher
                                      addresses than their holder's */
    uintptr_t voter;               /* the object whose references vote */
    uint32_t spans_seen;           /* by the subtract sweep */
    uintptr_t cursor;              /* where the sweep is: the address ^ block_flip,
                                      UINTPTR_MAX once it cannot place what it
                                      passed (large blocks, no order) */
    uintptr_t cursor_arena;        /* the base of the arena it is in (while U
                                      is cleared: the holder's) */
    uintptr_t cursor_rank;         /* that arena's place in the order */
    uintptr_t holder;              /* the garbage being cleared */
    struct rc_arena *holder_arena; /* its arena's descriptor, if in one */
    void *previous;                /* the one cleared before it, or NULL */
    uintptr_t span_start;          /* the span it is in */
    size_t span_bytes;
    uintptr_t near_from;         /* the pushed object whose references are
                                    visited, less NEAR_BYTES */
    unsigned ring_next;          /* ring[ring_next % size]: the oldest edge */
    void *ring[RC_GC_RING_SIZE]; /* edges waiting, NULL: none */
    size_t revived;              /* objects reached behind the sweep */
    bool suspects_dropped;       /* U is listed after the marking */
    bool u_unordered;            /* U is not in the sweep's order */
    size_t u_kept;               /* U's members walked so far */
} gc_pass;

typedef void (*gc_object_fn)(gc_pass *pass, void *obj);

/* Whether gc_bits are those of a member of S, tracked and of generation
 * <= gen (never the permanent one): one subtraction, as untracked wraps. */
static inline bool rc_gc_bits_in_set(uint32_t bits, unsigned gen)
{
    return (bits & (RC_TRACKED | RC_GEN_MASK)) - RC_TRACKED <= gen;
}

static inline bool rc_gc_in_set(const void *obj, unsigned gen)
{
    return rc_gc_bits_in_set(rc_head_of(obj)->gc_bits, gen);
}

static inline void rc_gc_traverse(void *obj, rc_visit_fn visit, void *arg)
{
    rc_head_of(obj)->type->traverse(obj, visit, arg);
}

/* ---- the mark stack (collect.c) ---- */

RC_INTERNAL RC_NOINLINE void rc_gc_push_slow(gc_pass *pass, void *obj);

/* Pushes a marked object to be scanned; if the stack cannot grow, obj
 * stays marked and unscanned and stack_overflow is set. */
static inline void rc_gc_push(gc_pass *pass, void *obj)
{
    if (RC_LIKELY(pass->stack_len < pass->stack_cap))
        pass->stack[pass->stack_len++] = obj;
    else
        rc_gc_push_slow(pass, obj);
}

/* ---- U (collect.c) ---- */

RC_INTERNAL RC_NOINLINE bool rc_gc_unreach_grow(gc_pass *pass);

/* Appends obj to U; false if U could not grow. */
static inline bool rc_gc_append_unreachable(gc_pass *pass, void *obj)
{
    if (RC_UNLIKELY(pass->unreach_len == pass->unreach_cap) && !rc_gc_unreach_grow(pass))
        return false;
    pass->unreach[pass->unreach_len++] = obj;
    return true;
}

/* Notes what the later steps will have to do for a member of U with these
 * bits and type. */
static inline void rc_gc_note_unreachable(gc_pass *pass, uint32_t bits, const rc_type *type)
{
    pass->u_bits |= bits;
    pass->u_type_flags |= type->flags;
    pass->any_finalizers |= type->finalize && !(bits & RC_FINALIZED);
}

/* Whether U holds weak references or objects weakly referenced. */
static inline bool rc_gc_any_weakrefs(const gc_pass *pass)
{
    return (pass->u_bits & RC_WEAKREFS) || (pass->u_type_flags & RC_TYPE_INTERNAL_WEAKREF);
}

static inline bool rc_gc_any_legacy(const gc_pass *pass)
{
    return (pass->u_type_flags & RC_TYPE_LEGACY_FINALIZE) != 0;
}

/* The slot visitor that gives back a subtracted edge to a member of S. */
RC_INTERNAL void rc_gc_visit_restore(void *slot, void *arg);

/* A count still above half the range after subtracting went below zero:
 * some traverse visits a reference its object does not own (CPython's
 * debug build stops on "refcount is too small" the same way). Counts
 * recover (they are unsigned), but the caller's program is wrong. */
RC_INTERNAL RC_NORETURN void rc_gc_count_wrapped(const void *obj);

static inline void rc_gc_check_not_wrapped(const void *obj)
{
    if (RC_CHECKS >= 1 && RC_UNLIKELY(rc_head_of(obj)->refcnt > (UINT32_MAX >> 1)))
        rc_gc_count_wrapped(obj);
}

/* ---- a full collection (collect_full.c) ---- */

/* Finds the unreachable of S = generations 0..2, with every survivor
 * settled in generation 2 and its count exact. U's entries are the
 * suspects: its members are those still unreached (the two functions below
 * drop the others). Members of U keep their references to S subtracted,
 * hold no hold and are not yet marked RC_UNREACHABLE. */
RC_INTERNAL void rc_gc_find_unreachable_full(gc_pass *pass);

/* Whether the U of a full collection needs no user code and no exact
 * count: nothing in it has a finalizer to run, a weak reference, a legacy
 * finalizer, nothing unreachable was left out of it, and no debug flag
 * asks to see or keep it. Then rc_gc_free_simple_garbage ends the
 * collection. */
RC_INTERNAL bool rc_gc_simple_garbage(const gc_pass *pass);
RC_INTERNAL void rc_gc_free_simple_garbage(gc_pass *pass);

/* Otherwise: U keeps only its members, each marked RC_UNREACHABLE, with
 * its references given back and held by one extra reference (the hold),
 * as a young collection's U is; what did not fit in U survives. */
RC_INTERNAL void rc_gc_full_take_unreachable(gc_pass *pass);

#endif
