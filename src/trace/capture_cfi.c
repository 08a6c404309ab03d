/* capture_cfi.c: the layout of the frame a return address returns into,
 * read from the unwind tables of its code (x86-64).
 *
 * The checked walk (capture_walk.c) asks, once per distinct return address,
 * how the frame of the function it returns into is laid out at the call:
 * where its CFA (the caller's stack pointer) is, and where the return
 * address and the caller's rbp were saved. The answer comes from the
 * call-frame information the compiler emits for every function, with or
 * without frame pointers (.eh_frame, found through the module's
 * .eh_frame_hdr), decoded here the way libunwind decodes it: the row of the
 * instruction before the return address (the call itself), found by
 * running the CIE's and the FDE's programs up to it.
 *
 * Only the layouts libunwind's own fast path handles become walkable ones:
 * CFA = rsp or rbp plus a constant, the return address at CFA - 8, rbp
 * unchanged or saved at a constant offset from the CFA, rsp not saved. An
 * undefined return address or rbp ends the stack (as libunwind ends it).
 * Anything else (no FDE, a signal frame, a CFA expression, an opcode not
 * known here, a table that is not the binary-search kind) is
 * RC_FRAME_UNKNOWN, and the walk leaves that capture to libunwind.
 *
 * Every byte read lies in a loaded segment of the module the return address
 * is in, and every length is checked against it: damaged tables give
 * RC_FRAME_UNKNOWN, never a read out of bounds.
 */
#define _GNU_SOURCE /* dl_iterate_phdr */
#include "trace_core.h"

#include <link.h>
#include <string.h>

#if defined(__x86_64__)

/* DWARF register numbers of x86-64. */
enum { REG_RBP = 6, REG_RSP = 7, REG_RA = 16 };

/* ---- the module's loaded segments ---------------------------------------- */

/* A module's readable loaded segments and its .eh_frame_hdr: every byte the
 * decoding reads lies in one of the segments. */

#define MAX_SEGMENTS 16

typedef struct module {
    uintptr_t lo[MAX_SEGMENTS], hi[MAX_SEGMENTS];
    unsigned nsegments;
    const uint8_t *eh_frame_hdr; /* NULL: the module has none */
} module;

typedef struct module_query {
    uintptr_t pc;
    module *out;
    bool found;
} module_query;

static int find_module(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    module_query *q = arg;
    module m = {.nsegments = 0};
    bool contains = false;
    for (unsigned i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        uintptr_t start = info->dlpi_addr + ph->p_vaddr;
        if (ph->p_type == PT_GNU_EH_FRAME)
            m.eh_frame_hdr = (const uint8_t *)start;
        if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_R) || m.nsegments == MAX_SEGMENTS)
            continue;
        m.lo[m.nsegments] = start;
        m.hi[m.nsegments] = start + ph->p_memsz;
        contains |= q->pc - start < ph->p_memsz;
        m.nsegments++;
    }
    if (!contains)
        return 0;
    *q->out = m;
    q->found = true;
    return 1;
}

/* The end of the loaded segment holding p, NULL if none does. */
static const uint8_t *segment_end(const module *m, const uint8_t *p)
{
    for (unsigned i = 0; i < m->nsegments; i++)
        if ((uintptr_t)p - m->lo[i] < m->hi[i] - m->lo[i])
            return (const uint8_t *)m->hi[i];
    return NULL;
}

/* ---- reading encoded values ------------------------------------------------- */

/* A cursor over bytes known to be readable up to end; ok turns false, and
 * stays false, at the first read past it or the first value not understood. */
typedef struct reader {
    const uint8_t *p, *end;
    bool ok;
} reader;

static reader reader_at(const module *m, const uint8_t *p)
{
    const uint8_t *end = segment_end(m, p);
    return (reader){p, end, end != NULL};
}

/* A reader over the n bytes at r's position, r moved past them. */
static reader reader_take(reader *r, uint64_t n)
{
    reader sub = {r->p, r->p, r->ok && n <= (uint64_t)(r->end - r->p)};
    if (sub.ok) {
        sub.end = r->p + n;
        r->p += n;
    } else {
        r->ok = false;
    }
    return sub;
}

