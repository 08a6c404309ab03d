/* test_snapshot_faults.c: every snapshot operation under out-of-memory.
 * Each scenario runs with the heap's n-th system allocation failing, for
 * n = 0, 1, 2, ... until it succeeds without reaching the failure: each
 * failing run returns NULL (or an error code) with an "out of memory"
 * message, leaks nothing (ASan), and leaves its inputs intact: the same
 * operation then succeeds and gives the expected figures.
 */
#include "snapshot_fixture.h"

#include "runtime/heap.h"

static rc_heap *heap;

static rc_snapshot *sample(void)
{
    rc_snapshot *snap = rc_snapshot_new(3);
    add_n(snap, 100, "a.c:10 main.c:5", 3);
    add(snap, 400, "b.c:20 a.c:10 main.c:5");
    add_n(snap, 25, "b.c:21 b.c:20 main.c:7", 4);
    return snap;
}

/* The bytes of snap's traces (statistics by file), or SIZE_MAX if memory
 * ran out: the scenario's run then counts as a failing one. */
static size_t total_size(rc_snapshot *snap)
{
    size_t n = 0, total = 0;
    rc_statistic *stats = rc_snapshot_statistics(snap, RC_TRACE_KEY_FILENAME, false, &n);
    for (size_t i = 0; stats && i < n; i++)
        total += stats[i].size;
    rc_statistics_free(stats);
    return stats ? total : SIZE_MAX;
}

/* The scenario's own check of a result: false if it ran out of memory. */
static bool total_is(rc_snapshot *snap, size_t want)
{
    size_t total = total_size(snap);
    if (total == SIZE_MAX)
        return false;
    CHECK_EQ(total, want);
    return true;
}

typedef bool (*scenario)(rc_snapshot *snap);

/* Runs s with the n-th allocation failing, for every n until it succeeds. */
static void sweep(const char *name, scenario s, bool unresolved)
{
    int failures = 0;
    for (long n = 0;; n++) {
        rc_snapshot *snap = NULL;
        if (unresolved) {
            snap = rc_snapshot_new(2);
            uint32_t run[2] = {rc_snapshot_add_address(snap, 0x1000),
                               rc_snapshot_add_address(snap, 0x2000)};
            rc_snapshot_add_trace(snap, 8, rc_snapshot_add_traceback(snap, run, 2));
            rc_snapshot_add_trace(snap, 8, rc_snapshot_add_traceback(snap, run + 1, 1));
        } else {
            snap = sample();
        }
        rc_set_error(0, "none");
        rc_heap_inject_faults(heap, RC_FAULT_MALLOC, n, false);
        bool ok = s(snap);
        bool reached = heap->alloc.fault_kinds == 0;
        rc_heap_inject_faults(heap, 0, -1, false);
        if (!ok) {
            failures++;
            CHECK(reached);
            CHECK_STR_CONTAINS(rc_last_error(), "out of memory");
            /* the input is intact: the operation works now */
            CHECK(s(snap));
        }
        CHECK_EQ(total_size(snap), unresolved ? 16 : 800);
        rc_snapshot_free(snap);
        if (ok)
            break;
    }
    printf("%s: %d failing runs\n", name, failures);
    CHECK(failures > 0);
}

static bool do_statistics(rc_snapshot *snap)
{
    static const rc_trace_key keys[] = {RC_TRACE_KEY_FILENAME, RC_TRACE_KEY_LINENO,
                                        RC_TRACE_KEY_TRACEBACK};
    for (int k = 0; k < 3; k++)
        for (int cumulative = 0; cumulative < (k == 2 ? 1 : 2); cumulative++) {
            size_t n;
            rc_statistic *stats = rc_snapshot_statistics(snap, keys[k], cumulative, &n);
            if (!stats)
                return false;
            rc_statistics_free(stats);
        }
    return true;
}

