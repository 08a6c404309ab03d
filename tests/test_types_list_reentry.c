/* test_types_list_reentry.c: a list whose item array is being reallocated
 * when memory runs short. The allocator then collects cycles, and a
 * finalizer run by that collection may reach the list: its changes must be
 * refused (RC_ESTATE), never applied to the block being reallocated, which
 * it would free under the reallocation (a use after free that ASan shows
 * if the guard is removed). The outer append then completes. */
#include "check.h"

#include <reclaim.h>

static void *shared_list;
static int finalizer_append_status = 1;
static int finalizer_clear_len = -1;
static int finalizer_runs;
static char finalizer_message[256];

typedef struct Appender {
    void *self; /* a cycle: only the collector frees it */
} Appender;

static void appender_traverse(void *self, rc_visit_fn visit, void *arg)
{
    visit(&((Appender *)self)->self, arg);
}

static void appender_finalize(void *self)
{
    (void)self;
    finalizer_runs++;
    void *item = rc_int_new(1000);
    finalizer_append_status = rc_list_append(shared_list, item);
    snprintf(finalizer_message, sizeof finalizer_message, "%s", rc_last_error());
    rc_decref(item);
    rc_list_clear(shared_list); /* refused too: the list keeps its items */
    finalizer_clear_len = (int)rc_list_len(shared_list);
}

static const rc_type appender_type = {
    .name = "Appender",
    .size = sizeof(Appender),
    .traverse = appender_traverse,
    .finalize = appender_finalize,
};

static void make_garbage_cycle(void)
{
    Appender *a = rc_new(&appender_type);
    CHECK(a != NULL);
    a->self = rc_incref(a);
    rc_decref(a);
}

int main(void)
{
    rc_gc_set_threshold(1000000, 10, 10); /* only the out-of-memory collection */
    shared_list = rc_list_new();
    void *item = rc_int_new(7);
    while (rc_list_len(shared_list) < 100) /* a large item array, at capacity */
        CHECK_EQ(rc_list_append(shared_list, item), 0);
    while (rc_list_len(shared_list) < rc_list_capacity(shared_list))
        CHECK_EQ(rc_list_append(shared_list, item), 0);
    size_t len = rc_list_len(shared_list);
    make_garbage_cycle();

    /* the growth's system reallocation fails once: collect, retry */
    rc_heap_inject_faults(rc_heap_current(), RC_FAULT_MALLOC, 0, false);
    CHECK_EQ(rc_list_append(shared_list, item), 0);
    rc_heap_inject_faults(rc_heap_current(), 0, -1, false);

    CHECK_EQ(finalizer_runs, 1);
    CHECK_EQ(finalizer_append_status, RC_ESTATE);
    CHECK_STR_CONTAINS(finalizer_message, "rc_list_append: the list is being resized");
    CHECK_EQ(finalizer_clear_len, (int)len);
    CHECK_EQ(rc_list_len(shared_list), len + 1);
    CHECK(rc_list_get(shared_list, len) == item);

    /* afterwards the list changes normally again */
    CHECK_EQ(rc_list_append(shared_list, item), 0);
    void *popped = rc_list_pop(shared_list, 0);
    CHECK(popped == item);
    rc_decref(popped);
    rc_decref(item);
    rc_decref(shared_list);
    return check_report();
}
