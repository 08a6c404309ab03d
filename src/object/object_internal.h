/* object_internal.h: the object header's bits, as every layer sees them.
 *
 * gc_bits of a live object:
 *
 *    31            9 8   7   6   5   4   3   2   1 0
 *   [ index (23)    |UNR|SCN|MRK|LRG|WKR|FIN|TRK| gen ]
 *
 *   gen   generation 0..2, or 3 for the permanent one (frozen objects)
 *   TRK   tracked by the collector
 *   FIN   finalize has run (PEP 442: never again)
 *   WKR   weak references to the object exist (the weakref layer's table)
 *   LRG   the block takes the allocator's out-of-line paths: a large block
 *         (not in a pool), or any block of a debug heap, whose header is not
 *         at the start of its raw block (alloc/object_block.h)
 *   MRK, SCN, UNR   the collector's marks, clear outside a collection
 *   index position in young[gen] (generations 0 and 1); in generation 2,
 *         RC_INDEX_PENDING until a full collection examined it, then
 *         RC_INDEX_NONE; RC_INDEX_NONE in the permanent generation
 *
 * An untracked object has gen = 0, index = 0 and TRK clear.
 */
#ifndef RC_OBJECT_INTERNAL_H
#define RC_OBJECT_INTERNAL_H

#include "../runtime/heap.h"

#include <string.h>

enum {
    RC_GEN_MASK = 0x3u,
    RC_GEN_PERMANENT = 3u,
    RC_TRACKED = 1u << 2,
    RC_FINALIZED = 1u << 3,
    RC_WEAKREFS = 1u << 4,
    RC_LARGE = 1u << 5,
    RC_MARK = 1u << 6,
    RC_SCANNED = 1u << 7,
    RC_UNREACHABLE = 1u << 8,
    RC_INDEX_SHIFT = 9,
};
#define RC_INDEX_NONE    (UINT32_MAX >> RC_INDEX_SHIFT)
#define RC_INDEX_PENDING 0u /* generation 2: not yet examined by a full collection */
#define RC_GC_TEMP_BITS  (RC_MARK | RC_SCANNED | RC_UNREACHABLE)

/* Internal type flags, above the public RC_TYPE_* ones. RECYCLE: a dead
 * object's block goes to heap->hooks.recycle before it is freed. */
#define RC_TYPE_INTERNAL_WEAKREF (1u << 31)
#define RC_TYPE_INTERNAL_RECYCLE (1u << 30)

static inline unsigned rc_gen_of(const rc_object_head *head) { return head->gc_bits & RC_GEN_MASK; }

static inline uint32_t rc_index_of(const rc_object_head *head)
{
    return head->gc_bits >> RC_INDEX_SHIFT;
}

static inline void rc_set_gen_index(rc_object_head *head, unsigned gen, uint32_t index)
{
    head->gc_bits = (head->gc_bits & ~(RC_GEN_MASK | (RC_INDEX_NONE << RC_INDEX_SHIFT))) | gen |
                    (index << RC_INDEX_SHIFT);
}

/* The object a block holds, and back. */
static inline void *rc_block_object(void *block) { return (char *)block + sizeof(rc_object_head); }
static inline void *rc_object_block(void *obj) { return rc_head_of(obj); }

/* ---- lifecycle (object.c, release.c) ---- */
RC_INTERNAL int rc_object_init(rc_heap *heap);
RC_INTERNAL void rc_object_fini(rc_heap *heap);
/* Runs the destroy hook of every live object (rc_heap_destroy). */
RC_INTERNAL void rc_object_destroy_all(rc_heap *heap);
RC_INTERNAL bool rc_object_is_releasing(rc_heap *heap);
/* The heap owning obj (from its block's address). */
RC_INTERNAL rc_heap *rc_object_heap(const void *obj);
/* Frees obj, whose caller holds its only reference, whose references are
 * already released (the collector cleared them) and whose finalize has run
 * or does not exist: the death without the release stack or a second
 * traverse. */
RC_INTERNAL void rc_object_release_cleared(rc_heap *heap, void *obj);
/* The slot visitor that releases a reference: *slot = NULL, then drops the
 * old value. The collector clears cycles with it (arg NULL); the release
 * loop passes its own arg. Types that release their references their own
 * way at death or clearing (dict, set) recognise it. */
RC_INTERNAL void rc_release_visit(void *slot, void *arg);

