/* snapshot_fixture.h: synthetic snapshots for the snapshot tests, built
 * through the internal builder (src/trace/snapshot_internal.h) from text:
 *
 *   add(snap, 100, "a.c:10 main.c:5")   one trace of 100 bytes whose
 *                                       traceback is a.c:10 (most recent)
 *                                       called from main.c:5
 *
 * A frame is "file:line" or "file:line:function" (function "" otherwise).
 * stat_text / diff_text format a result the way users see it.
 */
#ifndef RC_TEST_SNAPSHOT_FIXTURE_H
#define RC_TEST_SNAPSHOT_FIXTURE_H

#include "check.h"

#include "trace/dumpfile.h"
#include "trace/snapshot_internal.h"

/* Adds the frames of spec to snap; their indices in out (at most max). */
static inline size_t spec_frames(rc_snapshot *snap, const char *spec, uint32_t *out, size_t max)
{
    char copy[1024];
    snprintf(copy, sizeof copy, "%s", spec);
    size_t n = 0;
    for (char *save = NULL, *word = strtok_r(copy, " ", &save); word && n < max;
         word = strtok_r(NULL, " ", &save)) {
        char *colon = strchr(word, ':');
        *colon = '\0';
        char *function = strchr(colon + 1, ':');
        if (function)
            *function++ = '\0';
        out[n++] =
            rc_snapshot_add_frame(snap, word, (uint32_t)atoi(colon + 1), function ? function : "");
    }
    return n;
}

/* count traces of size bytes each with traceback spec. */
static inline void add_n(rc_snapshot *snap, size_t size, const char *spec, int count)
{
    uint32_t frames[64];
    size_t n = spec_frames(snap, spec, frames, 64);
    uint32_t tb = rc_snapshot_add_traceback(snap, frames, n);
    for (int i = 0; i < count; i++)
        CHECK_EQ(rc_snapshot_add_trace(snap, size, tb), 0);
}

static inline void add(rc_snapshot *snap, size_t size, const char *spec)
{
    add_n(snap, size, spec, 1);
}

/* "file:line" of a traceback's first frame, or the whole traceback as
 * "file:line<file:line..." (static buffer). */
static inline const char *tb_text(const rc_traceback *tb)
{
    static char text[1024];
    size_t len = 0;
    text[0] = '\0';
    for (size_t i = 0; i < tb->nframes && len < sizeof text; i++)
        len += (size_t)snprintf(text + len, sizeof text - len, "%s%s:%u", i ? "<" : "",
                                tb->frames[i].filename, tb->frames[i].lineno);
    return text;
}

static inline const char *stat_text(const rc_statistic *stat)
{
    static char text[512];
    rc_statistic_format(stat, text, sizeof text);
    return text;
}

static inline const char *diff_text(const rc_statistic_diff *diff)
{
    static char text[512];
    rc_statistic_diff_format(diff, text, sizeof text);
    return text;
}

#define CHECK_STR_EQ(a, b)                                                                         \
    do {                                                                                           \
        const char *check_sa_ = (a), *check_sb_ = (b);                                             \
        if (check_sa_ && check_sb_ && strcmp(check_sa_, check_sb_) == 0) {                         \
            check_passed_count++;                                                                  \
        } else {                                                                                   \
            check_failed_count++;                                                                  \
            fprintf(stderr, "%s:%d: CHECK_STR_EQ failed: \"%s\" vs \"%s\"\n", __FILE__, __LINE__,  \
                    check_sa_ ? check_sa_ : "(null)", check_sb_ ? check_sb_ : "(null)");           \
        }                                                                                          \
    } while (0)

#endif
