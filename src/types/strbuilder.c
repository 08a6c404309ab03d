/* strbuilder.c: building a str from pieces in linear time (io.StringIO,
 * CPython's _PyUnicodeWriter).
 *
 * A builder owns one raw buffer: buf[0..len) is the text so far and
 * len < cap whenever buf is not NULL (room for the final NUL). When an
 * append does not fit, the buffer grows to a quarter more than needed, so
 * the bytes copied by all growths stay under 5 times the result (amortised
 * O(1) a byte) and cap <= 1.25 * (len + 1) + 64 after any growth.
 *
 * Building a large result hands the buffer to the str (shrunk to fit)
 * instead of copying it: the memory in use peaks at the buffer's capacity,
 * about 1.25 times the result, never at buffer plus copy.
 */
#include "types_internal.h"

#include <string.h>

enum { MIN_CAPACITY = 64, COPY_BELOW = 256 };

static void strbuilder_destroy(void *self)
{
    rc_strbuilder_body *sb = self;
    rc_free(sb->buf);
    sb->buf = NULL;
}

const rc_type rc_strbuilder_type = {
    .name = "strbuilder",
    .size = sizeof(rc_strbuilder_body),
    .destroy = strbuilder_destroy,
};

void *rc_strbuilder_new(void) { return rc_new(&rc_strbuilder_type); }

static int strbuilder_grow(rc_strbuilder_body *sb, size_t need)
{
    size_t cap = need + need / 4;
    if (cap < need)
        cap = need;
    if (cap < MIN_CAPACITY)
        cap = MIN_CAPACITY;
    char *buf = rc_realloc(sb->buf, cap);
    if (!buf)
        return RC_ENOMEM;
    sb->buf = buf;
    sb->cap = cap;
    return 0;
}

int rc_strbuilder_append(void *obj, const char *s, size_t n)
{
    if (!rc_types_check(obj, &rc_strbuilder_type, "rc_strbuilder_append"))
        return RC_EINVAL;
    if (!s && n)
        return rc_set_error(RC_EINVAL, "rc_strbuilder_append: text is NULL");
    rc_strbuilder_body *sb = obj;
    size_t need = sb->len + n + 1;
    if (need <= sb->len)
        return rc_set_error(RC_ENOMEM, "rc_strbuilder_append: text too large");
    if (need > sb->cap) {
        int err = strbuilder_grow(sb, need);
        if (err)
            return err;
    }
    memcpy(sb->buf + sb->len, s, n);
    sb->len += n;
    return 0;
}

int rc_strbuilder_append_str(void *sb, const void *str)
{
    if (!rc_types_check(str, &rc_str_type, "rc_strbuilder_append_str"))
        return RC_EINVAL;
    const rc_str_body *s = str;
    return rc_strbuilder_append(sb, rc_strlike_bytes(s), s->len);
}

size_t rc_strbuilder_len(const void *sb)
{
    return rc_types_check(sb, &rc_strbuilder_type, "rc_strbuilder_len")
               ? ((const rc_strbuilder_body *)sb)->len
               : 0;
}

void *rc_strbuilder_build(void *obj)
{
    if (!rc_types_check(obj, &rc_strbuilder_type, "rc_strbuilder_build"))
        return NULL;
    rc_strbuilder_body *sb = obj;
    if (sb->len < COPY_BELOW) { /* small: copy, keep the buffer for reuse */
        void *s = rc_str_new(sb->buf, sb->len);
        if (s)
            sb->len = 0;
        return s;
    }
    char *fit = rc_realloc(sb->buf, sb->len + 1);
    if (fit) { /* a failed shrink leaves the larger buffer, still good */
        sb->buf = fit;
        sb->cap = sb->len + 1;
    }
    sb->buf[sb->len] = '\0';
    void *s = rc_str_adopt(sb->buf, sb->len);
    if (s) {
        sb->buf = NULL;
        sb->len = sb->cap = 0;
    }
    return s;
}
