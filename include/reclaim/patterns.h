/* reclaim/patterns.h: the seeds' memory patterns as tested utilities
 * (layer 5, beside the built-in types).
 *
 *   rc_pool          ObjectPool: reuse objects instead of making new ones
 *   rc_lazy          LazyDataLoader: a value loaded on first use, released
 *                    on demand
 *   rc_file_chunks   mmap a file of any size a chunk at a time: memory
 *                    bounded by the chunk size
 *   rc_batch_writer  buffered records flushed in batches, nothing
 *                    acknowledged ever lost when a flush fails
 *   rc_shared_array  multiprocessing.Array: memory shared with children made
 *                    by fork, with a process-shared lock
 *   rc_lru           functools.lru_cache(maxsize): a bounded cache, least
 *                    recently used out first
 *   rc_canon         CachedObject: one live object per key, held weakly
 *                    (WeakValueDictionary)
 *
 * Pools, lazy values, batch writers, shared arrays and the caches are
 * objects: drop them with rc_decref, and the collector frees cycles through
 * them. As in types.h, functions that make an object return a new
 * reference (NULL with a message on failure), others return 0 or a
 * negative RC_E* code, and a function given an object of the wrong type
 * fails with RC_EINVAL and a message naming what it expected and what it
 * got.
 *
 * Callbacks. The patterns call user functions (a pool's create and reset, a
 * lazy value's loader, a batch writer's sink, a chunk function, an LRU
 * cache's function, a canonicalizing cache's make), each with the void *arg
 * given when it was set up; reclaim does not own arg. A callback that fails
 * may say why with rc_report_error; the pattern's message then ends with
 * the callback's ("rc_lazy_get: the loader returned NULL: database
 * unreachable"). While a callback runs, the pattern's object is consistent
 * and kept alive (the callback may drop the last outside reference to it);
 * calls that would see a half-done operation (a loader asking its own lazy
 * value for the value, a sink writing to its own writer) fail with
 * RC_ESTATE; an LRU cache's function may call its own cache (recursion is
 * what lru_cache is for). Objects returned by callbacks are checked
 * (rc_check_object): a pointer that is not a live object stops the process
 * with a message naming the callback.
 *
 * docs/patterns.md shows each pattern beside the seed's Python and says how
 * it works; examples/ has a program for each.
 */
#ifndef RECLAIM_PATTERNS_H
#define RECLAIM_PATTERNS_H

#include "types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- rc_pool: the seeds' ObjectPool ------------------------------------ */

/* Makes a new object for the pool: a new reference, or NULL (say why with
 * rc_report_error; a failing reclaim call inside says it already). */
typedef void *(*rc_pool_create_fn)(void *arg);
/* Readies obj for its next user; false if obj cannot be reused (it is
 * dropped instead of pooled). */
typedef bool (*rc_pool_reset_fn)(void *obj, void *arg);

RC_API extern const rc_type rc_pool_type;

/* A pool that keeps at most max_size released objects for reuse (0: none).
 * reset may be NULL (objects are pooled as they come back). NULL with
 * RC_EINVAL if create is NULL. */
RC_API void *rc_pool_new(rc_pool_create_fn create, rc_pool_reset_fn reset, void *arg,
                         size_t max_size);
/* An object for the caller: the most recently released pooled one (a
 * reuse) or a new one from create (a creation). Returns a new reference;
 * the pool keeps one too while the object is in use, as the seed's _in_use
 * set does, so that release can tell its objects from others. NULL with a
 * message if create fails or memory is short (counts unchanged). */
RC_API void *rc_pool_acquire(void *pool);
/* Gives back an object acquired from this pool, with the caller's
 * reference to it (the caller must not use obj afterwards). The pool resets
 * it and keeps it if fewer than max_size are pooled; otherwise, or if reset
 * says it cannot be reused, or if something else still holds a reference
 * to it (pooling it would hand a shared object to the next acquirer; it is
 * then not reset either), or if memory for the pool's slot is short, the
 * pool drops it (a drop). RC_EINVAL, with obj and its reference left to the
 * caller, if obj is not in use from this pool (never acquired from it, or
 * released already). */
RC_API int rc_pool_release(void *pool, void *obj);
/* Drops every pooled object (objects in use are not affected). */
RC_API int rc_pool_clear(void *pool);

