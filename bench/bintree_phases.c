/* bintree_phases.c: where one big tree's time goes. Builds a tree of the
 * given depth bottom-up, walks it (tree_check) and frees it, once per
 * round, with malloc (whichever LD_PRELOAD gives) and with reclaim's nodes
 * (tree_reclaim.h: laid out, own traverse, mutable), and prints each
 * phase's time per node. Not run by run.sh: a tool for studying
 * binary-trees (docs/objects.md, "Release order"), whose large trees are
 * bound by memory, not instructions.
 * Usage: bintree_phases [depth (20)] [rounds (3)]
 * Prints: <impl> <kind> make <ns> check <ns> drop <ns> (ns per node) */
#include "tree_malloc.h"
#include "tree_reclaim.h"

static void phases(const tree_ops *ops, const char *kind, int depth, int rounds)
{
    double nodes = (double)tree_nodes(depth);
    for (int r = 0; r < rounds; r++) {
        uint64_t t0 = bench_now_ns();
        tree_node *tree = ops->make(depth);
        uint64_t t1 = bench_now_ns();
        if (tree_check(tree) != tree_nodes(depth))
            bench_fail("%s: the tree lost nodes", ops->impl);
        uint64_t t2 = bench_now_ns();
        tree_drop(ops, tree);
        uint64_t t3 = bench_now_ns();
        printf("%-9s %-9s make %6.2f check %6.2f drop %6.2f\n", ops->impl, kind,
               (double)(t1 - t0) / nodes, (double)(t2 - t1) / nodes, (double)(t3 - t2) / nodes);
    }
}

int main(int argc, char **argv)
{
    int depth = (int)bench_arg(argc, argv, 1, BINTREE_DEPTH);
    int rounds = (int)bench_arg(argc, argv, 2, 3);
    if (depth < 0 || depth > 26)
        bench_fail("depth must be 0..26");
    tree_ops malloc_ops = malloc_tree_ops();
    phases(&malloc_ops, "nodes", depth, rounds);
    phases(&reclaim_tree_ops, "laid-out", depth, rounds);
    phases(&reclaim_traverse_tree_ops, "traverse", depth, rounds);
    phases(&reclaim_mutable_tree_ops, "mutable", depth, rounds);
    return 0;
}
