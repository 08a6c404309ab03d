/* sizeof.c: rc_sizeof (sys.getsizeof) and rc_total_sizeof.
 *
 * rc_sizeof counts what CPython's __sizeof__ counts, requested bytes not
 * size-class bytes: the 16-byte header, the body (type->size) and the
 * variable part the object owns:
 *   int                  16 + 8
 *   str, bytes           16 + 20 (RC_STR_BODY_SIZE) + len + 1, and 8 more for
 *                        the buffer's address in a str that owns its buffer
 *                        (RC_STR_OWNED: a strbuilder's, handed over)
 *   strbuilder           16 + sizeof(body) + capacity of its buffer
 *   view                 16 + sizeof(rc_view_body)      (not the base)
 *   tuple                16 + sizeof(rc_tuple_body) + 8 * len
 *   list                 16 + sizeof(rc_list_body) + 8 * capacity
 *   dict                 16 + sizeof(rc_dict_body) + its table: 16 + index
 *                        slots (2**k of 1/2/4/8 bytes) + 2/3 * 2**k entries of
 *                        24 bytes (16 in a table of str or int keys), 0 when empty
 *   set                  16 + sizeof(rc_set_body) + 16 * table size (0 when
 *                        empty)
 *   weak containers      as dict and set (their tables, not the weak
 *                        reference objects)
 *   any other type       16 + type->size
 *
 * rc_total_sizeof walks the graph from the object through traverse with an
 * explicit stack (no recursion) and a visited set (open addressing over
 * addresses, len <= cap/2), adding rc_sizeof of each object once. Its
 * memory is the heap's bookkeeping memory, freed before it returns.
 */
#include "dict_table.h"
#include "set_table.h"
#include "../alloc/alloc.h"

#include <string.h>

size_t rc_sizeof(const void *obj)
{
    if (!obj)
        return 0;
    const rc_type *type = rc_type_of(obj);
    size_t base = RC_HEADER_SIZE + type->size;
    if (type == &rc_str_type || type == &rc_bytes_type) {
        const rc_str_body *s = obj;
        return base + (s->flags & RC_STR_OWNED ? sizeof(char *) : 0) + s->len + 1;
    }
    if (type == &rc_strbuilder_type)
        return base + ((const rc_strbuilder_body *)obj)->cap;
    if (type == &rc_tuple_type)
        return base + ((const rc_tuple_body *)obj)->len * sizeof(void *);
    if (type == &rc_list_type)
        return base + ((const rc_list_body *)obj)->cap * sizeof(void *);
    if (type == &rc_dict_type || type == &rc_weakvaluedict_type || type == &rc_weakkeydict_type)
        return base + rc_dict_table_bytes(obj);
    if (type == &rc_set_type || type == &rc_weakset_type)
        return base + rc_set_table_bytes(obj);
    return base;
}

typedef struct walk {
    rc_heap *heap;
    const void **seen; /* the visited set */
    size_t seen_cap, seen_len;
    void **stack;
    size_t stack_cap, stack_len;
    bool failed; /* out of memory */
} walk;

static size_t seen_slot(const walk *w, const void *obj)
{
    uint64_t h = ((uintptr_t)obj >> 4) * UINT64_C(0x9E3779B97F4A7C15);
    return (size_t)(h >> 32) & (w->seen_cap - 1);
}

static bool seen_grow(walk *w)
{
    size_t cap = w->seen_cap ? w->seen_cap * 2 : 64;
    const void **seen = rc_sys_calloc(w->heap, cap, sizeof *seen);
    if (!seen)
        return false;
    const void **old = w->seen;
    size_t old_cap = w->seen_cap;
    w->seen = seen;
    w->seen_cap = cap;
    for (size_t i = 0; i < old_cap; i++) {
        if (old[i]) {
            size_t j = seen_slot(w, old[i]);
            while (seen[j])
                j = (j + 1) & (cap - 1);
            seen[j] = old[i];
        }
    }
    rc_sys_free(w->heap, old);
    return true;
}

/* Adds obj to the visited set: true if it was not there. */
static bool seen_add(walk *w, const void *obj)
{
    if ((w->seen_len + 1) * 2 > w->seen_cap && !seen_grow(w)) {
        w->failed = true;
        return false;
    }
    size_t i = seen_slot(w, obj);
    for (; w->seen[i]; i = (i + 1) & (w->seen_cap - 1)) {
        if (w->seen[i] == obj)
            return false;
    }
    w->seen[i] = obj;
    w->seen_len++;
    return true;
}

static void push(walk *w, void *obj)
{
    if (w->stack_len == w->stack_cap) {
        size_t cap = w->stack_cap ? w->stack_cap * 2 : 64;
        void **stack = rc_sys_realloc(w->heap, w->stack, cap * sizeof *stack);
        if (!stack) {
            w->failed = true;
            return;
        }
        w->stack = stack;
        w->stack_cap = cap;
    }
    w->stack[w->stack_len++] = obj;
}

/* The visitor: each referent not seen yet goes on the stack. */
static void visit_referent(void *slot, void *arg)
{
    walk *w = arg;
    void *obj = *(void **)slot;
    if (obj && !w->failed && seen_add(w, obj))
        push(w, obj);
}

size_t rc_total_sizeof(const void *obj)
{
    if (!obj) {
        rc_set_error(RC_EINVAL, "rc_total_sizeof: obj is NULL");
        return 0;
    }
    walk w = {.heap = rc_object_heap(obj)};
    size_t total = 0;
    visit_referent(&obj, &w);
    while (w.stack_len > 0 && !w.failed) {
        void *o = w.stack[--w.stack_len];
        total += rc_sizeof(o);
        const rc_type *type = rc_type_of(o);
        if (type->traverse)
            type->traverse(o, visit_referent, &w);
    }
    rc_sys_free(w.heap, w.seen);
    rc_sys_free(w.heap, w.stack);
    if (w.failed) {
        rc_set_error(RC_ENOMEM, "out of memory: rc_total_sizeof could not walk the objects");
        return 0;
    }
    return total;
}
