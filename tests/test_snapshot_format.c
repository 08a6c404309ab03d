/* test_snapshot_format.c: the text of sizes, statistics, diffs and
 * tracebacks, exactly as tracemalloc writes them (the expected sizes were
 * checked against CPython's tracemalloc._format_size).
 */
#include "snapshot_fixture.h"

#include <sys/stat.h>

static const uint32_t quoted_line = __LINE__; /* quoted by rc_traceback_format */

static const char *size_text(double size, bool sign)
{
    static char text[64];
    size_t len = 0;
    rc_format_size(size, sign, text, sizeof text, &len);
    CHECK_EQ(len, strlen(text));
    return text;
}

static void test_format_size(void)
{
    CHECK_STR_EQ(size_text(0, false), "0 B");
    CHECK_STR_EQ(size_text(126, false), "126 B");
    CHECK_STR_EQ(size_text(10239, false), "10239 B");
    CHECK_STR_EQ(size_text(10240, false), "10.0 KiB");
    CHECK_STR_EQ(size_text(12595, false), "12.3 KiB");
    CHECK_STR_EQ(size_text(102399, false), "100.0 KiB"); /* 99.999 < 100: one decimal */
    CHECK_STR_EQ(size_text(102400, false), "100 KiB");
    CHECK_STR_EQ(size_text(10485760, false), "10.0 MiB");
    CHECK_STR_EQ(size_text(1073741824, false), "1024 MiB");
    CHECK_STR_EQ(size_text(1125899906842624.0, false), "1024 TiB");
    CHECK_STR_EQ(size_text(1152921504606846976.0, false), "1048576 TiB");
    CHECK_STR_EQ(size_text(0, true), "+0 B");
    CHECK_STR_EQ(size_text(-100, true), "-100 B");
    CHECK_STR_EQ(size_text(-10240, true), "-10.0 KiB");
    CHECK_STR_EQ(size_text(2048, true), "+2048 B");
    CHECK_STR_EQ(size_text(-5497558138880.0, true), "-5120 GiB");
    CHECK_STR_EQ(size_text(126.5, false), "126 B"); /* halves to even, as Python */
    CHECK_STR_EQ(size_text(127.5, false), "128 B");
}

static void test_statistic_text(void)
{
    rc_frame frame = {"src/main.c", "main", 42};
    rc_statistic stat = {{&frame, 1}, 12595, 100};
    CHECK_STR_EQ(stat_text(&stat), "src/main.c:42: size=12.3 KiB, count=100, average=126 B");
    stat.count = 1;
    CHECK_STR_EQ(stat_text(&stat), "src/main.c:42: size=12.3 KiB, count=1, average=12.3 KiB");
    rc_statistic_diff diff = {{&frame, 1}, 12595, 100, 2048, 16};
    CHECK_STR_EQ(diff_text(&diff),
                 "src/main.c:42: size=12.3 KiB (+2048 B), count=100 (+16), average=126 B");
    diff = (rc_statistic_diff){{&frame, 1}, 0, 0, -1048576, -3};
    CHECK_STR_EQ(diff_text(&diff), "src/main.c:42: size=0 B (-1024 KiB), count=0 (-3)");
}

/* snprintf's contract: the full length back, the text cut to fit. */
static void test_small_buffers(void)
{
    rc_frame frame = {"a.c", "", 7};
    rc_statistic stat = {{&frame, 1}, 10, 2};
    const char *full = "a.c:7: size=10 B, count=2, average=5 B";
    CHECK_EQ(rc_statistic_format(&stat, NULL, 0), strlen(full));
    char small[10];
    memset(small, 'x', sizeof small);
    CHECK_EQ(rc_statistic_format(&stat, small, sizeof small), strlen(full));
    CHECK_STR_EQ(small, "a.c:7: si");
    rc_statistic_diff diff = {{&frame, 1}, 10, 2, 10, 2};
    char one[1] = {'x'};
    CHECK_EQ(rc_statistic_diff_format(&diff, one, 1),
             strlen("a.c:7: size=10 B (+10 B), count=2 (+2), average=5 B"));
    CHECK_EQ(one[0], '\0');
    /* misuse: nothing to format */
    char text[8] = "x";
    CHECK_EQ(rc_statistic_format(NULL, text, sizeof text), 0);
    CHECK_STR_EQ(text, "");
    CHECK_STR_CONTAINS(rc_last_error(), "rc_statistic_format: no statistic");
    rc_statistic_diff empty = {{NULL, 0}, 0, 0, 0, 0};
    CHECK_EQ(rc_statistic_diff_format(&empty, text, sizeof text), 0);
    CHECK_STR_CONTAINS(rc_last_error(), "rc_statistic_diff_format: no statistic");
}

