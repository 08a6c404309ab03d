/* list.c: mutable sequences of references, with CPython's growth policy.
 *
 * Invariants: items[0..len) are the items (each a reference the list owns,
 * non-NULL except while the collector clears a garbage list); len <= cap;
 * items is a raw block of cap pointers, or NULL when cap == 0.
 *
 * Capacity follows CPython's list_resize exactly: a new length within
 * [cap/2, cap] keeps the block; otherwise the capacity becomes
 * (n + n/8 + 6) & ~3, or (n + 3) & ~3 when that over-allocation would be
 * smaller than the growth itself (extending by many at once), and 0 for an
 * empty list. So appends give capacities 0, 4, 8, 16, 24, 32, 40, 52, 64,
 * 76, ..., amortised O(1) an append.
 *
 * Every change stores first and drops references last, so the code a
 * dropped reference runs (a finalizer) sees the list consistent. While
 * rc_list_sort runs the list looks empty (no block): a change made then is
 * noted in sort_state, or leaves items in the list, which the sort sees at
 * its end (list_sort.c).
 */
#include "types_internal.h"

#include <string.h>

static void list_traverse(void *self, rc_visit_fn visit, void *arg)
{
    rc_list_body *list = self;
    for (size_t i = 0; i < list->len; i++)
        visit(&list->items[i], arg);
}

static void list_destroy(void *self)
{
    rc_list_body *list = self;
    rc_free(list->items);
    list->items = NULL;
    list->len = list->cap = 0;
}

const rc_type rc_list_type = {
    .name = "list",
    .size = sizeof(rc_list_body),
    .traverse = list_traverse,
    .destroy = list_destroy,
};

void *rc_list_new(void) { return rc_new(&rc_list_type); }

bool rc_is_list(const void *obj) { return obj && rc_type_of(obj) == &rc_list_type; }

static void note_change(rc_list_body *list)
{
    if (RC_UNLIKELY(list->sort_state))
        list->sort_state |= RC_LIST_MODIFIED;
}

/* CPython's list_resize: makes room for newsize items and sets len. A
 * failed shrink keeps the larger block (it cannot fail). */
static int list_resize(rc_list_body *list, size_t newsize)
{
    size_t allocated = list->cap;
    if (allocated >= newsize && newsize >= (allocated >> 1)) {
        list->len = newsize;
        return 0;
    }
    if (newsize > (SIZE_MAX / sizeof(void *)) - (newsize >> 3) - 6)
        return rc_set_error(RC_ENOMEM, "rc_list: %zu items are too many", newsize);
    size_t new_allocated = (newsize + (newsize >> 3) + 6) & ~(size_t)3;
    if (newsize > list->len && newsize - list->len > new_allocated - newsize)
        new_allocated = (newsize + 3) & ~(size_t)3;
    if (newsize == 0) {
        rc_free(list->items);
        list->items = NULL;
        list->len = list->cap = 0;
        return 0;
    }
    /* no user code runs in rc_realloc (it collects no cycles), so nothing
     * can reach this list while its items move */
    void **items = rc_realloc(list->items, new_allocated * sizeof(void *));
    if (!items) {
        if (newsize <= allocated) { /* a shrink: keep the block */
            list->len = newsize;
            return 0;
        }
        return RC_ENOMEM;
    }
    list->items = items;
    list->cap = new_allocated;
    list->len = newsize;
    return 0;
}

/* 0 if list is a list and item not NULL; else RC_EINVAL with a message. */
static int list_item_ok(void *list, const void *item, const char *fn)
{
    if (!rc_types_check(list, &rc_list_type, fn))
        return RC_EINVAL;
    if (!item)
        return rc_set_error(RC_EINVAL, "%s: item is NULL", fn);
    return 0;
}

_Static_assert(offsetof(rc_list_body, len) == offsetof(rc_list_fields, len) &&
                   offsetof(rc_list_body, cap) == offsetof(rc_list_fields, cap) &&
                   offsetof(rc_list_body, items) == offsetof(rc_list_fields, items),
               "a list's body starts with the fields rc_list_append's inline path uses");

/* Every case of rc_list_append; the inline path (reclaim/types.h) calls
 * it for those it does not take: an argument to check, a full block (an
 * empty one while a sort runs). */
