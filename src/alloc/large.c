/* large.c: blocks over RC_SMALL_MAX bytes.
 *
 * A large block comes from the system allocator (rc_sys_malloc, so that
 * RC_FAULT_MALLOC covers it) with a 64-byte header just before the block:
 *
 *   system block: [ 0 or 64 bytes of shift | header | block ... ]
 *                                            ^h       ^h + 1, 16-aligned
 *
 * The header links the block into its heap's list (so rc_alloc_fini frees
 * every one and rc_free is O(1)), and holds the heap, the size, the kind and
 * a magic word, the block's address ^ RC_LARGE_LIVE, and the tracer's record
 * of the block (src/trace), which moves with it when it is resized.
 *
 * Telling a foreign pointer apart. rc_free gets any pointer. Pointers into
 * arenas are found in the arena map; for the rest the question is whether
 * p - 64 is one of our headers, and reading memory before an arbitrary
 * pointer could fault. So:
 *  1. a header never straddles a 4 KiB page: if the system block puts it
 *     across a page boundary, the block is taken again 64 bytes bigger and
 *     the header shifted by 64 (it then cannot straddle). So a pointer p
 *     with p % 4096 < 64 is not ours, and for the rest the header lies in
 *     p's own page, which is mapped if p points to any memory at all;
 *  2. the arena map counts the live headers in each 1 MiB granule (atomic
 *     adds, no lock): if p - 64's granule has none, p is not ours and
 *     nothing is read. So a wild pointer is read only if it falls in a
 *     granule that also holds one of our large blocks (and its page must be
 *     unmapped for that to fault: then the process stops by SIGSEGV, as
 *     glibc's free would);
 *  3. the magic word, tied to the address, must match; under ASan the
 *     header must also be unpoisoned (a foreign block's redzone is not).
 * The alternatives cost more: a process-wide hash set of large blocks would
 * be a second piece of global state with a lock or a lock-free table on
 * every large allocation; aligned allocation (posix_memalign, mmap) wastes
 * up to a page a block; carving large blocks from our own arenas means
 * writing a general-purpose allocator.
 *
 * Double free: freeing sets the magic to address ^ RC_LARGE_FREED, which a
 * second free recognizes while the memory still holds it and the granule
 * still counts another live header; otherwise the second free reports a
 * pointer not allocated by reclaim.
 *
 * Blocks of RC_LARGE_MAP_MIN (1 MiB) or more, header included, get a
 * mapping of their own instead (large_map.c), with the header at its start
 * (map_len != 0, shift == 0: a page start, so it never straddles):
 *
 *   mapping (2 MiB-aligned): [ header | block ... | rounding ]
 *
 * Its length is rounded to 4 KiB, and from RC_LARGE_MAP_HUGE (4 MiB) on to
 * 2 MiB, so that each 2 MiB of the block can be one huge page (a part of a
 * mapping that is not a whole aligned 2 MiB takes small pages for good:
 * with the length rounded to 4 KiB only, a list growing by an eighth at a
 * time left a quarter of its faults on small pages). The rounding is
 * address space; it becomes resident only through the huge page that
 * holds the block's end, so a block holds at most 2 MiB more than its
 * size, under half of it.
 *
 * Such a block is backed by huge pages where the system allows them, grows
 * by mremap (page tables move, bytes are not copied), and its mapping goes
 * to the heap's cache when it is freed (large_cache.c): a later mapped
 * block takes the smallest cached extent it fits in (then its mapping,
 * h->map_len, may be up to 1 MiB longer than it needs: the rest of an
 * extent too short to keep), and a growing one first takes the front of
 * the extent after its mapping, if one starts there; otherwise the system
 * maps (and a failed mapping, with something cached, unmaps the cache and
 * tries once more). A shrink gives the tail to the cache too. So the
 * memory goes back to the system at the cache's bound, its decay, or
 * rc_heap_trim, whatever the system allocator's thresholds. A resize that
 * crosses the threshold moves the block between the two kinds. Both kinds
 * are on the same list and the same figures: large_sys_bytes counts a
 * mapping's length.
 */
