/* object.c: making objects and the small functions on them.
 *
 * Invariant: a live object's block holds its header (refcnt >= 1, or
 * RC_IMMORTAL) followed by its body; the body of a new object is all zero.
 * An object whose type has traverse is tracked and counted in count0 from
 * birth, unless its type is RC_TYPE_IMMUTABLE_REFS: then it is pending
 * until settled (settle.c). The refs of an rc_traverse_refs type fit in
 * its size (checked here, so that the inline paths may trust them).
 */
#include "object_internal.h"
#include "../alloc/debug_guard.h"
#include "../alloc/object_block.h"

#include <string.h>

int rc_object_init(rc_heap *heap)
{
    heap->objects.collect_at = SIZE_MAX; /* the collector sets the threshold */
    heap->objects.release_top = heap->objects.release_buffer;
    return 0;
}

void rc_object_fini(rc_heap *heap) { rc_track_fini(heap); }

/* Whether the refs an rc_traverse_refs type declares fit in its body (the
 * count first: it is 0 in most other types, and fits in every valid one). */
static inline bool refs_fit(const rc_type *type)
{
    return type->refs <= type->size / sizeof(void *) || type->traverse != rc_traverse_refs;
}

/* Every rc_new path, checks and messages included: the type, the size,
 * the allocator's out-of-line paths (large blocks, debug heaps, tracing,
 * an empty pool), any birth. */
static RC_NOINLINE void *new_object_slow(rc_heap *heap, const rc_type *type, size_t extra_bytes)
{
    if (!type) {
        rc_set_error(RC_EINVAL, "rc_new: type is NULL");
        return NULL;
    }
    if (RC_UNLIKELY(!refs_fit(type))) {
        rc_set_error(RC_EINVAL, "rc_new: type %s declares %zu references in a body of %zu bytes",
                     type->name ? type->name : "?", type->refs, type->size);
        return NULL;
    }
    size_t body = type->size + extra_bytes;
    if (body < type->size || body > SIZE_MAX - 2 * sizeof(rc_object_head)) {
        rc_set_error(RC_ENOMEM, "rc_new: a %s object of %zu + %zu bytes is too large",
                     type->name ? type->name : "?", type->size, extra_bytes);
        return NULL;
    }
    size_t total = sizeof(rc_object_head) + body;
    rc_object_head *head = rc_alloc_block(heap, total, RC_BLOCK_OBJECT);
    if (RC_UNLIKELY(!head))
        return NULL;
    return rc_object_birth(heap, head, type, body,
                           rc_alloc_object_inline(heap, total) ? 0 : RC_LARGE);
}

/* rc_new on a thread that has no heap yet: makes it. */
static RC_NOINLINE void *new_object_first(const rc_type *type, size_t extra_bytes)
{
    rc_heap *heap = rc_heap_current();
    return heap ? new_object_slow(heap, type, extra_bytes) : NULL;
}

/* A new object. Inline, the common case: a valid type, a body of 1..
 * RC_SMALL_BODY_MAX bytes, a block from the allocator's inline path, a
 * birth without a call. It makes no call but tail calls, so it saves no
 * register; anything else goes to new_object_slow, whole. */
static RC_ALWAYS_INLINE void *new_object(rc_heap *heap, const rc_type *type, size_t extra_bytes)
{
    if (RC_UNLIKELY(!type))
        return new_object_slow(heap, type, extra_bytes);
    size_t body = type->size + extra_bytes;
    if (RC_UNLIKELY(body < extra_bytes || body - 1 >= RC_SMALL_BODY_MAX || !refs_fit(type)))
        return new_object_slow(heap, type, extra_bytes);
    rc_object_head *head = rc_alloc_object_fast(heap, sizeof(rc_object_head) + body);
    if (RC_UNLIKELY(!head))
        return new_object_slow(heap, type, extra_bytes);
    return rc_object_birth(heap, head, type, body, 0);
}

void *rc_new(const rc_type *type)
{
    rc_heap *heap = rc_thread_heap();
    if (RC_UNLIKELY(heap == NULL))
        return new_object_first(type, 0);
    return new_object(heap, type, 0);
}

