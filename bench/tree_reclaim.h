/* tree_reclaim.h: trees of reclaim objects. A node is an object of a type
 * whose traverse visits its two child slots, so it is tracked by the cycle
 * collector (at its defaults). A tree is freed by one rc_decref of its root:
 * each dying node releases its children through traverse. */
#ifndef BENCH_TREE_RECLAIM_H
#define BENCH_TREE_RECLAIM_H

#include "tree.h"

#include <reclaim.h>

static void node_traverse(void *self, rc_visit_fn visit, void *arg)
{
    tree_node *node = self;
    visit(&node->left, arg);
    visit(&node->right, arg);
}

static const rc_type node_type = {
    .name = "Node",
    .size = 2 * sizeof(void *),
    .traverse = node_traverse,
};

/* A new node owns the references its children were made with. */
static tree_node *reclaim_make(int depth)
{
    tree_node *node = rc_new(&node_type);
    if (!node)
        bench_fail("rc_new: %s", rc_last_error());
    if (depth > 0) {
        node->left = reclaim_make(depth - 1);
        node->right = reclaim_make(depth - 1);
    }
    return node;
}

static void reclaim_drop(tree_node *tree) { rc_decref(tree); }

static size_t reclaim_heap_bytes(void)
{
    rc_alloc_stats stats = {.struct_size = sizeof stats};
    if (rc_heap_stats(rc_heap_current(), &stats) != RC_OK)
        bench_fail("rc_heap_stats: %s", rc_last_error());
    return stats.bytes_in_use;
}

static const tree_ops reclaim_tree_ops = {"reclaim", reclaim_make, reclaim_drop,
                                          reclaim_heap_bytes};

#endif
