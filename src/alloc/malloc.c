/* malloc.c: rc_malloc and friends, the allocator's entry points.
 *
 * Which path a block takes:
 *   size 1..512    size class (size - 1) >> 4, pop the class's first used
 *                  pool's free list (pool.h); everything else is the slow
 *                  path (pool.c)
 *   size 0         class 0: a distinct 16-byte block
 *   size > 512     the system allocator with a header (large.c)
 * A failed request calls heap->hooks.out_of_memory once (the collector
 * frees what it can) and is retried once, except inside rc_realloc of a
 * block: a collection runs finalizers and weak reference callbacks, and
 * one that reached the structure holding the block (a list growing its
 * item array, a string builder its buffer) could free or replace the block
 * under the reallocation. CPython's PyMem_Realloc likewise never runs
 * Python code.
 * While tracing is on (rc_alloc_set_traced), every block handed out goes
 * to heap->hooks.trace_alloc with the size requested, and frees tell
 * hooks.trace_free from the pool (pool.h) or large-block (large.c) paths.
 * It costs the fast paths no test while off: fast_max is 0 while tracing,
 * so every allocation goes to alloc_slow, and the pools' free keys carry
 * RC_FREE_KEY_TRACED, so every rc_free goes to free_small_slow.
 *
 * Freeing finds the block's arena in the process-wide arena map, so it
 * works for blocks of any heap, from any thread:
 *   - a thread that owns the block's heap frees it into its pool at once;
 *   - any other thread, even if the heap is owned by no thread, pushes it
 *     on the heap's lock-free remote-free stack (link at offset 8). A heap
 *     owned by nobody may still be in use (rc_heap_malloc on an unowned
 *     heap), and only pushing is safe against that; the owner, or the next
 *     thread to allocate from the heap, drains the stack in its allocation
 *     slow path, in rc_heap_stats, and when the runtime calls
 *     rc_alloc_drain_remote (rc_heap_use, collections, rc_heap_destroy).
 * Freeing an object block, a pointer that is not ours, or a block twice
 * (when detected) stops the process with a message naming the address.
 *
 * A debug heap (debug_guard.h) takes none of the inline paths: its
 * fast_max is 0, so every allocation reaches alloc_slow, and its pools'
 * free keys never match, so every rc_free reaches free_small_slow; both
 * hand the block to the debug allocator, which lays it out with guards
 * (block_layout.h) around a raw block from the plain paths here.
 */
#include "arena_map.h"
#include "debug_guard.h"
#include "large.h"
#include "object_block.h"

#include <string.h>

/* ---- allocation ------------------------------------------------------- */

/* After a failed request: true if the collector was asked to free memory,
 * so that one retry may succeed (see the top of the file). */
static bool collected_for_retry(rc_heap *heap)
{
    if (!heap->hooks.out_of_memory || heap->alloc.reallocating)
        return false;
    heap->hooks.out_of_memory(heap);
    return true;
}

static void *try_alloc(rc_heap *heap, size_t size, rc_block_kind kind, bool zero)
{
    if (size <= RC_SMALL_MAX) {
        unsigned cls = size ? rc_class_of(size) : 0;
        void *b = rc_pool_alloc(heap, kind, cls);
        if (b && zero)
            memset(b, 0, rc_class_size[cls]);
        return b;
    }
    if (atomic_load_explicit(&heap->alloc.remote, memory_order_relaxed))
        rc_alloc_drain_remote(heap);
    return rc_large_alloc(heap, size, kind, zero);
}

void *rc_alloc_plain(rc_heap *heap, size_t size, rc_block_kind kind, bool zero)
{
    void *b = try_alloc(heap, size, kind, zero);
    if (b || !collected_for_retry(heap))
        return b;
    return try_alloc(heap, size, kind, zero);
}

/* Any request on any heap, traced or not: the debug allocator, or the
 * plain paths. Never traces. */
static RC_NOINLINE void *alloc_any(rc_heap *heap, size_t size, rc_block_kind kind, bool zero)
{
    if (RC_UNLIKELY(heap->alloc.debug != NULL))
        return rc_debug_alloc(heap, size, kind, zero);
    return rc_alloc_plain(heap, size, kind, zero);
}