#include "large.h"

#include "arena_map.h"
#include "sys.h"

#include <string.h>

#define RC_LARGE_LIVE  ((uintptr_t)0x6c617267656c6976u) /* "largeliv" */
#define RC_LARGE_FREED ((uintptr_t)0x6c61726765667265u)
#define RC_HDR         sizeof(rc_large)

static bool straddles(const char *block) { return (uintptr_t)block % RC_LARGE_PAGE < RC_HDR; }

static char *large_get(rc_heap *heap, size_t total, bool zero)
{
    return zero ? rc_sys_calloc(heap, 1, total) : rc_sys_malloc(heap, total);
}

static void list_link(rc_alloc_state *st, rc_large *h)
{
    h->prev = NULL;
    h->next = st->large;
    if (h->next)
        h->next->prev = h;
    st->large = h;
}

/* After h moved: makes its neighbours point to it again. */
static void list_relink(rc_alloc_state *st, rc_large *h)
{
    if (h->prev)
        h->prev->next = h;
    else
        st->large = h;
    if (h->next)
        h->next->prev = h;
}

static void list_unlink(rc_alloc_state *st, rc_large *h)
{
    if (h->prev)
        h->prev->next = h->next;
    else
        st->large = h->next;
    if (h->next)
        h->next->prev = h->prev;
}

/* The length of the mapping of a block of size bytes: whole pages, and
 * from RC_LARGE_MAP_HUGE on whole 2 MiB, so that the last part of the
 * block is a huge page too (large_map.c). */
static size_t map_len(size_t size)
{
    size_t len = (RC_HDR + size + RC_LARGE_PAGE - 1) & ~(RC_LARGE_PAGE - 1);
    if (len >= RC_LARGE_MAP_HUGE)
        len = (len + RC_LARGE_HUGE_PAGE - 1) & ~(RC_LARGE_HUGE_PAGE - 1);
    return len;
}

/* Whether a block of size bytes gets a mapping of its own. */
static bool wants_map(size_t size) { return RC_HDR + size >= RC_LARGE_MAP_MIN; }

/* What the system gave for h, as counted in large_sys_bytes. */
static size_t sys_size(const rc_large *h)
{
    return rc_large_is_mapped(h) ? h->map_len : h->shift + RC_HDR + h->size;
}

static size_t round16(size_t size) { return (size + 15) & ~(size_t)15; }

static bool size_ok(size_t size)
{
    if (size <= PTRDIFF_MAX - 4 * RC_HDR)
        return true;
    rc_set_error(RC_ENOMEM, "out of memory: %zu bytes is more than a block can hold", size);
    return false;
}

/* A new mapping of len bytes; if the system refuses while the cache
 * holds something, the cache is unmapped and the mapping tried again. */
static char *map_fresh(rc_heap *heap, size_t len)
{
    char *p = rc_large_map(heap, len);
    if (!p && rc_large_cache_release(heap) > 0)
        p = rc_large_map(heap, len);
    return p;
}

/* The mapping of a new block of size bytes, its length in *len: a cached
 * one (zeroed if zero), else a new one (zero-filled). The header goes at
 * its start, a page start, so it never straddles. NULL with a message. */
static char *map_get(rc_heap *heap, size_t size, bool zero, size_t *len)
{
    size_t want = map_len(size);
    char *p = rc_large_cache_take(heap, want, len);
    if (!p) {
        *len = want;
        return map_fresh(heap, want);
    }
    if (zero)
        memset(p + RC_HDR, 0, size);
    return p;
}

/* The system block of a new large block of size bytes (a multiple of 16),
 * the header's shift in it and, for a mapped block, the mapping's length;
 * NULL with a message. */
