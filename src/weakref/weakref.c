/* weakref.c: weak references, and clearing them when referents die.
 *
 * Clearing (at a referent's death, or by the collector) first takes every
 * weak reference off the list and clears it, gathering those whose callback
 * should run into a chain, each held by a new reference; only then does it
 * run the chain. So callbacks see every weak reference to the object
 * already dead, and a callback that drops another weak reference of the
 * chain cannot free it before its own callback ran (CPython does the same).
 */
#include "weak_internal.h"

void rc_weak_traverse(void *self, rc_visit_fn visit, void *arg)
{
    (void)self, (void)visit, (void)arg;
}

static const rc_type weakref_type = {
    .name = "weakref",
    .size = sizeof(struct rc_weakref),
    .traverse = rc_weak_traverse,
    .flags = RC_TYPE_INTERNAL_WEAKREF,
};

int rc_weak_link(rc_heap *heap, struct rc_weakref *ref)
{
    void *obj = ref->referent;
    struct rc_weakref *head = rc_weak_table_get(heap, obj);
    if (ref->callback && head && !head->callback) {
        /* after the shared callback-less reference */
        ref->prev = head;
        ref->next = head->next;
        if (head->next)
            head->next->prev = ref;
        head->next = ref;
        return 0;
    }
    if (rc_weak_table_put(heap, obj, ref) != 0)
        return rc_set_error(RC_ENOMEM, "out of memory: cannot register a weak reference");
    ref->prev = NULL;
    ref->next = head;
    if (head)
        head->prev = ref;
    rc_head_of(obj)->gc_bits |= RC_WEAKREFS;
    return 0;
}

void rc_weak_unlink(rc_heap *heap, struct rc_weakref *ref)
{
    void *obj = ref->referent;
    if (!obj)
        return;
    if (ref->next)
        ref->next->prev = ref->prev;
    if (ref->prev) {
        ref->prev->next = ref->next;
    } else if (ref->next) {
        rc_weak_table_put(heap, obj, ref->next); /* replaces: cannot fail */
    } else {
        rc_weak_table_take(heap, obj);
        rc_head_of(obj)->gc_bits &= ~RC_WEAKREFS;
    }
    ref->prev = ref->next = NULL;
    ref->referent = NULL;
}

rc_weakref *rc_weakref_new(void *obj, rc_weakref_callback callback, void *arg)
{
    if (!obj || rc_is_immortal(obj)) {
        rc_set_error(RC_EINVAL, "rc_weakref_new: obj is %s",
                     obj ? "immortal (it can never die)" : "NULL");
        return NULL;
    }
    rc_heap *heap = rc_object_heap(obj);
    rc_heap_check_access(heap, "rc_weakref_new");
    struct rc_weakref *head = rc_weak_table_get(heap, obj);
    if (!callback && head && !head->callback && rc_type_of(head) == &weakref_type)
        return rc_incref(head);
    struct rc_weakref *ref = rc_heap_new_object(heap, &weakref_type, 0);
    if (!ref)
        return NULL;
    *ref = (struct rc_weakref){.referent = obj, .callback = callback, .arg = arg};
    if (rc_weak_link(heap, ref) != 0) {
        ref->referent = NULL;
        rc_decref(ref);
        return NULL;
    }
    return ref;
}

void *rc_weakref_get(rc_weakref *ref) { return ref ? rc_incref(ref->referent) : NULL; }

bool rc_weakref_alive(const rc_weakref *ref) { return ref && ref->referent; }

size_t rc_weakref_count(const void *obj)
{
    if (!obj || !(rc_head_of(obj)->gc_bits & RC_WEAKREFS))
        return 0;
    size_t count = 0;
    for (struct rc_weakref *ref = rc_weak_table_get(rc_object_heap(obj), obj); ref; ref = ref->next)
        count++;
    return count;
}

/* ---- clearing ---- */

typedef struct callback_chain {
    struct rc_weakref *first;
    struct rc_weakref **tail;
} callback_chain;

/* Takes obj's whole list off it, clearing each weak reference; those with a
 * callback for which wanted() holds join the chain. */
static void clear_list(rc_heap *heap, void *obj, callback_chain *chain,
                       bool (*wanted)(const struct rc_weakref *))
{
    struct rc_weakref *ref = rc_weak_table_take(heap, obj);
    rc_head_of(obj)->gc_bits &= ~RC_WEAKREFS;
    while (ref) {
        struct rc_weakref *next = ref->next;
        ref->prev = ref->next = NULL;
        ref->referent = NULL;
        if (ref->callback && wanted(ref)) {
            ref->pending_next = NULL;
            *chain->tail = rc_incref(ref);
            chain->tail = &ref->pending_next;
        }
        ref = next;
    }
}

/* Runs the callbacks of the chain; true if there was any. */
static bool run_chain(struct rc_weakref *ref)
{
    bool ran = ref != NULL;
    while (ref) {
        struct rc_weakref *next = ref->pending_next;
        rc_weakref_callback callback = ref->callback;
        ref->callback = NULL; /* a callback runs once */
        ref->pending_next = NULL;
        callback(ref, ref->arg);
        rc_decref(ref);
        ref = next;
    }
    return ran;
}

static bool always(const struct rc_weakref *ref)
{
    (void)ref;
    return true;
}

static bool reachable(const struct rc_weakref *ref)
{
    return !(rc_head_of(ref)->gc_bits & RC_UNREACHABLE);
}

static void clear_weakrefs(rc_heap *heap, void *obj)
{
    callback_chain chain = {NULL, &chain.first};
    clear_list(heap, obj, &chain, always);
    run_chain(chain.first);
}

static void weakref_dying(rc_heap *heap, void *obj) { rc_weak_unlink(heap, obj); }

static bool clear_weakrefs_unreachable(rc_heap *heap, void *const *objs, size_t n)
{
    callback_chain chain = {NULL, &chain.first};
    for (size_t i = 0; i < n; i++) {
        rc_object_head *head = rc_head_of(objs[i]);
        if (head->type->flags & RC_TYPE_INTERNAL_WEAKREF) {
            struct rc_weakref *ref = objs[i];
            rc_weak_unlink(heap, ref);
            ref->callback = NULL; /* garbage itself: its callback never runs */
        }
        if (head->gc_bits & RC_WEAKREFS)
            clear_list(heap, objs[i], &chain, reachable);
    }
    return run_chain(chain.first);
}

int rc_weak_init(rc_heap *heap)
{
    heap->hooks.clear_weakrefs = clear_weakrefs;
    heap->hooks.weakref_dying = weakref_dying;
    heap->hooks.clear_weakrefs_unreachable = clear_weakrefs_unreachable;
    return 0;
}

void rc_weak_fini(rc_heap *heap)
{
    rc_weak_table_fini(heap);
    heap->weak.registry = NULL;
}
