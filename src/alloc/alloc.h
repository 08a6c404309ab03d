/* alloc.h: the allocator as the upper layers and the runtime see it.
 *
 * Two kinds of block share the allocator. Raw blocks are rc_malloc's.
 * Object blocks hold an object (header and body) and live in pools of their
 * own, so that the collector can walk every object by scanning pools:
 *
 *   In an object pool, a block is a live object exactly when its first four
 *   bytes (the header's refcnt) are not zero. The allocator keeps those four
 *   bytes zero in every free or never-used object block (and the next four,
 *   the header's gc_bits, which the collector's pool scan tests); the object
 *   layer sets refcnt to 1 as soon as it gets a block and leaves it 0 from
 *   death until the block is freed.
 *
 * Large blocks (over RC_SMALL_MAX bytes) of either kind come from the system
 * with a header of their own and are kept on the heap's large-block list.
 */
#ifndef RC_ALLOC_H
#define RC_ALLOC_H

#include "../internal.h"

typedef enum { RC_BLOCK_RAW = 0, RC_BLOCK_OBJECT = 1 } rc_block_kind;

/* Sets up / tears down the allocator part of a heap: a plain or a debug
 * heap (options->malloc_mode, resolved: not RC_MALLOC_FROM_ENV). 0, or
 * RC_ENOMEM with a message. rc_alloc_fini frees every block, large and
 * small, and unmaps every arena (a debug heap checks its quarantine
 * first). */
RC_INTERNAL int rc_alloc_init(rc_heap *heap, const rc_heap_options *options);
RC_INTERNAL void rc_alloc_fini(rc_heap *heap);

/* Turns tracing on or off for the allocator (the tracer's start and stop):
 * sets heap->alloc.traced, fast_max, and the free key of every pool of the
 * heap (pool.h), which together send every allocation and free to the
 * paths that tell the tracer. */
RC_INTERNAL void rc_alloc_set_traced(rc_heap *heap, bool traced);

/* A block of at least size bytes (16-aligned) of the given kind, on a heap
 * the caller may work on. On failure: calls heap->hooks.out_of_memory once
 * (unless rc_realloc is under way: see malloc.c), retries, and then returns
 * NULL with a message set. */
RC_INTERNAL void *rc_alloc_block(rc_heap *heap, size_t size, rc_block_kind kind);

/* Frees a block of heap, called by a thread that may work on heap. */
RC_INTERNAL void rc_alloc_free_block(rc_heap *heap, void *block);

/* The heap owning block and the block's kind, or NULL if reclaim did not
 * allocate it (no message set). Works for any heap, from any thread. */
RC_INTERNAL rc_heap *rc_alloc_owner(const void *block, rc_block_kind *kind);

/* Usable bytes of a block of ours. */
RC_INTERNAL size_t rc_alloc_usable(const void *block);

/* Every object block of the heap that may hold a live object: a pool's
 * carved blocks as one span, a large object block as a span of one. Spans
 * list user pointers, where the object headers are (block_layout.h: the
 * raw block itself, except on a debug heap). The callback must not
 * allocate or free blocks of the heap. */
typedef struct rc_block_span {
    char *first;   /* the first block's user pointer */
    size_t stride; /* bytes from one block to the next */
    size_t count;  /* blocks in the span */
    bool large;    /* a large block (count 1) */
} rc_block_span;
typedef void (*rc_span_fn)(const rc_block_span *span, void *arg);
RC_INTERNAL void rc_alloc_object_spans(rc_heap *heap, rc_span_fn fn, void *arg);
/* The same, one arena at a time, for a scan that must know what it has
 * passed. rc_alloc_arena_bases stores the base of each of the heap's
 * arenas (RC_ARENA_SIZE-aligned; the one last started on first, a new one
 * or one reused once wholly free: arena.c) in bases[0..cap) and returns
 * how many there are; rc_alloc_arena_object_spans lists the spans of the
 * arena at base, its pools by increasing address, or decreasing if down;
 * rc_alloc_large_object_spans lists the large blocks. */
RC_INTERNAL size_t rc_alloc_arena_bases(rc_heap *heap, char **bases, size_t cap);
RC_INTERNAL void rc_alloc_arena_object_spans(rc_heap *heap, const char *base, bool down,
                                             rc_span_fn fn, void *arg);
RC_INTERNAL void rc_alloc_large_object_spans(rc_heap *heap, rc_span_fn fn, void *arg);

/* Returns to their pools the blocks other threads freed. Owner only. */
RC_INTERNAL void rc_alloc_drain_remote(rc_heap *heap);

/* Tracing: forgets the trace of raw block (of heap, live) now rather than
 * when it is freed; for a free that holds the block back (the debug
 * allocator's quarantine), so that the traced figures drop at the
 * caller's free. */
RC_INTERNAL void rc_alloc_forget_trace(rc_heap *heap, void *raw);

/* A debug heap checks every freed block it holds back (the quarantine) and
 * lets them go; nothing on a plain heap. rc_heap_destroy calls it before
 * its walk of the live objects, which must not meet a freed object block
 * whose refcount a use after free changed. */
RC_INTERNAL void rc_alloc_check_freed(rc_heap *heap);

/* The heap's own bookkeeping memory (collector lists, weak-reference
 * tables): the system allocator, subject to RC_FAULT_MALLOC injection and
 * never counted as blocks in use. NULL with a message on failure. */
RC_INTERNAL void *rc_sys_malloc(rc_heap *heap, size_t size);
RC_INTERNAL void *rc_sys_calloc(rc_heap *heap, size_t count, size_t size);
RC_INTERNAL void *rc_sys_realloc(rc_heap *heap, void *p, size_t size);
RC_INTERNAL void rc_sys_free(rc_heap *heap, void *p);

#endif
