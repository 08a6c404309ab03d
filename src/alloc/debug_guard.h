/* debug_guard.h: the debug allocator (RECLAIM_MALLOC=debug, or a heap made
 * with RC_MALLOC_DEBUG), reclaim's PYTHONMALLOC=debug.
 *
 * A debug heap lays every block out as block_layout.h shows (guard bytes,
 * API byte, serial number and requested size around the user's bytes) and
 * sends every allocation and free through here: its fast_max is 0 and its
 * pools' free keys carry RC_FREE_KEY_DEBUG, so the inline paths never take
 * its blocks (a plain heap pays nothing for the mode). Files:
 *   debug_guard.c       making, checking and freeing blocks
 *   debug_quarantine.c  the ring of freed blocks held back, checked on exit
 *   debug_report.c      finding the block a pointer belongs to, and the
 *                       fatal messages
 *
 * Invariants (rc_debug_validate):
 *   every block of the ring belongs to the heap, is handed out in its pool
 *   (or is a live large block) and has API byte RC_DEBUG_API_FREED;
 *   count <= ring_cap, bytes == the sum of the ring's raw usable sizes.
 * requested_bytes sums the requested sizes of the blocks handed out to
 * callers (not in the ring, not on the remote-free stack).
 */
#ifndef RC_ALLOC_DEBUG_GUARD_H
#define RC_ALLOC_DEBUG_GUARD_H

#include "block_layout.h"
#include "large.h"

typedef struct rc_debug_entry {
    char *raw;
    const rc_type *type; /* an object's type when the object layer freed it */
} rc_debug_entry;

typedef struct rc_debug_state {
    uint64_t serial;        /* of the newest block */
    size_t requested_bytes; /* of the blocks handed out to callers */
    /* the quarantine: a ring, oldest at head */
    rc_debug_entry *ring;
    size_t ring_cap, head, count;
    size_t bytes, max_bytes; /* raw usable bytes in the ring, and the limit */
} rc_debug_state;

#define RC_DEBUG_QUARANTINE_BLOCKS 1024
#define RC_DEBUG_QUARANTINE_BYTES  ((size_t)4 << 20)

/* What a free expects the block to be. */
typedef enum { RC_DEBUG_EXPECT_RAW, RC_DEBUG_EXPECT_OBJECT, RC_DEBUG_EXPECT_ANY } rc_debug_expect;

/* ---- debug_guard.c ------------------------------------------------------ */

/* Sets up heap->alloc's debug fields as options say (rc_alloc_init has set
 * the plain ones). 0, or RC_ENOMEM with a message. */
RC_INTERNAL int rc_debug_init(rc_heap *heap, const rc_heap_options *options);
/* Empties the quarantine, checking each block (rc_alloc_fini). */
RC_INTERNAL void rc_debug_fini(rc_heap *heap);

/* A debug block of size requested bytes; NULL with a message. */
RC_INTERNAL void *rc_debug_alloc(rc_heap *heap, size_t size, rc_block_kind kind, bool zero);
/* Checks block p of debug heap and frees it: into the quarantine if the
 * caller may work on the heap (local), else onto its remote-free stack.
 * `what` names the caller's API for messages. Stops the process on misuse. */
RC_INTERNAL void rc_debug_free(rc_heap *heap, void *p, rc_debug_expect expect, const char *what,
                               bool local);
/* Checks block p of debug heap, which must be live and of the kind
 * expected, and returns its requested size (rc_usable_size, rc_realloc). */
RC_INTERNAL size_t rc_debug_size(rc_heap *heap, const void *p, rc_debug_expect expect,
                                 const char *what);
/* Stops with the debug allocator's diagnosis if p, which the caller found
 * to be no block of ours, lies in a debug block (an object, a freed block,
 * a pointer into one); returns otherwise. */
RC_INTERNAL void rc_debug_check_pointer(const void *p, const char *what);
/* A block another thread freed (checked and filled then), drained from the
 * heap's remote-free stack: into the quarantine. */
RC_INTERNAL void rc_debug_take_remote(rc_heap *heap, char *raw);

