/* capture_cfi.c: the layout of the frame a return address returns into,
 * read from the unwind tables of its code by libdw (elfutils), x86-64.
 *
 * The checked walk (capture_walk.c) asks, once per distinct return address,
 * how the frame of the function it returns into is laid out at the call:
 * where its CFA (the caller's stack pointer) is, and where the return
 * address and the caller's rbp were saved. The answer is the row of the
 * module's call-frame information (.eh_frame) for the instruction before
 * the return address (the call itself: a noreturn call may be a function's
 * last instruction). libdw finds the module (dwfl_addrmodule), its tables
 * (dwfl_module_eh_cfi) and the row (dwarf_cfi_addrframe), and gives the
 * CFA and each register's rule as DWARF expressions; this file only sorts
 * those expressions into the forms the walk follows.
 *
 * Only .eh_frame is read, not .debug_frame: libunwind (Debian's, x86-64)
 * reads .eh_frame only, and the walk's frames must be libunwind's; a
 * .debug_frame may also live in a separate debug file, too slow to load on
 * the allocation path.
 *
 * Walkable are the layouts libunwind's own fast path follows: CFA = rsp or
 * rbp plus a constant, the return address at CFA - 8, rbp unchanged or
 * saved at a constant offset from the CFA, rsp the CFA. An undefined return
 * address or rbp ends the stack (as libunwind ends it). Anything else (no
 * module, no tables or no row for the address, a signal frame, a CFA
 * expression, a register kept in another register or computed) is
 * RC_FRAME_UNKNOWN, and the walk leaves that capture to libunwind.
 *
 * The session. A heap's rule set keeps one libdwfl session (rc_cfi) from
 * its first rule until tracing stops or is cleared: made as the
 * symbolizer's are (rc_symbolizer_report_proc: dwfl_linux_proc_report), it
 * keeps each module's tables once read. No global state and no lock:
 * a heap's tracer runs on the thread that works on the heap. A module
 * loaded later (dlopen) is seen by the dynamic loader's counts of loaded
 * and unloaded modules (dl_iterate_phdr's dlpi_adds, dlpi_subs): when they
 * moved since the report, the next decision starts a new libdwfl session
 * over the modules loaded then (each module's tables are read again when
 * first needed).
 *
 * Memory. The rc_cfi record comes from rc_trace_mem_alloc (counted in the
 * overhead); libdw's own memory (the module list, each module's ELF file,
 * opened and mapped when its first address is decided, the tables read)
 * comes from the C library and is not counted, as libunwind's is not. The
 * decisions run within the tracer (rc_trace_busy is set), so an allocation
 * libdw makes through a reclaim heap is never traced.
 *
 * libdw reads each module's tables from its file (named in
 * /proc/self/maps), not from memory: a module whose file was deleted since
 * it was loaded ("(deleted)", as when a package upgrade replaces it) has no
 * tables here, so its frames are RC_FRAME_UNKNOWN; without /proc, every
 * address is (and every deep capture libunwind's). Damaged tables make
 * libdw fail, and give RC_FRAME_UNKNOWN.
 */
#define _GNU_SOURCE /* dl_iterate_phdr */
#include "symbolize.h"
#include "trace_core.h"

#include <dwarf.h>
#include <link.h>
#include <stdlib.h>

struct rc_cfi {
    Dwfl *dwfl;                    /* NULL: the modules could not be reported */
    unsigned long long adds, subs; /* the loader's counts at the last report */
    bool reported;                 /* a report was tried */
};

rc_cfi *rc_trace_cfi_open(rc_heap *heap) { return rc_trace_mem_alloc(heap, sizeof(rc_cfi), true); }

void rc_trace_cfi_close(rc_heap *heap, rc_cfi *cfi)
{
    if (!cfi)
        return;
    if (cfi->dwfl)
        dwfl_end(cfi->dwfl);
    rc_trace_mem_free(heap, cfi, sizeof(rc_cfi));
}

size_t rc_trace_cfi_bytes(const rc_cfi *cfi) { return cfi ? sizeof(rc_cfi) : 0; }

