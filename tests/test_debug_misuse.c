/* test_debug_misuse: each misuse the debug allocator detects, provoked in
 * a child process on a fresh debug heap, stops the process with its
 * message: buffer overflow and underflow (raw and object blocks, small and
 * large), double free, a pointer reclaim did not allocate, an object used
 * after it was freed (rc_decref, rc_refcount, rc_type_of, rc_incref, a
 * type's check), a write after free found when the block leaves the
 * quarantine or the heap is destroyed, and the wrong API (rc_free of an
 * object, rc_decref of a raw block, rc_realloc of an object). A fresh
 * heap numbers its blocks from 1, so messages name exact serials.
 */
#include "check.h"

#include "alloc/block_layout.h"

#include <pthread.h>
#include <reclaim.h>

static rc_heap *fresh_debug_heap(size_t quarantine_blocks)
{
    rc_heap_options options = {.struct_size = sizeof options,
                               .malloc_mode = RC_MALLOC_DEBUG,
                               .quarantine_blocks = quarantine_blocks};
    rc_heap *heap = rc_heap_new_with(&options);
    rc_heap_use(heap);
    return heap;
}

typedef struct Thing {
    long x, y;
} Thing;
static const rc_type thing_type = {.name = "Thing", .size = sizeof(Thing)};

/* ---- overflow and underflow ----------------------------------------- */

static void overflow_small(void)
{
    fresh_debug_heap(0);
    char *p = rc_malloc(24);
    p[24 + 3] = 0x41;
    rc_free(p);
}

static void overflow_large(void)
{
    fresh_debug_heap(0);
    rc_malloc(16);
    char *p = rc_malloc(5000);
    p[5000] = 0x42;
    rc_free(p);
}

static void overflow_record(void)
{
    fresh_debug_heap(0);
    char *p = rc_malloc(20);
    memset(p, 'x', 48); /* through the guard and into the size record */
    rc_free(p);
}

static void overflow_object(void)
{
    fresh_debug_heap(0);
    Thing *t = rc_new(&thing_type);
    ((char *)t)[sizeof(Thing)] = 0x43;
    rc_decref(t);
}

static void overflow_on_realloc(void)
{
    fresh_debug_heap(0);
    char *p = rc_malloc(10);
    p[12] = 0x44;
    rc_realloc(p, 100);
}

static void underflow_small(void)
{
    fresh_debug_heap(0);
    char *p = rc_malloc(24);
    p[-1] = 0x41;
    rc_free(p);
}

static void underflow_large(void)
{
    fresh_debug_heap(0);
    char *p = rc_malloc(3000);
    p[-9] = 0x45;
    rc_free(p);
}

static void underflow_object(void)
{
    fresh_debug_heap(0);
    Thing *t = rc_new(&thing_type);
    ((char *)t)[-(int)RC_HEADER_SIZE - 2] = 0x46; /* past the header */
    rc_decref(t);
}

/* ---- double free and pointers that are not ours ---------------------- */

static void double_free_small(void)
{
    fresh_debug_heap(0);
    void *p = rc_malloc(32);
    rc_free(p);
    rc_free(p);
}

static void double_free_large(void)
{
    fresh_debug_heap(0);
    void *p = rc_malloc(1000);
    rc_free(p);
    rc_free(p);
}

static void double_free_after_quarantine(void)
{
    fresh_debug_heap(1);
    void *p = rc_malloc(32), *q = rc_malloc(32);
    rc_free(p);
    rc_free(q); /* p leaves the quarantine for its pool */
    rc_free(p);
}

static void realloc_freed(void)
{
    fresh_debug_heap(0);
    void *p = rc_malloc(32);
    rc_free(p);
    rc_realloc(p, 64);
}

static void *free_twice_remotely(void *p)
{
    rc_free(p);
    rc_free(p);
    return NULL;
}

static void double_free_remote(void)
{
    fresh_debug_heap(0);
    void *p = rc_malloc(32);
    pthread_t thread;
    pthread_create(&thread, NULL, free_twice_remotely, p);
    pthread_join(thread, NULL);
}

static void free_stack_pointer(void)
{
    fresh_debug_heap(0);
    long local[4] = {0};
    rc_free(&local[2]);
}

static void free_interior_pointer(void)
{
    fresh_debug_heap(0);
    char *p = rc_malloc(48);
    rc_free(p + 8);
}

/* ---- objects used after they were freed ------------------------------- */

static Thing *freed_thing(void)
{
    fresh_debug_heap(0);
    Thing *t = rc_new(&thing_type);
    rc_decref(t);
    return t;
}

static void decref_freed(void) { rc_decref(freed_thing()); }
static void refcount_freed(void) { rc_refcount(freed_thing()); }
static void type_of_freed(void) { rc_type_of(freed_thing()); }
static void check_object_freed(void) { rc_check_object(freed_thing(), "rc_incref"); }
#ifdef RC_CHECKED_REFCOUNTS
static void incref_freed(void) { rc_incref(freed_thing()); }
#endif

