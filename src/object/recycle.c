/* recycle.c: free lists of dead objects' blocks, for types that keep them
 * (CPython's tuple free lists: src/types/tuple.c).
 *
 * A type with RC_TYPE_INTERNAL_RECYCLE has each dead object's block offered
 * to heap->hooks.recycle after its release (release.c); the upper layer
 * picks a list (one per type and size) and calls rc_object_recycle, and
 * takes blocks back with rc_object_reuse when it makes an object of that
 * type and size. Lists belong to the upper layer's per-heap state.
 *
 * Invariants, for every block on a list:
 *  - it is a plain pool block of the heap, of the list's request size
 *    (never RC_LARGE, never on a debug heap: a debug heap's freed objects
 *    go to its quarantine, where a use after free is caught);
 *  - its header reads refcnt 0, gc_bits 0 and type NULL, so the
 *    collector's pool scans and the heap's teardown pass it by as they pass
 *    a free block, a reference dropped to it is caught ("already dead") and
 *    a type check fails on it, as for a freed one;
 *  - the tracer holds no trace of it (forgotten when it was kept), and
 *    heap->alloc.freelist_blocks/_bytes count it (rc_heap_stats leaves it
 *    out of bytes_in_use);
 *  - under ASan its body past the link word is poisoned.
 * So a reused block is indistinguishable from a fresh one: rc_object_reuse
 * traces it at its new caller's call site with the size rc_new_var would
 * have asked for, and makes the object through the same birth (zeroed
 * body, tracking, count0, the automatic collection).
 */
#include "object_internal.h"
#include "../alloc/object_block.h"

/* The bytes rc_new_var(type, extra_bytes) asks for, header included. */
static size_t request_size(const rc_type *type, size_t extra_bytes)
{
    return sizeof(rc_object_head) + type->size + extra_bytes;
}

static size_t class_bytes(size_t request) { return rc_class_size[rc_class_of(request)]; }

bool rc_object_recycle(rc_heap *heap, rc_object_freelist *list, uint32_t limit, void *obj,
                       size_t extra_bytes)
{
    rc_object_head *head = rc_head_of(obj);
    size_t request = request_size(head->type, extra_bytes);
    if (list->count >= limit || !rc_alloc_object_inline(heap, request))
        return false; /* a full list, a debug heap or a large block */
    RC_ASSERT(head->refcnt == 0 && head->gc_bits == 0);
    RC_ASSERT(list->request == 0 || list->request == request);
    if (RC_UNLIKELY(heap->alloc.traced))
        rc_alloc_forget_trace(heap, head);
    head->type = NULL;
    *(void **)obj = list->head;
    RC_POISON((char *)obj + sizeof(void *), request - sizeof *head - sizeof(void *));
    list->head = obj;
    list->request = (uint32_t)request;
    list->count++;
    heap->alloc.freelist_blocks++;
    heap->alloc.freelist_bytes += class_bytes(request);
    return true;
}

/* Takes the first block off list (not empty); returns its header. */
static rc_object_head *list_pop(rc_heap *heap, rc_object_freelist *list)
{
    void *obj = list->head;
    RC_UNPOISON(obj, list->request - sizeof(rc_object_head));
    list->head = *(void **)obj;
    list->count--;
    heap->alloc.freelist_blocks--;
    heap->alloc.freelist_bytes -= class_bytes(list->request);
    return rc_head_of(obj);
}

void *rc_object_reuse(rc_heap *heap, rc_object_freelist *list, const rc_type *type,
                      size_t extra_bytes)
{
    if (!list->head)
        return NULL;
    RC_ASSERT(list->request == request_size(type, extra_bytes));
    rc_object_head *head = list_pop(heap, list);
    RC_ASSERT(head->refcnt == 0 && head->gc_bits == 0 && head->type == NULL);
    if (RC_UNLIKELY(heap->alloc.traced)) /* as the allocator does for a new block */
        heap->hooks.trace_alloc(heap, head, list->request);
    return rc_object_birth(heap, head, type, type->size + extra_bytes, 0);
}

void rc_object_freelist_clear(rc_heap *heap, rc_object_freelist *list)
{
    while (list->head)
        rc_alloc_free_object(heap, NULL, list_pop(heap, list), false);
}