static bool do_compare(rc_snapshot *snap)
{
    rc_snapshot *other = rc_snapshot_new(1);
    if (!other)
        return false;
    uint32_t f = rc_snapshot_add_frame(other, "b.c", 20, "");
    uint32_t tb = f == RC_SNAP_NONE ? f : rc_snapshot_add_traceback(other, &f, 1);
    bool ok = tb != RC_SNAP_NONE && rc_snapshot_add_trace(other, 64, tb) == 0;
    size_t n = 0;
    rc_statistic_diff *d =
        ok ? rc_snapshot_compare(snap, other, RC_TRACE_KEY_FILENAME, true, &n) : NULL;
    if (d) {
        CHECK_EQ(n, 3);
        CHECK_STR_EQ(diff_text(&d[0]),
                     "main.c:0: size=800 B (+800 B), count=8 (+8), average=100 B");
    }
    rc_statistics_free(d);
    rc_snapshot_free(other);
    return d != NULL;
}

static bool do_filter(rc_snapshot *snap)
{
    rc_trace_filter f[2] = {{true, "b.c", 0, true}, {false, "*", 21, false}};
    rc_snapshot *g = rc_snapshot_filter(snap, f, 2);
    bool ok = g && total_is(g, 400);
    if (g)
        CHECK_EQ(rc_snapshot_trace_count(g), 1);
    rc_snapshot_free(g);
    return ok;
}

static bool do_dump_load(rc_snapshot *snap)
{
    size_t n;
    uint8_t *data = rc_dump_encode(snap, &n);
    rc_snapshot *back = data ? rc_snapshot_load_buffer(data, n) : NULL;
    if (back)
        CHECK_EQ(rc_snapshot_trace_count(back), rc_snapshot_trace_count(snap));
    rc_snapshot_free(back);
    rc_snap_free(data);
    return back != NULL;
}

static bool do_trace(rc_snapshot *snap)
{
    const rc_traceback *tb = rc_snapshot_trace(snap, 0, NULL);
    char *text = tb ? rc_traceback_format(tb, 0, true) : NULL;
    free(text);
    return text != NULL;
}

/* Building a snapshot from nothing. */
static bool do_build(rc_snapshot *unused)
{
    (void)unused;
    rc_snapshot *snap = rc_snapshot_new(4);
    bool ok = snap != NULL;
    for (int i = 0; ok && i < 40; i++) {
        char file[32];
        snprintf(file, sizeof file, "f%d.c", i % 7);
        uint32_t frames[2] = {rc_snapshot_add_frame(snap, file, (uint32_t)i, "fn"),
                              rc_snapshot_add_frame(snap, "main.c", 1, "main")};
        ok = frames[0] != RC_SNAP_NONE && frames[1] != RC_SNAP_NONE;
        uint32_t tb = ok ? rc_snapshot_add_traceback(snap, frames, 2) : RC_SNAP_NONE;
        ok = tb != RC_SNAP_NONE && rc_snapshot_add_trace(snap, 10, tb) == 0;
    }
    ok = ok && total_is(snap, 400);
    rc_snapshot_free(snap);
    return ok;
}

/* A real snapshot of the heap under faults. */
static bool do_take(rc_snapshot *unused)
{
    (void)unused;
    rc_snapshot *snap = rc_snapshot_take();
    if (snap)
        CHECK_EQ(rc_snapshot_trace_count(snap), 50);
    rc_snapshot_free(snap);
    return snap != NULL;
}

int main(void)
{
    heap = rc_heap_new();
    rc_heap_use(heap);
    sweep("statistics", do_statistics, false);
    sweep("statistics, unresolved", do_statistics, true);
    sweep("compare", do_compare, false);
    sweep("filter", do_filter, false);
    sweep("dump and load", do_dump_load, false);
    sweep("trace and format", do_trace, true);
    sweep("build", do_build, false);
    CHECK_EQ(rc_trace_start(4), 0);
    void *blocks[50];
    for (int i = 0; i < 50; i++)
        blocks[i] = rc_malloc((size_t)(i % 5) * 100 + 8);
    sweep("take", do_take, false);
    for (int i = 0; i < 50; i++)
        rc_free(blocks[i]);
    rc_trace_stop();
    rc_heap_use(NULL);
    rc_heap_destroy(heap);
    return check_report();
}
