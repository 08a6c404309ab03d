/* large.h: blocks over RC_SMALL_MAX bytes, from the system allocator, or
 * from a mapping of their own from RC_LARGE_MAP_MIN bytes on (large.c
 * explains both, and how a foreign pointer is told apart safely).
 */
#ifndef RC_ALLOC_LARGE_H
#define RC_ALLOC_LARGE_H

#include "pool.h"

typedef struct rc_large {
    struct rc_large *prev; /* the heap's list of large blocks */
    struct rc_large *next;
    rc_heap *heap;
    size_t size;     /* usable bytes, a multiple of 16 */
    uint32_t kind;   /* rc_block_kind */
    uint32_t shift;  /* bytes from the system block's start to this header */
    uintptr_t magic; /* the block's address ^ RC_LARGE_LIVE while it lives */
    /* the tracer's record (src/trace): requested bytes and traceback index,
     * 0 while untraced; a free of a block with a traceback tells
     * hooks.trace_free */
    size_t trace_size;
    uint32_t trace_tb;
    uint32_t mapped; /* 1: the block has a mapping of its own (large_map.c) */
} rc_large;

_Static_assert(sizeof(rc_large) % 16 == 0, "large blocks stay 16-aligned");

/* A large block of at least size bytes (zero-filled if zero); NULL with a
 * message. Does not call the out-of-memory hook (the caller does). */
RC_INTERNAL void *rc_large_alloc(rc_heap *heap, size_t size, rc_block_kind kind, bool zero);
RC_INTERNAL void rc_large_free(rc_heap *heap, rc_large *h);
/* Resizes h's block (same heap, new size > RC_SMALL_MAX); the new block,
 * or NULL with a message and h untouched. */
RC_INTERNAL void *rc_large_realloc(rc_heap *heap, rc_large *h, size_t size);
/* The header of live large block p, or NULL if p is not one. Never reads
 * outside the page of p, and reads nothing unless p's granule holds a live
 * large-block header. */
RC_INTERNAL rc_large *rc_large_of(const void *p);
/* Whether p looks like a large block freed already (for the message). */
RC_INTERNAL bool rc_large_was_freed(const void *p);
RC_INTERNAL void rc_large_free_all(rc_heap *heap);

static inline void *rc_large_block(rc_large *h) { return h + 1; }

/* ---- mappings of their own (large_map.c) ---------------------------------- */

/* A block whose header and bytes come to this many or more gets a mapping
 * of its own: huge pages, growth by mremap, memory back at its free. */
#define RC_LARGE_MAP_MIN   ((size_t)1 << 20)
#define RC_LARGE_HUGE_PAGE ((size_t)2 << 20) /* where mappings start; a huge page */
/* From this length on, a mapping's length is a multiple of 2 MiB. */
#define RC_LARGE_MAP_HUGE ((size_t)4 << 20)

/* A zero-filled mapping of len bytes (a multiple of 4 KiB) on a 2 MiB
 * boundary, advised to use huge pages; NULL with a message. */
RC_INTERNAL void *rc_large_map(rc_heap *heap, size_t len);
/* Mapping p of old_len bytes resized to len (multiples of 4 KiB): grown in
 * place if it can be, else moved to a 2 MiB boundary (contents kept, no
 * copy); shrunk in place. NULL with a message, p untouched, if it cannot
 * grow. */
RC_INTERNAL void *rc_large_remap(rc_heap *heap, void *p, size_t old_len, size_t len);
RC_INTERNAL void rc_large_unmap(void *p, size_t len);

#endif