static uint64_t read_fixed(reader *r, unsigned n)
{
    if (!r->ok || (size_t)(r->end - r->p) < n) {
        r->ok = false;
        return 0;
    }
    uint64_t v = 0;
    memcpy(&v, r->p, n); /* little-endian */
    r->p += n;
    return v;
}

static uint64_t read_uleb(reader *r)
{
    uint64_t v = 0;
    for (unsigned shift = 0; r->ok; shift += 7) {
        uint8_t byte = (uint8_t)read_fixed(r, 1);
        if (shift < 64)
            v |= (uint64_t)(byte & 0x7f) << shift;
        if (!(byte & 0x80))
            return v;
    }
    return 0;
}

static int64_t read_sleb(reader *r)
{
    uint64_t v = 0;
    unsigned shift = 0;
    uint8_t byte = 0x80;
    while (r->ok && (byte & 0x80)) {
        byte = (uint8_t)read_fixed(r, 1);
        if (shift < 64)
            v |= (uint64_t)(byte & 0x7f) << shift;
        shift += 7;
    }
    if (shift < 64 && (byte & 0x40))
        v |= ~(uint64_t)0 << shift;
    return (int64_t)v;
}

/* DW_EH_PE_* pointer encodings: the low four bits give the format, the next
 * three what it is relative to; 0x80 marks an indirect value. */
enum {
    PE_ABSPTR = 0x00,
    PE_ULEB128 = 0x01,
    PE_UDATA2 = 0x02,
    PE_UDATA4 = 0x03,
    PE_UDATA8 = 0x04,
    PE_SLEB128 = 0x09,
    PE_SDATA2 = 0x0a,
    PE_SDATA4 = 0x0b,
    PE_SDATA8 = 0x0c,
    PE_PCREL = 0x10,
    PE_DATAREL = 0x30,
    PE_INDIRECT = 0x80,
    PE_OMIT = 0xff,
};

/* The value of a pointer encoding's format (its low four bits), read. */
static uint64_t read_format(reader *r, uint8_t format)
{
    switch (format) {
    case PE_ABSPTR:
    case PE_UDATA8:
    case PE_SDATA8:
        return read_fixed(r, 8);
    case PE_ULEB128:
        return read_uleb(r);
    case PE_UDATA2:
        return read_fixed(r, 2);
    case PE_UDATA4:
        return read_fixed(r, 4);
    case PE_SLEB128:
        return (uint64_t)read_sleb(r);
    case PE_SDATA2:
        return (uint64_t)(int64_t)(int16_t)read_fixed(r, 2);
    case PE_SDATA4:
        return (uint64_t)(int64_t)(int32_t)read_fixed(r, 4);
    default:
        r->ok = false;
        return 0;
    }
}

/* A value in encoding enc; pc-relative and data-relative ones (to base)
 * are made absolute, an indirect one is read but not followed (the caller
 * only skips it). */
static uint64_t read_encoded(reader *r, uint8_t enc, const uint8_t *base)
{
    uintptr_t at = (uintptr_t)r->p;
    uint64_t v = read_format(r, enc & 0x0f);
    switch (enc & 0x70) {
    case 0:
        return v;
    case PE_PCREL:
        return v + at;
    case PE_DATAREL:
        return v + (uintptr_t)base;
    default:
        r->ok = false;
        return 0;
    }
}

/* ---- CIEs and FDEs -------------------------------------------------------- */

/* What an FDE's CIE says. */
typedef struct cie {
    uint64_t code_align;
    int64_t data_align;
    uint8_t fde_enc; /* how the FDE's addresses are encoded */
    bool aug_data;   /* "z": FDEs carry augmentation data */
    reader program;  /* the initial instructions */
} cie;

/* Skips the augmentation data of a "z" CIE, one letter at a time: false
 * for a letter not known here, or "S" (a signal frame). */
static bool read_augmentation(reader *r, const char *aug, cie *c)
{
    reader data = reader_take(r, read_uleb(r));
    for (const char *a = aug + 1; *a && data.ok; a++) {
        if (*a == 'R') {
            c->fde_enc = (uint8_t)read_fixed(&data, 1);
        } else if (*a == 'L') {
            (void)read_fixed(&data, 1);
        } else if (*a == 'P') {
            uint8_t enc = (uint8_t)read_fixed(&data, 1);
            (void)read_encoded(&data, enc & (uint8_t)~PE_INDIRECT, NULL);
        } else {
            return false;
        }
    }
    return data.ok;
}

