/* test_patterns_batch.c: rc_batch_writer, batched writes with fail-safety:
 * batches of exactly batch_size in order; a failing sink keeps its batch
 * pending, retried once per batch of new records, never duplicated, never
 * lost; max_pending refuses writes it cannot acknowledge; take_pending and
 * close hand records back; re-entry from the sink refused; a seeded model
 * run with a sink failing at random; out-of-memory injection. */
#include "faults.h"

/* ---- a sink that logs what it takes and fails on chosen calls --------- */

enum { LOG_MAX = 32768 };
static long delivered[LOG_MAX]; /* the record numbers the sink took, in order */
static size_t n_delivered, sink_calls;
static char batch_log[4096]; /* "r0,r1,r2|r3|..." for the short tests */
static uint64_t fail_mask;   /* call k (from 1) fails if bit k is set */
static bool fail_always;
static enum { SINK_PLAIN, SINK_WRITES, SINK_FLUSHES, SINK_DROPS } sink_mode;
static void *sink_writer;
static int reentry_code;

static long record_number(const void *record)
{
    return strtol(rc_bytes_data(record) + 1, NULL, 10); /* "r<number>..." */
}

static int sink(void *const *records, size_t n, void *arg)
{
    (void)arg;
    sink_calls++;
    if (sink_mode == SINK_WRITES)
        reentry_code = rc_batch_write(sink_writer, "x", 1);
    else if (sink_mode == SINK_FLUSHES)
        reentry_code = rc_batch_flush(sink_writer);
    else if (sink_mode == SINK_DROPS && sink_writer) {
        rc_decref(sink_writer); /* the last outside reference */
        sink_writer = NULL;
    }
    if (fail_always || (sink_calls < 64 && (fail_mask >> sink_calls & 1)))
        return rc_report_error(-7, "disk full");
    size_t len = strlen(batch_log);
    for (size_t i = 0; i < n; i++) {
        snprintf(batch_log + len, sizeof batch_log - len, "%s%s", i ? "," : (len ? "|" : ""),
                 rc_bytes_data(records[i]));
        len = strlen(batch_log);
        if (n_delivered < LOG_MAX)
            delivered[n_delivered++] = record_number(records[i]);
    }
    return 0;
}

static void sink_reset(void)
{
    n_delivered = sink_calls = 0;
    batch_log[0] = '\0';
    fail_mask = 0;
    fail_always = false;
    sink_mode = SINK_PLAIN;
    sink_writer = NULL;
    reentry_code = 0;
}

static int write_record(void *w, long i)
{
    char text[32];
    int n = snprintf(text, sizeof text, "r%ld", i);
    return rc_batch_write(w, text, (size_t)n + 1); /* with its NUL, to print it */
}

static rc_batch_stats stats_of(void *w)
{
    rc_batch_stats s = {.struct_size = sizeof s};
    CHECK_EQ(rc_batch_get_stats(w, &s), 0);
    return s;
}

static void check_counts(void *w, size_t pending, size_t written, size_t flushed, size_t batches,
                         size_t failed)
{
    rc_batch_stats s = stats_of(w);
    CHECK_EQ(s.pending, pending);
    CHECK_EQ(rc_batch_pending(w), pending);
    CHECK_EQ(s.written, written);
    CHECK_EQ(s.flushed, flushed);
    CHECK_EQ(s.batches, batches);
    CHECK_EQ(s.failed_flushes, failed);
}

static void test_batches(void)
{
    sink_reset();
    void *w = rc_batch_writer_new(3, 0, sink, NULL);
    CHECK(w && rc_type_of(w) == &rc_batch_writer_type);
    for (long i = 0; i < 10; i++)
        CHECK_EQ(write_record(w, i), 0);
    CHECK_EQ(sink_calls, 3);
    check_counts(w, 1, 10, 9, 3, 0);
    CHECK_EQ(rc_batch_flush(w), 0); /* the remaining partial batch */
    CHECK(strcmp(batch_log, "r0,r1,r2|r3,r4,r5|r6,r7,r8|r9") == 0);
    check_counts(w, 0, 10, 10, 4, 0);
    CHECK_EQ(rc_batch_flush(w), 0); /* nothing pending: no sink call */
    CHECK_EQ(sink_calls, 4);

    /* records are bytes, copied exactly (NUL bytes included) */
    CHECK_EQ(rc_batch_write(w, "a\0b", 3), 0);
    CHECK_EQ(rc_batch_write(w, NULL, 0), 0); /* an empty record */
    void *left = rc_batch_take_pending(w);
    CHECK_EQ(rc_list_len(left), 2);
    CHECK_EQ(rc_bytes_len(rc_list_get(left, 0)), 3);
    CHECK(memcmp(rc_bytes_data(rc_list_get(left, 0)), "a\0b", 3) == 0);
    CHECK_EQ(rc_bytes_len(rc_list_get(left, 1)), 0);
    CHECK_EQ(rc_refcount(rc_list_get(left, 0)), 1); /* the list's alone */
    CHECK_EQ(stats_of(w).taken, 2);
    CHECK_EQ(rc_batch_pending(w), 0);
    rc_decref(left);
    rc_decref(w);
}

