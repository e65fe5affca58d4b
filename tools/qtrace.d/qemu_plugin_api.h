/* The part of QEMU's TCG plugin API that qtrace uses, declared here because
 * Debian ships no qemu-plugin.h. Written from the documented API of plugin
 * API version 1, which is what QEMU 7.2 (Debian bookworm's qemu-user
 * 1:7.2+dfsg) implements: include/qemu/qemu-plugin.h of QEMU 7.2 and
 * docs/devel/tcg-plugins.rst. Version 1 covers QEMU 5.2 to 8.1; 8.2 raised
 * it to 2 (registers API) and 9.0 raised the minimum to 2 (removed
 * qemu_plugin_n_vcpus), so qtrace checks the range QEMU announces at load
 * time (qemu_info_t.version) and refuses to run outside it.
 *
 * The functions are resolved from the qemu-x86_64 executable when QEMU
 * dlopens the plugin; the verification that they exist in the installed
 * binary is `nm -D /usr/bin/qemu-x86_64 | grep qemu_plugin_`. */
#ifndef QTRACE_QEMU_PLUGIN_API_H
#define QTRACE_QEMU_PLUGIN_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The API level this file declares. */
#define QTRACE_PLUGIN_API_VERSION 1

#define QEMU_PLUGIN_EXPORT __attribute__((visibility("default")))

typedef uint64_t qemu_plugin_id_t;

/* Passed to qemu_plugin_install; only valid during that call. */
typedef struct qemu_info_t {
	const char *target_name; /* e.g. "x86_64" */
	struct {
		int min; /* oldest plugin API level this QEMU loads */
		int cur; /* newest */
	} version;
	bool system_emulation;
	union {
		struct {
			int smp_vcpus;
			int max_vcpus;
		} system;
	};
} qemu_info_t;

struct qemu_plugin_tb;	 /* opaque: a translation block being translated */
struct qemu_plugin_insn; /* opaque: one of its instructions */

enum qemu_plugin_cb_flags {
	QEMU_PLUGIN_CB_NO_REGS,
	QEMU_PLUGIN_CB_R_REGS,
	QEMU_PLUGIN_CB_RW_REGS,
};

enum qemu_plugin_mem_rw {
	QEMU_PLUGIN_MEM_R = 1,
	QEMU_PLUGIN_MEM_W,
	QEMU_PLUGIN_MEM_RW,
};

/* Opaque description of one memory access, queried with the functions
 * below; only valid during the memory callback. */
typedef uint32_t qemu_plugin_meminfo_t;

typedef void (*qemu_plugin_udata_cb_t)(qemu_plugin_id_t id, void *userdata);
typedef void (*qemu_plugin_vcpu_udata_cb_t)(unsigned int vcpu_index, void *userdata);
typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(qemu_plugin_id_t id, struct qemu_plugin_tb *tb);
typedef void (*qemu_plugin_vcpu_mem_cb_t)(unsigned int vcpu_index, qemu_plugin_meminfo_t info,
					  uint64_t vaddr, void *userdata);

/* Exported by the plugin: the API level it was built for, checked by QEMU's
 * loader before qemu_plugin_install is called. */
extern QEMU_PLUGIN_EXPORT int qemu_plugin_version;
/* Exported by the plugin: called once at load; non-zero refuses to load.
 * argv holds the "key=value" options given after the plugin's path. */
QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc,
					   char **argv);

/* Called for every translation block when it is translated; instrument its
 * instructions from there. */
void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_tb_trans_cb_t cb);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
struct qemu_plugin_insn *qemu_plugin_tb_get_insn(const struct qemu_plugin_tb *tb, size_t idx);
uint64_t qemu_plugin_insn_vaddr(const struct qemu_plugin_insn *insn);
size_t qemu_plugin_insn_size(const struct qemu_plugin_insn *insn);
/* The instruction's disassembly, newly allocated (g_strdup; glib >= 2.46
 * allocates with the system malloc, so free() releases it). */
char *qemu_plugin_insn_disas(const struct qemu_plugin_insn *insn);
/* Call cb at run time before/after every memory access of insn matching rw. */
void qemu_plugin_register_vcpu_mem_cb(struct qemu_plugin_insn *insn, qemu_plugin_vcpu_mem_cb_t cb,
				      enum qemu_plugin_cb_flags flags, enum qemu_plugin_mem_rw rw,
				      void *userdata);
/* Call cb every time insn executes. */
void qemu_plugin_register_vcpu_insn_exec_cb(struct qemu_plugin_insn *insn,
					    qemu_plugin_vcpu_udata_cb_t cb,
					    enum qemu_plugin_cb_flags flags, void *userdata);

/* Size of the access as log2 of bytes (0 = byte ... 3 = 64-bit, 4 = 128-bit). */
unsigned int qemu_plugin_mem_size_shift(qemu_plugin_meminfo_t info);
bool qemu_plugin_mem_is_store(qemu_plugin_meminfo_t info);

/* Called when the guest program exits (user mode) or QEMU shuts down. */
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, qemu_plugin_udata_cb_t cb, void *userdata);
/* Print through QEMU's log (stderr unless -D is given). */
void qemu_plugin_outs(const char *string);

#endif
