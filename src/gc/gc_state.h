/* gc_state.h: the collector's part of a heap (see include/reclaim/gc.h for
 * the semantics). count[0] lives in the object layer (objects.count0),
 * because it changes on every birth and death; count[1] and count[2] are
 * here. The garbage list holds one reference to each of its objects.
 * Callback entries removed while callbacks run are set to NULL and
 * compacted once no callback runs.
 */
#ifndef RC_GC_STATE_H
#define RC_GC_STATE_H

#include "reclaim/gc.h"

typedef struct rc_gc_callback_entry {
    rc_gc_callback fn;
    void *arg;
} rc_gc_callback_entry;

typedef struct rc_gc_state {
    size_t threshold[RC_GC_GENERATIONS];
    size_t count[RC_GC_GENERATIONS]; /* [0] unused: see objects.count0 */
    bool enabled;
    bool collecting;
    unsigned debug;
    FILE *debug_out; /* NULL: stderr */
    rc_gc_stats stats[RC_GC_GENERATIONS];
    size_t long_lived_total; /* survivors of the last full collection; the
                                objects waiting for the next one are
                                objects.old_pending */

    void **garbage;
    size_t garbage_len, garbage_cap;

    rc_gc_callback_entry *callbacks;
    size_t callbacks_len, callbacks_cap;
    int callbacks_running;
    bool callbacks_removed;

    /* scratch kept between collections */
    void **mark_stack;
    size_t mark_stack_cap;
    void **unreachable;
    size_t unreachable_cap;
} rc_gc_state;

#endif
