/* test_trace_frames: where allocations are attributed. The first frame is
 * always the code that called reclaim (never reclaim's own), for raw
 * blocks, objects and what reclaim allocates on the caller's behalf, and for
 * allocations made by callbacks reclaim runs (a sort comparison, a
 * finalizer). With more frames, the frames are the caller's call chain in
 * order, by the checked walk, libunwind and the frame-pointer walk, cut at
 * the limit (test_trace_unwind compares the walks frame by frame).
 */
#include "trace_check.h"

#include <reclaim.h>

#include <signal.h>

static rc_heap *heap;

static void fresh_heap(unsigned nframes, rc_trace_unwind unwind)
{
    heap = rc_heap_new();
    CHECK(heap != NULL);
    rc_heap_use(heap);
    heap->trace.unwind = unwind;
    CHECK_EQ(rc_trace_start(nframes), 0);
}

static void drop_heap(void)
{
    CHECK(rc_trace_validate(heap));
    CHECK_EQ(rc_trace_untraced_blocks(), 0);
    rc_heap_use(NULL);
    rc_heap_destroy(heap);
    heap = NULL;
}

/* ---- a -> b -> c, c allocates ------------------------------------------ */

__attribute__((noinline)) void *chain_c(size_t size);
__attribute__((noinline)) void *chain_c(size_t size)
{
    void *p = rc_malloc(size);
    NO_TAIL_CALL();
    return p;
}

__attribute__((noinline)) void *chain_b(size_t size);
__attribute__((noinline)) void *chain_b(size_t size)
{
    void *p = chain_c(size);
    NO_TAIL_CALL();
    return p;
}

__attribute__((noinline)) void *chain_a(size_t size);
__attribute__((noinline)) void *chain_a(size_t size)
{
    void *p = chain_b(size);
    NO_TAIL_CALL();
    return p;
}

__attribute__((noinline)) void chain_driver(rc_trace_unwind unwind);
__attribute__((noinline)) void chain_driver(rc_trace_unwind unwind)
{
    fresh_heap(16, unwind);
    void *small = chain_a(40), *large = chain_a(4000);
    NO_TAIL_CALL();
    const void *blocks[2] = {small, large};
    for (int i = 0; i < 2; i++) {
        const rc_trace_frames *tb = rc_block_traceback(blocks[i]);
        CHECK(tb != NULL && tb->nframes >= 5);
        CHECK_FRAME(tb, 0, "chain_c");
        CHECK_FRAME(tb, 1, "chain_b");
        CHECK_FRAME(tb, 2, "chain_a");
        CHECK_FRAME(tb, 3, "chain_driver");
        CHECK_FRAME(tb, 4, "main");
    }
    /* the two calls from chain_driver differ in their last frames only */
    CHECK(rc_block_traceback(small) != rc_block_traceback(large));
    CHECK(rc_block_traceback(small)->ip[1] == rc_block_traceback(large)->ip[1]);
    rc_free(small);
    rc_free(large);

    /* the limit cuts the oldest frames */
    CHECK_EQ(rc_trace_start(2), 0);
    void *p = chain_a(8);
    NO_TAIL_CALL();
    const rc_trace_frames *tb = rc_block_traceback(p);
    CHECK(tb != NULL && tb->nframes == 2);
    CHECK_FRAME(tb, 0, "chain_c");
    CHECK_FRAME(tb, 1, "chain_b");
    rc_free(p);

    /* one frame: the call site only */
    CHECK_EQ(rc_trace_start(1), 0);
    p = chain_a(8);
    NO_TAIL_CALL();
    tb = rc_block_traceback(p);
    CHECK(tb != NULL && tb->nframes == 1);
    CHECK_FRAME(tb, 0, "chain_c");
    rc_free(p);
    drop_heap();
}

/* ---- objects and what reclaim allocates on the caller's behalf ---------- */

__attribute__((noinline)) void *make_tuple_of_strs(void);
__attribute__((noinline)) void *make_tuple_of_strs(void)
{
    void *a = rc_str_from("a string long enough to have its own buffer, perhaps");
    void *t = rc_tuple_pack(2, a, a);
    rc_decref(a);
    NO_TAIL_CALL();
    return t;
}

void test_objects_attributed(void);
void test_objects_attributed(void)
{
    fresh_heap(3, RC_TRACE_UNWIND_CHECKED);
    void *t = make_tuple_of_strs();
    CHECK_FRAME(rc_object_traceback(t), 0, "make_tuple_of_strs");
    CHECK_FRAME(rc_object_traceback(rc_tuple_get(t, 0)), 0, "make_tuple_of_strs");
    CHECK_FRAME(rc_object_traceback(t), 1, "test_objects_attributed");
    /* every traced block's first frame is outside reclaim */
    rc_decref(t);
    void *list = rc_list_new();
    for (int i = 0; i < 100; i++) {
        void *item = rc_int_new(100000 + i);
        rc_list_append(list, item);
        rc_decref(item);
    }
    CHECK_FRAME(rc_object_traceback(list), 0, "test_objects_attributed");
    CHECK_FRAME(rc_object_traceback(rc_list_get(list, 7)), 0, "test_objects_attributed");
    rc_decref(list);
    CHECK(rc_object_traceback(&heap) == NULL);
    CHECK_STR_CONTAINS(rc_last_error(), "not a reclaim object");
    void *raw = rc_malloc(8);
    CHECK(rc_object_traceback((char *)raw + 16) == NULL);
    CHECK(rc_block_traceback(raw) != NULL);
    rc_free(raw);
    drop_heap();
}

/* ---- callbacks ---------------------------------------------------------- */

static void *allocated_in_callback;

