/* callbacks.c: gc.callbacks, run in the order added at the start and stop
 * of every collection.
 *
 * A callback may add or remove callbacks while they run: additions are
 * appended and run in the same round (as iterating a Python list does);
 * removals only blank the entry (fn = NULL), and the list is compacted once
 * no round is running. So indices stay valid during a round.
 */
#include "gc_internal.h"
#include "../alloc/alloc.h"

static void compact(rc_gc_state *gc)
{
    size_t kept = 0;
    for (size_t i = 0; i < gc->callbacks_len; i++)
        if (gc->callbacks[i].fn)
            gc->callbacks[kept++] = gc->callbacks[i];
    gc->callbacks_len = kept;
    gc->callbacks_removed = false;
}

int rc_gc_callback_add(rc_gc_callback callback, void *arg)
{
    rc_heap *heap = rc_gc_heap();
    if (!heap)
        return RC_ENOMEM;
    if (!callback)
        return rc_set_error(RC_EINVAL, "rc_gc_callback_add: callback is NULL");
    rc_gc_state *gc = &heap->gc;
    if (gc->callbacks_len == gc->callbacks_cap) {
        size_t cap = gc->callbacks_cap ? gc->callbacks_cap * 2 : 4;
        rc_gc_callback_entry *grown = rc_sys_realloc(heap, gc->callbacks, cap * sizeof *grown);
        if (!grown)
            return RC_ENOMEM;
        gc->callbacks = grown;
        gc->callbacks_cap = cap;
    }
    gc->callbacks[gc->callbacks_len++] = (rc_gc_callback_entry){callback, arg};
    return 0;
}

int rc_gc_callback_remove(rc_gc_callback callback, void *arg)
{
    rc_heap *heap = rc_gc_heap();
    if (!heap)
        return RC_ENOMEM;
    rc_gc_state *gc = &heap->gc;
    for (size_t i = 0; i < gc->callbacks_len; i++) {
        if (gc->callbacks[i].fn == callback && gc->callbacks[i].arg == arg) {
            gc->callbacks[i].fn = NULL;
            gc->callbacks_removed = true;
            if (!gc->callbacks_running)
                compact(gc);
            return 0;
        }
    }
    return rc_set_error(RC_ENOTFOUND, "rc_gc_callback_remove: no such callback");
}

void rc_gc_run_callbacks(rc_heap *heap, rc_gc_phase phase, const rc_gc_info *info)
{
    rc_gc_state *gc = &heap->gc;
    gc->callbacks_running++;
    for (size_t i = 0; i < gc->callbacks_len; i++) {
        rc_gc_callback_entry entry = gc->callbacks[i];
        if (entry.fn)
            entry.fn(phase, info, entry.arg);
    }
    if (--gc->callbacks_running == 0 && gc->callbacks_removed)
        compact(gc);
}

void rc_gc_callbacks_fini(rc_heap *heap)
{
    rc_sys_free(heap, heap->gc.callbacks);
    heap->gc.callbacks = NULL;
    heap->gc.callbacks_len = heap->gc.callbacks_cap = 0;
}
