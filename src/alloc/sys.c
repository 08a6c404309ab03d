/* sys.c: system memory for the allocator: arena mappings, the system
 * allocator for large blocks and bookkeeping, failure injection, and the
 * coarse clock of the large-block cache.
 *
 * Every request goes through rc_fault_hit first, so that a test can make
 * the n-th one fail (rc_heap_inject_faults). A failure sets the thread's
 * message ("out of memory: ...") and returns NULL; nothing else changes.
 * The injection state is the heap's: only a thread that may work on the
 * heap makes requests for it. A NULL heap (bookkeeping made before a heap
 * exists) is never injected.
 */
#include "sys.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

void rc_heap_inject_faults(rc_heap *heap, unsigned kinds, long after, bool sticky)
{
    if (!heap)
        heap = rc_heap_for_call();
    if (!heap)
        return;
    rc_alloc_state *st = &heap->alloc;
    st->fault_kinds = after < 0 ? 0 : kinds & (RC_FAULT_MMAP | RC_FAULT_MALLOC);
    st->fault_after = after;
    st->fault_sticky = sticky;
}

bool rc_fault_hit(rc_heap *heap, unsigned kind)
{
    if (RC_LIKELY(!heap || !(heap->alloc.fault_kinds & kind)))
        return false;
    rc_alloc_state *st = &heap->alloc;
    if (st->fault_after > 0) {
        st->fault_after--;
        return false;
    }
    if (!st->fault_sticky)
        st->fault_kinds = 0;
    return true;
}

static void *malloc_failed(size_t size)
{
    rc_set_error(RC_ENOMEM, "out of memory: malloc of %zu bytes failed: %s", size,
                 strerror(ENOMEM));
    return NULL;
}

void *rc_sys_malloc(rc_heap *heap, size_t size)
{
    void *p = rc_fault_hit(heap, RC_FAULT_MALLOC) ? NULL : malloc(size ? size : 1);
    return p ? p : malloc_failed(size);
}

void *rc_sys_calloc(rc_heap *heap, size_t count, size_t size)
{
    if (size && count > SIZE_MAX / size) {
        rc_set_error(RC_ENOMEM, "out of memory: calloc of %zu * %zu bytes overflows size_t", count,
                     size);
        return NULL;
    }
    void *p =
        rc_fault_hit(heap, RC_FAULT_MALLOC) ? NULL : calloc(count ? count : 1, size ? size : 1);
    return p ? p : malloc_failed(count * size);
}

void *rc_sys_malloc_aligned(rc_heap *heap, size_t align, size_t size)
{
    void *p = NULL;
    if (!rc_fault_hit(heap, RC_FAULT_MALLOC) && posix_memalign(&p, align, size ? size : 1) != 0)
        p = NULL;
    return p ? p : malloc_failed(size);
}

void *rc_sys_realloc(rc_heap *heap, void *p, size_t size)
{
    void *q = rc_fault_hit(heap, RC_FAULT_MALLOC) ? NULL : realloc(p, size ? size : 1);
    return q ? q : malloc_failed(size);
}

void rc_sys_free(rc_heap *heap, void *p)
{
    (void)heap;
    free(p);
}

static void *map_failed(int error)
{
    rc_set_error(RC_ENOMEM, "out of memory: mmap of a %zu MiB arena failed: %s",
                 RC_ARENA_SIZE >> 20, strerror(error));
    return NULL;
}

/* Maps size bytes; MAP_FAILED on failure. */
static void *map(size_t size)
{
    return mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1,
                0);
}

/* Linux places new mappings just below the previous ones, so after one
 * aligned arena the next plain 1 MiB mapping is usually aligned too: try
 * that first, else map twice the size and trim the head and tail. */
void *rc_sys_map_arena(rc_heap *heap)
{
    if (rc_fault_hit(heap, RC_FAULT_MMAP))
        return map_failed(ENOMEM);
    char *p = map(RC_ARENA_SIZE);
    if (p == MAP_FAILED)
        return map_failed(errno);
    if ((uintptr_t)p % RC_ARENA_SIZE == 0)
        return p;
    munmap(p, RC_ARENA_SIZE);
    p = map(2 * RC_ARENA_SIZE);
    if (p == MAP_FAILED)
        return map_failed(errno);
    char *aligned = (char *)(((uintptr_t)p + RC_ARENA_SIZE - 1) & ~(uintptr_t)(RC_ARENA_SIZE - 1));
    size_t head = (size_t)(aligned - p);
    if (head)
        munmap(p, head);
    munmap(aligned + RC_ARENA_SIZE, RC_ARENA_SIZE - head);
    return aligned;
}

void rc_sys_populate_arena(void *base)
{
#ifdef MADV_POPULATE_WRITE
    (void)madvise(base, RC_ARENA_SIZE, MADV_POPULATE_WRITE);
#else
    (void)base;
#endif
}

void rc_sys_unmap_arena(void *base)
{
    /* ASan keeps shadow state for the range; clear it so that a later
     * mapping at the same address does not start out poisoned. */
    RC_UNPOISON(base, RC_ARENA_SIZE);
    munmap(base, RC_ARENA_SIZE);
}

uint64_t rc_sys_coarse_ns(void)
{
    struct timespec t;
    if (clock_gettime(CLOCK_MONOTONIC_COARSE, &t) != 0)
        return 0;
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}