static void test_failure_and_retry(void)
{
    sink_reset();
    fail_mask = 1u << 2; /* the second sink call fails */
    void *w = rc_batch_writer_new(3, 0, sink, NULL);
    for (long i = 0; i < 6; i++)
        CHECK_EQ(write_record(w, i), 0); /* r5's flush fails: still acknowledged */
    CHECK_EQ(sink_calls, 2);
    check_counts(w, 3, 6, 3, 1, 1);
    CHECK_STR_CONTAINS(rc_last_error(), "the sink failed on a batch of 3 records (returned -7)");
    /* the failed batch is retried with the next full batch, not at every write */
    CHECK_EQ(write_record(w, 6), 0);
    CHECK_EQ(write_record(w, 7), 0);
    CHECK_EQ(sink_calls, 2);
    CHECK_EQ(write_record(w, 8), 0);
    CHECK_EQ(sink_calls, 4);
    CHECK(strcmp(batch_log, "r0,r1,r2|r3,r4,r5|r6,r7,r8") == 0);
    check_counts(w, 0, 9, 9, 3, 1);

    /* an explicit flush that fails: RC_EIO, the sink's reason, all kept */
    fail_always = true;
    write_record(w, 9);
    write_record(w, 10);
    CHECK_EQ(rc_batch_flush(w), RC_EIO);
    CHECK(strcmp(rc_last_error(), "rc_batch_flush: the sink failed on a batch of 2 records "
                                  "(returned -7): disk full") == 0);
    check_counts(w, 2, 11, 9, 3, 2);
    fail_always = false;
    CHECK_EQ(rc_batch_flush(w), 0);
    CHECK(strcmp(batch_log, "r0,r1,r2|r3,r4,r5|r6,r7,r8|r9,r10") == 0);
    rc_decref(w);
}

static void test_max_pending(void)
{
    sink_reset();
    fail_always = true;
    void *w = rc_batch_writer_new(2, 4, sink, NULL);
    for (long i = 0; i < 4; i++)
        CHECK_EQ(write_record(w, i), 0);
    CHECK_EQ(sink_calls, 2); /* at 2 and at 4 pending */
    /* full, and the sink still fails: not acknowledged */
    CHECK_EQ(write_record(w, 4), RC_ESTATE);
    CHECK(strcmp(rc_last_error(),
                 "rc_batch_write: 4 records pending (max_pending) and rc_batch_flush: the sink "
                 "failed on a batch of 2 records (returned -7): disk full") == 0);
    check_counts(w, 4, 4, 0, 0, 3);
    /* the sink recovers: the write makes room first, then is acknowledged */
    fail_always = false;
    CHECK_EQ(write_record(w, 4), 0);
    CHECK(strcmp(batch_log, "r0,r1|r2,r3") == 0);
    check_counts(w, 1, 5, 4, 2, 3);
    rc_decref(w);
}

static void test_close(void)
{
    sink_reset();
    fail_always = true;
    void *w = rc_batch_writer_new(4, 0, sink, NULL);
    for (long i = 0; i < 3; i++)
        write_record(w, i);
    /* without a place for the records, a failing close keeps the writer open */
    CHECK_EQ(rc_batch_close(w, NULL), RC_EIO);
    CHECK(!stats_of(w).closed);
    CHECK_EQ(rc_batch_pending(w), 3);
    /* with one, the records come back and the writer closes */
    void *left = (void *)1;
    CHECK_EQ(rc_batch_close(w, &left), RC_EIO);
    CHECK_STR_CONTAINS(rc_last_error(), "disk full");
    CHECK_EQ(rc_list_len(left), 3);
    CHECK(strcmp(rc_bytes_data(rc_list_get(left, 2)), "r2") == 0);
    rc_batch_stats s = stats_of(w);
    CHECK(s.closed && s.pending == 0 && s.taken == 3 && s.flushed == 0);
    CHECK_EQ(write_record(w, 9), RC_ESTATE);
    CHECK_STR_CONTAINS(rc_last_error(), "rc_batch_write: the writer is closed");
    CHECK_EQ(rc_batch_close(w, NULL), 0); /* closing again: nothing */
    rc_decref(left);
    rc_decref(w);

    /* a sink that works: close flushes everything, left is NULL */
    fail_always = false;
    w = rc_batch_writer_new(4, 0, sink, NULL);
    for (long i = 0; i < 6; i++)
        write_record(w, i);
    left = (void *)1;
    CHECK_EQ(rc_batch_close(w, &left), 0);
    CHECK(left == NULL);
    CHECK(strcmp(batch_log, "r0,r1,r2,r3|r4,r5") == 0);
    rc_decref(w);
}

