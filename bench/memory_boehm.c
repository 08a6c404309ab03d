/* memory_boehm.c: resident bytes per node of a long-lived 4M-node tree
 * (tree.h, memory_main) of GC_MALLOC'd 2-pointer nodes, and the growth of
 * Boehm's heap minus its free bytes per node.
 * Usage: memory_boehm [depth (21)]
 */
#include "bench_util.h"
#include "tree_boehm.h"

int main(int argc, char **argv)
{
    GC_INIT();
    return memory_main(&boehm_tree_ops, argc, argv);
}
