/* test_patterns_chunks_10g.c: rc_file_chunks reads a 10 GB sparse file to
 * the end with the process's resident memory under 64 MB.
 *
 * The file (ftruncate: no disk blocks but its markers) is 10 GiB + 12345
 * bytes with a few marker strings written at known offsets: at the start,
 * across a chunk boundary, across a page boundary, in the middle, and
 * ending at the last byte. The walk (chunks of 8,000,000 bytes: not a page
 * multiple, so windows start mid-page) must see every byte once: the count,
 * the number of chunks, the last chunk's length and a position-weighted
 * checksum of the non-zero bytes are compared with what the markers give.
 *
 * Memory: VmRSS (rss_bytes, rss.h) is sampled inside every chunk call,
 * while its window is mapped and read, and the process's peak
 * (getrusage ru_maxrss) is checked after the walk. The control shows the
 * measurement is real: one 256 MiB chunk of the same file, read the same
 * way, must show in VmRSS as more than 64 MB.
 */
// ctest-labels: slow
#include "check.h"
#include "rss.h"

#include <reclaim.h>

#include <fcntl.h>
#include <sys/resource.h>
#include <time.h>

#define GIB       ((uint64_t)1 << 30)
#define FILE_SIZE (10 * GIB + 12345)
#define CHUNK     8000000u
#define RSS_LIMIT (64u << 20)
#define BIG_CHUNK ((size_t)256 << 20)

static const struct {
    uint64_t offset;
    const char *text;
} markers[] = {
    {0, "BEGIN"},
    {CHUNK - 3, "ACROSS-A-CHUNK"},
    {4096 * 1000 - 2, "PAGE"},
    {5 * GIB + 17, "MIDDLE"},
    {FILE_SIZE - 3, "END"},
};

static char path[64];

typedef struct walk {
    uint64_t next_offset, bytes, checksum, nonzero;
    size_t chunks, bad_offsets, bad_lengths, last_len, max_rss;
} walk;

/* Adds b * (offset + 1) for every non-zero byte: a word at a time. */
static void scan(walk *w, const unsigned char *data, size_t len, uint64_t offset)
{
    size_t i = 0;
    for (; i < len && ((uintptr_t)(data + i) & 7); i++) {
        w->checksum += data[i] * (offset + i + 1);
        w->nonzero += data[i] != 0;
    }
    for (; i + 8 <= len; i += 8) {
        uint64_t word;
        memcpy(&word, data + i, 8);
        if (word == 0)
            continue;
        for (size_t k = i; k < i + 8; k++) {
            w->checksum += data[k] * (offset + k + 1);
            w->nonzero += data[k] != 0;
        }
    }
    for (; i < len; i++) {
        w->checksum += data[i] * (offset + i + 1);
        w->nonzero += data[i] != 0;
    }
}

static int walk_chunk(const void *data, size_t len, uint64_t offset, void *arg)
{
    walk *w = arg;
    w->bad_offsets += offset != w->next_offset;
    w->bad_lengths += len != CHUNK && offset + len != FILE_SIZE;
    w->next_offset = offset + len;
    w->bytes += len;
    w->chunks++;
    w->last_len = len;
    scan(w, data, len, offset);
    size_t rss = rss_bytes(); /* the window is mapped and every page was read */
    if (rss > w->max_rss)
        w->max_rss = rss;
    return 0;
}

/* Reads every page of one big chunk, samples VmRSS, stops the walk. */
static int touch_then_stop(const void *data, size_t len, uint64_t offset, void *arg)
{
    (void)offset;
    const volatile unsigned char *p = data;
    unsigned sum = 0;
    for (size_t i = 0; i < len; i += 4096)
        sum += p[i];
    *(size_t *)arg = rss_bytes() + sum; /* sum is 0: the chunk is a hole */
    return 7;
}

static void make_file(void)
{
    snprintf(path, sizeof path, "chunks_sparse_%d.bin", (int)getpid());
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    CHECK(fd >= 0);
    CHECK_EQ(ftruncate(fd, (off_t)FILE_SIZE), 0);
    for (size_t i = 0; i < sizeof markers / sizeof markers[0]; i++) {
        size_t n = strlen(markers[i].text);
        CHECK_EQ(pwrite(fd, markers[i].text, n, (off_t)markers[i].offset), (long long)n);
    }
    close(fd);
}

static double seconds_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

int main(void)
{
    make_file();
    uint64_t checksum = 0, nonzero = 0;
    for (size_t i = 0; i < sizeof markers / sizeof markers[0]; i++) {
        for (size_t k = 0; markers[i].text[k]; k++) {
            checksum += (unsigned char)markers[i].text[k] * (markers[i].offset + k + 1);
            nonzero++;
        }
    }

    size_t rss_before = rss_bytes();
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    walk w = {0};
    CHECK_EQ(rc_file_chunks(path, CHUNK, walk_chunk, &w, RC_CHUNKS_DROP_CACHE), 0);
    double secs = seconds_since(&t0);
    CHECK(w.bytes == FILE_SIZE);
    CHECK_EQ(w.chunks, (FILE_SIZE + CHUNK - 1) / CHUNK); /* 1343 */
    CHECK_EQ(w.last_len, FILE_SIZE % CHUNK);
    CHECK_EQ(w.bad_offsets, 0);
    CHECK_EQ(w.bad_lengths, 0);
    CHECK(w.checksum == checksum);
    CHECK(w.nonzero == nonzero);
    CHECK(w.max_rss < RSS_LIMIT);
    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    size_t peak = (size_t)usage.ru_maxrss * 1024; /* the whole run so far */
    CHECK(peak < RSS_LIMIT);
    printf("10 GiB + 12345 bytes in %zu chunks of %u: %.1f s (%.2f GB/s); VmRSS %.1f MB before, "
           "%.1f MB at most during; peak RSS %.1f MB\n",
           w.chunks, CHUNK, secs, (double)FILE_SIZE / secs / 1e9, rss_before / 1e6, w.max_rss / 1e6,
           peak / 1e6);

    /* the control: a 256 MiB window read the same way shows in VmRSS */
    size_t rss_big = 0;
    CHECK_EQ(rc_file_chunks(path, BIG_CHUNK, touch_then_stop, &rss_big, RC_CHUNKS_DROP_CACHE), 7);
    CHECK(rss_big > RSS_LIMIT);
    CHECK(rss_big > rss_before + BIG_CHUNK - (16u << 20));
    printf("control: one chunk of 256 MiB read: VmRSS %.1f MB\n", rss_big / 1e6);
    unlink(path);
    return check_report();
}
