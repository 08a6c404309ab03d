/* types_internal.h: what the files of src/types share.
 *
 * Layouts of the built-in types' bodies (the object pointer points at
 * them), the per-heap state's entry points and the type-check helper.
 */
#ifndef RC_TYPES_INTERNAL_H
#define RC_TYPES_INTERNAL_H

#include "../object/object_internal.h"

#include <string.h>

/* An rc_str or rc_bytes: 20 bytes, then the text. Its bytes (rc_strlike_
 * bytes) are the inline text, which follows the flags (the usual case,
 * CPython's compact strings), or (RC_STR_OWNED) a raw block the object
 * owns, a strbuilder's buffer handed over, whose address the inline part
 * holds instead (unaligned: read and written with memcpy). The bytes are
 * followed by a NUL always. hash is valid once RC_STR_HASHED is set. */
enum { RC_STR_HASHED = 1u, RC_STR_INTERNED = 2u, RC_STR_OWNED = 4u };
typedef struct rc_str_body {
    size_t len;
    uint64_t hash;
    uint32_t flags;
    char inline_data[];
} rc_str_body;
#define RC_STR_BODY_SIZE offsetof(rc_str_body, inline_data) /* the type's size: 20 */

static inline char *rc_strlike_bytes(const rc_str_body *s)
{
    if (RC_LIKELY(!(s->flags & RC_STR_OWNED)))
        return (char *)s->inline_data;
    char *buf;
    memcpy(&buf, s->inline_data, sizeof buf);
    return buf;
}

/* An int (int.c). Its hash is CPython's: the value modulo the Mersenne
 * prime 2**61 - 1, signed, -1 mapped to -2; so hash(v) == v for the
 * values hash tables see most. Inline, so that the dict and set hash an int
 * key without a call. */
typedef struct rc_int_body {
    int64_t value;
} rc_int_body;

#define RC_INT_HASH_MODULUS ((UINT64_C(1) << 61) - 1)

static inline uint64_t rc_int_hash_value(int64_t v)
{
    if (RC_LIKELY(v >= 0 && (uint64_t)v < RC_INT_HASH_MODULUS))
        return (uint64_t)v;
    uint64_t magnitude = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    int64_t h = (int64_t)(magnitude % RC_INT_HASH_MODULUS);
    if (v < 0)
        h = -h;
    return (uint64_t)(h == -1 ? -2 : h);
}

/* A strbuilder: buf[0..len) so far, cap bytes allocated (strbuilder.c). */
typedef struct rc_strbuilder_body {
    char *buf;
    size_t len, cap;
} rc_strbuilder_body;

/* A view of base->data[offset, offset + len); base is always a bytes. */
typedef struct rc_view_body {
    void *base;
    size_t offset, len;
} rc_view_body;

typedef struct rc_tuple_body {
    size_t len;
    void *items[];
} rc_tuple_body;

/* items[0..len) are the items; cap slots are allocated (a raw block,
 * NULL when cap is 0). sort_state is RC_LIST_SORTING while rc_list_sort
 * runs, and gains RC_LIST_MODIFIED at any change made meanwhile (but the
 * fast appends, which list_sort.c sees otherwise). */
enum { RC_LIST_SORTING = 1u, RC_LIST_MODIFIED = 2u };
typedef struct rc_list_body {
    size_t len, cap;
    void **items;
    unsigned sort_state;
} rc_list_body;

/* "NULL", "an int", "a list", "a Node": what a message says an argument
 * was; written in buf (RC_TYPES_NAME_SIZE bytes) but for "NULL". */
enum { RC_TYPES_NAME_SIZE = 64 };
RC_INTERNAL const char *rc_types_name(const void *obj, char *buf);

RC_INTERNAL int rc_types_init(rc_heap *heap);
RC_INTERNAL void rc_types_fini(rc_heap *heap);

/* The tuple free lists (tuple.c): the heap's recycle hook, which keeps a
 * dead tuple of length 1..19 for the next tuple of its length, and their
 * teardown. */
