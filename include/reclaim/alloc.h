/* reclaim/alloc.h: heaps and raw memory (layer 1).
 *
 * A heap (rc_heap) owns everything reclaim allocates: the small-object
 * allocator's arenas and pools, large blocks, and (in the upper layers) the
 * objects, the collector's generations and the weak references. A thread has
 * a current heap, made on first use; rc_heap_new/rc_heap_use/rc_heap_destroy
 * manage others. Functions without a heap argument act on the calling
 * thread's current heap.
 *
 * Small blocks (at most RC_SMALL_MAX bytes) come from pools of one size class
 * (16-byte steps) inside 1 MiB arenas mapped with mmap, with no per-block
 * header. Larger blocks come from the system allocator, and from 1 MiB on
 * from a mapping of their own (huge pages where the system allows, grown by
 * mremap). A freed mapping is kept in the heap's large-block cache for reuse
 * by later large blocks, up to a bound, and returned to the system once it
 * has gone unused for a delay (the options below; rc_heap_trim returns it
 * at once). Arenas whose pools are all empty go back to the operating
 * system (up to 8 MiB of them are kept for reuse).
 *
 * Threads. A heap is used by one thread at a time: it is "owned" by the
 * thread whose current heap it is. Owned heaps never take locks.
 *  - rc_free of a block may be called from any thread. A block of a heap the
 *    caller does not own is pushed on that heap's lock-free remote-free list
 *    and returned to its pool by the owner on its next allocation slow path,
 *    collection, statistics call or rc_heap_use.
 *  - Objects (rc_new) are confined to their heap: their reference counts are
 *    plain integers changed only by the owning thread. Dropping the last
 *    reference to an object of a heap owned by another thread stops the
 *    process with a message; dropping it while its heap is owned by no thread
 *    is allowed (the heap is taken for the duration of the deallocation).
 *    To hand objects to another thread, hand over their whole heap:
 *    rc_heap_use(NULL) in one thread, rc_heap_use(heap) in the other.
 *  - A thread's implicit heap (made by rc_heap_current) is destroyed when the
 *    thread exits; explicit heaps live until rc_heap_destroy.
 */
#ifndef RECLAIM_ALLOC_H
#define RECLAIM_ALLOC_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

#define RC_SMALL_MAX       512 /* largest pooled block */
#define RC_SIZE_CLASS_STEP 16  /* size classes are multiples */
#define RC_SIZE_CLASSES    (RC_SMALL_MAX / RC_SIZE_CLASS_STEP)
#define RC_ARENA_SIZE      ((size_t)1 << 20) /* 1 MiB, aligned to its size */
#define RC_POOL_SIZE       ((size_t)1 << 16) /* 64 KiB, 16 pools an arena */

typedef struct rc_heap rc_heap;

/* ---- heaps ---------------------------------------------------------- */

/* A new, empty heap, owned by no thread. NULL if memory is short. The
 * environment chooses its allocator (RECLAIM_MALLOC, below). */
RC_API rc_heap *rc_heap_new(void);

/* How a heap allocates (cf. PYTHONMALLOC):
 *  RC_MALLOC_FROM_ENV  as RECLAIM_MALLOC says when the heap is made:
 *                      "debug" for the debug allocator; unset, "" or
 *                      "default" for the plain one; any other value is
 *                      reported on stderr and the plain one is used.
 *  RC_MALLOC_DEFAULT   the plain allocator, whatever the environment says.
 *  RC_MALLOC_DEBUG     the debug allocator, like PYTHONMALLOC=debug: each
 *                      block (raw or object, small or large) gets guard bytes
 *                      (0xFD) before and after it, its requested size, the
 *                      API that made it and a serial number; new bytes are
 *                      0xCD, freed ones 0xDD. Frees, reallocs and object
 *                      deaths check the block; freed blocks wait in a
 *                      bounded quarantine, checked when they leave it. A
 *                      buffer overflow or underflow, a double free, a free
 *                      of a pointer reclaim did not allocate or through the
 *                      wrong API (rc_free of an object, rc_decref of a raw
 *                      block), and an object used after it was freed stop
 *                      the process with a message naming the block's
 *                      address, requested size and serial (docs/allocator.md).
 *                      Each block costs RC_DEBUG_BLOCK_OVERHEAD bytes more. */
