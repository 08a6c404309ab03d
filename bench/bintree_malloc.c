/* bintree_malloc.c: binary-trees (tree.h) on plain malloc/free, nodes freed
 * by a recursive free. run.sh runs it on glibc and with libmimalloc.so and
 * libjemalloc.so in LD_PRELOAD; the malloc in use names the result.
 * Two runs (tree_malloc.h): "bintree", the program's 16-byte nodes, and
 * "bintree_padded", nodes in 32-byte blocks (a reclaim object's footprint).
 * Usage: bintree_malloc [max depth (20)] [repetitions (3)] [layouts (2)]
 * layouts: 2 runs both, 1 the 16-byte nodes only.
 */
#include "bench_util.h"
#include "tree_malloc.h"

int main(int argc, char **argv)
{
    tree_ops ops = malloc_tree_ops();
    bintree_measure(&ops, "bintree", argc, argv);
    if (bench_arg(argc, argv, 3, 2) > 1) {
        tree_ops padded = padded_tree_ops();
        bintree_measure(&padded, "bintree_padded", argc, argv);
    }
    return 0;
}