RC_INTERNAL bool rc_tuple_recycle(rc_heap *heap, void *obj);
RC_INTERNAL void rc_tuple_free_lists_clear(rc_heap *heap);

/* True if obj is an object of type; otherwise sets RC_EINVAL with
 * "<fn>: expected a <type>, got a <other type>" (or "got NULL"). Every
 * public function starts with it: inline, the message out of line. */
RC_INTERNAL bool rc_types_check_slow(const void *obj, const rc_type *type, const char *fn);
/* rc_type_of(obj), obj not NULL, inline: the header's type; a count of 0
 * (a dying or dead object) takes rc_type_of's path, which reports the use
 * of a freed object on a debug heap. (rc_type_of is public, so calls to it
 * are not inlined: a shared library may see it interposed.) */
static inline __attribute__((always_inline)) const rc_type *rc_types_type_of(const void *obj)
{
    const rc_object_head *head = rc_head_of(obj);
    return RC_LIKELY(head->refcnt != 0) ? head->type : rc_type_of(obj);
}
static inline __attribute__((always_inline)) bool
rc_types_check(const void *obj, const rc_type *type, const char *fn)
{
    return RC_LIKELY(obj && rc_types_type_of(obj) == type) || rc_types_check_slow(obj, type, fn);
}

/* Compares a hash table entry's key with a looked-up key (called only when
 * their hashes are equal and they are not the same object). It may run
 * user code; the tables hold the entry's key meanwhile and look again if
 * the table changed. rc_types_match_equal is rc_equal. */
typedef bool (*rc_types_match_fn)(const void *entry_key, const void *key);
RC_INTERNAL bool rc_types_match_equal(const void *entry_key, const void *key);
/* What match(entry_key, key) gives when it is known without running user
 * code (1 or 0), else -1: the caller calls match, holding entry_key.
 * match NULL is identity only (0). For rc_types_match_equal, objects of
 * different types or without an equal hook are unequal, and ints, strs
 * and bytes compare without user code. */
static inline int rc_types_match_quick(const void *entry_key, const void *key,
                                       rc_types_match_fn match)
{
    if (!match)
        return 0;
    if (match != rc_types_match_equal)
        return -1;
    const rc_type *type = rc_types_type_of(entry_key);
    if (type != rc_types_type_of(key) || !type->equal)
        return 0;
    if (type == &rc_int_type || type == &rc_str_type || type == &rc_bytes_type)
        return type->equal(entry_key, key);
    return -1;
}

/* Puts "<fn>: " before the calling thread's last error message (unless it
 * starts so already); returns code. For a failure of a call made inside fn. */
RC_INTERNAL int rc_types_prefix_error(int code, const char *fn);

/* The end of a maker that fills a new object with calls that may fail:
 * obj if status is 0, else NULL, obj dropped and the message prefixed
 * with fn (rc_types_prefix_error). */
RC_INTERNAL void *rc_types_finish(void *obj, int status, const char *fn);

/* SipHash-1-3 of n bytes (fixed key): str and bytes hash alike. */
RC_INTERNAL uint64_t rc_types_hash_bytes(const void *data, size_t n);

/* A new str or bytes (type) of n bytes, uninitialized but for the final
 * NUL. */
RC_INTERNAL void *rc_strlike_alloc(const rc_type *type, size_t n);
/* A new str taking over buf (a raw block of at least n + 1 bytes, with
 * buf[n] == '\0'); on failure (NULL) buf stays the caller's. */
RC_INTERNAL void *rc_str_adopt(char *buf, size_t n);

/* The hooks str and bytes share (str.c): the cached SipHash of the bytes,
 * equality of type, length and bytes, and freeing an owned buffer. */
RC_INTERNAL uint64_t rc_strlike_hash(const void *self);
RC_INTERNAL bool rc_strlike_equal(const void *self, const void *other);
RC_INTERNAL void rc_strlike_destroy(void *self);

/* The items of a list or tuple (borrowed); false with a message if seq is
 * neither. */
RC_INTERNAL bool rc_types_items(const void *seq, void *const **items, size_t *len, const char *fn);

#endif
