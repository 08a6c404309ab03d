/* test_patterns_shared.c: rc_shared_array, multiprocessing.Array: made
 * before fork, written by children under the process-shared lock, read by
 * the parent after waitpid with exact totals; elements of any size through
 * get/set; a child dying while holding the lock (robust: the next locker
 * is told); the mapping living on in a child after the parent drops its
 * copy; misuse and argument errors; out-of-memory injection. */
#include "faults.h"

#include <sched.h>

enum { CHILDREN = 4, INCREMENTS = 20000 };

typedef struct Report {
    int32_t pid;
    int32_t increments;
} Report;

/* Each child: INCREMENTS times, under the lock, total += 1 and its own
 * counter += 1 (a read-modify-write: only the lock makes it exact); then
 * its report through set. Exits 0, or 1 if a call failed. */
static void child_work(void *counters, void *reports, int index)
{
    int failures = 0;
    int64_t *count = rc_shared_array_data(counters);
    for (int i = 0; i < INCREMENTS; i++) {
        failures += rc_shared_array_lock(counters) != 0;
        int64_t total = count[0];
        if (i % 1000 == 0)
            sched_yield(); /* invite the others in while the lock is held */
        count[0] = total + 1;
        count[1 + index] += 1;
        failures += rc_shared_array_unlock(counters) != 0;
    }
    Report report = {(int32_t)getpid(), INCREMENTS};
    failures += rc_shared_array_set(reports, (size_t)index, &report) != 0;
    rc_decref(counters); /* this process's copy: unmaps here only */
    rc_decref(reports);
    _exit(failures ? 1 : 0);
}

static void test_children_increment(void)
{
    void *counters = rc_shared_array_new(1 + CHILDREN, sizeof(int64_t));
    void *reports = rc_shared_array_new(CHILDREN, sizeof(Report));
    CHECK(counters && reports && rc_type_of(counters) == &rc_shared_array_type);
    CHECK_EQ(rc_shared_array_len(counters), 1 + CHILDREN);
    CHECK_EQ(rc_shared_array_elem_size(reports), sizeof(Report));
    CHECK_EQ((uintptr_t)rc_shared_array_data(counters) % 64, 0);
    int64_t zero = -1;
    CHECK_EQ(rc_shared_array_get(counters, CHILDREN, &zero), 0);
    CHECK_EQ(zero, 0); /* zeroed */

    pid_t pids[CHILDREN];
    for (int c = 0; c < CHILDREN; c++) {
        fflush(NULL);
        pids[c] = fork();
        CHECK(pids[c] >= 0);
        if (pids[c] == 0)
            child_work(counters, reports, c);
    }
    int clean_exits = 0;
    for (int c = 0; c < CHILDREN; c++) {
        int status = -1;
        waitpid(pids[c], &status, 0);
        clean_exits += WIFEXITED(status) && WEXITSTATUS(status) == 0;
    }
    CHECK_EQ(clean_exits, CHILDREN);
    int64_t *count = rc_shared_array_data(counters);
    CHECK_EQ(count[0], (int64_t)CHILDREN * INCREMENTS); /* no update lost */
    for (int c = 0; c < CHILDREN; c++) {
        CHECK_EQ(count[1 + c], INCREMENTS);
        Report report = {0, 0};
        CHECK_EQ(rc_shared_array_get(reports, (size_t)c, &report), 0);
        CHECK_EQ(report.pid, pids[c]);
        CHECK_EQ(report.increments, INCREMENTS);
    }
    rc_decref(counters);
    rc_decref(reports);
}

/* A child takes the lock and dies holding it: the parent's lock gets it
 * with RC_SHARED_OWNER_DIED, and the lock works normally afterwards. */
static void test_owner_died(void)
{
    void *array = rc_shared_array_new(2, sizeof(int64_t));
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        rc_shared_array_lock(array);
        ((int64_t *)rc_shared_array_data(array))[0] = 42; /* half an update */
        _exit(0);                                         /* without unlocking */
    }
    int status;
    waitpid(pid, &status, 0);
    CHECK_EQ(rc_shared_array_lock(array), RC_SHARED_OWNER_DIED);
    CHECK_EQ(((int64_t *)rc_shared_array_data(array))[0], 42);
    CHECK_EQ(rc_shared_array_unlock(array), 0);
    CHECK_EQ(rc_shared_array_lock(array), 0);
    CHECK_EQ(rc_shared_array_unlock(array), 0);
    int64_t v = 7;
    CHECK_EQ(rc_shared_array_set(array, 1, &v), 0);
    rc_decref(array);
}

