/* tree_malloc.h: trees of malloc'd nodes built bottom-up (children first,
 * then the node made from them) and freed by a recursive free, as the
 * Benchmarks Game's C program (binarytrees-gcc-1: BottomUpTree, DeleteTree)
 * does. Whose malloc is up to LD_PRELOAD. */
#ifndef BENCH_TREE_MALLOC_H
#define BENCH_TREE_MALLOC_H

#include "tree.h"

static tree_node *malloc_make(int depth)
{
    tree_node *left = NULL, *right = NULL;
    if (depth > 0) {
        left = malloc_make(depth - 1);
        right = malloc_make(depth - 1);
    }
    tree_node *node = malloc(sizeof *node);
    if (!node)
        bench_fail("out of memory");
    node->left = left;
    node->right = right;
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
