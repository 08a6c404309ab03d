/* trace_check.h: what the tracing tests share. The test programs named
 * test_trace_* are linked with -rdynamic (tests/CMakeLists.txt), so dladdr
 * names their non-static functions: a traceback's frame is checked by the
 * function it returns into. They are also compiled with frame pointers, so
 * that the frame-pointer unwinder sees their whole call chain.
 */
#ifndef RC_TEST_TRACE_CHECK_H
#define RC_TEST_TRACE_CHECK_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* dladdr; this header comes first in its test */
#endif
#include "check.h"

#include "trace/trace_core.h"

#include <dlfcn.h>

/* The function a return address returns into ("?" if dladdr cannot tell). */
static inline const char *function_of(const void *ip)
{
    Dl_info info;
    if (ip && dladdr((const char *)ip - 1, &info) && info.dli_sname)
        return info.dli_sname;
    return "?";
}

/* frame i of tb is in function name (tb NULL or too short: fails). */
#define CHECK_FRAME(tb, i, name)                                                                   \
    do {                                                                                           \
        const rc_trace_frames *check_tb_ = (tb);                                                   \
        const char *check_fn_ =                                                                    \
            check_tb_ && (i) < check_tb_->nframes ? function_of(check_tb_->ip[i]) : "(none)";      \
        if (strcmp(check_fn_, (name)) == 0) {                                                      \
            check_passed_count++;                                                                  \
        } else {                                                                                   \
            check_failed_count++;                                                                  \
            fprintf(stderr, "%s:%d: frame %d is in %s, expected %s\n", __FILE__, __LINE__,         \
                    (int)(i), check_fn_, (name));                                                  \
        }                                                                                          \
    } while (0)

/* Keeps the compiler from turning the call before it into a tail call (a
 * tail call leaves no frame of its caller to find). */
#define NO_TAIL_CALL() __asm__ volatile("" ::: "memory")

static inline size_t traced_current(void)
{
    size_t current = 0;
    rc_trace_get_memory(&current, NULL);
    return current;
}

static inline size_t traced_peak(void)
{
    size_t peak = 0;
    rc_trace_get_memory(NULL, &peak);
    return peak;
}

#endif
