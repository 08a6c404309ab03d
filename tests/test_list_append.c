/* test_list_append.c: rc_list_append's fast path (inline in the caller,
 * reclaim/types.h) keeps every behaviour of the slow one, and the
 * library's function and rc_list_append_slow do the same: the messages for
 * a wrong list or a NULL item, references, a change noted during a sort,
 * and CPython's growth sequence exactly, through a million appends whose
 * item array passes 1 MiB and moves to a mapping of its own (mremap
 * growth: the items must survive every move). A growth that cannot get
 * memory fails with the list untouched; a shrink that cannot keeps the
 * larger block.
 */
#include "check.h"

#include "alloc/large.h"
#include "types/types_internal.h"

#include <reclaim.h>

/* CPython's list_resize for an append to a list of length n and capacity
 * cap. */
static size_t capacity_after_append(size_t n, size_t cap)
{
    size_t newsize = n + 1;
    if (cap >= newsize && newsize >= (cap >> 1))
        return cap;
    size_t grown = (newsize + (newsize >> 3) + 6) & ~(size_t)3;
    if (newsize - n > grown - newsize)
        grown = (newsize + 3) & ~(size_t)3;
    return grown;
}

static void *item_for(size_t i) { return rc_int_new((int64_t)(i % 262) - 5); }

static void test_arguments(void)
{
    void *list = rc_list_new(), *i = rc_int_new(1000);
    CHECK_EQ(rc_list_append(i, i), RC_EINVAL);
    CHECK_STR_CONTAINS(rc_last_error(), "rc_list_append: expected a list, got an int");
    CHECK_EQ(rc_list_append(NULL, i), RC_EINVAL);
    CHECK_STR_CONTAINS(rc_last_error(), "rc_list_append: expected a list, got NULL");
    /* with room in the block (the fast path) and without */
    for (int round = 0; round < 6; round++) {
        CHECK_EQ(rc_list_append(list, NULL), RC_EINVAL);
        CHECK_STR_CONTAINS(rc_last_error(), "rc_list_append: item is NULL");
        CHECK_EQ(rc_list_append(list, i), 0);
    }
    CHECK_EQ(rc_list_len(list), 6);
    CHECK_EQ(rc_list_capacity(list), 8);
    CHECK_EQ(rc_refcount(i), 7);
    rc_decref(list);
    CHECK_EQ(rc_refcount(i), 1);
    rc_decref(i);
}

/* The three ways in: the macro (inline), the library's function (by its
 * name in parentheses, or by address, as a binding calls it) and
 * rc_list_append_slow; each checks its arguments, and each appends in
 * order, with and without room. Each argument is evaluated once. */
static void test_entry_points(void)
{
    int (*by_address)(void *, void *) = &rc_list_append;
    void *list = rc_list_new(), *i = rc_int_new(1000);
    CHECK_EQ((rc_list_append)(i, i), RC_EINVAL);
    CHECK_STR_CONTAINS(rc_last_error(), "rc_list_append: expected a list, got an int");
    CHECK_EQ(by_address(list, NULL), RC_EINVAL);
    CHECK_STR_CONTAINS(rc_last_error(), "rc_list_append: item is NULL");
    CHECK_EQ(rc_list_append_slow(NULL, i), RC_EINVAL);
    CHECK_STR_CONTAINS(rc_last_error(), "rc_list_append: expected a list, got NULL");
    size_t list_reads = 0, item_reads = 0;
    for (int64_t k = 0; k < 30; k++) {
        void *item = rc_int_new(k);
        int err = k % 3 == 0   ? rc_list_append(list, item)
                  : k % 3 == 1 ? (rc_list_append)(list, item)
                               : rc_list_append_slow(list, item);
        CHECK_EQ(err, 0);
    }
    CHECK_EQ(rc_list_append((list_reads++, list), (item_reads++, i)), 0);
    CHECK_EQ(list_reads, 1);
    CHECK_EQ(item_reads, 1);
    CHECK_EQ(rc_list_len(list), 31);
    CHECK_EQ(rc_list_capacity(list), 32);
    for (int64_t k = 0; k < 30; k++)
        CHECK_EQ(rc_int_value(rc_list_get(list, (size_t)k)), k);
    CHECK(rc_list_get(list, 30) == i);
    CHECK_EQ(rc_refcount(i), 2);
    rc_decref(list);
    CHECK_EQ(rc_refcount(i), 1);
    rc_decref(i);
}

/* A comparison that appends: the sort must see the change, though only
 * the first of those appends takes the slow path (the sort left the list
 * empty, with no block) and the others the fast one. */
static int appending_compare(const void *a, const void *b, void *arg)
{
    void *list = arg;
    if (rc_list_append(list, rc_int_new(7)) != 0)
        return 0;
    int64_t x = rc_int_value(a), y = rc_int_value(b);
    return x < y ? -1 : x > y;
}

