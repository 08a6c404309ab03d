/* stats_text.h: what rc_heap_print_stats prints for a heap, as a string
 * (malloc'd; the caller frees it), for the tests that check the printed
 * statistics. */
#ifndef RC_TEST_STATS_TEXT_H
#define RC_TEST_STATS_TEXT_H

#include <reclaim.h>

#include <stdio.h>

static inline char *printed_stats(rc_heap *heap)
{
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    if (!out)
        return NULL;
    rc_heap_print_stats(heap, out);
    fclose(out);
    return text;
}

#endif