#if defined(__x86_64__)

/* ---- the process's modules ------------------------------------------------- */

typedef struct loader_counts {
    unsigned long long adds, subs;
} loader_counts;

static int read_counts(struct dl_phdr_info *info, size_t size, void *arg)
{
    loader_counts *counts = arg;
    if (size < offsetof(struct dl_phdr_info, dlpi_subs) + sizeof info->dlpi_subs)
        return 1; /* an old loader: counts stay 0, modules are reported once */
    counts->adds = info->dlpi_adds;
    counts->subs = info->dlpi_subs;
    return 1;
}

/* Reports the process's modules to a new libdwfl session, the first time
 * and again whenever the dynamic loader loaded or unloaded one since. The
 * old session is dropped, not told of the change: libdwfl 0.188 reporting
 * again into a session that had read a module's file gave that module a
 * wrong range (its tables then answered nothing). */
static void track_modules(rc_cfi *cfi)
{
    loader_counts now = {0, 0};
    dl_iterate_phdr(read_counts, &now);
    if (cfi->reported && now.adds == cfi->adds && now.subs == cfi->subs)
        return;
    cfi->reported = true;
    cfi->adds = now.adds; /* counted before reporting: a later load is seen next time */
    cfi->subs = now.subs;
    if (cfi->dwfl)
        dwfl_end(cfi->dwfl);
    cfi->dwfl = rc_symbolizer_report_proc();
}

/* ---- sorting libdw's rules ------------------------------------------------- */

/* DWARF register numbers of x86-64. */
enum { REG_RBP = 6, REG_RSP = 7, REG_RA = 16 };

/* Where the caller's value of a register is, as far as the walk cares. */
typedef enum where {
    W_SAME,   /* unchanged */
    W_UNDEF,  /* lost (the stack ends) */
    W_AT_CFA, /* saved at CFA + offset */
    W_IS_CFA, /* the value CFA + offset */
    W_OTHER,  /* anything else */
} where;

typedef struct reg_rule {
    where where;
    int64_t offset;
} reg_rule;

/* The rule of reg in frame. libdw gives a saved register as the location
 * [DW_OP_call_frame_cfa, DW_OP_plus_uconst offset] (no second op for
 * offset 0), a value with DW_OP_stack_value after, "same value" as no ops
 * at NULL, "undefined" as no ops at ops_mem. */
static reg_rule rule_of(Dwarf_Frame *frame, int reg)
{
    Dwarf_Op ops_mem[3], *ops = NULL;
    size_t n = 0, i = 1;
    reg_rule other = {W_OTHER, 0};
    if (dwarf_frame_register(frame, reg, ops_mem, &ops, &n) != 0)
        return other;
    if (n == 0)
        return (reg_rule){ops ? W_UNDEF : W_SAME, 0};
    if (ops[0].atom != DW_OP_call_frame_cfa)
        return other;
    reg_rule rule = {W_AT_CFA, 0};
    if (i < n && ops[i].atom == DW_OP_plus_uconst)
        rule.offset = (int64_t)ops[i++].number; /* a negative offset wraps */
    if (i < n && ops[i].atom == DW_OP_stack_value) {
        rule.where = W_IS_CFA;
        i++;
    }
    return i == n ? rule : other;
}

/* One row of the tables, for the registers the walk uses. */
typedef struct cfa_row {
    uint64_t cfa_reg;
    int64_t cfa_offset;
    bool cfa_known; /* the CFA is a register plus an offset */
    reg_rule rbp, rsp, ra;
} cfa_row;

/* The row of frame; false for a signal frame or a return address that is
 * not the usual register. */
static bool row_of(Dwarf_Frame *frame, cfa_row *row)
{
    bool signal = false;
    if (dwarf_frame_info(frame, NULL, NULL, &signal) != REG_RA || signal)
        return false;
    Dwarf_Op *ops = NULL;
    size_t n = 0;
    /* libdw gives a CFA rule (register + offset) as one DW_OP_bregx */
    row->cfa_known = dwarf_frame_cfa(frame, &ops, &n) == 0 && n == 1 && ops[0].atom == DW_OP_bregx;
    row->cfa_reg = row->cfa_known ? ops[0].number : 0;
    row->cfa_offset = row->cfa_known ? (int64_t)ops[0].number2 : 0;
    row->rbp = rule_of(frame, REG_RBP);
    row->rsp = rule_of(frame, REG_RSP);
    row->ra = rule_of(frame, REG_RA);
    return true;
}

