/* test_trace_intern: interned tracebacks (tbtable.c) against a model.
 *
 * The model is a list of distinct tracebacks in order of first use; the
 * table must give each traceback the model's index (1, 2, ... by first use)
 * and keep its frames. The sequences are made to meet each way rc_tb_intern
 * can go: a pattern repeated (the guess that the next traceback is the one
 * made after the last one hits), random picks (it misses), the same
 * traceback twice in a row, tracebacks that differ only in their last frame
 * or are prefixes of one another (a guess with the right first frames is
 * still wrong), and interning that fails for lack of memory (nothing is
 * interned, the next success takes the next index).
 */
#include "trace_check.h"

#include <reclaim.h>

enum { POOL = 400, MAX_FRAMES = 16 };

typedef struct tb {
    size_t n;
    const void *ip[MAX_FRAMES];
} tb;

static tb pool[POOL];  /* the tracebacks the sequences pick from */
static tb model[POOL]; /* the distinct ones interned, by index - 1 */
static size_t model_count;
static rc_heap *heap;

static uint64_t rng = 0x2545f4914f6cdd1du;

static uint64_t next_random(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static bool same_tb(const tb *a, const tb *b)
{
    return a->n == b->n && memcmp(a->ip, b->ip, a->n * sizeof a->ip[0]) == 0;
}

/* The index the model gives x, adding it if new. */
static uint32_t model_index(const tb *x)
{
    for (size_t i = 0; i < model_count; i++)
        if (same_tb(&model[i], x))
            return (uint32_t)i + 1;
    model[model_count++] = *x;
    return (uint32_t)model_count;
}

/* Tracebacks from few return addresses, so that many share frames: every
 * fourth is a copy of an earlier one with its last frame changed, every
 * fourth after that a prefix of one. */
static void make_pool(void)
{
    for (size_t i = 0; i < POOL; i++) {
        tb *x = &pool[i];
        if (i >= 8 && i % 4 == 1) {
            *x = pool[next_random() % i];
            x->ip[x->n - 1] = (const void *)(uintptr_t)(0x7000 + 8 * (i % 64));
        } else if (i >= 8 && i % 4 == 2 && pool[i - 1].n > 1) {
            *x = pool[i - 1];
            x->n--;
        } else {
            x->n = 1 + next_random() % MAX_FRAMES;
            for (size_t k = 0; k < x->n; k++)
                x->ip[k] = (const void *)(uintptr_t)(0x5000 + 16 * (next_random() % 5));
        }
    }
}

/* Interns pool[i], checking the index and the record against the model;
 * false if the table failed (out of memory: the model is left alone). */
static bool intern_checked(size_t i)
{
    const tb *x = &pool[i];
    uint32_t index = rc_tb_intern(heap, x->ip, x->n);
    if (index == 0)
        return false;
    CHECK_EQ(index, model_index(x));
    const rc_trace_frames *r = rc_tb_record(&heap->trace.tracebacks, index);
    CHECK(r != NULL && r->id == index && r->nframes == x->n &&
          memcmp(r->ip, x->ip, x->n * sizeof x->ip[0]) == 0);
    return true;
}

static void test_sequences(void)
{
    size_t order[60];
    for (size_t i = 0; i < 60; i++)
        order[i] = next_random() % POOL;
    for (int round = 0; round < 20; round++) /* a pattern, again and again */
        for (size_t i = 0; i < 60; i++)
            intern_checked(order[i]);
    for (int i = 0; i < 3000; i++) /* at random */
        intern_checked(next_random() % POOL);
    for (size_t i = 0; i + 1 < POOL; i++) { /* neighbours: last frame changed, prefixes */
        intern_checked(i);
        intern_checked(i);
        intern_checked(i + 1);
    }
    CHECK(rc_tb_validate(&heap->trace.tracebacks));
    CHECK_EQ(rc_trace_traceback_count(heap), model_count);
}

/* Interning that fails interns nothing; the model goes on as if it had
 * not been asked. */
static void test_out_of_memory(void)
{
    rc_trace_clear();
    model_count = 0;
    size_t failed = 0;
    for (int i = 0; i < 4000; i++) {
        if (i % 500 == 0)
            rc_heap_inject_faults(heap, RC_FAULT_MALLOC, 0, i % 1000 == 0);
        if (!intern_checked(next_random() % POOL)) {
            failed++;
            CHECK_STR_CONTAINS(rc_last_error(), "out of memory");
        }
        if (i % 500 == 20)
            rc_heap_inject_faults(heap, 0, -1, false);
    }
    rc_heap_inject_faults(heap, 0, -1, false);
    CHECK(failed > 0);
    CHECK(rc_trace_validate(heap));
    CHECK_EQ(rc_trace_traceback_count(heap), model_count);
}

int main(void)
{
    heap = rc_heap_new();
    CHECK(heap != NULL);
    rc_heap_use(heap);
    CHECK_EQ(rc_trace_start(MAX_FRAMES), 0);
    make_pool();
    test_sequences();
    CHECK(rc_trace_validate(heap));
    test_out_of_memory();
    rc_trace_stop();
    CHECK_EQ(rc_trace_overhead(), 0);
    rc_heap_use(NULL);
    rc_heap_destroy(heap);
    return check_report();
}
