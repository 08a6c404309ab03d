/* reclaim/common.h: what every layer of the public API shares.
 *
 * Error convention (all layers): functions that make something return NULL on
 * failure; functions that do something return 0 on success or a negative
 * RC_E* code. Either way rc_last_error() then gives a message for the calling
 * thread, valid until the next failing call on that thread.
 *
 * Misuse that would corrupt memory (a refcount going below zero, freeing a
 * pointer reclaim did not allocate, freeing an object with rc_free) is not an
 * error code: it stops the process with a message naming what went wrong,
 * as glibc does for a double free.
 */
#ifndef RECLAIM_COMMON_H
#define RECLAIM_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) || defined(__clang__)
#define RC_API __attribute__((visibility("default")))
#else
#define RC_API
#endif

#define RC_VERSION_MAJOR  0
#define RC_VERSION_MINOR  1
#define RC_VERSION_PATCH  0
#define RC_VERSION_STRING "0.1.0"

/* The library's version, "MAJOR.MINOR.PATCH"; compare with RC_VERSION_STRING
 * to catch a program built against other headers than the library it runs. */
RC_API const char *rc_version(void);

enum {
    RC_OK = 0,
    RC_ENOMEM = -1,    /* out of memory (after one cycle collection and retry) */
    RC_EINVAL = -2,    /* an argument is out of range or of the wrong kind */
    RC_ESTATE = -3,    /* the call is not allowed now (e.g. during a collection) */
    RC_ENOTFOUND = -4, /* the thing to remove or look up is not there */
    RC_EIO = -5,       /* a system call on a file or mapping failed, or a sink did */
};

/* The calling thread's message for its last failure ("" if none yet). */
RC_API const char *rc_last_error(void);

/* Sets the calling thread's rc_last_error() message (printf-style) and
 * returns code: for user code the library calls (a pattern's callback, a
 * type's hook) to say why it failed. The arguments may include
 * rc_last_error() itself, to add to the message already there. */
RC_API int rc_report_error(int code, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

#ifdef __cplusplus
}
#endif
#endif