typedef enum rc_malloc_mode {
    RC_MALLOC_FROM_ENV = 0,
    RC_MALLOC_DEFAULT = 1,
    RC_MALLOC_DEBUG = 2,
} rc_malloc_mode;

#define RC_DEBUG_BLOCK_OVERHEAD 40 /* at least; the rest of the size class too */

/* The large-block cache's defaults, and a bound that turns it off (no
 * mapping is that short: nothing is ever cached). */
#define RC_LARGE_CACHE_DEFAULT_BYTES    ((size_t)128 << 20)
#define RC_LARGE_CACHE_DEFAULT_DECAY_MS 1000
#define RC_LARGE_CACHE_OFF              ((size_t)1)

typedef struct rc_heap_options {
    size_t struct_size; /* set to sizeof(rc_heap_options) */
    rc_malloc_mode malloc_mode;
    /* The debug allocator's quarantine: freed blocks held back (not reused)
     * so that a use after free finds them filled with 0xDD. At most this
     * many blocks (0: 1024) and bytes of them (0: 4 MiB); the oldest leave
     * first, checked. */
    size_t quarantine_blocks;
    size_t quarantine_bytes;
    /* The large-block cache (fields appended to the first layout: a
     * struct_size without them gets the defaults). The mappings of freed blocks of 1 MiB or
     * more stay mapped (and resident: their pages are not zeroed again),
     * and a later large block takes the smallest one it fits in, or grows
     * into the one that follows it, without a system call or a page fault.
     * At most large_cache_bytes are kept (0: RC_LARGE_CACHE_DEFAULT_BYTES;
     * RC_LARGE_CACHE_OFF or any bound under 1 MiB: none); when a free
     * would pass the bound, the mappings cached longest are unmapped. A
     * mapping cached for large_cache_decay_ms (0:
     * RC_LARGE_CACHE_DEFAULT_DECAY_MS) without reuse is unmapped by the
     * next allocation, free or resize of a block over RC_SMALL_MAX bytes,
     * the next pool of small blocks taken or emptied (every 16th of either
     * kind of call reads the clock), or rc_heap_stats on the heap: the
     * allocator keeps no thread and no timer, so a heap that stops making
     * calls of those kinds keeps its cache until then, rc_heap_trim or
     * rc_heap_destroy. */
    size_t large_cache_bytes;
    size_t large_cache_decay_ms;
} rc_heap_options;

/* rc_heap_new with options (NULL: the defaults, as rc_heap_new). NULL with
 * a message if options are invalid (struct_size, malloc_mode) or memory is
 * short. struct_size may also be that of the struct before the
 * large_cache_* fields (the first layout). */
RC_API rc_heap *rc_heap_new_with(const rc_heap_options *options);

/* Frees every block and object of the heap. Live finalizers registered with
 * rc_finalize run first (newest first), then every live object's type
 * destroy hook runs (no finalizers, no traversal), then all memory goes back
 * to the system. With RECLAIM_MALLOCSTATS=1 in the environment the heap's
 * statistics are printed to stderr first. A heap owned by another thread
 * cannot be destroyed (the process stops with a message). If it is the
 * caller's current heap, the caller is left with none. */
RC_API void rc_heap_destroy(rc_heap *heap);

/* Returns to the system now what the heap keeps mapped without using it:
 * every mapping in its large-block cache and every wholly free arena kept
 * as a spare (malloc_trim's meaning for reclaim's own memory; the system
 * allocator's, which holds the blocks of 513 bytes to 1 MiB, is
 * malloc_trim's). Blocks freed by other threads are taken back first.
 * heap NULL: the calling thread's current heap; the caller must own heap
 * or it must be owned by no thread. Returns the bytes unmapped. */
RC_API size_t rc_heap_trim(rc_heap *heap);

