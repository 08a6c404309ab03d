/* introspect.c: looking at the collector's objects (get_objects,
 * get_referrers, get_referents), tracking by hand, freeze and unfreeze.
 *
 * The for_each functions first gather the objects, each held by a new
 * reference, and only then call the user's function: it may drop
 * references, allocate or collect without invalidating the walk. Every
 * gathered object is released at the end, whether or not fn stopped early.
 */
#include "gc_internal.h"
#include "../alloc/alloc.h"

typedef struct object_vec {
    rc_heap *heap;
    void **items;
    size_t len, cap;
    bool failed;
    int gen;            /* for gathering by generation: -1 all of 0..2 */
    const void *target; /* for gathering referrers */
    bool refers;        /* set by visit_find_target */
} object_vec;

static void vec_push(object_vec *vec, void *obj)
{
    if (vec->failed)
        return;
    if (vec->len == vec->cap) {
        size_t cap = vec->cap ? vec->cap * 2 : 64;
        void **grown = rc_sys_realloc(vec->heap, vec->items, cap * sizeof *grown);
        if (!grown) {
            vec->failed = true;
            return;
        }
        vec->items = grown;
        vec->cap = cap;
    }
    vec->items[vec->len++] = rc_incref(obj);
}

/* Calls fn on each gathered object until it says stop, then releases all. */
static int vec_deliver(object_vec *vec, rc_object_fn fn, void *arg)
{
    int status = vec->failed ? RC_ENOMEM : 0;
    bool go = !vec->failed;
    for (size_t i = 0; i < vec->len; i++) {
        if (go)
            go = fn(vec->items[i], arg);
        rc_decref(vec->items[i]);
    }
    rc_sys_free(vec->heap, vec->items);
    return status;
}

/* Unreachable objects of a running collection belong to no generation. */
static bool gen_matches(const rc_object_head *head, int gen)
{
    if ((head->gc_bits & (RC_TRACKED | RC_UNREACHABLE)) != RC_TRACKED)
        return false;
    unsigned g = rc_gen_of(head);
    return gen < 0 ? g != RC_GEN_PERMANENT : g == (unsigned)gen;
}

static void gather_generation(const rc_block_span *span, void *arg)
{
    object_vec *vec = arg;
    for (size_t i = 0; i < span->count; i++) {
        rc_object_head *head = (rc_object_head *)(span->first + i * span->stride);
        if (gen_matches(head, vec->gen))
            vec_push(vec, head + 1);
    }
}

int rc_gc_for_each_object(int generation, rc_object_fn fn, void *arg)
{
    if (generation < -1 || generation >= RC_GC_GENERATIONS)
        return rc_set_error(RC_EINVAL, "rc_gc_for_each_object: invalid generation %d", generation);
    rc_heap *heap = rc_gc_heap();
    if (!heap)
        return RC_ENOMEM;
    object_vec vec = {.heap = heap, .gen = generation};
    rc_alloc_object_spans(heap, gather_generation, &vec);
    return vec_deliver(&vec, fn, arg);
}

static void visit_find_target(void *slot, void *arg)
{
    object_vec *vec = arg;
    if (*(void **)slot == vec->target)
        vec->refers = true;
}

static void gather_referrers(const rc_block_span *span, void *arg)
{
    object_vec *vec = arg;
    for (size_t i = 0; i < span->count; i++) {
        rc_object_head *head = (rc_object_head *)(span->first + i * span->stride);
        if (!gen_matches(head, -1))
            continue;
        vec->refers = false;
        head->type->traverse(head + 1, visit_find_target, vec);
        if (vec->refers)
            vec_push(vec, head + 1);
    }
}

int rc_gc_for_each_referrer(const void *target, rc_object_fn fn, void *arg)
{
    rc_heap *heap = rc_gc_heap();
    if (!heap)
        return RC_ENOMEM;
    object_vec vec = {.heap = heap, .target = target};
    if (target)
        rc_alloc_object_spans(heap, gather_referrers, &vec);
    return vec_deliver(&vec, fn, arg);
}

