/* object_state.h: the object layer's part of a heap.
 *
 * Tracking. Every tracked object is in exactly one generation (0, 1, 2 or
 * the permanent one, RC_GEN_PERMANENT), recorded in its header. Objects of
 * generations 0 and 1 are also in the list young[gen], at the index their
 * header records, so that a young collection touches only young objects;
 * older objects are found by scanning the object pools. Invariants:
 *   young[g].items[i] == obj  <=>  obj tracked, gen(obj) == g, index(obj) == i
 *   young[g].holes == number of NULL entries among items[0..len)
 *   gen_count[g] == number of tracked objects in generation g
 * except that while young_overflow is set, some young objects may carry
 * RC_INDEX_NONE (their list could not grow) and are found by scanning.
 *
 * old_pending counts the live objects of generation 2 that arrived there
 * since the last full collection examined it ("waiting to be examined");
 * they carry index 0 (RC_INDEX_PENDING), the examined ones RC_INDEX_NONE.
 * Deaths uncount them, so objects that die by reference counting soon
 * after promotion do not bring on full collections.
 *
 * count0 counts the objects that became tracked outside a collection (at
 * birth, or when a pending immutable object was settled tracked) minus the
 * deaths of tracked objects, since the last collection (CPython 3.15
 * counts tracked objects, not trackable ones): objects that are never
 * tracked bring on no collection. When it passes collect_at, the heap's
 * collect_due hook runs (collect_at is SIZE_MAX while automatic collection
 * is off).
 *
 * Release. Objects whose count reached zero while another object's
 * references were being released wait on the release stack: the top
 * RC_RELEASE_BUFFER of them in an array, any more linked through their own
 * headers (see release.c), so that freeing a deep structure needs neither C
 * stack nor memory.
 */
#ifndef RC_OBJECT_STATE_H
#define RC_OBJECT_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct rc_track_list {
    void **items; /* NULL entries are holes left by removed objects */
    uint32_t len;
    uint32_t cap;
    uint32_t holes;
} rc_track_list;

enum { RC_RELEASE_BUFFER = 256 };

/* An object on the release stack's array, with the arena its death found
 * (its pool block's, for the free), or NULL: look it up again. */
typedef struct rc_release_entry {
    void *obj;
    struct rc_arena *arena;
} rc_release_entry;

/* A free list of dead objects' blocks that an upper layer keeps for new
 * objects of one type and size (CPython's tuple free lists; recycle.c).
 * head is the last block kept, as an object pointer: a dead object whose
 * header reads refcnt 0, gc_bits 0 and type NULL (so the collector and the
 * heap's teardown pass it by) and whose body's first word links the next
 * one.
 * request is the bytes asked for each block (header included), set when
 * the first block is kept. */
typedef struct rc_object_freelist {
    void *head;
    uint32_t count;
    uint32_t request;
} rc_object_freelist;

typedef struct rc_object_state {
    rc_track_list young[2];
    size_t gen_count[4];
    size_t old_pending;
    size_t count0;
    size_t collect_at;
    /* The newest object of an RC_TYPE_IMMUTABLE_REFS type, untracked and
     * uncounted until rc_object_settle decides from its references whether
     * it is tracked (at the next birth of an object with traverse, or when
     * the program calls the collector); NULL once settled, or if it died
     * first. */
    void *pending_immutable;
    bool young_overflow;
    bool releasing; /* the release loop is running */
    /* The release stack (release.c): its top part in release_buffer[0..
     * release_top - release_buffer), the rest linked through the dead
     * objects' headers from release_spill (NULL: none). */
    rc_release_entry *release_top;
    void *release_spill;
    rc_release_entry release_buffer[RC_RELEASE_BUFFER];
} rc_object_state;

#endif
