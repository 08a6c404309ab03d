/* debug_report.c: which debug block a pointer belongs to, and the debug
 * allocator's fatal messages.
 *
 * Finding a block never reads memory that may not be a block of ours: a
 * pool block is found by its pool's carve limit (the arena map says the
 * address is in an arena), a large block only by rc_large_of, which is safe
 * for any pointer. Reading a block's front must also respect what AddressSanitizer
 * and the debug build's live bits know: a block that is free in its pool is
 * treated as freed without reading it.
 *
 * Messages follow the core's: "reclaim: fatal: debug allocator: <problem>
 * <block description>: <detail>", then, if the tracer knows it (the heap's
 * describe_block hook), where the block was allocated.
 */
#include "debug_guard.h"

#include "arena_map.h"

#include <stdarg.h>
#include <stdio.h>

/* ---- finding blocks ------------------------------------------------------ */

static bool is_debug_heap(const rc_heap *heap) { return heap->alloc.front == RC_DEBUG_FRONT; }

rc_large *rc_debug_large_of(const void *p)
{
    rc_large *h = rc_large_of((const void *)((uintptr_t)p - RC_DEBUG_FRONT));
    return h && is_debug_heap(h->heap) ? h : NULL;
}

/* Whether raw, a carved block of pool, is handed out in the pool (else it
 * is on the free list, and under ASan poisoned). */
static bool pool_block_live(const rc_pool *pool, const char *raw)
{
#if RC_CHECKS >= 1
    uint64_t bit, *word = rc_live_word(pool, raw, &bit);
    return (*word & bit) != 0;
#elif RC_SANITIZE
    (void)pool;
    return !__asan_region_is_poisoned((void *)raw, RC_DEBUG_FRONT);
#else
    (void)pool, (void)raw;
    return true; /* its API byte tells: RC_DEBUG_API_FREED stays after a free */
#endif
}

void rc_debug_block_at(rc_heap *heap, char *raw, rc_debug_block *b)
{
    *b = (rc_debug_block){.heap = heap, .raw = raw, .user = raw + RC_DEBUG_FRONT};
    rc_arena *arena = rc_arena_map_get(raw);
    if (arena) {
        const rc_pool *pool = rc_pool_of(arena, raw);
        b->usable = rc_pool_block_size(pool);
        b->kind = (rc_block_kind)pool->kind;
        b->readable = pool_block_live(pool, raw);
        b->api = b->readable ? (unsigned char)raw[RC_DEBUG_API_OFFSET] : RC_DEBUG_API_FREED;
        return;
    }
    const rc_large *h = (const rc_large *)raw - 1;
    b->usable = h->size;
    b->kind = (rc_block_kind)h->kind;
    b->readable = true;
    b->api = (unsigned char)raw[RC_DEBUG_API_OFFSET];
}

static bool locate_small(rc_arena *arena, uintptr_t p, rc_debug_block *b)
{
    const rc_pool *pool = rc_pool_of(arena, (const void *)p);
    size_t size = rc_pool_block_size(pool);
    size_t offset = (size_t)(p - (uintptr_t)pool->mem);
    if (pool->used == 0 || offset >= pool->carved)
        return false;
    char *raw = (char *)(p - RC_DEBUG_FRONT);
    if (!rc_pool_is_block(pool, raw)) /* not a user pointer: divide */
        raw = pool->mem + offset / size * size;
    rc_debug_block_at(arena->heap, raw, b);
    return true;
}

rc_large *rc_debug_large_holding(const void *p)
{
    rc_large *h = rc_debug_large_of(p);
    return h ? h : rc_debug_large_of((const char *)p - RC_HEADER_SIZE); /* an object */
}

static bool locate_large(uintptr_t p, rc_debug_block *b)
{
    rc_large *h = rc_debug_large_holding((const void *)p);
    if (!h)
        return false;
    rc_debug_block_at(h->heap, rc_large_block(h), b);
    return true;
}

