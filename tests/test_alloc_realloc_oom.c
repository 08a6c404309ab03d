/* test_alloc_realloc_oom.c: what a request short of memory may run.
 * rc_malloc collects cycles once and retries, so a finalizer may run inside
 * it; rc_realloc of a block never collects, so no user code can reach the
 * block (or the structure holding it: a list's item array, a string
 * builder's buffer) while it moves. Each case arms one failing system
 * request next to a garbage cycle whose finalizer records that it ran.
 * (Before rc_realloc stopped collecting, a finalizer appending to the list
 * being grown freed its item array under the reallocation: UBSan stopped
 * the program in large.c.) */
#include "check.h"

#include <reclaim.h>
#include <string.h>

static int finalizer_runs;
static void *reached_list; /* what the finalizer appends to, if set */

typedef struct Cycle {
    void *self;
} Cycle;

static void cycle_traverse(void *self, rc_visit_fn visit, void *arg)
{
    visit(&((Cycle *)self)->self, arg);
}

static void cycle_finalize(void *self)
{
    (void)self;
    finalizer_runs++;
    if (reached_list) {
        void *item = rc_int_new(1000);
        CHECK_EQ(rc_list_append(reached_list, item), 0);
        rc_decref(item);
    }
}

static const rc_type cycle_type = {
    .name = "Cycle",
    .size = sizeof(Cycle),
    .traverse = cycle_traverse,
    .finalize = cycle_finalize,
};

/* A garbage cycle, and the next large-block request fails once. */
static void arm_with_garbage(void)
{
    finalizer_runs = 0;
    Cycle *c = rc_new(&cycle_type);
    CHECK(c != NULL);
    c->self = rc_incref(c);
    rc_decref(c);
    rc_heap_inject_faults(rc_heap_current(), RC_FAULT_MALLOC, 0, false);
}

static void disarm(void) { rc_heap_inject_faults(rc_heap_current(), 0, -1, false); }

static void test_malloc_collects(void)
{
    arm_with_garbage();
    char *b = rc_malloc(4096);
    disarm();
    CHECK(b != NULL); /* the retry after the collection succeeded */
    CHECK_EQ(finalizer_runs, 1);
    rc_free(b);
}

/* A large block resized in place, and a small one moved to a large one. */
static void realloc_does_not_collect(size_t from, size_t to)
{
    char *b = rc_malloc(from);
    memset(b, 'x', from);
    arm_with_garbage();
    CHECK(rc_realloc(b, to) == NULL);
    disarm();
    CHECK_EQ(finalizer_runs, 0);
    CHECK(rc_last_error()[0] != '\0');        /* a message says why */
    CHECK(b[0] == 'x' && b[from - 1] == 'x'); /* untouched */
    CHECK_EQ(rc_gc_collect(2), 1);            /* the garbage was waiting */
    CHECK_EQ(finalizer_runs, 1);
    rc_free(b);
}

static void test_realloc_does_not_collect(void)
{
    realloc_does_not_collect(4096, 1 << 20);
    realloc_does_not_collect(256, 4096);
}

/* A full list of at least min items grows by one while memory is short. */
static void list_growth(size_t min)
{
    void *list = rc_list_new(), *item = rc_int_new(7);
    while (rc_list_len(list) < min || rc_list_len(list) < rc_list_capacity(list))
        CHECK_EQ(rc_list_append(list, item), 0);
    size_t len = rc_list_len(list), cap = rc_list_capacity(list);
    reached_list = list;
    arm_with_garbage();
    CHECK_EQ(rc_list_append(list, item), RC_ENOMEM);
    disarm();
    CHECK_EQ(finalizer_runs, 0);
    CHECK_EQ(rc_list_len(list), len);
    CHECK_EQ(rc_list_capacity(list), cap);
    CHECK_EQ(rc_gc_collect(2), 1); /* the finalizer appends now: the list grows */
    CHECK_EQ(finalizer_runs, 1);
    CHECK_EQ(rc_list_len(list), len + 1);
    CHECK_EQ(rc_int_value(rc_list_get(list, len)), 1000);
    reached_list = NULL;
    rc_decref(item);
    rc_decref(list);
}

/* 64 items (512 bytes, a small block) move to a large block; 100 items
 * already are one, resized in place. */
static void test_list_growth(void)
{
    list_growth(64);
    list_growth(100);
}

static void test_strbuilder_growth(void)
{
    void *sb = rc_strbuilder_new();
    char piece[600];
    memset(piece, 'a', sizeof piece);
    CHECK_EQ(rc_strbuilder_append(sb, piece, sizeof piece), 0);
    size_t before = rc_strbuilder_len(sb);
    arm_with_garbage();
    int status = 0;
    size_t appended = 0;
    while (appended < 64 && (status = rc_strbuilder_append(sb, piece, sizeof piece)) == 0)
        appended++; /* until a growth meets the fault */
    disarm();
    CHECK_EQ(status, RC_ENOMEM);
    CHECK_EQ(finalizer_runs, 0);
    CHECK_EQ(rc_strbuilder_len(sb), before + appended * sizeof piece); /* nothing half-appended */
    CHECK_EQ(rc_gc_collect(2), 1);
    rc_decref(sb);
}

int main(void)
{
    rc_gc_set_threshold(1000000, 10, 10); /* only the collections the tests make */
    test_malloc_collects();
    test_realloc_does_not_collect();
    test_list_growth();
    test_strbuilder_growth();
    return check_report();
}
