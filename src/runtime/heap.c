/* heap.c: making and destroying heaps, the composition of the layers.
 *
 * A heap is set up layer by layer in DESIGN.md's order (allocator, objects,
 * collector, weak references, types, tracer) and torn down in reverse. If a layer
 * cannot be set up, the ones before it are torn down and rc_heap_new returns
 * NULL: nothing is left half-made.
 */
#include "heap.h"
#include "../alloc/alloc.h"
#include "../gc/gc_internal.h"
#include "../object/object_internal.h"
#include "../weakref/weak_internal.h"
#include "../types/types_internal.h"
#include "../trace/trace_internal.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* rc_heap_options before the large-block cache's fields: callers built
 * then pass this struct_size, and those fields take their defaults. */
#define OPTIONS_SIZE_BEFORE_CACHE offsetof(rc_heap_options, large_cache_bytes)

/* RECLAIM_MALLOC (cf. PYTHONMALLOC): "debug" for the debug allocator;
 * unset, "" or "default" for the plain one. Anything else is reported on
 * stderr, and the heap gets the plain allocator. */
static rc_malloc_mode malloc_mode_from_env(void)
{
    const char *value = getenv("RECLAIM_MALLOC");
    if (!value || !*value || strcmp(value, "default") == 0)
        return RC_MALLOC_DEFAULT;
    if (strcmp(value, "debug") == 0)
        return RC_MALLOC_DEBUG;
    fprintf(stderr,
            "reclaim: RECLAIM_MALLOC=%s is not understood (use \"debug\" or \"default\"); "
            "the heap uses the default allocator\n",
            value);
    return RC_MALLOC_DEFAULT;
}

/* options (NULL: defaults) checked, with the environment's choice made. */
static int resolve_options(const rc_heap_options *options, rc_heap_options *out)
{
    *out = (rc_heap_options){.struct_size = sizeof *out};
    if (options) {
        size_t size = options->struct_size;
        if (size != sizeof *options && size != OPTIONS_SIZE_BEFORE_CACHE)
            return rc_set_error(RC_EINVAL,
                                "rc_heap_new_with: struct_size is %zu, this library's is %zu", size,
                                sizeof *options);
        if ((unsigned)options->malloc_mode > RC_MALLOC_DEBUG)
            return rc_set_error(RC_EINVAL,
                                "rc_heap_new_with: malloc_mode %d is not one of RC_MALLOC_*",
                                (int)options->malloc_mode);
        memcpy(out, options, size); /* an older caller's struct is a prefix */
        out->struct_size = sizeof *out;
    }
    if (out->malloc_mode == RC_MALLOC_FROM_ENV)
        out->malloc_mode = malloc_mode_from_env();
    return 0;
}

rc_heap *rc_heap_new(void) { return rc_heap_new_with(NULL); }

rc_heap *rc_heap_new_with(const rc_heap_options *options)
{
    rc_heap_options resolved;
    if (resolve_options(options, &resolved) != 0)
        return NULL;
    rc_heap *heap = calloc(1, sizeof *heap);
    if (!heap) {
        rc_set_error(RC_ENOMEM, "out of memory: cannot allocate a heap");
        return NULL;
    }
    atomic_init(&heap->owner, 0);
    if (rc_alloc_init(heap, &resolved) != 0)
        goto fail_alloc;
    if (rc_object_init(heap) != 0)
        goto fail_object;
    if (rc_gc_init(heap) != 0)
        goto fail_gc;
    if (rc_weak_init(heap) != 0)
        goto fail_weak;
    if (rc_types_init(heap) != 0)
        goto fail_types;
    if (rc_trace_init(heap) != 0)
        goto fail_trace;
    return heap;
fail_trace:
    rc_types_fini(heap);
fail_types:
    rc_weak_fini(heap);
fail_weak:
    rc_gc_fini(heap);
fail_gc:
    rc_object_fini(heap);
fail_object:
    rc_alloc_fini(heap);
fail_alloc:
    free(heap);
    return NULL;
}

static bool env_flag(const char *name)
{
    const char *value = getenv(name);
    return value && *value && strcmp(value, "0") != 0;
}

/* Runs the parts of destruction that may run user code (finalizers, destroy
 * hooks) with heap current, so that what they do lands on this heap. */
static void run_user_teardown(rc_heap *heap)
{
    rc_heap *previous = rc_thread_heap();
    if (previous != heap)
        rc_heap_use(heap); /* heap is ours or no one's: checked by the caller */
    rc_weak_run_atexit(heap);
    rc_object_destroy_all(heap);
    if (previous != heap)
        rc_heap_use(previous);
}

void rc_heap_destroy(rc_heap *heap)
{
    if (!heap)
        return;
    rc_heap_check_access(heap, "rc_heap_destroy");
    if (heap->destroying)
        rc_fatal("rc_heap_destroy: heap %p is already being destroyed", (void *)heap);
    if (rc_gc_is_collecting(heap) || rc_object_is_releasing(heap))
        rc_fatal("rc_heap_destroy: heap %p is in the middle of a collection or "
                 "deallocation; destroy it after that returns",
                 (void *)heap);
    heap->destroying = true;
    rc_alloc_drain_remote(heap);
    rc_alloc_check_freed(heap); /* before the walk of live objects below */
    if (env_flag("RECLAIM_MALLOCSTATS"))
        rc_heap_print_stats(heap, stderr);
    run_user_teardown(heap);
    rc_trace_fini(heap);
    rc_types_fini(heap);
    rc_weak_fini(heap);
    rc_gc_fini(heap);
    rc_object_fini(heap);
    rc_alloc_fini(heap);
    rc_thread_forget_heap(heap);
    free(heap);
}
