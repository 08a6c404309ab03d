/* dumpfile_read.c: decoding reclaim's snapshot format (dumpfile.h) from
 * memory, for files that may be truncated, corrupted or hostile.
 *
 * Every read is bounds-checked against the end of the data; every count is
 * checked against the bytes that remain (each record takes at least one
 * byte per varint) before anything is allocated for it, so the memory used
 * is at most a small multiple of the input's size. Indices are checked
 * against the sections already read. The first problem stops decoding with a
 * message naming the section, the field and its offset in the file.
 */
#include "dumpfile.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

typedef struct reader {
    const uint8_t *data;
    size_t size, pos;
    const char *who;     /* start of every message */
    const char *section; /* where we are, for messages */
    const char *record;  /* the record being read ("frame"), NULL between records */
    size_t index;        /* its index in the section */
    rc_snapshot *snap;
    /* each section's file index -> snapshot index (the builder interns, so
     * duplicates in a file collapse) */
    uint32_t *strings, *frames, *tracebacks;
    size_t nstrings, nframes, ntracebacks;
    uint32_t *run; /* one traceback's frames */
    size_t run_cap;
} reader;

RC_PRINTF(4, 5)
static bool fail(reader *r, size_t offset, const char *field, const char *fmt, ...)
{
    char problem[200], where[64] = "";
    va_list args;
    va_start(args, fmt);
    vsnprintf(problem, sizeof problem, fmt, args);
    va_end(args);
    if (r->record)
        snprintf(where, sizeof where, "%s %zu's ", r->record, r->index);
    rc_set_error(RC_EINVAL, "%s: %s section: %s%s at offset %zu: %s", r->who, r->section, where,
                 field, offset, problem);
    return false;
}

static bool read_varint(reader *r, const char *field, uint64_t *value)
{
    size_t start = r->pos;
    uint64_t v = 0;
    for (unsigned shift = 0;; shift += 7) {
        if (r->pos >= r->size)
            return fail(r, start, field, "truncated (the data ends inside a number)");
        uint8_t byte = r->data[r->pos++];
        if (shift == 63 && byte > 1)
            return fail(r, start, field, "the number does not fit in 64 bits");
        v |= (uint64_t)(byte & 0x7F) << shift;
        if (!(byte & 0x80))
            break;
    }
    *value = v;
    return true;
}

/* A value in [min, max]. */
static bool read_bounded(reader *r, const char *field, uint64_t min, uint64_t max, uint64_t *value)
{
    size_t start = r->pos;
    if (!read_varint(r, field, value))
        return false;
    if (*value < min || *value > max)
        return fail(r, start, field, "%" PRIu64 " is outside [%" PRIu64 ", %" PRIu64 "]", *value,
                    min, max);
    return true;
}

/* An index into a section read before (map of n entries), mapped. */
static bool read_index(reader *r, const char *field, const uint32_t *map, size_t n, uint32_t *index)
{
    size_t start = r->pos;
    uint64_t i;
    if (!read_varint(r, field, &i))
        return false;
    if (i >= n)
        return fail(r, start, field, "index %" PRIu64 " is out of range (%zu entries)", i, n);
    *index = map[i];
    return true;
}

/* A section's tag and count of records of at least min_bytes each, and,
 * unless map is NULL, its index map (*map, *count entries). */
static bool begin_section(reader *r, uint8_t tag, const char *name, size_t min_bytes,
                          uint32_t **map, size_t *count)
{
    r->section = name;
    r->record = NULL;
    if (r->pos >= r->size)
        return fail(r, r->pos, "tag", "truncated (the section is missing)");
    if (r->data[r->pos] != tag)
        return fail(r, r->pos, "tag", "expected '%c', found byte 0x%02x", tag, r->data[r->pos]);
    r->pos++;
    size_t start = r->pos;
    uint64_t n;
    if (!read_varint(r, "count", &n))
        return false;
    if (n > (r->size - r->pos) / min_bytes)
        return fail(r, start, "count", "%" PRIu64 " records cannot fit in the %zu bytes left", n,
                    r->size - r->pos);
    *count = (size_t)n;
    if (!map)
        return true;
    *map = rc_snap_alloc(*count * sizeof **map);
    return *map != NULL;
}

static bool read_strings(reader *r)
{
    if (!begin_section(r, RC_DUMP_STRINGS, "strings", 1, &r->strings, &r->nstrings))
        return false;
    for (r->record = "string", r->index = 0; r->index < r->nstrings; r->index++) {
        size_t start = r->pos;
        uint64_t len;
        if (!read_varint(r, "length", &len))
            return false;
        if (len > r->size - r->pos)
            return fail(r, start, "length", "%" PRIu64 " bytes run past the end (%zu left)", len,
                        r->size - r->pos);
        const char *bytes = (const char *)r->data + r->pos;
        const char *nul = memchr(bytes, '\0', (size_t)len);
        if (nul)
            return fail(r, r->pos + (size_t)(nul - bytes), "bytes", "a NUL byte in a string");
        r->strings[r->index] = rc_snapshot_add_string(r->snap, bytes, (size_t)len);
        if (r->strings[r->index] == RC_SNAP_NONE)
            return false;
        r->pos += (size_t)len;
    }
    return true;
}

