/* test_patterns_chunks.c: rc_file_chunks on small files: every byte seen
 * once, in order, at the right offset, for chunk sizes that divide the
 * file or not, are page multiples or not, or exceed the file; an empty
 * file; each error with its code and message; a chunk function stopping
 * the walk; and RC_CHUNKS_DROP_CACHE checked with mincore. (The 10 GB
 * sparse file and its RSS bound: test_patterns_chunks_10g.c.) */
#include "check.h"

#include <reclaim.h>

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>

enum { FILE_SIZE = 10000 };
static unsigned char expected[FILE_SIZE];
static char path[64], dir_path[64];

typedef struct walk_log {
    size_t chunks, bytes, mismatches, short_chunks, last_len;
    uint64_t next_offset;
    size_t stop_at; /* stop (return 5) at this chunk index; 0: never */
} walk_log;

static int check_chunk(const void *data, size_t len, uint64_t offset, void *arg)
{
    walk_log *log = arg;
    log->mismatches += offset != log->next_offset;
    log->mismatches += offset + len > FILE_SIZE || memcmp(data, expected + offset, len) != 0;
    log->next_offset = offset + len;
    log->bytes += len;
    log->last_len = len;
    log->chunks++;
    if (log->stop_at && log->chunks == log->stop_at)
        return 5;
    return 0;
}

