/* test_snapshot_stats.c: statistics, comparison and filters on synthetic
 * snapshots, with every size, count and position worked out by hand (the
 * comments show the sums), then the error cases.
 */
#include "snapshot_fixture.h"

/* Snapshot A, used throughout:
 *   3 x 100  a.c:10 < main.c:5
 *   2 x 50   a.c:10 < main.c:6
 *   1 x 400  b.c:20 < a.c:10 < main.c:5
 *   4 x 25   b.c:21 < b.c:20 < main.c:7
 *   1 x 100  a.c:11 < main.c:5          */
static rc_snapshot *snapshot_a(void)
{
    rc_snapshot *snap = rc_snapshot_new(3);
    add_n(snap, 100, "a.c:10 main.c:5", 3);
    add_n(snap, 50, "a.c:10 main.c:6", 2);
    add(snap, 400, "b.c:20 a.c:10 main.c:5");
    add_n(snap, 25, "b.c:21 b.c:20 main.c:7", 4);
    add(snap, 100, "a.c:11 main.c:5");
    return snap;
}

typedef struct expect {
    const char *key;
    size_t size, count;
} expect;

static void check_stats(rc_snapshot *snap, rc_trace_key key, bool cumulative, const expect *want,
                        size_t n)
{
    size_t count = 99;
    rc_statistic *stats = rc_snapshot_statistics(snap, key, cumulative, &count);
    CHECK(stats != NULL);
    CHECK_EQ(count, n);
    for (size_t i = 0; stats && i < n && i < count; i++) {
        CHECK_STR_EQ(tb_text(&stats[i].traceback), want[i].key);
        CHECK_EQ(stats[i].size, want[i].size);
        CHECK_EQ(stats[i].count, want[i].count);
    }
    rc_statistics_free(stats);
}

static void test_lineno(void)
{
    rc_snapshot *snap = snapshot_a();
    /* a.c:10 300+100 in 5; b.c:20 400 in 1; b.c:21 4*25; a.c:11 100 */
    const expect want[] = {
        {"a.c:10", 400, 5}, {"b.c:20", 400, 1}, {"b.c:21", 100, 4}, {"a.c:11", 100, 1}};
    check_stats(snap, RC_TRACE_KEY_LINENO, false, want, 4);
    rc_snapshot_free(snap);
}

static void test_filename(void)
{
    rc_snapshot *snap = snapshot_a();
    /* a.c: 300+100+100 in 6; b.c: 400+100 in 5 */
    const expect want[] = {{"a.c:0", 500, 6}, {"b.c:0", 500, 5}};
    check_stats(snap, RC_TRACE_KEY_FILENAME, false, want, 2);
    size_t n;
    rc_statistic *stats = rc_snapshot_statistics(snap, RC_TRACE_KEY_FILENAME, false, &n);
    CHECK_STR_EQ(stats[0].traceback.frames[0].function, "");
    CHECK_EQ(stats[0].traceback.nframes, 1);
    CHECK_STR_EQ(stat_text(&stats[0]), "a.c:0: size=500 B, count=6, average=83 B");
    CHECK_STR_EQ(stat_text(&stats[1]), "b.c:0: size=500 B, count=5, average=100 B");
    rc_statistics_free(stats);
    rc_snapshot_free(snap);
}

static void test_traceback(void)
{
    rc_snapshot *snap = snapshot_a();
    const expect want[] = {
        {"b.c:20<a.c:10<main.c:5", 400, 1}, {"a.c:10<main.c:5", 300, 3},
        {"b.c:21<b.c:20<main.c:7", 100, 4}, {"a.c:10<main.c:6", 100, 2},
        {"a.c:11<main.c:5", 100, 1},
    };
    check_stats(snap, RC_TRACE_KEY_TRACEBACK, false, want, 5);
    rc_snapshot_free(snap);
}

