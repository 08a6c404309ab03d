/* set_ops.c: set union and intersection, as new sets.
 *
 * Both iterate their operands with the mutation check: adding to the
 * result allocates, an allocation may run a collection, and a collection
 * user code that changes an operand. Each key is held while it is added.
 */
#include "set_table.h"

/* Adds to result every key of s (for which `other` contains it, if other
 * is not NULL). 0 or a negative RC_E* code. */
static int add_all(void *result, const void *s, const void *other)
{
    rc_iter it = rc_set_table_iter(s, s);
    void *key;
    int status;
    while ((status = rc_set_table_iter_next(&it, s, &key)) > 0) {
        rc_incref(key);
        status = other ? rc_set_contains(other, key) : 1;
        if (status > 0)
            status = rc_set_add(result, key);
        rc_decref(key);
        if (status < 0)
            return status;
    }
    return status;
}

static bool operands_ok(const void *a, const void *b, const char *fn)
{
    return rc_types_check(a, &rc_set_type, fn) && rc_types_check(b, &rc_set_type, fn);
}

void *rc_set_union(const void *a, const void *b)
{
    if (!operands_ok(a, b, "rc_set_union"))
        return NULL;
    void *result = rc_set_new();
    if (!result)
        return NULL;
    int status = add_all(result, a, NULL);
    if (status == 0)
        status = add_all(result, b, NULL);
    return rc_types_finish(result, status, "rc_set_union");
}

void *rc_set_intersection(const void *a, const void *b)
{
    if (!operands_ok(a, b, "rc_set_intersection"))
        return NULL;
    void *result = rc_set_new();
    if (!result)
        return NULL;
    /* CPython's order: iterate the smaller, look each key up in the other */
    const void *small = rc_set_len(a) <= rc_set_len(b) ? a : b;
    int status = add_all(result, small, small == a ? b : a);
    return rc_types_finish(result, status, "rc_set_intersection");
}
