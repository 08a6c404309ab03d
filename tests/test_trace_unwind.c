/* test_trace_unwind: the checked walk (the default capture past the call
 * site) gives exactly libunwind's frames, for code built with and without
 * frame pointers.
 *
 * Call chains of functions from trace_chain.c, compiled both ways and mixed
 * at random (frames with small and large locals, alloca, rbp holding a wild
 * value), end in a leaf that captures its stack once by each walk from the
 * same call. The checked walk must give libunwind's frames one for one, at
 * every limit up to the whole stack, without handing any frame of the chain
 * to libunwind; the frames must be the chain's functions in order
 * (dladdr); and the plain frame-pointer walk must be wrong somewhere (the
 * test can tell). Then: the layouts decided for each kind of frame, and
 * for addresses all along every loaded module (no fault, only documented
 * forms); a hand-written frame of the general kind; stacks through a signal
 * handler (the checked walk leaves those to libunwind, with the same
 * frames); a thread's stack; the tracer's own path (rc_malloc records the
 * same frames either way); the rules' memory (counted, validated, given
 * back), and a rule set that cannot get memory.
 */
#include "trace_check.h"
#include "trace_chain.h"

#include <reclaim.h>

#include <link.h>
#include <pthread.h>
#include <signal.h>

static rc_heap *heap;

enum { CHECKED, LIBUNWIND, FP, WALKS };
static const rc_trace_unwind walks[WALKS] = {RC_TRACE_UNWIND_CHECKED, RC_TRACE_UNWIND_LIBUNWIND,
                                             RC_TRACE_UNWIND_FP};

typedef struct capture {
    const void *ips[RC_TRACE_MAX_FRAMES];
    size_t n;
} capture;

static capture got[WALKS];
static size_t limit = RC_TRACE_MAX_FRAMES;

/* The leaf of every chain: captures the stack by each walk. */
__attribute__((noinline)) void chain_leaf(chain *c);
__attribute__((noinline)) void chain_leaf(chain *c)
{
    (void)c;
    for (int w = 0; w < WALKS; w++) {
        heap->trace.unwind = walks[w];
        got[w].n = rc_trace_capture(heap, got[w].ips, limit);
    }
    heap->trace.unwind = RC_TRACE_UNWIND_CHECKED;
    NO_TAIL_CALL();
}

/* The same frames, but for the first, which need only be in the same
 * function (the leaf's loop over the walks may be unrolled: one call site
 * per walk). */
static bool same_frames(const void *const *a, size_t na, const void *const *b, size_t nb)
{
    if (na != nb || na == 0 || strcmp(function_of(a[0]), function_of(b[0])) != 0)
        return false;
    for (size_t i = 1; i < na; i++)
        if (a[i] != b[i])
            return false;
    return true;
}

static bool same_capture(const capture *a, const capture *b)
{
    return same_frames(a->ips, a->n, b->ips, b->n);
}

static void print_captures(void)
{
    for (int w = 0; w < 2; w++) {
        fprintf(stderr, "  %s:\n", w == CHECKED ? "checked" : "libunwind");
        for (size_t i = 0; i < got[w].n; i++)
            fprintf(stderr, "    %2zu %p %s\n", i, got[w].ips[i], function_of(got[w].ips[i]));
    }
}

/* ---- random chains ---------------------------------------------------------- */

static uint64_t rng = 0x9e3779b97f4a7c15u;

