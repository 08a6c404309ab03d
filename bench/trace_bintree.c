/* trace_bintree.c: what tracing costs binary-trees (tree.h, reclaim
 * objects as in bintree_reclaim.c: its mutable nodes, which stay tracked,
 * the workload these figures were first measured on), in time and in the
 * tracer's memory.
 *
 * Time: the same run with tracing off, at 1 frame, and at 16 frames found
 * by the checked walk (the default, RECLAIM_TRACE_UNWIND=cfi), by libunwind
 * and by frame pointers (=fp; this program is built with
 * -fno-omit-frame-pointer so that the walk sees its frames; trace_bintree_nofp
 * is the same program built without, where only the first two are right),
 * each on a fresh heap, the modes interleaved round by round so that a change
 * of machine load touches them alike; the median of the rounds per mode. The
 * figure is ns per node; run.sh prints the ratios to "off".
 *
 * Memory: a long-lived tree of depth 21 (4,194,303 objects) built while
 * tracing at 1 and at 16 frames: the tracer's overhead divided by the
 * traced blocks (side tables, plus the few distinct tracebacks: at 16
 * frames the recursion makes one per depth).
 *
 * Frames: the cost of each frame beyond the first, by each walk: rc_malloc +
 * rc_free at the bottom of a recursion 40 deep, at 1 frame and at 16,
 * (t16 - t1) / 15.
 *
 * Usage: trace_bintree [max depth (21)] [rounds (3)] [what (o1wfmc): a string
 *        of o (off), 1, w (16, the checked walk), l (16, libunwind), f (16,
 *        frame pointers), m (memory), c (cost per frame)]
 * Prints: RESULT trace_bintree_off|_1|_16|_16lu|_16fp reclaim <ns> ns/node,
 *         RESULT trace_bytes_1|_16 reclaim <bytes> bytes/block,
 *         RESULT trace_frame_cfi|_lu|_fp reclaim <ns> ns/frame
 * (the workload names get the suffix _nofp in trace_bintree_nofp).
 */
#include "bench_util.h"
#include "tree_reclaim.h"

/* "_nofp" in the program built without frame pointers (bench/CMakeLists.txt) */
#ifndef TRACE_BINTREE_SUFFIX
#define TRACE_BINTREE_SUFFIX ""
#endif

/* A RESULT line, the workload named with this build's suffix. */
static void result(const char *workload, double value, const char *unit)
{
    char name[64];
    snprintf(name, sizeof name, "%s%s", workload, TRACE_BINTREE_SUFFIX);
    bench_result(name, "reclaim", value, unit);
}

typedef struct mode {
    char key;
    const char *workload;
    unsigned nframes; /* 0: off */
    const char *unwind;
} mode;

static const mode modes[] = {
    {'o', "trace_bintree_off", 0, "cfi"},  {'1', "trace_bintree_1", 1, "cfi"},
    {'w', "trace_bintree_16", 16, "cfi"},  {'l', "trace_bintree_16lu", 16, "libunwind"},
    {'f', "trace_bintree_16fp", 16, "fp"},
};
enum { MODES = sizeof modes / sizeof modes[0] };

/* A fresh heap, current, tracing as m says (the unwinder is chosen from the
 * environment when a heap is made). */
static rc_heap *heap_for(const mode *m)
{
    setenv("RECLAIM_TRACE_UNWIND", m->unwind, 1);
    rc_heap *heap = rc_heap_new();
    if (!heap)
        bench_fail("rc_heap_new: %s", rc_last_error());
    rc_heap_use(heap);
    if (m->nframes && rc_trace_start(m->nframes) != 0)
        bench_fail("rc_trace_start: %s", rc_last_error());
    return heap;
}

static void heap_done(rc_heap *heap)
{
    rc_heap_use(NULL);
    rc_heap_destroy(heap);
}

static double time_one(const mode *m, int depth)
{
    rc_heap *heap = heap_for(m);
    uint64_t start = bench_now_ns();
    long nodes = bintree_run(&reclaim_mutable_tree_ops, depth);
    double ns = (double)(bench_now_ns() - start) / (double)nodes;
    if (m->nframes) {
        size_t current = 0;
        rc_trace_get_memory(&current, NULL);
        if (current != 0 || rc_trace_untraced_blocks() != 0)
            bench_fail("%s: %zu bytes still traced, %zu untraced", m->workload, current,
                       rc_trace_untraced_blocks());
    }
    heap_done(heap);
    return ns;
}

