"""memory.py: CPython's resident bytes per node of a long-lived complete
binary tree of depth 21 (4,194,303 nodes, as memory_main in tree.h).

A node is an instance of a class with __slots__ = ('left', 'right'): two
references and no __dict__. The figure is the growth of the resident set
(/proc/self/statm) across building the tree, per node, and of its anonymous
part (RssAnon: without program text and libraries), one node being made
first (tree.h's memory_main does the same); tracemalloc is not used (it
would add its own memory). The header bytes per tracked object are
sys.getsizeof(node) less its two slots (GC header plus object header).
Usage: python3 memory.py [depth (21)]
Prints: RESULT memory_rss cpython <bytes> bytes/node
        RESULT memory_anon cpython <bytes> bytes/node
        RESULT header_bytes cpython <bytes> bytes
"""
import struct
import sys

import bench_util as bu


class Node:
    __slots__ = ("left", "right")


def make_tree(depth):
    node = Node()
    if depth > 0:
        node.left = make_tree(depth - 1)
        node.right = make_tree(depth - 1)
    return node


def main():
    depth = bu.arg(1, 21)
    nodes = (2 << depth) - 1
    pointer = struct.calcsize("P")
    bu.result("header_bytes", sys.getsizeof(Node()) - 2 * pointer, "bytes")
    first = make_tree(0)
    before, anon_before = bu.rss_bytes(), bu.anon_bytes()
    tree = make_tree(depth)
    after, anon_after = bu.rss_bytes(), bu.anon_bytes()
    print(f"# memory cpython: {nodes} nodes of {2 * pointer} pointer bytes")
    bu.result("memory_rss", (after - before) / nodes, "bytes/node")
    bu.result("memory_anon", (anon_after - anon_before) / nodes, "bytes/node")
    del tree, first


if __name__ == "__main__":
    main()
