/* test_snapshot_dump.c: the snapshot file format. Round trips keep every
 * trace, traceback and statistic; the bytes of a small file are pinned;
 * every truncation, every flipped bit and a catalogue of hand-made hostile
 * files give NULL and a message naming the section, field and offset.
 */
#include "snapshot_fixture.h"

#include <dirent.h>
#include <sys/stat.h>

/* ---- building files by hand ------------------------------------------------ */

typedef struct bytes {
    uint8_t data[4096];
    size_t len;
} bytes;

static void put(bytes *b, const void *p, size_t n)
{
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

static void put_byte(bytes *b, uint8_t v) { put(b, &v, 1); }

static void put_varint(bytes *b, uint64_t v)
{
    do {
        put_byte(b, (uint8_t)((v & 0x7F) | (v > 0x7F ? 0x80 : 0)));
        v >>= 7;
    } while (v);
}

static void put_le(uint8_t *at, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        at[i] = (uint8_t)(v >> (8 * i));
}

/* A whole file around body: magic, version 1, flags 0, checksum, length.
 * Laid out here by hand, not by rc_dump_seal, so that test_exact_bytes
 * checks the library's header against the documented one. */
static bytes file_of(const bytes *body)
{
    bytes f = {.len = 0};
    put(&f, RC_DUMP_MAGIC, 8);
    uint8_t header[16] = {0};
    put_le(header, 1, 2);
    put_le(header + 4, rc_dump_crc32(body->data, body->len), 4);
    put_le(header + 8, body->len, 8);
    put(&f, header, 16);
    put(&f, body->data, body->len);
    return f;
}

/* The body of a valid one-trace file: limit 1, strings "a.c" "", frame
 * a.c:3, traceback [0], trace of 5 bytes. */
static bytes small_body(void)
{
    bytes b = {.len = 0};
    const uint8_t body[] = {1, 'S', 2,   3, 'a', '.', 'c', 0, 'F', 1, 0,
                            3, 1,   'B', 1, 1,   0,   'T', 1, 5,   0};
    put(&b, body, sizeof body);
    return b;
}

static void expect_load_error(const bytes *f, const char *text)
{
    rc_snapshot *snap = rc_snapshot_load_buffer(f->data, f->len);
    CHECK(snap == NULL);
    CHECK_STR_CONTAINS(rc_last_error(), text);
    rc_snapshot_free(snap);
}

/* ---- round trips --------------------------------------------------------------- */

static rc_snapshot *sample(void)
{
    rc_snapshot *snap = rc_snapshot_new(4);
    add_n(snap, 100, "/src/a.c:10:alloc_a /src/main.c:5:main", 3);
    add_n(snap, 300000, "/src/b.c:20:alloc_b /src/a.c:10:alloc_a /src/main.c:5:main", 2);
    add(snap, 0, "<unknown>:0:libc.so.6+0x271ca");
    add(snap, (size_t)1 << 40, "/src/big.c:4000000000:big");
    return snap;
}

static void check_same(rc_snapshot *a, rc_snapshot *b)
{
    CHECK_EQ(rc_snapshot_traceback_limit(a), rc_snapshot_traceback_limit(b));
    CHECK_EQ(rc_snapshot_trace_count(a), rc_snapshot_trace_count(b));
    for (size_t i = 0; i < rc_snapshot_trace_count(a) && i < rc_snapshot_trace_count(b); i++) {
        size_t sa = 1, sb = 2;
        const rc_traceback *ta = rc_snapshot_trace(a, i, &sa), *tb = rc_snapshot_trace(b, i, &sb);
        CHECK_EQ(sa, sb);
        CHECK_EQ(ta->nframes, tb->nframes);
        for (size_t k = 0; k < ta->nframes && k < tb->nframes; k++) {
            CHECK_STR_EQ(ta->frames[k].filename, tb->frames[k].filename);
            CHECK_STR_EQ(ta->frames[k].function, tb->frames[k].function);
            CHECK_EQ(ta->frames[k].lineno, tb->frames[k].lineno);
        }
    }
    size_t n, keys;
    rc_statistics_free(rc_snapshot_statistics(a, RC_TRACE_KEY_TRACEBACK, false, &keys));
    rc_statistic_diff *d = rc_snapshot_compare(a, b, RC_TRACE_KEY_TRACEBACK, false, &n);
    CHECK_EQ(n, keys);
    for (size_t i = 0; d && i < n; i++)
        CHECK(d[i].size_diff == 0 && d[i].count_diff == 0);
    rc_statistics_free(d);
}

static void test_round_trip(void)
{
    rc_snapshot *snap = sample();
    char path[] = "/tmp/rc_snapshot_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    close(fd);
    CHECK_EQ(rc_snapshot_dump(snap, path), 0);
    rc_snapshot *loaded = rc_snapshot_load(path);
    CHECK(loaded != NULL);
    if (loaded) {
        check_same(snap, loaded);
        /* the same bytes again: the encoding is canonical */
        size_t n1, n2;
        uint8_t *e1 = rc_dump_encode(snap, &n1), *e2 = rc_dump_encode(loaded, &n2);
        CHECK(n1 == n2 && memcmp(e1, e2, n1) == 0);
        struct stat st;
        CHECK(stat(path, &st) == 0 && (size_t)st.st_size == n1);
        rc_snap_free(e1);
        rc_snap_free(e2);
    }
    rc_snapshot_free(loaded);
    unlink(path);
    rc_snapshot_free(snap);
}

/* An empty snapshot and one whose tracebacks are not yet symbolized. */
static void test_round_trip_edges(void)
{
    rc_snapshot *empty = rc_snapshot_new(0);
    size_t n;
    uint8_t *data = rc_dump_encode(empty, &n);
    CHECK_EQ(n, 24 + 9); /* limit, then four sections of count 0 */
    rc_snapshot *back = rc_snapshot_load_buffer(data, n);
    CHECK(back != NULL && rc_snapshot_trace_count(back) == 0);
    rc_snapshot_free(back);
    rc_snap_free(data);
    rc_snapshot_free(empty);

    rc_snapshot *raw = rc_snapshot_new(2);
    uint32_t run[2] = {rc_snapshot_add_address(raw, 0x10), rc_snapshot_add_address(raw, 0x20)};
    CHECK_EQ(rc_snapshot_add_trace(raw, 7, rc_snapshot_add_traceback(raw, run, 2)), 0);
    data = rc_dump_encode(raw, &n);
    back = rc_snapshot_load_buffer(data, n);
    CHECK(back != NULL);
    if (back)
        check_same(raw, back);
    const rc_traceback *tb = back ? rc_snapshot_trace(back, 0, NULL) : NULL;
    CHECK(tb && tb->nframes == 2 && strcmp(tb->frames[0].filename, "<unknown>") == 0);
    CHECK(tb && strcmp(tb->frames[0].function, "0xf") == 0); /* address - 1, no module */
    rc_snapshot_free(back);
    rc_snap_free(data);
    rc_snapshot_free(raw);
}

/* The bytes of the small file, as docs/tracing.md describes them. */
static void test_exact_bytes(void)
{
    CHECK_EQ(rc_dump_crc32("123456789", 9), 0xCBF43926u); /* the standard check value */
    rc_snapshot *snap = rc_snapshot_new(1);
    add(snap, 5, "a.c:3");
    size_t n;
    uint8_t *data = rc_dump_encode(snap, &n);
    bytes body = small_body();
    bytes want = file_of(&body);
    CHECK_EQ(n, want.len);
    CHECK(data && n == want.len && memcmp(data, want.data, n) == 0);
    rc_snap_free(data);
    rc_snapshot_free(snap);
}

/* Duplicates in a file are merged by the loader's interning. */
static void test_duplicates_merge(void)
{
    bytes b = {.len = 0};
    const uint8_t body[] = {1,   'S', 3, 1, 'x', 1, 'x', 0, /* "x" "x" "" */
                            'F', 2,   0, 1, 2,   1, 1,   2, /* x:1 twice */
                            'B', 2,   1, 0, 1,   1, 'T', 2, 4, 0, 6, 1};
    put(&b, body, sizeof body);
    bytes f = file_of(&b);
    rc_snapshot *snap = rc_snapshot_load_buffer(f.data, f.len);
    CHECK(snap != NULL);
    if (!snap)
        return;
    CHECK_EQ(snap->nstrings, 2);
    CHECK_EQ(snap->nframes, 1);
    CHECK_EQ(snap->ntracebacks, 1);
    size_t count;
    rc_statistic *stats = rc_snapshot_statistics(snap, RC_TRACE_KEY_LINENO, false, &count);
    CHECK_EQ(count, 1);
    CHECK_STR_EQ(stat_text(&stats[0]), "x:1: size=10 B, count=2, average=5 B");
    rc_statistics_free(stats);
    rc_snapshot_free(snap);
}

/* ---- damaged files ------------------------------------------------------------- */

/* Cut at every length: the header's body length catches it. */
static void test_truncated_file(void)
{
    bytes body = small_body();
    bytes f = file_of(&body);
    for (size_t len = 0; len < f.len; len++) {
        rc_snapshot *snap = rc_snapshot_load_buffer(f.data, len);
        CHECK(snap == NULL);
        const char *e = rc_last_error();
        if (len < 8)
            CHECK_STR_CONTAINS(e, "header section: magic at offset 0: not a reclaim snapshot");
        else if (len < 24)
            CHECK_STR_CONTAINS(e, "a header takes 24");
        else
            CHECK_STR_CONTAINS(e, "header section: body length at offset 16: the header says 21 "
                                  "bytes");
    }
}

/* Cut the body at every length and re-seal the header: the parser itself
 * must find the end, in every section and field. */
static void test_truncated_body(void)
{
    bytes body = small_body();
    bytes f = file_of(&body);
    int sections[4] = {0};
    for (size_t len = 24; len < f.len; len++) {
        uint8_t copy[64];
        memcpy(copy, f.data, len);
        rc_dump_seal(copy, len);
        rc_snapshot *snap = rc_snapshot_load_buffer(copy, len);
        CHECK(snap == NULL);
        rc_snapshot_free(snap);
        const char *e = rc_last_error();
        CHECK(strstr(e, "rc_snapshot_load_buffer: ") == e && strstr(e, " at offset "));
        sections[0] += strstr(e, "strings section") != NULL;
        sections[1] += strstr(e, "frames section") != NULL;
        sections[2] += strstr(e, "tracebacks section") != NULL;
        sections[3] += strstr(e, "traces section") != NULL;
    }
    for (int i = 0; i < 4; i++)
        CHECK(sections[i] >= 2);
}

/* Every single flipped bit is caught (by the checksum in the body). */
static void test_flipped_bits(void)
{
    bytes body = small_body();
    bytes f = file_of(&body);
    for (size_t i = 0; i < f.len * 8; i++) {
        f.data[i / 8] ^= (uint8_t)(1u << (i % 8));
        rc_snapshot *snap = rc_snapshot_load_buffer(f.data, f.len);
        CHECK(snap == NULL);
        CHECK(strstr(rc_last_error(), "header section") != NULL);
        rc_snapshot_free(snap);
        f.data[i / 8] ^= (uint8_t)(1u << (i % 8));
    }
    rc_snapshot *snap = rc_snapshot_load_buffer(f.data, f.len);
    CHECK(snap != NULL);
    rc_snapshot_free(snap);
}

/* Flipped body bytes with a re-sealed header: a message or a snapshot, and
 * a snapshot must survive being examined. */
static void test_flipped_resealed(void)
{
    rc_snapshot *src = sample();
    size_t n;
    uint8_t *data = rc_dump_encode(src, &n);
    rc_snapshot_free(src);
    int failed = 0, loaded = 0;
    for (size_t i = 24; i < n; i++) {
        for (int v = 0; v < 4; v++) {
            static const uint8_t values[] = {0x00, 0xFF, 0x80, 0x7F};
            uint8_t saved = data[i];
            data[i] = saved == values[v] ? (uint8_t)(saved ^ 1) : values[v];
            rc_dump_seal(data, n);
            rc_snapshot *snap = rc_snapshot_load_buffer(data, n);
            if (snap) {
                size_t count;
                rc_statistic *stats =
                    rc_snapshot_statistics(snap, RC_TRACE_KEY_LINENO, true, &count);
                CHECK(stats != NULL);
                rc_statistics_free(stats);
                loaded++;
            } else {
                CHECK(strstr(rc_last_error(), " at offset ") != NULL);
                failed++;
            }
            rc_snapshot_free(snap);
            data[i] = saved;
        }
    }
    CHECK(failed > 0 && loaded > 0);
    rc_snap_free(data);
}

/* A body whose first sections are valid (strings "a.c" "", frame a.c:3,
 * traceback [0]), up to the section under test. */
static bytes prefix(char upto)
{
    bytes b = {.len = 0};
    put_byte(&b, 1);
    const uint8_t strings[] = {'S', 2, 3, 'a', '.', 'c', 0};
    const uint8_t frames[] = {'F', 1, 0, 3, 1};
    const uint8_t tracebacks[] = {'B', 1, 1, 0};
    if (upto == 'S')
        return b;
    put(&b, strings, sizeof strings);
    if (upto == 'F')
        return b;
    put(&b, frames, sizeof frames);
    if (upto == 'B')
        return b;
    put(&b, tracebacks, sizeof tracebacks);
    return b;
}

static void expect_body_error(bytes *body, const char *text)
{
    bytes f = file_of(body);
    expect_load_error(&f, text);
}

static void test_hostile_counts(void)
{
    const char *names[] = {"strings", "frames", "tracebacks", "traces"};
    const char tags[] = {'S', 'F', 'B', 'T'};
    for (int i = 0; i < 4; i++) {
        uint64_t counts[] = {(uint64_t)1 << 40, UINT64_MAX, 1000};
        for (int c = 0; c < 3; c++) {
            bytes b = prefix(tags[i]);
            size_t at = 24 + b.len + 1;
            put_byte(&b, (uint8_t)tags[i]);
            put_varint(&b, counts[c]);
            put_byte(&b, 0);
            char want[200];
            snprintf(want, sizeof want,
                     "%s section: count at offset %zu: %llu records cannot fit in the 1 bytes "
                     "left",
                     names[i], at, (unsigned long long)counts[c]);
            expect_body_error(&b, want);
        }
    }
}

/* A body valid up to section `tag`, then the n bytes of rest: the loader
 * refuses it with text. */
static void expect_section_error(char tag, const char *rest, size_t n, const char *text)
{
    bytes b = prefix(tag);
    put(&b, rest, n);
    expect_body_error(&b, text);
}

static void test_hostile_fields(void)
{
    expect_section_error('S',
                         "S\x01\x09"
                         "ab",
                         5, /* a string of 9 bytes, 2 there */
                         "strings section: string 0's length at offset 27: 9 bytes run past "
                         "the end (2 left)");
    expect_section_error('S',
                         "S\x01\x03"
                         "a\0b",
                         6, "strings section: string 0's bytes at offset 29: a NUL byte");
    expect_section_error('F', "F\x01\x05\x03\x01", 5,
                         "frames section: frame 0's filename at offset 34: index 5 is out of "
                         "range (2 entries)");
    bytes b = prefix('F');
    put(&b, "F\x01\x00", 3);
    put_varint(&b, (uint64_t)UINT32_MAX + 1);
    put_byte(&b, 1);
    expect_body_error(&b, "frames section: frame 0's lineno at offset 35: 4294967296 is outside "
                          "[0, 4294967295]");
    expect_section_error('B', "B\x01\x00\x00", 4,
                         "tracebacks section: traceback 0's length at offset 39: 0 is outside");
    expect_section_error('B', "B\x01\x01\x01", 4,
                         "tracebacks section: traceback 0's frame at offset 40: index 1 is out "
                         "of range (1 entries)");
    expect_section_error('T', "T\x01\x05\x01", 4,
                         "traces section: trace 0's traceback at offset 44: index 1 is out of "
                         "range (1 entries)");
    expect_section_error('T', "T\x01\x80\x80\x80\x80\x80\x80\x80\x80\x80\x02\x00", 13,
                         "traces section: trace 0's size at offset 43: the number does not "
                         "fit in 64 bits");
    expect_section_error('T', "T\x01\x05\x00\x00", 5,
                         "end section: end at offset 45: 1 bytes follow the traces");
    expect_section_error('F', "T\x00", 2,
                         "frames section: tag at offset 32: expected 'F', found byte 0x54");
    expect_section_error('B', "", 0,
                         "tracebacks section: tag at offset 37: truncated (the section is "
                         "missing)");
}

static void test_hostile_header(void)
{
    bytes body = small_body();
    bytes f = file_of(&body);
    expect_load_error(&(bytes){.len = 0}, "header section: magic at offset 0");
    bytes g = f;
    g.data[8] = 2;
    expect_load_error(&g, "header section: version at offset 8: version 2 is not supported "
                          "(this library reads 1)");
    g = f;
    g.data[11] = 1;
    expect_load_error(&g, "header section: flags at offset 10: unknown flags 0x100");
    g = f;
    g.data[12] ^= 1;
    expect_load_error(&g, "header section: checksum at offset 12: the header says 0x");
    g = f;
    g.data[g.len++] = 0;
    expect_load_error(&g, "the header says 21 bytes, 22 follow it (trailing bytes)");
    g = f;
    put_le(g.data + 16, UINT64_MAX, 8);
    expect_load_error(&g, "the header says 18446744073709551615 bytes, 21 follow it (truncated)");
    memcpy(g.data, "RCSNAP\n\n", 8);
    expect_load_error(&g, "not a reclaim snapshot");
    CHECK(rc_snapshot_load_buffer(NULL, 5) == NULL);
    CHECK_STR_CONTAINS(rc_last_error(), "rc_snapshot_load_buffer: 5 bytes at NULL");
}

static void test_files(void)
{
    CHECK(rc_snapshot_load("/nonexistent/dir/x.snap") == NULL);
    CHECK_STR_CONTAINS(rc_last_error(),
                       "rc_snapshot_load: cannot open /nonexistent/dir/x.snap: No such file");
    CHECK(rc_snapshot_load("/tmp") == NULL);
    CHECK_STR_CONTAINS(rc_last_error(), "rc_snapshot_load: cannot read /tmp");
    CHECK(rc_snapshot_load(NULL) == NULL);
    CHECK_STR_CONTAINS(rc_last_error(), "the path is NULL");
    rc_snapshot *snap = sample();
    CHECK_EQ(rc_snapshot_dump(snap, "/nonexistent/dir/x.snap"), RC_EINVAL);
    CHECK_STR_CONTAINS(rc_last_error(), "rc_snapshot_dump: cannot write /nonexistent/dir/x.snap");
    CHECK_EQ(rc_snapshot_dump(snap, NULL), RC_EINVAL);
    CHECK_EQ(rc_snapshot_dump(NULL, "/tmp/x"), RC_EINVAL);
    /* a file that is not a snapshot, read through the path */
    char path[] = "/tmp/rc_not_snapshot_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0 && write(fd, "hello", 5) == 5);
    close(fd);
    CHECK(rc_snapshot_load(path) == NULL);
    char want[128];
    snprintf(want, sizeof want, "rc_snapshot_load: %s: header section: magic at offset 0", path);
    CHECK_STR_CONTAINS(rc_last_error(), want);
    unlink(path);
    rc_snapshot_free(snap);
}

/* The fuzz target's seed corpus: the valid-* files load, the others fail
 * with a message that says where. */
static void test_seed_corpus(void)
{
    char dir[1024];
    snprintf(dir, sizeof dir, "%s", __FILE__);
    snprintf(strrchr(dir, '/'), 64, "/fuzz/corpus");
    DIR *d = opendir(dir);
    CHECK(d != NULL);
    int files = 0;
    for (struct dirent *e; d && (e = readdir(d));) {
        if (e->d_name[0] == '.')
            continue;
        char path[1400];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        rc_snapshot *snap = rc_snapshot_load(path);
        bool valid = strncmp(e->d_name, "valid-", 6) == 0;
        CHECK(valid == (snap != NULL));
        if (!valid)
            CHECK_STR_CONTAINS(rc_last_error(), " at offset ");
        if (valid != (snap != NULL))
            fprintf(stderr, "  %s: %s\n", e->d_name, snap ? "loaded" : rc_last_error());
        rc_snapshot_free(snap);
        files++;
    }
    if (d)
        closedir(d);
    CHECK(files >= 20);
}

int main(void)
{
    test_round_trip();
    test_round_trip_edges();
    test_exact_bytes();
    test_duplicates_merge();
    test_truncated_file();
    test_truncated_body();
    test_flipped_bits();
    test_flipped_resealed();
    test_hostile_counts();
    test_hostile_fields();
    test_hostile_header();
    test_files();
    test_seed_corpus();
    return check_report();
}