static uint64_t next_random(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void random_chain(chain *c, int depth)
{
    memset(c, 0, sizeof *c);
    c->depth = depth;
    c->with_fp = next_random();
    for (int d = 0; d < depth; d++)
        c->shape[d] = (uint8_t)(next_random() % CHAIN_SHAPES);
    c->leaf = chain_leaf;
}

/* Runs c from here; the frames are then leaf, the chain's functions from
 * the innermost, chain_next, run_chain. */
__attribute__((noinline)) void run_chain(chain *c);
__attribute__((noinline)) void run_chain(chain *c)
{
    chain_next(c);
    NO_TAIL_CALL();
}

/* The frames the checked walk found are the chain's, in order, as far as
 * the limit lets them go: false (and a message) if one is not. */
static bool names_match(const chain *c)
{
    const capture *k = &got[CHECKED];
    size_t frames = (size_t)c->made + 2; /* leaf, the chain, run_chain */
    if (k->n < (limit < frames ? limit : frames)) {
        fprintf(stderr, "  %zu frames, expected at least %zu\n", k->n, frames);
        return false;
    }
    for (size_t i = 0; i < frames && i < k->n; i++) {
        const char *want = i == 0           ? "chain_leaf"
                           : i < frames - 1 ? c->expected[frames - 2 - i]
                                            : "run_chain";
        if (strcmp(function_of(k->ips[i]), want) != 0) {
            fprintf(stderr, "  frame %zu is in %s, expected %s\n", i, function_of(k->ips[i]), want);
            return false;
        }
    }
    return true;
}

/* Random chains at random limits: the checked walk is libunwind, frame for
 * frame, names the chain, and needs libunwind for no frame of it; the
 * frame-pointer walk goes wrong where a frame left rbp wild. */
static void test_random_chains(void)
{
    size_t fp_wrong = 0, full_stacks = 0, mismatches = 0, misnamed = 0;
    for (int i = 0; i < 600; i++) {
        chain c;
        random_chain(&c, 1 + (int)(next_random() % (CHAIN_MAX_DEPTH - 2)));
        bool whole = i % 3 == 0; /* to the end of the stack, through libc's frames */
        limit = whole ? RC_TRACE_MAX_FRAMES : 2 + next_random() % ((size_t)c.depth + 2);
        size_t fallbacks = heap->trace.unwind_fallbacks;
        run_chain(&c);
        if (!same_capture(&got[CHECKED], &got[LIBUNWIND]) && mismatches++ < 3)
            print_captures();
        if (!names_match(&c))
            misnamed++;
        /* within the chain (and run_chain), every frame had a rule */
        if (!whole)
            CHECK_EQ(heap->trace.unwind_fallbacks, fallbacks);
        full_stacks += whole;
        fp_wrong += !same_capture(&got[FP], &got[LIBUNWIND]);
    }
    CHECK_EQ(mismatches, 0);
    CHECK_EQ(misnamed, 0);
    CHECK(full_stacks > 0);
    CHECK(fp_wrong > 0); /* the comparison can tell a wrong walk */
    CHECK(rc_trace_validate(heap));
}

/* The rules the tables give for the chain functions' frames: rsp-based
 * without frame pointers (rbp saved where the function uses it), rbp-based
 * with them, or with alloca. */
static void test_rules(void)
{
    chain c;
    memset(&c, 0, sizeof c);
    c.depth = 4; /* from the outermost: clobber_nofp, small_nofp, small_fp, vla_nofp */
    c.with_fp = 1u << 1;
    c.shape[3] = CHAIN_CLOBBER;
    c.shape[2] = CHAIN_SMALL;
    c.shape[1] = CHAIN_SMALL;
    c.shape[0] = CHAIN_VLA;
    c.leaf = chain_leaf;
    limit = 8;
    run_chain(&c);
    CHECK(same_capture(&got[CHECKED], &got[LIBUNWIND]));
    CHECK(names_match(&c));
    rc_frame_layout vla = rc_trace_cfi_layout((uintptr_t)got[CHECKED].ips[1]);
    rc_frame_layout small_fp = rc_trace_cfi_layout((uintptr_t)got[CHECKED].ips[2]);
    rc_frame_layout small_nofp = rc_trace_cfi_layout((uintptr_t)got[CHECKED].ips[3]);
    rc_frame_layout clobber = rc_trace_cfi_layout((uintptr_t)got[CHECKED].ips[4]);
    CHECK_EQ(vla.kind, RC_FRAME_FP);
    CHECK_EQ(small_fp.kind, RC_FRAME_FP);
    CHECK(small_nofp.kind == RC_FRAME_RSP && !small_nofp.cfa_rbp && small_nofp.cfa_offset >= 8);
    CHECK(clobber.kind == RC_FRAME_RSP && !clobber.cfa_rbp && clobber.rbp_offset < 0);
    /* no unwind tables here: nothing the walk may follow */
    CHECK_EQ(rc_trace_cfi_layout((uintptr_t)&c + 1).kind, RC_FRAME_UNKNOWN);
    CHECK_EQ(rc_trace_cfi_layout(0x4001).kind, RC_FRAME_UNKNOWN);
}

/* ---- every module's tables ---------------------------------------------------- */

typedef struct sweep {
    size_t decoded, walkable, last, bad;
} sweep;

/* Decodes the layout at addresses all along each executable segment. */
static int sweep_module(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    sweep *sw = arg;
    for (unsigned i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X))
            continue;
        uintptr_t start = info->dlpi_addr + ph->p_vaddr;
        for (uintptr_t a = start + 1; a < start + ph->p_memsz; a += 61) {
            rc_frame_layout l = rc_trace_cfi_layout(a);
            sw->decoded++;
            sw->walkable +=
                l.kind == RC_FRAME_FP || l.kind == RC_FRAME_RSP || l.kind == RC_FRAME_CFA;
            sw->last += l.kind == RC_FRAME_LAST;
            bool rsp_sane = l.cfa_offset >= 8 && l.cfa_offset % 8 == 0 && !l.cfa_rbp &&
                            l.rbp_offset <= 0 && l.rbp_offset % 8 == 0 &&
                            l.rbp_offset >= -l.cfa_offset && l.rbp_offset != -8;
            sw->bad += l.kind > RC_FRAME_LAST || (l.kind == RC_FRAME_RSP && !rsp_sane) ||
                       (l.kind == RC_FRAME_FP && (!l.cfa_rbp || l.cfa_offset != 16));
        }
    }
    return 0;
}