/* The fast path found its class's first pool empty: straight to the pool
 * slow path, retried once after a collection if memory is short. */
static RC_NOINLINE void *alloc_small_slow(rc_heap *heap, size_t size, rc_block_kind kind)
{
    void *b = rc_pool_alloc_slow(heap, kind, rc_class_of(size));
    if (b || !collected_for_retry(heap))
        return b;
    return try_alloc(heap, size, kind, false);
}

/* Whether a request takes the inline fast path (pool.h). */
static inline bool alloc_is_fast(const rc_heap *heap, size_t size)
{
    return RC_LIKELY(rc_alloc_is_fast(heap, size));
}

/* The fast path: the first block of the class's first used pool. */
static inline void *alloc_fast(rc_heap *heap, size_t size, rc_block_kind kind)
{
    void *b = rc_alloc_fast_pop(heap, size, kind);
    return RC_LIKELY(b != NULL) ? b : alloc_small_slow(heap, size, kind);
}

/* What the fast path's compare sends out of line: size 0, large, any
 * request on a debug heap, and every request while tracing, whose block
 * (taken as the fast path would take it, if it could) then goes to the
 * tracer. */
static RC_NOINLINE void *alloc_slow(rc_heap *heap, size_t size, rc_block_kind kind, bool zero)
{
    if (RC_LIKELY(!heap->alloc.traced))
        return alloc_any(heap, size, kind, zero);
    void *b = size - 1 < heap->alloc.inline_max && !zero ? alloc_fast(heap, size, kind)
                                                         : alloc_any(heap, size, kind, zero);
    if (b)
        heap->hooks.trace_alloc(heap, b, size);
    return b;
}

/* A block, not traced (rc_realloc traces the result itself). */
static inline void *alloc_untraced(rc_heap *heap, size_t size, rc_block_kind kind)
{
    return alloc_is_fast(heap, size) ? alloc_fast(heap, size, kind)
                                     : alloc_any(heap, size, kind, false);
}

/* A block, traced while tracing is on. */
static inline void *alloc_inline(rc_heap *heap, size_t size, rc_block_kind kind)
{
    return alloc_is_fast(heap, size) ? alloc_fast(heap, size, kind)
                                     : alloc_slow(heap, size, kind, false);
}

static void *calloc_on(rc_heap *heap, size_t count, size_t size)
{
    if (size && count > SIZE_MAX / size) {
        rc_set_error(RC_ENOMEM, "rc_calloc: %zu * %zu bytes overflows size_t", count, size);
        return NULL;
    }
    size_t n = count * size;
    if (!alloc_is_fast(heap, n)) /* large, size 0, a debug heap, or tracing */
        return alloc_slow(heap, n, RC_BLOCK_RAW, true);
    void *b = alloc_fast(heap, n, RC_BLOCK_RAW);
    if (b) /* the whole block, so that rc_usable_size's bytes are all zero */
        memset(b, 0, (n + RC_SIZE_CLASS_STEP - 1) & ~(size_t)(RC_SIZE_CLASS_STEP - 1));
    return b;
}

void *rc_alloc_block(rc_heap *heap, size_t size, rc_block_kind kind)
{
    return alloc_inline(heap, size, kind);
}

/* rc_malloc's first call on a thread: makes the thread's heap. Kept out of
 * line so that rc_malloc's fast path saves no registers (inlined, the heap
 * creation made it push and pop five on every call). */
static RC_NOINLINE void *malloc_first(size_t size)
{
    rc_heap *heap = rc_heap_current();
    return heap ? alloc_inline(heap, size, RC_BLOCK_RAW) : NULL;
}

void *rc_malloc(size_t size)
{
    rc_heap *heap = rc_thread_heap();
    if (RC_UNLIKELY(heap == NULL))
        return malloc_first(size);
    return alloc_inline(heap, size, RC_BLOCK_RAW);
}

void *rc_calloc(size_t count, size_t size)
{
    rc_heap *heap = rc_heap_for_call();
    return heap ? calloc_on(heap, count, size) : NULL;
}

