/* error.c: the thread-local last-error message and fatal stops.
 *
 * Invariant: rc_last_error() returns the message of the calling thread's
 * last failing call, or "" if it had none; messages are cut to fit the
 * buffer, never overflow it. A message is formatted aside and then copied
 * in, so its arguments may include rc_last_error() itself.
 */
#include "../internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static _Thread_local char last_error[512];

const char *rc_last_error(void) { return last_error; }

static int set_error_v(int code, const char *fmt, va_list args)
{
    char message[sizeof last_error];
    vsnprintf(message, sizeof message, fmt, args);
    memcpy(last_error, message, sizeof message);
    return code;
}

int rc_set_error(int code, const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    set_error_v(code, fmt, args);
    va_end(args);
    return code;
}

int rc_report_error(int code, const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    set_error_v(code, fmt, args);
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