/* The CIE at p (an FDE's pointer to it). */
static bool read_cie(const module *m, const uint8_t *p, cie *c)
{
    reader r = reader_at(m, p);
    uint64_t length = read_fixed(&r, 4);
    if (length == 0 || length == 0xffffffffu) /* a terminator, or 64-bit DWARF */
        return false;
    reader body = reader_take(&r, length);
    uint32_t id = (uint32_t)read_fixed(&body, 4);
    uint8_t version = (uint8_t)read_fixed(&body, 1);
    if (!body.ok || id != 0 || (version != 1 && version != 3))
        return false;
    const char *aug = (const char *)body.p;
    size_t aug_len = strnlen(aug, (size_t)(body.end - body.p));
    if (aug_len == (size_t)(body.end - body.p) || (aug_len > 0 && aug[0] != 'z'))
        return false;
    body.p += aug_len + 1;
    *c = (cie){.fde_enc = PE_ABSPTR, .aug_data = aug_len > 0};
    c->code_align = read_uleb(&body);
    c->data_align = read_sleb(&body);
    uint64_t ra_column = version == 1 ? read_fixed(&body, 1) : read_uleb(&body);
    if (ra_column != REG_RA || (c->aug_data && !read_augmentation(&body, aug, c)))
        return false;
    c->program = body;
    return body.ok;
}

/* The FDE of the last entry of the module's .eh_frame_hdr binary search
 * table that starts at or before pc; NULL if the table is not one. */
static const uint8_t *search_table(const module *m, uintptr_t pc)
{
    const uint8_t *hdr = m->eh_frame_hdr;
    reader r = reader_at(m, hdr);
    uint8_t version = (uint8_t)read_fixed(&r, 1), ptr_enc = (uint8_t)read_fixed(&r, 1);
    uint8_t count_enc = (uint8_t)read_fixed(&r, 1), table_enc = (uint8_t)read_fixed(&r, 1);
    if (!r.ok || version != 1 || ptr_enc == PE_OMIT || count_enc == PE_OMIT ||
        table_enc != (PE_DATAREL | PE_SDATA4))
        return NULL;
    (void)read_encoded(&r, ptr_enc, hdr);
    uint64_t count = read_encoded(&r, count_enc, hdr);
    if (!r.ok || count == 0 || count > (uint64_t)(r.end - r.p) / 8)
        return NULL;
    const uint8_t *table = r.p; /* pairs of (start, FDE), relative to hdr */
    uint64_t lo = 0, hi = count;
    while (hi - lo > 1) {
        uint64_t mid = lo + (hi - lo) / 2;
        int32_t start;
        memcpy(&start, table + mid * 8, 4);
        if ((uintptr_t)hdr + (uintptr_t)(intptr_t)start <= pc)
            lo = mid;
        else
            hi = mid;
    }
    int32_t fde;
    memcpy(&fde, table + lo * 8 + 4, 4);
    return (const uint8_t *)((uintptr_t)hdr + (uintptr_t)(intptr_t)fde);
}

/* The FDE whose range holds pc: its CIE, its first address, and its
 * instructions. */
static bool find_fde(const module *m, uintptr_t pc, cie *c, uint64_t *start, reader *program)
{
    const uint8_t *fde = search_table(m, pc);
    reader r = fde ? reader_at(m, fde) : (reader){NULL, NULL, false};
    uint64_t length = read_fixed(&r, 4);
    if (length == 0 || length == 0xffffffffu)
        return false;
    reader body = reader_take(&r, length);
    uintptr_t cie_field = (uintptr_t)body.p;
    uint32_t cie_offset = (uint32_t)read_fixed(&body, 4);
    if (!body.ok || cie_offset == 0 || !read_cie(m, (const uint8_t *)(cie_field - cie_offset), c))
        return false;
    *start = read_encoded(&body, c->fde_enc, m->eh_frame_hdr);
    uint64_t range = read_encoded(&body, c->fde_enc & 0x0f, m->eh_frame_hdr);
    if (c->aug_data)
        (void)reader_take(&body, read_uleb(&body));
    *program = body;
    return body.ok && pc - *start < range;
}

/* ---- the CFA program ------------------------------------------------------- */