static bool heap_arg_ok(rc_heap *heap, const char *what)
{
    if (!heap) {
        rc_set_error(RC_EINVAL, "%s: heap is NULL", what);
        return false;
    }
    rc_heap_check_access(heap, what);
    return true;
}

void *rc_heap_malloc(rc_heap *heap, size_t size)
{
    return heap_arg_ok(heap, "rc_heap_malloc") ? alloc_inline(heap, size, RC_BLOCK_RAW) : NULL;
}

void *rc_heap_calloc(rc_heap *heap, size_t count, size_t size)
{
    return heap_arg_ok(heap, "rc_heap_calloc") ? calloc_on(heap, count, size) : NULL;
}

/* ---- misuse ------------------------------------------------------------ */

static RC_NORETURN void fatal_object(const char *what, const void *p, const void *block)
{
    const rc_object_head *head = block;
    const char *name = "a dead object";
    if (head->refcnt != 0)
        name = head->type && head->type->name ? head->type->name : "unnamed";
    rc_fatal("%s(%p): block holds a reclaim object (type %s); drop it with rc_decref", what, p,
             name);
}

/* p is in no arena and is no live large block: stops with the best
 * message we have. */
static RC_NORETURN void fatal_not_ours(const char *what, const void *p)
{
    rc_debug_check_pointer(p, what); /* a debug heap's block says more */
    const rc_large *object = rc_large_of((const char *)p - RC_HEADER_SIZE);
    if (object && object->kind == RC_BLOCK_OBJECT)
        fatal_object(what, p, rc_large_block((rc_large *)object));
    if (rc_large_was_freed(p))
        rc_fatal("%s(%p): double free of a large block", what, p);
    rc_fatal("%s(%p): pointer was not allocated by reclaim (or it is a double free)", what, p);
}

/* The start of the block of an object pool that p (a block or an object
 * body) belongs to. */
static const char *object_block_of(const rc_pool *pool, const char *p)
{
    size_t size = rc_pool_block_size(pool);
    size_t offset = (size_t)(p - pool->mem);
    return offset < pool->carved ? pool->mem + offset / size * size : NULL;
}

/* ---- freeing ------------------------------------------------------------ */

void rc_alloc_remote_push(rc_heap *heap, char *b)
{
    _Atomic(void *) *top = &heap->alloc.remote;
    void *head = atomic_load_explicit(top, memory_order_relaxed);
    do {
        *(void **)(b + 8) = head;
    } while (!atomic_compare_exchange_weak_explicit(top, &head, b, memory_order_release,
                                                    memory_order_relaxed));
}

static bool owned_by_caller(rc_heap *heap)
{
    return atomic_load_explicit(&heap->owner, memory_order_relaxed) == rc_thread_token();
}

static RC_NOINLINE void free_large_or_foreign(void *p)
{
    if (p == NULL) /* rc_free(NULL) comes here: NULL is in no arena */
        return;
    rc_large *h = rc_large_of(p);
    if (!h || h->heap->alloc.debug) {
        rc_large *debug = rc_debug_large_holding(p);
        if (!debug)
            fatal_not_ours("rc_free", p);
        rc_debug_free(debug->heap, p, RC_DEBUG_EXPECT_RAW, "rc_free", owned_by_caller(debug->heap));
        return;
    }
    if (h->kind == RC_BLOCK_OBJECT)
        fatal_object("rc_free", p, p);
    if (owned_by_caller(h->heap))
        rc_large_free(h->heap, h);
    else
        rc_alloc_remote_push(h->heap, p);
}

static RC_NOINLINE void free_small_slow(rc_heap *heap, rc_pool *pool, char *p)
{
    if (RC_UNLIKELY(heap->alloc.debug != NULL)) {
        rc_debug_free(heap, p, RC_DEBUG_EXPECT_RAW, "rc_free", owned_by_caller(heap));
        return;
    }
    if (pool->kind == RC_BLOCK_OBJECT) {
        const char *block = object_block_of(pool, p);
        if (block && (block == p || block + RC_HEADER_SIZE == p))
            fatal_object("rc_free", p, block);
        rc_fatal("rc_free(%p): pointer was not allocated by reclaim (it points into a pool of "
                 "objects)",
                 (void *)p);
    }
    if (owned_by_caller(heap))
        rc_pool_free(heap, pool, p, RC_BLOCK_RAW);
    else
        rc_alloc_remote_push(heap, p);
}

