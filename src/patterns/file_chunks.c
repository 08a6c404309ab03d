/* file_chunks.c: a file of any size processed a chunk at a time through
 * mmap (the seeds' process_large_file_efficiently, with the mapping cut to
 * one chunk so that memory stays bounded).
 *
 * Chunk k covers [k * chunk_size, min((k + 1) * chunk_size, size)). A
 * mapping must start on a page boundary, so chunk k's window starts at the
 * chunk's offset rounded down to a page and ends at the chunk's end: at
 * most chunk_size + page - 1 bytes. Exactly one window is mapped while the
 * chunk function runs, and none after it returns, so the walk adds at most
 * one window to the process's resident memory, whatever the file's size.
 * The pages themselves are the kernel's page cache; RC_CHUNKS_DROP_CACHE
 * asks it to drop them after use. The page cache holds files in folios of
 * up to 2 MiB, each aligned to its size, and POSIX_FADV_DONTNEED drops only
 * the folios wholly inside its range: so each request starts at the 2 MiB
 * boundary below the previous request's end (what a folio straddling that
 * end kept is dropped now), and the last one reaches the end of the file.
 *
 * No reclaim memory is allocated: the walk works without a heap.
 */
#include "patterns_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct chunk_walk {
    const char *path;
    int fd;
    uint64_t size;
    size_t chunk_size, page;
    rc_chunk_fn fn;
    void *arg;
    unsigned flags;
    uint64_t drop_from; /* RC_CHUNKS_DROP_CACHE: the next request's start */
} chunk_walk;

#define RC_CHUNKS_FOLIO_MAX ((uint64_t)2 << 20)

static int check_args(const char *path, size_t chunk_size, rc_chunk_fn fn, unsigned flags,
                      size_t page)
{
    if (!path)
        return rc_set_error(RC_EINVAL, "rc_file_chunks: path is NULL");
    if (!fn)
        return rc_set_error(RC_EINVAL, "rc_file_chunks: fn is NULL");
    if (chunk_size == 0)
        return rc_set_error(RC_EINVAL, "rc_file_chunks: chunk_size is 0");
    if (chunk_size > SIZE_MAX - page)
        return rc_set_error(RC_EINVAL, "rc_file_chunks: chunk_size %zu is too large", chunk_size);
    if (flags & ~(unsigned)RC_CHUNKS_DROP_CACHE)
        return rc_set_error(RC_EINVAL, "rc_file_chunks: unknown flags 0x%x", flags);
    return 0;
}

/* Opens path and finds its size; 0, or a code with a message. */
static int open_file(chunk_walk *walk)
{
    walk->fd = open(walk->path, O_RDONLY | O_CLOEXEC);
    if (walk->fd < 0) {
        int err = errno;
        return rc_set_error(err == ENOENT ? RC_ENOTFOUND : RC_EIO,
                            "rc_file_chunks: cannot open '%s': %s", walk->path, strerror(err));
    }
    struct stat st;
    int code = 0;
    if (fstat(walk->fd, &st) != 0)
        code = rc_set_error(RC_EIO, "rc_file_chunks: fstat of '%s' failed: %s", walk->path,
                            strerror(errno));
    else if (!S_ISREG(st.st_mode))
        code = rc_set_error(RC_EINVAL, "rc_file_chunks: '%s' is not a regular file", walk->path);
    if (code) {
        close(walk->fd);
        return code;
    }
    walk->size = (uint64_t)st.st_size;
    return 0;
}

/* Asks the kernel to drop the cached pages of the file up to end. */
static void drop_cache(chunk_walk *walk, uint64_t end)
{
    off_t len = end >= walk->size ? 0 : (off_t)(end - walk->drop_from); /* 0: to the end */
    posix_fadvise(walk->fd, (off_t)walk->drop_from, len, POSIX_FADV_DONTNEED);
    walk->drop_from = end & ~(RC_CHUNKS_FOLIO_MAX - 1);
}

/* Maps the window of the chunk [offset, offset + len), calls fn, unmaps. */
static int one_chunk(chunk_walk *walk, uint64_t offset, size_t len)
{
    uint64_t start = offset & ~(uint64_t)(walk->page - 1);
    size_t lead = (size_t)(offset - start), window = lead + len;
    void *map = mmap(NULL, window, PROT_READ, MAP_SHARED, walk->fd, (off_t)start);
    if (map == MAP_FAILED) {
        int err = errno;
        return rc_set_error(err == ENOMEM ? RC_ENOMEM : RC_EIO,
                            "rc_file_chunks: mmap of %zu bytes at offset %" PRIu64
                            " of '%s' failed: %s",
                            window, start, walk->path, strerror(err));
    }
    madvise(map, window, MADV_SEQUENTIAL);
    int stop = walk->fn((const char *)map + lead, len, offset, walk->arg);
    munmap(map, window);
    if (walk->flags & RC_CHUNKS_DROP_CACHE)
        drop_cache(walk, offset + len);
    if (stop)
        return rc_set_error(stop,
                            "rc_file_chunks: stopped by the chunk function at offset %" PRIu64
                            " (it returned %d)",
                            offset, stop);
    return 0;
}

int rc_file_chunks(const char *path, size_t chunk_size, rc_chunk_fn fn, void *arg, unsigned flags)
{
    chunk_walk walk = {
        .path = path, .chunk_size = chunk_size, .fn = fn, .arg = arg, .flags = flags};
    walk.page = (size_t)sysconf(_SC_PAGESIZE);
    int code = check_args(path, chunk_size, fn, flags, walk.page);
    if (code == 0)
        code = open_file(&walk);
    if (code)
        return code;
    for (uint64_t offset = 0; offset < walk.size && code == 0; offset += chunk_size) {
        uint64_t rest = walk.size - offset;
        code = one_chunk(&walk, offset, rest < chunk_size ? (size_t)rest : chunk_size);
    }
    close(walk.fd);
    return code;
}
