/* make_corpus.c: writes the fuzz target's seed corpus (tests/fuzz/corpus/):
 * valid dumps of small synthetic snapshots, and hand-made edge cases whose
 * header is sealed (right length and checksum) so that the fuzzer starts
 * inside the parser's error paths. The files are kept in the repository;
 * run this again after a format change:
 *
 *   build/<tree>/tests/fuzz-build/make_corpus tests/fuzz/corpus
 */
#include "trace/dumpfile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

__attribute__((section("rc_text"), used)) static void rc_text_anchor(void) {}

static const char *dir;

static void write_file(const char *name, const void *data, size_t size)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *file = fopen(path, "wb");
    if (!file || fwrite(data, 1, size, file) != size || fclose(file) != 0) {
        perror(path);
        exit(1);
    }
}

static void write_snapshot(const char *name, rc_snapshot *snap)
{
    size_t size;
    uint8_t *data = rc_dump_encode(snap, &size);
    write_file(name, data, size);
    rc_snap_free(data);
    rc_snapshot_free(snap);
}

/* A file around a hand-made body, header sealed. */
static void write_body(const char *name, const char *body, size_t len)
{
    uint8_t file[512] = {0};
    memcpy(file + RC_DUMP_HEADER_SIZE, body, len);
    rc_dump_seal(file, RC_DUMP_HEADER_SIZE + len);
    write_file(name, file, RC_DUMP_HEADER_SIZE + len);
}

/* Traces from text: "size file:line:function ..." per trace. */
static rc_snapshot *snapshot_of(size_t limit, const char *const *traces, int n)
{
    rc_snapshot *snap = rc_snapshot_new(limit);
    for (int i = 0; i < n; i++) {
        char copy[256];
        snprintf(copy, sizeof copy, "%s", traces[i]);
        char *save = NULL, *word = strtok_r(copy, " ", &save);
        size_t size = strtoull(word, NULL, 10);
        uint32_t run[16];
        size_t k = 0;
        while ((word = strtok_r(NULL, " ", &save)) && k < 16) {
            char *file = strtok(word, ":"), *line = strtok(NULL, ":"), *fn = strtok(NULL, ":");
            run[k++] = rc_snapshot_add_frame(snap, file, (uint32_t)atoi(line), fn ? fn : "");
        }
        rc_snapshot_add_trace(snap, size, rc_snapshot_add_traceback(snap, run, k));
    }
    return snap;
}

static void valid_files(void)
{
    write_snapshot("valid-empty", rc_snapshot_new(0));
    const char *one[] = {"5 a.c:3"};
    write_snapshot("valid-one", snapshot_of(1, one, 1));
    const char *several[] = {
        "100 /src/a.c:10:alloc_a /src/main.c:5:main",
        "100 /src/a.c:10:alloc_a /src/main.c:5:main",
        "300000 /src/b.c:20:alloc_b /src/a.c:10:alloc_a /src/main.c:5:main",
        "0 <unknown>:0:libc.so.6+0x271ca",
        "1099511627776 /src/big.c:4000000000:big",
        "24 /src/b.c:21:f /src/b.c:20:f /src/b.c:21:f /src/main.c:7:main",
    };
    write_snapshot("valid-several", snapshot_of(4, several, 6));
    rc_snapshot *raw = rc_snapshot_new(2);
    uint32_t run[2] = {rc_snapshot_add_address(raw, 0x10), rc_snapshot_add_address(raw, 0x20)};
    rc_snapshot_add_trace(raw, 7, rc_snapshot_add_traceback(raw, run, 2));
    write_snapshot("valid-unknown-addresses", raw);
}

#define BODY(name, literal) write_body(name, literal, sizeof literal - 1)

static void edge_cases(void)
{
    BODY("valid-duplicates", "\x01S\x03\x01x\x01x\x00"
                             "F\x02\x00\x01\x02\x01\x01\x02"
                             "B\x02\x01\x00\x01\x01T\x02\x04\x00\x06\x01");
    BODY("huge-string-count", "\x01S\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01\x00");
    BODY("huge-trace-count", "\x01S\x00"
                             "F\x00"
                             "B\x00"
                             "T\x80\x80\x80\x80\x80\x01\x00");
    BODY("string-past-end", "\x01S\x01\x09"
                            "ab");
    BODY("string-nul", "\x01S\x01\x03\x61\x00\x62");
    BODY("frame-index-range", "\x01S\x02\x03\x61.c\x00"
                              "F\x01\x05\x03\x01");
    BODY("lineno-too-big", "\x01S\x02\x03\x61.c\x00"
                           "F\x01\x00\x80\x80\x80\x80\x10\x01");
    BODY("traceback-empty", "\x01S\x02\x03\x61.c\x00"
                            "F\x01\x00\x03\x01"
                            "B\x01\x00\x00");
    BODY("traceback-frame-range", "\x01S\x02\x03\x61.c\x00"
                                  "F\x01\x00\x03\x01"
                                  "B\x01\x01\x01");
    BODY("trace-index-range", "\x01S\x02\x03\x61.c\x00"
                              "F\x01\x00\x03\x01"
                              "B\x01\x01\x00"
                              "T\x01\x05\x01");
    BODY("varint-overlong", "\x01S\x00"
                            "F\x00"
                            "B\x00"
                            "T\x01\x80\x80\x80\x80\x80\x80\x80\x80\x80\x02\x00");
    BODY("trailing-bytes", "\x01S\x00"
                           "F\x00"
                           "B\x00"
                           "T\x00\x00");
    BODY("wrong-tag", "\x01S\x00T\x00");
    BODY("missing-section", "\x01S\x00"
                            "F\x00");
    BODY("limit-only", "\x05");
    uint8_t header[RC_DUMP_HEADER_SIZE];
    rc_dump_seal(header, sizeof header);
    header[8] = 2; /* version 2 */
    write_file("version-2", header, sizeof header);
    write_file("bad-magic", "RCSNAP\n\n\x01\x00", 10);
    write_file("short-header", RC_DUMP_MAGIC "\x01\x00\x00", 11);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s DIRECTORY\n", argv[0]);
        return 2;
    }
    dir = argv[1];
    valid_files();
    edge_cases();
    return 0;
}
