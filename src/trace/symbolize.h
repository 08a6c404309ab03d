/* symbolize.h: return addresses to source locations, through libdwfl
 * (elfutils) on the running process.
 *
 * A symbolizer is a session: it reports the process's loaded modules once
 * (dwfl_linux_proc_report) and answers lookups until it is freed; libdwfl
 * keeps each module's line tables once read. Symbolizers are made when a
 * snapshot is examined or a traceback formatted, never on the allocation
 * path (where the checked walk's rule set makes a session of its own, for
 * frame tables only: rc_symbolizer_report_proc). Callers look each
 * distinct address up once (a snapshot's address table is the cache).
 *
 * Separate debug information is looked for by build id under the standard
 * debug directories only; never over the network (debuginfod), whatever the
 * environment says.
 */
#ifndef RC_TRACE_SYMBOLIZE_H
#define RC_TRACE_SYMBOLIZE_H

#include "snapshot_internal.h"

#include <elfutils/libdwfl.h>

typedef struct rc_symbolizer rc_symbolizer;

/* A new libdwfl session that has reported the process's loaded modules
 * (debug information by build id, as above); NULL if it could not be made
 * or the modules reported. Every symbolizer starts its session here, and so
 * does the checked walk's rule set (capture_cfi.c, on the allocation path);
 * dwfl_end ends it. */
RC_INTERNAL Dwfl *rc_symbolizer_report_proc(void);

/* A session over the current process. NULL with a message only if memory is
 * short; if the modules cannot be reported, every lookup is unknown. */
RC_INTERNAL rc_symbolizer *rc_symbolizer_new(void);
RC_INTERNAL void rc_symbolizer_free(rc_symbolizer *sym);

/* What a lookup found: the fields of an rc_frame. The strings live until the
 * next lookup with the same rc_symbol or the session's end. */
typedef struct rc_symbol {
    const char *filename;
    const char *function;
    uint32_t lineno;
    char text[320]; /* room for a composed function text */
} rc_symbol;

/* Resolves a return address: the call is at return_address - 1, as
 * unwinders do. Addresses without line information give filename
 * "<unknown>", lineno 0 and a function text naming what is known: the
 * symbol and the module+offset, the module+offset, or the address. */
RC_INTERNAL void rc_symbolizer_lookup(rc_symbolizer *sym, uintptr_t return_address, rc_symbol *out);

#endif
