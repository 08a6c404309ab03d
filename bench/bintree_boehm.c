/* bintree_boehm.c: binary-trees (tree.h) with Boehm GC: nodes come from
 * GC_MALLOC and are never freed; the collector runs at its defaults.
 * Usage: bintree_boehm [max depth (20)] [repetitions (3)]
 */
#include "bench_util.h"
#include "tree_boehm.h"

int main(int argc, char **argv)
{
    GC_INIT();
    return bintree_main(&boehm_tree_ops, argc, argv);
}