static void list_len_freed(void)
{
    fresh_debug_heap(0);
    void *list = rc_list_new();
    rc_decref(list);
    rc_list_len(list);
}

static void large_object_freed(void)
{
    fresh_debug_heap(0);
    void *big = rc_new_var(&thing_type, 4000);
    rc_decref(big);
    rc_decref(big);
}

/* ---- writes after free ------------------------------------------------- */

static void write_after_free_evicted(void)
{
    fresh_debug_heap(2);
    char *p = rc_malloc(24), *q = rc_malloc(24), *r = rc_malloc(24);
    rc_free(p);
    p[5] = 1;
    rc_free(q);
    rc_free(r); /* p leaves the quarantine: checked */
}

static void write_after_free_destroyed(void)
{
    rc_heap *heap = fresh_debug_heap(0);
    char *p = rc_malloc(3000);
    rc_free(p);
    p[2999] = 7;
    rc_heap_use(NULL);
    rc_heap_destroy(heap); /* the quarantine is checked as it empties */
}

static void incref_after_free(void)
{
    rc_heap *heap = fresh_debug_heap(0);
    Thing *t = rc_new(&thing_type);
    rc_decref(t);
    rc_head_of(t)->refcnt++; /* what an unchecked rc_incref does */
    rc_heap_use(NULL);
    rc_heap_destroy(heap);
}

/* ---- the wrong API --------------------------------------------------- */

static void free_object(void)
{
    fresh_debug_heap(0);
    rc_free(rc_new(&thing_type));
}

static void free_object_block(void)
{
    fresh_debug_heap(0);
    rc_free(rc_head_of(rc_new(&thing_type)));
}

static void free_large_object(void)
{
    fresh_debug_heap(0);
    rc_free(rc_new_var(&thing_type, 2000));
}

static void realloc_object(void)
{
    fresh_debug_heap(0);
    rc_realloc(rc_new(&thing_type), 100);
}

static void decref_raw_block(void)
{
    fresh_debug_heap(0);
    rc_decref(rc_malloc(40));
}

static void decref_large_raw_block(void)
{
    fresh_debug_heap(0);
    rc_decref(rc_malloc(4000));
}

static void decref_raw_unchecked(void)
{
    /* without RC_CHECKED_REFCOUNTS: the raw block's zero word reads as a
     * dead count, and the dead-object path asks the debug allocator */
    fresh_debug_heap(0);
    rc_decref_slow(rc_malloc(40));
}

/* ---- the allocation's origin, from the tracer's hook ------------------ */

#include "runtime/heap.h"

static size_t say_origin(rc_heap *heap, const void *block, char *buf, size_t size)
{
    (void)heap;
    return (size_t)snprintf(buf, size, "block %p was allocated at here.c:42", block);
}

static void overflow_with_origin(void)
{
    rc_heap *heap = fresh_debug_heap(0);
    heap->hooks.describe_block = say_origin;
    char *p = rc_malloc(8);
    p[8] = 0;
    rc_free(p);
}

