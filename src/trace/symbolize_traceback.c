/* symbolize_traceback.c: rc_traceback_symbolize, one traceback (an object's
 * or a block's) symbolized on its own, outside any snapshot, and packed in
 * one block: [rc_traceback][rc_frame x n][strings].
 * The frames point into the block's strings, so a single free() releases
 * everything.
 */
#include "symbolize.h"

#include <string.h>

/* Copies s to *cursor and returns the copy. */
static const char *pack_string(char **cursor, const char *s)
{
    size_t len = strlen(s) + 1;
    char *copy = memcpy(*cursor, s, len);
    *cursor += len;
    return copy;
}

static rc_traceback *pack(const rc_symbol *found, size_t n)
{
    size_t bytes = sizeof(rc_traceback) + n * sizeof(rc_frame);
    for (size_t i = 0; i < n; i++)
        bytes += strlen(found[i].filename) + strlen(found[i].function) + 2;
    rc_traceback *tb = rc_snap_alloc(bytes);
    if (!tb)
        return NULL;
    rc_frame *frames = (rc_frame *)(tb + 1);
    char *cursor = (char *)(frames + n);
    for (size_t i = 0; i < n; i++) {
        frames[i].filename = pack_string(&cursor, found[i].filename);
        frames[i].function = pack_string(&cursor, found[i].function);
        frames[i].lineno = found[i].lineno;
    }
    *tb = (rc_traceback){frames, n};
    return tb;
}

rc_traceback *rc_traceback_symbolize(const rc_trace_frames *frames)
{
    if (!frames || frames->nframes == 0) {
        rc_set_error(RC_EINVAL, "rc_traceback_symbolize: %s",
                     frames ? "the traceback has no frames" : "frames is NULL");
        return NULL;
    }
    const void *const *ips = frames->ip;
    size_t n = frames->nframes;
    rc_symbol *found = rc_snap_alloc(n * sizeof *found);
    rc_symbolizer *sym = found ? rc_symbolizer_new() : NULL;
    rc_traceback *tb = NULL;
    if (sym) {
        for (size_t i = 0; i < n; i++) /* each rc_symbol has its own text buffer */
            rc_symbolizer_lookup(sym, (uintptr_t)ips[i], &found[i]);
        tb = pack(found, n);
    }
    rc_symbolizer_free(sym);
    rc_snap_free(found);
    return tb;
}
