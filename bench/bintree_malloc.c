/* bintree_malloc.c: binary-trees (tree.h) on plain malloc/free, nodes freed
 * by a recursive free. run.sh runs it on glibc and with libmimalloc.so and
 * libjemalloc.so in LD_PRELOAD; the malloc in use names the result.
 * Usage: bintree_malloc [max depth (20)] [repetitions (3)]
 */
#include "bench_util.h"
#include "tree_malloc.h"

int main(int argc, char **argv)
{
    tree_ops ops = malloc_tree_ops();
    return bintree_main(&ops, argc, argv);
}
