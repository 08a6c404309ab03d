/* dumpfile_load.c: Snapshot.load. The file is read whole into memory (its
 * size, not any count inside it, decides how much), then decoded by
 * dumpfile_read.c; every message starts with the function and the path.
 */
#include "dumpfile.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* The file's bytes in a new buffer (*size of them); NULL with a message. */
static uint8_t *read_whole(FILE *file, const char *path, size_t *size)
{
    uint8_t *bytes = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (rc_snap_reserve(&bytes, &cap, len + 65536, 1) != 0) {
            rc_snap_free(bytes);
            return NULL;
        }
        size_t got = fread(bytes + len, 1, cap - len, file);
        len += got;
        if (got == 0)
            break;
    }
    if (ferror(file)) {
        rc_set_error(RC_EINVAL, "rc_snapshot_load: cannot read %s: %s", path, strerror(errno));
        rc_snap_free(bytes);
        return NULL;
    }
    *size = len;
    return bytes;
}

rc_snapshot *rc_snapshot_load(const char *path)
{
    if (!path) {
        rc_set_error(RC_EINVAL, "rc_snapshot_load: the path is NULL");
        return NULL;
    }
    FILE *file = fopen(path, "rb");
    if (!file) {
        rc_set_error(errno == ENOENT ? RC_ENOTFOUND : RC_EINVAL,
                     "rc_snapshot_load: cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    size_t size = 0;
    uint8_t *bytes = read_whole(file, path, &size);
    fclose(file);
    if (!bytes)
        return NULL;
    char who[300];
    snprintf(who, sizeof who, "rc_snapshot_load: %s", path);
    rc_snapshot *snap = rc_dump_decode(bytes, size, who);
    rc_snap_free(bytes);
    return snap;
}

rc_snapshot *rc_snapshot_load_buffer(const void *data, size_t size)
{
    if (!data && size) {
        rc_set_error(RC_EINVAL, "rc_snapshot_load_buffer: %zu bytes at NULL", size);
        return NULL;
    }
    return rc_dump_decode(data ? data : "", size, "rc_snapshot_load_buffer");
}
