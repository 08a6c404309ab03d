/* reclaim/types.h: built-in object types (layer 5), Python's int, str,
 * bytes, memoryview, tuple and list for C, with sys.getsizeof.
 *
 * Every value here is an object: drop it with rc_decref. Functions that
 * make an object return a new reference (NULL with a message on failure);
 * functions marked "borrowed" return a pointer the caller does not own.
 * A function given an object of the wrong type (or NULL) fails with
 * RC_EINVAL and a message naming what it expected and what it got; it never
 * crashes. rc_type_of(obj) == &rc_list_type and friends tell types apart.
 *
 * Per-heap caches, as CPython keeps them per interpreter:
 *  - rc_int_new(v) for -5 <= v <= 256 returns the heap's one immortal
 *    object for v (made on first use), so rc_int_new(7) == rc_int_new(7);
 *  - interned strings: rc_str_intern/rc_str_interned return the heap's one
 *    interned string for a text. Interned strings are immortal (as in
 *    CPython 3.12): they live as long as their heap;
 *  - the empty tuple is one immortal object.
 * Tuple free lists are not kept yet (see docs/types.md).
 *
 * Containers (tuple, list, view) have traverse, so the collector finds
 * cycles through them. A container the collector is clearing may briefly
 * hold NULL items; every function here accepts that.
 *
 * rc_sizeof is sys.getsizeof: the bytes of the object's own memory, header
 * included, not those of the objects it refers to (formulas in
 * docs/types.md). rc_total_sizeof adds everything reachable, each object
 * once.
 */
#ifndef RECLAIM_TYPES_H
#define RECLAIM_TYPES_H

#include "weakref.h"