int rc_list_append_slow(void *obj, void *item)
{
    int err = list_item_ok(obj, item, "rc_list_append");
    if (err)
        return err;
    rc_list_body *list = obj;
    size_t n = list->len;
    err = list_resize(list, n + 1);
    if (err)
        return err;
    list->items[n] = rc_incref(item);
    note_change(list);
    return 0;
}

/* The library's copy of the inline path, for a call by address or by the
 * name in parentheses. */
int(rc_list_append)(void *obj, void *item)
{
    return rc_list_append_fast(obj, item) ? 0 : rc_list_append_slow(obj, item);
}

int rc_list_insert(void *obj, size_t i, void *item)
{
    int err = list_item_ok(obj, item, "rc_list_insert");
    if (err)
        return err;
    rc_list_body *list = obj;
    size_t n = list->len;
    if (i > n)
        i = n;
    err = list_resize(list, n + 1);
    if (err)
        return err;
    memmove(&list->items[i + 1], &list->items[i], (n - i) * sizeof(void *));
    list->items[i] = rc_incref(item);
    note_change(list);
    return 0;
}

size_t rc_list_len(const void *list)
{
    return rc_types_check(list, &rc_list_type, "rc_list_len") ? ((const rc_list_body *)list)->len
                                                              : 0;
}

size_t rc_list_capacity(const void *list)
{
    return rc_types_check(list, &rc_list_type, "rc_list_capacity")
               ? ((const rc_list_body *)list)->cap
               : 0;
}

/* True if i indexes an item of obj, a list; else false with a message. */
static bool list_index_ok(const void *obj, size_t i, const char *fn)
{
    if (!rc_types_check(obj, &rc_list_type, fn))
        return false;
    const rc_list_body *list = obj;
    if (i < list->len)
        return true;
    rc_set_error(RC_EINVAL, "%s: index %zu out of range (length %zu)", fn, i, list->len);
    return false;
}

void *rc_list_get(const void *list, size_t i)
{
    return list_index_ok(list, i, "rc_list_get") ? ((const rc_list_body *)list)->items[i] : NULL;
}

int rc_list_set(void *obj, size_t i, void *item)
{
    int err = list_item_ok(obj, item, "rc_list_set");
    if (err)
        return err;
    if (!list_index_ok(obj, i, "rc_list_set"))
        return RC_EINVAL;
    rc_list_body *list = obj;
    void *old = list->items[i];
    list->items[i] = rc_incref(item);
    note_change(list);
    rc_decref(old);
    return 0;
}

/* Removes item i (checked by the caller) and returns the list's
 * reference to it. */
static void *list_take(rc_list_body *list, size_t i)
{
    void *item = list->items[i];
    size_t n = list->len;
    memmove(&list->items[i], &list->items[i + 1], (n - 1 - i) * sizeof(void *));
    list_resize(list, n - 1); /* a shrink: cannot fail */
    note_change(list);
    return item;
}

void *rc_list_pop(void *obj, size_t i)
{
    if (!list_index_ok(obj, i, "rc_list_pop"))
        return NULL;
    return list_take(obj, i);
}

int rc_list_delete(void *obj, size_t i)
{
    if (!list_index_ok(obj, i, "rc_list_delete"))
        return RC_EINVAL;
    rc_decref(list_take(obj, i));
    return 0;
}

void rc_list_clear(void *obj)
{
    if (!rc_types_check(obj, &rc_list_type, "rc_list_clear"))
        return;
    rc_list_body *list = obj;
    void **items = list->items;
    size_t n = list->len;
    list->items = NULL;
    list->len = list->cap = 0;
    note_change(list);
    while (n > 0) /* from the end, as CPython's list_clear */
        rc_decref(items[--n]);
    rc_free(items);
}

bool rc_list_next(const void *obj, size_t *index, void **item)
{
    if (!rc_types_check(obj, &rc_list_type, "rc_list_next"))
        return false;
    const rc_list_body *list = obj;
    while (*index < list->len) {
        void *found = list->items[(*index)++];
        if (found) {
            *item = found;
            return true;
        }
    }
    return false;
}