/* The decoder over the real tables of every loaded module (this program,
 * libc, libunwind, libdw...): CIEs and FDEs of every kind the toolchain
 * emits, at every sort of instruction, decode without a fault to layouts
 * of the documented forms, most of them walkable. */
static void test_all_tables(void)
{
    sweep sw = {0, 0, 0, 0};
    dl_iterate_phdr(sweep_module, &sw);
    CHECK(sw.decoded > 10000);
    CHECK(sw.walkable > sw.decoded / 2);
    CHECK_EQ(sw.bad, 0);
}

/* ---- a frame of an unusual layout ------------------------------------------ */

#if defined(__x86_64__)
/* odd_frame(fn, c) calls fn(c) from a frame whose CFA is rbp + 32 (its rbp
 * points 16 bytes below the saved rbp): a layout of the general kind, and
 * one a frame-pointer walk misreads. */
void odd_frame(void (*fn)(chain *c), chain *c);
__asm__(".text\n"
        ".globl odd_frame\n"
        ".type odd_frame, @function\n"
        "odd_frame:\n"
        ".cfi_startproc\n"
        "push %rbp\n"
        ".cfi_def_cfa_offset 16\n"
        ".cfi_offset %rbp, -16\n"
        "sub $16, %rsp\n"
        ".cfi_def_cfa_offset 32\n"
        "mov %rsp, %rbp\n"
        ".cfi_def_cfa_register %rbp\n"
        "movq $0, (%rbp)\n"
        "movq $0, 8(%rbp)\n"
        "mov %rdi, %rax\n"
        "mov %rsi, %rdi\n"
        "call *%rax\n"
        "mov %rbp, %rsp\n"
        ".cfi_def_cfa_register %rsp\n"
        "add $16, %rsp\n"
        ".cfi_def_cfa_offset 16\n"
        "pop %rbp\n"
        ".cfi_def_cfa_offset 8\n"
        "ret\n"
        ".cfi_endproc\n"
        ".size odd_frame, .-odd_frame\n");

