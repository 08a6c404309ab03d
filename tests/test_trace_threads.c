/* test_trace_threads: heaps traced in parallel. Two threads churn their own
 * heaps with tracing on (at 1 frame and at 8), each checking its figures
 * against a model of its live blocks after every step; then the blocks one
 * thread left are freed by another thread (the remote-free list) and are
 * forgotten once the owner takes its blocks back.
 */
#include "trace_check.h"

#include <reclaim.h>

#include <pthread.h>

enum { LIVE = 1000, STEPS = 100000 };

typedef struct worker {
    unsigned nframes;
    uint64_t seed;
    rc_heap *heap;
    void *live[LIVE];
    size_t sizes[LIVE];
    long failures;
} worker;

static uint64_t next_random(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *state = x;
}

__attribute__((noinline)) void *worker_alloc(size_t size);
__attribute__((noinline)) void *worker_alloc(size_t size)
{
    void *p = rc_malloc(size);
    NO_TAIL_CALL();
    return p;
}

static void *churn(void *arg)
{
    worker *w = arg;
    w->heap = rc_heap_new();
    rc_heap_use(w->heap);
    if (rc_trace_start(w->nframes) != 0)
        w->failures++;
    size_t model = 0, model_peak = 0;
    for (long i = 0; i < STEPS; i++) {
        size_t slot = next_random(&w->seed) % LIVE;
        if (w->live[slot]) {
            rc_free(w->live[slot]);
            model -= w->sizes[slot];
        }
        size_t size = next_random(&w->seed) % (i % 32 ? 512 : 4000);
        w->live[slot] = worker_alloc(size);
        w->sizes[slot] = size;
        model += size;
        if (model > model_peak)
            model_peak = model;
        size_t current, peak;
        rc_trace_get_memory(&current, &peak);
        w->failures += current != model || peak != model_peak;
    }
    for (size_t i = 0; i < LIVE; i += 7) {
        const rc_trace_frames *tb = rc_block_traceback(w->live[i]);
        w->failures +=
            !tb || tb->nframes > w->nframes || strcmp(function_of(tb->ip[0]), "worker_alloc") != 0;
    }
    w->failures += !rc_trace_validate(w->heap);
    rc_heap_use(NULL); /* the heap is no one's now; its blocks stay */
    return NULL;
}

int main(void)
{
    static worker workers[2] = {{.nframes = 1, .seed = 12345}, {.nframes = 8, .seed = 67890}};
    pthread_t threads[2];
    for (int i = 0; i < 2; i++)
        CHECK_EQ(pthread_create(&threads[i], NULL, churn, &workers[i]), 0);
    for (int i = 0; i < 2; i++)
        CHECK_EQ(pthread_join(threads[i], NULL), 0);
    for (int i = 0; i < 2; i++) {
        worker *w = &workers[i];
        CHECK_EQ(w->failures, 0);
        /* freed from this thread, which does not own the heap: pushed on its
         * remote-free list, forgotten when the heap takes them back */
        for (size_t j = 0; j < LIVE; j++)
            rc_free(w->live[j]);
        rc_heap_use(w->heap);
        CHECK_EQ(traced_current(), 0);
        CHECK(rc_trace_validate(w->heap));
        rc_heap_use(NULL);
        rc_heap_destroy(w->heap);
    }
    return check_report();
}
