/* config.h: every build switch of reclaim, in one place.
 *
 * Each switch is a CMake option (CMakeLists.txt) passed as a definition; the
 * defaults here apply when a file is compiled without them.
 *
 *   RC_CHECKS        0: none beyond the cheap misuse checks that are always
 *                       on (refcount of a dead object, rc_free of an object or
 *                       of a pointer that is not ours, heap ownership).
 *                    1: assertions (RC_ASSERT) on internal invariants.
 *                    2: expensive validators too (RC_EXPENSIVE): whole-pool
 *                       and whole-collector checks after each operation.
 *                    CMake: RECLAIM_CHECKS (Debug builds default to 2).
 *   RC_SANITIZE      built with AddressSanitizer and UBSan (CMake:
 *                    RECLAIM_SANITIZE, on in the test build). The allocator
 *                    then poisons free blocks and pool slack for ASan.
 *
 * Environment variables read at run time (documented in docs/):
 *   RECLAIM_MALLOCSTATS=1   print heap statistics when a heap is destroyed.
 *   RECLAIM_MALLOC=debug    heaps made from then on use the debug allocator
 *                           (guard bytes, fills, quarantine: alloc/debug_guard.h);
 *                           also a heap option (rc_heap_new_with).
 *   RECLAIM_TRACE=N         heaps made from then on trace allocations with N
 *                           frames (1..128; 0: off), as PYTHONTRACEMALLOC
 *                           (docs/tracing.md).
 *   RECLAIM_TRACE_UNWIND=cfi|fp|libunwind  how frames beyond the first are
 *                           found: the checked walk by the unwind tables (the
 *                           default), frame pointers, or libunwind
 *                           (docs/tracing.md).
 */
#ifndef RC_CONFIG_H
#define RC_CONFIG_H

#ifndef RC_CHECKS
#define RC_CHECKS 0
#endif

#ifndef RC_SANITIZE
#define RC_SANITIZE 0
#endif

#endif
