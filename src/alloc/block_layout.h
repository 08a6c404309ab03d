/* block_layout.h: where the bytes a caller asked for lie in a block. Every
 * path that turns one into the other (allocation, free, owner lookup,
 * object spans, carving, poisoning, the debug checks) goes through here.
 *
 * The allocator's unit is the raw block: a pool block of its size class, or
 * a large block after its header. What a caller gets, the user pointer
 * (rc_malloc's result, or the object layer's header), lies heap->alloc.front
 * bytes into the raw block:
 *  - on a plain heap front is 0: the user pointer is the raw block;
 *  - on a debug heap (RECLAIM_MALLOC=debug, or rc_heap_options) front is
 *    RC_DEBUG_FRONT, and a raw block of usable size u holding n requested
 *    bytes is laid out as
 *
 *   [ 00 00 00 00 | api | FD x 11 ][ n user bytes ][ FD ... FD ][ serial | n ]
 *   ^raw                            ^raw + 16        ^+ 16 + n    ^raw + u - 16
 *
 *     00 x 4   read as an object header's refcount, they send an rc_decref
 *              of a raw block's pointer to the dead-object check, which
 *              names the mistake (rc_incref/rc_decref are inline);
 *     api      RC_DEBUG_API_RAW ('r': rc_malloc and friends),
 *              RC_DEBUG_API_OBJECT ('o': an object block) or
 *              RC_DEBUG_API_FREED ('f': freed, in the quarantine or after);
 *     FD       guard bytes: 11 before the user bytes, and after them every
 *              byte up to the record (at least RC_DEBUG_MIN_TAIL_GUARD);
 *     serial   the heap's allocation number of the block (u64), n the
 *              requested size (u64), both 8-aligned at the block's end.
 *   A request of n bytes takes a raw block of n + RC_DEBUG_OVERHEAD bytes.
 *   Fresh user bytes are 0xCD (zero for rc_calloc); freed ones 0xDD.
 *
 * Object blocks: the collector scans the user pointers (raw + front) of
 * every carved block of an object pool, and the 8 bytes there (an object's
 * refcount and gc_bits) are zero in every block not handed out (alloc.h):
 * on a debug heap too, where a freed object's other bytes are 0xDD.
 */
#ifndef RC_ALLOC_BLOCK_LAYOUT_H
#define RC_ALLOC_BLOCK_LAYOUT_H

#include "../runtime/heap.h"

#include <string.h>

#define RC_DEBUG_FRONT          16 /* keeps the user pointer 16-aligned */
#define RC_DEBUG_RECORD         16 /* serial and requested size */
#define RC_DEBUG_MIN_TAIL_GUARD 8
#define RC_DEBUG_OVERHEAD       (RC_DEBUG_FRONT + RC_DEBUG_MIN_TAIL_GUARD + RC_DEBUG_RECORD)
#define RC_DEBUG_API_OFFSET     4 /* of the api byte in the front */
#define RC_DEBUG_GUARD_OFFSET   5 /* of the first leading guard byte */

enum {
    RC_DEBUG_CLEAN = 0xCD,     /* fresh user bytes */
    RC_DEBUG_DEAD = 0xDD,      /* freed user bytes */
    RC_DEBUG_FORBIDDEN = 0xFD, /* guard bytes */
    RC_DEBUG_API_RAW = 'r',
    RC_DEBUG_API_OBJECT = 'o',
    RC_DEBUG_API_FREED = 'f',
};

_Static_assert(RC_DEBUG_FRONT % RC_SIZE_CLASS_STEP == 0, "user pointers stay 16-aligned");
_Static_assert(RC_DEBUG_OVERHEAD == RC_DEBUG_BLOCK_OVERHEAD, "the public header says so");
_Static_assert(RC_DEBUG_FRONT >= 16, "the free-list link (offset 8) stays in the front");

/* The user pointer of raw block raw of heap, and back. */
static inline char *rc_layout_user(const rc_heap *heap, void *raw)
{
    return (char *)raw + heap->alloc.front;
}

static inline char *rc_layout_raw(const rc_heap *heap, const void *user)
{
    return (char *)((uintptr_t)user - heap->alloc.front); /* no UB for foreign pointers */
}

/* The object block's 8 bytes that are zero while it is not handed out. */
static inline uint64_t *rc_layout_dead_word(const rc_heap *heap, void *raw)
{
    return (uint64_t *)rc_layout_user(heap, raw);
}

/* ---- the debug record at a debug raw block's end (usable bytes u) ---- */

static inline uint64_t rc_layout_read_u64(const char *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline uint64_t rc_layout_serial(const char *raw, size_t usable)
{
    return rc_layout_read_u64(raw + usable - RC_DEBUG_RECORD);
}

static inline uint64_t rc_layout_requested(const char *raw, size_t usable)
{
    return rc_layout_read_u64(raw + usable - RC_DEBUG_RECORD / 2);
}

static inline void rc_layout_set_record(char *raw, size_t usable, uint64_t serial, uint64_t n)
{
    memcpy(raw + usable - RC_DEBUG_RECORD, &serial, sizeof serial);
    memcpy(raw + usable - RC_DEBUG_RECORD / 2, &n, sizeof n);
}

/* The index of the first byte of p[0, n) that is not value, or n: eight
 * bytes at a time, since the debug heap checks every byte of every block it
 * frees or lets out of the quarantine. */
static inline size_t rc_layout_mismatch(const void *p, size_t n, unsigned char value)
{
    const unsigned char *bytes = p;
    uint64_t pattern = UINT64_C(0x0101010101010101) * value;
    size_t i = 0;
    for (; i + sizeof pattern <= n; i += sizeof pattern) {
        if (rc_layout_read_u64((const char *)bytes + i) != pattern)
            break;
    }
    while (i < n && bytes[i] == value)
        i++;
    return i;
}

/* Whether a raw block of usable bytes can hold n requested bytes (a size
 * record overwritten by an overflow fails this). */
static inline bool rc_layout_fits(size_t usable, uint64_t n)
{
    return usable >= RC_DEBUG_OVERHEAD && n <= usable - RC_DEBUG_OVERHEAD;
}

#endif
