/* qtrace: a QEMU TCG plugin that records every guest load and store (and,
 * optionally, every instruction fetch) as compact binary records for mmusim.
 *
 *   qemu-x86_64 -plugin build/qtrace.so,fd=3 PROGRAM ARGS   (3 open for writing)
 *   qemu-x86_64 -plugin build/qtrace.so,out=FILE PROGRAM ARGS
 *   options: ifetch=on  also record instruction fetches
 *
 * The launcher tools/qtrace sets this up. Format: qtrace_format.h.
 *
 * Each vCPU (in user mode: each guest thread) fills its own 1 MiB buffer
 * from the memory callback, with no lock; a full buffer is written in one
 * block under a lock, so threads interleave at block granularity.
 *
 * One access, one record: QEMU 7.2 performs a 16- or 32-byte SSE/AVX access
 * as two or four 8-byte accesses and calls the memory callback for each. To
 * report what the program did (and what valgrind reports), the pieces of one
 * execution of a vector instruction that continue each other are merged
 * back into one record. A vector instruction (its disassembly names an xmm
 * or ymm register) gets an execution callback that opens a merge window, so
 * two executions of it are never merged with each other. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qemu_plugin_api.h"
#include "qtrace_format.h"

QEMU_PLUGIN_EXPORT int qemu_plugin_version = QTRACE_PLUGIN_API_VERSION;

#define QT_BUF_RECS  (128 * 1024) /* 1 MiB of records per vCPU */
#define QT_MAX_VCPUS 4096
#define QT_FD_MIN    500 /* the trace descriptor is moved up here, out of the guest's way */

/* A vector access being merged: [va, va + bytes) of one kind. */
struct qt_pending {
	uint64_t va;
	uint32_t bytes; /* 0: nothing pending */
	uint32_t kind;
	uint64_t insn; /* id of the vector instruction execution it belongs to */
};

struct qt_buf {
	size_t n;
	struct qt_pending pend;
	uint64_t window; /* id of the vector instruction executing, or 0 */
	uint64_t rec[QT_BUF_RECS];
};

#define QT_MERGE_MAX 64 /* bytes: an AVX-512 register, the widest access */

static struct qt_buf *qt_bufs[QT_MAX_VCPUS];
static pthread_mutex_t qt_write_lock = PTHREAD_MUTEX_INITIALIZER;
static int qt_fd = -1;
static bool qt_dead;   /* a write failed: drop everything from now on */
static bool qt_ifetch; /* record instruction fetches */

static void qt_write_all(const void *p, size_t n)
{
	const char *c = p;

	while (n && !qt_dead) {
		ssize_t w = write(qt_fd, c, n);

		if (w > 0) {
			c += w;
			n -= (size_t)w;
		} else if (w < 0 && errno != EINTR) {
			fprintf(stderr, "qtrace: writing the trace failed: %s; tracing stops\n",
				strerror(errno));
			qt_dead = true;
		}
	}
}

static void qt_flush(struct qt_buf *b)
{
	pthread_mutex_lock(&qt_write_lock);
	qt_write_all(b->rec, b->n * sizeof(b->rec[0]));
	pthread_mutex_unlock(&qt_write_lock);
	b->n = 0;
}

/* The calling vCPU's buffer; vCPUs beyond QT_MAX_VCPUS share the last one
 * (a guest with thousands of live threads is not a use case). */
static struct qt_buf *qt_buf_of(unsigned int vcpu)
{
	struct qt_buf *b;

	if (vcpu >= QT_MAX_VCPUS)
		vcpu = QT_MAX_VCPUS - 1;
	b = __atomic_load_n(&qt_bufs[vcpu], __ATOMIC_ACQUIRE);
	if (__builtin_expect(b != NULL, 1))
		return b;
	b = calloc(1, sizeof(*b));
	if (!b) {
		fprintf(stderr, "qtrace: out of memory\n");
		abort();
	}
	__atomic_store_n(&qt_bufs[vcpu], b, __ATOMIC_RELEASE);
	return b;
}

static inline void qt_put(struct qt_buf *b, uint64_t rec)
{
	b->rec[b->n++] = rec;
	if (b->n == QT_BUF_RECS)
		qt_flush(b);
}

/* Emit the pending merged access: one record when its size is a power of
 * two (always, for the 16/32-byte splits), else power-of-two pieces. */
