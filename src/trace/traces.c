/* traces.c: the trace of each block, and the hooks the allocator calls.
 *
 * A small block's trace is one 32-bit word (0: untraced): its traceback
 * index in the high 26 bits, and in the low 6 how many bytes its requested
 * size is below its block's size (0..16 on a plain heap, 40..55 on a debug
 * heap, whose guards take 40: always below 64). It lives in its pool's side
 * table: pool->side, an array of one word per block slot, calloc'ed when the
 * pool gets its first traced block and given back when the pool empties
 * (the allocator's trace_pool_empty hook: a few all-zero tables per class
 * are kept for the next pools, so that pools that empty and fill again pay
 * neither calloc nor free) or tracing stops. A block's slot is its
 * offset in the pool divided by the block size, by a multiply (the class's
 * divisibility constant, pool.c). A full pool of traced blocks costs 4 bytes
 * a block (a 64-bit word of size and index cost 8, and more cache misses:
 * the tables are memory the workload walks). A large block's trace is in
 * its header (rc_large.trace_size and trace_tb), which moves with the block
 * when it is resized.
 *
 * The allocator calls rc_trace_hook_alloc while tracing is on, after it
 * handed a block out (which replaces any trace the block had: a block
 * resized in place), and rc_trace_hook_free for a block whose pool has a
 * side table or whose header holds a traceback. Callers name blocks by
 * their user pointer (what rc_malloc returned, an object's header) except
 * rc_trace_hook_free, which gets the raw block (block_layout.h: they differ
 * on a debug heap); a trace is kept by raw block. Everything here runs on the
 * thread that works on the heap; blocks other threads free are forgotten
 * when their owner drains them.
 */
#include "trace_core.h"
#include "../alloc/arena_map.h"
#include "../alloc/block_layout.h"
#include "../alloc/large.h"

#include <string.h>

/* The model again on the definition: GCC drops the declaration's when the
 * definition lacks it, and this file's accesses (on every traced
 * allocation) would then call __tls_get_addr in the shared library. */
_Thread_local bool rc_trace_busy __attribute__((tls_model("initial-exec")));

/* Spare side tables kept per class: enough for a pool that empties and
 * fills again (a loop allocating and freeing at a pool boundary), bounded
 * so that memory goes back once tracing's load moves elsewhere (two of a
 * 64 KiB pool of 16-byte blocks: 32 KiB). */
#define RC_TRACE_SPARE_SIDES 2

typedef uint32_t trace_word;
#define WORD_DELTA_BITS 6
#define WORD_DELTA_MASK ((1u << WORD_DELTA_BITS) - 1)
_Static_assert(RC_TRACE_MAX_TRACEBACKS <= UINT32_MAX >> WORD_DELTA_BITS, "an index fits a word");

static inline trace_word word_of(const rc_pool *pool, size_t size, uint32_t tb)
{
    size_t delta = rc_pool_block_size(pool) - size;
    RC_ASSERT(size <= rc_pool_block_size(pool) && delta <= WORD_DELTA_MASK);
    RC_ASSERT(tb >= 1 && tb <= RC_TRACE_MAX_TRACEBACKS);
    return tb << WORD_DELTA_BITS | (trace_word)delta;
}

static inline size_t word_size(const rc_pool *pool, trace_word word)
{
    return rc_pool_block_size(pool) - (word & WORD_DELTA_MASK);
}

static inline uint32_t word_tb(trace_word word) { return word >> WORD_DELTA_BITS; }

/* ---- where a block's trace is ---------------------------------------- */

static inline size_t slot_of(const rc_pool *pool, const void *block)
{
    uint64_t offset = (uint64_t)((const char *)block - pool->mem);
    return (size_t)(((unsigned __int128)offset * rc_class_divisibility[pool->cls]) >> 64);
}

static size_t side_bytes(const rc_pool *pool)
{
    return rc_pool_capacity(pool->cls) * sizeof(trace_word);
}

/* A spare table's link to the next spare of its class, in its first
 * words (a table has at least 32). */
static void *spare_next(const void *side)
{
    void *next;
    memcpy(&next, side, sizeof next);
    return next;
}

static void spare_link(void *side, void *next) { memcpy(side, &next, sizeof next); }

/* The pool's side table, made if it has none (a spare one of its class
 * if there is one: those are all zero already); NULL if memory is short. */