static void test_append_during_sort(void)
{
    void *list = rc_list_new();
    for (int64_t v = 5; v > 0; v--)
        rc_list_append(list, rc_int_new(v));
    /* the comparison appends many times: the first append gives the
     * emptied list a block of 4, the next three go in by the fast path */
    CHECK_EQ(rc_list_sort(list, appending_compare, list), RC_ESTATE);
    CHECK_STR_CONTAINS(rc_last_error(), "list modified during sort");
    CHECK_EQ(rc_list_len(list), 5); /* sorted, the appended items dropped */
    for (size_t i = 0; i < 5; i++)
        CHECK_EQ(rc_int_value(rc_list_get(list, i)), (int64_t)i + 1);
    rc_decref(list);
}

static void test_growth_to_mapped(void)
{
    enum { N = 1000000 };
    void *list = rc_list_new();
    size_t expected = 0, mismatches = 0, changes = 0;
    for (size_t i = 0; i < N; i++) {
        expected = capacity_after_append(i, expected);
        size_t before = rc_list_capacity(list);
        mismatches += rc_list_append(list, item_for(i)) != 0;
        size_t cap = rc_list_capacity(list);
        mismatches += cap != expected;
        changes += cap != before;
    }
    CHECK_EQ(mismatches, 0);
    CHECK_EQ(rc_list_capacity(list), 1056084); /* CPython: a million appends */
    CHECK_EQ(changes, 86);                     /* as many reallocations as CPython makes */
    /* the item array is now one mapped large block */
    const rc_list_body *body = list;
    const rc_large *h = rc_large_of(body->items);
    CHECK(h != NULL && rc_large_is_mapped(h));
    CHECK_EQ(rc_sizeof(list), 16 + 32 + 8 * 1056084);
    size_t bad = 0;
    for (size_t i = 0; i < N; i++)
        bad += rc_list_get(list, i) != item_for(i);
    CHECK_EQ(bad, 0);
    /* shrinking by pops follows CPython too, back below the threshold */
    size_t cap = rc_list_capacity(list);
    while (rc_list_len(list) > 100) {
        size_t n = rc_list_len(list) - 1;
        mismatches += rc_list_delete(list, n) != 0;
        if (!(cap >= n && n >= cap / 2))
            cap = (n + (n >> 3) + 6) & ~(size_t)3;
        mismatches += rc_list_capacity(list) != cap;
    }
    CHECK_EQ(mismatches, 0);
    for (size_t i = 0; i < 100; i++)
        bad += rc_list_get(list, i) != item_for(i);
    CHECK_EQ(bad, 0);
    rc_decref(list);
}

/* Out of memory while the mapped item array must grow: the append fails,
 * the list is as it was. A shrink below the threshold needs a new block,
 * and keeps the mapped one when memory is short; a later shrink (a delete:
 * appends never shrink, as in CPython) makes it. */
static void test_growth_fails(void)
{
    void *list = rc_list_new();
    size_t failed = 0;
    while (rc_list_capacity(list) * sizeof(void *) < RC_LARGE_MAP_MIN ||
           rc_list_len(list) < rc_list_capacity(list))
        failed += rc_list_append(list, item_for(rc_list_len(list))) != 0;
    size_t len = rc_list_len(list), cap = rc_list_capacity(list);
    const void *items = ((const rc_list_body *)list)->items;
    rc_heap_trim(NULL); /* no cached mapping to grow into: the growth needs the system */
    rc_heap_inject_faults(NULL, RC_FAULT_MMAP | RC_FAULT_MALLOC, 0, true);
    CHECK_EQ(rc_list_append(list, rc_int_new(1)), RC_ENOMEM);
    CHECK_STR_CONTAINS(rc_last_error(), "out of memory");
    CHECK_EQ(rc_list_len(list), len);
    CHECK_EQ(rc_list_capacity(list), cap);
    CHECK(((const rc_list_body *)list)->items == items);
    while (rc_list_len(list) > 1000)
        failed += rc_list_delete(list, rc_list_len(list) - 1) != 0;
    CHECK_EQ(failed, 0);
    CHECK_EQ(rc_list_capacity(list), cap);
    CHECK(((const rc_list_body *)list)->items == items);
    rc_heap_inject_faults(NULL, 0, -1, false);
    CHECK_EQ(rc_list_append(list, rc_int_new(1)), 0);
    CHECK_EQ(rc_list_capacity(list), cap);
    CHECK_EQ(rc_list_delete(list, 1000), 0); /* the shrink happens now */
    CHECK_EQ(rc_list_len(list), 1000);
    CHECK_EQ(rc_list_capacity(list), (1000 + 1000 / 8 + 6) & ~(size_t)3);
    CHECK(!rc_large_is_mapped(rc_large_of(((const rc_list_body *)list)->items)));
    size_t bad = 0;
    for (size_t i = 0; i < 1000; i++)
        bad += rc_list_get(list, i) != item_for(i);
    CHECK_EQ(bad, 0);
    rc_decref(list);
}

int main(void)
{
    test_arguments();
    test_entry_points();
    test_append_during_sort();
    test_growth_to_mapped();
    test_growth_fails();
    return check_report();
}