static char *sys_get(rc_heap *heap, size_t size, bool zero, size_t *shift, size_t *len)
{
    *shift = 0;
    *len = 0;
    if (wants_map(size))
        return map_get(heap, size, zero, len);
    size_t total = RC_HDR + size;
    char *sys = large_get(heap, total, zero);
    if (!sys || !straddles(sys + RC_HDR))
        return sys;
    char *again = large_get(heap, total + RC_HDR, zero);
    rc_sys_free(heap, sys);
    if (again)
        *shift = straddles(again + RC_HDR) ? RC_HDR : 0;
    return again;
}

/* Gives back the system block sys of a block not made (len: its
 * mapping's length, 0 if not mapped). */
static void sys_put(rc_heap *heap, char *sys, size_t len)
{
    if (len)
        rc_large_cache_put(heap, sys, len);
    else
        rc_sys_free(heap, sys);
}

void *rc_large_alloc(rc_heap *heap, size_t size, rc_block_kind kind, bool zero)
{
    if (!size_ok(size))
        return NULL;
    size = round16(size);
    rc_large_cache_tick(heap, wants_map(size));
    size_t shift, len;
    char *sys = sys_get(heap, size, zero, &shift, &len);
    if (!sys)
        return NULL;
    rc_large *h = (rc_large *)(sys + shift);
    if (rc_arena_map_add_large(h) != 0) {
        sys_put(heap, sys, len);
        return NULL;
    }
    *h = (rc_large){.heap = heap,
                    .size = size,
                    .kind = (uint8_t)kind,
                    .shift = (uint16_t)shift,
                    .map_len = len,
                    .magic = (uintptr_t)(h + 1) ^ RC_LARGE_LIVE};
    rc_alloc_state *st = &heap->alloc;
    list_link(st, h);
    st->large_blocks++;
    st->large_bytes += size;
    st->large_sys_bytes += sys_size(h);
    return h + 1;
}

void rc_large_free(rc_heap *heap, rc_large *h)
{
    rc_alloc_state *st = &heap->alloc;
    RC_ASSERT(h->heap == heap);
    rc_large_cache_tick(heap, rc_large_is_mapped(h));
    if (h->trace_tb)
        heap->hooks.trace_free(heap, h + 1, NULL);
    list_unlink(st, h);
    size_t sys = sys_size(h);
    st->large_blocks--;
    st->large_bytes -= h->size;
    st->large_sys_bytes -= sys;
    h->magic = (uintptr_t)(h + 1) ^ RC_LARGE_FREED;
    rc_arena_map_remove_large(h);
    if (rc_large_is_mapped(h))
        rc_large_cache_put(heap, (char *)h, sys);
    else
        rc_sys_free(heap, (char *)h - h->shift);
}

/* The system block moved or grew to sys (with 64 bytes of slack): puts the
 * header where it does not straddle a page, moving the contents if the
 * shift changes, and returns it. */
static rc_large *large_settle(char *sys, size_t old_shift, size_t keep)
{
    size_t shift = old_shift;
    if (straddles(sys + shift + RC_HDR))
        shift = RC_HDR - shift; /* of 64 and 128, at most one straddles */
    RC_ASSERT(!straddles(sys + shift + RC_HDR));
    if (shift != old_shift)
        memmove(sys + shift, sys + old_shift, RC_HDR + keep);
    rc_large *h = (rc_large *)(sys + shift);
    h->shift = (uint16_t)shift;
    return h;
}

/* The end of every resize: h (its header as it was, perhaps at a new
 * address, old_header, with old_sys bytes from the system) now holds size
 * bytes. */
static void *resized(rc_heap *heap, rc_large *h, uintptr_t old_header, size_t old_sys, size_t size)
{
    rc_alloc_state *st = &heap->alloc;
    size_t old_size = h->size;
    if ((uintptr_t)h != old_header) {
        if (rc_arena_map_add_large(h) != 0)
            rc_fatal("out of memory: cannot register a moved large block in the arena map");
        rc_arena_map_remove_large((const void *)old_header);
    }
    h->size = size;
    h->magic = (uintptr_t)(h + 1) ^ RC_LARGE_LIVE;
    list_relink(st, h);
    st->large_bytes += size - old_size;
    st->large_sys_bytes += sys_size(h) - old_sys;
    return h + 1;
}

