/* patterns_internal.h: what the files of src/patterns share.
 *
 * The patterns (layer 5, beside the built-in types) are the seeds' memory
 * patterns as objects and functions: an object pool, lazy values, chunked
 * file processing, a batched writer, a shared-memory array, an LRU cache
 * and a canonicalizing cache. Each lives in one file; this header holds the
 * little they share: the type check (the built-in types' one, so messages
 * read alike), the stats struct_size check, and how a user callback's
 * failure becomes the caller's message.
 *
 * Callbacks run user code in the middle of an operation. Every pattern
 * keeps its object consistent (and traversable) before calling out, holds
 * a reference to itself for the duration (so the callback may drop the
 * last outside reference), and refuses re-entry where re-entry would see a
 * half-done operation (RC_ESTATE).
 */
#ifndef RC_PATTERNS_INTERNAL_H
#define RC_PATTERNS_INTERNAL_H

#include "../types/types_internal.h"

/* The checks of a get_stats function: true if self is an object of type
 * (rc_types_check) and out is not NULL with its struct_size (every stats
 * struct's first field) equal to expected, the size the library knows;
 * otherwise RC_EINVAL "<fn>: struct_size is N, expected M" (or "<fn>: out
 * is NULL", or rc_types_check's message). */
RC_INTERNAL bool rc_patterns_check_stats(const void *self, const rc_type *type, const void *out,
                                         size_t expected, const char *fn);

/* Empties the calling thread's message before a user callback runs, so
 * that a message the callback leaves (rc_report_error, or a failing
 * reclaim call inside it) can be told from a stale one. */
RC_INTERNAL void rc_patterns_before_callback(void);

/* After a callback failed: sets "<fn>: <what>: <the callback's message>",
 * or "<fn>: <what>" if it left none. Returns code. */
RC_INTERNAL int rc_patterns_callback_failed(int code, const char *fn, const char *what);

#endif
