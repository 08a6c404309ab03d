/* test_alloc_random: a seeded model test. Random rc_malloc, rc_calloc,
 * rc_realloc and rc_free of random sizes on a table of slots; every block
 * carries a fill pattern checked when it is resized or freed, and after
 * each phase the heap's statistics must match the model's count of live
 * blocks and bytes, and the heap must validate.
 *   test_alloc_random [operations [seed]]     (default 1000000, 1)
 */
#include "check.h"

#include "alloc/pool.h"

#include <reclaim.h>

enum { SLOTS = 4096, PHASES = 20 };

typedef struct slot {
    unsigned char *p;
    size_t size;
    unsigned char seed;
} slot;

static slot slots[SLOTS];
static uint64_t rng;

static uint64_t next_random(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static size_t random_size(void)
{
    uint64_t r = next_random();
    switch (r % 20) {
    case 0:
        return (size_t)(r >> 8) % 40000 + 513; /* large */
    case 1:
    case 2:
        return (size_t)(r >> 8) % 4096;
    case 3:
        return 0;
    default:
        return (size_t)(r >> 8) % 513;
    }
}

static void fill(slot *s)
{
    for (size_t i = 0; i < s->size; i++)
        s->p[i] = (unsigned char)(s->seed + i);
}

/* Checks the first n bytes (all of them if n is larger). */
static bool intact(const slot *s, size_t n)
{
    if (n > s->size)
        n = s->size;
    for (size_t i = 0; i < n; i++)
        if (s->p[i] != (unsigned char)(s->seed + i))
            return false;
    return true;
}

static long corrupt;

static void op_free(slot *s)
{
    corrupt += !intact(s, s->size);
    rc_free(s->p);
    s->p = NULL;
}

static void op_alloc(slot *s)
{
    s->size = random_size();
    s->seed = (unsigned char)next_random();
    bool zeroed = next_random() % 4 == 0;
    s->p = zeroed ? rc_calloc(1, s->size) : rc_malloc(s->size);
    CHECK(s->p != NULL);
    if (zeroed)
        for (size_t i = 0; i < s->size; i++)
            corrupt += s->p[i] != 0;
    fill(s);
}

static void op_realloc(slot *s)
{
    size_t size = random_size();
    unsigned char *p = rc_realloc(s->p, size);
    CHECK(p != NULL);
    s->p = p;
    corrupt += !intact(s, size);
    s->size = size;
    fill(s);
}

static size_t class_bytes(size_t size)
{
    return size <= RC_SMALL_MAX ? (size ? (size + 15) / 16 * 16 : 16) : 0;
}

static void check_model(void)
{
    size_t small = 0, small_bytes = 0, large = 0, large_bytes = 0;
    for (int i = 0; i < SLOTS; i++) {
        if (!slots[i].p)
            continue;
        if (slots[i].size <= RC_SMALL_MAX) {
            small++;
            small_bytes += class_bytes(slots[i].size);
        } else {
            large++;
            large_bytes += (slots[i].size + 15) / 16 * 16;
        }
    }
    rc_alloc_stats s = {.struct_size = sizeof s};
    CHECK_EQ(rc_heap_stats(NULL, &s), 0);
    size_t used = 0;
    for (int c = 0; c < RC_SIZE_CLASSES; c++)
        used += s.classes[c].blocks_used;
    CHECK_EQ(used, small);
    CHECK_EQ(s.small_bytes_in_use, small_bytes);
    CHECK_EQ(s.large_blocks, large);
    CHECK_EQ(s.large_bytes_in_use, large_bytes);
    CHECK(rc_alloc_validate(rc_heap_current()));
}

int main(int argc, char **argv)
{
    long ops = argc > 1 ? atol(argv[1]) : 1000000;
    rng = argc > 2 ? strtoull(argv[2], NULL, 0) : 1;
    rng = rng * 0x9E3779B97F4A7C15u + 0x632BE59BD9B4E019u;
    for (int phase = 0; phase < PHASES; phase++) {
        for (long i = 0; i < ops / PHASES; i++) {
            slot *s = &slots[next_random() % SLOTS];
            unsigned what = (unsigned)(next_random() % 8);
            if (!s->p)
                op_alloc(s);
            else if (what < 3)
                op_free(s);
            else if (what < 5)
                op_realloc(s);
            else {
                op_free(s);
                op_alloc(s);
            }
        }
        /* every other phase, drain most of the table: pools and arenas go */
        if (phase % 2)
            for (int i = 0; i < SLOTS; i++)
                if (slots[i].p && next_random() % 8)
                    op_free(&slots[i]);
        check_model();
    }
    CHECK_EQ(corrupt, 0);
    for (int i = 0; i < SLOTS; i++)
        if (slots[i].p)
            op_free(&slots[i]);
    check_model();
    rc_heap_destroy(rc_heap_current());
    return check_report();
}
