/* debug_quarantine.c: the freed blocks a debug heap holds back.
 *
 * A freed block is not reused at once: it waits in a ring (oldest at head),
 * filled with 0xDD, so that a use after free reads the fill (an object's
 * refcount reads 0, which the object layer's checks send to
 * rc_debug_check_object_use) and a write after free changes it. When the
 * ring is over its limits (options: blocks and bytes), the oldest block
 * leaves: its fill is checked, then it goes back to its pool or to the
 * system. rc_heap_destroy lets every block leave the same way, and so does
 * an allocation that finds memory short, before it gives up.
 *
 * Invariants: debug_guard.h (rc_debug_validate checks them).
 */
#include "debug_guard.h"

#include "arena_map.h"

int rc_debug_quarantine_init(rc_heap *heap, rc_debug_state *debug, const rc_heap_options *options)
{
    debug->ring_cap =
        options->quarantine_blocks ? options->quarantine_blocks : RC_DEBUG_QUARANTINE_BLOCKS;
    debug->max_bytes =
        options->quarantine_bytes ? options->quarantine_bytes : RC_DEBUG_QUARANTINE_BYTES;
    debug->ring = rc_sys_calloc(heap, debug->ring_cap, sizeof *debug->ring);
    return debug->ring ? 0 : RC_ENOMEM;
}

/* The i-th block from the oldest (i < ring_cap); no division: the ring's
 * length is not a power of two. */
static rc_debug_entry *entry(rc_debug_state *debug, size_t i)
{
    size_t at = debug->head + i;
    return &debug->ring[at < debug->ring_cap ? at : at - debug->ring_cap];
}

static RC_NORETURN void written_after_free(rc_debug_block *b, const rc_type *type, long at,
                                           unsigned got, unsigned want)
{
    char desc[256];
    b->type = type;
    rc_debug_fatal(b, "%s was %s after it was freed: %s %ld is 0x%02X, expected 0x%02X",
                   rc_debug_describe(b, desc, sizeof desc),
                   b->kind == RC_BLOCK_OBJECT ? "used" : "written",
                   at < 0 && b->kind == RC_BLOCK_RAW ? "leading guard byte" : "byte",
                   at < 0 && b->kind == RC_BLOCK_RAW ? -at : at, got, want);
}

/* Stops if a byte of the freed block changed since it was freed. */
static void check_fill(rc_debug_block *b, const rc_type *type)
{
    bool object = b->kind == RC_BLOCK_OBJECT;
    /* an object's bytes count from its object pointer (the header's are negative) */
    long origin = object ? (long)RC_HEADER_SIZE : 0;
    long api_at = RC_DEBUG_API_OFFSET - RC_DEBUG_FRONT - origin;
    if (b->api != RC_DEBUG_API_FREED)
        written_after_free(b, type, api_at, b->api, RC_DEBUG_API_FREED);
    size_t n = (size_t)rc_layout_requested(b->raw, b->usable);
    size_t zeros = object ? sizeof(uint64_t) : 0; /* an object's dead word */
    size_t i = rc_layout_mismatch(b->user, zeros, 0);
    if (i == zeros)
        i = zeros + rc_layout_mismatch(b->user + zeros, n - zeros, RC_DEBUG_DEAD);
    if (i < n)
        written_after_free(b, type, (long)i - origin, (unsigned char)b->user[i],
                           i < zeros ? 0 : RC_DEBUG_DEAD);
}

/* The oldest block leaves, checked. */
static void evict_oldest(rc_heap *heap)
{
    rc_debug_state *debug = heap->alloc.debug;
    rc_debug_entry *oldest = entry(debug, 0);
    rc_debug_block b;
    rc_debug_block_at(heap, oldest->raw, &b);
    check_fill(&b, oldest->type);
    debug->head = debug->head + 1 < debug->ring_cap ? debug->head + 1 : 0;
    debug->count--;
    debug->bytes -= b.usable;
    rc_alloc_free_plain(heap, b.raw);
}

void rc_debug_quarantine_add(rc_heap *heap, char *raw, size_t usable, const rc_type *type)
{
    rc_debug_state *debug = heap->alloc.debug;
    if (debug->count == debug->ring_cap)
        evict_oldest(heap);
    *entry(debug, debug->count) = (rc_debug_entry){.raw = raw, .type = type};
    debug->count++;
    debug->bytes += usable;
    while (debug->bytes > debug->max_bytes)
        evict_oldest(heap); /* at worst the block just added */
}

bool rc_debug_quarantine_flush(rc_heap *heap)
{
    rc_debug_state *debug = heap->alloc.debug;
    if (!debug || debug->count == 0)
        return false;
    while (debug->count > 0)
        evict_oldest(heap);
    return true;
}

const rc_type *rc_debug_quarantine_type(rc_heap *heap, const char *raw)
{
    rc_debug_state *debug = heap->alloc.debug;
    for (size_t i = 0; i < debug->count; i++) {
        if (entry(debug, i)->raw == raw)
            return entry(debug, i)->type;
    }
    return NULL;
}

/* ---- validation ------------------------------------------------------- */

static bool broken(const char *what, const void *where)
{
    fprintf(stderr, "rc_debug_validate: %s (%p)\n", what, where);
    return false;
}

bool rc_debug_validate(rc_heap *heap)
{
    rc_debug_state *debug = heap->alloc.debug;
    if (!debug)
        return heap->alloc.front == 0 || broken("front without debug state", heap);
    if (heap->alloc.front != RC_DEBUG_FRONT || heap->alloc.inline_max != 0)
        return broken("debug heap with the plain layout or fast paths", heap);
    if (debug->count > debug->ring_cap || debug->head >= debug->ring_cap)
        return broken("quarantine ring indexes", debug);
    size_t bytes = 0;
    for (size_t i = 0; i < debug->count; i++) {
        char *raw = entry(debug, i)->raw;
        rc_block_kind kind;
        if (rc_alloc_owner(rc_layout_user(heap, raw), &kind) != heap)
            return broken("quarantined block not of this heap", raw);
        rc_debug_block b;
        rc_debug_block_at(heap, raw, &b);
        if (!b.readable || b.api != RC_DEBUG_API_FREED)
            return broken("quarantined block not marked freed, or free in its pool", raw);
        bytes += b.usable;
    }
    if (bytes != debug->bytes)
        return broken("quarantine byte count", debug);
    return true;
}
