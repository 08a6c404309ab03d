/* tuple.c: immutable sequences of references.
 *
 * A tuple's items[0..len) are set when it is made and never change (the
 * collector may clear them to NULL when the tuple is garbage). Its hash
 * combines the items' hashes as CPython 3.8+'s tuplehash does (an xxHash
 * round per item), so equal tuples of equal items hash alike. The empty
 * tuple is one immortal object per heap. Its type has RC_TYPE_IMMUTABLE_REFS:
 * a young collection untracks a tuple whose items can never be tracked
 * (gc.is_tracked((1, 2)) is False after a collection, as in CPython).
 *
 * Free lists, as CPython 3.11 keeps them: a dead tuple of length 1..19
 * keeps its block on the heap's list for its length (at most 2000 each;
 * types_state.h), and the next tuple of that length takes it back, with
 * no trip through the allocator. The object layer keeps the blocks
 * (src/object/recycle.c: the tracer, the collector, the statistics and
 * ASan see a kept block as freed and a reused one as new); a debug heap
 * keeps none.
 */
#include "types_internal.h"

#include <stdarg.h>

#define XXPRIME_1 UINT64_C(11400714785074694791)
#define XXPRIME_2 UINT64_C(14029467366897019727)
#define XXPRIME_5 UINT64_C(2870177450012600261)

static void tuple_traverse(void *self, rc_visit_fn visit, void *arg)
{
    rc_tuple_body *t = self;
    for (size_t i = 0; i < t->len; i++)
        visit(&t->items[i], arg);
}

static uint64_t tuple_hash(const void *self)
{
    const rc_tuple_body *t = self;
    uint64_t acc = XXPRIME_5;
    for (size_t i = 0; i < t->len; i++) {
        uint64_t lane = rc_hash(t->items[i]);
        acc += lane * XXPRIME_2;
        acc = (acc << 31) | (acc >> 33);
        acc *= XXPRIME_1;
    }
    acc += (uint64_t)t->len ^ (XXPRIME_5 ^ UINT64_C(3527539));
    return acc == UINT64_MAX ? UINT64_C(1546275796) : acc;
}

static bool tuple_equal(const void *self, const void *other)
{
    const rc_tuple_body *a = self, *b = other;
    if (rc_type_of(other) != &rc_tuple_type || a->len != b->len)
        return false;
    for (size_t i = 0; i < a->len; i++) {
        if (!rc_equal(a->items[i], b->items[i]))
            return false;
    }
    return true;
}

const rc_type rc_tuple_type = {
    .name = "tuple",
    .size = sizeof(rc_tuple_body),
    .traverse = tuple_traverse,
    .hash = tuple_hash,
    .equal = tuple_equal,
    .flags = RC_TYPE_IMMUTABLE_REFS | RC_TYPE_INTERNAL_RECYCLE,
};

bool rc_tuple_recycle(rc_heap *heap, void *obj)
{
    if (rc_head_of(obj)->type != &rc_tuple_type) /* the one type that recycles */
        return false;
    size_t n = ((const rc_tuple_body *)obj)->len;
    if (n == 0 || n >= RC_TUPLE_FREELISTS)
        return false;
    return rc_object_recycle(heap, &heap->types.tuple_free[n], RC_TUPLE_FREELIST_MAX, obj,
                             n * sizeof(void *));
}

void rc_tuple_free_lists_clear(rc_heap *heap)
{
    for (size_t n = 1; n < RC_TUPLE_FREELISTS; n++)
        rc_object_freelist_clear(heap, &heap->types.tuple_free[n]);
}

static void *empty_tuple(void)
{
    rc_heap *heap = rc_heap_for_call();
    if (!heap)
        return NULL;
    if (!heap->types.empty_tuple) {
        void *t = rc_new(&rc_tuple_type);
        if (!t)
            return NULL;
        rc_make_immortal(t);
        heap->types.empty_tuple = t;
    }
    return heap->types.empty_tuple;
}

/* A tuple of n (>= 1) NULL items, for the caller to fill before anyone
 * sees it: from the free list for n if it has a block. */
static rc_tuple_body *tuple_alloc(size_t n)
{
    if (n > (SIZE_MAX - sizeof(rc_tuple_body)) / sizeof(void *)) {
        rc_set_error(RC_ENOMEM, "rc_tuple: %zu items are too many", n);
        return NULL;
    }
    rc_tuple_body *t = NULL;
    if (n < RC_TUPLE_FREELISTS) {
        rc_heap *heap = rc_heap_for_call();
        if (!heap)
            return NULL;
        t = rc_object_reuse(heap, &heap->types.tuple_free[n], &rc_tuple_type, n * sizeof(void *));
    }
    if (!t)
        t = rc_new_var(&rc_tuple_type, n * sizeof(void *));
    if (t)
        t->len = n;
    return t;
}

void *rc_tuple_from_array(size_t n, void *const *items)
{
    if (n == 0)
        return empty_tuple();
    for (size_t i = 0; i < n; i++) {
        if (!items[i]) {
            rc_set_error(RC_EINVAL, "rc_tuple: item %zu is NULL", i);
            return NULL;
        }
    }
    rc_tuple_body *t = tuple_alloc(n);
    if (!t)
        return NULL;
    for (size_t i = 0; i < n; i++)
        t->items[i] = rc_incref(items[i]);
    return t;
}

void *rc_tuple_pack(size_t n, ...)
{
    if (n == 0)
        return empty_tuple();
    rc_tuple_body *t = tuple_alloc(n);
    if (!t)
        return NULL;
    va_list ap;
    va_start(ap, n);
    for (size_t i = 0; i < n; i++)
        t->items[i] = rc_incref(va_arg(ap, void *));
    va_end(ap);
    for (size_t i = 0; i < n; i++) {
        if (!t->items[i]) {
            rc_decref(t);
            rc_set_error(RC_EINVAL, "rc_tuple_pack: item %zu is NULL", i);
            return NULL;
        }
    }
    return t;
}

size_t rc_tuple_len(const void *t)
{
    return rc_types_check(t, &rc_tuple_type, "rc_tuple_len") ? ((const rc_tuple_body *)t)->len : 0;
}

void *rc_tuple_get(const void *t, size_t i)
{
    if (!rc_types_check(t, &rc_tuple_type, "rc_tuple_get"))
        return NULL;
    const rc_tuple_body *tuple = t;
    if (i >= tuple->len) {
        rc_set_error(RC_EINVAL, "rc_tuple_get: index %zu out of range (length %zu)", i, tuple->len);
        return NULL;
    }
    return tuple->items[i];
}

bool rc_is_tuple(const void *obj) { return obj && rc_type_of(obj) == &rc_tuple_type; }
