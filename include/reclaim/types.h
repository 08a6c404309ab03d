/* reclaim/types.h: built-in object types (layer 5), Python's int, str,
 * bytes, memoryview, tuple, list, dict, set and weak containers for C, with
 * sys.getsizeof and the gc module's list functions.
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
 *  - the empty tuple is one immortal object;
 *  - dead tuples of lengths 1..19 keep their blocks for the next tuples of
 *    their length (CPython's free lists, at most 2000 each), not on a
 *    debug heap (docs/types.md).
 *
 * Containers (tuple, list, view, dict, set, the weak containers) have
 * traverse, so the collector finds cycles through them. A container the
 * collector is clearing may briefly hold NULL items; every function here
 * accepts that.
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
/* 0, RC_EINVAL (not a list, item NULL) or RC_ENOMEM. Items are increfed.
 * The common case, a live list with room, is taken inline by the macro
 * below; the name in parentheses, (rc_list_append)(list, item), or its
 * address calls the library's function, which does the same. */
RC_API int rc_list_append(void *list, void *item);
/* rc_list_append out of line, every case: the inline path calls it for
 * whatever it does not take itself (an argument to check, a full list). */
RC_API int rc_list_append_slow(void *list, void *item);

/* The first fields of every list's body, which rc_list_append's inline
 * path reads and writes: part of the ABI, for that path only (anything
 * else goes through the functions; the list holds more after them). */
typedef struct rc_list_fields {
    size_t len;   /* items */
    size_t cap;   /* room in items; 0 while rc_list_sort runs */
    void **items; /* the list's references */
} rc_list_fields;

/* rc_list_append's common case: true if item was appended to list, a live
 * list with room; false, having done nothing, for anything else. A sort
 * needs no test here, since it leaves the list with no room. */
static inline bool rc_list_append_fast(void *list, void *item)
{
    if (!list || !item)
        return false;
    const rc_object_head *head = rc_head_of(list);
    if (head->refcnt == 0 || head->type != &rc_list_type)
        return false;
    rc_list_fields *fields = (rc_list_fields *)list;
    size_t n = fields->len;
    if (n >= fields->cap)
        return false;
    fields->items[n] = rc_incref(item);
    fields->len = n + 1;
    return true;
}

/* An append with room costs no call: most of an out-of-line append's time
 * (docs/types.md). A macro, not an inline function, so that the call to
 * rc_list_append_slow, which grows the item array, lies on the caller's
 * line in the debug information: the tracer attributes the array to the
 * line that appends, not to this header. */
#if defined(__GNUC__) || defined(__clang__)
#define rc_list_append(list, item)                                                                 \
    __extension__({                                                                                \
        void *rc_list_ = (list), *rc_item_ = (item);                                               \
        rc_list_append_fast(rc_list_, rc_item_) ? 0 : rc_list_append_slow(rc_list_, rc_item_);     \
    })
#endif
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

/* ---- iteration over dicts, sets and weak containers -------------------- */

/* A cursor for rc_dict_next, rc_set_next and the weak containers' next
 * functions. Made by the matching *_iter function; its fields are private
 * (its size is part of the ABI). It holds no reference: keep the container
 * alive while you iterate. Changing the container during the iteration (a
 * new key, a delete, a clear; replacing a value is allowed) is detected, as
 * CPython's RuntimeError is: the next step fails with RC_ESTATE and
 * "dictionary changed size during iteration" ("dictionary keys changed
 * during iteration" when as many keys were added as removed; for sets
 * "Set changed size during iteration" and "Set changed during
 * iteration"). Entries a weak container loses because their referent
 * died are skipped, never an error. */
typedef struct rc_iter {
    const void *container;
    size_t pos;
    size_t len;
    uint64_t version;
} rc_iter;

/* ---- dict: an insertion-ordered hash table (CPython 3.6+) --------------- */

RC_API extern const rc_type rc_dict_type;

