/* track.c: which tracked objects are in which generation.
 *
 * Invariants (object_state.h): an object of generation 0 or 1 is at
 * young[gen].items[index] unless its index is RC_INDEX_NONE, which happens
 * only when a list could not grow (young_overflow is then set and the
 * collector scans pools instead of trusting the lists); gen_count[g] counts
 * the tracked objects of generation g; old_pending counts those of
 * generation 2 with RC_INDEX_PENDING.
 *
 * Removal leaves a hole (NULL): it writes only the list, never another
 * object's header, which a swap with the last entry would (a cache miss on
 * most deaths). Collections skip holes; an append that finds the list full
 * compacts it instead of growing it when at least half of it is holes, so a
 * list never holds more than twice its live entries plus one growth step.
 */
#include "object_internal.h"
#include "../alloc/alloc.h"

#include <stdlib.h>
#include <string.h>

enum { TRACK_LIST_MIN = 256 };

static bool list_grow(rc_heap *heap, rc_track_list *list)
{
    uint32_t cap = list->cap ? list->cap * 2 : TRACK_LIST_MIN;
    if (cap > RC_INDEX_NONE || cap <= list->cap)
        return false;
    void **items = rc_sys_realloc(heap, list->items, cap * sizeof *items);
    if (!items)
        return false;
    list->items = items;
    list->cap = cap;
    return true;
}

/* Squeezes the holes out of young[gen], renumbering the objects moved. */
static void list_compact(rc_track_list *list, unsigned gen)
{
    uint32_t kept = 0;
    for (uint32_t i = 0; i < list->len; i++) {
        void *obj = list->items[i];
        if (!obj)
            continue;
        if (kept != i) {
            list->items[kept] = obj;
            rc_set_gen_index(rc_head_of(obj), gen, kept);
        }
        kept++;
    }
    list->len = kept;
    list->holes = 0;
}

static bool list_make_room(rc_heap *heap, rc_track_list *list, unsigned gen)
{
    if (list->holes >= list->len / 2 && list->holes > 0) {
        list_compact(list, gen);
        return true;
    }
    return list_grow(heap, list);
}

/* rc_track_place when the list is full (or gen is 2 or permanent). */
void rc_track_place_slow(rc_heap *heap, void *obj, unsigned gen)
{
    rc_object_state *state = &heap->objects;
    uint32_t index = RC_INDEX_NONE;
    if (gen < 2) {
        rc_track_list *list = &state->young[gen];
        if (list->len < list->cap || list_make_room(heap, list, gen)) {
            index = list->len++;
            list->items[index] = obj;
        } else {
            state->young_overflow = true;
        }
    } else if (gen == 2) {
        index = RC_INDEX_PENDING;
        state->old_pending++;
    }
    rc_set_gen_index(rc_head_of(obj), gen, index);
    state->gen_count[gen]++;
}

void rc_track_move(rc_heap *heap, void *obj, unsigned gen)
{
    rc_track_unplace(heap, obj);
    rc_track_place(heap, obj, gen);
}

void rc_track_detach_young(rc_heap *heap, unsigned gen, rc_track_list *out)
{
    rc_object_state *state = &heap->objects;
    *out = state->young[gen];
    state->young[gen] = (rc_track_list){0};
    RC_ASSERT(state->gen_count[gen] == out->len - out->holes);
    state->gen_count[gen] -= out->len - out->holes;
}

void rc_track_detach_all_young(rc_heap *heap)
{
    rc_object_state *state = &heap->objects;
    for (unsigned gen = 0; gen < 2; gen++) {
        state->young[gen].len = state->young[gen].holes = 0;
        state->gen_count[gen] = 0;
    }
    state->young_overflow = false;
}

void rc_track_recycle(rc_heap *heap, unsigned gen, rc_track_list *list)
{
    rc_track_list *young = &heap->objects.young[gen];
    if (young->cap < list->cap) { /* the entries placed since keep their index */
        if (young->len > 0)
            memcpy(list->items, young->items, young->len * sizeof *young->items);
        rc_sys_free(heap, young->items);
        young->items = list->items;
        young->cap = list->cap;
    } else {
        rc_sys_free(heap, list->items);
    }
    *list = (rc_track_list){0};
}

void rc_track_fini(rc_heap *heap)
{
    for (unsigned gen = 0; gen < 2; gen++) {
        rc_sys_free(heap, heap->objects.young[gen].items);
        heap->objects.young[gen] = (rc_track_list){0};
    }
}

typedef struct census {
    size_t counted[4];
    size_t pending;
    size_t unindexed;
    int bad;
} census;

static void census_span(const rc_block_span *span, void *arg)
{
    census *c = arg;
    for (size_t i = 0; i < span->count; i++) {
        rc_object_head *head = (rc_object_head *)(span->first + i * span->stride);
        if (head->refcnt == 0 || !(head->gc_bits & RC_TRACKED))
            continue;
        unsigned gen = rc_gen_of(head);
        c->counted[gen]++;
        if (gen < 2 && rc_index_of(head) == RC_INDEX_NONE)
            c->unindexed++;
        if (gen == 2 && rc_index_of(head) == RC_INDEX_PENDING)
            c->pending++;
        if (head->gc_bits & RC_GC_TEMP_BITS)
            c->bad++;
    }
}

int rc_track_validate(rc_heap *heap)
{
    rc_object_state *state = &heap->objects;
    for (unsigned gen = 0; gen < 2; gen++) {
        rc_track_list *list = &state->young[gen];
        uint32_t holes = 0;
        for (uint32_t i = 0; i < list->len; i++) {
            if (!list->items[i]) {
                holes++;
                continue;
            }
            rc_object_head *head = rc_head_of(list->items[i]);
            if (!(head->gc_bits & RC_TRACKED) || rc_gen_of(head) != gen || rc_index_of(head) != i)
                return -1;
        }
        if (holes != list->holes)
            return -6;
    }
    census c = {{0}, 0, 0, 0};
    rc_alloc_object_spans(heap, census_span, &c);
    for (unsigned gen = 0; gen < 4; gen++)
        if (c.counted[gen] != state->gen_count[gen])
            return -2;
    if (c.unindexed && !state->young_overflow)
        return -3;
    if (c.pending != state->old_pending)
        return -5;
    const void *pending = state->pending_immutable;
    if (pending && (rc_head_of(pending)->gc_bits & RC_TRACKED || rc_head_of(pending)->refcnt == 0))
        return -7;
    return c.bad ? -4 : 0;
}
