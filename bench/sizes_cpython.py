"""sizes_cpython.py: sys.getsizeof of the objects of sizes_reclaim.c: an
int (1000), a 10-character str, an empty list, and dicts of 1,000 int keys
and of 1,000 str keys, each made by 1,000 insertions.
Prints: RESULT sizes_<int|str10|list_empty|dict1000_int|dict1000_str> cpython <bytes> bytes
"""
import sys

import bench_util as bu


def dict_of(keys):
    d = {}
    for k in keys:
        d[k] = k
    return d


def main():
    objs = {
        "sizes_int": int("1000"),
        "sizes_str10": "".join(["abcde", "fghij"]),
        "sizes_list_empty": [],
        "sizes_dict1000_int": dict_of(range(1000)),
        "sizes_dict1000_str": dict_of(f"key{i}" for i in range(1000)),
    }
    for name, obj in objs.items():
        bu.result(name, sys.getsizeof(obj), "bytes")


if __name__ == "__main__":
    main()
