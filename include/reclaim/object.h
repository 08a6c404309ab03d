/* reclaim/object.h: reference-counted objects (layer 2).
 *
 * void *obj = rc_new(&type) returns a zero-filled body of type.size bytes
 * with a reference count of 1. A 16-byte header sits before the body:
 *
 *     block: [ refcnt u32 | gc_bits u32 | type pointer ][ body ... ]
 *                                                         ^ obj
 *
 * The header is part of the ABI because rc_incref/rc_decref are inline; its
 * fields are private to the library (read them with rc_refcount and
 * rc_type_of). A reference count of RC_IMMORTAL marks an immortal object:
 * increments and decrements leave it alone, so it is never freed. A count
 * that would reach RC_IMMORTAL through increments makes the object immortal
 * (it is leaked, never corrupted), as CPython 3.12 does.
 *
 * When the count reaches zero: the type's finalize runs (if it has not run
 * for this object; it may resurrect the object by taking a new reference),
 * weak references to the object are cleared and their callbacks run (most
 * recently registered first), the references the object holds are released
 * through traverse (each slot is set to NULL, then its old value dropped,
 * so destroy finds them all NULL; children that die with it are freed in
 * the order that walks memory one way), destroy runs, and the block is
 * freed. Freeing a long chain or a deep tree from one rc_decref uses a
 * constant amount of C stack.
 */
#ifndef RECLAIM_OBJECT_H
#define RECLAIM_OBJECT_H

#include "alloc.h"

