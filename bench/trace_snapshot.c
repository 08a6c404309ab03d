/* trace_snapshot.c: what a snapshot of a large traced heap costs.
 *
 * A heap traces `blocks` live raw blocks (16..256 bytes) allocated from ten
 * call sites. Measured, each the median of `reps` runs:
 *   snapshot_take   rc_snapshot_take (copying every trace and the tracebacks
 *                   used; no symbolization), in ms; the target is 100 ms
 *                   for 1,000,000 blocks;
 *   snapshot_stats  the first examination of a fresh snapshot: symbolizing
 *                   its addresses and grouping by line, in ms;
 *   snapshot_file   the size of its dump, in bytes per traced block.
 * The statistics must find the blocks: a wrong count fails the run.
 *
 * Usage: trace_snapshot [blocks (1000000)] [reps (5)] [frames (1)]
 * Prints: RESULT snapshot_take|snapshot_stats reclaim <ms> ms,
 *         RESULT snapshot_file reclaim <bytes> bytes/block
 */
#include "bench_util.h"

#include <reclaim.h>
#include <sys/stat.h>

/* Blocks allocated from each call site (the counter also keeps the sites
 * apart: without a distinct statement after each call, the compiler merges
 * the ten identical calls into one, or makes them tail calls). */
static size_t per_site[10];

/* Block i, from call site i % 10. */
static void *allocate(size_t i)
{
    size_t size = 16 + (i * 7919) % 241;
    void *block;
    switch (i % 10) {
    case 0:
        block = rc_malloc(size);
        per_site[0]++;
        break;
    case 1:
        block = rc_malloc(size);
        per_site[1]++;
        break;
    case 2:
        block = rc_malloc(size);
        per_site[2]++;
        break;
    case 3:
        block = rc_malloc(size);
        per_site[3]++;
        break;
    case 4:
        block = rc_malloc(size);
        per_site[4]++;
        break;
    case 5:
        block = rc_malloc(size);
        per_site[5]++;
        break;
    case 6:
        block = rc_malloc(size);
        per_site[6]++;
        break;
    case 7:
        block = rc_malloc(size);
        per_site[7]++;
        break;
    case 8:
        block = rc_malloc(size);
        per_site[8]++;
        break;
    default:
        block = rc_malloc(size);
        per_site[9]++;
        break;
    }
    return block;
}

/* The first ten blocks come from the ten sites: ten distinct tracebacks. */
static void check_sites(void *const *blocks)
{
    for (int i = 0; i < 10; i++) {
        const rc_trace_frames *tb = rc_block_traceback(blocks[i]);
        if (!tb)
            bench_fail("block %d is not traced: %s", i, rc_last_error());
        for (int j = 0; j < i; j++)
            if (rc_block_traceback(blocks[j]) == tb)
                bench_fail("call sites %d and %d share a traceback", j, i);
    }
}

typedef struct run {
    size_t blocks;
} run;

static double time_take(void *ctx)
{
    run *r = ctx;
    uint64_t start = bench_now_ns();
    rc_snapshot *snap = rc_snapshot_take();
    uint64_t end = bench_now_ns();
    if (!snap || rc_snapshot_trace_count(snap) != r->blocks)
        bench_fail("rc_snapshot_take: %s", snap ? "wrong trace count" : rc_last_error());
    rc_snapshot_free(snap);
    return (double)(end - start) / 1e6;
}

static double time_stats(void *ctx)
{
    run *r = ctx;
    rc_snapshot *snap = rc_snapshot_take();
    if (!snap)
        bench_fail("rc_snapshot_take: %s", rc_last_error());
    uint64_t start = bench_now_ns();
    size_t n = 0, count = 0;
    rc_statistic *stats = rc_snapshot_statistics(snap, RC_TRACE_KEY_LINENO, false, &n);
    uint64_t end = bench_now_ns();
    for (size_t i = 0; stats && i < n; i++)
        count += stats[i].count;
    if (!stats || count != r->blocks)
        bench_fail("rc_snapshot_statistics: %s", stats ? "wrong block count" : rc_last_error());
    rc_statistics_free(stats);
    rc_snapshot_free(snap);
    return (double)(end - start) / 1e6;
}

static double file_bytes(size_t blocks)
{
    char path[] = "/tmp/trace_snapshot_XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        bench_fail("mkstemp failed");
    close(fd);
    rc_snapshot *snap = rc_snapshot_take();
    struct stat st;
    if (!snap || rc_snapshot_dump(snap, path) != 0 || stat(path, &st) != 0)
        bench_fail("rc_snapshot_dump: %s", rc_last_error());
    unlink(path);
    rc_snapshot_free(snap);
    return (double)st.st_size / (double)blocks;
}

int main(int argc, char **argv)
{
    run r = {(size_t)bench_arg(argc, argv, 1, 1000000)};
    int reps = (int)bench_arg(argc, argv, 2, 5);
    unsigned frames = (unsigned)bench_arg(argc, argv, 3, 1);
    if (rc_trace_start(frames) != 0)
        bench_fail("rc_trace_start: %s", rc_last_error());
    void **blocks = malloc(r.blocks * sizeof *blocks);
    if (!blocks)
        bench_fail("no memory for %zu pointers", r.blocks);
    for (size_t i = 0; i < r.blocks; i++)
        if (!(blocks[i] = allocate(i)))
            bench_fail("rc_malloc: %s", rc_last_error());
    if (r.blocks >= 10)
        check_sites(blocks);
    bench_result("snapshot_take", "reclaim", bench_median_of(reps, time_take, &r), "ms");
    bench_result("snapshot_stats", "reclaim", bench_median_of(reps, time_stats, &r), "ms");
    bench_result("snapshot_file", "reclaim", file_bytes(r.blocks), "bytes/block");
    for (size_t i = 0; i < r.blocks; i++)
        rc_free(blocks[i]);
    free(blocks);
    rc_trace_stop();
    return 0;
}
