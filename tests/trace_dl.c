/* trace_dl.c: a module that test_trace_unwind loads with dlopen while it
 * traces, after the checked walk's libdw session has reported the process's
 * modules: a frame in code the session must learn of (capture_cfi.c reports
 * the modules again when the dynamic loader's counts move). Built by
 * tests/CMakeLists.txt as a shared module, without frame pointers.
 */
#include "trace_chain.h"

void trace_dl_frame(chain *c, chain_leaf_fn leaf);

/* Calls leaf(c) from a frame of its own (a saved register, no tail call;
 * no local array, whose sanitizer red zones a frame-pointer walk could
 * read). */
__attribute__((noinline)) void trace_dl_frame(chain *c, chain_leaf_fn leaf)
{
    uint64_t before = c->sink;
    leaf(c);
    c->sink = before + 1;
    __asm__ volatile("" ::: "memory");
}
