/* rss.h: the test programs' view of their own memory: resident bytes, and
 * the mappings that hold an address. */
#ifndef RECLAIM_TESTS_RSS_H
#define RECLAIM_TESTS_RSS_H

#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

/* The process's resident bytes now (/proc/self/statm), 0 if unreadable. */
static inline size_t rss_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long size = 0, resident = 0;
    if (f) {
        if (fscanf(f, "%lu %lu", &size, &resident) != 2)
            resident = 0;
        fclose(f);
    }
    return (size_t)resident * (size_t)sysconf(_SC_PAGESIZE);
}

/* The start of the mapping that covers address a (/proc/self/maps), 0 if
 * none does or the file cannot be read. */
static inline uintptr_t mapping_start(const void *a)
{
    FILE *f = fopen("/proc/self/maps", "r");
    char line[512];
    uintptr_t start = 0;
    while (f && !start && fgets(line, sizeof line, f)) {
        unsigned long long lo, hi;
        if (sscanf(line, "%llx-%llx", &lo, &hi) == 2 && lo <= (uintptr_t)a && (uintptr_t)a < hi)
            start = (uintptr_t)lo;
    }
    if (f)
        fclose(f);
    return start;
}

#endif