static void test_cumulative(void)
{
    rc_snapshot *snap = snapshot_a();
    /* a.c:10 in the first three tracebacks: 300+100+400 in 6;
     * main.c:5: 300+400+100 in 5; b.c:20: 400+100 in 5; ... */
    const expect lines[] = {
        {"a.c:10", 800, 6},   {"main.c:5", 800, 5}, {"b.c:20", 500, 5}, {"b.c:21", 100, 4},
        {"main.c:7", 100, 4}, {"main.c:6", 100, 2}, {"a.c:11", 100, 1},
    };
    check_stats(snap, RC_TRACE_KEY_LINENO, true, lines, 7);
    /* a file counts once per trace: b.c:21 < b.c:20 gives b.c 4 blocks, not 8 */
    const expect files[] = {{"main.c:0", 1000, 11}, {"a.c:0", 900, 7}, {"b.c:0", 500, 5}};
    check_stats(snap, RC_TRACE_KEY_FILENAME, true, files, 3);
    rc_snapshot_free(snap);
}

/* Frames that differ only in function are one key; the key's frame is the
 * first one added. Tracebacks that differ only in functions are one key. */
static void test_functions_merge(void)
{
    rc_snapshot *snap = rc_snapshot_new(2);
    add(snap, 10, "x.c:1:f main.c:2:main");
    add(snap, 20, "x.c:1:g main.c:2:main");
    add(snap, 5, "x.c:1:g main.c:3:main");
    const expect want[] = {{"x.c:1", 35, 3}};
    check_stats(snap, RC_TRACE_KEY_LINENO, false, want, 1);
    const expect tbs[] = {{"x.c:1<main.c:2", 30, 2}, {"x.c:1<main.c:3", 5, 1}};
    check_stats(snap, RC_TRACE_KEY_TRACEBACK, false, tbs, 2);
    size_t n;
    rc_statistic *stats = rc_snapshot_statistics(snap, RC_TRACE_KEY_LINENO, false, &n);
    CHECK_STR_EQ(stats[0].traceback.frames[0].function, "f");
    rc_statistics_free(stats);
    rc_snapshot_free(snap);
}

/* Equal size and count: key order, ascending. */
static void test_ties(void)
{
    rc_snapshot *snap = rc_snapshot_new(1);
    add(snap, 8, "z.c:1");
    add(snap, 8, "a.c:9");
    add(snap, 8, "a.c:10");
    add(snap, 8, "m.c:5");
    const expect want[] = {{"a.c:9", 8, 1}, {"a.c:10", 8, 1}, {"m.c:5", 8, 1}, {"z.c:1", 8, 1}};
    check_stats(snap, RC_TRACE_KEY_LINENO, false, want, 4);
    rc_snapshot_free(snap);
}

static void test_empty(void)
{
    rc_snapshot *snap = rc_snapshot_new(1);
    size_t n = 99;
    rc_statistic *stats = rc_snapshot_statistics(snap, RC_TRACE_KEY_LINENO, true, &n);
    CHECK(stats != NULL);
    CHECK_EQ(n, 0);
    rc_statistics_free(stats);
    rc_statistic_diff *diffs = rc_snapshot_compare(snap, snap, RC_TRACE_KEY_TRACEBACK, false, &n);
    CHECK(diffs != NULL);
    CHECK_EQ(n, 0);
    rc_statistics_free(diffs);
    CHECK_EQ(rc_snapshot_trace_count(snap), 0);
    rc_snapshot_free(snap);
}

/* B against A:
 *   5 x 100  a.c:10 < main.c:5     (A had 3)
 *   1 x 400  b.c:20 < a.c:10 < main.c:5
 *   1 x 1000 c.c:1 < main.c:9      (new) */
static rc_snapshot *snapshot_b(void)
{
    rc_snapshot *snap = rc_snapshot_new(3);
    add(snap, 1000, "c.c:1 main.c:9");
    add_n(snap, 100, "a.c:10 main.c:5", 5);
    add(snap, 400, "b.c:20 a.c:10 main.c:5");
    return snap;
}

