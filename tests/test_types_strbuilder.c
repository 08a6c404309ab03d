/* test_types_strbuilder.c: building a 100 MB str from 10 million pieces
 * with the memory in use (rc_heap_stats, sampled) staying under twice the
 * result; small builds; reuse. Time is for the benchmarks; this build
 * takes about a second even under ASan. */
#include "check.h"

#include <reclaim.h>

static size_t in_use(void)
{
    rc_alloc_stats stats = {.struct_size = sizeof stats};
    rc_heap_stats(rc_heap_current(), &stats);
    return stats.bytes_in_use;
}

static void test_large_build(void)
{
    enum { PIECES = 10 * 1000 * 1000, PIECE = 10 };
    const size_t result = (size_t)PIECES * PIECE;
    size_t before = in_use(), peak = 0;
    void *sb = rc_strbuilder_new();
    char piece[PIECE + 1];
    int failures = 0;
    for (int i = 0; i < PIECES; i++) {
        snprintf(piece, sizeof piece, "%09d|", i % 1000000000);
        failures += rc_strbuilder_append(sb, piece, PIECE) != 0;
        if ((i & 0xffff) == 0) {
            size_t now = in_use() - before;
            peak = now > peak ? now : peak;
        }
    }
    CHECK_EQ(failures, 0);
    CHECK_EQ(rc_strbuilder_len(sb), result);
    size_t now = in_use() - before;
    peak = now > peak ? now : peak;
    void *s = rc_strbuilder_build(sb);
    now = in_use() - before;
    peak = now > peak ? now : peak;
    CHECK(s != NULL);
    CHECK_EQ(rc_str_len(s), result);
    CHECK_EQ(rc_strbuilder_len(sb), 0);
    CHECK(peak < 2 * result);
    CHECK(peak <= result + result / 4 + 4096); /* the quarter of slack, no copy */
    CHECK(now < result + 4096);                /* the result, shrunk to fit */
    const char *data = rc_str_data(s);
    CHECK(memcmp(data, "000000000|000000001|", 20) == 0);
    CHECK(memcmp(data + result - 10, "009999999|", 10) == 0);
    CHECK(data[result] == '\0');
    CHECK_EQ(rc_sizeof(s), 16 + 20 + 8 + result + 1); /* owns the buffer: its address */
    printf("peak %zu bytes for a result of %zu (%.3fx)\n", peak, result,
           (double)peak / (double)result);
    rc_decref(s);
    rc_decref(sb);
    CHECK(in_use() <= before);
}

static void test_small_and_reuse(void)
{
    RC_AUTO void *sb = rc_strbuilder_new();
    RC_AUTO void *empty = rc_strbuilder_build(sb);
    CHECK(empty && rc_str_len(empty) == 0);
    RC_AUTO void *word = rc_str_from("world");
    CHECK_EQ(rc_strbuilder_append(sb, "hello ", 6), 0);
    CHECK_EQ(rc_strbuilder_append_str(sb, word), 0);
    RC_AUTO void *s = rc_strbuilder_build(sb);
    CHECK(strcmp(rc_str_data(s), "hello world") == 0);
    CHECK_EQ(rc_strbuilder_append(sb, "again", 5), 0); /* reusable */
    RC_AUTO void *t = rc_strbuilder_build(sb);
    CHECK(strcmp(rc_str_data(t), "again") == 0);
    CHECK_EQ(rc_strbuilder_append_str(sb, sb), RC_EINVAL);
    CHECK_STR_CONTAINS(rc_last_error(), "expected a str, got a strbuilder");
    CHECK_EQ(rc_strbuilder_append(word, "x", 1), RC_EINVAL);
    CHECK_EQ(rc_strbuilder_append(sb, NULL, 1), RC_EINVAL);
    /* a built str equals one made directly, and hashes alike */
    for (int i = 0; i < 100; i++)
        rc_strbuilder_append(sb, "abcdefghij", 10);
    RC_AUTO void *big = rc_strbuilder_build(sb);
    char flat[1001];
    for (int i = 0; i < 100; i++)
        memcpy(flat + 10 * i, "abcdefghij", 10);
    RC_AUTO void *direct = rc_str_new(flat, 1000);
    CHECK(rc_equal(big, direct));
    CHECK_EQ(rc_hash(big), rc_hash(direct));
}

int main(void)
{
    test_small_and_reuse();
    test_large_build();
    return check_report();
}