void *rc_new_var(const rc_type *type, size_t extra_bytes)
{
    rc_heap *heap = rc_thread_heap();
    if (RC_UNLIKELY(heap == NULL))
        return new_object_first(type, extra_bytes);
    return new_object(heap, type, extra_bytes);
}

void *rc_heap_new_object(rc_heap *heap, const rc_type *type, size_t extra_bytes)
{
    if (!heap) {
        rc_set_error(RC_EINVAL, "rc_heap_new_object: heap is NULL");
        return NULL;
    }
    rc_heap_check_access(heap, "rc_heap_new_object");
    return new_object(heap, type, extra_bytes);
}

void rc_assign(void *slot, void *value)
{
    void **field = slot;
    void *old = *field;
    *field = rc_incref(value);
    rc_decref(old);
}

/* A count of 0 is an object dying (its destroy hook may ask), or on a
 * debug heap perhaps one freed already, which rc_debug_check_object_use
 * reports. */
size_t rc_refcount(const void *obj)
{
    if (!obj)
        return 0;
    uint32_t count = rc_head_of(obj)->refcnt;
    if (RC_UNLIKELY(count == 0))
        rc_debug_check_object_use(obj, "rc_refcount");
    return count;
}

const rc_type *rc_type_of(const void *obj)
{
    if (!obj)
        return NULL;
    const rc_object_head *head = rc_head_of(obj);
    if (RC_UNLIKELY(head->refcnt == 0))
        rc_debug_check_object_use(obj, "rc_type_of");
    return head->type;
}

void rc_check_object(const void *obj, const char *what)
{
    if (!obj)
        return;
    rc_block_kind kind = RC_BLOCK_RAW;
    rc_heap *heap =
        (uintptr_t)obj > sizeof(rc_object_head) ? rc_alloc_owner(rc_head_of(obj), &kind) : NULL;
    if (!heap || kind != RC_BLOCK_OBJECT) {
        rc_debug_check_object_use(obj, what); /* a debug heap says more */
        rc_fatal("%s(%p): not a reclaim object (no object made by rc_new starts there)", what, obj);
    }
    if (rc_head_of(obj)->refcnt == 0) {
        rc_debug_check_object_use(obj, what);
        rc_fatal("%s(%p): the object is already dead (reference count 0)", what, obj);
    }
}

rc_heap *rc_object_heap(const void *obj)
{
    rc_block_kind kind;
    rc_heap *heap = rc_alloc_owner(rc_head_of(obj), &kind);
    if (!heap || kind != RC_BLOCK_OBJECT)
        rc_fatal("%p is not a reclaim object", obj);
    return heap;
}

void rc_traverse_refs(void *self, rc_visit_fn visit, void *arg)
{
    void **slots = self;
    size_t refs = rc_head_of(self)->type->refs;
    for (size_t i = 0; i < refs; i++)
        visit(&slots[i], arg);
}

void rc_make_immortal(void *obj)
{
    if (!obj)
        return;
    rc_object_head *head = rc_head_of(obj);
    if (head->gc_bits & RC_TRACKED)
        rc_track_remove(rc_object_heap(obj), obj);
    head->refcnt = RC_IMMORTAL;
}

bool rc_is_immortal(const void *obj) { return obj && rc_head_of(obj)->refcnt == RC_IMMORTAL; }

void rc_auto_release(void *local) { rc_decref(*(void **)local); }

typedef struct destroy_walk {
    size_t destroyed;
} destroy_walk;

static void destroy_span(const rc_block_span *span, void *arg)
{
    destroy_walk *walk = arg;
    for (size_t i = 0; i < span->count; i++) {
        rc_object_head *head = (rc_object_head *)(span->first + i * span->stride);
        if (head->refcnt == 0 || !head->type->destroy)
            continue;
        head->type->destroy(head + 1);
        walk->destroyed++;
    }
}

void rc_object_destroy_all(rc_heap *heap)
{
    destroy_walk walk = {0};
    rc_alloc_object_spans(heap, destroy_span, &walk);
}