typedef struct rc_pool_stats {
    size_t struct_size; /* set to sizeof(rc_pool_stats) before the call */
    size_t max_size;    /* as given to rc_pool_new */
    size_t available;   /* pooled now, ready for acquire */
    size_t in_use;      /* acquired and not yet released */
    size_t created;     /* acquires that called create successfully */
    size_t reused;      /* acquires served from the pool */
    size_t dropped;     /* releases that did not pool the object */
} rc_pool_stats;
/* Fills out; RC_EINVAL if pool is not a pool or struct_size is not one
 * this library knows. */
RC_API int rc_pool_get_stats(const void *pool, rc_pool_stats *out);

/* ---- rc_lazy: a value loaded on first use ------------------------------ */

/* Computes the value: a new reference, or NULL (say why with
 * rc_report_error). */
typedef void *(*rc_lazy_load_fn)(void *arg);

RC_API extern const rc_type rc_lazy_type;

/* An empty lazy value whose loader is load(arg). Nothing is loaded yet.
 * NULL with RC_EINVAL if load is NULL. */
RC_API void *rc_lazy_new(rc_lazy_load_fn load, void *arg);
/* A new reference to the value, loading it first if the lazy value is
 * empty. If the loader fails, NULL with "rc_lazy_get: the loader returned
 * NULL[: its message]" and the lazy value stays empty (the next get tries
 * again). RC_ESTATE if called from the loader itself. */
RC_API void *rc_lazy_get(void *lazy);
/* Drops the lazy value's reference to the value, so that memory can go
 * back as soon as no one else holds it; the next get loads again. (The
 * seed's clear_cache; an empty lazy value is left as it is.) */
RC_API int rc_lazy_release(void *lazy);
RC_API bool rc_lazy_is_loaded(const void *lazy);
/* How many times the loader succeeded (0 for a non-lazy, with a message). */
RC_API size_t rc_lazy_load_count(const void *lazy);

/* ---- rc_file_chunks: a file of any size, a chunk at a time ------------- */

/* Called with each chunk: data[0..len) are the file's bytes at offset
 * (read-only, valid during the call only). Return 0 to go on; any other
 * value stops the walk, and rc_file_chunks returns it (use positive values
 * to tell them from RC_E* codes). */
typedef int (*rc_chunk_fn)(const void *data, size_t len, uint64_t offset, void *arg);

enum {
    /* Tell the kernel to drop each window's pages from the page cache once
     * processed (posix_fadvise DONTNEED): for a file read once, so that it
     * does not push other data out of the cache. */
    RC_CHUNKS_DROP_CACHE = 1u << 0,
};

/* Calls fn for each consecutive chunk of the regular file at path: every
 * chunk is chunk_size bytes but the last (the rest, if the size is not a
 * multiple), in file order; an empty file has no chunks. One window at a
 * time is mapped (the chunk, widened to page boundaries), advised
 * sequential, and unmapped before the next, so the memory the walk takes is
 * bounded by the chunk size plus a page, whatever the file's size. Returns
 * 0 after the last chunk, or:
 *   RC_EINVAL     path or fn is NULL, chunk_size is 0 or too large, flags
 *                 unknown, path is not a regular file;
 *   RC_ENOTFOUND  the file does not exist;
 *   RC_EIO        the file cannot be opened, read or mapped (the message
 *                 names the call and the system's reason);
 *   fn's value    fn asked to stop ("stopped by the chunk function at
 *                 offset N").
 * The file must not shrink meanwhile (a mapped page past its end is a
 * SIGBUS, as with any mapping). */
RC_API int rc_file_chunks(const char *path, size_t chunk_size, rc_chunk_fn fn, void *arg,
                          unsigned flags);

/* ---- rc_batch_writer: batched writes with fail-safety ------------------ */

/* Writes records[0..n) (each a bytes object, borrowed) as one batch: 0 if
 * the sink took all of them, anything else if it took none (say why with
 * rc_report_error). A batch is all or nothing, as a database transaction. */
typedef int (*rc_batch_sink_fn)(void *const *records, size_t n, void *arg);

RC_API extern const rc_type rc_batch_writer_type;

/* A writer that hands records to sink in batches of batch_size, and holds
 * at most max_pending records waiting (0: no limit). NULL with RC_EINVAL if
 * sink is NULL, batch_size is 0, or max_pending is below batch_size. */
RC_API void *rc_batch_writer_new(size_t batch_size, size_t max_pending, rc_batch_sink_fn sink,
                                 void *arg);