static void test_compare(void)
{
    rc_snapshot *a = snapshot_a(), *b = snapshot_b();
    size_t n = 0;
    rc_statistic_diff *d = rc_snapshot_compare(b, a, RC_TRACE_KEY_LINENO, false, &n);
    CHECK_EQ(n, 5);
    if (d && n == 5) {
        CHECK_STR_EQ(diff_text(&d[0]),
                     "c.c:1: size=1000 B (+1000 B), count=1 (+1), average=1000 B");
        CHECK_STR_EQ(diff_text(&d[1]), "a.c:10: size=500 B (+100 B), count=5 (+0), average=100 B");
        CHECK_STR_EQ(diff_text(&d[2]), "b.c:21: size=0 B (-100 B), count=0 (-4)");
        CHECK_STR_EQ(diff_text(&d[3]), "a.c:11: size=0 B (-100 B), count=0 (-1)");
        CHECK_STR_EQ(diff_text(&d[4]), "b.c:20: size=400 B (+0 B), count=1 (+0), average=400 B");
        CHECK_EQ(d[2].size_diff, -100);
        CHECK_EQ(d[2].count_diff, -4);
    }
    rc_statistics_free(d);
    /* the other way round, by file: a.c 500/6 -> 500/5, b.c 500/5 -> 400/1,
     * c.c 1000/1 -> gone */
    d = rc_snapshot_compare(a, b, RC_TRACE_KEY_FILENAME, false, &n);
    CHECK_EQ(n, 3);
    if (d && n == 3) {
        CHECK_STR_EQ(diff_text(&d[0]), "c.c:0: size=0 B (-1000 B), count=0 (-1)");
        CHECK_STR_EQ(diff_text(&d[1]), "b.c:0: size=500 B (+100 B), count=5 (+4), average=100 B");
        CHECK_STR_EQ(diff_text(&d[2]), "a.c:0: size=500 B (+0 B), count=6 (+1), average=83 B");
    }
    rc_statistics_free(d);
    /* a snapshot against itself: every difference 0 */
    d = rc_snapshot_compare(a, a, RC_TRACE_KEY_TRACEBACK, false, &n);
    CHECK_EQ(n, 5);
    for (size_t i = 0; d && i < n; i++)
        CHECK(d[i].size_diff == 0 && d[i].count_diff == 0 && d[i].count > 0);
    rc_statistics_free(d);
    rc_snapshot_free(a);
    rc_snapshot_free(b);
}

static void test_compare_cumulative(void)
{
    rc_snapshot *a = snapshot_a(), *b = snapshot_b();
    size_t n = 0;
    /* main.c cumulative: A 1000 in 11, B 1000+500+400 = 1900 in 7 */
    rc_statistic_diff *d = rc_snapshot_compare(b, a, RC_TRACE_KEY_FILENAME, true, &n);
    CHECK_EQ(n, 4);
    if (d && n == 4) {
        CHECK_STR_EQ(diff_text(&d[0]),
                     "c.c:0: size=1000 B (+1000 B), count=1 (+1), average=1000 B");
        CHECK_STR_EQ(diff_text(&d[1]),
                     "main.c:0: size=1900 B (+900 B), count=7 (-4), average=271 B");
        /* b.c: 400/1 from 500/5; a.c: 900/6 from 900/7 */
        CHECK_STR_EQ(diff_text(&d[2]), "b.c:0: size=400 B (-100 B), count=1 (-4), average=400 B");
        CHECK_STR_EQ(diff_text(&d[3]), "a.c:0: size=900 B (+0 B), count=6 (-1), average=150 B");
    }
    rc_statistics_free(d);
    rc_snapshot_free(a);
    rc_snapshot_free(b);
}

/* The traces of snap passing the filters: count and total size. */
static void check_filter(rc_snapshot *snap, const rc_trace_filter *filters, size_t n,
                         size_t want_traces, size_t want_bytes)
{
    rc_snapshot *f = rc_snapshot_filter(snap, filters, n);
    CHECK(f != NULL);
    if (!f)
        return;
    CHECK_EQ(rc_snapshot_trace_count(f), want_traces);
    size_t total = 0;
    for (size_t i = 0; i < rc_snapshot_trace_count(f); i++) {
        size_t size = 0;
        CHECK(rc_snapshot_trace(f, i, &size) != NULL);
        total += size;
    }
    CHECK_EQ(total, want_bytes);
    CHECK_EQ(rc_snapshot_traceback_limit(f), rc_snapshot_traceback_limit(snap));
    rc_snapshot_free(f);
}

