/* dumpfile_write.c: encoding a snapshot in reclaim's snapshot format
 * (dumpfile.h) and Snapshot.dump. The file is built in memory (the header
 * needs the body's length and checksum), then written in one go.
 */
#include "dumpfile.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

uint32_t rc_dump_crc32(const void *data, size_t size)
{
    uint32_t table[256];
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        table[i] = c;
    }
    const uint8_t *p = data;
    uint32_t crc = 0xFFFFFFFFu;
    for (size_t i = 0; i < size; i++)
        crc = table[(crc ^ p[i]) & 0xFF] ^ (crc >> 8);
    return crc ^ 0xFFFFFFFFu;
}

/* A growing byte buffer; `failed` sticks after the first failure. */
typedef struct writer {
    uint8_t *bytes;
    size_t len, cap;
    bool failed;
} writer;

static uint8_t *room(writer *w, size_t n)
{
    if (w->failed || rc_snap_reserve(&w->bytes, &w->cap, w->len + n, 1) != 0) {
        w->failed = true;
        return NULL;
    }
    uint8_t *at = w->bytes + w->len;
    w->len += n;
    return at;
}

static void put_varint(writer *w, uint64_t value)
{
    uint8_t bytes[RC_DUMP_VARINT_MAX];
    size_t n = 0;
    do {
        bytes[n++] = (uint8_t)((value & 0x7F) | (value > 0x7F ? 0x80 : 0));
        value >>= 7;
    } while (value);
    uint8_t *at = room(w, n);
    if (at)
        memcpy(at, bytes, n);
}

static void put_le(uint8_t *at, uint64_t value, size_t n)
{
    for (size_t i = 0; i < n; i++)
        at[i] = (uint8_t)(value >> (8 * i));
}

void rc_dump_seal(uint8_t *file, size_t size)
{
    size_t body = size - RC_DUMP_HEADER_SIZE;
    memcpy(file, RC_DUMP_MAGIC, RC_DUMP_MAGIC_SIZE);
    put_le(file + 8, RC_DUMP_VERSION, 2);
    put_le(file + 10, 0, 2);
    put_le(file + 12, rc_dump_crc32(file + RC_DUMP_HEADER_SIZE, body), 4);
    put_le(file + 16, body, 8);
}

static void put_tag(writer *w, uint8_t tag, size_t count)
{
    uint8_t *at = room(w, 1);
    if (at)
        *at = tag;
    put_varint(w, count);
}

static void put_body(writer *w, const rc_snapshot *snap)
{
    put_varint(w, snap->traceback_limit);
    put_tag(w, RC_DUMP_STRINGS, snap->nstrings);
    for (uint32_t i = 0; i < snap->nstrings; i++) {
        const char *s = rc_snapshot_string(snap, i);
        size_t len = strlen(s);
        put_varint(w, len);
        uint8_t *at = room(w, len);
        if (at)
            memcpy(at, s, len);
    }
    put_tag(w, RC_DUMP_FRAMES, snap->nframes);
    for (size_t i = 0; i < snap->nframes; i++) {
        put_varint(w, snap->frames[i].filename);
        put_varint(w, snap->frames[i].lineno);
        put_varint(w, snap->frames[i].function);
    }
    put_tag(w, RC_DUMP_TRACEBACKS, snap->ntracebacks);
    for (size_t i = 0; i < snap->ntracebacks; i++) {
        const rc_snap_traceback *tb = &snap->tracebacks[i];
        put_varint(w, tb->count);
        for (uint32_t k = 0; k < tb->count; k++)
            put_varint(w, snap->items[tb->first + k]);
    }
    put_tag(w, RC_DUMP_TRACES, snap->ntraces);
    for (size_t i = 0; i < snap->ntraces; i++) {
        put_varint(w, snap->traces[i].size);
        put_varint(w, snap->traces[i].traceback);
    }
}

uint8_t *rc_dump_encode(rc_snapshot *snap, size_t *size)
{
    if (rc_snapshot_seal(snap) != 0)
        return NULL;
    writer w = {0};
    room(&w, RC_DUMP_HEADER_SIZE);
    put_body(&w, snap);
    if (w.failed) {
        rc_snap_free(w.bytes);
        return NULL;
    }
    rc_dump_seal(w.bytes, w.len);
    *size = w.len;
    return w.bytes;
}

int rc_snapshot_dump(rc_snapshot *snap, const char *path)
{
    if (!snap || !path)
        return rc_set_error(RC_EINVAL, "rc_snapshot_dump: the %s is NULL",
                            snap ? "path" : "snapshot");
    size_t size;
    uint8_t *bytes = rc_dump_encode(snap, &size);
    if (!bytes)
        return RC_ENOMEM;
    FILE *file = fopen(path, "wb");
    int error = file ? 0 : errno;
    if (file && fwrite(bytes, 1, size, file) != size)
        error = errno ? errno : EIO;
    if (file && fclose(file) != 0 && !error)
        error = errno;
    rc_snap_free(bytes);
    if (error)
        return rc_set_error(RC_EINVAL, "rc_snapshot_dump: cannot write %s: %s", path,
                            strerror(error));
    return 0;
}
