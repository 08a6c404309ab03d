/* weak_table.c: object -> first weak reference, open addressing (see
 * weak_state.h for the invariants). Memory is the heap's bookkeeping
 * memory; a failed growth leaves the table as it was. */
#include "weak_internal.h"
#include "../alloc/alloc.h"

static size_t slot_of(const rc_weak_state *state, const void *obj)
{
    uint64_t h = ((uintptr_t)obj >> 4) * UINT64_C(0x9E3779B97F4A7C15);
    return (size_t)(h >> 32) & (state->cap - 1);
}

static rc_weak_slot *find(const rc_weak_state *state, const void *obj)
{
    if (!state->cap)
        return NULL;
    for (size_t i = slot_of(state, obj);; i = (i + 1) & (state->cap - 1)) {
        rc_weak_slot *slot = &state->table[i];
        if (slot->obj == obj)
            return slot;
        if (!slot->obj)
            return NULL;
    }
}

static void insert_fresh(rc_weak_state *state, void *obj, struct rc_weakref *head)
{
    size_t i = slot_of(state, obj);
    while (state->table[i].obj)
        i = (i + 1) & (state->cap - 1);
    state->table[i] = (rc_weak_slot){obj, head};
    state->len++;
}

static int grow(rc_heap *heap)
{
    rc_weak_state *state = &heap->weak;
    size_t cap = state->cap ? state->cap * 2 : 64;
    rc_weak_slot *table = rc_sys_calloc(heap, cap, sizeof *table);
    if (!table)
        return RC_ENOMEM;
    rc_weak_state old = *state;
    state->table = table;
    state->cap = cap;
    state->len = 0;
    for (size_t i = 0; i < old.cap; i++)
        if (old.table[i].obj)
            insert_fresh(state, old.table[i].obj, old.table[i].head);
    rc_sys_free(heap, old.table);
    return 0;
}

struct rc_weakref *rc_weak_table_get(rc_heap *heap, const void *obj)
{
    rc_weak_slot *slot = find(&heap->weak, obj);
    return slot ? slot->head : NULL;
}

int rc_weak_table_put(rc_heap *heap, void *obj, struct rc_weakref *head)
{
    rc_weak_state *state = &heap->weak;
    rc_weak_slot *slot = find(state, obj);
    if (slot) {
        slot->head = head;
        return 0;
    }
    if ((state->len + 1) * 4 > state->cap * 3 && grow(heap) != 0)
        return RC_ENOMEM;
    insert_fresh(state, obj, head);
    return 0;
}

/* Backward-shift deletion: moves later entries of the probe run into the
 * hole so that no lookup ever passes an empty slot it should not. */
static void delete_at(rc_weak_state *state, size_t hole)
{
    size_t mask = state->cap - 1;
    for (size_t i = (hole + 1) & mask; state->table[i].obj; i = (i + 1) & mask) {
        size_t home = slot_of(state, state->table[i].obj);
        if (((i - home) & mask) >= ((i - hole) & mask)) {
            state->table[hole] = state->table[i];
            hole = i;
        }
    }
    state->table[hole] = (rc_weak_slot){NULL, NULL};
    state->len--;
}

struct rc_weakref *rc_weak_table_take(rc_heap *heap, const void *obj)
{
    rc_weak_state *state = &heap->weak;
    rc_weak_slot *slot = find(state, obj);
    if (!slot)
        return NULL;
    struct rc_weakref *head = slot->head;
    delete_at(state, (size_t)(slot - state->table));
    return head;
}

void rc_weak_table_fini(rc_heap *heap)
{
    rc_sys_free(heap, heap->weak.table);
    heap->weak.table = NULL;
    heap->weak.cap = heap->weak.len = 0;
}