void rc_free(void *block)
{
    rc_arena *arena = rc_arena_map_get(block);
    if (RC_UNLIKELY(arena == NULL)) {
        free_large_or_foreign(block);
        return;
    }
    rc_pool *pool = rc_pool_of(arena, block);
    /* One compare checks that the pool is raw, that its heap is the
     * caller's current heap, which the caller owns (so heap->owner need not
     * be loaded), that the heap is neither a debug heap nor traced (so no
     * tracer watches the pool), and that the pool is on its used list (not
     * full, not empty): see RC_FREE_KEY. Any other heap (perhaps owned by
     * the caller all the same), object pools, traced heaps and pools off
     * their lists are decided in the slow paths. */
    rc_heap *heap = rc_thread_heap();
    if (RC_UNLIKELY(rc_pool_free_key(pool) != RC_FREE_KEY(heap, RC_BLOCK_RAW))) {
        free_small_slow(arena->heap, pool, block);
        return;
    }
    rc_pool_push(heap, pool, block);
}

/* Frees a raw block of heap (either kind) on a thread that may work on
 * heap: on a debug heap, once the debug allocator is done with it. */
void rc_alloc_free_plain(rc_heap *heap, char *b)
{
    rc_arena *arena = rc_arena_map_get(b);
    if (arena) {
        if (arena->heap != heap)
            rc_fatal("rc_free(%p): block of heap %p freed as one of heap %p", (void *)b,
                     (void *)arena->heap, (void *)heap);
        rc_pool *pool = rc_pool_of(arena, b);
        if (pool->kind == RC_BLOCK_OBJECT && rc_pool_is_block(pool, b) && pool->used > 0)
            *rc_layout_dead_word(heap, b) = 0; /* the collector must see it dead */
        rc_pool_free(heap, pool, b, (rc_block_kind)pool->kind);
        return;
    }
    rc_large *h = rc_large_of(b);
    if (!h)
        fatal_not_ours("rc_free", b);
    if (h->heap != heap)
        rc_fatal("rc_free(%p): large block of heap %p freed as one of heap %p", (void *)b,
                 (void *)h->heap, (void *)heap);
    rc_large_free(heap, h);
}

/* Frees a block of heap on a thread that may work on heap; a debug heap
 * checks it first, as one of the kind expected, freed by `what`. */
static void free_local(rc_heap *heap, void *block, rc_debug_expect expect, const char *what)
{
    if (RC_UNLIKELY(heap->alloc.debug != NULL))
        rc_debug_free(heap, block, expect, what, true);
    else
        rc_alloc_free_plain(heap, block);
}

void rc_alloc_free_block(rc_heap *heap, void *block)
{
    if (block)
        free_local(heap, block, RC_DEBUG_EXPECT_ANY, "rc_alloc_free_block");
}

rc_heap *rc_alloc_object_owner_slow(const void *block)
{
    rc_block_kind kind = RC_BLOCK_RAW;
    rc_heap *heap = rc_alloc_owner(block, &kind);
    if (!heap || kind != RC_BLOCK_OBJECT)
        rc_fatal("%p is not a reclaim object's block", block);
    return heap;
}

void rc_alloc_free_object_slow(rc_heap *heap, void *block)
{
    free_local(heap, block, RC_DEBUG_EXPECT_OBJECT, "rc_decref");
}

void rc_alloc_forget_trace(rc_heap *heap, void *raw)
{
    rc_arena *arena = rc_arena_map_get(raw);
    if (arena) {
        rc_pool *pool = rc_pool_of(arena, raw);
        if (pool->side)
            heap->hooks.trace_free(heap, raw, pool);
        return;
    }
    rc_large *h = (rc_large *)raw - 1;
    if (h->trace_tb)
        heap->hooks.trace_free(heap, raw, NULL);
}

