/* symbolize.c: the libdwfl session that turns return addresses into file,
 * line and function (see symbolize.h).
 *
 * Invariant: sym->dwfl is NULL when the process's modules could not be
 * reported; lookups then give unknown frames, never an error.
 */
#include "symbolize.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

struct rc_symbolizer {
    Dwfl *dwfl;
};

/* Debug information comes from the module itself, else from a file found by
 * build id in the debug directories (dwfl_build_id_find_debuginfo).
 * dwfl_standard_find_debuginfo would also ask debuginfod servers when
 * DEBUGINFOD_URLS is set, which a library must not do behind its user's
 * back. */
static const Dwfl_Callbacks proc_callbacks = {
    .find_elf = dwfl_linux_proc_find_elf,
    .find_debuginfo = dwfl_build_id_find_debuginfo,
};

Dwfl *rc_symbolizer_report_proc(void)
{
    Dwfl *dwfl = dwfl_begin(&proc_callbacks);
    if (!dwfl)
        return NULL;
    dwfl_report_begin(dwfl);
    int failed = dwfl_linux_proc_report(dwfl, getpid());
    if (dwfl_report_end(dwfl, NULL, NULL) != 0 || failed != 0) {
        dwfl_end(dwfl);
        return NULL;
    }
    return dwfl;
}

rc_symbolizer *rc_symbolizer_new(void)
{
    rc_symbolizer *sym = rc_snap_calloc(1, sizeof *sym);
    if (sym)
        sym->dwfl = rc_symbolizer_report_proc();
    return sym;
}

void rc_symbolizer_free(rc_symbolizer *sym)
{
    if (!sym)
        return;
    if (sym->dwfl)
        dwfl_end(sym->dwfl);
    rc_snap_free(sym);
}

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* No line information: say what is known of pc in out->text. */
static void describe_unknown(Dwfl_Module *mod, Dwarf_Addr pc, const char *symbol, rc_symbol *out)
{
    Dwarf_Addr start = 0;
    const char *module =
        mod ? dwfl_module_info(mod, NULL, &start, NULL, NULL, NULL, NULL, NULL) : NULL;
    if (module && symbol)
        snprintf(out->text, sizeof out->text, "%s (%s+0x%" PRIx64 ")", symbol, base_name(module),
                 (uint64_t)(pc - start));
    else if (module)
        snprintf(out->text, sizeof out->text, "%s+0x%" PRIx64, base_name(module),
                 (uint64_t)(pc - start));
    else
        snprintf(out->text, sizeof out->text, "0x%" PRIx64, (uint64_t)pc);
    out->filename = "<unknown>";
    out->function = out->text;
    out->lineno = 0;
}

void rc_symbolizer_lookup(rc_symbolizer *sym, uintptr_t return_address, rc_symbol *out)
{
    Dwarf_Addr pc = return_address ? (Dwarf_Addr)return_address - 1 : 0;
    Dwfl_Module *mod = sym->dwfl ? dwfl_addrmodule(sym->dwfl, pc) : NULL;
    const char *symbol = mod ? dwfl_module_addrname(mod, pc) : NULL;
    Dwfl_Line *line = mod ? dwfl_module_getsrc(mod, pc) : NULL;
    int lineno = 0;
    const char *file = line ? dwfl_lineinfo(line, NULL, &lineno, NULL, NULL, NULL) : NULL;
    if (!file || !*file) {
        describe_unknown(mod, pc, symbol, out);
        return;
    }
    out->filename = file;
    out->function = symbol ? symbol : "";
    out->lineno = lineno > 0 ? (uint32_t)lineno : 0;
}
