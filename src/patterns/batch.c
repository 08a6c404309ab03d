/* batch.c: batched writes with fail-safety (the seeds' "collect requests
 * and run them together in batches while retaining fail-safety").
 *
 * A writer holds the acknowledged records not yet taken by the sink, as
 * bytes objects, oldest first, in records[head .. head + len) (a block of
 * cap slots, NULL when cap is 0). A record leaves only when the sink
 * returned success for the batch holding it, or when the caller takes it
 * back (take_pending, close): a failed batch stays where it was, first in
 * line for the next flush.
 *
 * Invariants: head + len <= cap; max_pending == 0 or len <= max_pending;
 * written = flushed + taken + len; next_flush_at >= batch_size (after a
 * failed flush it is len + batch_size, so a failing sink is retried once
 * per batch_size new records, not at every write); a closed writer holds
 * no records.
 *
 * Every call that changes a writer marks it busy for its whole length and
 * holds a reference to it. User code can run inside: the sink, the deaths
 * of the records it took (a weak reference's callback), and the finalizers
 * of a collection that an allocation short of memory runs (which may come
 * while records is being reallocated). While busy, records does not move
 * under the call and only reads are allowed: the changing calls fail with
 * RC_ESTATE.
 */
#include "patterns_internal.h"

#include <stdio.h>
#include <string.h>

typedef struct rc_batch_body {
    rc_batch_sink_fn sink;
    void *arg;
    size_t batch_size, max_pending, next_flush_at;
    void **records;
    size_t head, len, cap;
    size_t written, flushed, batches, failed_flushes, taken;
    bool busy, closed;
} rc_batch_body;

static void batch_traverse(void *self, rc_visit_fn visit, void *arg)
{
    rc_batch_body *w = self;
    for (size_t i = 0; i < w->len; i++)
        visit(&w->records[w->head + i], arg);
}

static void batch_destroy(void *self)
{
    rc_batch_body *w = self;
    rc_free(w->records);
    w->records = NULL;
    w->head = w->len = w->cap = 0;
}

const rc_type rc_batch_writer_type = {
    .name = "batch_writer",
    .size = sizeof(rc_batch_body),
    .traverse = batch_traverse,
    .destroy = batch_destroy,
};

void *rc_batch_writer_new(size_t batch_size, size_t max_pending, rc_batch_sink_fn sink, void *arg)
{
    if (!sink || batch_size == 0 || (max_pending && max_pending < batch_size)) {
        rc_set_error(RC_EINVAL, "rc_batch_writer_new: %s",
                     !sink             ? "sink is NULL"
                     : batch_size == 0 ? "batch_size is 0"
                                       : "max_pending is below batch_size");
        return NULL;
    }
    rc_batch_body *w = rc_new(&rc_batch_writer_type);
    if (!w)
        return NULL;
    *w = (rc_batch_body){.sink = sink,
                         .arg = arg,
                         .batch_size = batch_size,
                         .max_pending = max_pending,
                         .next_flush_at = batch_size};
    return w;
}

/* Starts a change of self: 0 with the writer busy and held, or a code
 * with a message (not a writer, or busy: called from its sink, or from a
 * finalizer that a collection inside one of its calls ran). */
static int begin_change(void *self, const char *fn)
{
    if (!rc_types_check(self, &rc_batch_writer_type, fn))
        return RC_EINVAL;
    rc_batch_body *w = self;
    if (w->busy)
        return rc_set_error(RC_ESTATE,
                            "%s: called while a call on this writer is under way (from its sink "
                            "or a finalizer)",
                            fn);
    w->busy = true;
    rc_incref(w);
    return 0;
}

/* Ends the change begin_change started; returns code. */
static int end_change(rc_batch_body *w, int code)
{
    w->busy = false;
    rc_decref(w);
    return code;
}

/* Hands the oldest n records to the sink; on success drops them. */
static int flush_batch(rc_batch_body *w, size_t n)
{
    rc_patterns_before_callback();
    int result = w->sink(&w->records[w->head], n, w->arg);
    if (result != 0) {
        w->failed_flushes++;
        char what[128];
        snprintf(what, sizeof what, "the sink failed on a batch of %zu records (returned %d)", n,
                 result);
        return rc_patterns_callback_failed(RC_EIO, "rc_batch_flush", what);
    }
    void **done = &w->records[w->head];
    w->head += n;
    w->len -= n;
    w->flushed += n;
    w->batches++;
    for (size_t i = 0; i < n; i++) /* no longer pending: none is sent twice */
        rc_decref(done[i]);
    return 0;
}

/* Flushes batches while at least `keep_below` records wait (1: all of
 * them; batch_size: only full batches). */
static int flush_while(rc_batch_body *w, size_t keep_below)
{
    int code = 0;
    while (w->len >= keep_below && w->len > 0 && code == 0)
        code = flush_batch(w, w->len < w->batch_size ? w->len : w->batch_size);
    if (w->len == 0)
        w->head = 0;
    w->next_flush_at = code ? w->len + w->batch_size : w->batch_size;
    return code;
}

