/* idset.c: objects by identity, linear probing with backward-shift
 * deletion (invariants in idset.h). */
#include "idset.h"

static size_t home_of(const rc_idset *set, const void *obj)
{
    uint64_t h = ((uintptr_t)obj >> 4) * UINT64_C(0x9E3779B97F4A7C15);
    return (size_t)(h >> 32) & (set->cap - 1);
}

/* The slot holding obj, or the empty slot ending its run. */
static size_t probe(const rc_idset *set, const void *obj)
{
    size_t i = home_of(set, obj);
    while (set->slots[i] && set->slots[i] != obj)
        i = (i + 1) & (set->cap - 1);
    return i;
}

/* Moves every entry into slots (cap of them, zeroed, cap > 2 * len). */
static void rehash_into(rc_idset *set, void **slots, size_t cap)
{
    rc_idset old = *set;
    *set = (rc_idset){slots, cap, 0};
    for (size_t i = 0; i < old.cap; i++) {
        if (old.slots[i]) {
            set->slots[probe(set, old.slots[i])] = old.slots[i];
            set->len++;
        }
    }
    rc_free(old.slots);
}

int rc_idset_reserve(rc_idset *set)
{
    /* re-checked after each allocation: it may run a collection, and the
     * finalizers it runs may add entries meanwhile */
    while ((set->len + 1) * 2 > set->cap) {
        size_t cap = set->cap ? set->cap * 2 : 8;
        void **slots = rc_calloc(cap, sizeof *slots);
        if (!slots)
            return RC_ENOMEM;
        if ((set->len + 1) * 2 > cap) {
            rc_free(slots);
            continue;
        }
        rehash_into(set, slots, cap);
    }
    return 0;
}

void rc_idset_add(rc_idset *set, void *obj)
{
    RC_ASSERT((set->len + 1) * 2 <= set->cap);
    size_t i = probe(set, obj);
    RC_ASSERT(set->slots[i] == NULL);
    set->slots[i] = obj;
    set->len++;
}

/* Closes the hole at i: moves back every later entry of the run whose home
 * slot does not lie cyclically in (i, j]. */
static void shift_back(rc_idset *set, size_t i)
{
    size_t mask = set->cap - 1;
    for (size_t j = (i + 1) & mask; set->slots[j]; j = (j + 1) & mask) {
        size_t home = home_of(set, set->slots[j]);
        bool stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
        if (!stays) {
            set->slots[i] = set->slots[j];
            set->slots[j] = NULL;
            i = j;
        }
    }
}

bool rc_idset_remove(rc_idset *set, const void *obj)
{
    if (!set->cap || !obj)
        return false;
    size_t i = probe(set, obj);
    if (set->slots[i] != obj)
        return false;
    set->slots[i] = NULL;
    set->len--;
    shift_back(set, i);
    return true;
}

void rc_idset_traverse(rc_idset *set, rc_visit_fn visit, void *arg)
{
    for (size_t i = 0; i < set->cap; i++) {
        if (set->slots[i])
            visit(&set->slots[i], arg);
    }
}

void rc_idset_free(rc_idset *set)
{
    rc_free(set->slots);
    *set = (rc_idset){NULL, 0, 0};
}