/* The parent drops its copy while a child still uses the memory. */
static void test_outlives_parent_copy(void)
{
    void *array = rc_shared_array_new(1000, sizeof(int64_t));
    int go[2];
    CHECK_EQ(pipe(go), 0);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        char byte;
        close(go[1]);
        if (read(go[0], &byte, 1) != 1) /* the parent has unmapped its copy */
            _exit(2);
        int64_t *data = rc_shared_array_data(array), sum = 0;
        for (int i = 0; i < 1000; i++)
            data[i] = i;
        for (int i = 0; i < 1000; i++)
            sum += data[i];
        rc_decref(array);
        _exit(sum == 999 * 1000 / 2 ? 0 : 1);
    }
    close(go[0]);
    rc_decref(array);
    CHECK_EQ(write(go[1], "g", 1), 1);
    close(go[1]);
    int status = -1;
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void test_misuse(void)
{
    void *array = rc_shared_array_new(8, sizeof(int64_t));
    CHECK_EQ(rc_shared_array_unlock(array), RC_ESTATE);
    CHECK_STR_CONTAINS(rc_last_error(), "the caller does not hold the lock");
    CHECK_EQ(rc_shared_array_lock(array), 0);
    CHECK_EQ(rc_shared_array_lock(array), RC_ESTATE); /* error-checking: no self-deadlock */
    CHECK_STR_CONTAINS(rc_last_error(), "rc_shared_array_lock: cannot take the lock");
    CHECK_EQ(rc_shared_array_unlock(array), 0);
    int64_t v = 0;
    CHECK_EQ(rc_shared_array_get(array, 8, &v), RC_EINVAL);
    CHECK_STR_CONTAINS(rc_last_error(), "rc_shared_array_get: index 8 out of range (length 8)");
    CHECK_EQ(rc_shared_array_set(array, 0, NULL), RC_EINVAL);
    CHECK_STR_CONTAINS(rc_last_error(), "the element pointer is NULL");

    CHECK(rc_shared_array_new(0, 8) == NULL);
    CHECK_STR_CONTAINS(rc_last_error(), "0 elements of 8 bytes: the size is 0");
    CHECK(rc_shared_array_new(4, 0) == NULL);
    CHECK(rc_shared_array_new(SIZE_MAX / 2, 4) == NULL);
    CHECK_STR_CONTAINS(rc_last_error(), "too many bytes");
    CHECK(rc_shared_array_new((size_t)1 << 47, 8) == NULL); /* a petabyte: refused */
    CHECK_STR_CONTAINS(rc_last_error(), "out of memory: rc_shared_array_new: mmap of");

    void *list = rc_list_new();
    CHECK(rc_shared_array_data(list) == NULL);
    CHECK_STR_CONTAINS(rc_last_error(), "expected a shared_array, got a list");
    CHECK_EQ(rc_shared_array_lock(list), RC_EINVAL);
    CHECK_EQ(rc_shared_array_len(NULL), 0);
    rc_decref(list);
    rc_decref(array);
}

/* ---- out-of-memory injection ------------------------------------------- */

/* Making 50 arrays while requests fail: NULL with a message, or an array
 * that works; all dropped, the heap is back where it began. */
static bool scenario_new(long n, bool sticky, int variant)
{
    (void)variant;
    faults_begin();
    void *arrays[50];
    arm(n, sticky);
    for (int i = 0; i < 50; i++) {
        error_reset();
        arrays[i] = rc_shared_array_new(16, 100);
        if (!arrays[i]) {
            CHECK_STR_CONTAINS(rc_last_error(), "out of memory");
            total_failed++;
        }
    }
    bool reached = faults_disarm();
    for (int i = 0; i < 50; i++) {
        if (arrays[i]) {
            char element[100] = "x";
            CHECK_EQ(rc_shared_array_set(arrays[i], 15, element), 0);
        }
        rc_decref(arrays[i]);
    }
    end();
    return reached;
}

int main(void)
{
    test_children_increment();
    test_owner_died();
    test_outlives_parent_copy();
    test_misuse();
    faults_sweep("new", scenario_new, 0, 1, 1000);
    return check_report();
}
