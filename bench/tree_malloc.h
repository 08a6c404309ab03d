/* tree_malloc.h: trees of malloc'd nodes, freed by a recursive free (the
 * Benchmarks Game's C programs). Whose malloc is up to LD_PRELOAD. */
#ifndef BENCH_TREE_MALLOC_H
#define BENCH_TREE_MALLOC_H

#include "tree.h"

static tree_node *malloc_make(int depth)
{
    tree_node *node = malloc(sizeof *node);
    if (!node)
        bench_fail("out of memory");
    node->left = depth > 0 ? malloc_make(depth - 1) : NULL;
    node->right = depth > 0 ? malloc_make(depth - 1) : NULL;
    return node;
}

static void malloc_drop(tree_node *tree)
{
    if (tree->left) {
        malloc_drop(tree->left);
        malloc_drop(tree->right);
    }
    free(tree);
}

static inline tree_ops malloc_tree_ops(void)
{
    return (tree_ops){bench_malloc_name(), malloc_make, malloc_drop, NULL};
}

#endif
