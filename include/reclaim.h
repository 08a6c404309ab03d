/* reclaim.h: Python's memory management for C programs.
 *
 * The one door to the library. Each layer has its own header, included here
 * in dependency order:
 *
 *   reclaim/common.h   versions, error codes, rc_last_error
 *   reclaim/alloc.h    heaps, rc_malloc and friends, allocator statistics
 *   reclaim/object.h   reference-counted objects and their type descriptors
 *   reclaim/gc.h       the generational cycle collector (the gc module)
 *   reclaim/weakref.h  weak references and finalizers (the weakref module)
 *   reclaim/types.h    built-in types: int, str, bytes, view, tuple, list,
 *                      dict, set, weak containers
 *   reclaim/trace.h    allocation tracing and snapshots (tracemalloc)
 *   reclaim/patterns.h the seeds' patterns: object pool, lazy values, mmap
 *                      chunks, batched writes, shared arrays, caches
 *
 * docs/ explains how each part works.
 */
#ifndef RECLAIM_H
#define RECLAIM_H

#include "reclaim/common.h"
#include "reclaim/alloc.h"
#include "reclaim/object.h"
#include "reclaim/gc.h"
#include "reclaim/weakref.h"
#include "reclaim/types.h"
#include "reclaim/trace.h"
#include "reclaim/patterns.h"

#endif
