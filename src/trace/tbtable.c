/* tbtable.c: interned tracebacks.
 *
 * Each distinct sequence of frames is stored once, as an rc_trace_frames
 * record, and named by its index (1, 2, ... in order of first use), which is
 * what a block's trace holds. Records are bump-allocated in chunks that never
 * move (so rc_trace_frames pointers stay valid until the table is cleared);
 * chunks grow from 4 KiB to 64 KiB, so that a program with a few allocation
 * sites pays a few KiB.
 *
 * Tracing at one frame looks a call site up in a small direct-mapped cache
 * (site -> index) first: the few sites of a hot loop stay there. With more
 * frames, the traceback made right after the last one returned is tried
 * first: a loop that repeats a pattern of allocations meets its tracebacks
 * again in the order they were made, whose records lie one after the other
 * in memory, while the set's slots are read at random (binary-trees at 16
 * frames has some 2^17 tracebacks: the guess spares most of the set's cache
 * misses).
 *
 * Lookup is an open-addressing hash set with linear probing. A slot holds
 * the high 32 bits of the traceback's 64-bit hash and its index (0: empty);
 * the low bits of the hash pick the first slot, the high bits let a probe
 * skip other tracebacks without reading their records.
 *
 * Invariants (rc_tb_validate):
 *   records[i]->id == i for 1 <= i <= count, and no two records hold the
 *   same frames;
 *   every record's index is in exactly one slot, reached from the slot its
 *   hash picks through non-empty slots only;
 *   count <= (mask + 1) / 2 (the table is at most half full);
 *   last <= count.
 */
#include "trace_core.h"

#include <string.h>

#define TB_MIN_SLOTS   64u
#define TB_CHUNK_FIRST 4096u
#define TB_CHUNK_MAX   65536u

typedef struct rc_tb_chunk {
    struct rc_tb_chunk *next;
    size_t size; /* bytes of the whole chunk */
    _Alignas(16) char data[];
} rc_tb_chunk;

/* ---- hashing ------------------------------------------------------------ */

/* Each frame is multiplied on its own (the products do not wait on one
 * another) and folded in by a rotate and xor, so that 16 frames cost a
 * chain of 32 cheap steps, not of 16 multiplies; a final mix spreads it. */
static inline uint64_t hash_frames(const void *const *ips, size_t n)
{
    uint64_t h = 0x9e3779b97f4a7c15u ^ n;
    for (size_t i = 0; i < n; i++) {
        uint64_t x = (uint64_t)(uintptr_t)ips[i] * 0xff51afd7ed558ccdu;
        h = ((h << 23) | (h >> 41)) ^ x;
    }
    h ^= h >> 32;
    h *= 0xc4ceb9fe1a85ec53u;
    h ^= h >> 29;
    return h | ((uint64_t)1 << 63); /* the high half (tag) is never 0 */
}

