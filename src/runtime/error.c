/* error.c: the thread-local last-error message and fatal stops.
 *
 * Invariant: rc_last_error() returns the message of the calling thread's
 * last failing call, or "" if it had none; messages are cut to fit the
 * buffer, never overflow it.
 */
#include "../internal.h"

#include <stdio.h>
#include <stdlib.h>

static _Thread_local char last_error[512];

const char *rc_last_error(void) { return last_error; }

int rc_set_error(int code, const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, args);
    va_end(args);
    return code;
}

void rc_fatal(const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    fputs("reclaim: fatal: ", stderr);
    vfprintf(stderr, fmt, args);
    fputc('\n', stderr);
    va_end(args);
    fflush(stderr);
    abort();
}

void rc_assert_failed(const char *cond, const char *file, int line)
{
    rc_fatal("internal check failed: %s (%s:%d)", cond, file, line);
}

const char *rc_version(void) { return RC_VERSION_STRING; }