#ifdef __cplusplus
extern "C" {
#endif

RC_API extern const rc_type rc_int_type;
RC_API extern const rc_type rc_str_type;
RC_API extern const rc_type rc_strbuilder_type;
RC_API extern const rc_type rc_bytes_type;
RC_API extern const rc_type rc_view_type;
RC_API extern const rc_type rc_tuple_type;
RC_API extern const rc_type rc_list_type;

/* ---- generic ---------------------------------------------------------- */

/* The object's hash: its type's hash hook, or, for types without one, a
 * hash of its address (CPython's object.__hash__). 0 for NULL. */
RC_API uint64_t rc_hash(const void *obj);
/* a == b, or both of one type whose equal hook says so. */
RC_API bool rc_equal(const void *a, const void *b);

/* sys.getsizeof: header + body + buffers the object owns (0 for NULL). */
RC_API size_t rc_sizeof(const void *obj);
/* rc_sizeof of obj and of every object reachable from it through traverse,
 * each counted once. Iterative. 0 with a message if memory for the walk
 * cannot be had (or obj is NULL). */
RC_API size_t rc_total_sizeof(const void *obj);

/* ---- int -------------------------------------------------------------- */

/* A new reference to an int; for -5..256 the heap's cached immortal one. */
RC_API void *rc_int_new(int64_t value);
/* The value; 0 with RC_EINVAL if i is not an int. */
RC_API int64_t rc_int_value(const void *i);
RC_API bool rc_is_int(const void *obj);

/* ---- str: immutable UTF-8 text ----------------------------------------- */

/* A new str holding a copy of n bytes at s (UTF-8; not validated; may hold
 * NUL bytes). Its data is always followed by a NUL byte. */
RC_API void *rc_str_new(const char *s, size_t n);
/* rc_str_new(s, strlen(s)). */
RC_API void *rc_str_from(const char *s);
/* The bytes (borrowed; NUL-terminated; NULL if s is not a str). */
RC_API const char *rc_str_data(const void *s);
/* Length in bytes (0 if s is not a str). */
RC_API size_t rc_str_len(const void *s);
RC_API bool rc_is_str(const void *obj);
/* SipHash-1-3 of the bytes with a fixed key, computed once and cached
 * (CPython randomizes the key per process; reclaim keeps hashes
 * reproducible). rc_str_hash == rc_bytes_hash for equal bytes. */
RC_API uint64_t rc_str_hash(const void *s);
/* Same length and bytes. */
RC_API bool rc_str_equal(const void *a, const void *b);
/* A new reference to the interned str equal to s (s itself, made immortal,
 * if none was interned yet). NULL with a message if s is not a str. */
RC_API void *rc_str_intern(void *s);
/* A new reference to the interned str with text s (made if needed). */
RC_API void *rc_str_interned(const char *s);
RC_API bool rc_str_is_interned(const void *s);
/* a + b as a new str. */
RC_API void *rc_str_concat(const void *a, const void *b);
/* sep.join(items): items is a list or tuple of strs. One allocation of
 * the exact result size. NULL with RC_EINVAL naming the first item that is
 * not a str. */
RC_API void *rc_str_join(const void *sep, const void *items);

/* ---- strbuilder: io.StringIO / a list of pieces joined ------------------ */

/* An empty builder. Appends copy into one buffer that grows by a quarter
 * (CPython's _PyUnicodeWriter), so n bytes cost O(n) time in all; build
 * hands the buffer to the new str without copying, so the memory in use
 * peaks at about 1.25 times the result. */
RC_API void *rc_strbuilder_new(void);
RC_API int rc_strbuilder_append(void *sb, const char *s, size_t n);
RC_API int rc_strbuilder_append_str(void *sb, const void *str);
RC_API size_t rc_strbuilder_len(const void *sb);
/* A new str of everything appended; the builder is left empty (reusable). */
RC_API void *rc_strbuilder_build(void *sb);

/* ---- bytes and view (memoryview) --------------------------------------- */

RC_API void *rc_bytes_new(const void *data, size_t n);
RC_API const char *rc_bytes_data(const void *b); /* borrowed; NULL if not bytes */
RC_API size_t rc_bytes_len(const void *b);
RC_API bool rc_is_bytes(const void *obj);

/* A view of all of a bytes object (or a copy of a view): no bytes are
 * copied; the view holds a reference to its base bytes. */
RC_API void *rc_view_new(void *obj);
/* A view of [start, stop) of a bytes or view (stop <= length, start <= stop,
 * else RC_EINVAL). A slice of a view refers to the original bytes, so views
 * never chain. Copies nothing. */
RC_API void *rc_view_slice(void *obj, size_t start, size_t stop);
RC_API const char *rc_view_data(const void *v); /* borrowed; NULL if not a view */
RC_API size_t rc_view_len(const void *v);
RC_API void *rc_view_base(const void *v); /* the bytes viewed: borrowed */
/* view.tobytes(): a new bytes with a copy of the viewed bytes. */
RC_API void *rc_view_tobytes(const void *v);

/* ---- tuple ------------------------------------------------------------ */

/* A tuple of n items (each increfed; none may be NULL). */
RC_API void *rc_tuple_pack(size_t n, ...);
RC_API void *rc_tuple_from_array(size_t n, void *const *items);
RC_API size_t rc_tuple_len(const void *t);
RC_API void *rc_tuple_get(const void *t, size_t i); /* borrowed; NULL past the end */
RC_API bool rc_is_tuple(const void *obj);

/* ---- list ------------------------------------------------------------- */

/* An empty list (capacity 0). Capacity grows and shrinks by CPython's
 * list_resize: after appends 0, 4, 8, 16, 24, 32, 40, 52, 64, 76, ... */
RC_API void *rc_list_new(void);
RC_API bool rc_is_list(const void *obj);
/* 0, RC_EINVAL (not a list, item NULL) or RC_ENOMEM. Items are increfed. */
RC_API int rc_list_append(void *list, void *item);
/* Inserts before index i; i >= length appends (as list.insert does). */
RC_API int rc_list_insert(void *list, size_t i, void *item);
RC_API size_t rc_list_len(const void *list);
RC_API size_t rc_list_capacity(const void *list);
RC_API void *rc_list_get(const void *list, size_t i); /* borrowed; NULL past the end */
/* Stores item at i (increfed) and then drops the old item. */
RC_API int rc_list_set(void *list, size_t i, void *item);
/* Removes item i and returns the list's reference to it (the caller owns
 * it); NULL past the end. */
RC_API void *rc_list_pop(void *list, size_t i);
/* Removes item i and drops it: 0, or RC_EINVAL past the end. */
RC_API int rc_list_delete(void *list, size_t i);
/* Removes every item (capacity 0), then drops them. */
RC_API void rc_list_clear(void *list);
/* Iteration by index, safe when the loop body changes the list:
 *     size_t i = 0; void *item;
 *     while (rc_list_next(list, &i, &item)) ...   (item borrowed) */
RC_API bool rc_list_next(const void *list, size_t *index, void **item);

/* cmp returns <0, 0 or >0 for a before, equal to, after b. */
typedef int (*rc_compare_fn)(const void *a, const void *b, void *arg);
/* Stable sort (merge sort, O(n log n), n pointers of scratch). While it
 * runs the list looks empty. cmp must not change the list: if it does,
 * the sort finishes on the original items, what was added meanwhile is
 * dropped, and RC_ESTATE ("list modified during sort") is returned, as
 * CPython raises ValueError. */
RC_API int rc_list_sort(void *list, rc_compare_fn cmp, void *arg);

#ifdef __cplusplus
}
#endif
#endif