/* Keys may be any object: hashed with rc_hash and compared with rc_equal
 * (ints, strs, bytes, tuples of them, user types with hash/equal hooks;
 * types without a hash hook hash and compare by address). Iteration gives
 * keys in insertion order; replacing a value keeps the key's place and the
 * key object first stored, as Python does. The table is CPython's compact
 * dict (docs/types.md): resizes happen at the same sizes as CPython's.
 * A hash or equal hook may change the dict it is called for: a lookup then
 * starts again (and fails with RC_ESTATE if the dict keeps changing). */

/* An empty dict (no table until the first key). */
RC_API void *rc_dict_new(void);
RC_API bool rc_is_dict(const void *obj);
/* d[key] = value: increfs both (a replaced value is dropped last; the key
 * of a replaced entry stays the original object). 0, RC_EINVAL (not a dict,
 * key or value NULL), RC_ENOMEM (the dict is unchanged) or RC_ESTATE. */
RC_API int rc_dict_set(void *d, void *key, void *value);
/* d[key] (borrowed), or NULL: missing (no message is set) or an error
 * (message set). rc_dict_contains tells the two apart. */
RC_API void *rc_dict_get(const void *d, const void *key);
/* key in d: 1, 0, or a negative RC_E* code with a message. */
RC_API int rc_dict_contains(const void *d, const void *key);
/* del d[key]: 0, or RC_ENOTFOUND with "rc_dict_del: key ... not found". */
RC_API int rc_dict_del(void *d, const void *key);
/* d.pop(key): removes the entry and returns the dict's reference to its
 * value (the caller owns it); NULL with RC_ENOTFOUND if key is missing. */
RC_API void *rc_dict_pop(void *d, const void *key);
RC_API size_t rc_dict_len(const void *d);
/* Removes every entry (the table is freed), then drops them. */
RC_API void rc_dict_clear(void *d);
/* Iteration in insertion order; key and value are borrowed (either pointer
 * may be NULL when not wanted):
 *     rc_iter it = rc_dict_iter(d);
 *     void *key, *value;
 *     int status;
 *     while ((status = rc_dict_next(&it, &key, &value)) > 0) ...
 * next returns 1 with an entry, 0 at the end, or a negative RC_E* code
 * (RC_ESTATE if the dict changed, RC_EINVAL if it is not a dict). */
RC_API rc_iter rc_dict_iter(const void *d);
RC_API int rc_dict_next(rc_iter *it, void **key, void **value);
/* list(d.keys()), list(d.values()), list(d.items()) (items as 2-tuples):
 * new lists, NULL with a message on failure. */
RC_API void *rc_dict_keys(const void *d);
RC_API void *rc_dict_values(const void *d);
RC_API void *rc_dict_items(const void *d);

/* ---- set: an unordered hash set (CPython's setobject) ------------------- */

RC_API extern const rc_type rc_set_type;

/* An empty set (no table until the first item). */
RC_API void *rc_set_new(void);
RC_API bool rc_is_set(const void *obj);
/* Adds key (increfed) unless an equal one is there: 0 (added or already
 * there), RC_EINVAL, RC_ENOMEM (the set is unchanged) or RC_ESTATE. */
RC_API int rc_set_add(void *s, void *key);
/* Removes key if present: 1 removed, 0 absent, or a negative RC_E* code. */
RC_API int rc_set_discard(void *s, const void *key);
/* key in s: 1, 0, or a negative RC_E* code. */
RC_API int rc_set_contains(const void *s, const void *key);
RC_API size_t rc_set_len(const void *s);
RC_API void rc_set_clear(void *s);
/* Iteration in table order, as rc_dict_next (key borrowed). */
RC_API rc_iter rc_set_iter(const void *s);
RC_API int rc_set_next(rc_iter *it, void **key);
/* a | b and a & b as new sets; NULL with a message on failure. */
RC_API void *rc_set_union(const void *a, const void *b);
RC_API void *rc_set_intersection(const void *a, const void *b);

/* ---- weak containers (weakref.WeakValueDictionary, WeakKeyDictionary,
 *      WeakSet) ---------------------------------------------------------- */

