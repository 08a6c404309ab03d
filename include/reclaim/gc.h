/* reclaim/gc.h: the cycle collector (layer 3), CPython's gc module for C.
 *
 * Every function acts on the calling thread's current heap.
 *
 * Generations. A tracked object starts in generation 0. An object that
 * survives a collection of its generation moves to the next one; generation
 * 2 keeps its survivors. rc_gc_freeze moves every tracked object to a
 * permanent generation that no collection examines.
 *
 * Automatic collection, as CPython 3.13 without the incremental collector:
 * when count[0] (allocations minus deallocations of tracked objects since
 * the last collection) exceeds threshold0 (default 2000), the oldest
 * generation whose count exceeds its threshold is collected, with the
 * generations younger than it. count[1] counts collections of generation 0
 * since the last of generation 1 (threshold1, default 10), count[2] those of
 * generation 1 since the last of generation 2 (threshold2, default 10). A
 * full collection also waits until the objects promoted to generation 2
 * since the last full collection exceed 25% of those that survived it, so
 * that the total cost stays linear as the heap grows.
 *
 * A collection, of generation g:
 *  1. finds the objects of generations 0..g that no reference from outside
 *     that set keeps alive (the unreachable);
 *  2. moves the survivors to generation g+1 (g for g = 2);
 *  3. sets aside cycles holding an RC_TYPE_LEGACY_FINALIZE object, and all
 *     they reach, as uncollectable;
 *  4. clears every weak reference to an unreachable object; callbacks run
 *     only for weak references that are not themselves unreachable;
 *  5. runs each unreachable object's finalize, at most once per object in
 *     its life (PEP 442);
 *  6. checks reachability again: objects a finalizer resurrected, and all
 *     they reach, survive;
 *  7. clears the references held by the rest through traverse, which frees
 *     them (or, with RC_GC_DEBUG_SAVEALL, appends them to the garbage list).
 * It returns the number of objects it freed (or saved, under SAVEALL): the
 * unreachable ones that stayed unreachable after their finalizers ran, as
 * CPython 3.9+ counts them, plus the uncollectable. While a collection runs
 * its unreachable objects belong to no generation: rc_gc_for_each_object
 * and rc_gc_for_each_referrer do not show them.
 */
#ifndef RECLAIM_GC_H
#define RECLAIM_GC_H

#include "object.h"

#ifdef __cplusplus
extern "C" {
#endif

#define RC_GC_GENERATIONS 3

/* Collects generations 0..generation (0, 1 or 2). Returns the objects
 * collected plus the uncollectable; 0 if a collection is already running;
 * RC_EINVAL for another generation. */
RC_API long rc_gc_collect(int generation);

/* Automatic collection: after threshold0 allocations, and once when memory
 * is short (before an allocation is retried). rc_gc_disable stops both;
 * rc_gc_collect still works. */
RC_API void rc_gc_enable(void);
RC_API void rc_gc_disable(void);
RC_API bool rc_gc_is_enabled(void);

RC_API void rc_gc_get_count(size_t count[RC_GC_GENERATIONS]);
RC_API void rc_gc_get_threshold(size_t threshold[RC_GC_GENERATIONS]);
/* t0 = 0 turns automatic collection off, as in CPython. */
RC_API void rc_gc_set_threshold(size_t t0, size_t t1, size_t t2);

typedef struct rc_gc_stats {
    size_t collections;   /* collections of this generation */
    size_t collected;     /* objects they collected */
    size_t uncollectable; /* objects they found uncollectable */
    uint64_t pause_ns_total;
    uint64_t pause_ns_max;
} rc_gc_stats;
RC_API void rc_gc_get_stats(rc_gc_stats stats[RC_GC_GENERATIONS]);

/* Debug flags, CPython's values and output. STATS writes
 * "gc: collecting generation N...", the objects in each generation, and
 * "gc: done, N unreachable, M uncollectable, T.TTTTs elapsed";
 * COLLECTABLE and UNCOLLECTABLE write "gc: collectable <Type 0x...>" for each
 * such object; SAVEALL appends every unreachable object to the garbage list
 * instead of freeing it. */
enum {
    RC_GC_DEBUG_STATS = 1,
    RC_GC_DEBUG_COLLECTABLE = 2,
    RC_GC_DEBUG_UNCOLLECTABLE = 4,
    RC_GC_DEBUG_SAVEALL = 32,
    RC_GC_DEBUG_LEAK = 2 | 4 | 32,
};
RC_API void rc_gc_set_debug(unsigned flags);
RC_API unsigned rc_gc_get_debug(void);
/* Where debug output goes; NULL means stderr (the default). */
RC_API void rc_gc_set_debug_output(FILE *out);

/* gc.garbage: uncollectable objects and, under SAVEALL, all unreachable
 * ones. The list holds a reference to each. */
RC_API size_t rc_gc_garbage_len(void);
RC_API void *rc_gc_garbage_item(size_t index); /* borrowed; NULL past the end */
RC_API void rc_gc_garbage_clear(void);         /* drops the list's references */

typedef enum { RC_GC_START, RC_GC_STOP } rc_gc_phase;
typedef struct rc_gc_info {
    int generation;
    size_t collected;     /* at RC_GC_STOP: objects collected */
    size_t uncollectable; /* at RC_GC_STOP */
} rc_gc_info;
typedef void (*rc_gc_callback)(rc_gc_phase phase, const rc_gc_info *info, void *arg);
/* gc.callbacks: called in the order added, before and after every
 * collection. A callback may add or remove callbacks; a collection asked for
 * from a callback does nothing. Returns 0, or RC_ENOMEM. */
RC_API int rc_gc_callback_add(rc_gc_callback callback, void *arg);
/* Removes the first registration of (callback, arg): 0, or RC_ENOTFOUND. */
RC_API int rc_gc_callback_remove(rc_gc_callback callback, void *arg);

/* Moves every tracked object to the permanent generation. */
RC_API void rc_gc_freeze(void);
/* Moves the permanent generation back to generation 2. */
RC_API void rc_gc_unfreeze(void);
RC_API size_t rc_gc_freeze_count(void);

typedef bool (*rc_object_fn)(void *obj, void *arg); /* return false to stop */
/* Calls fn for each tracked object of a generation (0..2; -1: all three).
 * fn may drop references: each object is held while fn runs. Returns 0, or
 * RC_ENOMEM if the list of objects could not be made (DESIGN.md had void:
 * gathering the objects first, which makes fn safe, needs memory). */
RC_API int rc_gc_for_each_object(int generation, rc_object_fn fn, void *arg);
/* Calls fn for each tracked object (generations 0..2) whose traverse visits
 * target. Returns 0 or RC_ENOMEM. */
RC_API int rc_gc_for_each_referrer(const void *target, rc_object_fn fn, void *arg);
/* Calls fn for each non-NULL reference obj's traverse visits. */
RC_API int rc_gc_for_each_referent(void *obj, rc_object_fn fn, void *arg);

RC_API bool rc_gc_is_tracked(const void *obj);
RC_API bool rc_gc_is_finalized(const void *obj);
/* Starts tracking obj: 0, or RC_EINVAL if its type has no traverse or it is
 * immortal (DESIGN.md had void: both are mistakes worth reporting). */
RC_API int rc_gc_track(void *obj);
RC_API void rc_gc_untrack(void *obj);

#ifdef __cplusplus
}
#endif
#endif
