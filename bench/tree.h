/* tree.h: the binary trees of 2-pointer nodes that bintree_* and memory_*
 * build, and the two drivers they share. Each implementation supplies a
 * tree_ops (tree_malloc.h, tree_boehm.h, tree_reclaim.h): how to make a
 * complete tree and how to free one.
 *
 * bintree_main is the Benchmarks Game binary-trees algorithm: a stretch tree
 * of depth max+1 is built, checked and freed; a long-lived tree of depth max
 * is built; then for each depth d = 4, 6, .., max, 2^(max-d+4) trees of
 * depth d are built, checked and freed; finally the long-lived tree is
 * checked and freed. "check" walks a tree and counts its nodes; every count
 * is compared with 2^(d+1)-1. The figure is the run's time divided by the
 * nodes allocated (median of the repetitions).
 *
 * memory_main builds one long-lived complete tree (depth 21: 4,194,303
 * nodes) and reports the growth per node of the resident set and of its
 * anonymous part (the heap's pages, without program text and libraries
 * first run while the tree grows), and where the allocator can tell, the
 * growth of its bytes in use per node. One node is made first and kept, so
 * that no allocator's one-time set-up (a heap's state, a thread's cache)
 * counts as the tree's.
 */
#ifndef BENCH_TREE_H
#define BENCH_TREE_H

#include "bench_util.h"

#define BINTREE_MIN_DEPTH 4
#define BINTREE_DEPTH     20
#define BINTREE_REPS      3
#define MEMORY_DEPTH      21

/* A node: two pointers. A leaf has two NULL children. */
typedef struct tree_node {
    struct tree_node *left, *right;
} tree_node;

typedef struct tree_ops {
    const char *impl;              /* the name in RESULT lines */
    tree_node *(*make)(int depth); /* a complete tree; depth 0: a leaf */
    void (*drop)(tree_node *tree); /* frees a tree; NULL: a collector does */
    size_t (*heap_bytes)(void);    /* allocator's bytes in use; NULL: unknown */
} tree_ops;

/* Nodes of a complete tree of depth d. */
static inline long tree_nodes(int depth) { return (2L << depth) - 1; }

/* Nodes reachable from tree (the Benchmarks Game's check). */
static inline long tree_check(const tree_node *tree)
{
    if (!tree->left)
        return 1;
    return 1 + tree_check(tree->left) + tree_check(tree->right);
}

static inline void tree_drop(const tree_ops *ops, tree_node *tree)
{
    if (ops->drop)
        ops->drop(tree);
}

/* Builds, checks and frees one tree of depth d; returns its nodes. */
static inline long tree_cycle(const tree_ops *ops, int depth)
{
    tree_node *tree = ops->make(depth);
    long nodes = tree_check(tree);
    if (nodes != tree_nodes(depth))
        bench_fail("%s: a tree of depth %d has %ld nodes", ops->impl, depth, nodes);
    tree_drop(ops, tree);
    return nodes;
}

/* One Benchmarks Game run at max depth; returns the nodes allocated. */
static inline long bintree_run(const tree_ops *ops, int max_depth)
{
    long nodes = tree_cycle(ops, max_depth + 1);
    tree_node *long_lived = ops->make(max_depth);
    nodes += tree_nodes(max_depth);
    for (int d = BINTREE_MIN_DEPTH; d <= max_depth; d += 2) {
        long iterations = 1L << (max_depth - d + BINTREE_MIN_DEPTH);
        for (long i = 0; i < iterations; i++)
            nodes += tree_cycle(ops, d);
    }
    if (tree_check(long_lived) != tree_nodes(max_depth))
        bench_fail("%s: the long-lived tree lost nodes", ops->impl);
    tree_drop(ops, long_lived);
    return nodes;
}

typedef struct bintree_job {
    const tree_ops *ops;
    int depth;
} bintree_job;

static inline double bintree_once(void *ctx)
{
    const bintree_job *job = ctx;
    uint64_t start = bench_now_ns();
    long nodes = bintree_run(job->ops, job->depth);
    return (double)(bench_now_ns() - start) / (double)nodes;
}

/* Runs binary-trees with ops and prints RESULT <workload> <impl> <ns> ns/node.
 * Arguments: [max depth (20)] [repetitions (3)] */
static inline void bintree_measure(const tree_ops *ops, const char *workload, int argc, char **argv)
{
    long depth = bench_arg(argc, argv, 1, BINTREE_DEPTH);
    int reps = (int)bench_arg(argc, argv, 2, BINTREE_REPS);
    if (depth < BINTREE_MIN_DEPTH + 2 || depth > 30)
        bench_fail("depth must be %d..30", BINTREE_MIN_DEPTH + 2);
    bintree_job job = {ops, (int)depth};
    printf("# %s %s: depth %ld, median of %d\n", workload, ops->impl, depth, reps);
    bench_result(workload, ops->impl, bench_median_of(reps, bintree_once, &job), "ns/node");
}

/* Usage: <program> [max depth (20)] [repetitions (3)]
 * Prints: RESULT bintree <impl> <ns> ns/node */
static inline int bintree_main(const tree_ops *ops, int argc, char **argv)
{
    bintree_measure(ops, "bintree", argc, argv);
    return 0;
}

/* Usage: <program> [depth (21)]
 * Prints: RESULT memory_rss <impl> <bytes> bytes/node,
 *         RESULT memory_anon <impl> <bytes> bytes/node, and where the
 * allocator counts its bytes, RESULT memory_heap <impl> <bytes> bytes/node */
static inline int memory_main(const tree_ops *ops, int argc, char **argv)
{
    long depth = bench_arg(argc, argv, 1, MEMORY_DEPTH);
    if (depth > 30)
        bench_fail("depth must be at most 30");
    double nodes = (double)tree_nodes((int)depth);
    tree_node *first = ops->make(0);
    size_t heap_before = ops->heap_bytes ? ops->heap_bytes() : 0;
    size_t rss_before = bench_rss_bytes(), anon_before = bench_anon_bytes();
    tree_node *tree = ops->make((int)depth);
    size_t rss_after = bench_rss_bytes(), anon_after = bench_anon_bytes();
    size_t heap_after = ops->heap_bytes ? ops->heap_bytes() : 0;
    if (tree_check(tree) != tree_nodes((int)depth))
        bench_fail("%s: the tree lost nodes", ops->impl);
    printf("# memory %s: %.0f nodes of %zu pointer bytes\n", ops->impl, nodes, sizeof(tree_node));
    bench_result("memory_rss", ops->impl, (double)(rss_after - rss_before) / nodes, "bytes/node");
    bench_result("memory_anon", ops->impl, (double)(anon_after - anon_before) / nodes,
                 "bytes/node");
    if (ops->heap_bytes)
        bench_result("memory_heap", ops->impl, (double)(heap_after - heap_before) / nodes,
                     "bytes/node");
    tree_drop(ops, tree);
    tree_drop(ops, first);
    return 0;
}

#endif