RC_API extern const rc_type rc_weakvaluedict_type;
RC_API extern const rc_type rc_weakkeydict_type;
RC_API extern const rc_type rc_weakset_type;

/* Containers whose entries vanish when their referent dies, by reference
 * counting or in a cycle collection: a weak value dict does not keep its
 * values alive, a weak key dict its keys, a weak set its items (each
 * through a weak reference with a callback that removes the entry). What
 * is held weakly must be an object that can die: an immortal one (a small
 * int, an interned str) fails with RC_EINVAL. Lookups, replacement and
 * errors are as for rc_dict and rc_set; keys are compared with rc_equal.
 *
 * The length counts the entries not removed yet: it is exact after every
 * death and collection, once the callbacks ran. Iteration is as for dicts
 * and sets (rc_iter; a new key, a delete or a clear made by the caller
 * during it fails the next step with RC_ESTATE), except that entries
 * vanishing because their referent died are skipped, never an error: a
 * loop body may drop references or collect. Keys, values and items
 * returned are borrowed; take a reference to keep one across a step that
 * may let it die. rc_sizeof counts the container and its table, not the
 * weak reference objects. */

/* weakref.WeakValueDictionary: keys held, values weakly. */
RC_API void *rc_weakvaluedict_new(void);
RC_API int rc_weakvaluedict_set(void *d, void *key, void *value);
/* The live value of key (borrowed), or NULL. */
RC_API void *rc_weakvaluedict_get(const void *d, const void *key);
RC_API int rc_weakvaluedict_del(void *d, const void *key); /* 0 or RC_ENOTFOUND */
RC_API size_t rc_weakvaluedict_len(const void *d);
RC_API void rc_weakvaluedict_clear(void *d);
RC_API rc_iter rc_weakvaluedict_iter(const void *d);
RC_API int rc_weakvaluedict_next(rc_iter *it, void **key, void **value);

/* weakref.WeakKeyDictionary: keys weakly, values held. */
RC_API void *rc_weakkeydict_new(void);
RC_API int rc_weakkeydict_set(void *d, void *key, void *value);
RC_API void *rc_weakkeydict_get(const void *d, const void *key); /* borrowed, or NULL */
RC_API int rc_weakkeydict_del(void *d, const void *key);         /* 0 or RC_ENOTFOUND */
RC_API size_t rc_weakkeydict_len(const void *d);
RC_API void rc_weakkeydict_clear(void *d);
RC_API rc_iter rc_weakkeydict_iter(const void *d);
RC_API int rc_weakkeydict_next(rc_iter *it, void **key, void **value);

/* weakref.WeakSet. add: 0 (added or there already) or a negative code;
 * discard and contains: 1, 0 or a negative code, as for rc_set. */
RC_API void *rc_weakset_new(void);
RC_API int rc_weakset_add(void *s, void *item);
RC_API int rc_weakset_discard(void *s, const void *item);
RC_API int rc_weakset_contains(const void *s, const void *item);
RC_API size_t rc_weakset_len(const void *s);
RC_API void rc_weakset_clear(void *s);
RC_API rc_iter rc_weakset_iter(const void *s);
RC_API int rc_weakset_next(rc_iter *it, void **item);

/* ---- gc module functions that return lists ------------------------------ */

/* gc.get_objects(generation): a new list of the tracked objects of a
 * generation (0..2; -1: all), without the list itself. NULL with a
 * message (RC_EINVAL for another generation, RC_ENOMEM). */
RC_API void *rc_gc_get_objects(int generation);
/* gc.get_referrers(obj): a new list of the tracked objects whose traverse
 * visits obj. */
RC_API void *rc_gc_get_referrers(const void *obj);
/* gc.get_referents(obj): a new list of what obj's traverse visits. */
RC_API void *rc_gc_get_referents(void *obj);
/* list(gc.garbage): a new list holding the garbage list's objects. */
RC_API void *rc_gc_garbage_list(void);

#ifdef __cplusplus
}
#endif
#endif