static void test_filters(void)
{
    rc_snapshot *a = snapshot_a();
    rc_trace_filter f[2] = {{true, "b.c", 0, false}};
    check_filter(a, f, 1, 5, 500); /* b.c:20 400, b.c:21 4*25 */
    f[0].inclusive = false;
    check_filter(a, f, 1, 6, 500);
    f[0] = (rc_trace_filter){true, "a.c", 0, true};
    check_filter(a, f, 1, 7, 900); /* any frame in a.c */
    f[0].inclusive = false;
    check_filter(a, f, 1, 4, 100); /* no frame in a.c */
    f[0] = (rc_trace_filter){true, "a.c", 10, false};
    check_filter(a, f, 1, 5, 400);
    f[0] = (rc_trace_filter){true, "a.c", 10, true};
    check_filter(a, f, 1, 6, 800); /* b.c:20 < a.c:10 too */
    /* inclusive filters are OR-ed */
    f[0] = (rc_trace_filter){true, "a.c", 11, false};
    f[1] = (rc_trace_filter){true, "b.c", 21, false};
    check_filter(a, f, 2, 5, 200);
    /* exclusive filters are AND-ed with the inclusive ones */
    f[0] = (rc_trace_filter){true, "*.c", 0, false};
    f[1] = (rc_trace_filter){false, "main.c", 0, true};
    check_filter(a, f, 2, 0, 0);
    f[1] = (rc_trace_filter){false, "main.c", 6, true};
    check_filter(a, f, 2, 9, 900);
    /* no filters: a copy */
    check_filter(a, NULL, 0, 11, 1000);
    rc_snapshot_free(a);
}

static void test_filter_patterns(void)
{
    rc_snapshot *snap = rc_snapshot_new(1);
    add(snap, 1, "/src/lib/x.c:1");
    add(snap, 2, "/src/y.c:1");
    add(snap, 4, "/other/[z].c:1");
    add(snap, 8, "<unknown>:0");
    rc_trace_filter f = {true, "/src/*.c", 0, false}; /* '*' matches '/' */
    check_filter(snap, &f, 1, 2, 3);
    f.filename_pattern = "/src/?.c";
    check_filter(snap, &f, 1, 1, 2);
    f.filename_pattern = "*/[[]z].c"; /* brackets, no escapes */
    check_filter(snap, &f, 1, 1, 4);
    f.filename_pattern = "<unknown>";
    check_filter(snap, &f, 1, 1, 8);
    rc_snapshot_free(snap);
}

/* The filtered snapshot keeps only what its traces use, and its statistics
 * equal the original's restricted to the kept keys. */
static void test_filter_copies_only_used(void)
{
    rc_snapshot *a = snapshot_a();
    rc_trace_filter f = {true, "b.c", 21, false};
    rc_snapshot *g = rc_snapshot_filter(a, &f, 1);
    CHECK_EQ(g->ntracebacks, 1);
    CHECK_EQ(g->nframes, 3);  /* b.c:21 b.c:20 main.c:7 */
    CHECK_EQ(g->nstrings, 3); /* b.c main.c "" */
    const expect want[] = {{"b.c:21<b.c:20<main.c:7", 100, 4}};
    check_stats(g, RC_TRACE_KEY_TRACEBACK, false, want, 1);
    rc_snapshot_free(g);
    rc_snapshot_free(a);
}

