/* batched_writes.c: the seeds' "collect database requests and run them
 * together in batches while retaining fail-safety", and process_large_csv's
 * batches, in C with rc_batch_writer.
 *
 *     batch_size = 1000
 *     for row in reader:
 *         batch.append(row)
 *         if len(batch) >= batch_size:
 *             total += process_batch(batch)
 *             batch.clear()
 *     if batch:
 *         total += process_batch(batch)
 *
 * Here the batch goes to a "database" that is down for a while: the batches
 * it refuses stay pending and go in on a later try, so the total comes out
 * exact, every row counted once. Exits non-zero if anything is not as it
 * says.
 */
#include <reclaim.h>

#include <stdio.h>
#include <stdlib.h>

static int failures;

static void expect(int ok, const char *what)
{
    if (!ok) {
        printf("  !! unexpected: %s\n", what);
        failures++;
    }
}

typedef struct Database {
    double total;
    size_t rows, commits, calls;
} Database;

/* process_batch: sum(float(row['value']) for row in batch), committed as
 * one transaction; calls 3 to 5 fail (the database is down). */
static int process_batch(void *const *rows, size_t n, void *arg)
{
    Database *db = arg;
    db->calls++;
    if (db->calls >= 3 && db->calls <= 5)
        return rc_report_error(-1, "database is down (call %zu)", db->calls);
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += strtod(rc_bytes_data(rows[i]), NULL); /* a row: "id,value" */
    db->total += sum;
    db->rows += n;
    db->commits++;
    return 0;
}

int main(void)
{
    Database db = {0, 0, 0, 0};
    void *writer = rc_batch_writer_new(1000, 0, process_batch, &db);
    double expected = 0;
    for (int id = 0; id < 10500; id++) { /* for row in reader */
        char row[32];
        double value = (id % 100) / 4.0;
        int n = snprintf(row, sizeof row, "%g,%d", value, id);
        expected += value;
        if (rc_batch_write(writer, row, (size_t)n + 1) != 0)
            expect(0, "every row acknowledged");
        if (id % 1000 == 999)
            printf("after %5d rows: %5zu committed, %4zu pending\n", id + 1, db.rows,
                   rc_batch_pending(writer));
    }
    /* the remaining rows, and whatever is still pending */
    void *left = NULL;
    int code = rc_batch_close(writer, &left);
    rc_batch_stats stats = {.struct_size = sizeof stats};
    rc_batch_get_stats(writer, &stats);
    printf("closed: %d; %zu rows in %zu commits, %zu failed flushes\n", code, db.rows, db.commits,
           stats.failed_flushes);
    printf("total %.2f (expected %.2f)\n", db.total, expected);
    expect(code == 0 && left == NULL, "everything flushed at close");
    expect(db.rows == 10500 && db.total == expected, "every row counted once");
    expect(stats.failed_flushes == 3, "three refused batches, retried");
    rc_decref(writer);

    /* closing while the database is down hands the rows back */
    db = (Database){0, 0, 0, 2}; /* the next call is the failing third */
    writer = rc_batch_writer_new(1000, 0, process_batch, &db);
    rc_batch_write(writer, "1.5,1", 6);
    rc_batch_write(writer, "2.5,2", 6);
    code = rc_batch_close(writer, &left);
    printf("\nclose while down: %d (\"%s\"); %zu rows handed back\n", code, rc_last_error(),
           rc_list_len(left));
    expect(code == RC_EIO && rc_list_len(left) == 2, "the two rows come back");
    rc_decref(left);
    rc_decref(writer);
    printf("%s\n", failures ? "FAILED" : "ok");
    return failures != 0;
}