/* The calling thread's current heap, made (and owned) on first use. NULL
 * only if memory for a new heap could not be had. */
RC_API rc_heap *rc_heap_current(void);

/* Makes heap the calling thread's current heap (NULL: none) and gives up the
 * previous one. Returns the previous one, NULL if the thread had none. A
 * heap owned by another thread cannot be taken (the process stops with a
 * message naming both). */
RC_API rc_heap *rc_heap_use(rc_heap *heap);

/* The heap owning a block or object from any heap; NULL (and an error
 * message) for a pointer reclaim did not allocate. */
RC_API rc_heap *rc_heap_of(const void *block);

/* ---- raw memory on the current heap ---------------------------------- */

/* At least size bytes aligned to 16; rc_malloc(0) is a distinct non-NULL
 * block. NULL with a message if memory cannot be had even after one cycle
 * collection. */
RC_API void *rc_malloc(size_t size);
/* Zero-filled count * size bytes; NULL with a message on overflow. */
RC_API void *rc_calloc(size_t count, size_t size);
/* Resizes block (NULL: rc_malloc); the block may move to the current heap
 * (on a debug heap it always moves, and the old block is checked).
 * On failure returns NULL and leaves block untouched. Unlike rc_malloc it
 * does not collect cycles to find memory (nor run the finalizers and weak
 * reference callbacks a collection may run), so that no user code can
 * reach the block while it moves; a caller short of memory may
 * rc_gc_collect and retry. size 0 returns a minimal block, as rc_malloc(0)
 * does. */
RC_API void *rc_realloc(void *block, size_t size);
/* Frees a block of any heap; NULL is ignored. Freeing an object (use
 * rc_decref), a pointer reclaim did not allocate, or a block twice stops the
 * process with a message when detected. */
RC_API void rc_free(void *block);
/* Bytes usable in block: its size class, or its rounded size if large; on
 * a debug heap, the size requested (the rest is guard bytes). */
RC_API size_t rc_usable_size(const void *block);

/* The same on an explicit heap, which the calling thread must own or which
 * must be owned by no thread. */
RC_API void *rc_heap_malloc(rc_heap *heap, size_t size);
RC_API void *rc_heap_calloc(rc_heap *heap, size_t count, size_t size);
RC_API void *rc_heap_realloc(rc_heap *heap, void *block, size_t size);

/* ---- statistics ------------------------------------------------------ */

typedef struct rc_class_stats {
    size_t block_size;  /* bytes a block of this class */
    size_t pools;       /* pools of this class holding at least one block */
    size_t blocks_used; /* blocks handed out */
    size_t blocks_free; /* blocks of those pools not handed out */
} rc_class_stats;

/* Every scalar statistic once: name and meaning. The struct fields, the text
 * of rc_heap_print_stats and the upper layers' exports come from this list.
 * Arena bytes add up as in CPython's sys._debugmallocstats:
 *   arenas_current * RC_ARENA_SIZE == small_bytes_in_use + unused_arena_bytes
 *   unused_arena_bytes == free_bytes_in_pools + empty_pool_bytes + pool_tail_bytes
 * and bytes_mapped == arenas_current * RC_ARENA_SIZE + large_bytes_in_use +
 * large_header_bytes + large_cache_bytes. On a debug heap the figures count
 * blocks as the pools see them (guards and records included, and the freed
 * blocks the debug allocator holds back in its quarantine), except
 * bytes_in_use, which leaves out the quarantine: it is what the program
 * holds.
 * requested_bytes is what callers asked for. Blocks of dead objects kept on
 * free lists for new objects of their type (tuples, as CPython keeps them)
 * count as handed out for the pools and in small_bytes_in_use, and are left
 * out of bytes_in_use likewise (freelist_*). */