/* ---- free lists of dead objects' blocks (recycle.c) ---- */
/* Makes a new object as rc_new_var(type, extra_bytes) would, from a block
 * of list (kept for objects of exactly that type and size): refcount 1,
 * zero-filled body, tracked if type has traverse, traced at the caller's
 * call site. NULL if the list is empty (no message). */
RC_INTERNAL void *rc_object_reuse(rc_heap *heap, rc_object_freelist *list, const rc_type *type,
                                  size_t extra_bytes);
/* For heap->hooks.recycle: keeps dead obj's block (of 16 + type->size +
 * extra_bytes bytes) on list, unless list holds limit blocks already or
 * the heap is a debug heap (whose blocks must go to the quarantine, so
 * that a use after free is caught). True if it was kept. */
RC_INTERNAL bool rc_object_recycle(rc_heap *heap, rc_object_freelist *list, uint32_t limit,
                                   void *obj, size_t extra_bytes);
/* Frees every block of list (a heap's teardown). */
RC_INTERNAL void rc_object_freelist_clear(rc_heap *heap, rc_object_freelist *list);

/* ---- tracking (track.c; the fast paths are inline below) ---- */
RC_INTERNAL void rc_track_place_slow(rc_heap *heap, void *obj, unsigned gen);
/* Moves a tracked object to generation gen (0..3), keeping the lists. */
RC_INTERNAL void rc_track_move(rc_heap *heap, void *obj, unsigned gen);
/* Takes young[gen] out of the heap for a collection: the heap's list is left
 * empty, gen_count[gen] drops by the objects taken, and each of them must
 * then be given a place with rc_track_place before user code runs. */
RC_INTERNAL void rc_track_detach_young(rc_heap *heap, unsigned gen, rc_track_list *out);
/* For a full collection: empties both young lists; every object of
 * generations 0 and 1 is then in no list and uncounted, and must be given
 * a place with rc_track_place before user code runs. */
RC_INTERNAL void rc_track_detach_all_young(rc_heap *heap);

/* Gives a detached list's buffer back for reuse, with the entries placed
 * in young[gen] since it was detached copied in, if it is larger than
 * young[gen]'s; else frees it. */
RC_INTERNAL void rc_track_recycle(rc_heap *heap, unsigned gen, rc_track_list *list);
RC_INTERNAL void rc_track_fini(rc_heap *heap);
/* Checks every invariant of object_state.h (expensive); 0 if they hold. */
RC_INTERNAL int rc_track_validate(rc_heap *heap);

/* rc_track_place's inline part: appends obj to young[gen] (gen 0 or 1)
 * and counts it, if the list has room; false (nothing done) if it is
 * full. */
static inline bool rc_track_append(rc_object_state *state, void *obj, unsigned gen)
{
    rc_track_list *list = &state->young[gen];
    if (RC_UNLIKELY(list->len >= list->cap))
        return false;
    uint32_t index = list->len++;
    list->items[index] = obj;
    rc_set_gen_index(rc_head_of(obj), gen, index);
    state->gen_count[gen]++;
    return true;
}

/* Puts a tracked object that is in no list (detached) in generation gen:
 * the young list's append inline, the rest (growth, compaction, generation
 * 2's pending mark) in rc_track_place_slow. */
static inline void rc_track_place(rc_heap *heap, void *obj, unsigned gen)
{
    if (RC_LIKELY(gen < 2) && rc_track_append(&heap->objects, obj, gen))
        return;
    rc_track_place_slow(heap, obj, gen);
}

/* Takes the entry at index out of list: the last entry shortens the list,
 * any other leaves a hole; a list of nothing but holes is emptied, so that
 * objects made and dropped between collections leave no holes to squeeze
 * out later. */
static inline void rc_track_list_drop(rc_track_list *list, uint32_t index)
{
    if (index + 1 == list->len) {
        list->len--;
    } else {
        list->items[index] = NULL;
        list->holes++;
    }
    if (RC_UNLIKELY(list->holes == list->len))
        list->len = list->holes = 0;
}

/* Takes obj out of its generation's list (leaving a hole) and count. */
static inline void rc_track_unplace(rc_heap *heap, void *obj)
{
    rc_object_state *state = &heap->objects;
    rc_object_head *head = rc_head_of(obj);
    unsigned gen = rc_gen_of(head);
    uint32_t index = rc_index_of(head);
    if (gen < 2 && index != RC_INDEX_NONE) {
        rc_track_list *list = &state->young[gen];
        RC_ASSERT(index < list->len && list->items[index] == obj);
        rc_track_list_drop(list, index);
    } else if (gen == 2 && index == RC_INDEX_PENDING) {
        RC_ASSERT(state->old_pending > 0);
        state->old_pending--;
    }
    RC_ASSERT(state->gen_count[gen] > 0);
    state->gen_count[gen]--;
}

