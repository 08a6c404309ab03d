/* dumpfile.h: reclaim's snapshot file format (docs/tracing.md has the full
 * description), written by dumpfile_write.c, read by dumpfile_read.c.
 *
 *   offset  size  field
 *   0       8     magic "RCSNAP\r\n"
 *   8       2     version (little-endian), RC_DUMP_VERSION
 *   10      2     flags (little-endian), 0; others are refused
 *   12      4     CRC-32 (IEEE, as zlib) of the body (little-endian)
 *   16      8     body length in bytes (little-endian)
 *   24      ...   body
 *
 * The body is varints (unsigned LEB128, at most 10 bytes, no bits beyond
 * 64) and bytes:
 *
 *   traceback_limit
 *   'S' count, then count times: length, bytes (no NUL)       strings
 *   'F' count, then count times: filename, lineno, function   frames
 *   'B' count, then count times: n >= 1, n frame indices      tracebacks
 *   'T' count, then count times: size, traceback index        traces
 *
 * Indices refer to earlier sections; a file ends where its traces do.
 */
#ifndef RC_TRACE_DUMPFILE_H
#define RC_TRACE_DUMPFILE_H

#include "snapshot_internal.h"

#define RC_DUMP_MAGIC       "RCSNAP\r\n"
#define RC_DUMP_MAGIC_SIZE  8
#define RC_DUMP_VERSION     1
#define RC_DUMP_HEADER_SIZE 24
#define RC_DUMP_VARINT_MAX  10

enum {
    RC_DUMP_STRINGS = 'S',
    RC_DUMP_FRAMES = 'F',
    RC_DUMP_TRACEBACKS = 'B',
    RC_DUMP_TRACES = 'T',
};

/* CRC-32 (IEEE 802.3, reflected, as zlib's crc32) of size bytes. */
RC_INTERNAL uint32_t rc_dump_crc32(const void *data, size_t size);

/* Writes the header of a file of size (>= RC_DUMP_HEADER_SIZE) bytes whose
 * body follows it: magic, version, flags 0, the body's checksum and length. */
RC_INTERNAL void rc_dump_seal(uint8_t *file, size_t size);

/* The whole file for snap (sealing it first) in a new buffer of *size
 * bytes, to free with rc_snap_free. NULL with a message if memory is short. */
RC_INTERNAL uint8_t *rc_dump_encode(rc_snapshot *snap, size_t *size);

/* A snapshot from a whole file in memory. NULL with a message beginning
 * with `who` (e.g. "rc_snapshot_load: path") that names the section, the
 * field and the offset of the first problem. Never reads outside data and
 * never allocates more than a small multiple of size. */
RC_INTERNAL rc_snapshot *rc_dump_decode(const uint8_t *data, size_t size, const char *who);

#endif
