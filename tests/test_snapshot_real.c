/* test_snapshot_real.c: snapshots of a real traced heap. The statistics by
 * line name this file and the lines below that allocated, with exact sizes;
 * deeper frames name the callers; comparison sees what changed between two
 * snapshots; a real snapshot survives dump and load; one-off tracebacks
 * (rc_traceback_symbolize) and formatting quote this file's source.
 */
#include "snapshot_fixture.h"

#include <sys/auxv.h>

#define NOINLINE __attribute__((noinline))

static int line_small, line_big, line_calloc, line_pair, line_call;
static void *small[10], *big[3], *zeroed, *pair[2];

static NOINLINE void allocate_small(void)
{
    line_small = __LINE__ + 2;
    for (int i = 0; i < 10; i++)
        small[i] = rc_malloc(100);
}

static NOINLINE void allocate_rest(void)
{
    line_big = __LINE__ + 2;
    for (int i = 0; i < 3; i++)
        big[i] = rc_malloc(5000);
    line_calloc = __LINE__ + 1;
    zeroed = rc_calloc(10, 30);
    line_pair = __LINE__ + 1;
    void *two[2] = {rc_malloc(24), rc_malloc(24)}; /* two call sites, one line */
    memcpy(pair, two, sizeof two);
}

static volatile int allocations_done;

static NOINLINE void allocate_all(void)
{
    allocate_small();
    line_call = __LINE__ + 1;
    allocate_rest();
    allocations_done++; /* not a tail call: allocate_all stays a frame of its own */
}

static void free_all(void)
{
    for (int i = 0; i < 10; i++)
        rc_free(small[i]);
    for (int i = 0; i < 3; i++)
        rc_free(big[i]);
    rc_free(zeroed);
    rc_free(pair[0]);
    rc_free(pair[1]);
}

/* The statistic of this file's line `line`, or NULL. */
static const rc_statistic *stat_at(const rc_statistic *stats, size_t n, int line)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(stats[i].traceback.frames[0].filename, __FILE__) == 0 &&
            stats[i].traceback.frames[0].lineno == (uint32_t)line)
            return &stats[i];
    return NULL;
}

static void check_line(const rc_statistic *stats, size_t n, int line, size_t size, size_t count)
{
    const rc_statistic *s = stat_at(stats, n, line);
    CHECK(s != NULL);
    if (!s) {
        fprintf(stderr, "  no statistic for %s:%d\n", __FILE__, line);
        return;
    }
    CHECK_EQ(s->size, size);
    CHECK_EQ(s->count, count);
}

static void test_tracing_off(void)
{
    CHECK(rc_snapshot_take() == NULL);
    CHECK_STR_CONTAINS(rc_last_error(), "rc_snapshot_take: tracing must be on to take a snapshot");
    CHECK(rc_heap_snapshot_take(NULL) == NULL);
}

static void test_lineno_statistics(void)
{
    CHECK_EQ(rc_trace_start(1), 0);
    allocate_all();
    rc_snapshot *snap = rc_snapshot_take();
    CHECK(snap != NULL);
    CHECK_EQ(rc_snapshot_traceback_limit(snap), 1);
    CHECK_EQ(rc_snapshot_trace_count(snap), 16);
    /* two return addresses on line_pair (more if loops are unrolled), one
     * traceback per line once symbolized */
    CHECK(snap->ntracebacks >= 5);
    size_t n = 0;
    rc_statistic *stats = rc_snapshot_statistics(snap, RC_TRACE_KEY_LINENO, false, &n);
    CHECK(stats != NULL);
    CHECK_EQ(n, 4);
    CHECK_EQ(snap->ntracebacks, 4);
    check_line(stats, n, line_big, 15000, 3);
    check_line(stats, n, line_small, 1000, 10);
    check_line(stats, n, line_calloc, 300, 1);
    check_line(stats, n, line_pair, 48, 2);
    if (stats && n == 4) {
        CHECK_EQ(stats[0].traceback.frames[0].lineno, line_big); /* sorted by size */
        CHECK_STR_EQ(stats[1].traceback.frames[0].function, "allocate_small");
        char want[512];
        snprintf(want, sizeof want, "%s:%d: size=14.6 KiB, count=3, average=5000 B", __FILE__,
                 line_big);
        CHECK_STR_EQ(stat_text(&stats[0]), want);
    }
    size_t current = 0;
    rc_trace_get_memory(&current, NULL);
    CHECK_EQ(current, 15000 + 1000 + 300 + 48);
    rc_statistics_free(stats);
    /* by file: everything is this file's */
    stats = rc_snapshot_statistics(snap, RC_TRACE_KEY_FILENAME, false, &n);
    CHECK_EQ(n, 1);
    CHECK(stats && strcmp(stats[0].traceback.frames[0].filename, __FILE__) == 0);
    CHECK(stats && stats[0].size == 16348 && stats[0].count == 16);
    rc_statistics_free(stats);
    rc_snapshot_free(snap);
    free_all();
    rc_trace_stop();
}

