/* capture_walk.c: the checked walk, the default way to find the frames past
 * the call site, and its set of frame rules; and the frame-pointer walk
 * (RECLAIM_TRACE_UNWIND=fp), the checked walk's step for a frame-pointer
 * frame taken at every frame, whatever the tables say.
 *
 * From the call site on, each frame's caller is found by the layout the
 * unwind tables give for the frame at its return address (capture_cfi.c):
 * the CFA (the caller's stack pointer) from rbp or rsp plus a constant, the
 * caller's return address at CFA - 8, the caller's rbp saved at a constant
 * offset from the CFA or unchanged. That is what libunwind computes for
 * such a frame, so the frames are libunwind's, for code built with or
 * without frame pointers; but a frame costs a lookup in a small per-heap
 * set of rules and two loads, where libunwind re-derives its state.
 *
 * A rule (return address -> layout) is decided once per distinct return
 * address, by the set's libdw session (capture_cfi.c; made with the first
 * rule), and kept (the set's memory and the session's record count in the
 * tracer's overhead and go back when tracing stops or is cleared, the
 * session's libdw state with them). A frame whose layout is not
 * one of those forms (a signal frame, code without unwind tables, a CFA
 * expression), or whose CFA would leave the thread's stack or not rise above
 * the frame before, makes the walk give up: the whole capture is then
 * libunwind's (capture.c), so the frames stay libunwind's even there. Every
 * read lies between the frame being left and the top of the stack.
 *
 * Speed. A frame-pointer frame (CFA = rbp + 16) is followed through its
 * record: the next rbp waits on rbp alone. Other frames are followed by a
 * copy of the last layout followed, kept while each frame's rule shows the
 * same one (a recursion, frames of one function): the CFA then waits on
 * the stack pointer and a constant, not on the rule's load, which is only
 * compared. The processor thus runs ahead along the stack while the rules
 * are checked. Layouts of the common forms (RC_FRAME_RSP) are checked for
 * sense once, when decided, leaving one bound to test per frame.
 *
 * Invariants (rc_trace_rules_validate): a session exists if a rule does;
 * every rule in the set is the one the session gives for its return address
 * (as long as no module was unloaded since: like libunwind's own cache of
 * frames, the set is not told of dlclose; rc_trace_clear empties it),
 * reached from the slot its hash picks through non-empty slots; count is
 * the slots in use, at most half of them.
 */
#include "trace_core.h"

#include <string.h>

#define RULES_MIN_SLOTS 256u

/* The lowest return address libunwind accepts (it stops below it). */
#define LOWEST_RETURN 0x4000u

static inline uint32_t rule_hash(uintptr_t ret)
{
    return (uint32_t)(((uint64_t)ret * 0x9e3779b97f4a7c15u) >> 32);
}

static void rules_insert(rc_frame_rule *slots, uint32_t mask, const rc_frame_rule *rule)
{
    uint32_t i = rule_hash(rule->ret) & mask;
    while (slots[i].ret != 0)
        i = (i + 1) & mask;
    slots[i] = *rule;
}

/* Doubles the set (or makes the first), keeping every rule. */
static bool rules_grow(rc_heap *heap)
{
    rc_frame_rules *t = &heap->trace.rules;
    uint32_t old_n = t->slots ? t->mask + 1 : 0;
    uint32_t n = old_n ? old_n * 2 : RULES_MIN_SLOTS;
    rc_frame_rule *slots = rc_trace_mem_alloc(heap, (size_t)n * sizeof *slots, true);
    if (!slots)
        return false;
    for (uint32_t i = 0; i < old_n; i++)
        if (t->slots[i].ret)
            rules_insert(slots, n - 1, &t->slots[i]);
    rc_trace_mem_free(heap, t->slots, (size_t)old_n * sizeof *slots);
    t->slots = slots;
    t->mask = n - 1;
    return true;
}

/* The rule of ret in slots, NULL if it has none yet. */
static inline const rc_frame_rule *rule_find(const rc_frame_rule *slots, uint32_t mask,
                                             uintptr_t ret)
{
    for (uint32_t i = rule_hash(ret) & mask;; i = (i + 1) & mask) {
        if (RC_LIKELY(slots[i].ret == ret))
            return &slots[i];
        if (slots[i].ret == 0)
            return NULL;
    }
}

