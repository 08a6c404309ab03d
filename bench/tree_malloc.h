/* tree_malloc.h: trees of malloc'd nodes built bottom-up (children first,
 * then the node made from them) and freed by a recursive free, as the
 * Benchmarks Game's C program (binarytrees-gcc-1: BottomUpTree, DeleteTree)
 * does. Whose malloc is up to LD_PRELOAD.
 *
 * Two node layouts: the program's own (a 16-byte block of two pointers),
 * and padded (a 32-byte block, the pointers in its second half), the
 * footprint of a reclaim object (a 16-byte header before a 16-byte body).
 * The padded run tells what the header's memory alone costs a malloc:
 * twice the bytes a tree touches, so a tree falls out of a cache level at
 * half the depth. Each layout is its own pair of functions (one macro), so
 * that neither pays for the other's parameters. */
#ifndef BENCH_TREE_MALLOC_H
#define BENCH_TREE_MALLOC_H

#include "tree.h"

/* Defines NAME_make and NAME_drop for nodes at byte OFFSET of BYTES-byte
 * blocks. A macro, not an always_inline body taking the layout and the
 * recursing function: GCC 12 compiles that form differently (it inlines
 * the drop's recursion four levels deep, not three), where this one gives,
 * byte for byte, the code of the functions written out by hand, as a peer
 * must run. */
#define DEFINE_MALLOC_TREE(NAME, BYTES, OFFSET)                                                    \
    static tree_node *NAME##_make(int depth)                                                       \
    {                                                                                              \
        tree_node *left = NULL, *right = NULL;                                                     \
        if (depth > 0) {                                                                           \
            left = NAME##_make(depth - 1);                                                         \
            right = NAME##_make(depth - 1);                                                        \
        }                                                                                          \
        char *block = malloc(BYTES);                                                               \
        if (!block)                                                                                \
            bench_fail("out of memory");                                                           \
        tree_node *node = (tree_node *)(block + (OFFSET));                                         \
        node->left = left;                                                                         \
        node->right = right;                                                                       \
        return node;                                                                               \
    }                                                                                              \
    static void NAME##_drop(tree_node *tree)                                                       \
    {                                                                                              \
        if (tree->left) {                                                                          \
            NAME##_drop(tree->left);                                                               \
            NAME##_drop(tree->right);                                                              \
        }                                                                                          \
        free((char *)tree - (OFFSET));                                                             \
    }

DEFINE_MALLOC_TREE(malloc, sizeof(tree_node), 0)
DEFINE_MALLOC_TREE(padded, 2 * sizeof(tree_node), sizeof(tree_node))

static inline tree_ops malloc_tree_ops(void)
{
    return (tree_ops){bench_malloc_name(), malloc_make, malloc_drop, NULL};
}

/* The nodes padded to a reclaim object's footprint. */
static inline tree_ops padded_tree_ops(void)
{
    return (tree_ops){bench_malloc_name(), padded_make, padded_drop, NULL};
}

#endif