static void qt_pend_flush(struct qt_buf *b)
{
	struct qt_pending *p = &b->pend;

	while (p->bytes) {
		unsigned shift = 31 - (unsigned)__builtin_clz(p->bytes);

		qt_put(b, qtrace_record(p->va, shift, p->kind));
		p->va += 1u << shift;
		p->bytes -= 1u << shift;
	}
}

static void qt_mem(unsigned int vcpu, qemu_plugin_meminfo_t info, uint64_t vaddr, void *udata)
{
	struct qt_buf *b = qt_buf_of(vcpu);

	if (__builtin_expect(b->pend.bytes != 0, 0))
		qt_pend_flush(b);
	b->window = 0;
	qt_put(b, qtrace_record(vaddr, qemu_plugin_mem_size_shift(info),
				qemu_plugin_mem_is_store(info) ? QTRACE_STORE : QTRACE_LOAD));
}

/* Execution of a vector instruction begins (udata: its id): what is pending
 * belongs to an earlier execution. */
static void qt_vec_exec(unsigned int vcpu, void *udata)
{
	struct qt_buf *b = qt_buf_of(vcpu);

	qt_pend_flush(b);
	b->window = (uint64_t)(uintptr_t)udata;
}

/* A memory access of a vector instruction: merge it into the pending access
 * when it continues it within the same execution. */
static void qt_mem_vec(unsigned int vcpu, qemu_plugin_meminfo_t info, uint64_t vaddr, void *udata)
{
	struct qt_buf *b = qt_buf_of(vcpu);
	struct qt_pending *p = &b->pend;
	uint32_t bytes = 1u << qemu_plugin_mem_size_shift(info);
	uint32_t kind = qemu_plugin_mem_is_store(info) ? QTRACE_STORE : QTRACE_LOAD;
	uint64_t insn = (uint64_t)(uintptr_t)udata;

	if (p->bytes && b->window == insn && p->insn == insn && p->kind == kind &&
	    p->va + p->bytes == vaddr && p->bytes + bytes <= QT_MERGE_MAX) {
		p->bytes += bytes;
		return;
	}
	qt_pend_flush(b);
	*p = (struct qt_pending){.va = vaddr, .bytes = bytes, .kind = kind, .insn = insn};
}

/* udata is the instruction's record, made once at translation time. */
static void qt_fetch(unsigned int vcpu, void *udata)
{
	struct qt_buf *b = qt_buf_of(vcpu);

	if (b->pend.bytes)
		qt_pend_flush(b);
	qt_put(b, (uint64_t)(uintptr_t)udata);
}

/* Does the instruction name a vector register (so QEMU may split its
 * access)? Decided once per translation from the disassembly. */
static bool qt_is_vector(const struct qemu_plugin_insn *insn)
{
	char *d = qemu_plugin_insn_disas(insn);
	bool v = d && (strstr(d, "xmm") || strstr(d, "ymm") || strstr(d, "zmm"));

	free(d);
	return v;
}

static unsigned qt_log2_ceil(size_t n)
{
	unsigned s = 0;

	while ((1ULL << s) < n && s < QTRACE_SIZE_MASK)
		s++;
	return s;
}

static void qt_tb_trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
	size_t n = qemu_plugin_tb_n_insns(tb);

	for (size_t i = 0; i < n; i++) {
		struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);

		if (qt_ifetch) {
			/* x86 instructions are 1..15 bytes: the size field holds
			 * the next power of two. */
			uint64_t rec = qtrace_record(qemu_plugin_insn_vaddr(insn),
						     qt_log2_ceil(qemu_plugin_insn_size(insn)),
						     QTRACE_IFETCH);

			qemu_plugin_register_vcpu_insn_exec_cb(
				insn, qt_fetch, QEMU_PLUGIN_CB_NO_REGS, (void *)(uintptr_t)rec);
		}
		if (qt_is_vector(insn)) {
			/* The id: the address + 1 (never 0), same for every
			 * translation of the instruction. */
			void *vid = (void *)(uintptr_t)(qemu_plugin_insn_vaddr(insn) + 1);

			qemu_plugin_register_vcpu_insn_exec_cb(insn, qt_vec_exec,
							       QEMU_PLUGIN_CB_NO_REGS, vid);
			qemu_plugin_register_vcpu_mem_cb(insn, qt_mem_vec, QEMU_PLUGIN_CB_NO_REGS,
							 QEMU_PLUGIN_MEM_RW, vid);
		} else {
			qemu_plugin_register_vcpu_mem_cb(insn, qt_mem, QEMU_PLUGIN_CB_NO_REGS,
							 QEMU_PLUGIN_MEM_RW, NULL);
		}
	}
}