static trace_word *side_of(rc_heap *heap, rc_pool *pool)
{
    if (RC_LIKELY(pool->side != NULL))
        return pool->side;
    rc_trace_state *st = &heap->trace;
    trace_word *side = st->spare_sides[pool->cls];
    if (side) {
        st->spare_sides[pool->cls] = spare_next(side);
        st->spare_count[pool->cls]--;
        spare_link(side, NULL);
    } else {
        side = rc_trace_mem_alloc(heap, side_bytes(pool), true);
    }
    pool->side = side;
    return side;
}

/* Takes the pool's side table away: kept as a spare if every word is 0
 * (the pool emptied), else freed. */
static void side_release(rc_heap *heap, rc_pool *pool, bool clear)
{
    rc_trace_state *st = &heap->trace;
    trace_word *side = pool->side;
    pool->side = NULL;
    if (clear && st->spare_count[pool->cls] < RC_TRACE_SPARE_SIDES) {
        spare_link(side, st->spare_sides[pool->cls]);
        st->spare_sides[pool->cls] = side;
        st->spare_count[pool->cls]++;
        return;
    }
    rc_trace_mem_free(heap, side, side_bytes(pool));
}

static void spares_free(rc_heap *heap)
{
    rc_trace_state *st = &heap->trace;
    for (unsigned cls = 0; cls < RC_SIZE_CLASSES; cls++) {
        size_t bytes = rc_pool_capacity(cls) * sizeof(trace_word);
        while (st->spare_sides[cls]) {
            void *side = st->spare_sides[cls];
            st->spare_sides[cls] = spare_next(side);
            rc_trace_mem_free(heap, side, bytes);
        }
        st->spare_count[cls] = 0;
    }
}

/* ---- the figures ---------------------------------------------------------- */

static inline void count_in(rc_trace_state *st, size_t size)
{
    st->traced_blocks++;
    st->current += size;
    if (st->current > st->peak)
        st->peak = st->current;
}

static inline void count_out(rc_trace_state *st, size_t size)
{
    RC_ASSERT(st->traced_blocks > 0 && st->current >= size);
    st->traced_blocks--;
    st->current -= size;
}

/* ---- recording ---------------------------------------------------------- */

/* Sets the trace of raw block `block`, in arena (NULL: a large block), to
 * (size, tb) (tb 0: untraced), replacing its old one; false if a pool
 * block's side table could not be had. */
static bool set_trace(rc_heap *heap, char *block, rc_arena *arena, size_t size, uint32_t tb)
{
    rc_trace_state *st = &heap->trace;
    if (!arena) {
        rc_large *h = (rc_large *)block - 1;
        if (h->trace_tb)
            count_out(st, h->trace_size);
        h->trace_size = tb ? size : 0;
        h->trace_tb = tb;
        if (tb)
            count_in(st, size);
        return true;
    }
    rc_pool *pool = rc_pool_of(arena, block);
    trace_word *side = tb ? side_of(heap, pool) : pool->side;
    if (!side)
        return tb == 0;
    size_t slot = slot_of(pool, block);
    trace_word old = side[slot];
    if (old)
        count_out(st, word_size(pool, old));
    side[slot] = tb ? word_of(pool, size, tb) : 0;
    if (tb)
        count_in(st, size);
    return true;
}

/* The traceback of the allocation being traced, for more than one frame;
 * 0 if it could not be had. */
static RC_NOINLINE uint32_t traceback_here(rc_heap *heap, unsigned nframes)
{
    const void *ips[RC_TRACE_MAX_FRAMES];
    size_t n = rc_trace_capture(heap, ips, nframes);
    return n ? rc_tb_intern(heap, ips, n) : 0;
}

/* set_trace's common case inline: a block with no trace yet in a pool that
 * has a side table. Other blocks go to set_trace with the block's arena, so
 * that the arena map is read once. */
static inline bool trace_new(rc_heap *heap, void *user, size_t size, uint32_t tb)
{
    char *block = rc_layout_raw(heap, user);
    rc_arena *arena = rc_arena_map_get(block);
    if (RC_LIKELY(arena != NULL)) {
        rc_pool *pool = rc_pool_of(arena, block);
        trace_word *side = pool->side;
        if (RC_LIKELY(side != NULL)) {
            trace_word *word = &side[slot_of(pool, block)];
            if (RC_LIKELY(*word == 0)) {
                *word = word_of(pool, size, tb);
                count_in(&heap->trace, size);
                return true;
            }
        }
    }
    return set_trace(heap, block, arena, size, tb);
}