rc_debug_at rc_debug_locate(const void *p, rc_debug_block *b)
{
    uintptr_t address = (uintptr_t)p;
    rc_arena *arena = rc_arena_map_get(p);
    if (arena ? !is_debug_heap(arena->heap) || !locate_small(arena, address, b)
              : !locate_large(address, b))
        return RC_DEBUG_AT_NONE;
    if (address == (uintptr_t)b->user)
        return RC_DEBUG_AT_USER;
    if (b->kind == RC_BLOCK_OBJECT && address == (uintptr_t)b->user + RC_HEADER_SIZE)
        return RC_DEBUG_AT_OBJECT;
    return RC_DEBUG_AT_INSIDE;
}

/* ---- messages ------------------------------------------------------------ */

const char *rc_debug_describe(const rc_debug_block *b, char *buf, size_t size)
{
    bool object = b->kind == RC_BLOCK_OBJECT;
    void *shown = object ? b->user + RC_HEADER_SIZE : b->user;
    if (!b->readable) {
        snprintf(buf, size, "%s %p (freed; its block has left the quarantine)",
                 object ? "object" : "block", shown);
        return buf;
    }
    uint64_t n = rc_layout_requested(b->raw, b->usable);
    unsigned long long serial = (unsigned long long)rc_layout_serial(b->raw, b->usable);
    if (!rc_layout_fits(b->usable, n) || (object && n < RC_HEADER_SIZE))
        snprintf(buf, size, "%s %p (its size record is overwritten: 0x%llx)",
                 object ? "object" : "block", shown, (unsigned long long)n);
    else if (!object)
        snprintf(buf, size, "block %p (%llu bytes requested, serial %llu)", shown,
                 (unsigned long long)n, serial);
    else if (b->type && b->type->name)
        snprintf(buf, size, "object %p (type %s, %llu-byte body, serial %llu)", shown,
                 b->type->name, (unsigned long long)(n - RC_HEADER_SIZE), serial);
    else
        snprintf(buf, size, "object %p (%llu-byte body, serial %llu)", shown,
                 (unsigned long long)(n - RC_HEADER_SIZE), serial);
    return buf;
}

void rc_debug_fatal(const rc_debug_block *b, const char *fmt, ...)
{
    char message[1024];
    va_list args;
    va_start(args, fmt);
    int len = vsnprintf(message, sizeof message, fmt, args);
    va_end(args);
    size_t used = len < 0 ? 0 : (size_t)len < sizeof message ? (size_t)len : sizeof message - 1;
    rc_heap *heap = b->heap;
    if (heap && heap->hooks.describe_block && used + 2 < sizeof message) {
        message[used++] = '\n';
        message[used] = '\0';
        if (heap->hooks.describe_block(heap, b->user, message + used, sizeof message - used) == 0)
            message[--used] = '\0';
    }
    rc_fatal("debug allocator: %s", message);
}

/* ---- objects used after they were freed, and raw blocks used as objects -- */

void rc_debug_check_object_use(const void *p, const char *what)
{
    rc_debug_block b;
    rc_debug_at at = rc_debug_locate(p, &b);
    if (at == RC_DEBUG_AT_NONE)
        return;
    bool freed = b.api == RC_DEBUG_API_FREED;
    if (at == RC_DEBUG_AT_OBJECT && !freed)
        return; /* a live object, or one dying: its count is 0 while it dies */
    char desc[256];
    if (freed)
        b.type = rc_debug_quarantine_type(b.heap, b.raw);
    rc_debug_describe(&b, desc, sizeof desc);
    if (at == RC_DEBUG_AT_OBJECT)
        rc_debug_fatal(&b, "%s(%p): object used after it was freed (it is already dead): %s", what,
                       p, desc);
    if (at == RC_DEBUG_AT_USER && b.kind == RC_BLOCK_RAW)
        rc_debug_fatal(&b,
                       "%s(%p): not a reclaim object: %s was allocated by rc_malloc%s, not by "
                       "rc_new (free it with rc_free)",
                       what, p, desc, freed ? " and freed since" : "");
    long offset = (long)((uintptr_t)p - (uintptr_t)b.user);
    if (b.kind == RC_BLOCK_OBJECT)
        offset -= (long)RC_HEADER_SIZE;
    rc_debug_fatal(&b, "%s(%p): not a reclaim object: it points %ld bytes into %s%s", what, p,
                   offset, desc, freed ? ", which was freed" : "");
}
