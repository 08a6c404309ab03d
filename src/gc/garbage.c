/* garbage.c: gc.garbage, a list holding one reference to each object the
 * collector could not free (legacy finalizer cycles) or kept (SAVEALL).
 *
 * Clearing takes the list out of the heap before dropping its references,
 * so that objects dying meanwhile (whose finalizers may run a collection
 * that appends again) find a fresh, consistent list.
 */
#include "gc_internal.h"
#include "../alloc/alloc.h"

bool rc_gc_garbage_append(rc_heap *heap, void *obj)
{
    rc_gc_state *gc = &heap->gc;
    if (gc->garbage_len == gc->garbage_cap) {
        size_t cap = gc->garbage_cap ? gc->garbage_cap * 2 : 16;
        void **grown = rc_sys_realloc(heap, gc->garbage, cap * sizeof *grown);
        if (!grown)
            return false;
        gc->garbage = grown;
        gc->garbage_cap = cap;
    }
    gc->garbage[gc->garbage_len++] = obj;
    return true;
}

void rc_gc_garbage_fini(rc_heap *heap)
{
    /* The objects go with the heap's memory; their references are not
     * dropped one by one during teardown. */
    rc_sys_free(heap, heap->gc.garbage);
    heap->gc.garbage = NULL;
    heap->gc.garbage_len = heap->gc.garbage_cap = 0;
}

size_t rc_gc_garbage_len(void)
{
    rc_heap *heap = rc_gc_heap();
    return heap ? heap->gc.garbage_len : 0;
}

void *rc_gc_garbage_item(size_t index)
{
    rc_heap *heap = rc_gc_heap();
    if (!heap || index >= heap->gc.garbage_len)
        return NULL;
    return heap->gc.garbage[index];
}

void rc_gc_garbage_clear(void)
{
    rc_heap *heap = rc_gc_heap();
    if (!heap)
        return;
    rc_gc_state *gc = &heap->gc;
    void **items = gc->garbage;
    size_t len = gc->garbage_len;
    gc->garbage = NULL;
    gc->garbage_len = gc->garbage_cap = 0;
    for (size_t i = 0; i < len; i++)
        rc_decref(items[i]);
    rc_sys_free(heap, items);
}
