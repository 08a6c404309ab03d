/* debug.c: the collector's debug flags and output stream, and the line it
 * writes for an object: "gc: <what> <TypeName 0x...>", as CPython does. */
#include "gc_internal.h"

FILE *rc_gc_debug_stream(rc_heap *heap) { return heap->gc.debug_out ? heap->gc.debug_out : stderr; }

void rc_gc_debug_object(rc_heap *heap, const char *what, void *obj)
{
    const char *name = rc_head_of(obj)->type->name;
    fprintf(rc_gc_debug_stream(heap), "gc: %s <%s %p>\n", what, name ? name : "object", obj);
}

void rc_gc_set_debug(unsigned flags)
{
    rc_heap *heap = rc_gc_heap();
    if (heap)
        heap->gc.debug = flags;
}

unsigned rc_gc_get_debug(void)
{
    rc_heap *heap = rc_gc_heap();
    return heap ? heap->gc.debug : 0;
}

void rc_gc_set_debug_output(FILE *out)
{
    rc_heap *heap = rc_gc_heap();
    if (heap)
        heap->gc.debug_out = out;
}