/* Decides the rule of ret (not in the set) and adds it; NULL if the set
 * could not grow or the session be made. */
static RC_NOINLINE const rc_frame_rule *rule_add(rc_heap *heap, uintptr_t ret)
{
    rc_frame_rules *t = &heap->trace.rules;
    RC_ASSERT(ret != 0);
    if (t->count + 1 > (t->mask + 1) / 2 && !rules_grow(heap))
        return NULL;
    if (!t->cfi && !(t->cfi = rc_trace_cfi_open(heap)))
        return NULL;
    rc_frame_rule rule = {ret, rc_trace_cfi_layout(t->cfi, ret)};
    rules_insert(t->slots, t->mask, &rule);
    t->count++;
    return rule_find(t->slots, t->mask, ret);
}

static inline uintptr_t load_word(uintptr_t at) { return *(const uintptr_t *)at; }

_Static_assert(sizeof(rc_frame_layout) == sizeof(uint64_t), "a layout compares as one word");

static inline uint64_t layout_word(const rc_frame_layout *layout)
{
    uint64_t word;
    memcpy(&word, layout, sizeof word);
    return word;
}

/* A copy of *layout, out of line: the walk's copy of the layout it follows
 * changes only here, never by a conditional move on the rule's load. */
static RC_NOINLINE rc_frame_layout layout_copy(const rc_frame_layout *layout) { return *layout; }

/* The walk's state in one frame: its return address, its stack pointer at
 * the call (the CFA of the frame it called) and its rbp. */
typedef struct walk_frame {
    uintptr_t ret, rsp, rbp;
} walk_frame;

/* Moves f to its caller by layout; false if that would read outside
 * [f->rsp, hi), the frame and the frames above it. */
static inline bool step_general(walk_frame *f, const rc_frame_layout *layout, uintptr_t hi)
{
    uintptr_t base = layout->cfa_rbp ? f->rbp : f->rsp;
    uintptr_t cfa = base + (uintptr_t)(intptr_t)layout->cfa_offset;
    if (cfa <= f->rsp || cfa > hi || cfa % sizeof(void *) != 0)
        return false;
    if (layout->rbp_offset) {
        uintptr_t at = cfa + (uintptr_t)(intptr_t)layout->rbp_offset;
        if (at < f->rsp || at > hi - sizeof(void *) || at % sizeof(void *) != 0)
            return false;
        f->rbp = load_word(at);
    }
    f->ret = load_word(cfa - sizeof(void *));
    f->rsp = cfa;
    return true;
}

/* Moves f to its caller by an RC_FRAME_RSP layout: the CFA above f->rsp
 * and the saved rbp between them by the layout's form, so only the CFA's
 * bound is checked. */
static inline bool step_rsp(walk_frame *f, const rc_frame_layout *layout, uintptr_t hi)
{
    uintptr_t cfa = f->rsp + (uintptr_t)layout->cfa_offset;
    if (cfa > hi)
        return false;
    if (layout->rbp_offset)
        f->rbp = load_word(cfa + (uintptr_t)(intptr_t)layout->rbp_offset);
    f->ret = load_word(cfa - sizeof(void *));
    f->rsp = cfa;
    return true;
}

/* Moves f to its caller through its frame record (rbp); false if the
 * record is not in [f->rsp, hi). */
static inline bool step_fp(walk_frame *f, uintptr_t hi)
{
    if (f->rbp < f->rsp || f->rbp > hi - sizeof(rc_frame_record) || f->rbp % sizeof(void *) != 0)
        return false;
    const rc_frame_record *record = (const rc_frame_record *)f->rbp;
    f->ret = (uintptr_t)record->ret;
    f->rsp = (uintptr_t)(record + 1);
    f->rbp = (uintptr_t)record->next;
    return true;
}

/* The layout of a frame-pointer frame, the common case of code built with
 * frame pointers. */
static const rc_frame_layout fp_layout = {16, -16, RC_FRAME_FP, true};

/* The walk's state at the call site: outer's return address, its stack
 * pointer after the return (just above the record) and the caller's rbp. */