/* Room for one more record at the end: compacts or grows. */
static int make_room(rc_batch_body *w)
{
    if (w->head + w->len < w->cap)
        return 0;
    if (w->head > 0) {
        memmove(w->records, &w->records[w->head], w->len * sizeof *w->records);
        w->head = 0;
        return 0;
    }
    size_t cap = w->cap ? w->cap * 2 : 8;
    void **grown = rc_realloc(w->records, cap * sizeof *grown);
    if (!grown)
        return RC_ENOMEM;
    w->records = grown;
    w->cap = cap;
    return 0;
}

/* When max_pending records wait, a flush must make room first. */
static int room_for_one(rc_batch_body *w)
{
    if (!w->max_pending || w->len < w->max_pending)
        return 0;
    if (flush_while(w, 1) == 0 || w->len < w->max_pending)
        return 0;
    return rc_set_error(RC_ESTATE, "rc_batch_write: %zu records pending (max_pending) and %s",
                        w->len, rc_last_error());
}

/* Appends a copy of the record; 0 or RC_ENOMEM (nothing kept). */
static int append_record(rc_batch_body *w, const void *data, size_t len)
{
    void *record = rc_bytes_new(data, len);
    if (!record)
        return RC_ENOMEM;
    if (make_room(w) != 0) {
        rc_decref(record);
        return RC_ENOMEM;
    }
    w->records[w->head + w->len++] = record;
    w->written++;
    return 0;
}

int rc_batch_write(void *self, const void *data, size_t len)
{
    int code = begin_change(self, "rc_batch_write");
    if (code)
        return code;
    rc_batch_body *w = self;
    if (w->closed)
        code = rc_set_error(RC_ESTATE, "rc_batch_write: the writer is closed");
    else if (!data && len)
        code = rc_set_error(RC_EINVAL, "rc_batch_write: data is NULL");
    else
        code = room_for_one(w);
    if (code == 0)
        code = append_record(w, data, len);
    if (code == 0 && w->len >= w->next_flush_at)
        flush_while(w, w->batch_size); /* a failure keeps the records: still acknowledged */
    return end_change(w, code);
}

int rc_batch_flush(void *self)
{
    int code = begin_change(self, "rc_batch_flush");
    return code ? code : end_change(self, flush_while(self, 1));
}

/* Moves every pending record into a new list; NULL (writer unchanged) if
 * the list cannot be made. */
static void *take_all(rc_batch_body *w)
{
    void *list = rc_list_new();
    for (size_t i = 0; list && i < w->len; i++) {
        if (rc_list_append(list, w->records[w->head + i]) != 0) {
            rc_decref(list);
            list = NULL;
        }
    }
    if (!list)
        return NULL;
    void **old = &w->records[w->head];
    size_t n = w->len;
    w->head = w->len = 0;
    w->taken += n;
    w->next_flush_at = w->batch_size;
    for (size_t i = 0; i < n; i++) /* the list holds them now */
        rc_decref(old[i]);
    return list;
}

void *rc_batch_take_pending(void *self)
{
    if (begin_change(self, "rc_batch_take_pending"))
        return NULL;
    void *list = take_all(self);
    end_change(self, 0);
    return list;
}

int rc_batch_close(void *self, void **left)
{
    if (left)
        *left = NULL;
    int code = begin_change(self, "rc_batch_close");
    if (code)
        return code;
    rc_batch_body *w = self;
    code = w->closed ? 0 : flush_while(w, 1);
    if (code == 0) {
        w->closed = true;
    } else if (left) {
        char reason[512];
        snprintf(reason, sizeof reason, "%s", rc_last_error());
        *left = take_all(w);
        if (*left) {
            w->closed = true;
            rc_set_error(code, "%s", reason); /* why the flush failed */
        } else {
            code = RC_ENOMEM; /* the records stay: nothing is lost */
        }
    }
    return end_change(w, code);
}

size_t rc_batch_pending(const void *self)
{
    return rc_types_check(self, &rc_batch_writer_type, "rc_batch_pending")
               ? ((const rc_batch_body *)self)->len
               : 0;
}

int rc_batch_get_stats(const void *self, rc_batch_stats *out)
{
    if (!rc_patterns_check_stats(self, &rc_batch_writer_type, out, sizeof *out,
                                 "rc_batch_get_stats"))
        return RC_EINVAL;
    const rc_batch_body *w = self;
    *out = (rc_batch_stats){
        .struct_size = sizeof *out,
        .batch_size = w->batch_size,
        .max_pending = w->max_pending,
        .pending = w->len,
        .written = w->written,
        .flushed = w->flushed,
        .batches = w->batches,
        .failed_flushes = w->failed_flushes,
        .taken = w->taken,
        .closed = w->closed,
    };
    return 0;
}
