/* memory_malloc.c: resident bytes per node of a long-lived 4M-node tree
 * (tree.h, memory_main) of malloc'd 2-pointer nodes. run.sh runs it on
 * glibc and under LD_PRELOAD of mimalloc and jemalloc.
 * Usage: memory_malloc [depth (21)]
 */
#include "bench_util.h"
#include "tree_malloc.h"

int main(int argc, char **argv)
{
    tree_ops ops = malloc_tree_ops();
    return memory_main(&ops, argc, argv);
}
