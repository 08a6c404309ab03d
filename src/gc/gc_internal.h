/* gc_internal.h: the collector's functions shared between its files. */
#ifndef RC_GC_INTERNAL_H
#define RC_GC_INTERNAL_H

#include "../object/object_internal.h"

RC_INTERNAL int rc_gc_init(rc_heap *heap);
RC_INTERNAL void rc_gc_fini(rc_heap *heap);
RC_INTERNAL bool rc_gc_is_collecting(rc_heap *heap);

/* The result of one collection (collect.c). */
typedef struct rc_gc_result {
    size_t collected;     /* unreachable found (CPython's m) */
    size_t uncollectable; /* CPython's n */
    size_t survivors;     /* reachable objects moved to the next generation */
} rc_gc_result;

/* Collects generations 0..gen of heap; the caller has set collecting and
 * does the callbacks, statistics and counters (gc.c). */
RC_INTERNAL rc_gc_result rc_gc_collect_heap(rc_heap *heap, unsigned gen);

/* Debug output (debug.c). */
RC_INTERNAL FILE *rc_gc_debug_stream(rc_heap *heap);
RC_INTERNAL void rc_gc_debug_object(rc_heap *heap, const char *what, void *obj);

/* The garbage list (garbage.c): takes over one reference to obj; false if
 * the list could not grow (the reference stays the caller's). */
RC_INTERNAL bool rc_gc_garbage_append(rc_heap *heap, void *obj);
RC_INTERNAL void rc_gc_garbage_fini(rc_heap *heap);

/* Callbacks (callbacks.c). */
RC_INTERNAL void rc_gc_run_callbacks(rc_heap *heap, rc_gc_phase phase, const rc_gc_info *info);
RC_INTERNAL void rc_gc_callbacks_fini(rc_heap *heap);

/* The heap the gc module's functions act on, its pending immutable object
 * settled (what the program asks or does next may depend on whether it is
 * tracked); NULL only if none could be made (message set). */
RC_INTERNAL rc_heap *rc_gc_heap(void);

/* Checks the collector's invariants (expensive): every temporary mark clear,
 * the generation lists and counts right. 0 if they hold. */
RC_INTERNAL int rc_gc_validate(rc_heap *heap);

#endif