static inline walk_frame site_frame(const rc_frame_record *outer)
{
    return (walk_frame){(uintptr_t)outer->ret, (uintptr_t)(outer + 1), (uintptr_t)outer->next};
}

size_t rc_trace_walk_fp(const rc_frame_record *outer, const void **ips, size_t max, uintptr_t lo,
                        uintptr_t hi)
{
    walk_frame f = site_frame(outer);
    if (f.rsp < lo) /* on another stack (a signal's), still read only this thread's */
        f.rsp = lo;
    size_t n = 1;
    while (n < max && step_fp(&f, hi) && f.ret >= LOWEST_RETURN)
        ips[n++] = (const void *)f.ret;
    return n;
}

size_t rc_trace_walk_checked(rc_heap *heap, const rc_frame_record *outer, const void **ips,
                             size_t max, uintptr_t hi)
{
    rc_frame_rules *t = &heap->trace.rules;
    if ((uintptr_t)outer % sizeof(void *) != 0 || (RC_UNLIKELY(!t->slots) && !rules_grow(heap)))
        return 0;
    const rc_frame_rule *slots = t->slots; /* in registers: ips[] may alias t */
    uint32_t mask = t->mask;
    walk_frame f = site_frame(outer);
    /* the last other layout followed: a frame laid out the same (a
     * recursion) is followed by this copy, not waiting on its rule's load */
    rc_frame_layout layout = {.kind = RC_FRAME_UNKNOWN};
    size_t n = 1;
    while (n < max) {
        const rc_frame_rule *rule = rule_find(slots, mask, f.ret);
        if (RC_UNLIKELY(!rule)) {
            if (!(rule = rule_add(heap, f.ret)))
                return 0;
            slots = t->slots;
            mask = t->mask;
        }
        uint64_t word = layout_word(&rule->layout);
        bool stepped;
        if (RC_LIKELY(word == layout_word(&fp_layout))) {
            stepped = step_fp(&f, hi);
        } else {
            if (RC_UNLIKELY(word != layout_word(&layout)))
                layout = layout_copy(&rule->layout);
            stepped = layout.kind == RC_FRAME_RSP   ? step_rsp(&f, &layout, hi)
                      : layout.kind == RC_FRAME_CFA ? step_general(&f, &layout, hi)
                                                    : false;
        }
        if (!stepped)
            return rule->layout.kind == RC_FRAME_LAST ? n : 0;
        if (f.ret < LOWEST_RETURN)
            return n;
        ips[n++] = (const void *)f.ret;
    }
    return n;
}

/* The bytes of the set's slots. */
static size_t slots_bytes(const rc_frame_rules *t)
{
    return t->slots ? ((size_t)t->mask + 1) * sizeof *t->slots : 0;
}

void rc_trace_rules_clear(rc_heap *heap)
{
    rc_frame_rules *t = &heap->trace.rules;
    rc_trace_mem_free(heap, t->slots, slots_bytes(t));
    rc_trace_cfi_close(heap, t->cfi);
    *t = (rc_frame_rules){NULL, 0, 0, NULL};
}

size_t rc_trace_rules_bytes(const rc_frame_rules *t)
{
    return slots_bytes(t) + rc_trace_cfi_bytes(t->cfi);
}

bool rc_trace_rules_validate(const rc_frame_rules *t)
{
    if (!t->slots)
        return t->count == 0 && t->mask == 0 && !t->cfi;
    if (t->count > 0 && !t->cfi)
        return false;
    uint32_t used = 0;
    for (uint32_t i = 0; i <= t->mask; i++) {
        const rc_frame_rule *rule = &t->slots[i];
        if (!rule->ret)
            continue;
        used++;
        rc_frame_layout fresh = rc_trace_cfi_layout(t->cfi, rule->ret);
        if (layout_word(&fresh) != layout_word(&rule->layout))
            return false;
        uint32_t j = rule_hash(rule->ret) & t->mask;
        while (j != i && t->slots[j].ret != 0)
            j = (j + 1) & t->mask;
        if (j != i)
            return false;
    }
    return used == t->count && t->count <= (t->mask + 1) / 2;
}
