/* dict_glib.c: GLib's GHashTable on the workload of dict_workload.h: int
 * keys are pointers to gint64 values with g_int64_hash/g_int64_equal,
 * string keys are C strings with g_str_hash/g_str_equal; each key maps to
 * itself; no destroy functions (the keys outlive the table).
 * Usage: dict_glib [n (1000000)] [repetitions (5)] [shuffled]
 */
#include "dict_workload.h"

#include <glib.h>

typedef struct keyset {
    gint64 *ints;
    char **strs;
    const long *order; /* dict_order */
} keyset;

/* The key visited i-th: a pointer to its gint64, or its C string. */
static gpointer key_at(const keyset *ks, int kind, long i)
{
    long k = dict_visit(ks->order, i);
    return kind == DICT_INT ? (gpointer)&ks->ints[k] : (gpointer)ks->strs[k];
}

static dict_times run(int kind, long n, void *ctx)
{
    keyset *ks = ctx;
    GHashTable *table = kind == DICT_INT ? g_hash_table_new(g_int64_hash, g_int64_equal)
                                         : g_hash_table_new(g_str_hash, g_str_equal);
    uint64_t start = bench_now_ns();
    for (long i = 0; i < n; i++) {
        gpointer key = key_at(ks, kind, i);
        g_hash_table_insert(table, key, key);
    }
    uint64_t mid = bench_now_ns();
    long found = 0;
    for (long i = 0; i < n; i++) {
        gpointer key = key_at(ks, kind, i);
        found += g_hash_table_lookup(table, key) == key;
    }
    uint64_t end = bench_now_ns();
    if (found != n || (long)g_hash_table_size(table) != n)
        bench_fail("glib: %ld of %ld keys found", found, n);
    g_hash_table_destroy(table);
    return (dict_times){(double)(mid - start) / (double)n, (double)(end - mid) / (double)n};
}

int main(int argc, char **argv)
{
    long n = bench_arg(argc, argv, 1, DICT_N);
    int reps = (int)bench_arg(argc, argv, 2, DICT_REPS);
    keyset ks = {malloc((size_t)n * sizeof *ks.ints), malloc((size_t)n * sizeof *ks.strs),
                 dict_order(argc, argv, n)};
    if (!ks.ints || !ks.strs)
        bench_fail("out of memory");
    for (long i = 0; i < n; i++) {
        char text[32];
        dict_key_text(text, sizeof text, i);
        ks.ints[i] = i;
        ks.strs[i] = strdup(text);
        if (!ks.strs[i])
            bench_fail("out of memory");
    }
    dict_report("glib", DICT_INT, reps, n, ks.order != NULL, run, &ks);
    dict_report("glib", DICT_STR, reps, n, ks.order != NULL, run, &ks);
    for (long i = 0; i < n; i++)
        free(ks.strs[i]);
    free(ks.strs);
    free(ks.ints);
    free((void *)ks.order);
    return 0;
}
