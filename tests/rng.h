/* rng.h: the seeded random numbers of the model tests (xorshift64*): one
 * stream per test program, set by assigning rng_state a nonzero seed, so a
 * failing run repeats exactly from its seed. */
#ifndef RC_TEST_RNG_H
#define RC_TEST_RNG_H

#include <stdint.h>

static uint64_t rng_state;

static inline uint64_t rng(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * UINT64_C(2685821657736338717);
}

/* Uniform enough in 0..n-1 for n far below 2^64. */
static inline int rnd(int n) { return (int)(rng() % (uint64_t)n); }

#endif
