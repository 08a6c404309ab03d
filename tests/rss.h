/* rss.h: the test programs' view of their own resident memory. */
#ifndef RECLAIM_TESTS_RSS_H
#define RECLAIM_TESTS_RSS_H

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

#endif