/* Buffers a copy of data[0..len). 0 means the record is acknowledged: the
 * writer holds it until the sink takes it or the caller takes it back, and
 * nothing else loses it. When batch_size records are waiting, the write
 * flushes them; if the sink fails, the records stay pending (still 0: the
 * record is safe; rc_batch_get_stats counts the failure) and the write
 * that completes the next batch_size records, or an explicit flush,
 * retries. A negative code means the record was not acknowledged and the
 * writer is unchanged: RC_ENOMEM; RC_ESTATE when max_pending records are
 * waiting and a flush still fails (the message gives the sink's reason),
 * when the writer is closed, or while another call on this writer is under
 * way (from its sink, or a finalizer that a collection inside it ran; the
 * same holds for flush, take_pending and close); RC_EINVAL. */
RC_API int rc_batch_write(void *writer, const void *data, size_t len);
/* Hands every pending record to the sink, oldest first, in batches of
 * batch_size (the last may be smaller). 0 when none is left; RC_EIO when
 * the sink failed ("the sink failed on a batch of N records (returned R)
 * [: its message]"): that batch and those after it stay pending. */
RC_API int rc_batch_flush(void *writer);
/* The records waiting, as a new list of bytes objects, oldest first; the
 * writer is left with none (they are the caller's now). NULL with
 * RC_ENOMEM, the writer unchanged, if the list cannot be made. */
RC_API void *rc_batch_take_pending(void *writer);
/* Flushes and closes. 0 if the sink took everything: *left (if left is
 * not NULL) is set to NULL. If a flush fails, returns its code and hands
 * the records not flushed to the caller as a new list in *left; if left is
 * NULL, or the list cannot be made, the writer stays open with its records
 * (nothing is lost). After a close, writes fail with RC_ESTATE. */
RC_API int rc_batch_close(void *writer, void **left);
RC_API size_t rc_batch_pending(const void *writer);

typedef struct rc_batch_stats {
    size_t struct_size;    /* set to sizeof(rc_batch_stats) before the call */
    size_t batch_size;     /* as given */
    size_t max_pending;    /* as given (0: no limit) */
    size_t pending;        /* acknowledged, not yet flushed nor taken */
    size_t written;        /* records acknowledged */
    size_t flushed;        /* records the sink took */
    size_t batches;        /* batches the sink took */
    size_t failed_flushes; /* sink calls that failed */
    size_t taken;          /* records handed back to the caller */
    bool closed;
} rc_batch_stats;
RC_API int rc_batch_get_stats(const void *writer, rc_batch_stats *out);

/* ---- rc_shared_array: multiprocessing.Array ---------------------------- */

RC_API extern const rc_type rc_shared_array_type;

/* n zeroed elements of elem_size bytes in memory shared with every process
 * forked from this one afterwards (mmap MAP_SHARED | MAP_ANONYMOUS), with a
 * process-shared, robust mutex (get_lock). The data starts 64-byte aligned.
 * NULL with RC_EINVAL if n or elem_size is 0 or n * elem_size overflows,
 * RC_ENOMEM if the mapping cannot be had. The object itself lives in the
 * heap as any object; after fork each process holds its own copy of it,
 * and each drops it: the last process to unmap frees the memory. */
RC_API void *rc_shared_array_new(size_t n, size_t elem_size);
RC_API size_t rc_shared_array_len(const void *array);
RC_API size_t rc_shared_array_elem_size(const void *array);
/* The elements (borrowed; n * elem_size bytes). Hold the lock to read or
 * write them when other processes may be writing. NULL if not an array. */
RC_API void *rc_shared_array_data(void *array);

enum {
    /* rc_shared_array_lock: the lock is held, but its previous holder died
     * holding it; the data it was changing may be half-changed. */
    RC_SHARED_OWNER_DIED = 1,
};
/* Takes the lock (arr.get_lock()), waiting for it: 0, or
 * RC_SHARED_OWNER_DIED (the lock is held too: unlock it as usual), or a
 * negative code (not held). */
RC_API int rc_shared_array_lock(void *array);
RC_API int rc_shared_array_unlock(void *array);
/* Copy element i out or in, under the lock (arr[i], arr[i] = v): 0, or
 * RC_SHARED_OWNER_DIED as rc_shared_array_lock (the copy is done), or
 * RC_EINVAL if i >= n. A read-modify-write needs the lock around both
 * steps. */
