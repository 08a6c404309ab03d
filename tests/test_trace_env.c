/* test_trace_env: RECLAIM_TRACE and RECLAIM_TRACE_UNWIND. The program runs
 * itself as a child with the variables set (so that they are there when
 * the child's first heap is made, as PYTHONTRACEMALLOC is at start-up) and
 * checks what the child reports on stdout and stderr.
 */
#include "trace_check.h"

#include <reclaim.h>

/* The child: its implicit heap is made by the first rc_malloc. Prints
 * "limit=N traced=B unwind=U" (U: rc_trace_unwind) and exits 0. */
static int child(void)
{
    void *p = rc_malloc(100);
    size_t current = 0;
    rc_trace_get_memory(&current, NULL);
    printf("limit=%u traced=%zu unwind=%d\n", rc_trace_traceback_limit(), current,
           (int)rc_heap_current()->trace.unwind);
    rc_free(p);
    return 0;
}

/* Runs this program as a child with RECLAIM_TRACE=trace (NULL: unset) and
 * RECLAIM_TRACE_UNWIND=unwind (NULL: unset); its stdout and stderr go to
 * out and err. Returns the exit status (-1 if it did not exit). */
static int run_child(const char *trace, const char *unwind, char *out, char *err, size_t n)
{
    int out_pipe[2], err_pipe[2];
    if (pipe(out_pipe) != 0 || pipe(err_pipe) != 0)
        return -1;
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(out_pipe[1], 1);
        dup2(err_pipe[1], 2);
        if (trace)
            setenv("RECLAIM_TRACE", trace, 1);
        else
            unsetenv("RECLAIM_TRACE");
        if (unwind)
            setenv("RECLAIM_TRACE_UNWIND", unwind, 1);
        else
            unsetenv("RECLAIM_TRACE_UNWIND");
        execl("/proc/self/exe", "test_trace_env", "child", (char *)NULL);
        _exit(127);
    }
    close(out_pipe[1]);
    close(err_pipe[1]);
    int fds[2] = {out_pipe[0], err_pipe[0]};
    char *bufs[2] = {out, err};
    for (int i = 0; i < 2; i++) {
        size_t len = 0;
        ssize_t got;
        while (len + 1 < n && (got = read(fds[i], bufs[i] + len, n - 1 - len)) > 0)
            len += (size_t)got;
        bufs[i][len] = '\0';
        close(fds[i]);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void check_child(const char *trace, const char *unwind, const char *expected_out,
                        const char *expected_err)
{
    char out[512], err[2048];
    CHECK_EQ(run_child(trace, unwind, out, err, sizeof out), 0);
    CHECK_STR_CONTAINS(out, expected_out);
    if (expected_err)
        CHECK_STR_CONTAINS(err, expected_err);
    else
        CHECK(strstr(err, "RECLAIM_TRACE") == NULL); /* valid values say nothing */
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "child") == 0)
        return child();
    _Static_assert(RC_TRACE_UNWIND_CHECKED == 0 && RC_TRACE_UNWIND_FP == 1 &&
                       RC_TRACE_UNWIND_LIBUNWIND == 2,
                   "the numbers the child prints");
    check_child(NULL, NULL, "limit=0 traced=0 unwind=0", NULL);
    check_child("", NULL, "limit=0 traced=0", NULL);
    check_child("0", NULL, "limit=0 traced=0", NULL);
    check_child("1", NULL, "limit=1 traced=100 unwind=0", NULL);
    check_child("25", NULL, "limit=25 traced=100", NULL);
    check_child("128", NULL, "limit=128 traced=100", NULL);
    const char *bad[] = {"129", "-1", "ten", "5x", " 5", "99999999999999999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char expected[200];
        snprintf(expected, sizeof expected,
                 "reclaim: RECLAIM_TRACE=%s: expected a number of frames from 1 to 128 (0: "
                 "off); tracing stays off",
                 bad[i]);
        check_child(bad[i], NULL, "limit=0 traced=0", expected);
    }
    check_child("3", "fp", "limit=3 traced=100 unwind=1", NULL);
    check_child("3", "libunwind", "limit=3 traced=100 unwind=2", NULL);
    check_child("3", "cfi", "limit=3 traced=100 unwind=0", NULL);
    check_child("3", "", "limit=3 traced=100 unwind=0", NULL);
    check_child("3", "dwarf", "limit=3 traced=100 unwind=0",
                "reclaim: RECLAIM_TRACE_UNWIND=dwarf: expected \"cfi\", \"fp\" or "
                "\"libunwind\"; using cfi");
    return check_report();
}
