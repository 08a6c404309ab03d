/* mmap_chunks.c: the seeds' Memory-Mapped Files ("process large file using
 * memory mapping"), in C with rc_file_chunks.
 *
 *     def process_large_file_efficiently(filename):
 *         with mmap.mmap(f.fileno(), file_size) as mmapped_file:
 *             chunk_size = 1024 * 1024  # 1MB chunks
 *             for i in range(0, file_size, chunk_size):
 *                 chunk = mmapped_file[i:i + chunk_size]
 *                 process_chunk(chunk)
 *
 * The seed maps the whole file and slices copies out of it; rc_file_chunks
 * maps one chunk at a time and hands out the mapped bytes themselves, so
 * memory stays bounded by the chunk size however large the file.
 *
 *     mmap_chunks [FILE]    counts the lines and bytes of FILE; without
 *                           one, of a 40 MB file it writes and checks.
 * Exits non-zero if anything is not as it says.
 */
#include <reclaim.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct Counts {
    uint64_t bytes, lines, chunks;
} Counts;

/* process_chunk: count the lines in it */
static int process_chunk(const void *data, size_t len, uint64_t offset, void *arg)
{
    (void)offset;
    Counts *counts = arg;
    const char *p = data, *end = p + len;
    while ((p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
        counts->lines++;
        p++;
    }
    counts->bytes += len;
    counts->chunks++;
    return 0; /* go on; anything else stops the walk */
}

/* A file of `lines` lines "line <n>\n"; its size. */
static uint64_t write_sample(const char *path, uint64_t lines)
{
    FILE *f = fopen(path, "w");
    uint64_t size = 0;
    for (uint64_t i = 0; f && i < lines; i++) {
        int n = fprintf(f, "line %llu\n", (unsigned long long)i);
        size += n > 0 ? (uint64_t)n : 0;
    }
    if (f)
        fclose(f);
    return size;
}

int main(int argc, char **argv)
{
    char sample[] = "/tmp/mmap_chunks_XXXXXX";
    const char *path = argc > 1 ? argv[1] : sample;
    uint64_t lines = 3000000, size = 0;
    if (argc <= 1) {
        int fd = mkstemp(sample);
        if (fd < 0)
            return 1;
        close(fd);
        size = write_sample(sample, lines);
    }

    size_t chunk_size = 1024 * 1024; /* 1MB chunks */
    Counts counts = {0, 0, 0};
    int code = rc_file_chunks(path, chunk_size, process_chunk, &counts, 0);
    if (code != 0) {
        printf("rc_file_chunks: %s\n", rc_last_error());
        return 1;
    }
    printf("%s: %llu bytes, %llu lines, in %llu chunks of at most 1 MB\n", path,
           (unsigned long long)counts.bytes, (unsigned long long)counts.lines,
           (unsigned long long)counts.chunks);
    if (argc > 1)
        return 0;

    int ok = counts.bytes == size && counts.lines == lines &&
             counts.chunks == (size + chunk_size - 1) / chunk_size;
    /* a missing file is an error with a message, not a crash */
    unlink(sample);
    code = rc_file_chunks(sample, chunk_size, process_chunk, &counts, 0);
    printf("again after deleting it: %d, \"%s\"\n", code, rc_last_error());
    ok = ok && code == RC_ENOTFOUND;
    printf("%s\n", ok ? "ok" : "FAILED");
    return !ok;
}