/* The rule of a register as far as the walk cares. */
typedef enum where { W_SAME, W_UNDEF, W_OFFSET, W_OTHER } where;

typedef struct reg_rule {
    where where;
    int64_t offset; /* W_OFFSET: saved at CFA + offset */
} reg_rule;

/* One row of the table the program describes, for the registers the walk
 * uses. */
typedef struct cfa_row {
    uint64_t cfa_reg;
    int64_t cfa_offset;
    bool cfa_expr; /* the CFA is a DWARF expression */
    reg_rule rbp, rsp, ra;
} cfa_row;

#define MAX_REMEMBERED 8

/* A program running up to pc. */
typedef struct interp {
    reader r;
    const cie *cie;
    const uint8_t *hdr;     /* for DW_CFA_set_loc's encoding */
    const cfa_row *initial; /* the CIE's row (DW_CFA_restore); NULL while running the CIE's */
    cfa_row cur;
    cfa_row stack[MAX_REMEMBERED];
    unsigned depth;
    uint64_t loc, pc;
    bool done; /* the next row starts beyond pc */
} interp;

enum {
    CFA_ADVANCE_LOC = 0x40,
    CFA_OFFSET = 0x80,
    CFA_RESTORE = 0xc0,
    CFA_NOP = 0x00,
    CFA_SET_LOC = 0x01,
    CFA_ADVANCE_LOC1 = 0x02,
    CFA_ADVANCE_LOC2 = 0x03,
    CFA_ADVANCE_LOC4 = 0x04,
    CFA_OFFSET_EXTENDED = 0x05,
    CFA_RESTORE_EXTENDED = 0x06,
    CFA_UNDEFINED = 0x07,
    CFA_SAME_VALUE = 0x08,
    CFA_REGISTER = 0x09,
    CFA_REMEMBER_STATE = 0x0a,
    CFA_RESTORE_STATE = 0x0b,
    CFA_DEF_CFA = 0x0c,
    CFA_DEF_CFA_REGISTER = 0x0d,
    CFA_DEF_CFA_OFFSET = 0x0e,
    CFA_DEF_CFA_EXPRESSION = 0x0f,
    CFA_EXPRESSION = 0x10,
    CFA_OFFSET_EXTENDED_SF = 0x11,
    CFA_DEF_CFA_SF = 0x12,
    CFA_DEF_CFA_OFFSET_SF = 0x13,
    CFA_VAL_OFFSET = 0x14,
    CFA_VAL_OFFSET_SF = 0x15,
    CFA_VAL_EXPRESSION = 0x16,
    CFA_GNU_ARGS_SIZE = 0x2e,
    CFA_GNU_NEGATIVE_OFFSET_EXTENDED = 0x2f,
};

/* The rule of reg in row, NULL for a register the walk does not use. */
static reg_rule *rule_in(cfa_row *row, uint64_t reg)
{
    switch (reg) {
    case REG_RBP:
        return &row->rbp;
    case REG_RSP:
        return &row->rsp;
    case REG_RA:
        return &row->ra;
    default:
        return NULL;
    }
}

static void set_rule(interp *s, uint64_t reg, where w, int64_t offset)
{
    reg_rule *rule = rule_in(&s->cur, reg);
    if (rule)
        *rule = (reg_rule){w, offset};
}

static void restore_rule(interp *s, uint64_t reg)
{
    reg_rule *rule = rule_in(&s->cur, reg);
    cfa_row initial = s->initial ? *s->initial : s->cur;
    if (!s->initial) /* in the CIE's own program */
        s->r.ok = false;
    else if (rule)
        *rule = *rule_in(&initial, reg);
}

/* Moves the location to loc, or ends the run if that is beyond pc. */
static void advance_to(interp *s, uint64_t loc)
{
    if (loc > s->pc)
        s->done = true;
    else
        s->loc = loc;
}

static void advance(interp *s, uint64_t delta)
{
    advance_to(s, s->loc + delta * s->cie->code_align);
}

/* DW_CFA_remember_state and DW_CFA_restore_state. */
static void remember(interp *s, bool push)
{
    if (push && s->depth < MAX_REMEMBERED)
        s->stack[s->depth++] = s->cur;
    else if (!push && s->depth > 0)
        s->cur = s->stack[--s->depth];
    else
        s->r.ok = false;
}

