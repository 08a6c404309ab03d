/* format.c: the text of statistics, diffs and tracebacks, as tracemalloc's
 * Statistic.__str__, StatisticDiff.__str__, Traceback.format and
 * _format_size write them.
 *
 * _format_size: a size below 100 of a unit above B has one decimal
 * ("12.3 KiB"); below 10 * 1024 of a unit, or in TiB, none ("9999 B",
 * "126 B"); else the next unit. Signed sizes carry '+' or '-'.
 */
#include "snapshot_internal.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>

/* snprintf at buf + *len, advancing *len by the full length. */
RC_PRINTF(4, 5)
static void appendf(char *buf, size_t size, size_t *len, const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    bool room = *len < size;
    int n = vsnprintf(room ? buf + *len : NULL, room ? size - *len : 0, fmt, args);
    va_end(args);
    if (n > 0)
        *len += (size_t)n;
}

void rc_format_size(double size, bool sign, char *buf, size_t size_of_buf, size_t *len)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    size_t last = sizeof units / sizeof units[0] - 1;
    for (size_t unit = 0;; unit++, size /= 1024) {
        double magnitude = size < 0 ? -size : size;
        if (magnitude < 100 && unit != 0) {
            appendf(buf, size_of_buf, len, sign ? "%+.1f %s" : "%.1f %s", size, units[unit]);
            return;
        }
        if (magnitude < 10 * 1024 || unit == last) {
            appendf(buf, size_of_buf, len, sign ? "%+.0f %s" : "%.0f %s", size, units[unit]);
            return;
        }
    }
}

/* Statistic.__str__, and StatisticDiff.__str__ when diff is not NULL:
 * "file.c:42: size=12.3 KiB (+2048 B), count=100 (+16), average=126 B".
 * 0 with a message, and buf "", if tb has no frame to name. */
static size_t format_statistic(const rc_traceback *tb, size_t bytes, size_t count,
                               const rc_statistic_diff *diff, char *buf, size_t size,
                               const char *what)
{
    size_t len = 0;
    if (size)
        buf[0] = '\0';
    if (!tb || tb->nframes == 0 || !tb->frames) {
        rc_set_error(RC_EINVAL, "%s: no statistic, or one without a frame", what);
        return 0;
    }
    appendf(buf, size, &len, "%s:%" PRIu32 ": size=", tb->frames[0].filename, tb->frames[0].lineno);
    rc_format_size((double)bytes, false, buf, size, &len);
    if (diff) {
        appendf(buf, size, &len, " (");
        rc_format_size((double)diff->size_diff, true, buf, size, &len);
        appendf(buf, size, &len, ")");
    }
    appendf(buf, size, &len, ", count=%zu", count);
    if (diff)
        appendf(buf, size, &len, " (%+" PRId64 ")", diff->count_diff);
    if (count > 0) {
        appendf(buf, size, &len, ", average=");
        rc_format_size((double)bytes / (double)count, false, buf, size, &len);
    }
    return len;
}

size_t rc_statistic_format(const rc_statistic *stat, char *buf, size_t size)
{
    return format_statistic(stat ? &stat->traceback : NULL, stat ? stat->size : 0,
                            stat ? stat->count : 0, NULL, buf, size, "rc_statistic_format");
}

size_t rc_statistic_diff_format(const rc_statistic_diff *diff, char *buf, size_t size)
{
    return format_statistic(diff ? &diff->traceback : NULL, diff ? diff->size : 0,
                            diff ? diff->count : 0, diff, buf, size, "rc_statistic_diff_format");
}

/* ---- Traceback.format ----------------------------------------------------- */

/* Line `lineno` of the file at path with surrounding white space removed, in
 * a buffer to free(), or NULL if it cannot be read or is blank. Only regular
 * files are read: a loaded snapshot may name /dev/zero or a pipe. */
static char *source_line(const char *path, uint32_t lineno)
{
    int fd = lineno ? open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC) : -1; /* a FIFO: no wait */
    struct stat st;
    if (fd >= 0 && (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))) {
        close(fd);
        fd = -1;
    }
    FILE *file = fd >= 0 ? fdopen(fd, "r") : NULL;
    if (!file) {
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t got = -1;
    for (uint32_t i = 0; i < lineno && (got = getline(&line, &cap, file)) >= 0; i++) {
    }
    fclose(file);
    char *start = line, *end = line + (got > 0 ? got : 0);
    while (start < end && strchr(" \t\n\r\f\v", *start))
        start++;
    while (end > start && strchr(" \t\n\r\f\v", end[-1]))
        end--;
    if (got < 0 || start == end) {
        free(line);
        return NULL;
    }
    *end = '\0';
    memmove(line, start, (size_t)(end - start) + 1);
    return line;
}

/* Appends one frame's lines; false if memory is short. */
static bool format_frame(const rc_frame *frame, char **text, size_t *len, size_t *cap)
{
    char *code = source_line(frame->filename, frame->lineno);
    size_t need =
        snprintf(NULL, 0, "  File \"%s\", line %" PRIu32 "\n", frame->filename, frame->lineno) +
        (code ? strlen(code) + 6 : 0) + 1;
    bool ok = rc_snap_reserve(text, cap, *len + need, 1) == 0;
    if (ok) {
        size_t room = *cap - *len;
        *len += (size_t)snprintf(*text + *len, room, "  File \"%s\", line %" PRIu32 "\n",
                                 frame->filename, frame->lineno);
        if (code)
            *len += (size_t)snprintf(*text + *len, *cap - *len, "    %s\n", code);
    }
    free(code);
    return ok;
}

char *rc_traceback_format(const rc_traceback *tb, int limit, bool most_recent_first)
{
    if (!tb) {
        rc_set_error(RC_EINVAL, "rc_traceback_format: the traceback is NULL");
        return NULL;
    }
    /* kept: frames[first, end), in most-recent-first indices */
    size_t n = tb->nframes, first = 0, end = n;
    size_t cut = limit < 0 ? (size_t) - (long)limit : (size_t)limit;
    if (limit > 0)
        end = cut < n ? cut : n;
    else if (limit < 0)
        first = cut < n ? cut : n;
    char *text = NULL;
    size_t len = 0, cap = 0;
    bool ok = rc_snap_reserve(&text, &cap, 1, 1) == 0;
    for (size_t k = 0; ok && k < end - first; k++) {
        size_t i = most_recent_first ? first + k : end - 1 - k;
        ok = format_frame(&tb->frames[i], &text, &len, &cap);
    }
    if (!ok) {
        rc_snap_free(text);
        return NULL;
    }
    text[len] = '\0';
    return text;
}
