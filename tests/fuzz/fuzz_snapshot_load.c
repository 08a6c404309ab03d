/* fuzz_snapshot_load.c: libFuzzer target for the snapshot loader.
 *
 * Each input is loaded twice: as it is (the header checks: magic, version,
 * length, checksum) and with its header re-sealed (rewritten to match the
 * body), so that mutations reach the body's parser instead of dying at the
 * checksum. A snapshot that loads is then examined the ways a
 * user would (every statistic, a comparison with itself, filters, every
 * trace, formatting) and dumped again: its encoding must load back to the
 * same bytes. A failed load must leave a message. Source lines are not
 * looked up (rc_traceback_format reads files): the fuzzer stays off the
 * file system.
 *
 * Built by tests/fuzz/CMakeLists.txt with clang -fsanitize=fuzzer,address,
 * undefined; see docs/tracing.md for running it.
 */
#include "trace/dumpfile.h"

#include <stdlib.h>
#include <string.h>

/* The tracer (src/trace/capture.c) bounds reclaim's code by the linker's
 * __start_rc_text and __stop_rc_text, which exist only if some input has a
 * section rc_text; the library's own build renames its code into it. This
 * program compiles the sources directly, so one empty function there gives
 * the symbols. Tracing is never on here. */
__attribute__((section("rc_text"), used)) static void rc_text_anchor(void) {}

static void examine(rc_snapshot *snap)
{
    static const rc_trace_key keys[] = {RC_TRACE_KEY_FILENAME, RC_TRACE_KEY_LINENO,
                                        RC_TRACE_KEY_TRACEBACK};
    char text[512];
    for (int k = 0; k < 3; k++) {
        size_t n = 0;
        rc_statistic *stats = rc_snapshot_statistics(snap, keys[k], k != 2, &n);
        for (size_t i = 0; stats && i < n; i++)
            rc_statistic_format(&stats[i], text, sizeof text);
        rc_statistics_free(stats);
        rc_statistic_diff *d = rc_snapshot_compare(snap, snap, keys[k], false, &n);
        for (size_t i = 0; d && i < n; i++)
            if (d[i].size_diff != 0 || d[i].count_diff != 0)
                abort();
        rc_statistics_free(d);
    }
    for (size_t i = 0; i < rc_snapshot_trace_count(snap); i++)
        if (!rc_snapshot_trace(snap, i, NULL))
            abort();
    /* a part of it, compared with the whole both ways */
    rc_trace_filter filters[2] = {{true, "*[a-m]*", 0, true}, {false, "?", 1, false}};
    rc_snapshot *part = rc_snapshot_filter(snap, filters, 2);
    for (int way = 0; part && way < 2; way++) {
        size_t n = 0;
        rc_statistic_diff *d =
            rc_snapshot_compare(way ? part : snap, way ? snap : part, RC_TRACE_KEY_LINENO, way, &n);
        for (size_t i = 0; d && i < n; i++)
            rc_statistic_diff_format(&d[i], text, sizeof text);
        rc_statistics_free(d);
    }
    rc_snapshot_free(part);
}

/* Dumps snap and loads the bytes again: the second encoding must equal the
 * first (the format is canonical once loaded). */
static void round_trip(rc_snapshot *snap)
{
    size_t n1 = 0, n2 = 0;
    uint8_t *first = rc_dump_encode(snap, &n1);
    rc_snapshot *again = first ? rc_snapshot_load_buffer(first, n1) : NULL;
    uint8_t *second = again ? rc_dump_encode(again, &n2) : NULL;
    if (first && (!second || n1 != n2 || memcmp(first, second, n1) != 0))
        abort();
    rc_snap_free(first);
    rc_snap_free(second);
    rc_snapshot_free(again);
}

static void load(const uint8_t *data, size_t size)
{
    rc_snapshot *snap = rc_snapshot_load_buffer(data, size);
    if (!snap) {
        if (!*rc_last_error())
            abort();
        return;
    }
    examine(snap);
    round_trip(snap);
    rc_snapshot_free(snap);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    load(data, size);
    if (size < RC_DUMP_HEADER_SIZE)
        return 0;
    uint8_t *copy = malloc(size);
    memcpy(copy, data, size);
    rc_dump_seal(copy, size);
    load(copy, size);
    free(copy);
    return 0;
}