static void def_cfa(interp *s, uint64_t reg, int64_t offset)
{
    s->cur.cfa_reg = reg;
    s->cur.cfa_offset = offset;
    s->cur.cfa_expr = false;
}

/* v times factor, wrapping (damaged tables must not overflow). */
static int64_t scaled(uint64_t v, int64_t factor) { return (int64_t)(v * (uint64_t)factor); }

/* The instructions that save a register at an offset from the CFA; false
 * for an opcode that is none of them. */
static bool offset_op(interp *s, uint8_t op)
{
    reader *r = &s->r;
    int64_t align = s->cie->data_align;
    if (op != CFA_OFFSET_EXTENDED && op != CFA_OFFSET_EXTENDED_SF &&
        op != CFA_GNU_NEGATIVE_OFFSET_EXTENDED)
        return false;
    uint64_t reg = read_uleb(r);
    int64_t offset = op == CFA_OFFSET_EXTENDED      ? scaled(read_uleb(r), align)
                     : op == CFA_OFFSET_EXTENDED_SF ? scaled((uint64_t)read_sleb(r), align)
                                                    : scaled(0 - read_uleb(r), align);
    set_rule(s, reg, W_OFFSET, offset);
    return true;
}

/* The other instructions with a register operand; false for an opcode that
 * is none of them. */
static bool register_op(interp *s, uint8_t op)
{
    reader *r = &s->r;
    switch (op) {
    case CFA_RESTORE_EXTENDED:
        restore_rule(s, read_uleb(r));
        return true;
    case CFA_UNDEFINED:
        set_rule(s, read_uleb(r), W_UNDEF, 0);
        return true;
    case CFA_SAME_VALUE:
        set_rule(s, read_uleb(r), W_SAME, 0);
        return true;
    case CFA_REGISTER:
    case CFA_VAL_OFFSET:
    case CFA_VAL_OFFSET_SF:
    case CFA_EXPRESSION:
    case CFA_VAL_EXPRESSION: {
        uint64_t reg = read_uleb(r);
        if (op == CFA_EXPRESSION || op == CFA_VAL_EXPRESSION)
            (void)reader_take(r, read_uleb(r)); /* the expression's block */
        else
            (void)read_uleb(r); /* a register or offset (sleb128 reads as uleb128) */
        set_rule(s, reg, W_OTHER, 0);
        return true;
    }
    default:
        return false;
    }
}

/* The instructions about the CFA; false for an opcode that is none of them. */
static bool cfa_op(interp *s, uint8_t op)
{
    reader *r = &s->r;
    switch (op) {
    case CFA_DEF_CFA: {
        uint64_t reg = read_uleb(r);
        def_cfa(s, reg, (int64_t)read_uleb(r));
        return true;
    }
    case CFA_DEF_CFA_SF: {
        uint64_t reg = read_uleb(r);
        def_cfa(s, reg, scaled((uint64_t)read_sleb(r), s->cie->data_align));
        return true;
    }
    case CFA_DEF_CFA_REGISTER:
        r->ok &= !s->cur.cfa_expr;
        s->cur.cfa_reg = read_uleb(r);
        return true;
    case CFA_DEF_CFA_OFFSET:
        s->cur.cfa_offset = (int64_t)read_uleb(r);
        return true;
    case CFA_DEF_CFA_OFFSET_SF:
        s->cur.cfa_offset = scaled((uint64_t)read_sleb(r), s->cie->data_align);
        return true;
    case CFA_DEF_CFA_EXPRESSION:
        (void)reader_take(r, read_uleb(r));
        s->cur.cfa_expr = true;
        return true;
    default:
        return false;
    }
}

/* Runs one of the instructions whose operand is in their top two bits'
 * byte; false for an opcode that is none of them. */
static bool primary_op(interp *s, uint8_t op)
{
    uint8_t operand = op & 0x3f;
    switch (op & 0xc0) {
    case CFA_ADVANCE_LOC:
        advance(s, operand);
        return true;
    case CFA_OFFSET:
        set_rule(s, operand, W_OFFSET, scaled(read_uleb(&s->r), s->cie->data_align));
        return true;
    case CFA_RESTORE:
        restore_rule(s, operand);
        return true;
    default:
        return false;
    }
}