/* ---- debug_quarantine.c ----------------------------------------------- */

RC_INTERNAL int rc_debug_quarantine_init(rc_heap *heap, rc_debug_state *debug,
                                         const rc_heap_options *options);
/* Holds back freed raw block raw of usable bytes (filled, API byte FREED);
 * the oldest blocks leave, checked, while the ring is over its limits. */
RC_INTERNAL void rc_debug_quarantine_add(rc_heap *heap, char *raw, size_t usable,
                                         const rc_type *type);
/* Lets every block leave, checked; false if it held none. */
RC_INTERNAL bool rc_debug_quarantine_flush(rc_heap *heap);
/* The type recorded for a quarantined object block, or NULL. */
RC_INTERNAL const rc_type *rc_debug_quarantine_type(rc_heap *heap, const char *raw);
RC_INTERNAL bool rc_debug_validate(rc_heap *heap);

/* ---- debug_report.c: finding blocks, and the messages ---------------- */

/* Where a pointer lies with respect to the debug block holding it. */
typedef enum {
    RC_DEBUG_AT_NONE,   /* in no debug block */
    RC_DEBUG_AT_USER,   /* at the user pointer */
    RC_DEBUG_AT_OBJECT, /* at the object of an object block (user + header) */
    RC_DEBUG_AT_INSIDE, /* elsewhere in the block */
} rc_debug_at;

typedef struct rc_debug_block {
    rc_heap *heap;
    char *raw, *user;
    size_t usable;       /* the raw block's usable bytes */
    rc_block_kind kind;  /* of its pool, or of its large header */
    unsigned char api;   /* RC_DEBUG_API_FREED too for a block free in its pool */
    bool readable;       /* false for a block free in its pool: only its dead
                          * word may be read (the rest is the pool's, and
                          * poisoned under ASan) */
    const rc_type *type; /* an object's type, when known to be sound */
} rc_debug_block;

/* Finds the debug block holding p (a pool block of a debug heap, or a large
 * block of one whose user or object pointer p is) without reading memory
 * that is not a block's. */
RC_INTERNAL rc_debug_at rc_debug_locate(const void *p, rc_debug_block *b);
/* The large block of a debug heap whose user pointer is p, or NULL. */
RC_INTERNAL rc_large *rc_debug_large_of(const void *p);
/* The same for p a user pointer or, of an object block, an object pointer. */
RC_INTERNAL rc_large *rc_debug_large_holding(const void *p);
/* The usable size and kind of raw block raw of heap. */
RC_INTERNAL void rc_debug_block_at(rc_heap *heap, char *raw, rc_debug_block *b);

/* Stops the process with "debug allocator: <message>", followed by where
 * the block was allocated if the heap's describe_block hook knows. */
RC_INTERNAL RC_NORETURN void rc_debug_fatal(const rc_debug_block *b, const char *fmt, ...)
    RC_PRINTF(2, 3);
/* "block 0x... (24 bytes requested, serial 17)", or for an object block
 * "object 0x... (type Node, 16-byte body, serial 17)", into buf. */
RC_INTERNAL const char *rc_debug_describe(const rc_debug_block *b, char *buf, size_t size);
/* Stops with the right message if p, used as an object by `what`, is a
 * freed object or no object of a debug heap; returns otherwise (p is in no
 * debug heap, or is a live or dying object). */
RC_INTERNAL void rc_debug_check_object_use(const void *p, const char *what);

/* ---- what malloc.c gives the debug allocator ------------------------- */

/* The plain allocator: a raw block of size bytes, with the out-of-memory
 * hook and one retry; NULL with a message. */
RC_INTERNAL void *rc_alloc_plain(rc_heap *heap, size_t size, rc_block_kind kind, bool zero);
/* Frees raw block raw of heap (the caller may work on heap). */
RC_INTERNAL void rc_alloc_free_plain(rc_heap *heap, char *raw);
/* Pushes raw block raw on heap's remote-free stack (link at offset 8). */
RC_INTERNAL void rc_alloc_remote_push(rc_heap *heap, char *raw);

#endif