static void test_errors(void)
{
    rc_snapshot *a = snapshot_a();
    size_t n = 0;
    CHECK(rc_snapshot_statistics(a, RC_TRACE_KEY_TRACEBACK, true, &n) == NULL);
    CHECK_STR_CONTAINS(rc_last_error(),
                       "cumulative mode cannot be used with RC_TRACE_KEY_TRACEBACK");
    CHECK(rc_snapshot_statistics(a, (rc_trace_key)7, false, &n) == NULL);
    CHECK_STR_CONTAINS(rc_last_error(), "rc_snapshot_statistics: unknown key 7");
    CHECK(rc_snapshot_statistics(a, RC_TRACE_KEY_LINENO, false, NULL) == NULL);
    CHECK_STR_CONTAINS(rc_last_error(), "count is NULL");
    CHECK(rc_snapshot_statistics(NULL, RC_TRACE_KEY_LINENO, false, &n) == NULL);
    CHECK(rc_snapshot_compare(a, a, RC_TRACE_KEY_TRACEBACK, true, &n) == NULL);
    CHECK_STR_CONTAINS(rc_last_error(), "rc_snapshot_compare: cumulative mode");
    CHECK(rc_snapshot_compare(a, NULL, RC_TRACE_KEY_LINENO, false, &n) == NULL);
    CHECK_STR_CONTAINS(rc_last_error(), "rc_snapshot_compare: the snapshot is NULL");
    rc_trace_filter f = {true, NULL, 0, false};
    CHECK(rc_snapshot_filter(a, &f, 1) == NULL);
    CHECK_STR_CONTAINS(rc_last_error(), "rc_snapshot_filter: filter 0 has no pattern");
    CHECK(rc_snapshot_filter(a, NULL, 2) == NULL);
    CHECK_STR_CONTAINS(rc_last_error(), "2 filters at NULL");
    CHECK(rc_snapshot_trace(a, 11, NULL) == NULL);
    CHECK_STR_CONTAINS(rc_last_error(), "index 11 is out of range (11 traces)");
    CHECK(rc_snapshot_trace(NULL, 0, NULL) == NULL);
    CHECK_STR_CONTAINS(rc_last_error(), "rc_snapshot_trace: the snapshot is NULL");
    CHECK_EQ(rc_snapshot_trace_count(NULL), 0);
    CHECK_EQ(rc_snapshot_traceback_limit(NULL), 0);
    rc_snapshot_free(a);
    rc_snapshot_free(NULL);
    rc_statistics_free(NULL);
}

/* The builder interns: the same string, frame and traceback once. */
static void test_interning(void)
{
    rc_snapshot *snap = rc_snapshot_new(2);
    add_n(snap, 1, "a.c:1 b.c:2", 3);
    add(snap, 1, "a.c:1 b.c:3");
    add(snap, 1, "b.c:2 a.c:1");
    CHECK_EQ(snap->nstrings, 3);    /* a.c b.c "" */
    CHECK_EQ(snap->nframes, 3);     /* a.c:1 b.c:2 b.c:3 */
    CHECK_EQ(snap->ntracebacks, 3); /* the order of frames counts */
    CHECK_EQ(snap->ntraces, 5);
    uint32_t frames[2] = {0, 1};
    CHECK_EQ(rc_snapshot_add_traceback(snap, frames, 2), 0);
    CHECK_EQ(rc_snapshot_add_trace(snap, 1, 3), RC_EINVAL);
    CHECK_STR_CONTAINS(rc_last_error(), "trace names traceback 3 of 3");
    rc_snapshot_free(snap);
}

/* Sizes near 2^64 (a hostile file can hold them) wrap, never overflow. */
static void test_huge_sizes(void)
{
    rc_snapshot *a = rc_snapshot_new(1), *b = rc_snapshot_new(1);
    add(a, SIZE_MAX, "x.c:1");
    add(a, SIZE_MAX, "x.c:1");
    add(b, (size_t)1 << 63, "y.c:1");
    size_t n = 0;
    rc_statistic_diff *d = rc_snapshot_compare(a, b, RC_TRACE_KEY_LINENO, true, &n);
    CHECK(d != NULL && n == 2);
    if (d && n == 2) {
        /* y.c: 0 - 2^63 is INT64_MIN; x.c: 2 * (2^64 - 1) wraps to 2^64 - 2,
         * whose difference from 0 reads -2 */
        CHECK_EQ(d[0].size_diff, INT64_MIN);
        CHECK_STR_EQ(diff_text(&d[0]), "y.c:1: size=0 B (-8388608 TiB), count=0 (-1)");
        CHECK_EQ(d[1].size, SIZE_MAX - 1);
        CHECK_EQ(d[1].size_diff, -2);
        CHECK_STR_EQ(diff_text(&d[1]), "x.c:1: size=16777216 TiB (-2 B), count=2 (+2), "
                                       "average=8388608 TiB");
    }
    rc_statistics_free(d);
    rc_snapshot_free(a);
    rc_snapshot_free(b);
}

int main(void)
{
    test_lineno();
    test_filename();
    test_traceback();
    test_cumulative();
    test_functions_merge();
    test_ties();
    test_empty();
    test_compare();
    test_compare_cumulative();
    test_filters();
    test_filter_patterns();
    test_filter_copies_only_used();
    test_errors();
    test_interning();
    test_huge_sizes();
    return check_report();
}
