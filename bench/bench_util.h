/* bench_util.h: what every benchmark program shares.
 *
 * A monotonic clock, the median of repeated runs, the resident set size read
 * from /proc/self/statm, a seeded PRNG (splitmix64, so that every allocator
 * sees the same sequence), the name of the malloc in use (the programs built
 * on plain malloc run under LD_PRELOAD), and the one line format run.sh
 * parses:
 *
 *     RESULT <workload> <impl> <value> <unit>
 *
 * Include it first: it asks for the GNU extensions of the C library.
 */
#ifndef BENCH_UTIL_H
#define BENCH_UTIL_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <dlfcn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BENCH_MAX_REPS 31

static inline uint64_t bench_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Prints "bench: <message>" on stderr and exits with status 1: a benchmark
 * whose result cannot be trusted (a wrong count, no memory) reports nothing. */
__attribute__((noreturn, format(printf, 1, 2))) static inline void bench_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("bench: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

/* The median of count values (sorts them in place). */
static inline double bench_median(double *values, int count)
{
    for (int i = 1; i < count; i++) {
        double v = values[i];
        int j = i;
        for (; j > 0 && values[j - 1] > v; j--)
            values[j] = values[j - 1];
        values[j] = v;
    }
    if (count % 2)
        return values[count / 2];
    return (values[count / 2 - 1] + values[count / 2]) / 2;
}

/* One repetition of a workload; returns its figure (e.g. ns per op). */
typedef double (*bench_run_fn)(void *ctx);

/* Runs run(ctx) reps times and returns the median figure. */
static inline double bench_median_of(int reps, bench_run_fn run, void *ctx)
{
    double values[BENCH_MAX_REPS];
    if (reps < 1 || reps > BENCH_MAX_REPS)
        bench_fail("repetitions must be 1..%d, not %d", BENCH_MAX_REPS, reps);
    for (int i = 0; i < reps; i++)
        values[i] = run(ctx);
    return bench_median(values, reps);
}

/* Resident bytes of the process (second field of /proc/self/statm). */
static inline size_t bench_rss_bytes(void)
{
    unsigned long size = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f || fscanf(f, "%lu %lu", &size, &resident) != 2)
        bench_fail("cannot read /proc/self/statm");
    fclose(f);
    return (size_t)resident * (size_t)sysconf(_SC_PAGESIZE);
}

/* Resident bytes of anonymous memory (RssAnon in /proc/self/status): the
 * heap's pages, without the file pages (program text, libraries) that the
 * resident set also counts. */
static inline size_t bench_anon_bytes(void)
{
    char line[256];
    size_t kib = 0;
    bool found = false;
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        bench_fail("cannot read /proc/self/status");
    while (!found && fgets(line, sizeof line, f))
        found = sscanf(line, "RssAnon: %zu kB", &kib) == 1;
    fclose(f);
    if (!found)
        bench_fail("no RssAnon in /proc/self/status");
    return kib * 1024;
}

/* splitmix64: one 64-bit random number from *state. */
static inline uint64_t bench_random(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

/* Keeps a value observable so that the compiler cannot drop the work. */
static inline void bench_keep(uint64_t value)
{
    static volatile uint64_t sink;
    sink += value;
}

/* argv[index] as a number, fallback when absent; a bad one is fatal. */
static inline long bench_arg(int argc, char **argv, int index, long fallback)
{
    if (index >= argc)
        return fallback;
    char *end;
    long value = strtol(argv[index], &end, 10);
    if (*end != '\0' || value <= 0)
        bench_fail("argument %d must be a positive number, not '%s'", index, argv[index]);
    return value;
}

/* The malloc this process runs on: LD_PRELOAD decides, so ask the symbols. */
static inline const char *bench_malloc_name(void)
{
    if (dlsym(RTLD_DEFAULT, "mi_malloc"))
        return "mimalloc";
    if (dlsym(RTLD_DEFAULT, "mallctl"))
        return "jemalloc";
    return "glibc";
}

static inline void bench_result(const char *workload, const char *impl, double value,
                                const char *unit)
{
    printf("RESULT %s %s %.2f %s\n", workload, impl, value, unit);
    fflush(stdout);
}

#endif
