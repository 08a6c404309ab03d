/* snapshot_util.c: what the snapshot files share: memory from the system
 * allocator under the calling thread's heap's failure injection, geometric
 * growth of arrays, hashing, and the open-addressing index table.
 *
 * Table invariant: used <= capacity / 2, so every probe sequence reaches an
 * empty slot; slots are never removed (snapshots only grow).
 */
#include "snapshot_internal.h"
#include "../alloc/alloc.h"
#include "../runtime/heap.h"

#include <string.h>

void *rc_snap_alloc(size_t size) { return rc_sys_malloc(rc_thread_heap(), size); }

void *rc_snap_calloc(size_t count, size_t size)
{
    return rc_sys_calloc(rc_thread_heap(), count, size);
}

void rc_snap_free(void *p) { rc_sys_free(NULL, p); }

int rc_snap_reserve(void *array, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t grown = *cap < 16 ? 16 : *cap + *cap / 2;
    if (grown < need)
        grown = need;
    if (grown > SIZE_MAX / elem)
        return rc_set_error(RC_ENOMEM, "out of memory: a snapshot table of %zu entries", need);
    void *old; /* array points to a T *: copied, not cast, to respect aliasing */
    memcpy(&old, array, sizeof old);
    void *p = rc_sys_realloc(rc_thread_heap(), old, grown * elem);
    if (!p)
        return RC_ENOMEM;
    memcpy(array, &p, sizeof p);
    *cap = grown;
    return 0;
}

/* FNV-1a, then a final avalanche so that the low bits are usable. */
uint32_t rc_snap_hash_bytes(const void *data, size_t len, uint32_t seed)
{
    const unsigned char *p = data;
    uint32_t h = 2166136261u ^ seed;
    for (size_t i = 0; i < len; i++)
        h = (h ^ p[i]) * 16777619u;
    h ^= h >> 16;
    h *= 0x85ebca6bu;
    h ^= h >> 13;
    return h;
}

uint32_t rc_snap_hash_word(uint64_t word, uint32_t seed)
{
    uint64_t x = word ^ ((uint64_t)seed << 32 | seed);
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ull;
    x ^= x >> 33;
    return (uint32_t)x;
}

uint32_t rc_snap_table_find(const rc_snap_table *t, uint32_t hash, rc_snap_match_fn match,
                            const void *ctx, const void *key)
{
    if (t->capacity == 0)
        return RC_SNAP_NONE;
    size_t mask = t->capacity - 1;
    for (size_t i = hash & mask;; i = (i + 1) & mask) {
        uint64_t slot = t->slots[i];
        if (slot == 0)
            return RC_SNAP_NONE;
        uint32_t index = (uint32_t)slot - 1;
        if ((uint32_t)(slot >> 32) == hash && match(ctx, index, key))
            return index;
    }
}

static void place(uint64_t *slots, size_t mask, uint64_t slot)
{
    size_t i = (size_t)(slot >> 32) & mask;
    while (slots[i] != 0)
        i = (i + 1) & mask;
    slots[i] = slot;
}

static int grow(rc_snap_table *t)
{
    size_t capacity = t->capacity ? t->capacity * 2 : 64;
    uint64_t *slots = rc_snap_calloc(capacity, sizeof *slots);
    if (!slots)
        return RC_ENOMEM;
    for (size_t i = 0; i < t->capacity; i++)
        if (t->slots[i] != 0)
            place(slots, capacity - 1, t->slots[i]);
    rc_snap_free(t->slots);
    t->slots = slots;
    t->capacity = capacity;
    return 0;
}

int rc_snap_table_insert(rc_snap_table *t, uint32_t hash, uint32_t index)
{
    RC_ASSERT(index < UINT32_MAX);
    if ((t->used + 1) * 2 > t->capacity && grow(t) != 0)
        return RC_ENOMEM;
    place(t->slots, t->capacity - 1, (uint64_t)hash << 32 | ((uint64_t)index + 1));
    t->used++;
    return 0;
}

void rc_snap_table_free(rc_snap_table *t)
{
    rc_snap_free(t->slots);
    memset(t, 0, sizeof *t);
}
