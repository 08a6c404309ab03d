/* tree_boehm.h: trees of GC_MALLOC'd nodes built bottom-up (children
 * first, as the Benchmarks Game's trees are), never freed: Boehm's
 * collector finds the dead ones. Call GC_INIT() before the first tree. */
#ifndef BENCH_TREE_BOEHM_H
#define BENCH_TREE_BOEHM_H

#include "tree.h"

#include <gc.h>

static tree_node *boehm_make(int depth)
{
    tree_node *left = NULL, *right = NULL;
    if (depth > 0) {
        left = boehm_make(depth - 1);
        right = boehm_make(depth - 1);
    }
    tree_node *node = GC_MALLOC(sizeof *node);
    if (!node)
        bench_fail("out of memory");
    node->left = left;
    node->right = right;
    return node;
}

/* Bytes of the heap not free: live objects plus garbage not yet swept. */
static size_t boehm_heap_bytes(void) { return GC_get_heap_size() - GC_get_free_bytes(); }

static const tree_ops boehm_tree_ops = {"boehm", boehm_make, NULL, boehm_heap_bytes};

#endif
