/* bintree_reclaim.c: binary-trees (tree.h) with reclaim objects: nodes are
 * made by rc_new and a tree is freed by one rc_decref of its root, which
 * releases the children through traverse. The nodes are tracked and the
 * cycle collector runs at its defaults, as CPython's would.
 *
 * Three runs (tree_reclaim.h): "bintree", nodes as CPython's program makes
 * them (tuples made from their finished children, never tracked), their
 * references laid out for the library (rc_traverse_refs);
 * "bintree_traverse", the same nodes with the program's own traverse; and
 * "bintree_mutable", nodes made first and filled after, which stay
 * tracked for life.
 * Usage: bintree_reclaim [max depth (20)] [repetitions (3)] [kinds (3)]
 * kinds: 3 runs all three, 1 the tuple-like nodes ("bintree") only, as
 * run.sh's paired rounds do.
 */
#include "bench_util.h"
#include "tree_reclaim.h"

int main(int argc, char **argv)
{
    bintree_measure(&reclaim_tree_ops, "bintree", argc, argv);
    if (bench_arg(argc, argv, 3, 3) > 1) {
        bintree_measure(&reclaim_traverse_tree_ops, "bintree_traverse", argc, argv);
        bintree_measure(&reclaim_mutable_tree_ops, "bintree_mutable", argc, argv);
    }
    return 0;
}
