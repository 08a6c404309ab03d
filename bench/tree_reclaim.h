/* tree_reclaim.h: trees of reclaim objects. A node is an object of a type
 * with traverse over its two child slots, so the cycle collector (at its
 * defaults) tracks it whenever it may be part of a cycle. A tree is freed
 * by one rc_decref of its root: each dying node releases its children.
 * Three kinds of node: tuple-like with its references laid out for the
 * library (reclaim_tree_ops, the default), the same with the program's own
 * traverse (reclaim_traverse_tree_ops), and mutable
 * (reclaim_mutable_tree_ops); see their types. */
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

/* A node as CPython's binary-trees makes it, a tuple (left, right): its
 * references are set once, when it is made from its finished children
 * (RC_TYPE_IMMUTABLE_REFS), so it is never tracked (children first, none
 * tracked), as CPython 3.15 makes such tuples. Its two references lead its
 * body (rc_traverse_refs), so a death releases them inline. */
static const rc_type node_type = {
    .name = "Node",
    .size = 2 * sizeof(void *),
    .traverse = rc_traverse_refs,
    .refs = 2,
    .flags = RC_TYPE_IMMUTABLE_REFS,
};

/* The same node with the program's own traverse: the library calls it at
 * every death, and once to settle every birth. */
static const rc_type traverse_node_type = {
    .name = "TraverseNode",
    .size = 2 * sizeof(void *),
    .traverse = node_traverse,
    .flags = RC_TYPE_IMMUTABLE_REFS,
};

/* A node as a mutable object: made first, its children stored after, so
 * the collector tracks it for as long as it lives. */
static const rc_type mutable_node_type = {
    .name = "MutableNode",
    .size = 2 * sizeof(void *),
    .traverse = node_traverse,
};

static tree_node *new_node(const rc_type *type)
{
    tree_node *node = rc_new(type);
    if (!node)
        bench_fail("rc_new: %s", rc_last_error());
    return node;
}

/* A new node owns the references its children were made with. */
static inline tree_node *reclaim_make_of(const rc_type *type, int depth)
{
    tree_node *left = NULL, *right = NULL;
    if (depth > 0) {
        left = reclaim_make_of(type, depth - 1);
        right = reclaim_make_of(type, depth - 1);
    }
    tree_node *node = new_node(type);
    node->left = left;
    node->right = right;
    return node;
}

static tree_node *reclaim_make(int depth) { return reclaim_make_of(&node_type, depth); }
static tree_node *reclaim_make_traverse(int depth)
{
    return reclaim_make_of(&traverse_node_type, depth);
}

static tree_node *reclaim_make_mutable(int depth)
{
    tree_node *node = new_node(&mutable_node_type);
    if (depth > 0) {
        node->left = reclaim_make_mutable(depth - 1);
        node->right = reclaim_make_mutable(depth - 1);
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
static const tree_ops reclaim_traverse_tree_ops = {"reclaim", reclaim_make_traverse, reclaim_drop,
                                                   reclaim_heap_bytes};
static const tree_ops reclaim_mutable_tree_ops = {"reclaim", reclaim_make_mutable, reclaim_drop,
                                                  reclaim_heap_bytes};

#endif