int compare_and_allocate(const void *a, const void *b, void *arg);
int compare_and_allocate(const void *a, const void *b, void *arg)
{
    (void)arg;
    if (!allocated_in_callback)
        allocated_in_callback = rc_malloc(24);
    int64_t x = rc_int_value(a), y = rc_int_value(b);
    return x < y ? -1 : x > y;
}

void finalize_and_allocate(void *self);
void finalize_and_allocate(void *self)
{
    (void)self;
    allocated_in_callback = rc_malloc(48);
    NO_TAIL_CALL();
}

static const rc_type finalized_type = {
    .name = "Finalized", .size = 8, .finalize = finalize_and_allocate};

void test_callbacks(void);
void test_callbacks(void)
{
    fresh_heap(16, RC_TRACE_UNWIND_CHECKED);
    void *list = rc_list_new();
    for (int i = 0; i < 10; i++) {
        void *item = rc_int_new(1000 - i);
        rc_list_append(list, item);
        rc_decref(item);
    }
    allocated_in_callback = NULL;
    CHECK_EQ(rc_list_sort(list, compare_and_allocate, NULL), 0);
    const rc_trace_frames *tb = rc_block_traceback(allocated_in_callback);
    CHECK_FRAME(tb, 0, "compare_and_allocate");
    /* further out: reclaim's sort, then this function */
    CHECK(tb && tb->nframes >= 3);
    bool found_caller = false;
    for (uint32_t i = 1; tb && i < tb->nframes; i++)
        found_caller |= strcmp(function_of(tb->ip[i]), "test_callbacks") == 0;
    CHECK(found_caller);
    for (uint32_t i = 0; !found_caller && tb && i < tb->nframes; i++)
        fprintf(stderr, "  frame %u: %p %s\n", i, tb->ip[i], function_of(tb->ip[i]));
    rc_free(allocated_in_callback);
    rc_decref(list);

    allocated_in_callback = NULL;
    rc_decref(rc_new(&finalized_type));
    CHECK_FRAME(rc_block_traceback(allocated_in_callback), 0, "finalize_and_allocate");
    rc_free(allocated_in_callback);
    drop_heap();
}

/* ---- the frame-pointer walk stays on the stack ----------------------------- */

/* A frame pointer that leads off the stack (a program built without frame
 * pointers leaves anything in the register) ends the walk there: rc_malloc
 * is called with rbp set to a wild value. */
#if defined(__x86_64__)
__attribute__((naked, noinline)) void *call_with_rbp(void *(*fn)(size_t), size_t size, void *rbp);
#define UNUSED __attribute__((unused))
__attribute__((naked, noinline)) void *call_with_rbp(UNUSED void *(*fn)(size_t), UNUSED size_t size,
                                                     UNUSED void *rbp)
{
    __asm__("push %rbp\n\t" /* the stack is 16-aligned again for the call */
            "mov %rdx, %rbp\n\t"
            "mov %rdi, %rax\n\t"
            "mov %rsi, %rdi\n\t"
            "call *%rax\n\t"
            "pop %rbp\n\t"
            "ret\n\t");
}

static void test_wild_frame_pointer(void)
{
    fresh_heap(8, RC_TRACE_UNWIND_FP);
    void *wild_heap = malloc(64);
    memset(wild_heap, 0x41, 64);
    void *wilds[] = {wild_heap, (void *)0x10, (void *)((uintptr_t)&wild_heap + 3), NULL};
    for (int i = 0; i < 4; i++) {
        void *p = call_with_rbp(rc_malloc, 32, wilds[i]);
        const rc_trace_frames *tb = rc_block_traceback(p);
        CHECK(tb && tb->nframes == 1); /* the wild frame pointer was not followed */
        CHECK_FRAME(tb, 0, "call_with_rbp");
        rc_free(p);
    }
    free(wild_heap);
    drop_heap();
}
#else
static void test_wild_frame_pointer(void) {}
#endif

/* ---- a signal handler on its own stack ---------------------------------------- */

static void *allocated_in_handler;

__attribute__((noinline)) void allocate_in_handler(int sig);
__attribute__((noinline)) void allocate_in_handler(int sig)
{
    (void)sig;
    allocated_in_handler = rc_malloc(40);
    NO_TAIL_CALL();
}

/* A handler run on an alternate signal stack (not the thread's stack): the
 * frame-pointer walk reads no record there, though the records lead on to
 * the interrupted code; the call site is still the handler. */
static void test_signal_stack(void)
{
    static char signal_stack[64 * 1024];
    fresh_heap(8, RC_TRACE_UNWIND_FP);
    stack_t ss = {.ss_sp = signal_stack, .ss_size = sizeof signal_stack}, old_ss;
    CHECK_EQ(sigaltstack(&ss, &old_ss), 0);
    struct sigaction sa = {.sa_handler = allocate_in_handler, .sa_flags = SA_ONSTACK}, old;
    sigemptyset(&sa.sa_mask);
    CHECK_EQ(sigaction(SIGUSR1, &sa, &old), 0);
    raise(SIGUSR1);
    sigaction(SIGUSR1, &old, NULL);
    sigaltstack(&old_ss, NULL);
    const rc_trace_frames *tb = rc_block_traceback(allocated_in_handler);
    CHECK(tb && tb->nframes == 1);
    CHECK_FRAME(tb, 0, "allocate_in_handler");
    rc_free(allocated_in_handler);
    drop_heap();
}

int main(void)
{
    chain_driver(RC_TRACE_UNWIND_CHECKED);
    chain_driver(RC_TRACE_UNWIND_LIBUNWIND);
    chain_driver(RC_TRACE_UNWIND_FP);
    test_objects_attributed();
    test_callbacks();
    test_wild_frame_pointer();
    test_signal_stack();
    return check_report();
}