void rc_alloc_drain_remote(rc_heap *heap)
{
    char *b = atomic_exchange_explicit(&heap->alloc.remote, NULL, memory_order_acquire);
    while (b) {
        char *next = *(char **)(b + 8);
        if (heap->alloc.debug) /* checked by the thread that freed it */
            rc_debug_take_remote(heap, b);
        else
            rc_alloc_free_plain(heap, b);
        heap->alloc.remote_frees++;
        b = next;
    }
}

void rc_alloc_check_freed(rc_heap *heap) { rc_debug_quarantine_flush(heap); }

/* ---- lookups ---------------------------------------------------------- */

rc_heap *rc_alloc_owner(const void *block, rc_block_kind *kind)
{
    rc_arena *arena = rc_arena_map_get(block);
    if (arena) {
        const rc_pool *pool = rc_pool_of(arena, block);
        if (pool->used == 0 || !rc_pool_is_block(pool, rc_layout_raw(arena->heap, block)))
            return NULL;
        if (kind)
            *kind = (rc_block_kind)pool->kind;
        return arena->heap;
    }
    const rc_large *h = rc_large_of(block);
    if (h && h->heap->alloc.debug) /* a debug heap's raw block: not what it handed out */
        h = NULL;
    else if (!h)
        h = rc_debug_large_of(block);
    if (!h)
        return NULL;
    if (kind)
        *kind = (rc_block_kind)h->kind;
    return h->heap;
}

size_t rc_alloc_usable(const void *block)
{
    rc_arena *arena = rc_arena_map_get(block);
    if (arena)
        return rc_pool_block_size(rc_pool_of(arena, block));
    const rc_large *h = rc_large_of(block);
    return h ? h->size : 0;
}

size_t rc_usable_size(const void *block)
{
    if (!block)
        return 0;
    rc_heap *heap = rc_alloc_owner(block, NULL);
    if (!heap)
        fatal_not_ours("rc_usable_size", block);
    if (heap->alloc.debug) /* the size requested */
        return rc_debug_size(heap, block, RC_DEBUG_EXPECT_ANY, "rc_usable_size");
    return rc_alloc_usable(block);
}

rc_heap *rc_heap_of(const void *block)
{
    rc_heap *heap = block ? rc_alloc_owner(block, NULL) : NULL;
    if (!heap && block && (uintptr_t)block > RC_HEADER_SIZE) {
        /* an object: its body follows the header at the block's start */
        rc_block_kind kind = RC_BLOCK_RAW;
        heap = rc_alloc_owner((const char *)block - RC_HEADER_SIZE, &kind);
        if (kind != RC_BLOCK_OBJECT)
            heap = NULL;
    }
    if (!heap)
        rc_set_error(RC_EINVAL, "rc_heap_of(%p): pointer was not allocated by reclaim", block);
    return heap;
}

/* ---- realloc ---------------------------------------------------------- */

/* The end of every rc_realloc that moves block (of owner; its first old
 * bytes are the caller's): a new block of heap, the bytes copied, the old
 * block freed. NULL with block untouched if memory is short. */
static void *realloc_move(rc_heap *heap, rc_heap *owner, void *block, size_t old, size_t size)
{
    void *moved = alloc_untraced(heap, size, RC_BLOCK_RAW);
    if (!moved)
        return NULL;
    memcpy(moved, block, old < size ? old : size);
    if (owner != heap)
        rc_free(block);
    else
        free_local(heap, block, RC_DEBUG_EXPECT_RAW, "rc_realloc");
    return moved;
}

