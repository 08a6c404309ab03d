/* test_gc_basic.c: the collector frees cycles and only cycles, with exact
 * counts, and keeps everything reachable from outside. */
#include "check.h"
#include "nodes.h"

static Node *pair(long v)
{
    Node *x = node_new(v), *y = node_new(v + 1);
    rc_assign(&x->a, y);
    rc_assign(&y->a, x);
    rc_decref(y);
    return x;
}

static void test_cycle_collected(void)
{
    counters_reset();
    rc_gc_collect(2);
    Node *x = pair(1);
    rc_decref(x);
    CHECK_EQ(node_destroyed, 0);
    CHECK_EQ(rc_gc_collect(2), 2);
    CHECK_EQ(node_destroyed, 2);
    CHECK_EQ(rc_gc_collect(2), 0);
}

static void test_reachable_survives(void)
{
    counters_reset();
    Node *x = pair(1);
    Node *holder = node_new(9);
    rc_assign(&holder->b, x);
    rc_decref(x);
    CHECK_EQ(rc_gc_collect(2), 0);
    CHECK_EQ(node_destroyed, 0);
    CHECK_EQ(rc_refcount(holder->b), 2);
    rc_decref(holder);
    CHECK_EQ(node_destroyed, 1);
    CHECK_EQ(rc_gc_collect(2), 2);
    CHECK_EQ(node_destroyed, 3);
}

static void test_self_cycle_and_young(void)
{
    counters_reset();
    Node *n = node_new(1);
    rc_assign(&n->a, n);
    rc_decref(n);
    CHECK_EQ(rc_gc_collect(0), 1);
    CHECK_EQ(node_destroyed, 1);
}

static void test_old_reference_keeps_young(void)
{
    counters_reset();
    Node *old = node_new(1);
    rc_gc_collect(2); /* old is now in generation 2 */
    Node *young = pair(10);
    rc_assign(&old->a, young);
    rc_decref(young);
    CHECK_EQ(rc_gc_collect(0), 0); /* referenced from an older generation */
    CHECK_EQ(rc_gc_collect(1), 0);
    CHECK_EQ(node_destroyed, 0);
    rc_assign(&old->a, NULL);
    CHECK_EQ(rc_gc_collect(2), 2);
    rc_decref(old);
    CHECK_EQ(node_destroyed, 3);
}

static void test_counts_and_generations(void)
{
    rc_gc_collect(2);
    size_t count[3];
    rc_gc_get_count(count);
    CHECK_EQ(count[0], 0);
    Node *a = node_new(1), *b = node_new(2), *c = node_new(3);
    rc_gc_get_count(count);
    CHECK_EQ(count[0], 3);
    rc_decref(c);
    rc_gc_get_count(count);
    CHECK_EQ(count[0], 2);
    rc_gc_collect(0);
    rc_gc_get_count(count);
    CHECK_EQ(count[0], 0);
    CHECK_EQ(count[1], 1);
    rc_gc_collect(1);
    rc_gc_get_count(count);
    CHECK_EQ(count[1], 0);
    CHECK_EQ(count[2], 1);
    rc_decref(a);
    rc_decref(b);
}

static long callback_log[16];
static size_t callback_len;

static void record(rc_gc_phase phase, const rc_gc_info *info, void *arg)
{
    (void)arg;
    if (callback_len + 3 <= 16) {
        callback_log[callback_len++] = phase;
        callback_log[callback_len++] = info->generation;
        callback_log[callback_len++] = (long)info->collected;
    }
}

static void test_callbacks(void)
{
    rc_gc_collect(2);
    callback_len = 0;
    CHECK_EQ(rc_gc_callback_add(record, NULL), 0);
    Node *x = pair(1);
    rc_decref(x);
    CHECK_EQ(rc_gc_collect(1), 2);
    CHECK_EQ(callback_len, 6);
    CHECK_EQ(callback_log[0], RC_GC_START);
    CHECK_EQ(callback_log[1], 1);
    CHECK_EQ(callback_log[3], RC_GC_STOP);
    CHECK_EQ(callback_log[4], 1);
    CHECK_EQ(callback_log[5], 2);
    CHECK_EQ(rc_gc_callback_remove(record, NULL), 0);
    CHECK_EQ(rc_gc_callback_remove(record, NULL), RC_ENOTFOUND);
}

