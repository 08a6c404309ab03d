/* callbacks.c: messages across user callbacks, and the stats size check.
 *
 * A pattern empties the thread's message before it calls user code; if the
 * callback fails, whatever message it left (through rc_report_error or a
 * failing reclaim call) is appended to the pattern's own, so the caller
 * reads both what failed and why (rc_set_error may be given the message it
 * replaces).
 */
#include "patterns_internal.h"

#include <stdio.h>

void rc_patterns_before_callback(void) { rc_set_error(0, "%s", ""); }

int rc_patterns_callback_failed(int code, const char *fn, const char *what)
{
    const char *reason = rc_last_error();
    if (reason[0])
        return rc_set_error(code, "%s: %s: %s", fn, what, reason);
    return rc_set_error(code, "%s: %s", fn, what);
}

bool rc_patterns_check_stats(const void *self, const rc_type *type, const void *out,
                             size_t expected, const char *fn)
{
    if (!rc_types_check(self, type, fn))
        return false;
    if (!out) {
        rc_set_error(RC_EINVAL, "%s: out is NULL", fn);
        return false;
    }
    size_t struct_size = *(const size_t *)out;
    if (struct_size == expected)
        return true;
    rc_set_error(RC_EINVAL, "%s: struct_size is %zu, expected %zu", fn, struct_size, expected);
    return false;
}