#define RC_ALLOC_STATS(X)                                                                          \
    X(arenas_allocated, "arenas mapped since the heap was made")                                   \
    X(arenas_freed, "arenas returned to the system")                                               \
    X(arenas_current, "arenas mapped now")                                                         \
    X(arenas_highwater, "most arenas mapped at once")                                              \
    X(pools_used, "pools holding blocks")                                                          \
    X(pools_empty, "pools of mapped arenas holding none")                                          \
    X(small_bytes_in_use, "bytes of small blocks handed out (class sizes)")                        \
    X(large_blocks, "large blocks handed out")                                                     \
    X(large_bytes_in_use, "bytes of large blocks handed out")                                      \
    X(bytes_in_use, "small plus large bytes handed out, less the quarantine's and free lists'")    \
    X(bytes_mapped, "arena bytes mapped plus large bytes, the cache's included")                   \
    X(remote_frees, "blocks freed by other threads and returned")                                  \
    X(free_bytes_in_pools, "bytes of free blocks in pools holding blocks")                         \
    X(empty_pool_bytes, "bytes of mapped pools holding no blocks")                                 \
    X(pool_tail_bytes, "bytes at the ends of pools holding blocks, too few for one")               \
    X(unused_arena_bytes, "arena bytes mapped but not handed out (the three above)")               \
    X(large_header_bytes, "bytes of large-block headers and alignment")                            \
    X(bookkeeping_bytes, "bytes of arena descriptors and debug-allocator state")                   \
    X(quarantine_blocks, "debug: freed blocks held back (counted as in use)")                      \
    X(quarantine_bytes, "debug: bytes of those blocks")                                            \
    X(requested_bytes, "debug: bytes the live blocks were asked for")                              \
    X(freelist_blocks, "dead objects' blocks kept on free lists (counted as handed out)")          \
    X(freelist_bytes, "bytes of those blocks")                                                     \
    X(tracer_overhead, "bytes the tracer holds for its traces (rc_trace_overhead)")                \
    X(large_cache_bytes, "bytes of freed large mappings kept for reuse")                           \
    X(large_cache_hits, "large mappings and growths the cache served")                             \
    X(large_cache_misses, "large mappings and growths it could not (mmap, mremap)")                \
    X(large_cache_decayed, "cached bytes unmapped after the decay delay")                          \
    X(large_cache_evicted, "freed large bytes unmapped to keep the cache in its bound")

typedef struct rc_alloc_stats {
    size_t struct_size; /* set to sizeof(rc_alloc_stats) before the call */
    rc_class_stats classes[RC_SIZE_CLASSES];
#define RC_STAT_FIELD(name, text) size_t name;
    RC_ALLOC_STATS(RC_STAT_FIELD)
#undef RC_STAT_FIELD
} rc_alloc_stats;

/* Fills out (whose struct_size the caller sets). Returns 0, or RC_EINVAL if
 * struct_size is not one this library knows: sizeof(rc_alloc_stats), or
 * the size of the struct up to tracer_overhead (before the large_cache_*
 * figures), whose fields are then filled alone. (DESIGN.md had void: the
 * version check needs a way to fail.) */
RC_API int rc_heap_stats(rc_heap *heap, rc_alloc_stats *out);
/* Writes the statistics as sys._debugmallocstats() does (heap NULL: the
 * current heap; out NULL: stderr): which allocator, a table of the size
 * classes in use (class, block size, pools, blocks in use, free blocks,
 * then totals), the large blocks by size (count and bytes per power of
 * two), each statistic of RC_ALLOC_STATS on a line of its own
 * ("name  value  meaning"), and the fragmentation: the share of the mapped
 * arena bytes not handed out. */
RC_API void rc_heap_print_stats(rc_heap *heap, FILE *out);

/* ---- failure injection (for testing out-of-memory handling) --------- */

enum { RC_FAULT_MMAP = 1, RC_FAULT_MALLOC = 2 };
/* Makes the heap's (after+1)-th system request of the given kinds (a mask
 * of RC_FAULT_*) fail, and every later one while `sticky`; after < 0 turns
 * injection off. RC_FAULT_MALLOC covers the system allocations of large
 * blocks and of the heap's own bookkeeping. */
RC_API void rc_heap_inject_faults(rc_heap *heap, unsigned kinds, long after, bool sticky);

#ifdef __cplusplus
}
#endif
#endif
