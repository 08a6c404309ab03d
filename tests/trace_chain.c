/* trace_chain.c: the frames of test_trace_unwind's call chains (see
 * trace_chain.h). Compiled twice, with CHAIN_VARIANT fp or nofp and the
 * matching frame-pointer flag: every function here has two copies, whose
 * frames the unwind tables describe differently (CFA from rbp or from rsp).
 * Each function records its own name in the chain, makes the rest of the
 * chain, and does some work after it, so that its frame is really there
 * (no tail call).
 */
#include "trace_chain.h"

#ifndef CHAIN_VARIANT
#error "compiled by tests/CMakeLists.txt with CHAIN_VARIANT=fp or nofp"
#endif
#define CHAIN_CAT2(a, b) a##_##b
#define CHAIN_CAT(a, b)  CHAIN_CAT2(a, b)
#define CHAIN_FN(name)   CHAIN_CAT(name, CHAIN_VARIANT)
#if defined(__clang__)
#define CHAIN_FRAME __attribute__((noinline))
#else /* no specialized copies under other names either */
#define CHAIN_FRAME __attribute__((noinline, noclone))
#endif
#define NO_TAIL_CALL() __asm__ volatile("" ::: "memory")

static void (*const chain_fns[2][CHAIN_SHAPES])(chain *c) = {
    {chain_small_nofp, chain_big_nofp, chain_vla_nofp, chain_clobber_nofp},
    {chain_small_fp, chain_big_fp, chain_vla_fp, chain_clobber_fp},
};

static inline void enter(chain *c, const char *self)
{
    if (c->made < CHAIN_MAX_DEPTH)
        c->expected[c->made++] = self;
}

static inline void next(chain *c)
{
    if (c->depth <= 0) {
        c->leaf(c);
        return;
    }
    int d = --c->depth;
    chain_fns[(c->with_fp >> d) & 1][c->shape[d] % CHAIN_SHAPES](c);
}

CHAIN_FRAME void CHAIN_FN(chain_small)(chain *c)
{
    enter(c, __func__);
    uint64_t before = c->sink;
    next(c);
    c->sink = before + 1;
    NO_TAIL_CALL();
}

CHAIN_FRAME void CHAIN_FN(chain_big)(chain *c)
{
    enter(c, __func__);
    volatile char buf[3000];
    buf[(size_t)c->depth % sizeof buf] = 1;
    next(c);
    c->sink += buf[(size_t)c->made % sizeof buf];
    NO_TAIL_CALL();
}

/* alloca: the frame needs rbp as a frame pointer even without
 * -fno-omit-frame-pointer */
CHAIN_FRAME void CHAIN_FN(chain_vla)(chain *c)
{
    enter(c, __func__);
    size_t n = 16 + (size_t)c->depth * 8;
    volatile char *buf = __builtin_alloca(n);
    buf[n - 1] = 1;
    next(c);
    c->sink += buf[n - 1];
    NO_TAIL_CALL();
}

/* Without frame pointers rbp is an ordinary register: here it holds a value
 * that is no frame pointer while the rest of the chain runs (the function
 * saves the caller's rbp and restores it on return). A frame-pointer walk
 * is lost here; the unwind tables say where the caller's rbp is. */
CHAIN_FRAME void CHAIN_FN(chain_clobber)(chain *c)
{
    enter(c, __func__);
#ifdef CHAIN_NO_FP
    __asm__ volatile("mov %0, %%rbp" ::"r"((uintptr_t)0x5a5a5a5a5a5a5a58u) : "rbp");
#endif
    next(c);
    c->sink++;
    NO_TAIL_CALL();
}

#ifdef CHAIN_NO_FP
CHAIN_FRAME void chain_next(chain *c)
{
    enter(c, __func__);
    next(c);
    NO_TAIL_CALL();
}
#endif