static void visit_gather(void *slot, void *arg)
{
    void *child = *(void **)slot;
    if (child)
        vec_push(arg, child);
}

int rc_gc_for_each_referent(void *obj, rc_object_fn fn, void *arg)
{
    if (!obj)
        return rc_set_error(RC_EINVAL, "rc_gc_for_each_referent: obj is NULL");
    object_vec vec = {.heap = rc_object_heap(obj)};
    const rc_type *type = rc_type_of(obj);
    if (type->traverse)
        type->traverse(obj, visit_gather, &vec);
    return vec_deliver(&vec, fn, arg);
}

/* The heap obj belongs to, settled (obj may be its pending object). It need
 * not be the current heap: the answer about obj, and any tracking done to
 * it, must not leave it pending there. */
static rc_heap *settled_heap_of(const void *obj)
{
    rc_heap *heap = rc_object_heap(obj);
    rc_object_settle(heap);
    return heap;
}

bool rc_gc_is_tracked(const void *obj)
{
    if (!obj)
        return false;
    (void)settled_heap_of(obj);
    return (rc_head_of(obj)->gc_bits & RC_TRACKED) != 0;
}

bool rc_gc_is_finalized(const void *obj)
{
    return obj && (rc_head_of(obj)->gc_bits & RC_FINALIZED);
}

int rc_gc_track(void *obj)
{
    if (!obj)
        return rc_set_error(RC_EINVAL, "rc_gc_track: obj is NULL");
    rc_object_head *head = rc_head_of(obj);
    if (!head->type->traverse)
        return rc_set_error(RC_EINVAL, "rc_gc_track: type %s has no traverse",
                            head->type->name ? head->type->name : "?");
    if (head->refcnt == RC_IMMORTAL)
        return rc_set_error(RC_EINVAL, "rc_gc_track: an immortal object is never tracked");
    rc_heap *heap = settled_heap_of(obj);
    if (!(head->gc_bits & RC_TRACKED))
        rc_track_new(heap, obj);
    return 0;
}

void rc_gc_untrack(void *obj)
{
    if (!obj)
        return;
    rc_track_remove(settled_heap_of(obj), obj);
}

typedef struct move_walk {
    rc_heap *heap;
    unsigned from_min, from_max, to;
} move_walk;

static void move_generations(const rc_block_span *span, void *arg)
{
    move_walk *walk = arg;
    for (size_t i = 0; i < span->count; i++) {
        rc_object_head *head = (rc_object_head *)(span->first + i * span->stride);
        unsigned gen = rc_gen_of(head);
        if ((head->gc_bits & RC_TRACKED) && gen >= walk->from_min && gen <= walk->from_max)
            rc_track_move(walk->heap, head + 1, walk->to);
    }
}

void rc_gc_freeze(void)
{
    rc_heap *heap = rc_gc_heap();
    if (!heap)
        return;
    move_walk walk = {heap, 0, 2, RC_GEN_PERMANENT};
    rc_alloc_object_spans(heap, move_generations, &walk);
    heap->objects.count0 = 0;
    heap->gc.count[1] = heap->gc.count[2] = 0;
}

void rc_gc_unfreeze(void)
{
    rc_heap *heap = rc_gc_heap();
    if (!heap)
        return;
    move_walk walk = {heap, RC_GEN_PERMANENT, RC_GEN_PERMANENT, 2};
    rc_alloc_object_spans(heap, move_generations, &walk);
}

size_t rc_gc_freeze_count(void)
{
    rc_heap *heap = rc_gc_heap();
    return heap ? heap->objects.gen_count[RC_GEN_PERMANENT] : 0;
}

int rc_gc_validate(rc_heap *heap) { return rc_track_validate(heap); }