/* A resize across RC_LARGE_MAP_MIN: a new block of the other kind, the
 * bytes copied, the old block freed (its trace with it). */
static void *large_move(rc_heap *heap, rc_large *h, size_t size)
{
    void *b = rc_large_alloc(heap, size, (rc_block_kind)h->kind, false);
    if (!b)
        return NULL;
    memcpy(b, h + 1, size < h->size ? size : h->size);
    rc_large_free(heap, h);
    return b;
}

/* Mapped block h's mapping fitted to a block of size bytes: a shrink cuts
 * it to the length needed (the tail to the cache); a growth keeps it if it
 * is long enough, else grows it into the cached extent that follows it,
 * else by mremap (unmapping the cache and trying again if that fails). The
 * header, perhaps moved; NULL with a message and h untouched if it cannot
 * grow. */
static rc_large *map_fit(rc_heap *heap, rc_large *h, size_t size)
{
    size_t len = map_len(size), have = h->map_len;
    if (size < h->size && len < have) {
        rc_large_cache_put(heap, (char *)h + len, have - len);
        h->map_len = len;
    }
    if (len <= have)
        return h;
    size_t more = rc_large_cache_grow(heap, (char *)h + have, len - have);
    if (more) {
        h->map_len = have + more;
        return h;
    }
    rc_large *moved = rc_large_remap(heap, h, have, len);
    if (!moved && rc_large_cache_release(heap) > 0)
        moved = rc_large_remap(heap, h, have, len);
    if (moved)
        moved->map_len = len;
    return moved;
}

void *rc_large_realloc(rc_heap *heap, rc_large *h, size_t size)
{
    if (!size_ok(size))
        return NULL;
    size = round16(size);
    if (wants_map(size) != rc_large_is_mapped(h))
        return large_move(heap, h, size); /* its alloc and free tick the cache */
    rc_large_cache_tick(heap, rc_large_is_mapped(h));
    uintptr_t old_header = (uintptr_t)h;
    size_t old_sys = sys_size(h);
    if (rc_large_is_mapped(h)) {
        rc_large *moved = map_fit(heap, h, size);
        return moved ? resized(heap, moved, old_header, old_sys, size) : NULL;
    }
    size_t old_shift = h->shift, keep = size < h->size ? size : h->size;
    char *sys = rc_sys_realloc(heap, (char *)h - old_shift, 2 * RC_HDR + size);
    if (!sys)
        return NULL;
    /* the old header may be freed memory now: only its copy in sys is used */
    return resized(heap, large_settle(sys, old_shift, keep), old_header, old_sys, size);
}

/* The header before p if its magic is p ^ tag, reading nothing unless p's
 * granule holds a live header (the top of this file says why). */
static rc_large *header_tagged(const void *p, uintptr_t tag)
{
    uintptr_t address = (uintptr_t)p;
    if (address % 16 != 0 || address % RC_LARGE_PAGE < RC_HDR)
        return NULL;
    rc_large *h = (rc_large *)p - 1;
    if (!rc_arena_map_has_large(h))
        return NULL;
#if RC_SANITIZE
    if (__asan_region_is_poisoned(h, RC_HDR))
        return NULL;
#endif
    return h->magic == (address ^ tag) ? h : NULL;
}

rc_large *rc_large_of(const void *p) { return header_tagged(p, RC_LARGE_LIVE); }

bool rc_large_was_freed(const void *p) { return header_tagged(p, RC_LARGE_FREED) != NULL; }

/* The heap is going: what the cache holds is unmapped, and the cache is
 * turned off, so that the blocks' mappings are unmapped as they are freed. */
void rc_large_free_all(rc_heap *heap)
{
    rc_large_cache_release(heap);
    heap->alloc.cache.max = 0;
    while (heap->alloc.large)
        rc_large_free(heap, heap->alloc.large);
}