/* Leaves a block untraced (forgetting a trace it had: a block resized in
 * place). Off the common path. */
static void set_untraced(rc_heap *heap, void *user, size_t size)
{
    char *block = rc_layout_raw(heap, user);
    set_trace(heap, block, rc_arena_map_get(block), size, 0);
}

void rc_trace_hook_alloc(rc_heap *heap, void *block, size_t size)
{
    rc_trace_state *st = &heap->trace;
    /* a callback run by a collection inside the allocation may have stopped
     * tracing or changed the limit since the allocator looked */
    if (RC_UNLIKELY(st->nframes == 0))
        return;
    if (RC_UNLIKELY(rc_trace_busy)) { /* the tracer's own allocation */
        set_untraced(heap, block, size);
        return;
    }
    rc_trace_busy = true;
    uint32_t tb;
    if (st->nframes == 1) { /* the call site alone: no unwinder, no buffer */
        const rc_frame_record *outer = rc_trace_outermost(__builtin_frame_address(0), NULL);
        tb = outer ? rc_tb_intern1(heap, outer->ret) : 0;
    } else {
        tb = traceback_here(heap, st->nframes);
    }
    if (RC_UNLIKELY(!tb || !trace_new(heap, block, size, tb))) {
        set_untraced(heap, block, size);
        st->untraced_blocks++;
    }
    rc_trace_busy = false;
}

void rc_trace_hook_free(rc_heap *heap, void *block, rc_pool *pool)
{
    rc_trace_state *st = &heap->trace;
    if (!pool) {
        rc_large *h = (rc_large *)block - 1;
        count_out(st, h->trace_size);
        h->trace_size = 0;
        h->trace_tb = 0;
        return;
    }
    trace_word *side = pool->side;
    size_t slot = slot_of(pool, block);
    if (slot >= rc_pool_capacity(pool->cls)) /* not a block: the allocator says so next */
        return;
    trace_word word = side[slot];
    if (word) {
        side[slot] = 0;
        count_out(st, word_size(pool, word));
    }
}

static inline bool side_is_clear(const rc_pool *pool)
{
    const trace_word *side = pool->side;
    for (size_t i = 0; i < rc_pool_capacity(pool->cls); i++)
        if (side[i])
            return false;
    return true;
}

void rc_trace_hook_pool_empty(rc_heap *heap, rc_pool *pool)
{
    RC_ASSERT(!RC_EXPENSIVE || side_is_clear(pool)); /* every block freed forgot its trace */
    side_release(heap, pool, true);
}

/* ---- every block ------------------------------------------------------------ */

typedef void (*pool_fn)(rc_heap *heap, rc_pool *pool, void *arg);

/* Calls fn for every pool of the heap that has a side table. */
static void for_each_side(rc_heap *heap, pool_fn fn, void *arg)
{
    for (rc_arena *a = heap->alloc.arenas; a; a = a->all_next)
        for (unsigned i = 0; i < RC_POOLS_PER_ARENA; i++)
            if (a->pools[i].side)
                fn(heap, &a->pools[i], arg);
}

static void forget_pool(rc_heap *heap, rc_pool *pool, void *arg)
{
    (void)arg;
    side_release(heap, pool, false);
}

void rc_trace_forget_blocks(rc_heap *heap)
{
    for_each_side(heap, forget_pool, NULL);
    spares_free(heap);
    for (rc_large *h = heap->alloc.large; h; h = h->next) {
        h->trace_size = 0;
        h->trace_tb = 0;
    }
    rc_trace_state *st = &heap->trace;
    st->current = st->peak = st->traced_blocks = 0;
}

typedef struct each_walk {
    void (*fn)(const void *block, size_t size, uint32_t traceback, void *arg);
    void *arg;
} each_walk;

static void each_in_pool(rc_heap *heap, rc_pool *pool, void *arg)
{
    each_walk *walk = arg;
    const trace_word *side = pool->side;
    size_t n = rc_pool_capacity(pool->cls), size = rc_pool_block_size(pool);
    for (size_t i = 0; i < n; i++)
        if (side[i])
            walk->fn(rc_layout_user(heap, pool->mem + i * size), word_size(pool, side[i]),
                     word_tb(side[i]), walk->arg);
}