static int line_list_new, line_list_grow;

/* rc_list_append's common case is inline (reclaim/types.h), its growth a
 * call from there: the item array still belongs to the line that appends
 * (the macro puts its call on the caller's line), never to the header. */
static NOINLINE void *grow_a_list(void *item)
{
    line_list_new = __LINE__ + 1;
    void *list = rc_list_new();
    line_list_grow = __LINE__ + 2;
    for (int i = 0; i < 5; i++) /* capacities 4, then 8 */
        rc_list_append(list, item);
    allocations_done++;
    return list;
}

static void test_list_growth_line(void)
{
    void *item = rc_int_new(1 << 20); /* untraced: made before tracing */
    CHECK_EQ(rc_trace_start(1), 0);
    void *list = grow_a_list(item);
    rc_snapshot *snap = rc_snapshot_take();
    size_t n = 0;
    rc_statistic *stats = rc_snapshot_statistics(snap, RC_TRACE_KEY_LINENO, false, &n);
    CHECK_EQ(n, 2);
    check_line(stats, n, line_list_grow, 8 * sizeof(void *), 1);
    check_line(stats, n, line_list_new, rc_sizeof(list) - 8 * sizeof(void *), 1);
    for (size_t i = 0; stats && i < n; i++)
        CHECK_STR_EQ(stats[i].traceback.frames[0].function, "grow_a_list");
    rc_statistics_free(stats);
    rc_snapshot_free(snap);
    rc_decref(list);
    rc_decref(item);
    rc_trace_stop();
}

/* With 8 frames, the second frame of the small blocks is allocate_all's
 * call, and cumulative statistics count the caller's line too. */
static NOINLINE void test_tracebacks(void)
{
    CHECK_EQ(rc_trace_start(8), 0);
    allocate_all();
    rc_snapshot *snap = rc_snapshot_take();
    size_t n = 0;
    rc_statistic *stats = rc_snapshot_statistics(snap, RC_TRACE_KEY_TRACEBACK, false, &n);
    CHECK_EQ(n, 4);
    for (size_t i = 0; stats && i < n; i++) {
        const rc_traceback *tb = &stats[i].traceback;
        CHECK(tb->nframes >= 3);
        if (tb->nframes < 3)
            continue;
        CHECK_STR_EQ(tb->frames[1].filename, __FILE__);
        CHECK_STR_EQ(tb->frames[1].function, "allocate_all");
        CHECK_STR_EQ(tb->frames[2].function, "test_tracebacks");
        if (tb->frames[0].lineno != (uint32_t)line_small)
            CHECK_EQ(tb->frames[1].lineno, line_call);
    }
    rc_statistics_free(stats);
    stats = rc_snapshot_statistics(snap, RC_TRACE_KEY_LINENO, true, &n);
    check_line(stats, n, line_call, 15000 + 300 + 48, 6);
    check_line(stats, n, line_small, 1000, 10);
    rc_statistics_free(stats);
    /* the format quotes the allocating line */
    const rc_traceback *tb = rc_snapshot_trace(snap, 0, NULL);
    char *text = tb ? rc_traceback_format(tb, 1, false) : NULL;
    CHECK_STR_CONTAINS(text, "rc_malloc(");
    CHECK_STR_CONTAINS(text, __FILE__);
    free(text);
    rc_snapshot_free(snap);
    free_all();
    rc_trace_stop();
}

/* A leak growing between two snapshots. */
static void test_compare(void)
{
    CHECK_EQ(rc_trace_start(1), 0);
    allocate_all();
    rc_snapshot *before = rc_snapshot_take();
    for (int i = 0; i < 5; i++)
        rc_free(small[i]);
    int line_leak = __LINE__ + 2;
    for (int i = 0; i < 7; i++)
        small[i < 5 ? i : 0] = rc_malloc(64); /* leaks two */
    rc_snapshot *after = rc_snapshot_take();
    size_t n = 0;
    rc_statistic_diff *d = rc_snapshot_compare(after, before, RC_TRACE_KEY_LINENO, false, &n);
    CHECK_EQ(n, 5);
    if (d && n == 5) {
        CHECK_EQ(d[0].traceback.frames[0].lineno, line_small); /* -500 */
        CHECK(d[0].size == 500 && d[0].size_diff == -500 && d[0].count_diff == -5);
        CHECK_EQ(d[1].traceback.frames[0].lineno, line_leak); /* +448 */
        CHECK(d[1].size == 448 && d[1].size_diff == 448 && d[1].count_diff == 7);
        CHECK(d[4].size_diff == 0 && d[4].count_diff == 0);
    }
    rc_statistics_free(d);
    rc_snapshot_free(before);
    rc_snapshot_free(after);
    rc_trace_stop(); /* the leaked blocks go with the heap */
}

