/* thread.c: the calling thread's current heap and heap ownership.
 *
 * Invariants:
 *  - a heap is owned (heap->owner == token) by at most one thread, the one
 *    whose current heap it is; owner is 0 when no thread has it current;
 *  - rc_tls_heap != NULL implies rc_tls_heap->owner == this thread's token;
 *  - implicit_heap is the heap rc_heap_current made for this thread, if any;
 *    it is destroyed when the thread exits unless another thread owns it.
 * The thread token is the address of a thread-local byte: distinct for all
 * live threads, never 0.
 */
#include "heap.h"
#include "../alloc/alloc.h"

#include <pthread.h>
#include <stdlib.h>

static _Thread_local char token_anchor;
_Thread_local rc_heap *rc_tls_heap;
static _Thread_local rc_heap *implicit_heap;
static pthread_key_t exit_key;
static pthread_once_t exit_key_once = PTHREAD_ONCE_INIT;

uintptr_t rc_thread_token(void) { return (uintptr_t)&token_anchor; }

static void thread_exit(void *unused)
{
    (void)unused;
    rc_heap *implicit = implicit_heap;
    rc_heap_use(NULL);
    implicit_heap = NULL;
    if (!implicit)
        return;
    uintptr_t none = 0;
    /* Take it back to destroy it, unless another thread now owns it. */
    if (atomic_compare_exchange_strong(&implicit->owner, &none, rc_thread_token())) {
        rc_tls_heap = implicit;
        rc_heap_destroy(implicit);
    } else {
        implicit->implicit = false; /* theirs now */
    }
}

static void make_exit_key(void)
{
    if (pthread_key_create(&exit_key, thread_exit) != 0)
        rc_fatal("pthread_key_create failed: cannot watch thread exits");
}

/* Arranges for thread_exit to run when this thread ends. */
static void watch_thread_exit(void)
{
    pthread_once(&exit_key_once, make_exit_key);
    pthread_setspecific(exit_key, &token_anchor);
}

bool rc_heap_may_work_on(rc_heap *heap)
{
    uintptr_t owner = atomic_load_explicit(&heap->owner, memory_order_acquire);
    return owner == 0 || owner == rc_thread_token();
}

void rc_heap_check_access(rc_heap *heap, const char *what)
{
    if (!rc_heap_may_work_on(heap))
        rc_fatal("%s: heap %p is in use by another thread; a heap is used by one "
                 "thread at a time (hand it over with rc_heap_use)",
                 what, (void *)heap);
}

bool rc_heap_take(rc_heap *heap, const char *what)
{
    uintptr_t none = 0;
    if (atomic_compare_exchange_strong(&heap->owner, &none, rc_thread_token()))
        return true;
    rc_heap_check_access(heap, what); /* returns only if the caller owns it */
    return false;
}

void rc_heap_release(rc_heap *heap)
{
    atomic_store_explicit(&heap->owner, 0, memory_order_release);
}

rc_heap *rc_heap_use(rc_heap *heap)
{
    rc_heap *previous = rc_tls_heap;
    if (heap == previous)
        return previous;
    if (heap) {
        uintptr_t none = 0;
        if (!atomic_compare_exchange_strong(&heap->owner, &none, rc_thread_token()))
            rc_fatal("rc_heap_use: heap %p is in use by another thread; a heap is "
                     "used by one thread at a time",
                     (void *)heap);
        watch_thread_exit();
    }
    if (previous)
        atomic_store_explicit(&previous->owner, 0, memory_order_release);
    rc_tls_heap = heap;
    if (heap)
        rc_alloc_drain_remote(heap);
    return previous;
}

rc_heap *rc_heap_current(void)
{
    if (RC_LIKELY(rc_tls_heap != NULL))
        return rc_tls_heap;
    rc_heap *heap = implicit_heap;
    if (heap && atomic_load(&heap->owner) != 0) {
        heap->implicit = false; /* another thread took it: theirs now */
        heap = NULL;
    }
    if (!heap) {
        heap = rc_heap_new();
        if (!heap)
            return NULL;
        heap->implicit = true;
        implicit_heap = heap;
    }
    rc_heap_use(heap);
    return heap;
}

void rc_thread_forget_heap(rc_heap *heap)
{
    if (rc_tls_heap == heap)
        rc_tls_heap = NULL;
    if (implicit_heap == heap)
        implicit_heap = NULL;
    atomic_store(&heap->owner, 0);
}
