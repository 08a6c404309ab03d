/* list_sort.c: rc_list_sort, a stable merge sort with a comparison.
 *
 * Runs of RUN items are sorted by insertion, then merged bottom-up, the
 * left run copied to scratch (n pointers, taken before the sort starts).
 * A merge takes from the left run unless the right item is strictly less,
 * so equal items keep their order; two runs already in order are not
 * merged at all, so sorted input costs n - 1 comparisons a level.
 *
 * As in CPython, the list is emptied while the sort runs (its items are
 * held by the sort), so a comparison that looks at the list sees it empty,
 * and one that changes it is caught: every change sets RC_LIST_MODIFIED in
 * sort_state, but an append into a block that an earlier change gave the
 * list (rc_list_append's fast path), which the sort sees as items left in
 * the list. The sort then finishes, puts the sorted items back, drops
 * whatever was added meanwhile and returns RC_ESTATE. The list is held
 * (a reference) for the duration, so a comparison cannot free it.
 */
#include "types_internal.h"

#include <string.h>

enum { RUN = 16 };

typedef struct sorter {
    rc_compare_fn cmp;
    void *arg;
    void **scratch;
} sorter;

static void insertion_sort(sorter *s, void **a, size_t lo, size_t hi)
{
    for (size_t i = lo + 1; i < hi; i++) {
        void *x = a[i];
        size_t j = i;
        while (j > lo && s->cmp(x, a[j - 1], s->arg) < 0) {
            a[j] = a[j - 1];
            j--;
        }
        a[j] = x;
    }
}

/* Merges the sorted runs a[lo, mid) and a[mid, hi). */
static void merge(sorter *s, void **a, size_t lo, size_t mid, size_t hi)
{
    if (s->cmp(a[mid], a[mid - 1], s->arg) >= 0)
        return; /* already in order */
    size_t left = mid - lo;
    memcpy(s->scratch, &a[lo], left * sizeof(void *));
    size_t i = 0, j = mid, k = lo;
    while (i < left && j < hi) {
        if (s->cmp(a[j], s->scratch[i], s->arg) < 0)
            a[k++] = a[j++];
        else
            a[k++] = s->scratch[i++];
    }
    memcpy(&a[k], &s->scratch[i], (left - i) * sizeof(void *));
}

static void merge_sort(sorter *s, void **a, size_t n)
{
    for (size_t lo = 0; lo < n; lo += RUN)
        insertion_sort(s, a, lo, lo + RUN < n ? lo + RUN : n);
    for (size_t width = RUN; width < n; width *= 2) {
        for (size_t lo = 0; lo + width < n; lo += 2 * width) {
            size_t hi = lo + 2 * width < n ? lo + 2 * width : n;
            merge(s, a, lo, lo + width, hi);
        }
    }
}

/* Puts the sorted items back and drops what a comparison added meanwhile;
 * true if the list was changed during the sort. */
static bool sort_restore(rc_list_body *list, void **items, size_t n, size_t cap)
{
    bool modified = (list->sort_state & RC_LIST_MODIFIED) || list->items || list->len;
    void **added = list->items;
    size_t n_added = list->len;
    list->items = items;
    list->len = n;
    list->cap = cap;
    list->sort_state = 0;
    while (n_added > 0)
        rc_decref(added[--n_added]);
    rc_free(added);
    return modified;
}

int rc_list_sort(void *obj, rc_compare_fn cmp, void *arg)
{
    if (!rc_types_check(obj, &rc_list_type, "rc_list_sort"))
        return RC_EINVAL;
    if (!cmp)
        return rc_set_error(RC_EINVAL, "rc_list_sort: cmp is NULL");
    rc_list_body *list = obj;
    if (list->sort_state)
        return 0; /* sorting from a comparison: the list looks empty */
    if (list->len < 2)
        return 0;
    sorter s = {cmp, arg, rc_malloc(list->len * sizeof(void *))};
    if (!s.scratch)
        return RC_ENOMEM;
    rc_incref(list);
    void **items = list->items;
    size_t n = list->len, cap = list->cap;
    list->items = NULL;
    list->len = list->cap = 0;
    list->sort_state = RC_LIST_SORTING;
    merge_sort(&s, items, n);
    rc_free(s.scratch);
    bool modified = sort_restore(list, items, n, cap);
    rc_decref(list);
    if (modified)
        return rc_set_error(RC_ESTATE, "rc_list_sort: list modified during sort");
    return 0;
}