/* Write out every buffer, pending merges included. Only called when the
 * other vCPUs are stopped (exit, fork). */
static void qt_flush_all(void)
{
	for (unsigned i = 0; i < QT_MAX_VCPUS; i++) {
		struct qt_buf *b = qt_bufs[i];

		if (!b)
			continue;
		qt_pend_flush(b);
		b->window = 0;
		if (b->n)
			qt_flush(b);
	}
}

static void qt_atexit(qemu_plugin_id_t id, void *udata)
{
	qt_flush_all();
	if (qt_fd >= 0)
		close(qt_fd);
	qt_fd = -1;
}

/* Before the guest forks (QEMU has stopped the other vCPUs), write out what
 * is buffered, or the child would write the parent's records a second time. */
static void qt_prefork(void)
{
	qt_flush_all();
}

/* Move fd to a high, close-on-exec descriptor so the guest program, whose
 * descriptors are QEMU's, neither sees nor clobbers it. */
static int qt_adopt_fd(int fd)
{
	int hi = fcntl(fd, F_DUPFD_CLOEXEC, QT_FD_MIN);

	if (hi < 0)
		return -1;
	close(fd);
	return hi;
}

static int qt_parse_args(int argc, char **argv, const char **out, int *fd)
{
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];

		if (strncmp(a, "out=", 4) == 0 && a[4]) {
			*out = a + 4;
		} else if (strncmp(a, "fd=", 3) == 0 && a[3]) {
			char *end;
			long v = strtol(a + 3, &end, 10);

			if (*end || v < 0 || v > 65535)
				goto bad;
			*fd = (int)v;
		} else if (strcmp(a, "ifetch=on") == 0 || strcmp(a, "ifetch=true") == 0) {
			qt_ifetch = true;
		} else if (strcmp(a, "ifetch=off") == 0 || strcmp(a, "ifetch=false") == 0) {
			qt_ifetch = false;
		} else {
			goto bad;
		}
		continue;
	bad:
		fprintf(stderr,
			"qtrace: unknown or malformed option '%s' (options: out=FILE, "
			"fd=N, ifetch=on|off)\n",
			a);
		return -1;
	}
	if (!*out == (*fd < 0)) {
		fprintf(stderr, "qtrace: give exactly one of out=FILE or fd=N\n");
		return -1;
	}
	return 0;
}

static int qt_open_output(const char *out, int fd)
{
	if (out)
		fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || (qt_fd = qt_adopt_fd(fd)) < 0) {
		fprintf(stderr, "qtrace: cannot open the trace output %s: %s\n",
			out ? out : "descriptor", strerror(errno));
		return -1;
	}
	return 0;
}

static void qt_write_header(void)
{
	struct qtrace_header h = {
		.version = QTRACE_VERSION,
		.header_bytes = QTRACE_HEADER_BYTES,
		.flags = qt_ifetch ? QTRACE_FLAG_IFETCH : 0,
	};

	_Static_assert(sizeof(h) == QTRACE_HEADER_BYTES, "qtrace header layout");
	memcpy(h.magic, QTRACE_MAGIC, QTRACE_MAGIC_LEN);
	qt_write_all(&h, sizeof(h));
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc,
					   char **argv)
{
	const char *out = NULL;
	int fd = -1;

	if (info->version.min > QTRACE_PLUGIN_API_VERSION ||
	    info->version.cur < QTRACE_PLUGIN_API_VERSION) {
		fprintf(stderr,
			"qtrace: this QEMU offers plugin API versions %d..%d, but qtrace declares "
			"version %d (QEMU 7.2's API, tools/qtrace.d/qemu_plugin_api.h); update "
			"those declarations for this QEMU\n",
			info->version.min, info->version.cur, QTRACE_PLUGIN_API_VERSION);
		return -1;
	}
	if (info->system_emulation) {
		fprintf(stderr, "qtrace: user-mode emulation only (qemu-x86_64), not %s\n",
			"system emulation");
		return -1;
	}
	if (qt_parse_args(argc, argv, &out, &fd) || qt_open_output(out, fd))
		return -1;
	qt_write_header();
	pthread_atfork(qt_prefork, NULL, NULL);
	qemu_plugin_register_vcpu_tb_trans_cb(id, qt_tb_trans);
	qemu_plugin_register_atexit_cb(id, qt_atexit, NULL);
	return 0;
}
