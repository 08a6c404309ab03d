/* reclaim/weakref.h: weak references and finalizers (layer 4).
 *
 * A weak reference is itself an object (drop it with rc_decref). It refers
 * to its referent without keeping it alive. When the referent dies, through
 * reference counting or the collector, every weak reference to it is
 * cleared first, then the callbacks of those weak references that are still
 * alive run, most recently registered first, each with its (now dead) weak
 * reference. A weak reference dropped before its referent dies never calls
 * its callback. A weak reference without callback is shared: asking for one
 * again returns the same object (as weakref.ref does).
 *
 * rc_finalize is weakref.finalize: a finalizer runs its function once, when
 * the object dies, when called, or when its heap is destroyed (live
 * finalizers run newest first). The heap keeps a finalizer registered until
 * it runs or is detached, so dropping the handle does not cancel it.
 */
#ifndef RECLAIM_WEAKREF_H
#define RECLAIM_WEAKREF_H

#include "gc.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct rc_weakref rc_weakref;
typedef void (*rc_weakref_callback)(rc_weakref *ref, void *arg);

/* A new reference to a weak reference to obj (an object of the current
 * heap). NULL with a message if obj is NULL, immortal (it can never die) or
 * memory is short. */
RC_API rc_weakref *rc_weakref_new(void *obj, rc_weakref_callback callback, void *arg);
/* A new reference to the referent, or NULL once it died. */
RC_API void *rc_weakref_get(rc_weakref *ref);
/* True while the referent lives. */
RC_API bool rc_weakref_alive(const rc_weakref *ref);
/* The number of live weak references to obj (weakref.getweakrefcount). */
RC_API size_t rc_weakref_count(const void *obj);

typedef struct rc_finalizer rc_finalizer;
typedef void (*rc_finalizer_fn)(void *arg);
/* Registers fn(arg) to run when obj dies. Returns a new reference to the
 * finalizer, NULL with a message if obj or fn is NULL, obj is immortal, or
 * memory is short. */
RC_API rc_finalizer *rc_finalize(void *obj, rc_finalizer_fn fn, void *arg);
/* True until the finalizer has run or been detached. */
RC_API bool rc_finalizer_alive(const rc_finalizer *f);
/* Unregisters it without running; true if it was alive. */
RC_API bool rc_finalizer_detach(rc_finalizer *f);
/* Runs it now if alive (it will not run again); true if it ran. */
RC_API bool rc_finalizer_call(rc_finalizer *f);
/* Whether it runs when its heap is destroyed while alive (default true). */
RC_API void rc_finalizer_set_atexit(rc_finalizer *f, bool atexit);
RC_API bool rc_finalizer_atexit(const rc_finalizer *f);

#ifdef __cplusplus
}
#endif
#endif
