/* str.c: immutable UTF-8 strings, their cached hash, concat and join.
 *
 * A str's bytes are rc_strlike_bytes(s)[0..len), followed by a NUL: the
 * text stored inline right after the 20-byte body head (no pointer to it,
 * as CPython's compact strings), or (RC_STR_OWNED) a raw block the str
 * owns, handed over by a strbuilder without a copy, whose address is
 * stored where the text would be. The text never changes, so the hash is
 * computed on first use and cached (RC_STR_HASHED).
 *
 * Interning is in intern.c.
 */
#include "types_internal.h"

#include <string.h>

uint64_t rc_strlike_hash(const void *self)
{
    rc_str_body *s = (rc_str_body *)self; /* the cache is not part of the value */
    if (!(s->flags & RC_STR_HASHED)) {
        s->hash = rc_types_hash_bytes(rc_strlike_bytes(s), s->len);
        s->flags |= RC_STR_HASHED;
    }
    return s->hash;
}

bool rc_strlike_equal(const void *self, const void *other)
{
    const rc_str_body *a = self, *b = other;
    if (a == b)
        return true;
    if (rc_type_of(other) != rc_type_of(self) || a->len != b->len)
        return false;
    if ((a->flags & b->flags & RC_STR_HASHED) && a->hash != b->hash)
        return false;
    return memcmp(rc_strlike_bytes(a), rc_strlike_bytes(b), a->len) == 0;
}

void rc_strlike_destroy(void *self)
{
    rc_str_body *s = self;
    if (s->flags & RC_STR_OWNED) {
        rc_free(rc_strlike_bytes(s));
        s->flags &= ~RC_STR_OWNED;
        s->len = 0;
        s->inline_data[0] = '\0';
    }
}

const rc_type rc_str_type = {
    .name = "str",
    .size = RC_STR_BODY_SIZE,
    .destroy = rc_strlike_destroy,
    .hash = rc_strlike_hash,
    .equal = rc_strlike_equal,
};

void *rc_strlike_alloc(const rc_type *type, size_t n)
{
    if (n == SIZE_MAX) {
        rc_set_error(RC_ENOMEM, "rc_%s_new: a %s of %zu bytes is too large", type->name, type->name,
                     n);
        return NULL;
    }
    rc_str_body *s = rc_new_var(type, n + 1);
    if (!s)
        return NULL;
    s->len = n; /* the zero-filled body ends in the NUL */
    return s;
}

void *rc_str_adopt(char *buf, size_t n)
{
    rc_str_body *s = rc_new_var(&rc_str_type, sizeof buf);
    if (!s)
        return NULL;
    s->len = n;
    memcpy(s->inline_data, &buf, sizeof buf);
    s->flags = RC_STR_OWNED;
    return s;
}

void *rc_str_new(const char *text, size_t n)
{
    if (!text && n) {
        rc_set_error(RC_EINVAL, "rc_str_new: text is NULL");
        return NULL;
    }
    rc_str_body *s = rc_strlike_alloc(&rc_str_type, n);
    if (s && n)
        memcpy(s->inline_data, text, n);
    return s;
}

void *rc_str_from(const char *text)
{
    if (!text) {
        rc_set_error(RC_EINVAL, "rc_str_from: text is NULL");
        return NULL;
    }
    return rc_str_new(text, strlen(text));
}

const char *rc_str_data(const void *s)
{
    return rc_types_check(s, &rc_str_type, "rc_str_data") ? rc_strlike_bytes(s) : NULL;
}

size_t rc_str_len(const void *s)
{
    return rc_types_check(s, &rc_str_type, "rc_str_len") ? ((const rc_str_body *)s)->len : 0;
}

bool rc_is_str(const void *obj) { return obj && rc_type_of(obj) == &rc_str_type; }

uint64_t rc_str_hash(const void *s)
{
    return rc_types_check(s, &rc_str_type, "rc_str_hash") ? rc_strlike_hash(s) : 0;
}

bool rc_str_equal(const void *a, const void *b)
{
    return rc_is_str(a) && rc_is_str(b) && rc_strlike_equal(a, b);
}

void *rc_str_concat(const void *a, const void *b)
{
    if (!rc_types_check(a, &rc_str_type, "rc_str_concat") ||
        !rc_types_check(b, &rc_str_type, "rc_str_concat"))
        return NULL;
    const rc_str_body *x = a, *y = b;
    if (x->len > SIZE_MAX / 2 || y->len > SIZE_MAX / 2) {
        rc_set_error(RC_ENOMEM, "rc_str_concat: result too large");
        return NULL;
    }
    rc_str_body *s = rc_strlike_alloc(&rc_str_type, x->len + y->len);
    if (!s)
        return NULL;
    memcpy(s->inline_data, rc_strlike_bytes(x), x->len);
    memcpy(s->inline_data + x->len, rc_strlike_bytes(y), y->len);
    return s;
}

/* The length of sep.join(items), or false with a message if an item is not
 * a str or the length overflows. */
static bool join_measure(const rc_str_body *sep, void *const *items, size_t n, size_t *total)
{
    size_t sum = 0;
    for (size_t i = 0; i < n; i++) {
        const rc_str_body *item = items[i];
        if (!rc_is_str(item)) {
            char got[RC_TYPES_NAME_SIZE];
            rc_set_error(RC_EINVAL, "rc_str_join: item %zu is %s, not a str", i,
                         rc_types_name(item, got));
            return false;
        }
        size_t add = item->len + (i ? sep->len : 0);
        if (add < item->len || sum + add < sum) {
            rc_set_error(RC_ENOMEM, "rc_str_join: result too large");
            return false;
        }
        sum += add;
    }
    *total = sum;
    return true;
}

static void join_copy(char *out, const rc_str_body *sep, void *const *items, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const rc_str_body *item = items[i];
        if (i && sep->len) {
            memcpy(out, rc_strlike_bytes(sep), sep->len);
            out += sep->len;
        }
        memcpy(out, rc_strlike_bytes(item), item->len);
        out += item->len;
    }
}

void *rc_str_join(const void *sep, const void *seq)
{
    void *const *items;
    size_t n, total, again;
    if (!rc_types_check(sep, &rc_str_type, "rc_str_join") ||
        !rc_types_items(seq, &items, &n, "rc_str_join") || !join_measure(sep, items, n, &total))
        return NULL;
    rc_str_body *s = rc_strlike_alloc(&rc_str_type, total);
    if (!s)
        return NULL;
    /* an allocation that found memory short ran a collection, whose
     * finalizers may have changed a list: measure again */
    rc_types_items(seq, &items, &n, "rc_str_join");
    if (!join_measure(sep, items, n, &again) || again != total) {
        rc_decref(s);
        rc_set_error(RC_ESTATE, "rc_str_join: the list changed during the join");
        return NULL;
    }
    join_copy(s->inline_data, sep, items, n);
    return s;
}
