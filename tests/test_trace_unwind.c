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
 * forms); a hand-written frame of the general kind; every form of row the
 * tables can give, written by hand, sorted exactly; stacks through a signal
 * handler (the checked walk leaves those to libunwind, with the same
 * frames); a thread's stack; two heaps walked at once on two threads, each
 * with its own libdw session; a module loaded after the rules' libdw
 * session was made, and one whose file is gone; the tracer's own path
 * (rc_malloc records the same frames either way); the rules' memory and
 * their session's (counted, validated, given back), and a rule set that
 * cannot get memory.
 */
#include "trace_check.h"
#include "trace_chain.h"

#include <reclaim.h>

#include <link.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

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

/* The layout the heap's rule session decides for return address ret (the
 * session exists once the checked walk has made a rule). */
static rc_frame_layout layout_of(uintptr_t ret)
{
    CHECK(heap->trace.rules.cfi != NULL);
    return rc_trace_cfi_layout(heap->trace.rules.cfi, ret);
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

static uint64_t next_random_from(uint64_t *state)
{
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    return *state;
}

static uint64_t next_random(void) { return next_random_from(&rng); }

/* A chain of depth frames of random kinds (from the generator at state),
 * ending in leaf. */
static void random_chain_from(chain *c, int depth, chain_leaf_fn leaf, uint64_t *state)
{
    memset(c, 0, sizeof *c);
    c->depth = depth;
    c->with_fp = next_random_from(state);
    for (int d = 0; d < depth; d++)
        c->shape[d] = (uint8_t)(next_random_from(state) % CHAIN_SHAPES);
    c->leaf = leaf;
}

static void random_chain(chain *c, int depth) { random_chain_from(c, depth, chain_leaf, &rng); }

/* Runs c from here; the frames are then leaf, the chain's functions from
 * the innermost, chain_next, run_chain. */
__attribute__((noinline)) void run_chain(chain *c);
__attribute__((noinline)) void run_chain(chain *c)
{
    chain_next(c);
    NO_TAIL_CALL();
}

/* Runs a random chain of depth frames ending in leaf, each walk capturing
 * at most frames frames: the checked walk must give libunwind's frames.
 * Returns how many captures it left to libunwind meanwhile. */
static size_t run_random_chain(chain *c, int depth, chain_leaf_fn leaf, size_t frames)
{
    random_chain_from(c, depth, leaf, &rng);
    limit = frames;
    size_t fallbacks = heap->trace.unwind_fallbacks;
    run_chain(c);
    CHECK(same_capture(&got[CHECKED], &got[LIBUNWIND]));
    return heap->trace.unwind_fallbacks - fallbacks;
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
    rc_frame_layout vla = layout_of((uintptr_t)got[CHECKED].ips[1]);
    rc_frame_layout small_fp = layout_of((uintptr_t)got[CHECKED].ips[2]);
    rc_frame_layout small_nofp = layout_of((uintptr_t)got[CHECKED].ips[3]);
    rc_frame_layout clobber = layout_of((uintptr_t)got[CHECKED].ips[4]);
    CHECK_EQ(vla.kind, RC_FRAME_FP);
    CHECK_EQ(small_fp.kind, RC_FRAME_FP);
    CHECK(small_nofp.kind == RC_FRAME_RSP && !small_nofp.cfa_rbp && small_nofp.cfa_offset >= 8);
    CHECK(clobber.kind == RC_FRAME_RSP && !clobber.cfa_rbp && clobber.rbp_offset < 0);
    /* no unwind tables here: nothing the walk may follow */
    CHECK_EQ(layout_of((uintptr_t)&c + 1).kind, RC_FRAME_UNKNOWN);
    CHECK_EQ(layout_of(0x4001).kind, RC_FRAME_UNKNOWN);
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
            rc_frame_layout l = layout_of(a);
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

/* Layouts from the real tables of every loaded module (this program,
 * libc, libunwind, libdw...): CIEs and FDEs of every kind the toolchain
 * emits, at every sort of instruction, are read without a fault and sorted
 * into layouts of the documented forms, most of them walkable. */
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
    CHECK_EQ(run_random_chain(&c, 8, odd_leaf, 16), 0);
    CHECK(got[CHECKED].n == 16);
    CHECK_STR_CONTAINS(function_of(got[CHECKED].ips[0]), "chain_leaf");
    CHECK_STR_CONTAINS(function_of(got[CHECKED].ips[1]), "odd_frame");
    CHECK_STR_CONTAINS(function_of(got[CHECKED].ips[2]), "odd_leaf");
    CHECK_STR_CONTAINS(function_of(got[CHECKED].ips[3]), c.expected[c.made - 1]);
    rc_frame_layout odd = layout_of((uintptr_t)got[CHECKED].ips[1]);
    CHECK(odd.kind == RC_FRAME_CFA && odd.cfa_rbp && odd.cfa_offset == 32 && odd.rbp_offset == -16);
    CHECK(!same_capture(&got[FP], &got[LIBUNWIND]));
}

/* ---- every form of row, hand-written --------------------------------------- */

/* Rows written by hand: each a function that is never run, only read,
 * with the CFI directives given (after the CIE's: CFA = rsp + 8, the return
 * address at CFA - 8) before its first instruction, and after that
 * instruction a label, cfi_probe_NAME, which the test passes as a return
 * address (the row decided is the one of the instruction before it); then
 * the layout expected: kind, CFA offset, rbp offset, CFA from rbp. */
#define CFI_ROWS(X)                                                                                \
    X(entry, "", RC_FRAME_RSP, 8, 0, false)                                                        \
    X(rsp, ".cfi_def_cfa_offset 40\n.cfi_offset %rbp, -24", RC_FRAME_RSP, 40, -24, false)          \
    X(fp, ".cfi_def_cfa %rbp, 16\n.cfi_offset %rbp, -16", RC_FRAME_FP, 16, -16, true)              \
    X(rsp_odd, ".cfi_def_cfa_offset 20", RC_FRAME_CFA, 20, 0, false)                               \
    X(rbp_general, ".cfi_def_cfa %rbp, 24\n.cfi_offset %rbp, -24", RC_FRAME_CFA, 24, -24, true)    \
    X(rsp_far, ".cfi_def_cfa_offset 0x8000\n.cfi_offset %rbp, -0x3ff8", RC_FRAME_RSP, 0x8000,      \
      -0x3ff8, false)                                                                              \
    X(remember,                                                                                    \
      ".cfi_def_cfa_offset 16\n.cfi_offset %rbp, -16\n.cfi_remember_state\n"                       \
      ".cfi_def_cfa_offset 64\n.cfi_restore %rbp\n.cfi_restore_state",                             \
      RC_FRAME_RSP, 16, -16, false)                                                                \
    X(rsp_same, ".cfi_same_value %rsp", RC_FRAME_RSP, 8, 0, false)                                 \
    X(rsp_value, ".cfi_val_offset %rsp, 0", RC_FRAME_RSP, 8, 0, false)                             \
    X(ra_undefined, ".cfi_undefined %rip", RC_FRAME_LAST, 0, 0, false)                             \
    X(rbp_undefined, ".cfi_def_cfa_offset 16\n.cfi_undefined %rbp", RC_FRAME_LAST, 0, 0, false)    \
    /* DW_CFA_def_cfa_expression: CFA = *(rbp - 8), as a main that realigns its stack */           \
    X(cfa_expression, ".cfi_escape 0x0f, 0x03, 0x76, 0x78, 0x06", RC_FRAME_UNKNOWN, 0, 0, false)   \
    X(cfa_r12, ".cfi_def_cfa %r12, 8", RC_FRAME_UNKNOWN, 0, 0, false)                              \
    X(cfa_huge, ".cfi_def_cfa_offset 0x10000000", RC_FRAME_UNKNOWN, 0, 0, false)                   \
    X(signal, ".cfi_signal_frame", RC_FRAME_UNKNOWN, 0, 0, false)                                  \
    X(ra_elsewhere, ".cfi_def_cfa_offset 16\n.cfi_offset %rip, -16", RC_FRAME_UNKNOWN, 0, 0,       \
      false)                                                                                       \
    X(rsp_saved, ".cfi_def_cfa_offset 16\n.cfi_offset %rsp, -16", RC_FRAME_UNKNOWN, 0, 0, false)   \
    X(rsp_moved, ".cfi_val_offset %rsp, 8", RC_FRAME_UNKNOWN, 0, 0, false)                         \
    X(rbp_in_register, ".cfi_register %rbp, %rbx", RC_FRAME_UNKNOWN, 0, 0, false)                  \
    X(rbp_at_cfa, ".cfi_def_cfa_offset 16\n.cfi_offset %rbp, 0", RC_FRAME_UNKNOWN, 0, 0, false)    \
    X(rbp_far, ".cfi_def_cfa_offset 0x8000\n.cfi_offset %rbp, -0x4000", RC_FRAME_UNKNOWN, 0, 0,    \
      false)                                                                                       \
    X(rbp_value, ".cfi_val_offset %rbp, -16", RC_FRAME_UNKNOWN, 0, 0, false)

#define CFI_ROW_CODE(name, directives, kind, cfa, rbp, from_rbp)                                   \
    ".globl cfi_probe_" #name "\n"                                                                 \
    "cfi_probe_fn_" #name ":\n"                                                                    \
    ".cfi_startproc\n" directives "\n"                                                             \
    "nop\n"                                                                                        \
    "cfi_probe_" #name ":\n"                                                                       \
    "nop\n"                                                                                        \
    ".cfi_endproc\n"

/* the rows, then code with no CFI at all */
__asm__(".text\n" CFI_ROWS(CFI_ROW_CODE) ".globl cfi_probe_none\n"
                                         "nop\n"
                                         "cfi_probe_none:\n"
                                         "nop\n");

#define CFI_ROW_DECLARE(name, directives, kind, cfa, rbp, from_rbp)                                \
    extern const char cfi_probe_##name[];
CFI_ROWS(CFI_ROW_DECLARE)
extern const char cfi_probe_none[];

typedef struct cfi_probe {
    const char *name, *ret;
    rc_frame_layout want;
} cfi_probe;

#define CFI_ROW_PROBE(name, directives, kind, cfa, rbp, from_rbp)                                  \
    {#name, cfi_probe_##name, {cfa, rbp, kind, from_rbp}},
static const cfi_probe cfi_probes[] = {
    CFI_ROWS(CFI_ROW_PROBE){"none", cfi_probe_none, {0, 0, RC_FRAME_UNKNOWN, false}}};

/* Each form of row the tables can give is sorted into its layout exactly:
 * the walkable ones with their offsets (the CFA's register, the saved rbp,
 * the bounds between the kinds), the end of the stack, and every form the
 * walk leaves to libunwind. */
static void test_row_forms(void)
{
    for (size_t i = 0; i < sizeof cfi_probes / sizeof cfi_probes[0]; i++) {
        const cfi_probe *p = &cfi_probes[i];
        rc_frame_layout got_layout = layout_of((uintptr_t)p->ret);
        if (memcmp(&got_layout, &p->want, sizeof got_layout) != 0)
            fprintf(stderr, "  %s: kind %d cfa %s%+d rbp %+d, expected kind %d cfa %s%+d rbp %+d\n",
                    p->name, got_layout.kind, got_layout.cfa_rbp ? "rbp" : "rsp",
                    got_layout.cfa_offset, got_layout.rbp_offset, p->want.kind,
                    p->want.cfa_rbp ? "rbp" : "rsp", p->want.cfa_offset, p->want.rbp_offset);
        CHECK(memcmp(&got_layout, &p->want, sizeof got_layout) == 0);
    }
}
#else
static void test_general_layout(void) {}
static void test_row_forms(void) {}
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

/* ---- heaps walked in parallel ------------------------------------------------ */

/* A thread's own heap and chains: the chain comes first, so that the leaf
 * finds the rest. */
typedef struct parallel_run {
    chain c;
    rc_heap *heap;
    capture got[2]; /* by the checked walk, by libunwind */
    uint64_t state;
    size_t runs, mismatches, fallbacks;
    bool had_session;
} parallel_run;

__attribute__((noinline)) void parallel_leaf(chain *c);
__attribute__((noinline)) void parallel_leaf(chain *c)
{
    parallel_run *run = (parallel_run *)c;
    for (int w = 0; w < 2; w++) {
        run->heap->trace.unwind = walks[w];
        run->got[w].n = rc_trace_capture(run->heap, run->got[w].ips, RC_TRACE_MAX_FRAMES);
    }
    run->heap->trace.unwind = RC_TRACE_UNWIND_CHECKED;
    NO_TAIL_CALL();
}

static pthread_barrier_t parallel_start;

static void *parallel_main(void *arg)
{
    parallel_run *run = arg;
    run->heap = rc_heap_new();
    if (!run->heap)
        return NULL;
    rc_heap_use(run->heap);
    rc_trace_start(RC_TRACE_MAX_FRAMES);
    pthread_barrier_wait(&parallel_start); /* both sessions are made at once */
    for (size_t i = 0; i < 200; i++) {
        random_chain_from(&run->c, 1 + (int)(next_random_from(&run->state) % 30), parallel_leaf,
                          &run->state);
        run_chain(&run->c);
        run->runs++;
        run->mismatches += !same_capture(&run->got[0], &run->got[1]);
    }
    run->fallbacks = run->heap->trace.unwind_fallbacks;
    run->had_session = run->heap->trace.rules.cfi != NULL && rc_trace_validate(run->heap);
    rc_trace_stop();
    rc_heap_use(NULL);
    rc_heap_destroy(run->heap);
    return NULL;
}

/* Two threads, each tracing its own heap, walk at the same time: each
 * heap's rules have their own libdw session, made and used at once, and
 * every capture gives libunwind's frames to the end of the thread's stack
 * with no help from libunwind. */
static void test_heaps_in_parallel(void)
{
    static parallel_run runs[2] = {{.state = 0x1234567u}, {.state = 0x89abcdefu}};
    pthread_t threads[2];
    CHECK_EQ(pthread_barrier_init(&parallel_start, NULL, 2), 0);
    for (int t = 0; t < 2; t++)
        CHECK_EQ(pthread_create(&threads[t], NULL, parallel_main, &runs[t]), 0);
    for (int t = 0; t < 2; t++)
        pthread_join(threads[t], NULL);
    pthread_barrier_destroy(&parallel_start);
    for (int t = 0; t < 2; t++) {
        CHECK_EQ(runs[t].runs, 200);
        CHECK_EQ(runs[t].mismatches, 0);
        CHECK_EQ(runs[t].fallbacks, 0);
        CHECK(runs[t].had_session);
    }
}

/* ---- a module loaded later ---------------------------------------------------- */

static void (*dl_frame)(chain *c, chain_leaf_fn leaf);

__attribute__((noinline)) void dl_leaf(chain *c);
__attribute__((noinline)) void dl_leaf(chain *c)
{
    dl_frame(c, chain_leaf);
    NO_TAIL_CALL();
}

/* Captures 12 frames from a chain whose leaf calls through module's
 * trace_dl_frame, by the checked walk and by libunwind, which must agree;
 * returns how many captures the walk handed to libunwind. */
static size_t capture_through_module(void *module)
{
    dl_frame = (void (*)(chain *, chain_leaf_fn))dlsym(module, "trace_dl_frame");
    CHECK(dl_frame != NULL);
    if (!dl_frame)
        return SIZE_MAX;
    chain c;
    size_t fallbacks = run_random_chain(&c, 6, dl_leaf, 12);
    CHECK_STR_CONTAINS(function_of(got[CHECKED].ips[1]), "trace_dl_frame");
    return fallbacks;
}

/* A module loaded after the walk's session reported the process's modules:
 * its frame gets its rule from its tables like any other (the session
 * reports the modules again), with no help from libunwind. The module stays
 * loaded: the rule set is not told of dlclose (docs/tracing.md). */
static void test_module_loaded_later(void)
{
    CHECK(heap->trace.rules.cfi != NULL); /* the session has reported the modules */
    CHECK(dlopen(TRACE_DL_PATH, RTLD_NOW | RTLD_NOLOAD) == NULL);
    void *module = dlopen(TRACE_DL_PATH, RTLD_NOW | RTLD_LOCAL);
    CHECK(module != NULL);
    if (!module)
        return;
    CHECK_EQ(capture_through_module(module), 0); /* no fallback */
    CHECK_EQ(got[CHECKED].n, 12);
    CHECK_STR_CONTAINS(function_of(got[CHECKED].ips[2]), "dl_leaf");
    rc_frame_layout in_module = layout_of((uintptr_t)got[CHECKED].ips[1]);
    CHECK(in_module.kind == RC_FRAME_RSP && in_module.cfa_offset >= 16);
    CHECK(rc_trace_validate(heap));
}

/* Copies the file at from to a new temporary file, whose name goes to to. */
static bool copy_to_temp(const char *from, char *to)
{
    FILE *in = fopen(from, "rb");
    int fd = mkstemp(to);
    FILE *out = fd >= 0 ? fdopen(fd, "wb") : NULL;
    char buf[4096];
    size_t n;
    bool ok = in && out;
    while (ok && (n = fread(buf, 1, sizeof buf, in)) > 0)
        ok = fwrite(buf, 1, n, out) == n;
    if (in)
        fclose(in);
    if (out)
        ok &= fclose(out) == 0;
    return ok;
}

/* A module whose file is gone once loaded (as when a package upgrade
 * replaces it): libdw reads tables from files, so the frame has no rule and
 * the capture is libunwind's, with the same frames. */
static void test_module_file_deleted(void)
{
    char path[] = "/tmp/reclaim_trace_dl_XXXXXX";
    CHECK(copy_to_temp(TRACE_DL_PATH, path));
    void *module = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    unlink(path);
    CHECK(module != NULL);
    if (!module)
        return;
    CHECK_EQ(capture_through_module(module), 1); /* the whole capture */
    CHECK_EQ(layout_of((uintptr_t)got[CHECKED].ips[1]).kind, RC_FRAME_UNKNOWN);
    CHECK(rc_trace_validate(heap));
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
        random_chain_from(&c, 1 + (int)(next_random() % 30), alloc_leaf, &rng);
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
    CHECK(rules_bytes >= 2 * heap->trace.rules.count * sizeof(rc_frame_rule) +
                             rc_trace_cfi_bytes(heap->trace.rules.cfi));
    CHECK(rc_trace_cfi_bytes(heap->trace.rules.cfi) > 0);
    CHECK(rc_trace_validate(heap)); /* the overhead counts the set and its session */
    size_t overhead = rc_trace_overhead();
    rc_trace_rules_clear(heap);
    CHECK_EQ(rc_trace_overhead(), overhead - rules_bytes);
    CHECK(heap->trace.rules.cfi == NULL);
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

    /* the set gets its slots, its session no memory: libunwind again */
    rc_heap_inject_faults(heap, RC_FAULT_MALLOC, 1, true);
    run_chain(&c);
    rc_heap_inject_faults(heap, 0, -1, false);
    CHECK(same_capture(&got[CHECKED], &got[LIBUNWIND]));
    CHECK_EQ(heap->trace.unwind_fallbacks, 2);
    CHECK(heap->trace.rules.slots != NULL && heap->trace.rules.cfi == NULL);
    CHECK_EQ(heap->trace.rules.count, 0);
    CHECK_EQ(rc_trace_overhead(), rc_trace_rules_bytes(&heap->trace.rules));
    CHECK(rc_trace_validate(heap));

    run_chain(&c); /* memory again: the walk is back */
    CHECK(same_capture(&got[CHECKED], &got[LIBUNWIND]));
    CHECK_EQ(heap->trace.unwind_fallbacks, 2);
    CHECK(heap->trace.rules.cfi != NULL);
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
    test_row_forms();
    test_signal_frame();
    test_thread_stack();
    test_heaps_in_parallel();
    test_module_loaded_later();
    test_module_file_deleted();
    test_through_rc_malloc();
    test_rules_memory();
    rc_heap_use(NULL);
    rc_heap_destroy(heap);
    return check_report();
}
