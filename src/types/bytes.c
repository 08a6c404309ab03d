/* bytes.c: immutable byte strings and zero-copy views of them
 * (memoryview).
 *
 * A bytes has a str's layout (rc_str_body) and hash, but is its own type:
 * no bytes equals a str. A view is (base, offset, len) with base a bytes
 * the view holds a reference to, and offset + len <= base's length. A view
 * of a view takes its base and adds the offsets, so views never chain and
 * the base lives exactly as long as some view (or other reference) holds
 * it. The base's bytes never move, so a view's data pointer is stable.
 */
#include "types_internal.h"

#include <string.h>

const rc_type rc_bytes_type = {
    .name = "bytes",
    .size = RC_STR_BODY_SIZE,
    .destroy = rc_strlike_destroy,
    .hash = rc_strlike_hash,
    .equal = rc_strlike_equal,
};

void *rc_bytes_new(const void *data, size_t n)
{
    if (!data && n) {
        rc_set_error(RC_EINVAL, "rc_bytes_new: data is NULL");
        return NULL;
    }
    rc_str_body *b = rc_strlike_alloc(&rc_bytes_type, n);
    if (b && n)
        memcpy(b->inline_data, data, n);
    return b;
}

const char *rc_bytes_data(const void *b)
{
    return rc_types_check(b, &rc_bytes_type, "rc_bytes_data") ? rc_strlike_bytes(b) : NULL;
}

size_t rc_bytes_len(const void *b)
{
    return rc_types_check(b, &rc_bytes_type, "rc_bytes_len") ? ((const rc_str_body *)b)->len : 0;
}

bool rc_is_bytes(const void *obj) { return obj && rc_type_of(obj) == &rc_bytes_type; }

/* ---- view ---------------------------------------------------------------- */

static void view_traverse(void *self, rc_visit_fn visit, void *arg)
{
    visit(&((rc_view_body *)self)->base, arg);
}

const rc_type rc_view_type = {
    .name = "view",
    .size = sizeof(rc_view_body),
    .traverse = view_traverse,
};

/* The base, offset and length obj (a bytes or view) covers; false with a
 * message if it is neither. */
static bool view_source(void *obj, void **base, size_t *offset, size_t *len, const char *fn)
{
    const rc_type *type = rc_type_of(obj);
    if (obj && type == &rc_bytes_type) {
        *base = obj;
        *offset = 0;
        *len = ((rc_str_body *)obj)->len;
        return true;
    }
    if (obj && type == &rc_view_type) {
        rc_view_body *v = obj;
        *base = v->base;
        *offset = v->offset;
        *len = v->len;
        return *base != NULL || (rc_set_error(RC_ESTATE, "%s: the view was cleared", fn), false);
    }
    char got[RC_TYPES_NAME_SIZE];
    rc_set_error(RC_EINVAL, "%s: expected a bytes or view, got %s", fn, rc_types_name(obj, got));
    return false;
}

static void *view_make(void *base, size_t offset, size_t len)
{
    rc_view_body *v = rc_new(&rc_view_type);
    if (!v)
        return NULL;
    v->base = rc_incref(base);
    v->offset = offset;
    v->len = len;
    return v;
}

void *rc_view_new(void *obj)
{
    void *base;
    size_t offset, len;
    if (!view_source(obj, &base, &offset, &len, "rc_view_new"))
        return NULL;
    return view_make(base, offset, len);
}

void *rc_view_slice(void *obj, size_t start, size_t stop)
{
    void *base;
    size_t offset, len;
    if (!view_source(obj, &base, &offset, &len, "rc_view_slice"))
        return NULL;
    if (start > stop || stop > len) {
        rc_set_error(RC_EINVAL, "rc_view_slice: [%zu, %zu) is not within a length of %zu", start,
                     stop, len);
        return NULL;
    }
    return view_make(base, offset + start, stop - start);
}

const char *rc_view_data(const void *v)
{
    if (!rc_types_check(v, &rc_view_type, "rc_view_data"))
        return NULL;
    const rc_view_body *view = v;
    return view->base ? rc_strlike_bytes(view->base) + view->offset : NULL;
}

size_t rc_view_len(const void *v)
{
    if (!rc_types_check(v, &rc_view_type, "rc_view_len"))
        return 0;
    const rc_view_body *view = v;
    return view->base ? view->len : 0;
}

void *rc_view_base(const void *v)
{
    return rc_types_check(v, &rc_view_type, "rc_view_base") ? ((const rc_view_body *)v)->base
                                                            : NULL;
}

void *rc_view_tobytes(const void *v)
{
    const char *data = rc_view_data(v);
    if (!data)
        return NULL;
    return rc_bytes_new(data, ((const rc_view_body *)v)->len);
}
