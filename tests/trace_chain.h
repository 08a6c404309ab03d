/* trace_chain.h: call chains for test_trace_unwind. trace_chain.c is
 * compiled twice (tests/CMakeLists.txt): with -O2 -fomit-frame-pointer, its
 * functions named *_nofp, and with -O2 -fno-omit-frame-pointer, named *_fp.
 * A chain is a run of frames of those functions, each kind chosen by the
 * chain's pattern, ending in a leaf the test supplies; the test then
 * captures the stack and checks it frame by frame.
 */
#ifndef RC_TEST_TRACE_CHAIN_H
#define RC_TEST_TRACE_CHAIN_H

#include <stddef.h>
#include <stdint.h>

/* The shapes of frame a chain can have at each depth. */
enum chain_shape {
    CHAIN_SMALL,   /* a few words of locals */
    CHAIN_BIG,     /* a large local array: a large CFA offset */
    CHAIN_VLA,     /* a variable-length array: rbp becomes a frame pointer */
    CHAIN_CLOBBER, /* (without frame pointers) rbp holds a wild value at the call */
    CHAIN_SHAPES
};

/* The most frames a chain makes. */
#define CHAIN_MAX_DEPTH 48

typedef struct chain chain;
typedef void (*chain_leaf_fn)(chain *c);

struct chain {
    int depth;        /* frames still to make */
    uint64_t with_fp; /* bit d: the frame at depth d is compiled with frame pointers */
    uint8_t shape[CHAIN_MAX_DEPTH];        /* the shape at each depth */
    const char *expected[CHAIN_MAX_DEPTH]; /* filled as the chain is made: each frame's function */
    int made;                              /* frames made so far */
    chain_leaf_fn leaf;
    volatile uint64_t sink; /* the frames' work, so that it is not optimized away */
};

/* Makes the rest of c's frames, then calls c->leaf. */
void chain_next(chain *c);

#define CHAIN_DECLARE(variant)                                                                     \
    void chain_small_##variant(chain *c);                                                          \
    void chain_big_##variant(chain *c);                                                            \
    void chain_vla_##variant(chain *c);                                                            \
    void chain_clobber_##variant(chain *c);
CHAIN_DECLARE(fp)
CHAIN_DECLARE(nofp)

#endif