__attribute__((noinline)) void odd_leaf(chain *c);
__attribute__((noinline)) void odd_leaf(chain *c)
{
    odd_frame(chain_leaf, c);
    NO_TAIL_CALL();
}

/* The general layout is followed: the frames are libunwind's, through the
 * odd frame and on along the chain, with no help from libunwind. */
static void test_general_layout(void)
{
    chain c;
    random_chain(&c, 8);
    c.leaf = odd_leaf;
    limit = 16;
    size_t fallbacks = heap->trace.unwind_fallbacks;
    run_chain(&c);
    CHECK(same_capture(&got[CHECKED], &got[LIBUNWIND]));
    CHECK_EQ(heap->trace.unwind_fallbacks, fallbacks);
    CHECK(got[CHECKED].n == 16);
    CHECK_STR_CONTAINS(function_of(got[CHECKED].ips[0]), "chain_leaf");
    CHECK_STR_CONTAINS(function_of(got[CHECKED].ips[1]), "odd_frame");
    CHECK_STR_CONTAINS(function_of(got[CHECKED].ips[2]), "odd_leaf");
    CHECK_STR_CONTAINS(function_of(got[CHECKED].ips[3]), c.expected[c.made - 1]);
    rc_frame_layout odd = rc_trace_cfi_layout((uintptr_t)got[CHECKED].ips[1]);
    CHECK(odd.kind == RC_FRAME_CFA && odd.cfa_rbp && odd.cfa_offset == 32 && odd.rbp_offset == -16);
    CHECK(!same_capture(&got[FP], &got[LIBUNWIND]));
}
#else
static void test_general_layout(void) {}
#endif

/* ---- a signal handler's stack ---------------------------------------------- */

static chain signal_chain;

static void on_signal(int sig)
{
    (void)sig;
    run_chain(&signal_chain);
}

/* The stack passes the kernel's signal frame: the checked walk hands the
 * capture to libunwind there, and the frames are libunwind's. */
static void test_signal_frame(void)
{
    struct sigaction sa = {.sa_handler = on_signal}, old;
    sigemptyset(&sa.sa_mask);
    CHECK_EQ(sigaction(SIGUSR1, &sa, &old), 0);
    random_chain(&signal_chain, 6);
    limit = RC_TRACE_MAX_FRAMES;
    size_t fallbacks = heap->trace.unwind_fallbacks;
    raise(SIGUSR1);
    CHECK(same_capture(&got[CHECKED], &got[LIBUNWIND]));
    CHECK(names_match(&signal_chain));
    CHECK_EQ(heap->trace.unwind_fallbacks, fallbacks + 1);
    CHECK(got[CHECKED].n > (size_t)signal_chain.made + 4); /* on past the handler */
    sigaction(SIGUSR1, &old, NULL);
}

/* ---- another thread's stack ---------------------------------------------- */

static void *thread_main(void *arg)
{
    chain *c = arg;
    run_chain(c);
    return NULL;
}

/* The stack bounds follow the thread; the walk ends where libunwind ends
 * a thread's stack (its start routine's frame). */
static void test_thread_stack(void)
{
    chain c;
    random_chain(&c, 20);
    limit = RC_TRACE_MAX_FRAMES;
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, thread_main, &c), 0);
    pthread_join(t, NULL);
    CHECK(same_capture(&got[CHECKED], &got[LIBUNWIND]));
    CHECK(names_match(&c));
    CHECK(got[CHECKED].n > (size_t)c.made + 2 && got[CHECKED].n < RC_TRACE_MAX_FRAMES);
}

/* ---- the tracer's own path ------------------------------------------------- */

static void *allocated[2];

