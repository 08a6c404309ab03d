/* bintree_reclaim.c: binary-trees (tree.h) with reclaim objects: nodes are
 * made by rc_new and a tree is freed by one rc_decref of its root, which
 * releases the children through traverse. The nodes are tracked and the
 * cycle collector runs at its defaults, as CPython's would.
 * Usage: bintree_reclaim [max depth (20)] [repetitions (3)]
 */
#include "bench_util.h"
#include "tree_reclaim.h"

int main(int argc, char **argv) { return bintree_main(&reclaim_tree_ops, argc, argv); }