int main(void)
{
    CHECK_DEATH(overflow_small, "reclaim: fatal: debug allocator: buffer overflow after block 0x");
    CHECK_DEATH(overflow_small,
                " (24 bytes requested, serial 1): trailing guard byte 3 is 0x41, expected 0xFD");
    CHECK_DEATH(overflow_large, "buffer overflow after block");
    CHECK_DEATH(overflow_large,
                "(5000 bytes requested, serial 2): trailing guard byte 0 is 0x42, expected 0xFD");
    CHECK_DEATH(overflow_record, "buffer overflow after block");
    CHECK_DEATH(overflow_record, "the size record at the block's end was overwritten");
    CHECK_DEATH(overflow_object, "buffer overflow after object 0x");
    CHECK_DEATH(overflow_object, "(type Thing, 16-byte body, serial 1): trailing guard byte 0 is "
                                 "0x43, expected 0xFD");
    CHECK_DEATH(overflow_on_realloc,
                "(10 bytes requested, serial 1): trailing guard byte 2 is 0x44, expected 0xFD");
    CHECK_DEATH(underflow_small, "buffer underflow before block 0x");
    CHECK_DEATH(underflow_small,
                "(24 bytes requested, serial 1): leading guard byte 1 is 0x41, expected 0xFD");
    CHECK_DEATH(underflow_large, "(3000 bytes requested, serial 1): leading guard byte 9 is "
                                 "0x45, expected 0xFD");
    CHECK_DEATH(underflow_object,
                "buffer underflow before object 0x"); /* no type: the header is suspect */
    CHECK_DEATH(underflow_object,
                "(16-byte body, serial 1): leading guard byte 2 is 0x46, expected 0xFD");

    CHECK_DEATH(double_free_small, "debug allocator: rc_free(0x");
    CHECK_DEATH(double_free_small, "): block 0x");
    CHECK_DEATH(double_free_small, "(32 bytes requested, serial 1) was freed already (a double "
                                   "free, or a use after free)");
    CHECK_DEATH(double_free_large, "(1000 bytes requested, serial 1) was freed already");
    CHECK_DEATH(double_free_after_quarantine, "was freed already (a double free");
    CHECK_DEATH(realloc_freed, "rc_realloc(0x");
    CHECK_DEATH(realloc_freed, "(32 bytes requested, serial 1) was freed already");
    CHECK_DEATH(double_free_remote, "rc_free(0x");
    CHECK_DEATH(double_free_remote, "(32 bytes requested, serial 1) was freed already");
    CHECK_DEATH(free_stack_pointer, "pointer was not allocated by reclaim");
    CHECK_DEATH(free_interior_pointer, "debug allocator: rc_free(0x");
    CHECK_DEATH(free_interior_pointer,
                "pointer was not allocated by reclaim (it points 8 bytes into block 0x");
    CHECK_DEATH(free_interior_pointer, "(48 bytes requested, serial 1))");

    CHECK_DEATH(decref_freed, "debug allocator: rc_decref(0x");
    CHECK_DEATH(decref_freed, "object used after it was freed (it is already dead): object 0x");
    CHECK_DEATH(decref_freed, "(type Thing, 16-byte body, serial 1)");
    CHECK_DEATH(refcount_freed, "rc_refcount(0x");
    CHECK_DEATH(refcount_freed, "object used after it was freed");
    CHECK_DEATH(type_of_freed, "rc_type_of(0x");
    CHECK_DEATH(type_of_freed, "object used after it was freed");
    CHECK_DEATH(check_object_freed, "rc_incref(0x");
    CHECK_DEATH(check_object_freed, "object used after it was freed");
#ifdef RC_CHECKED_REFCOUNTS /* the inline rc_incref checks only then */
    CHECK_DEATH(incref_freed, "debug allocator: rc_incref(0x");
    CHECK_DEATH(incref_freed, "object used after it was freed (it is already dead)");
#endif
    CHECK_DEATH(list_len_freed, "object used after it was freed (it is already dead): object 0x");
    CHECK_DEATH(list_len_freed, "(type list, ");
    CHECK_DEATH(large_object_freed, "(type Thing, 4016-byte body, serial 1)");

    CHECK_DEATH(write_after_free_evicted, "debug allocator: block 0x");
    CHECK_DEATH(write_after_free_evicted, "(24 bytes requested, serial 1) was written after it "
                                          "was freed: byte 5 is 0x01, expected 0xDD");
    CHECK_DEATH(write_after_free_destroyed,
                "(3000 bytes requested, serial 1) was written after it was freed: byte 2999 is "
                "0x07, expected 0xDD");
    CHECK_DEATH(incref_after_free, "debug allocator: object 0x");
    CHECK_DEATH(incref_after_free, "(type Thing, 16-byte body, serial 1) was used after it was "
                                   "freed: byte -16 is 0x01, expected 0x00");

    CHECK_DEATH(free_object, "debug allocator: rc_free(0x");
    CHECK_DEATH(free_object,
                "object 0x"); /* "(type Thing, ...) was made by rc_new (type Thing): drop it" */
    CHECK_DEATH(free_object,
                "(type Thing, 16-byte body, serial 1) was made by rc_new (type Thing): drop it "
                "with rc_decref");
    CHECK_DEATH(free_object_block, "was made by rc_new (type Thing): drop it with rc_decref");
    CHECK_DEATH(free_large_object, "(type Thing, 2016-byte body, serial 1) was made by rc_new");
    CHECK_DEATH(realloc_object, "rc_realloc(0x");
    CHECK_DEATH(realloc_object, "was made by rc_new (type Thing): drop it with rc_decref");
    CHECK_DEATH(decref_raw_block, "debug allocator: rc_decref(0x");
    CHECK_DEATH(decref_raw_block, "): not a reclaim object: block 0x");
    CHECK_DEATH(decref_raw_block, "(40 bytes requested, serial 1) was allocated by rc_malloc, not "
                                  "by rc_new (free it with rc_free)");
    CHECK_DEATH(decref_large_raw_block,
                "(4000 bytes requested, serial 1) was allocated by rc_malloc, not by rc_new");
    CHECK_DEATH(decref_raw_unchecked,
                "(40 bytes requested, serial 1) was allocated by rc_malloc, not by rc_new");

    CHECK_DEATH(overflow_with_origin, "trailing guard byte 0 is 0x00, expected 0xFD\nblock 0x");
    CHECK_DEATH(overflow_with_origin, "was allocated at here.c:42");
    return check_report();
}