/* Runs one instruction. */
static void step(interp *s)
{
    reader *r = &s->r;
    uint8_t op = (uint8_t)read_fixed(r, 1);
    if (!r->ok || primary_op(s, op))
        return;
    switch (op) {
    case CFA_NOP:
        return;
    case CFA_SET_LOC:
        advance_to(s, read_encoded(r, s->cie->fde_enc, s->hdr));
        return;
    case CFA_ADVANCE_LOC1:
        advance(s, read_fixed(r, 1));
        return;
    case CFA_ADVANCE_LOC2:
        advance(s, read_fixed(r, 2));
        return;
    case CFA_ADVANCE_LOC4:
        advance(s, read_fixed(r, 4));
        return;
    case CFA_REMEMBER_STATE:
        remember(s, true);
        return;
    case CFA_RESTORE_STATE:
        remember(s, false);
        return;
    case CFA_GNU_ARGS_SIZE:
        (void)read_uleb(r);
        return;
    default:
        r->ok &= offset_op(s, op) || register_op(s, op) || cfa_op(s, op);
        return;
    }
}

/* Runs program until the row for s->pc is known or the program ends;
 * false if an instruction could not be followed. */
static bool run_program(interp *s, reader program)
{
    s->r = program;
    while (s->r.ok && !s->done && s->r.p < s->r.end)
        step(s);
    return s->r.ok;
}

/* The row for pc of the FDE that starts at start with instructions
 * program, after its CIE's. */
static bool row_at(const module *m, const cie *c, uint64_t start, reader program, uintptr_t pc,
                   cfa_row *out)
{
    interp s = {.cie = c, .hdr = m->eh_frame_hdr, .pc = UINT64_MAX};
    s.cur.cfa_expr = true; /* no CFA until the CIE defines one */
    if (!run_program(&s, c->program))
        return false;
    cfa_row initial = s.cur;
    s.initial = &initial;
    s.depth = 0;
    s.loc = start;
    s.pc = pc;
    s.done = false;
    if (!run_program(&s, program))
        return false;
    *out = s.cur;
    return true;
}

/* ---- the rule ------------------------------------------------------------------ */

/* The walk's form of row: what libunwind's fast path would follow. */
static rc_frame_layout classify(const cfa_row *row)
{
    rc_frame_layout none = {.kind = RC_FRAME_UNKNOWN};
    if (row->ra.where == W_UNDEF || row->rbp.where == W_UNDEF)
        return (rc_frame_layout){.kind = RC_FRAME_LAST}; /* libunwind ends the stack there */
    if (row->cfa_expr || (row->cfa_reg != REG_RBP && row->cfa_reg != REG_RSP) ||
        row->cfa_offset <= -(1 << 28) || row->cfa_offset >= (1 << 28))
        return none;
    if (row->ra.where != W_OFFSET || row->ra.offset != -8 || row->rsp.where != W_SAME)
        return none;
    if (row->rbp.where == W_OFFSET &&
        (row->rbp.offset == 0 || row->rbp.offset <= -(1 << 14) || row->rbp.offset >= (1 << 14)))
        return none;
    if (row->rbp.where != W_OFFSET && row->rbp.where != W_SAME)
        return none;
    rc_frame_layout layout = {
        .cfa_offset = (int32_t)row->cfa_offset,
        .rbp_offset = row->rbp.where == W_OFFSET ? (int16_t)row->rbp.offset : 0,
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

rc_frame_layout rc_trace_cfi_layout(uintptr_t ret)
{
    uintptr_t pc = ret - 1; /* the call: the return address may start another function */
    module m;
    module_query q = {.pc = pc, .out = &m};
    dl_iterate_phdr(find_module, &q);
    cie c;
    uint64_t start;
    reader program;
    cfa_row row;
    if (q.found && m.eh_frame_hdr && find_fde(&m, pc, &c, &start, &program) &&
        row_at(&m, &c, start, program, pc, &row))
        return classify(&row);
    return (rc_frame_layout){.kind = RC_FRAME_UNKNOWN};
}

#else /* not x86-64: the checked walk is not available, libunwind unwinds */

rc_frame_layout rc_trace_cfi_layout(uintptr_t ret)
{
    (void)ret;
    return (rc_frame_layout){.kind = RC_FRAME_UNKNOWN};
}

#endif