static void test_dump_load(void)
{
    CHECK_EQ(rc_trace_start(4), 0);
    allocate_all();
    rc_snapshot *snap = rc_snapshot_take();
    char path[] = "/tmp/rc_real_XXXXXX";
    int fd = mkstemp(path);
    close(fd);
    CHECK_EQ(rc_snapshot_dump(snap, path), 0);
    rc_snapshot *back = rc_snapshot_load(path);
    unlink(path);
    CHECK(back != NULL);
    size_t n = 0, m = 0;
    rc_statistic *a = rc_snapshot_statistics(snap, RC_TRACE_KEY_LINENO, true, &n);
    rc_statistic *b = back ? rc_snapshot_statistics(back, RC_TRACE_KEY_LINENO, true, &m) : NULL;
    CHECK_EQ(n, m);
    for (size_t i = 0; a && b && i < n && i < m; i++)
        CHECK_STR_EQ(stat_text(&a[i]), stat_text(&b[i]));
    rc_statistics_free(a);
    rc_statistics_free(b);
    rc_snapshot_free(back);
    rc_snapshot_free(snap);
    free_all();
    rc_trace_stop();
}

static void test_block_traceback(void)
{
    CHECK_EQ(rc_trace_start(3), 0);
    allocate_all();
    rc_traceback *tb = rc_traceback_symbolize(rc_block_traceback(zeroed));
    CHECK(tb != NULL);
    if (tb) {
        CHECK(tb->nframes == 3);
        CHECK_STR_EQ(tb->frames[0].filename, __FILE__);
        CHECK_EQ(tb->frames[0].lineno, line_calloc);
        CHECK_STR_EQ(tb->frames[0].function, "allocate_rest");
        CHECK_EQ(tb->frames[1].lineno, line_call);
    }
    free(tb);
    CHECK(rc_traceback_symbolize(NULL) == NULL);
    CHECK_STR_CONTAINS(rc_last_error(), "rc_traceback_symbolize: frames is NULL");
    free_all();
    rc_trace_stop();
}

/* A heap with tracing on and nothing traced: an empty snapshot. Tracing
 * stopped: no snapshot. */
static void test_empty_and_stopped(void)
{
    CHECK_EQ(rc_trace_start(2), 0);
    rc_snapshot *snap = rc_snapshot_take();
    CHECK(snap != NULL && rc_snapshot_trace_count(snap) == 0);
    rc_snapshot_free(snap);
    rc_trace_stop();
    CHECK(rc_snapshot_take() == NULL);
}

/* An address in a module without line information: "<unknown>", line 0,
 * and the module and offset in the function text. */
static void test_unknown_address(void)
{
    rc_snapshot *snap = rc_snapshot_new(1);
    uint32_t a = rc_snapshot_add_address(snap, (uintptr_t)getauxval(AT_SYSINFO_EHDR) + 0x800);
    CHECK_EQ(rc_snapshot_add_trace(snap, 1, rc_snapshot_add_traceback(snap, &a, 1)), 0);
    const rc_traceback *tb = rc_snapshot_trace(snap, 0, NULL);
    CHECK(tb != NULL);
    if (tb) {
        CHECK_STR_EQ(tb->frames[0].filename, "<unknown>");
        CHECK_EQ(tb->frames[0].lineno, 0);
        CHECK_STR_CONTAINS(tb->frames[0].function, "+0x7ff");
    }
    rc_snapshot_free(snap);
}

int main(void)
{
    rc_heap *heap = rc_heap_new();
    rc_heap_use(heap);
    test_tracing_off();
    test_lineno_statistics();
    test_list_growth_line();
    test_tracebacks();
    test_compare();
    test_dump_load();
    test_block_traceback();
    test_empty_and_stopped();
    test_unknown_address();
    rc_heap_use(NULL);
    rc_heap_destroy(heap);
    return check_report();
}