static void test_reentry_and_misuse(void)
{
    sink_reset();
    void *w = rc_batch_writer_new(2, 0, sink, NULL);
    sink_writer = w;
    sink_mode = SINK_WRITES;
    write_record(w, 0);
    CHECK_EQ(write_record(w, 1), 0);
    CHECK_EQ(reentry_code, RC_ESTATE);
    CHECK_STR_CONTAINS(rc_last_error(), "rc_batch_write: called while a call on this writer is "
                                        "under way");
    sink_mode = SINK_FLUSHES;
    write_record(w, 2);
    write_record(w, 3);
    CHECK_EQ(reentry_code, RC_ESTATE);
    CHECK(strcmp(batch_log, "r0,r1|r2,r3") == 0);
    sink_mode = SINK_PLAIN;
    rc_decref(w);

    /* the sink drops the last outside reference: the write completes */
    w = rc_batch_writer_new(2, 0, sink, NULL);
    rc_weakref *watch = rc_weakref_new(w, NULL, NULL);
    sink_writer = w;
    write_record(w, 0);
    sink_mode = SINK_DROPS;
    CHECK_EQ(write_record(w, 1), 0);
    CHECK(!rc_weakref_alive(watch));
    CHECK_EQ(n_delivered, 6);
    rc_decref(watch);
    sink_mode = SINK_PLAIN;

    CHECK(rc_batch_writer_new(0, 0, sink, NULL) == NULL);
    CHECK_STR_CONTAINS(rc_last_error(), "batch_size is 0");
    CHECK(rc_batch_writer_new(4, 3, sink, NULL) == NULL);
    CHECK_STR_CONTAINS(rc_last_error(), "max_pending is below batch_size");
    CHECK(rc_batch_writer_new(4, 0, NULL, NULL) == NULL);
    CHECK_STR_CONTAINS(rc_last_error(), "sink is NULL");
    void *list = rc_list_new();
    CHECK_EQ(rc_batch_write(list, "x", 1), RC_EINVAL);
    CHECK_STR_CONTAINS(rc_last_error(), "rc_batch_write: expected a batch_writer, got a list");
    CHECK(rc_batch_take_pending(list) == NULL);
    CHECK_EQ(rc_batch_flush(NULL), RC_EINVAL);
    CHECK_EQ(rc_batch_pending(list), 0);
    rc_decref(list);
    w = rc_batch_writer_new(2, 0, sink, NULL);
    CHECK_EQ(rc_batch_write(w, NULL, 3), RC_EINVAL);
    CHECK_STR_CONTAINS(rc_last_error(), "data is NULL");
    rc_batch_stats s = {.struct_size = 8};
    CHECK_EQ(rc_batch_get_stats(w, &s), RC_EINVAL);
    CHECK_STR_CONTAINS(rc_last_error(), "struct_size is 8");
    rc_decref(w);
}

/* ---- a seeded model: random writes, flushes and sink failures --------- */

static void test_model(void)
{
    sink_reset();
    enum { STEPS = 20000, BATCH = 7, MAX_PENDING = 40 };
    void *w = rc_batch_writer_new(BATCH, MAX_PENDING, sink, NULL);
    static long acknowledged[STEPS];
    size_t n_ack = 0, taken = 0, refused = 0, mismatches = 0;
    long next = 0;
    uint64_t x = 0x9E3779B97F4A7C15u;
    for (int step = 0; step < STEPS; step++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        if (x % 100 < 5) /* the sink goes down and comes back, ~20 steps each */
            fail_always = !fail_always;
        unsigned op = (unsigned)(x >> 40) % 100;
        if (op < 85) {
            int code = write_record(w, next);
            if (code == 0)
                acknowledged[n_ack++] = next;
            else
                refused += code == RC_ESTATE;
            next++;
        } else if (op < 97) {
            rc_batch_flush(w);
        } else {
            /* the caller takes the pending records back and writes them itself */
            void *list = rc_batch_take_pending(w);
            size_t i = 0;
            void *item;
            while (rc_list_next(list, &i, &item) && n_delivered < LOG_MAX)
                delivered[n_delivered++] = record_number(item);
            taken += rc_list_len(list);
            rc_decref(list);
        }
        /* what was acknowledged = what the sink took or the caller got back,
         * then what is pending, in order */
        rc_batch_stats s = stats_of(w);
        mismatches += s.written != n_ack || s.flushed + s.taken + s.pending != n_ack ||
                      s.pending > MAX_PENDING || n_delivered != s.flushed + s.taken;
    }
    fail_always = false;
    CHECK_EQ(rc_batch_close(w, NULL), 0);
    CHECK_EQ(mismatches, 0);
    CHECK_EQ(n_delivered, n_ack);
    size_t out_of_order = 0;
    for (size_t i = 0; i < n_ack && i < n_delivered; i++)
        out_of_order += delivered[i] != acknowledged[i];
    CHECK_EQ(out_of_order, 0); /* nothing lost, nothing twice, in order */
    CHECK(refused > 0 && taken > 0 && stats_of(w).failed_flushes > 100);
    printf("model: %zu acknowledged, %zu refused (full), %zu taken back, %zu failed flushes\n",
           n_ack, refused, taken, stats_of(w).failed_flushes);
    rc_decref(w);
}

