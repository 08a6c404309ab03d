/* debug_guard.c: making, checking and freeing the blocks of a debug heap
 * (block_layout.h draws them; debug_guard.h says how they get here).
 *
 * A block is stamped when made (zero word, API byte, guards, fill, serial
 * and requested size) and checked whole when freed, reallocated or asked
 * its size: the API byte (freed already? made by the API that frees it?),
 * then the leading guard from the user's bytes outwards, the size record,
 * and the trailing guard. A freed block is filled with 0xDD (an object
 * block keeps its dead word zero, for the collector) and goes into the
 * quarantine (debug_quarantine.c), which checks the fill when it lets the
 * block go. A block freed by a thread that may not work on the heap is
 * checked and filled by that thread and pushed on the heap's remote-free
 * stack; the owner moves it into the quarantine when it drains the stack.
 */
#include "debug_guard.h"

#include "arena_map.h"

/* ---- set-up ------------------------------------------------------------- */

int rc_debug_init(rc_heap *heap, const rc_heap_options *options)
{
    if (options->malloc_mode != RC_MALLOC_DEBUG)
        return 0;
    rc_debug_state *debug = rc_sys_calloc(heap, 1, sizeof *debug);
    if (!debug)
        return RC_ENOMEM;
    if (rc_debug_quarantine_init(heap, debug, options) != 0) {
        rc_sys_free(heap, debug);
        return RC_ENOMEM;
    }
    heap->alloc.debug = debug;
    heap->alloc.front = RC_DEBUG_FRONT; /* rc_alloc_init: inline_max and fast_max 0 */
    return 0;
}

void rc_debug_fini(rc_heap *heap)
{
    rc_debug_state *debug = heap->alloc.debug;
    if (!debug)
        return;
    rc_debug_quarantine_flush(heap);
    rc_sys_free(heap, debug->ring);
    rc_sys_free(heap, debug);
    heap->alloc.debug = NULL;
}

/* ---- making blocks -------------------------------------------------------- */

static unsigned char expected_api(rc_block_kind kind)
{
    return kind == RC_BLOCK_OBJECT ? RC_DEBUG_API_OBJECT : RC_DEBUG_API_RAW;
}

static void stamp(char *raw, size_t usable, size_t n, rc_block_kind kind, uint64_t serial,
                  bool zero)
{
    char *user = raw + RC_DEBUG_FRONT;
    memset(raw, 0, RC_DEBUG_API_OFFSET);
    raw[RC_DEBUG_API_OFFSET] = (char)expected_api(kind);
    memset(raw + RC_DEBUG_GUARD_OFFSET, RC_DEBUG_FORBIDDEN, RC_DEBUG_FRONT - RC_DEBUG_GUARD_OFFSET);
    memset(user, zero ? 0 : RC_DEBUG_CLEAN, n);
    memset(user + n, RC_DEBUG_FORBIDDEN, usable - RC_DEBUG_RECORD - RC_DEBUG_FRONT - n);
    rc_layout_set_record(raw, usable, serial, n);
}

void *rc_debug_alloc(rc_heap *heap, size_t size, rc_block_kind kind, bool zero)
{
    if (size > SIZE_MAX - RC_DEBUG_OVERHEAD) {
        rc_set_error(RC_ENOMEM, "out of memory: %zu bytes is more than a block can hold", size);
        return NULL;
    }
    char *raw = rc_alloc_plain(heap, size + RC_DEBUG_OVERHEAD, kind, false);
    if (!raw && rc_debug_quarantine_flush(heap)) /* the quarantine gives way first */
        raw = rc_alloc_plain(heap, size + RC_DEBUG_OVERHEAD, kind, false);
    if (!raw)
        return NULL;
    rc_debug_state *debug = heap->alloc.debug;
    stamp(raw, rc_alloc_usable(raw), size, kind, ++debug->serial, zero);
    debug->requested_bytes += size;
    return raw + RC_DEBUG_FRONT;
}

