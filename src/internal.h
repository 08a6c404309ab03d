/* internal.h: included first by every source file of the library.
 *
 * Internal headers refuse to compile outside the library's own build, so a
 * user cannot come to depend on them. Internal functions are hidden from the
 * shared library (-fvisibility=hidden; RC_INTERNAL marks them for readers)
 * and carry a module infix: rc_pool_, rc_gc_, rc_weak_, rc_track_.
 */
#ifndef RC_INTERNAL_H
#define RC_INTERNAL_H

#ifndef RC_BUILDING_LIBRARY
#error "reclaim: this is an internal header; include <reclaim.h> instead"
#endif

#include "config.h"
#include "reclaim.h"

#include <stdarg.h>

#define RC_INTERNAL      __attribute__((visibility("hidden")))
#define RC_LIKELY(x)     __builtin_expect(!!(x), 1)
#define RC_UNLIKELY(x)   __builtin_expect(!!(x), 0)
#define RC_NOINLINE      __attribute__((noinline))
#define RC_ALWAYS_INLINE inline __attribute__((always_inline))
#define RC_NORETURN      __attribute__((noreturn))
#define RC_PRINTF(f, a)  __attribute__((format(printf, f, a)))

/* Sets the calling thread's rc_last_error() message; returns code. */
RC_INTERNAL int rc_set_error(int code, const char *fmt, ...) RC_PRINTF(2, 3);
/* Stops the process: "reclaim: fatal: <message>" on stderr, then abort().
 * For misuse that would otherwise corrupt memory. */
RC_INTERNAL RC_NORETURN void rc_fatal(const char *fmt, ...) RC_PRINTF(1, 2);

#if RC_CHECKS >= 1
#define RC_ASSERT(cond) ((cond) ? (void)0 : rc_assert_failed(#cond, __FILE__, __LINE__))
#else
#define RC_ASSERT(cond) ((void)0)
#endif
#define RC_EXPENSIVE (RC_CHECKS >= 2)
RC_INTERNAL RC_NORETURN void rc_assert_failed(const char *cond, const char *file, int line);

#endif
