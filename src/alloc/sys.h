/* sys.h: the allocator's requests to the system (sys.c), each subject to
 * the heap's failure injection: arena mappings (RC_FAULT_MMAP) and the
 * system allocator (RC_FAULT_MALLOC, through rc_sys_malloc & co in alloc.h).
 */
#ifndef RC_ALLOC_SYS_H
#define RC_ALLOC_SYS_H

#include "pool.h"

/* A 1 MiB region aligned to 1 MiB, zero-filled; NULL with a message. */
RC_INTERNAL void *rc_sys_map_arena(rc_heap *heap);
RC_INTERNAL void rc_sys_unmap_arena(void *base);
/* Asks the system to back base's RC_ARENA_SIZE bytes with zeroed pages
 * now, in one call instead of a page fault per page (a hint: nothing
 * happens where MADV_POPULATE_WRITE is unknown or memory is short). */
RC_INTERNAL void rc_sys_populate_arena(void *base);

/* Like rc_sys_malloc, aligned to align (a power of two, a multiple of
 * sizeof(void *)); rc_sys_free frees it. */
RC_INTERNAL void *rc_sys_malloc_aligned(rc_heap *heap, size_t align, size_t size);

/* A coarse monotonic clock (CLOCK_MONOTONIC_COARSE: a few ns to read, a
 * few ms of resolution) in ns, for the large-block cache's decay. */
RC_INTERNAL uint64_t rc_sys_coarse_ns(void);

/* Whether the heap's next system request of this kind must fail. */
RC_INTERNAL bool rc_fault_hit(rc_heap *heap, unsigned kind);

#endif