/* ---- out-of-memory injection ------------------------------------------- */

enum { F_RECORDS = 200, F_RECORD_LEN = 600 }; /* records above 512 B: large blocks */
static size_t hand_back_failed;

static int write_big(void *w, long i)
{
    char text[F_RECORD_LEN];
    memset(text, 'x', sizeof text);
    int n = snprintf(text, sizeof text, "r%ld", i);
    text[n] = ' ';
    text[F_RECORD_LEN - 1] = '\0';
    return rc_batch_write(w, text, sizeof text);
}

/* 200 writes while requests fail: variant 0 with a sink failing on every
 * third call; variants 1 and 2 with a sink that is down, so that all stay
 * pending, then (1) take_pending or (2) a close that hands them back. Every
 * failed call returns RC_ENOMEM/NULL with an out-of-memory message and
 * changes nothing; afterwards the records acknowledged are exactly those
 * delivered or handed back, in order. */
static bool scenario_writes(long n, bool sticky, int variant)
{
    faults_begin();
    sink_reset();
    fail_mask = 0x4924924924924924u; /* calls 2, 5, 8, ... fail */
    fail_always = variant > 0;
    static long acknowledged[F_RECORDS];
    size_t n_ack = 0;
    arm(n, sticky);
    error_reset();
    void *w = rc_batch_writer_new(16, 0, sink, NULL);
    for (long i = 0; w && i < F_RECORDS; i++) {
        error_reset();
        int code = write_big(w, i);
        if (code == 0) {
            acknowledged[n_ack++] = i;
        } else {
            CHECK_EQ(code, RC_ENOMEM);
            CHECK_STR_CONTAINS(rc_last_error(), "out of memory");
            total_failed++;
        }
    }
    void *list = NULL;
    if (w && variant == 1) {
        error_reset();
        list = rc_batch_take_pending(w);
        if (!list) {
            CHECK_STR_CONTAINS(rc_last_error(), "out of memory");
            CHECK_EQ(rc_batch_pending(w), n_ack); /* unchanged */
            hand_back_failed++;
        }
    } else if (w && variant == 2) {
        int code = rc_batch_close(w, &list);
        CHECK(code == RC_EIO || code == RC_ENOMEM || (code == 0 && rc_batch_pending(w) == 0));
        if (code == RC_ENOMEM) {
            CHECK(list == NULL && !stats_of(w).closed); /* kept, still open */
            CHECK_EQ(rc_batch_pending(w), n_ack);
            hand_back_failed++;
        }
    } else if (!w) {
        CHECK_STR_CONTAINS(rc_last_error(), "out of memory");
        total_failed++;
    }
    bool reached = faults_disarm();
    fail_always = false;
    size_t i = 0;
    void *item;
    while (rc_list_next(list, &i, &item) && n_delivered < LOG_MAX)
        delivered[n_delivered++] = record_number(item);
    rc_decref(list);
    if (w) {
        fail_mask = 0;
        if (!stats_of(w).closed)
            CHECK_EQ(rc_batch_flush(w), 0);
        CHECK_EQ(n_delivered, n_ack);
        size_t wrong = 0;
        for (size_t k = 0; k < n_ack && k < n_delivered; k++)
            wrong += delivered[k] != acknowledged[k];
        CHECK_EQ(wrong, 0);
        rc_decref(w);
    }
    end();
    return reached;
}

int main(void)
{
    test_batches();
    test_failure_and_retry();
    test_max_pending();
    test_close();
    test_reentry_and_misuse();
    test_model();
    for (int variant = 0; variant < 3; variant++) {
        for (int sticky = 0; sticky < 2; sticky++) {
            long n = 0;
            total_failed = hand_back_failed = 0;
            while (n < 10000 && scenario_writes(n, sticky, variant))
                n++;
            CHECK(n > 3 && n < 10000);
            if (sticky)
                CHECK(total_failed > 0 && (variant == 0 || hand_back_failed > 0));
            printf("faults variant %d %-6s: %ld failure points, %zu failed writes, %zu failed "
                   "hand-backs\n",
                   variant, sticky ? "sticky" : "once", n, total_failed, hand_back_failed);
        }
    }
    return check_report();
}