static void write_file(const char *name, const void *data, size_t n)
{
    int fd = open(name, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    CHECK(fd >= 0);
    CHECK_EQ(write(fd, data, n), (long long)n);
    CHECK_EQ(fsync(fd), 0);
    close(fd);
}

static void test_chunk_sizes(void)
{
    static const struct {
        size_t chunk, chunks, last;
    } cases[] = {
        {4096, 3, 10000 - 8192}, /* page multiple, size not a multiple */
        {1000, 10, 1000},        /* not a page multiple: windows start mid-page */
        {3, 3334, 1},            /* tiny */
        {2500, 4, 2500},         /* divides the file */
        {1 << 20, 1, 10000},     /* larger than the file */
        {10000, 1, 10000},       /* exactly the file */
        {9999, 2, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        walk_log log = {0};
        CHECK_EQ(rc_file_chunks(path, cases[i].chunk, check_chunk, &log, 0), 0);
        CHECK_EQ(log.chunks, cases[i].chunks);
        CHECK_EQ(log.bytes, FILE_SIZE);
        CHECK_EQ(log.last_len, cases[i].last);
        CHECK_EQ(log.mismatches, 0);
    }
}

static void test_empty_file(void)
{
    char empty[64];
    snprintf(empty, sizeof empty, "chunks_empty_%d.bin", (int)getpid());
    write_file(empty, "", 0);
    walk_log log = {0};
    CHECK_EQ(rc_file_chunks(empty, 4096, check_chunk, &log, 0), 0);
    CHECK_EQ(log.chunks, 0);
    unlink(empty);
}

static void test_errors(void)
{
    walk_log log = {0};
    CHECK_EQ(rc_file_chunks("no/such/file.bin", 4096, check_chunk, &log, 0), RC_ENOTFOUND);
    CHECK(strcmp(rc_last_error(),
                 "rc_file_chunks: cannot open 'no/such/file.bin': No such file or directory") == 0);
    CHECK_EQ(rc_file_chunks(path, 0, check_chunk, &log, 0), RC_EINVAL);
    CHECK(strcmp(rc_last_error(), "rc_file_chunks: chunk_size is 0") == 0);
    CHECK_EQ(rc_file_chunks(path, SIZE_MAX, check_chunk, &log, 0), RC_EINVAL);
    CHECK_STR_CONTAINS(rc_last_error(), "is too large");
    CHECK_EQ(rc_file_chunks(NULL, 4096, check_chunk, &log, 0), RC_EINVAL);
    CHECK_STR_CONTAINS(rc_last_error(), "path is NULL");
    CHECK_EQ(rc_file_chunks(path, 4096, NULL, &log, 0), RC_EINVAL);
    CHECK_STR_CONTAINS(rc_last_error(), "fn is NULL");
    CHECK_EQ(rc_file_chunks(path, 4096, check_chunk, &log, 0x10), RC_EINVAL);
    CHECK_STR_CONTAINS(rc_last_error(), "unknown flags 0x10");
    CHECK_EQ(rc_file_chunks(dir_path, 4096, check_chunk, &log, 0), RC_EINVAL);
    CHECK_STR_CONTAINS(rc_last_error(), "is not a regular file");
    CHECK_EQ(log.chunks, 0); /* no error called the chunk function */
    if (geteuid() != 0) {    /* root reads anything */
        chmod(path, 0);
        CHECK_EQ(rc_file_chunks(path, 4096, check_chunk, &log, 0), RC_EIO);
        CHECK_STR_CONTAINS(rc_last_error(), "Permission denied");
        chmod(path, 0600);
    }

    /* the chunk function stops the walk: its value comes back */
    log = (walk_log){.stop_at = 3};
    CHECK_EQ(rc_file_chunks(path, 4000, check_chunk, &log, 0), 5);
    CHECK(strcmp(rc_last_error(), "rc_file_chunks: stopped by the chunk function at offset 8000 "
                                  "(it returned 5)") == 0);
    CHECK_EQ(log.chunks, 3);
    CHECK_EQ(log.bytes, 10000);
    CHECK_EQ(log.mismatches, 0);
    log = (walk_log){.stop_at = 1};
    CHECK_EQ(rc_file_chunks(path, 4096, check_chunk, &log, 0), 5);
    CHECK_EQ(log.chunks, 1);
}

/* Pages of the file's first n bytes in the page cache (mincore). */
static size_t cached_pages(const char *name, size_t n)
{
    int fd = open(name, O_RDONLY);
    void *map = mmap(NULL, n, PROT_READ, MAP_SHARED, fd, 0);
    close(fd);
    size_t page = (size_t)sysconf(_SC_PAGESIZE), pages = (n + page - 1) / page, cached = 0;
    unsigned char *vec = malloc(pages);
    CHECK(map != MAP_FAILED && mincore(map, n, vec) == 0);
    for (size_t i = 0; i < pages; i++)
        cached += vec[i] & 1;
    free(vec);
    munmap(map, n);
    return cached;
}

static int touch_chunk(const void *data, size_t len, uint64_t offset, void *arg)
{
    (void)offset;
    const volatile unsigned char *p = data;
    size_t *sum = arg;
    for (size_t i = 0; i < len; i += 4096)
        *sum += p[i];
    return 0;
}

static void test_drop_cache(void)
{
    enum { BIG = 4 << 20 };
    char big[64];
    snprintf(big, sizeof big, "chunks_cache_%d.bin", (int)getpid());
    unsigned char *data = malloc(BIG);
    for (size_t i = 0; i < BIG; i++)
        data[i] = (unsigned char)(i >> 12);
    write_file(big, data, BIG);
    free(data);
    size_t sum = 0;
    CHECK_EQ(rc_file_chunks(big, 1 << 16, touch_chunk, &sum, 0), 0);
    size_t pages = BIG / 4096, kept = cached_pages(big, BIG);
    CHECK_EQ(kept, pages);              /* read without the flag: the pages stay cached */
    CHECK_EQ(sum, 4 * (255 * 256 / 2)); /* the first byte of each page: its index mod 256 */
    sum = 0;
    CHECK_EQ(rc_file_chunks(big, 1 << 16, touch_chunk, &sum, RC_CHUNKS_DROP_CACHE), 0);
    CHECK_EQ(sum, 4 * (255 * 256 / 2));
    size_t left = cached_pages(big, BIG);
    CHECK(left < pages / 8); /* dropped after use */
    printf("page cache: %zu of %zu pages after a plain walk, %zu after RC_CHUNKS_DROP_CACHE\n",
           kept, pages, left);
    unlink(big);
}

int main(void)
{
    for (size_t i = 0; i < FILE_SIZE; i++)
        expected[i] = (unsigned char)(i * 7 + 3 + (i >> 8));
    snprintf(path, sizeof path, "chunks_small_%d.bin", (int)getpid());
    snprintf(dir_path, sizeof dir_path, "chunks_dir_%d", (int)getpid());
    write_file(path, expected, FILE_SIZE);
    mkdir(dir_path, 0700);
    test_chunk_sizes();
    test_empty_file();
    test_errors();
    test_drop_cache();
    unlink(path);
    rmdir(dir_path);
    return check_report();
}