/* The walk's form of row: what libunwind's fast path would follow. The
 * caller's rsp is the CFA, as libunwind takes it: libdw says so for a
 * register no instruction mentions (the x86-64 ABI's initial rule), or
 * "unchanged" for one a CIE declares so. */
static rc_frame_layout classify(const cfa_row *row)
{
    rc_frame_layout none = {.kind = RC_FRAME_UNKNOWN};
    if (row->ra.where == W_UNDEF || row->rbp.where == W_UNDEF)
        return (rc_frame_layout){.kind = RC_FRAME_LAST}; /* libunwind ends the stack there */
    if (!row->cfa_known || (row->cfa_reg != REG_RBP && row->cfa_reg != REG_RSP) ||
        row->cfa_offset <= -(1 << 28) || row->cfa_offset >= (1 << 28))
        return none;
    bool rsp_is_cfa =
        row->rsp.where == W_SAME || (row->rsp.where == W_IS_CFA && row->rsp.offset == 0);
    if (row->ra.where != W_AT_CFA || row->ra.offset != -8 || !rsp_is_cfa)
        return none;
    if (row->rbp.where == W_AT_CFA &&
        (row->rbp.offset == 0 || row->rbp.offset <= -(1 << 14) || row->rbp.offset >= (1 << 14)))
        return none;
    if (row->rbp.where != W_AT_CFA && row->rbp.where != W_SAME)
        return none;
    rc_frame_layout layout = {
        .cfa_offset = (int32_t)row->cfa_offset,
        .rbp_offset = row->rbp.where == W_AT_CFA ? (int16_t)row->rbp.offset : 0,
        .cfa_rbp = row->cfa_reg == REG_RBP,
    };
    bool fp = layout.cfa_rbp && layout.cfa_offset == 16 && layout.rbp_offset == -16;
    bool rbp_in_frame = layout.rbp_offset == 0 ||
                        (layout.rbp_offset % 8 == 0 && layout.rbp_offset >= -layout.cfa_offset &&
                         layout.rbp_offset <= -16);
    bool rsp = !layout.cfa_rbp && layout.cfa_offset >= 8 && layout.cfa_offset % 8 == 0;
    layout.kind = fp ? RC_FRAME_FP : rsp && rbp_in_frame ? RC_FRAME_RSP : RC_FRAME_CFA;
    return layout;
}

rc_frame_layout rc_trace_cfi_layout(rc_cfi *cfi, uintptr_t ret)
{
    rc_frame_layout none = {.kind = RC_FRAME_UNKNOWN};
    if (!cfi || ret == 0)
        return none;
    track_modules(cfi);
    Dwarf_Addr pc =
        (Dwarf_Addr)ret - 1; /* the call: the return address may start another function */
    Dwfl_Module *module = cfi->dwfl ? dwfl_addrmodule(cfi->dwfl, pc) : NULL;
    Dwarf_Addr bias = 0;
    Dwarf_CFI *tables = module ? dwfl_module_eh_cfi(module, &bias) : NULL;
    Dwarf_Frame *frame = NULL;
    if (!tables || dwarf_cfi_addrframe(tables, pc - bias, &frame) != 0)
        return none;
    cfa_row row;
    rc_frame_layout layout = row_of(frame, &row) ? classify(&row) : none;
    free(frame); /* dwarf_cfi_addrframe's malloc */
    return layout;
}

#else /* not x86-64: the checked walk is not available, libunwind unwinds */

rc_frame_layout rc_trace_cfi_layout(rc_cfi *cfi, uintptr_t ret)
{
    (void)cfi;
    (void)ret;
    return (rc_frame_layout){.kind = RC_FRAME_UNKNOWN};
}

#endif
