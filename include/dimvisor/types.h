/* Fixed-width types shared by every side: hypervisor, guest, model, host tools.
 * Only compiler-provided freestanding headers are used, so this compiles with
 * -ffreestanding -nostdinc as well as hosted. */
#ifndef DIMVISOR_TYPES_H
#define DIMVISOR_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int8_t s8;
typedef int16_t s16;
typedef int32_t s32;
typedef int64_t s64;

#define KiB (1ULL << 10)
#define MiB (1ULL << 20)
#define GiB (1ULL << 30)
#define TiB (1ULL << 40)

#define ARRAY_SIZE(a)	 (sizeof(a) / sizeof((a)[0]))
#define ALIGN_DOWN(x, a) ((x) & ~((u64)(a)-1))
#define ALIGN_UP(x, a)	 ALIGN_DOWN((u64)(x) + (a)-1, (a))
#define IS_ALIGNED(x, a) (((x) & ((u64)(a)-1)) == 0)
#define MIN(a, b)	 ((a) < (b) ? (a) : (b))
#define MAX(a, b)	 ((a) > (b) ? (a) : (b))

#define __packed	    __attribute__((packed))
#define __noreturn	    __attribute__((noreturn))
#define __printf_like(f, a) __attribute__((format(printf, f, a)))
#define __unused	    __attribute__((unused))

#endif