RC_API int rc_shared_array_get(void *array, size_t i, void *out);
RC_API int rc_shared_array_set(void *array, size_t i, const void *value);

/* ---- rc_lru: functools.lru_cache(maxsize) ------------------------------ */

/* The cached function: a new reference to the value for key, or NULL (say
 * why with rc_report_error). It may call rc_lru_call on its own cache (a
 * recursive function, as fib). */
typedef void *(*rc_lru_compute_fn)(void *key, void *arg);

RC_API extern const rc_type rc_lru_type;

/* maxsize for a cache without a bound (lru_cache(maxsize=None)). */
#define RC_LRU_UNBOUNDED SIZE_MAX

/* A cache of at most maxsize entries key -> value (0: caches nothing),
 * evicting the least recently used. Keys are compared as dict keys
 * (rc_hash, rc_equal; a key's hash must not change while it is cached;
 * pack several arguments with rc_tuple_pack). compute may be NULL for a
 * cache used only through rc_lru_get and rc_lru_put. */
RC_API void *rc_lru_new(size_t maxsize, rc_lru_compute_fn compute, void *arg);
/* f(key) through the cache: a hit returns the cached value and makes it the
 * most recently used; a miss calls compute, caches its value (evicting the
 * least recently used entry when maxsize are cached; not if a recursive
 * call cached key meanwhile, as CPython) and returns it. Caching is best
 * effort: if memory for the entry is short the value is still returned.
 * Returns a new reference; NULL with "rc_lru_call: the function returned
 * NULL[: its message]" if compute fails (nothing cached). */
RC_API void *rc_lru_call(void *cache, void *key);
/* A lookup: 1 with a new reference in *value (a hit, now the most recently
 * used), 0 with *value NULL (a miss), or a negative code. Counts as
 * rc_lru_call's lookup does. */
RC_API int rc_lru_get(void *cache, const void *key, void **value);
/* cache[key] = value (both increfed): a new entry, or a new value for a
 * cached key; either is then the most recently used, and the least
 * recently used entry is evicted if more than maxsize are cached. 0,
 * RC_EINVAL, RC_ENOMEM (the cache unchanged) or a dict's RC_ESTATE. */
RC_API int rc_lru_put(void *cache, void *key, void *value);
/* cache_clear(): drops every entry and zeroes hits and misses. */
RC_API int rc_lru_clear(void *cache);

typedef struct rc_lru_info {
    size_t struct_size; /* set to sizeof(rc_lru_info) before the call */
    size_t hits, misses, maxsize, currsize;
} rc_lru_info;
/* cache_info(): CacheInfo(hits, misses, maxsize, currsize). */
RC_API int rc_lru_cache_info(const void *cache, rc_lru_info *out);

/* ---- rc_canon: a canonicalizing cache (the seeds' CachedObject) -------- */

/* Makes the object for key: a new reference, or NULL (say why with
 * rc_report_error). It must be an object that can die (not immortal). */
typedef void *(*rc_canon_make_fn)(void *key, void *arg);

RC_API extern const rc_type rc_canon_type;

/* A cache that hands out one object per key (keys compared as dict keys)
 * while that object lives, without keeping it alive: the objects are held
 * through a weak-value dict, so an entry goes when its object dies, by
 * reference counting or in a collection. NULL with RC_EINVAL if make is
 * NULL. */
RC_API void *rc_canon_new(rc_canon_make_fn make, void *arg);
/* CachedObject(key): a new reference to the live object for key, made
 * with make if there is none. Two calls for equal keys return the same
 * object as long as one reference to it is held somewhere. NULL with a
 * message if make fails or the object cannot be registered (memory short,
 * an immortal object): an object the cache does not know would not be the
 * one object for its key. */
RC_API void *rc_canon_get(void *cache, void *key);
/* The number of live objects (exact once the callbacks of the dead ones
 * ran: after every reference count reaching zero and every collection). */
RC_API size_t rc_canon_len(const void *cache);

typedef struct rc_canon_stats {
    size_t struct_size; /* set to sizeof(rc_canon_stats) before the call */
    size_t live;        /* as rc_canon_len */
    size_t made;        /* objects made and registered */
    size_t reused;      /* requests served by a live object */
} rc_canon_stats;
RC_API int rc_canon_get_stats(const void *cache, rc_canon_stats *out);

#ifdef __cplusplus
}
#endif
#endif
