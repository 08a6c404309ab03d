/* check.h: the test harness. A test program is a main() calling CHECK*;
 * each failure prints file:line and the values, and the program exits 1 at
 * the end if any failed. expect_death runs a function in a child process and
 * checks that it stops the process with a message containing a given text.
 * The last line is "N passed, N failed", which ctest logs show.
 */
#ifndef RC_TEST_CHECK_H
#define RC_TEST_CHECK_H

#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int check_failed_count;
static int check_passed_count;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (cond) {                                                                                \
            check_passed_count++;                                                                  \
        } else {                                                                                   \
            check_failed_count++;                                                                  \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);               \
        }                                                                                          \
    } while (0)

#define CHECK_EQ(a, b)                                                                             \
    do {                                                                                           \
        long long check_a_ = (long long)(a), check_b_ = (long long)(b);                            \
        if (check_a_ == check_b_) {                                                                \
            check_passed_count++;                                                                  \
        } else {                                                                                   \
            check_failed_count++;                                                                  \
            fprintf(stderr, "%s:%d: CHECK_EQ failed: %s == %s (%lld vs %lld)\n", __FILE__,         \
                    __LINE__, #a, #b, check_a_, check_b_);                                         \
        }                                                                                          \
    } while (0)

#define CHECK_STR_CONTAINS(haystack, needle)                                                       \
    do {                                                                                           \
        const char *check_h_ = (haystack), *check_n_ = (needle);                                   \
        if (check_h_ && strstr(check_h_, check_n_)) {                                              \
            check_passed_count++;                                                                  \
        } else {                                                                                   \
            check_failed_count++;                                                                  \
            fprintf(stderr, "%s:%d: expected \"%s\" in \"%s\"\n", __FILE__, __LINE__, check_n_,    \
                    check_h_ ? check_h_ : "(null)");                                               \
        }                                                                                          \
    } while (0)

/* Runs fn in a child; true if the child died of a signal (abort) and wrote
 * a message to stderr containing `expected`. The message is kept in
 * `out` (size n) for the caller to check more. */
static inline int expect_death(void (*fn)(void), const char *expected, char *out, size_t n)
{
    int pipefd[2];
    if (pipe(pipefd) != 0)
        return 0;
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(pipefd[1], 2);
        close(pipefd[0]);
        /* keep sanitizers from turning the expected abort into a report */
        signal(SIGABRT, SIG_DFL);
        fn();
        _exit(0); /* fn returned: no death */
    }
    close(pipefd[1]);
    size_t len = 0;
    ssize_t got;
    while (len + 1 < n && (got = read(pipefd[0], out + len, n - 1 - len)) > 0)
        len += (size_t)got;
    out[len] = '\0';
    char sink[256];
    while (read(pipefd[0], sink, sizeof sink) > 0) {
    }
    close(pipefd[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    int died = WIFSIGNALED(status) || (WIFEXITED(status) && WEXITSTATUS(status) != 0);
    return died && strstr(out, expected) != NULL;
}

#define CHECK_DEATH(fn, expected)                                                                  \
    do {                                                                                           \
        char check_msg_[4096];                                                                     \
        if (expect_death(fn, expected, check_msg_, sizeof check_msg_)) {                           \
            check_passed_count++;                                                                  \
        } else {                                                                                   \
            check_failed_count++;                                                                  \
            fprintf(stderr, "%s:%d: %s did not die with \"%s\"; stderr: %s\n", __FILE__, __LINE__, \
                    #fn, expected, check_msg_);                                                    \
        }                                                                                          \
    } while (0)

static inline int check_report(void)
{
    printf("%d passed, %d failed\n", check_passed_count, check_failed_count);
    return check_failed_count ? 1 : 0;
}

#endif