static void test_debug_output(void)
{
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&text, &size);
    rc_gc_set_debug_output(out);
    rc_gc_set_debug(RC_GC_DEBUG_STATS | RC_GC_DEBUG_COLLECTABLE);
    Node *x = pair(1);
    rc_decref(x);
    CHECK_EQ(rc_gc_collect(2), 2);
    rc_gc_set_debug(0);
    rc_gc_set_debug_output(NULL);
    fclose(out);
    CHECK_STR_CONTAINS(text, "gc: collecting generation 2...\n");
    CHECK_STR_CONTAINS(text, "gc: objects in each generation: ");
    CHECK_STR_CONTAINS(text, "gc: objects in permanent generation: 0\n");
    CHECK_STR_CONTAINS(text, "gc: collectable <Node 0x");
    CHECK_STR_CONTAINS(text, "gc: done, 2 unreachable, 0 uncollectable, ");
    CHECK_STR_CONTAINS(text, "s elapsed\n");
    free(text);
}

static void test_saveall(void)
{
    counters_reset();
    rc_gc_set_debug(RC_GC_DEBUG_SAVEALL);
    Node *x = pair(1);
    rc_decref(x);
    CHECK_EQ(rc_gc_collect(2), 2);
    CHECK_EQ(rc_gc_garbage_len(), 2);
    CHECK_EQ(node_destroyed, 0);
    rc_gc_set_debug(0);
    Node *first = rc_gc_garbage_item(0);
    CHECK(first != NULL && rc_type_of(first) == &node_type);
    CHECK(rc_gc_garbage_item(2) == NULL);
    rc_gc_garbage_clear();
    CHECK_EQ(rc_gc_garbage_len(), 0);
    CHECK_EQ(rc_gc_collect(2), 2); /* back to an ordinary cycle */
    CHECK_EQ(node_destroyed, 2);
}

static void test_threshold_triggers(void)
{
    counters_reset();
    rc_gc_collect(2);
    rc_gc_set_threshold(100, 10, 10);
    rc_gc_stats before[3], after[3];
    rc_gc_get_stats(before);
    for (int i = 0; i < 100; i++) {
        Node *x = pair(i);
        rc_decref(x);
    }
    rc_gc_get_stats(after);
    /* the 101st birth passes threshold 100: one collection of generation 0,
     * which finds the 50 dead pairs born before it; the 99 births after it
     * stay under the threshold */
    CHECK_EQ(after[0].collections - before[0].collections, 1);
    CHECK_EQ(after[0].collected - before[0].collected, 100);
    rc_gc_set_threshold(2000, 10, 10);
    rc_gc_collect(2);
    CHECK_EQ(node_destroyed, 200);
    size_t t[3];
    rc_gc_get_threshold(t);
    CHECK_EQ(t[0], 2000);
    CHECK_EQ(rc_gc_collect(3), RC_EINVAL);
    CHECK_STR_CONTAINS(rc_last_error(), "invalid generation 3");
}

static void test_freeze(void)
{
    counters_reset();
    rc_gc_collect(2);
    Node *x = pair(1);
    rc_decref(x);
    rc_gc_freeze();
    CHECK_EQ(rc_gc_freeze_count(), 2);
    CHECK_EQ(rc_gc_collect(2), 0);
    rc_gc_unfreeze();
    CHECK_EQ(rc_gc_freeze_count(), 0);
    CHECK_EQ(rc_gc_collect(2), 2);
}

/* A garbage ring as deep as a long chain: marking, clearing and freeing it
 * must use no C recursion. */
static void test_deep_ring(void)
{
    enum { LENGTH = 2 * 1000 * 1000 };
    counters_reset();
    rc_gc_disable();
    Node *first = node_new(0), *last = first;
    for (long i = 1; i < LENGTH; i++) {
        Node *n = node_new(i);
        last->a = n; /* takes over the new reference */
        last = n;
    }
    last->a = rc_incref(first);
    rc_decref(first);
    CHECK_EQ(rc_gc_collect(2), LENGTH);
    CHECK_EQ(node_destroyed, LENGTH);
    rc_gc_enable();
}

int main(void)
{
    test_cycle_collected();
    test_reachable_survives();
    test_self_cycle_and_young();
    test_old_reference_keeps_young();
    test_counts_and_generations();
    test_callbacks();
    test_debug_output();
    test_saveall();
    test_threshold_triggers();
    test_freeze();
    test_deep_ring();
    return check_report();
}