static void bytes_per_block(unsigned nframes, const char *workload)
{
    mode m = {'-', workload, nframes, "cfi"};
    rc_heap *heap = heap_for(&m);
    tree_node *tree = reclaim_make_mutable(MEMORY_DEPTH);
    size_t current = 0;
    rc_trace_get_memory(&current, NULL);
    double blocks = (double)tree_nodes(MEMORY_DEPTH);
    if (current != (size_t)blocks * (16 + 2 * sizeof(void *)))
        bench_fail("%s: %zu bytes traced for %.0f nodes", workload, current, blocks);
    printf("# %s: %zu tracer bytes for %.0f blocks\n", workload, rc_trace_overhead(), blocks);
    result(workload, (double)rc_trace_overhead() / blocks, "bytes/block");
    reclaim_drop(tree);
    heap_done(heap);
}

enum { FRAME_DEPTH = 40, FRAME_OPS = 200000 };

/* rc_malloc + rc_free FRAME_OPS times at the bottom of a recursion of
 * depth calls; returns ns per pair. */
__attribute__((noinline)) static double alloc_at_depth(int depth)
{
    if (depth > 0) {
        double ns = alloc_at_depth(depth - 1);
        __asm__ volatile("" ::: "memory"); /* a real frame, not a tail call */
        return ns;
    }
    void *anchor = rc_malloc(16); /* the pool never empties */
    uint64_t start = bench_now_ns();
    for (int i = 0; i < FRAME_OPS; i++)
        rc_free(rc_malloc(16));
    double ns = (double)(bench_now_ns() - start) / FRAME_OPS;
    rc_free(anchor);
    return ns;
}

static void cost_per_frame(const char *unwind, const char *workload, int rounds)
{
    double figures[2][BENCH_MAX_REPS];
    for (int r = 0; r < rounds; r++) {
        for (int i = 0; i < 2; i++) {
            mode m = {'-', workload, i ? 16 : 1, unwind};
            rc_heap *heap = heap_for(&m);
            figures[i][r] = alloc_at_depth(FRAME_DEPTH);
            heap_done(heap);
        }
    }
    double t1 = bench_median(figures[0], rounds), t16 = bench_median(figures[1], rounds);
    printf("# %s: %.1f ns a pair at 1 frame, %.1f at 16\n", workload, t1, t16);
    result(workload, (t16 - t1) / 15, "ns/frame");
}

int main(int argc, char **argv)
{
    int depth = (int)bench_arg(argc, argv, 1, 21);
    int rounds = (int)bench_arg(argc, argv, 2, 3);
    const char *which = argc > 3 ? argv[3] : "o1wfmc";
    if (depth < BINTREE_MIN_DEPTH + 2 || depth > 30 || rounds > BENCH_MAX_REPS)
        bench_fail("depth must be %d..30, rounds at most %d", BINTREE_MIN_DEPTH + 2,
                   BENCH_MAX_REPS);
    double figures[MODES][BENCH_MAX_REPS];
    printf("# trace_bintree: depth %d, median of %d rounds, modes %s\n", depth, rounds, which);
    for (int r = 0; r < rounds; r++)
        for (int i = 0; i < MODES; i++)
            if (strchr(which, modes[i].key))
                figures[i][r] = time_one(&modes[i], depth);
    for (int i = 0; i < MODES; i++)
        if (strchr(which, modes[i].key))
            result(modes[i].workload, bench_median(figures[i], rounds), "ns/node");
    if (strchr(which, 'c')) {
        cost_per_frame("cfi", "trace_frame_cfi", rounds);
        cost_per_frame("libunwind", "trace_frame_lu", rounds);
        cost_per_frame("fp", "trace_frame_fp", rounds);
    }
    if (strchr(which, 'm')) {
        bytes_per_block(1, "trace_bytes_1");
        bytes_per_block(16, "trace_bytes_16");
    }
    return 0;
}