static bool read_frames(reader *r)
{
    if (!begin_section(r, RC_DUMP_FRAMES, "frames", 3, &r->frames, &r->nframes))
        return false;
    for (r->record = "frame", r->index = 0; r->index < r->nframes; r->index++) {
        uint32_t file, function;
        uint64_t lineno;
        if (!read_index(r, "filename", r->strings, r->nstrings, &file) ||
            !read_bounded(r, "lineno", 0, UINT32_MAX, &lineno) ||
            !read_index(r, "function", r->strings, r->nstrings, &function))
            return false;
        r->frames[r->index] = rc_snapshot_add_frame_ids(r->snap, file, (uint32_t)lineno, function);
        if (r->frames[r->index] == RC_SNAP_NONE)
            return false;
    }
    return true;
}

/* One traceback: its length, then its frames, into r->run. */
static bool read_run(reader *r, uint32_t *n)
{
    uint64_t len;
    if (!read_bounded(r, "length", 1, r->size - r->pos, &len))
        return false;
    if (rc_snap_reserve(&r->run, &r->run_cap, (size_t)len, sizeof *r->run) != 0)
        return false;
    for (uint64_t k = 0; k < len; k++)
        if (!read_index(r, "frame", r->frames, r->nframes, &r->run[k]))
            return false;
    *n = (uint32_t)len;
    return true;
}

static bool read_tracebacks(reader *r)
{
    if (!begin_section(r, RC_DUMP_TRACEBACKS, "tracebacks", 2, &r->tracebacks, &r->ntracebacks))
        return false;
    for (r->record = "traceback", r->index = 0; r->index < r->ntracebacks; r->index++) {
        uint32_t n;
        if (!read_run(r, &n))
            return false;
        r->tracebacks[r->index] = rc_snapshot_add_traceback(r->snap, r->run, n);
        if (r->tracebacks[r->index] == RC_SNAP_NONE)
            return false;
    }
    return true;
}

static bool read_traces(reader *r)
{
    size_t n;
    bool ok = begin_section(r, RC_DUMP_TRACES, "traces", 2, NULL, &n);
    for (r->record = "trace", r->index = 0; ok && r->index < n; r->index++) {
        uint64_t size;
        uint32_t tb;
        ok = read_bounded(r, "size", 0, SIZE_MAX, &size) &&
             read_index(r, "traceback", r->tracebacks, r->ntracebacks, &tb) &&
             rc_snapshot_add_trace(r->snap, (size_t)size, tb) == 0;
    }
    return ok;
}

static uint64_t get_le(const uint8_t *at, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v |= (uint64_t)at[i] << (8 * i);
    return v;
}

static bool read_header(reader *r)
{
    r->section = "header";
    if (r->size < RC_DUMP_MAGIC_SIZE || memcmp(r->data, RC_DUMP_MAGIC, RC_DUMP_MAGIC_SIZE) != 0)
        return fail(r, 0, "magic", "not a reclaim snapshot");
    if (r->size < RC_DUMP_HEADER_SIZE)
        return fail(r, r->size, "header", "truncated: %zu bytes, a header takes %d", r->size,
                    RC_DUMP_HEADER_SIZE);
    uint64_t version = get_le(r->data + 8, 2), flags = get_le(r->data + 10, 2);
    if (version != RC_DUMP_VERSION)
        return fail(r, 8, "version", "version %" PRIu64 " is not supported (this library reads %d)",
                    version, RC_DUMP_VERSION);
    if (flags != 0)
        return fail(r, 10, "flags", "unknown flags 0x%" PRIx64, flags);
    uint64_t body = get_le(r->data + 16, 8), present = r->size - RC_DUMP_HEADER_SIZE;
    if (body != present)
        return fail(r, 16, "body length",
                    "the header says %" PRIu64 " bytes, %" PRIu64 " follow it (%s)", body, present,
                    body > present ? "truncated" : "trailing bytes");
    uint32_t stored = (uint32_t)get_le(r->data + 12, 4);
    uint32_t actual = rc_dump_crc32(r->data + RC_DUMP_HEADER_SIZE, (size_t)present);
    if (stored != actual)
        return fail(r, 12, "checksum",
                    "the header says 0x%08" PRIx32 ", the body's is 0x%08" PRIx32, stored, actual);
    r->pos = RC_DUMP_HEADER_SIZE;
    return true;
}

static bool read_file(reader *r)
{
    uint64_t limit;
    if (!read_header(r))
        return false;
    r->section = "body";
    if (!read_bounded(r, "traceback_limit", 0, SIZE_MAX, &limit))
        return false;
    r->snap = rc_snapshot_new((size_t)limit);
    if (!r->snap || !read_strings(r) || !read_frames(r) || !read_tracebacks(r) || !read_traces(r))
        return false;
    r->section = "end";
    r->record = NULL;
    if (r->pos != r->size)
        return fail(r, r->pos, "end", "%zu bytes follow the traces", r->size - r->pos);
    return true;
}

rc_snapshot *rc_dump_decode(const uint8_t *data, size_t size, const char *who)
{
    reader r = {.data = data, .size = size, .who = who};
    bool ok = read_file(&r);
    rc_snap_free(r.strings);
    rc_snap_free(r.frames);
    rc_snap_free(r.tracebacks);
    rc_snap_free(r.run);
    if (ok)
        return r.snap;
    rc_snapshot_free(r.snap);
    return NULL;
}