/* Untracks obj, a young object taken out of its list by
 * rc_track_detach_young (so already uncounted). */
static inline void rc_track_forget_detached(void *obj)
{
    rc_object_head *head = rc_head_of(obj);
    head->gc_bits &= ~(RC_TRACKED | RC_GC_TEMP_BITS);
    rc_set_gen_index(head, 0, 0);
}

static inline void rc_track_new(rc_heap *heap, void *obj)
{
    rc_head_of(obj)->gc_bits |= RC_TRACKED;
    rc_track_place(heap, obj, 0);
}

/* Untracks obj if it is tracked; true if it was. */
static inline bool rc_track_remove(rc_heap *heap, void *obj)
{
    rc_object_head *head = rc_head_of(obj);
    if (!(head->gc_bits & RC_TRACKED))
        return false;
    rc_track_unplace(heap, obj);
    rc_track_forget_detached(obj);
    return true;
}

/* Bodies of up to this many bytes are zeroed by stores (below), and made
 * by rc_new's inline path (object.c). */
#define RC_SMALL_BODY_MAX 64

/* Zeroes the body_bytes of a new object's body. A body of 1..64 bytes in
 * a plain pool block (gc_bits 0: its block is a whole 16-byte multiple,
 * header included) is zeroed up to the next multiple of 16, inside the
 * block, by two or four 16-byte stores that may overlap (no branch on the
 * exact size; a variable-length memset becomes `rep stos`, slow to start);
 * anything else (an empty or larger body, a large block, any block of a
 * debug heap, whose guard bytes follow the body at once) by memset,
 * exactly. */
static inline void rc_object_zero_body(void *obj, size_t body_bytes, uint32_t gc_bits)
{
    if (RC_LIKELY(gc_bits == 0 && body_bytes - 1 < RC_SMALL_BODY_MAX)) {
        char *body = obj;
        size_t room = (body_bytes + 15) & ~(size_t)15; /* 16, 32, 48 or 64 */
        memset(body, 0, 16);
        memset(body + room - 16, 0, 16);
        if (room > 32) {
            memset(body + 16, 0, 16);
            memset(body + room - 32, 0, 16);
        }
        return;
    }
    memset(obj, 0, body_bytes);
}

/* ---- pending immutable objects and births (settle.c; the fast paths
 * inline) ---- */

/* Whether obj is or may become tracked (CPython's
 * _PyObject_GC_MAY_BE_TRACKED): its type has traverse, and it is tracked
 * or its type lets it be tracked later (not RC_TYPE_IMMUTABLE_REFS: an
 * untracked immutable object stays untracked, but for a pending one,
 * which is settled before anything could depend on the answer). */
static inline bool rc_object_may_be_tracked(const void *obj)
{
    const rc_object_head *head = rc_head_of(obj);
    const rc_type *type = head->type;
    if (!type->traverse)
        return false;
    return (head->gc_bits & RC_TRACKED) || !(type->flags & RC_TYPE_IMMUTABLE_REFS);
}

/* rc_object_refs_may_be_tracked for a type with its own traverse. */
RC_INTERNAL bool rc_object_refs_may_be_tracked_slow(void *obj, const rc_type *type);

/* Whether child (NULL: no reference), a reference held by an object of
 * type, may be tracked. */
static inline bool rc_ref_may_be_tracked(const void *child, const rc_type *type)
{
    if (!child)
        return false;
    const rc_object_head *head = rc_head_of(child);
    return head->type == type ? (head->gc_bits & RC_TRACKED) != 0 : rc_object_may_be_tracked(child);
}

/* Whether any reference obj, of an RC_TYPE_IMMUTABLE_REFS type, holds may
 * be tracked: if none may, obj can never be part of a cycle. The refs of
 * an rc_traverse_refs type are read inline, and a child of obj's own type
 * (a tuple of tuples, a tree's nodes) is answered by its TRACKED bit alone:
 * its type is known to have traverse and to be immutable. */