/* rc_malloc by the checked walk and by libunwind. */
__attribute__((noinline)) void alloc_leaf(chain *c);
__attribute__((noinline)) void alloc_leaf(chain *c)
{
    (void)c;
    for (int w = 0; w < 2; w++) {
        heap->trace.unwind = walks[w];
        allocated[w] = rc_malloc(24);
    }
    heap->trace.unwind = RC_TRACE_UNWIND_CHECKED;
    NO_TAIL_CALL();
}

static void test_through_rc_malloc(void)
{
    CHECK_EQ(rc_trace_start(16), 0);
    for (int i = 0; i < 100; i++) {
        chain c;
        random_chain(&c, 1 + (int)(next_random() % 30));
        c.leaf = alloc_leaf;
        run_chain(&c);
        const rc_trace_frames *a = rc_block_traceback(allocated[0]);
        const rc_trace_frames *b = rc_block_traceback(allocated[1]);
        CHECK(a && b && same_frames(a->ip, a->nframes, b->ip, b->nframes));
        CHECK_FRAME(a, 0, "alloc_leaf");
        rc_free(allocated[0]);
        rc_free(allocated[1]);
    }
    CHECK(rc_trace_validate(heap));
    CHECK_EQ(rc_trace_start(RC_TRACE_MAX_FRAMES), 0);
}

/* ---- the rules' memory --------------------------------------------------------- */

/* The rule set counts in the overhead, validates, and goes back at clear;
 * a set that cannot get memory leaves every capture to libunwind. */
static void test_rules_memory(void)
{
    CHECK(heap->trace.rules.count > 0);
    size_t rules_bytes = rc_trace_rules_bytes(&heap->trace.rules);
    CHECK(rules_bytes >= 2 * heap->trace.rules.count * sizeof(rc_frame_rule));
    CHECK(rc_trace_validate(heap)); /* the overhead counts the set */
    size_t overhead = rc_trace_overhead();
    rc_trace_rules_clear(heap);
    CHECK_EQ(rc_trace_overhead(), overhead - rules_bytes);
    CHECK(rc_trace_validate(heap));
    run_chain(&(chain){.depth = 3, .leaf = chain_leaf});
    CHECK(heap->trace.rules.count > 0);
    rc_trace_clear();
    CHECK_EQ(heap->trace.rules.count, 0);
    CHECK_EQ(rc_trace_overhead(), 0);

    rc_heap_inject_faults(heap, RC_FAULT_MALLOC, 0, true);
    chain c;
    random_chain(&c, 12);
    limit = RC_TRACE_MAX_FRAMES;
    run_chain(&c);
    rc_heap_inject_faults(heap, 0, -1, false);
    CHECK(same_capture(&got[CHECKED], &got[LIBUNWIND]));
    CHECK(names_match(&c));
    CHECK_EQ(heap->trace.unwind_fallbacks, 1);
    CHECK_EQ(heap->trace.rules.count, 0);
    CHECK_EQ(rc_trace_overhead(), 0);
    CHECK(rc_trace_validate(heap));

    run_chain(&c); /* memory again: the walk is back */
    CHECK(same_capture(&got[CHECKED], &got[LIBUNWIND]));
    CHECK_EQ(heap->trace.unwind_fallbacks, 1);
    CHECK(heap->trace.rules.count > 0);
    rc_trace_stop();
    CHECK_EQ(rc_trace_overhead(), 0);
    CHECK_EQ(heap->trace.rules.count, 0);
}

int main(void)
{
    heap = rc_heap_new();
    CHECK(heap != NULL);
    rc_heap_use(heap);
    CHECK_EQ(rc_trace_start(RC_TRACE_MAX_FRAMES), 0);
    test_rules();
    test_all_tables();
    test_random_chains();
    test_general_layout();
    test_signal_frame();
    test_thread_stack();
    test_through_rc_malloc();
    test_rules_memory();
    rc_heap_use(NULL);
    rc_heap_destroy(heap);
    return check_report();
}
