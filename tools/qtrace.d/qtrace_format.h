/* The qtrace binary trace format, shared by the QEMU plugin that writes it
 * (tools/qtrace.d/qtrace.c) and mmusim that reads it. Little-endian.
 *
 *   header  32 bytes: magic "dvqtrace", u32 version, u32 header bytes,
 *           u64 flags, u64 reserved (0)
 *   records one u64 each, packed:
 *           bits 56:0   virtual address (57 bits: x86-64 user space, 4 or 5
 *                       level paging)
 *           bits 59:57  log2 of the access size in bytes (QEMU reports sizes
 *                       as a power of two: 1 .. 128 bytes)
 *           bits 61:60  kind: 0 load, 1 store, 2 instruction fetch
 *           bits 63:62  0
 *
 * Eight bytes a record keeps the pipe's bandwidth (hundreds of MB/s) far
 * above what the emulator produces. Records of different guest threads are
 * interleaved in blocks (each thread writes its own buffer when full). */
#ifndef QTRACE_FORMAT_H
#define QTRACE_FORMAT_H

#include <stdint.h>

#define QTRACE_MAGIC	    "dvqtrace"
#define QTRACE_MAGIC_LEN    8
#define QTRACE_VERSION	    1u
#define QTRACE_HEADER_BYTES 32

#define QTRACE_FLAG_IFETCH (1ULL << 0) /* instruction fetches are recorded */

#define QTRACE_VA_BITS	     57
#define QTRACE_VA_MASK	     ((1ULL << QTRACE_VA_BITS) - 1)
#define QTRACE_SIZE_SHIFT    57
#define QTRACE_SIZE_MASK     7ULL
#define QTRACE_KIND_SHIFT    60
#define QTRACE_KIND_MASK     3ULL
#define QTRACE_RESERVED_MASK (3ULL << 62)

enum qtrace_kind {
	QTRACE_LOAD = 0,
	QTRACE_STORE = 1,
	QTRACE_IFETCH = 2,
};

struct qtrace_header {
	char magic[QTRACE_MAGIC_LEN];
	uint32_t version;
	uint32_t header_bytes;
	uint64_t flags;
	uint64_t reserved;
};

static inline uint64_t qtrace_record(uint64_t va, unsigned size_log2, unsigned kind)
{
	return (va & QTRACE_VA_MASK) | ((uint64_t)size_log2 << QTRACE_SIZE_SHIFT) |
	       ((uint64_t)kind << QTRACE_KIND_SHIFT);
}

#endif
