/* sizes_reclaim.c: rc_sizeof (sys.getsizeof) of an int (1000: not a cached
 * small int), a 10-character str, an empty list, and a dict of 1,000 int
 * keys (0..999 -> themselves) and of 1,000 str keys ("key0".."key999"),
 * side by side with sizes_cpython.py's sys.getsizeof of the same objects.
 * Prints: RESULT sizes_<int|str10|list_empty|dict1000_int|dict1000_str> reclaim <bytes> bytes
 */
#include "bench_util.h"

#include <reclaim.h>

static void *dict_of(int kind)
{
    void *d = rc_dict_new();
    for (long i = 0; i < 1000; i++) {
        char text[16];
        snprintf(text, sizeof text, "key%ld", i);
        void *k = kind ? rc_str_from(text) : rc_int_new(i);
        if (!k || rc_dict_set(d, k, k) != 0)
            bench_fail("making the dict: %s", rc_last_error());
        rc_decref(k);
    }
    return d;
}

int main(void)
{
    void *objs[] = {rc_int_new(1000), rc_str_from("abcdefghij"), rc_list_new(), dict_of(0),
                    dict_of(1)};
    static const char *const names[] = {"sizes_int", "sizes_str10", "sizes_list_empty",
                                        "sizes_dict1000_int", "sizes_dict1000_str"};
    for (int i = 0; i < 5; i++) {
        if (!objs[i])
            bench_fail("%s: %s", names[i], rc_last_error());
        bench_result(names[i], "reclaim", (double)rc_sizeof(objs[i]), "bytes");
        rc_decref(objs[i]);
    }
    return 0;
}