static char *expect_text(const char *fmt, ...) RC_PRINTF(1, 2);
static char *expect_text(const char *fmt, ...)
{
    static char text[2048];
    va_list args;
    va_start(args, fmt);
    vsnprintf(text, sizeof text, fmt, args);
    va_end(args);
    return text;
}

static void check_format(const rc_traceback *tb, int limit, bool recent_first, const char *want)
{
    char *text = rc_traceback_format(tb, limit, recent_first);
    CHECK_STR_EQ(text, want);
    free(text);
}

static void test_traceback_format(void)
{
    const char *quote = "    static const uint32_t quoted_line = __LINE__; /* quoted by "
                        "rc_traceback_format */\n";
    rc_frame frames[] = {
        {__FILE__, "f", quoted_line},
        {"/nonexistent/x.c", "g", 7},
        {"<unknown>", "libc.so.6+0x271ca", 0},
    };
    rc_traceback tb = {frames, 3};
    char here[1024];
    snprintf(here, sizeof here, "  File \"%s\", line %u\n%s", __FILE__, quoted_line, quote);
    const char *x = "  File \"/nonexistent/x.c\", line 7\n";
    const char *unknown = "  File \"<unknown>\", line 0\n";
    check_format(&tb, 0, false, expect_text("%s%s%s", unknown, x, here));
    check_format(&tb, 0, true, expect_text("%s%s%s", here, x, unknown));
    check_format(&tb, 1, false, here);
    check_format(&tb, 2, false, expect_text("%s%s", x, here));
    check_format(&tb, 2, true, expect_text("%s%s", here, x));
    check_format(&tb, 5, false, expect_text("%s%s%s", unknown, x, here));
    check_format(&tb, -1, false, expect_text("%s%s", unknown, x));
    check_format(&tb, -2, true, unknown);
    check_format(&tb, -3, false, "");
    check_format(&tb, -7, false, "");
    CHECK(rc_traceback_format(NULL, 0, false) == NULL);
    CHECK_STR_CONTAINS(rc_last_error(), "rc_traceback_format: the traceback is NULL");
}

/* Source lines: blank lines, lines past the end and unreadable files give
 * none; white space around the code is stripped. */
static void test_source_lines(void)
{
    char path[] = "/tmp/rc_format_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    const char *source = "first\n\n \t  indented code ; \t\r\nlast line without newline";
    CHECK_EQ(write(fd, source, strlen(source)), (long long)strlen(source));
    close(fd);
    rc_frame frames[] = {{path, "", 1}, {path, "", 2}, {path, "", 3}, {path, "", 4}, {path, "", 5}};
    const char *want[] = {"first", NULL, "indented code ;", "last line without newline", NULL};
    for (int i = 0; i < 5; i++) {
        rc_traceback tb = {&frames[i], 1};
        char line[256];
        snprintf(line, sizeof line, "  File \"%s\", line %d\n", path, i + 1);
        check_format(&tb, 0, false,
                     want[i] ? expect_text("%s    %s\n", line, want[i]) : expect_text("%s", line));
    }
    unlink(path);
    /* devices and pipes are never read (a loaded snapshot may name them) */
    char fifo[] = "/tmp/rc_format_fifo_XXXXXX";
    CHECK(mkdtemp(fifo) != NULL);
    char fifo_path[64];
    snprintf(fifo_path, sizeof fifo_path, "%s/pipe", fifo);
    CHECK(mkfifo(fifo_path, 0600) == 0);
    const char *special[] = {"/dev/zero", fifo_path, "/tmp"};
    for (int i = 0; i < 3; i++) {
        rc_frame frame = {special[i], "", 1};
        rc_traceback tb = {&frame, 1};
        check_format(&tb, 0, false, expect_text("  File \"%s\", line 1\n", special[i]));
    }
    unlink(fifo_path);
    rmdir(fifo);
}

int main(void)
{
    test_format_size();
    test_statistic_text();
    test_small_buffers();
    test_traceback_format();
    test_source_lines();
    return check_report();
}
