/* shared_array.c: "shared memory must use multiprocessing.Array", in C
 * with rc_shared_array.
 *
 *     counts = multiprocessing.Array('q', 5)      # before the workers start
 *     def worker(i):
 *         for _ in range(100000):
 *             with counts.get_lock():
 *                 counts[0] += 1                   # the total
 *                 counts[i + 1] += 1               # this worker's own
 *     ... start 4 processes, join them ...
 *     print(counts[:])
 *
 * The workers are children made by fork; they write into the shared
 * memory, and the parent reads it after waitpid. Exits non-zero if the
 * totals are not exact.
 */
#include <reclaim.h>

#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

enum { WORKERS = 4, ROUNDS = 100000 };

static void worker(void *counts, int i)
{
    int64_t *count = rc_shared_array_data(counts);
    for (int round = 0; round < ROUNDS; round++) {
        rc_shared_array_lock(counts); /* with counts.get_lock(): */
        count[0] += 1;
        count[i + 1] += 1;
        rc_shared_array_unlock(counts);
    }
    _exit(0);
}

int main(void)
{
    void *counts = rc_shared_array_new(1 + WORKERS, sizeof(int64_t));
    if (!counts) {
        printf("%s\n", rc_last_error());
        return 1;
    }
    pid_t pids[WORKERS];
    fflush(stdout);
    for (int i = 0; i < WORKERS; i++) {
        pids[i] = fork();
        if (pids[i] == 0)
            worker(counts, i);
    }
    for (int i = 0; i < WORKERS; i++) /* join */
        waitpid(pids[i], NULL, 0);

    int64_t value;
    int ok = 1;
    printf("counts[:] = [");
    for (size_t i = 0; i < 1 + WORKERS; i++) {
        rc_shared_array_get(counts, i, &value); /* counts[i], under the lock */
        printf("%s%lld", i ? ", " : "", (long long)value);
        ok = ok && value == (i == 0 ? WORKERS * ROUNDS : ROUNDS);
    }
    printf("]\n%s\n", ok ? "ok: no update lost" : "FAILED");
    rc_decref(counts);
    return !ok;
}