void rc_trace_for_each(rc_heap *heap,
                       void (*fn)(const void *block, size_t size, uint32_t traceback, void *arg),
                       void *arg)
{
    if (heap->trace.nframes == 0)
        return;
    rc_alloc_drain_remote(heap);
    each_walk walk = {fn, arg};
    for_each_side(heap, each_in_pool, &walk);
    for (rc_large *h = heap->alloc.large; h; h = h->next)
        if (h->trace_tb)
            fn(rc_layout_user(heap, rc_large_block(h)), h->trace_size, h->trace_tb, arg);
}

const rc_trace_frames *rc_trace_block_traceback(rc_heap *heap, const void *user, size_t *size)
{
    uint32_t tb = 0;
    size_t bytes = 0;
    const char *block = rc_layout_raw(heap, user);
    rc_arena *arena = rc_arena_map_get(block);
    if (!arena) {
        const rc_large *h = (const rc_large *)block - 1;
        tb = h->trace_tb;
        bytes = h->trace_size;
    } else {
        const rc_pool *pool = rc_pool_of(arena, block);
        const trace_word *side = pool->side;
        size_t slot = slot_of(pool, block);
        if (side && slot < rc_pool_capacity(pool->cls) && side[slot]) {
            tb = word_tb(side[slot]);
            bytes = word_size(pool, side[slot]);
        }
    }
    if (size)
        *size = bytes;
    return rc_tb_record(&heap->trace.tracebacks, tb);
}

/* ---- validation ------------------------------------------------------------- */

typedef struct totals {
    size_t bytes, blocks, side_bytes;
    uint32_t max_tb;
    bool ok;
} totals;

static void add_word(totals *t, size_t size, uint32_t tb)
{
    t->bytes += size;
    t->blocks++;
    if (tb > t->max_tb)
        t->max_tb = tb;
    if (tb == 0)
        t->ok = false;
}

static void total_pool(rc_heap *heap, rc_pool *pool, void *arg)
{
    (void)heap;
    totals *t = arg;
    const trace_word *side = pool->side;
    size_t n = rc_pool_capacity(pool->cls), live = 0;
    t->side_bytes += side_bytes(pool);
    for (size_t i = 0; i < n; i++) {
        if (side[i]) {
            add_word(t, word_size(pool, side[i]), word_tb(side[i]));
            live++;
            t->ok &= i * rc_pool_block_size(pool) < pool->carved;
        }
    }
    t->ok &= pool->used > 0 && live <= pool->used;
}

/* The spare side tables: all zero, as many as counted. */
static void total_spares(const rc_trace_state *st, totals *t)
{
    for (unsigned cls = 0; cls < RC_SIZE_CLASSES; cls++) {
        size_t n = 0, words = rc_pool_capacity(cls);
        for (const trace_word *side = st->spare_sides[cls]; side; side = spare_next(side)) {
            for (size_t i = sizeof(void *) / sizeof *side; i < words; i++)
                t->ok &= side[i] == 0;
            n++;
        }
        t->ok &= n == st->spare_count[cls] && n <= RC_TRACE_SPARE_SIDES;
        t->side_bytes += n * words * sizeof(trace_word);
    }
}

bool rc_trace_validate(rc_heap *heap)
{
    rc_trace_state *st = &heap->trace;
    totals t = {.ok = true};
    for_each_side(heap, total_pool, &t);
    total_spares(st, &t);
    for (rc_large *h = heap->alloc.large; h; h = h->next)
        if (h->trace_tb)
            add_word(&t, h->trace_size, h->trace_tb);
    if (!t.ok || t.bytes != st->current || t.blocks != st->traced_blocks || st->peak < st->current)
        return false;
    if (t.max_tb > st->tracebacks.count || !rc_tb_validate(&st->tracebacks))
        return false;
    if (!rc_trace_rules_validate(&st->rules) ||
        st->overhead !=
            t.side_bytes + rc_tb_bytes(&st->tracebacks) + rc_trace_rules_bytes(&st->rules))
        return false;
    if ((st->nframes == 0) != !heap->alloc.traced)
        return false;
    return st->nframes != 0 || st->overhead == 0;
}