/* ---- checking blocks -------------------------------------------------------- */

/* The front, from the user's bytes outwards: guard bytes, API byte, zero
 * word. Leading guard byte k is the byte k places before the user pointer. */
static void check_front(const rc_debug_block *b)
{
    for (size_t k = 1; k <= RC_DEBUG_FRONT; k++) {
        unsigned char got = (unsigned char)b->user[-(ptrdiff_t)k];
        size_t offset = RC_DEBUG_FRONT - k;
        unsigned char want = offset >= RC_DEBUG_GUARD_OFFSET ? RC_DEBUG_FORBIDDEN
                             : offset == RC_DEBUG_API_OFFSET ? expected_api(b->kind)
                                                             : 0;
        if (got == want)
            continue;
        rc_debug_block shown = *b;
        shown.type = NULL; /* the header may be overwritten too */
        char desc[256];
        rc_debug_fatal(
            b, "buffer underflow before %s: leading guard byte %zu is 0x%02X, expected 0x%02X",
            rc_debug_describe(&shown, desc, sizeof desc), k, got, want);
    }
}

/* The size record and the trailing guard; returns the requested size. */
static size_t check_tail(const rc_debug_block *b)
{
    char desc[256];
    uint64_t n = rc_layout_requested(b->raw, b->usable);
    if (!rc_layout_fits(b->usable, n))
        rc_debug_fatal(
            b, "buffer overflow after %s: the size record at the block's end was overwritten",
            rc_debug_describe(b, desc, sizeof desc));
    const char *guard = b->user + n;
    size_t guard_len = b->usable - RC_DEBUG_RECORD - RC_DEBUG_FRONT - (size_t)n;
    size_t i = rc_layout_mismatch(guard, guard_len, RC_DEBUG_FORBIDDEN);
    if (i < guard_len)
        rc_debug_fatal(b,
                       "buffer overflow after %s: trailing guard byte %zu is 0x%02X, expected 0xFD",
                       rc_debug_describe(b, desc, sizeof desc), i, (unsigned char)guard[i]);
    return (size_t)n;
}

/* The type of a live object block, if its header looks like an object's
 * (not yet set, the type field holds the fill). */
static const rc_type *live_object_type(const rc_debug_block *b)
{
    if (b->kind != RC_BLOCK_OBJECT)
        return NULL;
    const rc_object_head *head = (const rc_object_head *)b->user;
    uintptr_t type = (uintptr_t)head->type;
    bool plausible = type != 0 && type % _Alignof(rc_type) == 0 &&
                     type != UINTPTR_MAX / 0xFF * RC_DEBUG_CLEAN &&
                     type != UINTPTR_MAX / 0xFF * RC_DEBUG_DEAD;
    return head->refcnt != 0 && plausible ? head->type : NULL;
}

/* Stops unless p is the user pointer of a live block of the kind expected;
 * then checks the whole block. Returns the requested size. */
static size_t check_block(rc_debug_block *b, rc_debug_at at, const void *p, rc_debug_expect expect,
                          const char *what)
{
    char desc[256];
    bool freed = b->api == RC_DEBUG_API_FREED;
    if (freed)
        b->type = rc_debug_quarantine_type(b->heap, b->raw);
    else if (expect == RC_DEBUG_EXPECT_OBJECT) /* the object layer's: a sound header */
        b->type = ((const rc_object_head *)b->user)->type;
    else
        b->type = live_object_type(b);
    if (at == RC_DEBUG_AT_INSIDE)
        rc_debug_fatal(
            b, "%s(%p): pointer was not allocated by reclaim (it points %ld bytes into %s)", what,
            p, (long)((uintptr_t)p - (uintptr_t)b->user), rc_debug_describe(b, desc, sizeof desc));
    if (freed)
        rc_debug_fatal(b, "%s(%p): %s was freed already (a double free, or a use after free)", what,
                       p, rc_debug_describe(b, desc, sizeof desc));
    bool object = b->kind == RC_BLOCK_OBJECT;
    if (object && expect == RC_DEBUG_EXPECT_RAW)
        rc_debug_fatal(b, "%s(%p): %s was made by rc_new (type %s): drop it with rc_decref", what,
                       p, rc_debug_describe(b, desc, sizeof desc),
                       b->type && b->type->name ? b->type->name : "unknown");
    if (at != RC_DEBUG_AT_USER)
        rc_debug_fatal(b, "%s(%p): pointer is not a block's: it points %ld bytes into %s", what, p,
                       (long)((uintptr_t)p - (uintptr_t)b->user),
                       rc_debug_describe(b, desc, sizeof desc));
    if (!object && expect == RC_DEBUG_EXPECT_OBJECT)
        rc_debug_fatal(b, "%s(%p): %s was allocated by rc_malloc, not by rc_new", what, p,
                       rc_debug_describe(b, desc, sizeof desc));
    check_front(b);
    return check_tail(b);
}