#ifdef __cplusplus
extern "C" {
#endif

/* slot: the address of a field holding an object pointer (or NULL). */
typedef void (*rc_visit_fn)(void *slot, void *arg);

typedef struct rc_type {
    const char *name; /* shown in messages and debug output */
    size_t size;      /* bytes of the body */
    /* Calls visit(&field, arg) for every field holding a reference the
     * object owns. One function serves the collector's counting, its
     * clearing of cycles (which sets fields to NULL), rc_gc_for_each_referent
     * and the release of references at death. It must not change reference
     * counts or allocate. Objects of types with traverse are tracked by the
     * collector. */
    void (*traverse)(void *self, rc_visit_fn visit, void *arg);
    /* __del__: runs at most once per object, before its references are
     * released; may resurrect the object by storing a new reference to it. */
    void (*finalize)(void *self);
    /* Frees what the object owns besides references (buffers, handles). Runs
     * once, after traverse released the references. */
    void (*destroy)(void *self);
    uint64_t (*hash)(const void *self);
    bool (*equal)(const void *self, const void *other);
    unsigned flags; /* RC_TYPE_* */
    /* With traverse = rc_traverse_refs: the body starts with `refs`
     * pointer-sized fields, each NULL or a reference the object owns, and
     * holds no other reference (as a node { left, right } or a fixed-size
     * tuple). The library then finds the references without calling out:
     * a death releases them, and the collector tests them, inline. rc_new
     * refuses a type whose refs do not fit in its size. Ignored with any
     * other traverse. */
    size_t refs;
} rc_type;

/* The traverse of a type that lays its references out as rc_type.refs
 * says: visits the body's first rc_type_of(self)->refs fields, in order. */
RC_API void rc_traverse_refs(void *self, rc_visit_fn visit, void *arg);

enum {
    /* finalize is a legacy one (CPython's tp_del): it must never run on
     * objects in a garbage cycle. Such cycles are uncollectable: the
     * collector leaves them, and everything they reach, alive, counts them
     * as uncollectable and appends the objects of this type to the garbage
     * list (rc_gc_garbage_*). */
    RC_TYPE_LEGACY_FINALIZE = 1u << 0,
    /* The references an object holds are all stored before the program next
     * makes an object with traverse or calls the collector (right after
     * rc_new, or the object is built from references made before it) and
     * never change afterwards, as a tuple's items. Such an object whose
     * references all lead to objects that can never be tracked (types
     * without traverse, or untracked objects of an RC_TYPE_IMMUTABLE_REFS
     * type) can never be part of a cycle, so the collector never needs to
     * see it. It is born untracked and uncounted; at the next birth of an
     * object with traverse, or when the program next calls an rc_gc_
     * function, its references are looked at and it is tracked (and
     * counted) only if one of them may be tracked, as CPython 3.15 makes
     * tuples. A tracked one whose references later all leave the collector
     * is untracked by a young collection, as CPython untracks tuples. So a
     * tree built children first is never tracked at all. A type that breaks
     * the promise (stores a reference later) may leak a cycle through such
     * an object; it is never freed early. */
    RC_TYPE_IMMUTABLE_REFS = 1u << 1,
};

/* The object header. Private: use the functions below. */
typedef struct rc_object_head {
    uint32_t refcnt;
    uint32_t gc_bits;
    const rc_type *type;
} rc_object_head;

#define RC_IMMORTAL    UINT32_MAX
#define RC_HEADER_SIZE sizeof(rc_object_head)

/* A new object of type on the current heap: refcount 1, zero-filled body,
 * tracked by the collector if type->traverse is set (for an
 * RC_TYPE_IMMUTABLE_REFS type, only once its references show it may be
 * part of a cycle). NULL with a message if type is NULL, its refs do not
 * fit in its size, or memory cannot be had. May run a cycle collection. */
RC_API void *rc_new(const rc_type *type);
/* The same with extra_bytes more body (a variable-size object). */
RC_API void *rc_new_var(const rc_type *type, size_t extra_bytes);
/* The same on an explicit heap (see rc_heap_malloc for who may call it). */
RC_API void *rc_heap_new_object(rc_heap *heap, const rc_type *type, size_t extra_bytes);

/* Called by rc_decref when a count reaches zero, or is found to be zero
 * (the misuse of dropping a dead object, which stops the process). */
RC_API void rc_decref_slow(void *obj);

/* Stops the process with a message naming `what` unless obj is NULL or a
 * live reclaim object. Compile with -DRC_CHECKED_REFCOUNTS to have every
 * rc_incref and rc_decref call it (a debug mode: it costs an arena-map
 * lookup per call), so that a pointer that is not an object is caught
 * before its "header" is changed. */
RC_API void rc_check_object(const void *obj, const char *what);

static inline rc_object_head *rc_head_of(const void *obj) { return (rc_object_head *)obj - 1; }

/* Adds a reference; returns obj. NULL-safe. */
static inline void *rc_incref(void *obj)
{
#ifdef RC_CHECKED_REFCOUNTS
    rc_check_object(obj, "rc_incref");
#endif
    if (obj) {
        rc_object_head *head = rc_head_of(obj);
        uint32_t count = head->refcnt + 1;
        if (count != 0) /* RC_IMMORTAL + 1 wraps to 0: stays immortal */
            head->refcnt = count;
    }
    return obj;
}

/* Drops a reference; frees the object at zero. NULL-safe. */
static inline void rc_decref(void *obj)
{
#ifdef RC_CHECKED_REFCOUNTS
    rc_check_object(obj, "rc_decref");
#endif
    if (obj) {
        rc_object_head *head = rc_head_of(obj);
        uint32_t count = head->refcnt;
        if (count == RC_IMMORTAL)
            return;
        if (count <= 1) {
            rc_decref_slow(obj);
            return;
        }
        head->refcnt = count - 1;
    }
}

/* The safe store: *(void **)slot = value, taking a reference to value first
 * and dropping the old one after (so assigning an object to a slot that
 * holds its only reference is safe). */
RC_API void rc_assign(void *slot, void *value);

/* The reference count (RC_IMMORTAL for an immortal object). */
RC_API size_t rc_refcount(const void *obj);
RC_API const rc_type *rc_type_of(const void *obj);
/* Makes obj immortal: never freed, never collected, no longer tracked. */
RC_API void rc_make_immortal(void *obj);
RC_API bool rc_is_immortal(const void *obj);

/* For RC_AUTO; not called directly. */
RC_API void rc_auto_release(void *local);

/* RC_AUTO declares a local whose reference is dropped when it goes out of
 * scope (GCC and Clang's cleanup attribute: the C form of a `with` block):
 *
 *     RC_AUTO void *node = rc_new(&node_type);
 */
#if defined(__GNUC__) || defined(__clang__)
#define RC_AUTO __attribute__((cleanup(rc_auto_release)))
#else
#error "RC_AUTO needs the cleanup attribute of GCC or Clang"
#endif

#ifdef __cplusplus
}
#endif
#endif
