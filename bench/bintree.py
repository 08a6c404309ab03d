"""bintree.py: binary-trees (the algorithm of tree.h) on CPython.

Nodes are tuples (left, right), a leaf is (None, None): the approach of the
Benchmarks Game's Python 3 programs (make_tree returning tuples), run in one
process. Reference counting frees each tree when its last reference goes;
the cycle collector runs at its defaults. The figure is the run's time per
node allocated; run at depth 17 (depth 20 takes minutes).
Usage: python3 bintree.py [max depth (17)] [repetitions (1)]
Prints: RESULT bintree cpython <ns> ns/node
"""
import bench_util as bu

MIN_DEPTH = 4


def make_tree(depth):
    if depth <= 0:
        return (None, None)
    depth -= 1
    return (make_tree(depth), make_tree(depth))


def check_tree(node):
    left, right = node
    if left is None:
        return 1
    return 1 + check_tree(left) + check_tree(right)


def nodes_of(depth):
    return (2 << depth) - 1


def cycle(depth):
    nodes = check_tree(make_tree(depth))
    if nodes != nodes_of(depth):
        bu.fail(f"a tree of depth {depth} has {nodes} nodes")
    return nodes


def run(max_depth):
    nodes = cycle(max_depth + 1)
    long_lived = make_tree(max_depth)
    nodes += nodes_of(max_depth)
    for depth in range(MIN_DEPTH, max_depth + 1, 2):
        for _ in range(1 << (max_depth - depth + MIN_DEPTH)):
            nodes += cycle(depth)
    if check_tree(long_lived) != nodes_of(max_depth):
        bu.fail("the long-lived tree lost nodes")
    return nodes


def once(max_depth):
    start = bu.now_ns()
    nodes = run(max_depth)
    return (bu.now_ns() - start) / nodes


def main():
    depth = bu.arg(1, 17)
    reps = bu.arg(2, 1)
    print(f"# bintree cpython: depth {depth}, median of {reps}")
    bu.result("bintree", bu.median_of(reps, lambda: once(depth)), "ns/node")


if __name__ == "__main__":
    main()
