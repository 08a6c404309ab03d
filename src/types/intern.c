/* intern.c: the heap's table of interned strings (sys.intern).
 *
 * Invariants (types_state.h): every slot is NULL or an immortal str with
 * RC_STR_INTERNED set, stored at or after (by linear probing) the slot its
 * hash selects; no two interned strs of a heap are equal; len <= cap * 3/4.
 * Interned strings are immortal, as in CPython 3.12, so the table never
 * removes an entry.
 */
#include "types_internal.h"
#include "../alloc/alloc.h"

#include <string.h>

/* The slot holding the str equal to (text, n, hash), or the empty slot
 * where it would go. The table must have a free slot. */
static void **intern_find(rc_intern_table *table, const char *text, size_t n, uint64_t hash)
{
    size_t mask = table->cap - 1;
    for (size_t i = (size_t)hash & mask;; i = (i + 1) & mask) {
        rc_str_body *s = table->slots[i];
        if (!s)
            return &table->slots[i];
        if (s->hash == hash && s->len == n && memcmp(rc_strlike_bytes(s), text, n) == 0)
            return &table->slots[i];
    }
}

static int intern_grow(rc_heap *heap, rc_intern_table *table)
{
    size_t cap = table->cap ? table->cap * 2 : 256;
    void **slots = rc_sys_calloc(heap, cap, sizeof *slots);
    if (!slots)
        return rc_set_error(RC_ENOMEM, "out of memory: cannot grow the intern table");
    rc_intern_table bigger = {slots, cap, 0};
    for (size_t i = 0; i < table->cap; i++) {
        rc_str_body *s = table->slots[i];
        if (s) {
            *intern_find(&bigger, rc_strlike_bytes(s), s->len, s->hash) = s;
            bigger.len++;
        }
    }
    rc_sys_free(heap, table->slots);
    *table = bigger;
    return 0;
}

/* The slot for (text, n); NULL with a message if the table cannot grow. */
static void **intern_slot(rc_heap *heap, const char *text, size_t n, uint64_t hash)
{
    rc_intern_table *table = &heap->types.interned;
    if ((table->len + 1) * 4 > table->cap * 3 && intern_grow(heap, table) != 0)
        return NULL;
    return intern_find(table, text, n, hash);
}

static void *intern_store(rc_heap *heap, void **slot, rc_str_body *s)
{
    rc_make_immortal(s);
    s->flags |= RC_STR_INTERNED;
    *slot = s;
    heap->types.interned.len++;
    return s;
}

void *rc_str_intern(void *obj)
{
    if (!rc_types_check(obj, &rc_str_type, "rc_str_intern"))
        return NULL;
    rc_str_body *s = obj;
    if (s->flags & RC_STR_INTERNED)
        return s;
    rc_heap *heap = rc_object_heap(s);
    rc_heap_check_access(heap, "rc_str_intern");
    void **slot = intern_slot(heap, rc_strlike_bytes(s), s->len, rc_str_hash(s));
    if (!slot)
        return NULL;
    return *slot ? *slot : intern_store(heap, slot, s);
}

void *rc_str_interned(const char *text)
{
    if (!text) {
        rc_set_error(RC_EINVAL, "rc_str_interned: text is NULL");
        return NULL;
    }
    rc_heap *heap = rc_heap_for_call();
    if (!heap)
        return NULL;
    size_t n = strlen(text);
    uint64_t hash = rc_types_hash_bytes(text, n);
    void **slot = intern_slot(heap, text, n, hash);
    if (!slot)
        return NULL;
    if (*slot)
        return *slot;
    rc_str_body *s = rc_str_new(text, n);
    if (!s)
        return NULL;
    s->hash = hash;
    s->flags |= RC_STR_HASHED;
    /* making s may have run a collection whose finalizers interned: look
     * again */
    slot = intern_slot(heap, text, n, hash);
    if (!slot || *slot) {
        rc_decref(s);
        return slot ? *slot : NULL;
    }
    return intern_store(heap, slot, s);
}

bool rc_str_is_interned(const void *s)
{
    return rc_is_str(s) && (((const rc_str_body *)s)->flags & RC_STR_INTERNED);
}