/* Finds and checks block p of heap (see check_block). */
static size_t find_and_check(rc_heap *heap, const void *p, rc_debug_expect expect, const char *what,
                             rc_debug_block *b)
{
    rc_debug_at at = rc_debug_locate(p, b);
    if (at == RC_DEBUG_AT_NONE || b->heap != heap)
        rc_fatal("%s(%p): pointer was not allocated by reclaim (or it is a double free)", what, p);
    return check_block(b, at, p, expect, what);
}

void rc_debug_check_pointer(const void *p, const char *what)
{
    rc_debug_block b;
    rc_debug_at at = rc_debug_locate(p, &b);
    if (at != RC_DEBUG_AT_NONE)
        check_block(&b, at, p, RC_DEBUG_EXPECT_RAW, what);
}

size_t rc_debug_size(rc_heap *heap, const void *p, rc_debug_expect expect, const char *what)
{
    rc_debug_block b;
    return find_and_check(heap, p, expect, what, &b);
}

/* ---- freeing blocks ----------------------------------------------------- */

/* 0xDD over the user's bytes (an object block keeps its dead word zero),
 * and the API byte says freed. */
static void kill(const rc_debug_block *b, size_t n)
{
    memset(b->user, RC_DEBUG_DEAD, n);
    if (b->kind == RC_BLOCK_OBJECT)
        *rc_layout_dead_word(b->heap, b->raw) = 0;
    b->raw[RC_DEBUG_API_OFFSET] = RC_DEBUG_API_FREED;
}

/* Freed block raw (of usable bytes), of n requested bytes, checked and
 * filled, leaves the caller's hands: into the quarantine. */
static void quarantine(rc_heap *heap, char *raw, size_t usable, size_t n, const rc_type *type)
{
    heap->alloc.debug->requested_bytes -= n;
    if (RC_UNLIKELY(heap->alloc.traced)) /* freed for the tracer now, not after the quarantine */
        rc_alloc_forget_trace(heap, raw);
    rc_debug_quarantine_add(heap, raw, usable, type);
}

void rc_debug_free(rc_heap *heap, void *p, rc_debug_expect expect, const char *what, bool local)
{
    rc_debug_block b;
    size_t n = find_and_check(heap, p, expect, what, &b);
    const rc_type *type = b.type;
    kill(&b, n);
    if (local)
        quarantine(heap, b.raw, b.usable, n, expect == RC_DEBUG_EXPECT_OBJECT ? type : NULL);
    else
        rc_alloc_remote_push(heap, b.raw); /* the owner counts it when it drains */
}

void rc_debug_take_remote(rc_heap *heap, char *raw)
{
    /* the stack's link overwrote the guard bytes at offset 8 */
    memset(raw + 8, RC_DEBUG_FORBIDDEN, RC_DEBUG_FRONT - 8);
    size_t usable = rc_alloc_usable(raw);
    quarantine(heap, raw, usable, (size_t)rc_layout_requested(raw, usable), NULL);
}