static inline bool same_frames(const rc_trace_frames *record, const void *const *ips, size_t n)
{
    if (record->nframes != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (record->ip[i] != ips[i])
            return false;
    return true;
}

static uint32_t slot_index(uint64_t slot) { return (uint32_t)slot; }

/* The high half of a hash, as a slot holds it. */
static uint64_t tag_of(uint64_t hash) { return hash & 0xffffffff00000000u; }

/* ---- storage ------------------------------------------------------------- */

static size_t record_bytes(size_t n)
{
    return (sizeof(rc_trace_frames) + n * sizeof(void *) + 15) & ~(size_t)15;
}

/* Room for a record of `bytes` bytes, from the newest chunk or a new one. */
static void *record_space(rc_heap *heap, size_t bytes)
{
    rc_tb_table *t = &heap->trace.tracebacks;
    if ((size_t)(t->bump_end - t->bump) < bytes) {
        size_t size = t->chunks ? t->chunks->size * 2 : TB_CHUNK_FIRST;
        if (size > TB_CHUNK_MAX)
            size = TB_CHUNK_MAX;
        rc_tb_chunk *chunk = rc_trace_mem_alloc(heap, size, false);
        if (!chunk)
            return NULL;
        chunk->next = t->chunks;
        chunk->size = size;
        t->chunks = chunk;
        t->bump = chunk->data;
        t->bump_end = (char *)chunk + size;
    }
    void *p = t->bump;
    t->bump += bytes;
    return p;
}

/* Makes room for one more index in records[]. */
static bool records_reserve(rc_heap *heap)
{
    rc_tb_table *t = &heap->trace.tracebacks;
    if (t->count >= RC_TRACE_MAX_TRACEBACKS) {
        rc_set_error(RC_ENOMEM, "out of memory: more than %u distinct tracebacks",
                     RC_TRACE_MAX_TRACEBACKS);
        return false;
    }
    if (t->count + 1 < t->records_cap)
        return true;
    uint32_t cap = t->records_cap ? t->records_cap * 2 : 64;
    rc_trace_frames **records = rc_trace_mem_realloc(
        heap, t->records, t->records_cap * sizeof *records, cap * sizeof *records);
    if (!records)
        return false;
    t->records = records;
    t->records_cap = cap;
    return true;
}

/* ---- the hash set -------------------------------------------------------- */

static void slots_insert(uint64_t *slots, uint32_t mask, uint64_t hash, uint32_t index)
{
    uint32_t i = (uint32_t)hash & mask;
    while (slots[i] != 0)
        i = (i + 1) & mask;
    slots[i] = tag_of(hash) | index;
}

/* Doubles the slot array (or makes the first), rehashing every record. */
static bool slots_grow(rc_heap *heap)
{
    rc_tb_table *t = &heap->trace.tracebacks;
    uint32_t old_n = t->mask ? t->mask + 1 : 0;
    uint32_t n = old_n ? old_n * 2 : TB_MIN_SLOTS;
    uint64_t *slots = rc_trace_mem_alloc(heap, (size_t)n * sizeof *slots, true);
    if (!slots)
        return false;
    for (uint32_t i = 1; i <= t->count; i++) {
        const rc_trace_frames *r = t->records[i];
        slots_insert(slots, n - 1, hash_frames(r->ip, r->nframes), i);
    }
    rc_trace_mem_free(heap, t->slots, (size_t)old_n * sizeof *slots);
    t->slots = slots;
    t->mask = n - 1;
    return true;
}

static uint32_t add_record(rc_heap *heap, const void *const *ips, size_t n, uint64_t hash)
{
    rc_tb_table *t = &heap->trace.tracebacks;
    if ((t->count + 1 > (t->mask + 1) / 2 && !slots_grow(heap)) || !records_reserve(heap))
        return 0;
    rc_trace_frames *r = record_space(heap, record_bytes(n));
    if (!r)
        return 0;
    uint32_t index = t->count + 1;
    r->nframes = (uint32_t)n;
    r->id = index;
    memcpy(r->ip, ips, n * sizeof *ips);
    t->records[index] = r;
    t->count = index;
    slots_insert(t->slots, t->mask, hash, index);
    return index;
}

static inline uint32_t intern(rc_heap *heap, const void *const *ips, size_t n)
{
    rc_tb_table *t = &heap->trace.tracebacks;
    uint64_t hash = hash_frames(ips, n);
    if (t->mask) {
        for (uint32_t i = (uint32_t)hash & t->mask;; i = (i + 1) & t->mask) {
            uint64_t slot = t->slots[i];
            if (slot == 0)
                break;
            if (tag_of(slot) == tag_of(hash) && same_frames(t->records[slot_index(slot)], ips, n))
                return slot_index(slot);
        }
    }
    return add_record(heap, ips, n, hash);
}

uint32_t rc_tb_intern(rc_heap *heap, const void *const *ips, size_t n)
{
    rc_tb_table *t = &heap->trace.tracebacks;
    uint32_t guess = t->last + 1; /* the one made after the last one given */
    if (guess <= t->count && same_frames(t->records[guess], ips, n)) {
        t->last = guess;
        return guess;
    }
    uint32_t index = intern(heap, ips, n);
    t->last = index;
    return index;
}

/* The one-frame case (the hot path of tracing at 1 frame) when the site
 * cache missed: the set, specialized, then the cache. */
uint32_t rc_tb_intern1_slow(rc_heap *heap, const void *ip)
{
    uint32_t index = intern(heap, &ip, 1);
    if (index)
        *rc_tb_site_of(&heap->trace.tracebacks, ip) = (rc_tb_site){ip, index};
    return index;
}

void rc_tb_clear(rc_heap *heap)
{
    rc_tb_table *t = &heap->trace.tracebacks;
    rc_trace_mem_free(heap, t->slots, t->mask ? ((size_t)t->mask + 1) * sizeof *t->slots : 0);
    rc_trace_mem_free(heap, t->records, t->records_cap * sizeof *t->records);
    while (t->chunks) {
        rc_tb_chunk *next = t->chunks->next;
        rc_trace_mem_free(heap, t->chunks, t->chunks->size);
        t->chunks = next;
    }
    memset(t, 0, sizeof *t);
}

size_t rc_tb_bytes(const rc_tb_table *t)
{
    size_t bytes = t->records_cap * sizeof *t->records;
    if (t->mask)
        bytes += ((size_t)t->mask + 1) * sizeof *t->slots;
    for (const rc_tb_chunk *c = t->chunks; c; c = c->next)
        bytes += c->size;
    return bytes;
}

/* ---- validation ------------------------------------------------------------ */

/* The probe for r's frames, from the slot their hash picks, meets r (under
 * r's tag) before any other record with the same frames and before an empty
 * slot: r is reachable and interned once. */
static bool found_once(const rc_tb_table *t, const rc_trace_frames *r)
{
    uint64_t hash = hash_frames(r->ip, r->nframes);
    for (uint32_t i = (uint32_t)hash & t->mask;; i = (i + 1) & t->mask) {
        uint64_t slot = t->slots[i];
        if (slot == 0)
            return false;
        if (slot_index(slot) - 1 >= t->count)
            return false;
        const rc_trace_frames *other = t->records[slot_index(slot)];
        if (other == r)
            return tag_of(slot) == tag_of(hash);
        if (same_frames(other, r->ip, r->nframes))
            return false;
    }
}

/* Every cached site names the one-frame record of that site. */
static bool sites_valid(const rc_tb_table *t)
{
    for (unsigned i = 0; i < RC_TB_SITE_CACHE; i++) {
        const rc_tb_site *site = &t->sites[i];
        if (!site->ip)
            continue;
        if (site->index - 1 >= t->count)
            return false;
        const rc_trace_frames *r = t->records[site->index];
        if (r->nframes != 1 || r->ip[0] != site->ip)
            return false;
    }
    return true;
}

bool rc_tb_validate(const rc_tb_table *t)
{
    if (!sites_valid(t) || t->last > t->count)
        return false;
    if (t->count == 0)
        return true;
    if (t->count > (t->mask + 1) / 2 || t->count >= t->records_cap)
        return false;
    size_t used = 0;
    for (uint32_t i = 0; i <= t->mask; i++)
        used += t->slots[i] != 0;
    if (used != t->count)
        return false;
    for (uint32_t i = 1; i <= t->count; i++) {
        const rc_trace_frames *r = t->records[i];
        if (!r || r->id != i || r->nframes == 0 || r->nframes > RC_TRACE_MAX_FRAMES ||
            !found_once(t, r))
            return false;
    }
    return true;
}
