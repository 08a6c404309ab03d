/* test_alloc_misuse: misuse that would corrupt memory stops the process
 * with a message naming the address and what went wrong.
 */
#include "check.h"

#include "alloc/pool.h"

#include <reclaim.h>

static void free_stack_pointer(void)
{
    long local[4] = {0};
    rc_free(&local[2]);
}

static void free_malloc_pointer(void)
{
    void *p = malloc(100);
    rc_free(p);
}

static void free_big_malloc_pointer(void)
{
    void *keep = rc_malloc(5000); /* so that the granule check must read */
    void *p = malloc(200000);
    (void)keep;
    rc_free(p);
}

static void free_wild_pointer(void) { rc_free((void *)(uintptr_t)0x1000); }

static void free_interior_pointer(void)
{
    char *p = rc_malloc(48);
    rc_free(p + 16);
}

static void double_free_small(void)
{
    void *p = rc_malloc(32);
    rc_free(p);
    rc_free(p);
}

static void double_free_small_later(void)
{
    void *p = rc_malloc(32), *q = rc_malloc(32);
    rc_free(p);
    rc_free(q);
    rc_free(p);
}

/* The block was its pool's only one: the first free gave the pool back
 * to its arena, and the second finds a pool holding no block. */
static void double_free_emptied_pool(void)
{
    void *p = rc_malloc(496);
    rc_free(p);
    rc_free(p);
}

static void double_free_large(void)
{
    void *keep = rc_malloc(3000);
    void *p = rc_malloc(1000);
    (void)keep;
    rc_free(p);
    rc_free(p);
}

static const rc_type thing_type = {.name = "Thing", .size = 16};

static void *make_object_block(size_t size)
{
    rc_object_head *head = rc_alloc_block(rc_heap_current(), size, RC_BLOCK_OBJECT);
    head->refcnt = 1;
    head->type = &thing_type;
    return head;
}

static void free_object_block(void) { rc_free(make_object_block(32)); }

static void free_object_body(void)
{
    char *block = make_object_block(32);
    rc_free(block + RC_HEADER_SIZE);
}

static void free_large_object(void) { rc_free(make_object_block(2000)); }

static void free_large_object_body(void)
{
    char *block = make_object_block(2000);
    rc_free(block + RC_HEADER_SIZE);
}

static void realloc_foreign(void)
{
    int x = 0;
    rc_realloc(&x, 10);
}

static void usable_size_foreign(void)
{
    int x = 0;
    rc_usable_size(&x);
}

int main(void)
{
    CHECK_DEATH(free_stack_pointer, "pointer was not allocated by reclaim");
    CHECK_DEATH(free_malloc_pointer, "pointer was not allocated by reclaim");
    CHECK_DEATH(free_big_malloc_pointer, "pointer was not allocated by reclaim");
    CHECK_DEATH(free_wild_pointer, "rc_free(0x1000): pointer was not allocated by reclaim");
    CHECK_DEATH(free_interior_pointer, "not allocated by reclaim");
    CHECK_DEATH(double_free_small, "double free");
    CHECK_DEATH(double_free_emptied_pool, rc_heap_current()->alloc.debug
                                              ? "double free" /* the debug allocator's words */
                                              : "double free of a 496-byte block");
#if RC_CHECKS >= 1 || RC_SANITIZE
    CHECK_DEATH(double_free_small_later, "double free");
#else
    (void)double_free_small_later;
#endif
    CHECK_DEATH(double_free_large, "double free");
    CHECK_DEATH(free_object_block, "drop it with rc_decref");
    CHECK_DEATH(free_object_block, "type Thing");
    CHECK_DEATH(free_object_body, "type Thing");
    CHECK_DEATH(free_large_object, "type Thing");
    CHECK_DEATH(free_large_object_body, "rc_decref");
    CHECK_DEATH(realloc_foreign, "rc_realloc");
    CHECK_DEATH(usable_size_foreign, "rc_usable_size");
    return check_report();
}