static void *resize_block(rc_heap *heap, void *block, size_t size)
{
    rc_block_kind kind;
    rc_heap *owner = rc_alloc_owner(block, &kind);
    if (!owner)
        fatal_not_ours("rc_realloc", block);
    if (RC_UNLIKELY(owner->alloc.debug)) { /* the block checked, and always a new one */
        size_t requested = rc_debug_size(owner, block, RC_DEBUG_EXPECT_RAW, "rc_realloc");
        return realloc_move(heap, owner, block, requested, size);
    }
    if (kind == RC_BLOCK_OBJECT)
        fatal_object("rc_realloc", block, block);
    size_t old = rc_alloc_usable(block);
    if (owner == heap) { /* a plain heap: resized in place if it can be */
        if (old <= RC_SMALL_MAX && size <= RC_SMALL_MAX &&
            rc_class_of(size ? size : 1) == rc_class_of(old))
            return block;
        if (old > RC_SMALL_MAX && size > RC_SMALL_MAX)
            return rc_large_realloc(heap, rc_large_of(block), size);
    }
    return realloc_move(heap, owner, block, old, size);
}

/* rc_realloc before tracing: with a block, no collection on failure. */
static void *realloc_untraced(rc_heap *heap, void *block, size_t size)
{
    if (!block)
        return alloc_untraced(heap, size, RC_BLOCK_RAW);
    heap->alloc.reallocating = true;
    void *b = resize_block(heap, block, size);
    heap->alloc.reallocating = false;
    return b;
}

/* Tracing: the old block's trace goes when it is freed (a moved block) or
 * is replaced (a block resized in place, whose large header moved with
 * it); the result is traced after the old one is gone, so that the peak
 * never counts both. */
static void *realloc_on(rc_heap *heap, void *block, size_t size)
{
    void *b = realloc_untraced(heap, block, size);
    if (RC_UNLIKELY(heap->alloc.traced) && b)
        heap->hooks.trace_alloc(heap, b, size);
    return b;
}

void *rc_realloc(void *block, size_t size)
{
    rc_heap *heap = rc_heap_for_call();
    return heap ? realloc_on(heap, block, size) : NULL;
}

void *rc_heap_realloc(rc_heap *heap, void *block, size_t size)
{
    return heap_arg_ok(heap, "rc_heap_realloc") ? realloc_on(heap, block, size) : NULL;
}

/* ---- the heap's allocator: set-up and tear-down ---------------------- */

int rc_alloc_init(rc_heap *heap, const rc_heap_options *options)
{
    rc_alloc_state *st = &heap->alloc;
    memset(st, 0, sizeof *st);
    for (unsigned k = 0; k < RC_BLOCK_KINDS; k++)
        for (unsigned c = 0; c < RC_SIZE_CLASSES; c++)
            st->used[k][c] = RC_POOL_SENTINEL;
    atomic_init(&st->remote, NULL);
    rc_large_cache_init(heap, options);
    int rc = rc_debug_init(heap, options);
    /* a debug heap's every request takes the out-of-line paths */
    st->inline_max = st->debug ? 0 : RC_SMALL_MAX;
    st->fast_max = st->inline_max;
    return rc;
}

void rc_alloc_set_traced(rc_heap *heap, bool traced)
{
    rc_alloc_state *st = &heap->alloc;
    st->traced = traced;
    st->fast_max = traced ? 0 : st->inline_max;
    uintptr_t bit = traced ? RC_FREE_KEY_TRACED : 0;
    for (rc_arena *a = st->arenas; a; a = a->all_next) {
        for (unsigned i = 0; i < a->ntouched; i++) {
            rc_pool *pool = &a->pools[i];
            rc_pool_set_free_key(pool, (rc_pool_free_key(pool) & ~RC_FREE_KEY_TRACED) | bit);
        }
    }
}

void rc_alloc_fini(rc_heap *heap)
{
    rc_alloc_state *st = &heap->alloc;
    rc_alloc_drain_remote(heap); /* a debug heap checks them in its quarantine */
    rc_debug_fini(heap);
    /* blocks still on the remote stack go with their arenas and the list */
    atomic_store_explicit(&st->remote, NULL, memory_order_relaxed);
    rc_large_free_all(heap);
    rc_arena_release_all(heap);
    for (unsigned k = 0; k < RC_BLOCK_KINDS; k++)
        for (unsigned c = 0; c < RC_SIZE_CLASSES; c++)
            st->used[k][c] = RC_POOL_SENTINEL;
}
