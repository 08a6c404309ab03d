/* memory_reclaim.c: resident bytes per node of a long-lived 4M-node tree
 * (tree.h, memory_main) of reclaim objects with a 2-pointer body, the growth
 * of rc_heap_stats' bytes_in_use per node, and the object header's size.
 * Usage: memory_reclaim [depth (21)]
 * Prints also: RESULT header_bytes reclaim <RC_HEADER_SIZE> bytes
 */
#include "bench_util.h"
#include "tree_reclaim.h"

int main(int argc, char **argv)
{
    bench_result("header_bytes", "reclaim", (double)RC_HEADER_SIZE, "bytes");
    return memory_main(&reclaim_tree_ops, argc, argv);
}