static inline bool rc_object_refs_may_be_tracked(void *obj, const rc_type *type)
{
    RC_ASSERT(type->flags & RC_TYPE_IMMUTABLE_REFS);
    if (RC_LIKELY(type->traverse == rc_traverse_refs)) {
        void *const *slot = obj;
        if (type->refs == 2) /* a pair, the commonest: no loop */
            return rc_ref_may_be_tracked(slot[0], type) || rc_ref_may_be_tracked(slot[1], type);
        for (void *const *end = slot + type->refs; slot < end; slot++) {
            if (rc_ref_may_be_tracked(*slot, type))
                return true;
        }
        return false;
    }
    return rc_object_refs_may_be_tracked_slow(obj, type);
}

/* Tracks a new (or newly settled) object in generation 0 and counts it in
 * count0, as every tracking outside a collection is counted. */
static inline void rc_object_track_counted(rc_heap *heap, void *obj)
{
    rc_track_new(heap, obj);
    heap->objects.count0++;
}

/* Settles the pending immutable object, if any: tracked and counted if a
 * reference it holds may be tracked (and it is not immortal), else left
 * untracked for good. Runs no collection. */
static inline void rc_object_settle(rc_heap *heap)
{
    rc_object_state *state = &heap->objects;
    void *obj = state->pending_immutable;
    if (!obj)
        return;
    state->pending_immutable = NULL;
    rc_object_head *head = rc_head_of(obj);
    if (head->refcnt != RC_IMMORTAL && rc_object_refs_may_be_tracked(obj, head->type))
        rc_object_track_counted(heap, obj);
}

/* rc_object_join_collector whole, out of line; returns obj. */
RC_INTERNAL void *rc_object_join_slow(rc_heap *heap, void *obj, const rc_type *type);

/* The automatic collection, run by a birth whose count passed collect_at:
 * a pending newborn (its references still to come) stays pending, unseen
 * by the collection and by any settling in the user code it runs. Returns
 * newborn, the object being born. */
RC_INTERNAL void *rc_object_collect_in_birth(rc_heap *heap, void *newborn);

/* The collector's part of the birth of obj, whose type has traverse: the
 * pending immutable object is settled, then obj is tracked in generation 0
 * and counted, or becomes the pending one if its type is
 * RC_TYPE_IMMUTABLE_REFS (its references come after), and the automatic
 * collection may run (which leaves a pending newborn pending). Returns obj.
 * Inline only while no call is needed (every call here is a tail call, so
 * rc_new's common path saves no register): the pending object, if any, is
 * of an rc_traverse_refs type and stays untracked, a mutable newborn finds
 * room in young[0], no collection is due. Anything else goes to
 * rc_object_join_slow, whole (a pending object settled here is no longer
 * pending there). */
static RC_ALWAYS_INLINE void *rc_object_join_collector(rc_heap *heap, void *obj,
                                                       const rc_type *type)
{
    rc_object_state *state = &heap->objects;
    void *pending = state->pending_immutable;
    if (pending) {
        const rc_type *pending_type = rc_head_of(pending)->type;
        if (RC_UNLIKELY(pending_type->traverse != rc_traverse_refs ||
                        rc_object_refs_may_be_tracked(pending, pending_type)))
            return rc_object_join_slow(heap, obj, type);
        state->pending_immutable = NULL; /* untracked for good */
    }
    if (type->flags & RC_TYPE_IMMUTABLE_REFS) {
        state->pending_immutable = obj;
    } else {
        if (RC_UNLIKELY(!rc_track_append(state, obj, 0)))
            return rc_object_join_slow(heap, obj, type);
        rc_head_of(obj)->gc_bits |= RC_TRACKED;
        state->count0++;
    }
    if (RC_UNLIKELY(state->count0 > state->collect_at))
        return rc_object_collect_in_birth(heap, obj);
    return obj;
}

/* The birth of an object in a block just taken for it (by rc_new or from a
 * free list): refcount 1, gc_bits as given (RC_LARGE or 0), the body's
 * body_bytes zeroed; if type has traverse, rc_object_join_collector.
 * Returns the object. */
static RC_ALWAYS_INLINE void *rc_object_birth(rc_heap *heap, rc_object_head *head,
                                              const rc_type *type, size_t body_bytes,
                                              uint32_t gc_bits)
{
    *head = (rc_object_head){.refcnt = 1, .gc_bits = gc_bits, .type = type};
    void *obj = head + 1;
    rc_object_zero_body(obj, body_bytes, gc_bits);
    if (type->traverse)
        return rc_object_join_collector(heap, obj, type);
    return obj;
}

#endif
