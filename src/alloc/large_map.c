/* large_map.c: the system calls behind large blocks of RC_LARGE_MAP_MIN
 * bytes or more, which get a mapping of their own (large.c).
 *
 * A mapping starts on a 2 MiB boundary and is advised MADV_HUGEPAGE, so
 * with transparent huge pages in "madvise" mode (or "always") each whole
 * 2 MiB of it is backed by one huge page: one page fault and one page-table
 * entry per 2 MiB instead of 512 (large.c chooses the lengths). Growth (mremap) is in place when
 * the address space after the mapping is free, else the mapping moves to a new 2 MiB boundary,
 * where the kernel moves its page tables (whole huge-page entries) without copying a byte.
 * Unmapping returns the memory to the system at once (a freed block's
 * mapping goes to the cache first: large_cache.c).
 *
 * A block carved from cached extents may span two of the system's mappings
 * (two freed mappings that happened to be neighbours, merged in the cache),
 * and mremap cannot resize such a range (EFAULT): its growth then maps a
 * new place and copies, the one case that copies (so is any other failure
 * to move once the new place is mapped).
 *
 * Every request that takes memory passes rc_fault_hit(RC_FAULT_MALLOC)
 * first, as the system allocator's large blocks do, so the fault tests see
 * the same kinds of request whatever path a block takes. A failure sets
 * "out of memory: ..." and changes nothing.
 */
#define _GNU_SOURCE /* mremap */
#include "large.h"
#include "sys.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#if defined(__has_include)
#if __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
#define RC_HAVE_MEMCHECK_H 1
#endif
#endif
#ifndef RC_HAVE_MEMCHECK_H
#define RC_HAVE_MEMCHECK_H 0
#endif

#define HUGE_PAGE RC_LARGE_HUGE_PAGE

static void *map_failed(const char *what, size_t len, int error)
{
    rc_set_error(RC_ENOMEM, "out of memory: %s of a %zu-byte large block failed: %s", what, len,
                 strerror(error));
    return NULL;
}

/* len bytes at a 2 MiB boundary (plain pages: the caller advises), or NULL
 * with errno set: maps len + 2 MiB and trims the head and the tail. */
static char *map_aligned(size_t len)
{
    size_t span = len + HUGE_PAGE;
    char *p = mmap(NULL, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    char *aligned = (char *)(((uintptr_t)p + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1));
    size_t head = (size_t)(aligned - p);
    if (head)
        munmap(p, head);
    munmap(aligned + len, span - head - len);
    return aligned;
}

void *rc_large_map(rc_heap *heap, size_t len)
{
    if (rc_fault_hit(heap, RC_FAULT_MALLOC))
        return map_failed("mmap", len, ENOMEM);
    char *p = map_aligned(len);
    if (!p)
        return map_failed("mmap", len, errno);
    madvise(p, len, MADV_HUGEPAGE); /* advice: without huge pages it still works */
    return p;
}

/* The grown tail of a mapping moved by mremap(MREMAP_FIXED) is zero-filled
 * mapped memory. Valgrind's emulation of that call keeps only the old
 * length addressable at the new place, so memcheck is told (a no-op
 * outside valgrind, and where its header is missing). */
static void moved_tail_is_mapped(void *tail, size_t len)
{
#if RC_HAVE_MEMCHECK_H
    VALGRIND_MAKE_MEM_DEFINED(tail, len);
#else
    (void)tail;
    (void)len;
#endif
}

/* p's old_len bytes copied to target (a fresh mapping of len bytes), p
 * unmapped: for a range mremap cannot move. */
static void *copy_to(char *target, void *p, size_t old_len, size_t len)
{
    madvise(target, len, MADV_HUGEPAGE);
    memcpy(target, p, old_len);
    rc_large_unmap(p, old_len);
    return target;
}

void *rc_large_remap(rc_heap *heap, void *p, size_t old_len, size_t len)
{
    RC_ASSERT(len > old_len);
    if (rc_fault_hit(heap, RC_FAULT_MALLOC))
        return map_failed("mremap", len, ENOMEM);
    void *q = mremap(p, old_len, len, 0);
    if (q != MAP_FAILED)
        return q;
    char *target = map_aligned(len); /* a place to move to: mremap replaces it */
    if (!target)
        return map_failed("mremap", len, errno);
    q = mremap(p, old_len, len, MREMAP_MAYMOVE | MREMAP_FIXED, target);
    if (q == MAP_FAILED) /* p spans two mappings (EFAULT): the memory is had */
        return copy_to(target, p, old_len, len);
    moved_tail_is_mapped((char *)q + old_len, len - old_len);
    return q;
}

void rc_large_unmap(void *p, size_t len) { munmap(p, len); }

void rc_large_mark_cached(void *p, size_t len)
{
    RC_POISON(p, len);
#if RC_HAVE_MEMCHECK_H
    VALGRIND_MAKE_MEM_NOACCESS(p, len);
#endif
}

void rc_large_mark_reused(void *p, size_t len)
{
    RC_UNPOISON(p, len);
#if RC_HAVE_MEMCHECK_H
    VALGRIND_MAKE_MEM_UNDEFINED(p, len);
#endif
}
