/* int.c: boxed 64-bit integers and the heap's small-int cache.
 *
 * Invariant: for RC_SMALL_INT_MIN <= v <= RC_SMALL_INT_MAX, every int of
 * value v that rc_int_new returns on a heap is the one immortal object
 * heap->types.small_ints[v - RC_SMALL_INT_MIN]; other values get a new
 * object each time (CPython's _PY_NSMALLNEGINTS/_PY_NSMALLPOSINTS).
 *
 * The hash is CPython's for ints (rc_int_hash_value, types_internal.h).
 */
#include "types_internal.h"

static uint64_t int_hash(const void *self)
{
    return rc_int_hash_value(((const rc_int_body *)self)->value);
}

static bool int_equal(const void *self, const void *other)
{
    return rc_type_of(other) == &rc_int_type &&
           ((const rc_int_body *)self)->value == ((const rc_int_body *)other)->value;
}

const rc_type rc_int_type = {
    .name = "int",
    .size = sizeof(rc_int_body),
    .hash = int_hash,
    .equal = int_equal,
};

static void *int_make(rc_heap *heap, int64_t value)
{
    rc_int_body *i = rc_heap_new_object(heap, &rc_int_type, 0);
    if (i)
        i->value = value;
    return i;
}

void *rc_int_new(int64_t value)
{
    rc_heap *heap = rc_heap_for_call();
    if (RC_UNLIKELY(!heap))
        return NULL;
    if (value < RC_SMALL_INT_MIN || value > RC_SMALL_INT_MAX)
        return int_make(heap, value);
    void **slot = &heap->types.small_ints[value - RC_SMALL_INT_MIN];
    if (RC_UNLIKELY(!*slot)) {
        void *i = int_make(heap, value);
        if (!i)
            return NULL;
        rc_make_immortal(i);
        *slot = i;
    }
    return *slot;
}

int64_t rc_int_value(const void *i)
{
    if (!rc_types_check(i, &rc_int_type, "rc_int_value"))
        return 0;
    return ((const rc_int_body *)i)->value;
}

bool rc_is_int(const void *obj) { return obj && rc_type_of(obj) == &rc_int_type; }
