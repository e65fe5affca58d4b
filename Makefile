# dimvisor build.
#
#   make            hypervisor, guest, ISO, host tools
#   make run        boot the ISO in Bochs (EMU=qemu for QEMU; ARGS=, GUEST_ARGS=)
#   make test       unit tests, then system tests; last line "N passed, M failed, K skipped"
#   make bench      benchmarks (ratios measured side by side)
#   make debug      QEMU halted at the first instruction with a gdb stub on :1234
#   make check      clang-format, cppcheck, headers alone, model freestanding (in make test too)
#
# Conventions that let a module be added without editing this file:
#   - kernel sources: boot/*.asm arch/x86_64/*.{c,asm} lib/*.c mm/*.c hv/*.c
#   - host unit test: tests/unit/test_NAME.c plus tests/unit/test_NAME.mk that sets
#     test_NAME_SRCS := the sources under test (built hosted, with sanitizers)
#   - a file named *_host.c is host-only; *_kern.c is kernel-only.

BUILD   ?= build
CC      := gcc
LD      := ld
NASM    := nasm
OBJCOPY := objcopy

GCC_INCLUDE := $(shell $(CC) -print-file-name=include)

# Quiet by default; make V=1 shows every command.
ifeq ($(V),1)
Q :=
say = @true
else
Q := @
say = @printf '  %-7s %s\n' $(1) $(2)
endif

WARN := -Wall -Wextra -Werror -Wstrict-prototypes -Wmissing-prototypes -Wshadow \
        -Wno-unused-parameter

# Bare-metal flags: no libc, no red zone (interrupts), no SSE in the
# hypervisor (no FPU state to save on exits), no PIE: the image is linked at 1 MiB.
KCFLAGS := -std=gnu11 -O2 -g $(WARN) -I. -Iinclude -nostdinc -isystem $(GCC_INCLUDE) \
           -ffreestanding -fno-tree-loop-distribute-patterns -fno-pic -fno-pie -mno-red-zone -mgeneral-regs-only \
           -mcmodel=small -fno-stack-protector -fno-omit-frame-pointer \
           -fno-asynchronous-unwind-tables -fcf-protection=none -MMD -MP
KLDFLAGS := -nostdlib -static -no-pie -z max-page-size=0x1000 -z noexecstack \
            --no-warn-rwx-segments

# Host flags: the same sources, hosted, for unit tests (with sanitizers) and tools.
HCFLAGS_COMMON := -std=gnu11 -g $(WARN) -I. -Iinclude -DDV_HOSTED -MMD -MP
HCFLAGS_TEST   := $(HCFLAGS_COMMON) -O1 -fsanitize=address,undefined \
                  -fno-sanitize-recover=undefined -fno-omit-frame-pointer
HCFLAGS_TOOL   := $(HCFLAGS_COMMON) -O2 -march=x86-64-v2

# What each NASM source %includes goes to $@.d (read by the -include at the end),
# so touching boot/early.inc or a guest's .inc rebuilds what uses it. A separate
# `nasm -M` run: NASM 2.16.01's -MD, while assembling, lists no %include.
NASM_DEPS = -M -MF $@.d -MT $@ -MP $<

# --- hypervisor image -------------------------------------------------------
# The hypervisor links the model's walker (guest-virtual translation) and its
# escape filter (the VMM segment's); the rest of mm/model joins when the
# hypervisor samples TLB misses.
KERNEL_C   := $(filter-out %_host.c,$(wildcard arch/x86_64/*.c lib/*.c mm/*.c hv/*.c hv/vmx/*.c)) \
              mm/model/walk.c mm/model/pwc.c mm/model/escape.c mm/model/cost.c \
              mm/model/model.c mm/model/tlb.c mm/model/segment.c
KERNEL_ASM := $(wildcard boot/*.asm arch/x86_64/*.asm)
KERNEL_OBJ := $(patsubst %.c,$(BUILD)/kern/%.o,$(KERNEL_C)) \
              $(patsubst %.asm,$(BUILD)/kern/%.o,$(KERNEL_ASM))

# --- guest kernel (issue: VT-x core) ------------------------------------------
GUEST_C   := $(wildcard guest/*.c guest/workloads/*.c)
GUEST_ASM := $(wildcard guest/*.asm)
GUEST_LIB := lib/string.c lib/printf.c lib/parse.c lib/errno.c arch/x86_64/exception.c \
             lib/fp/zipf.c lib/fp/fp_math.c
# kvs's Zipf sampling is floating point: these objects use SSE (the guest turns
# it on before kvs runs); the rest of the guest, like the hypervisor, does not.
GUEST_FP_OBJ := $(addprefix $(BUILD)/guest/,guest/workloads/kvs.o lib/fp/zipf.o lib/fp/fp_math.o)
GUEST_OBJ := $(patsubst %.c,$(BUILD)/guest/%.o,$(GUEST_C) $(GUEST_LIB)) \
             $(patsubst %.asm,$(BUILD)/guest/%.o,$(GUEST_ASM))

# --- host tools ----------------------------------------------------------------
MODEL_C   := $(wildcard mm/model/*.c)
MMUSIM_C  := $(wildcard tools/mmusim/*.c)
MMUSIM_LIB := $(MODEL_C) $(filter-out %_kern.c,$(wildcard lib/*.c)) $(wildcard lib/fp/*.c) \
              mm/pagetable.c

UNIT_TESTS := $(patsubst tests/unit/%.c,%,$(wildcard tests/unit/test_*.c))
-include $(wildcard tests/unit/*.mk)

TARGETS := $(BUILD)/dimvisor.elf $(BUILD)/dimvisor.iso
ifneq ($(GUEST_C),)
TARGETS += $(BUILD)/guest.elf
endif
ifneq ($(MMUSIM_C),)
TARGETS += $(BUILD)/mmusim
endif
# Small test guests (plain 32-bit multiboot kernels written in NASM).
TEST_GUESTS := $(patsubst tests/guests/%.asm,$(BUILD)/tests/guests/%.elf,$(wildcard tests/guests/*.asm))
# Broken images for the loader's error paths: an ELF cut inside its segment data.
TEST_GUESTS += $(BUILD)/tests/guests/truncated.elf
TARGETS += $(TEST_GUESTS)
# A boot module too big for a guest with mem=2M (the loader's "does not fit").
TARGETS += $(BUILD)/tests/modules/2m.bin
ifneq ($(wildcard tools/qtrace.d/*.c),)
TARGETS += $(BUILD)/qtrace.so
endif

.PHONY: all run test unit system bench debug clean deps check-model-freestanding format
all: $(TARGETS)

$(BUILD)/kern/%.o: %.c
	@mkdir -p $(dir $@)
	$(call say,CC,$<)
	$(Q)$(CC) $(KCFLAGS) -c -o $@ $<

$(BUILD)/kern/%.o: %.asm
	@mkdir -p $(dir $@)
	$(call say,NASM,$<)
	$(Q)$(NASM) -I boot/ $(NASM_DEPS)
	$(Q)$(NASM) -f elf64 -g -F dwarf -I boot/ -o $@ $<

$(BUILD)/dimvisor.elf: $(KERNEL_OBJ) linker.ld
	$(call say,LD,$@)
	$(Q)$(LD) $(KLDFLAGS) -T linker.ld -o $@ $(KERNEL_OBJ)

$(GUEST_FP_OBJ): KCFLAGS := $(filter-out -mgeneral-regs-only,$(KCFLAGS)) -msse2

$(BUILD)/guest/%.o: %.c
	@mkdir -p $(dir $@)
	$(call say,CC,$<)
	$(Q)$(CC) $(KCFLAGS) -DDV_GUEST -c -o $@ $<

$(BUILD)/guest/%.o: %.asm
	@mkdir -p $(dir $@)
	$(call say,NASM,$<)
	$(Q)$(NASM) -I guest/ -I boot/ $(NASM_DEPS)
	$(Q)$(NASM) -f elf64 -g -F dwarf -I guest/ -I boot/ -o $@ $<

$(BUILD)/guest.elf: $(GUEST_OBJ) guest/linker.ld
	$(call say,LD,$@)
	$(Q)$(LD) $(KLDFLAGS) -T guest/linker.ld -o $@ $(GUEST_OBJ)

$(BUILD)/dimvisor.iso: $(BUILD)/dimvisor.elf $(if $(GUEST_C),$(BUILD)/guest.elf) tools/mkiso
	$(call say,ISO,$@)
	$(Q)tools/mkiso $@ $(BUILD)/dimvisor.elf $(if $(GUEST_C),$(BUILD)/guest.elf)

# NAME64.asm is a 64-bit ELF; every other test guest a 32-bit one.
$(BUILD)/tests/guests/%64.elf: tests/guests/%64.asm
	@mkdir -p $(dir $@)
	$(call say,GUEST,$@)
	$(Q)$(NASM) $(NASM_DEPS)
	$(Q)$(NASM) -f elf64 -o $@.o $<
	$(Q)$(LD) -nostdlib -static -Ttext 0x100000 -z noexecstack -o $@ $@.o

$(BUILD)/tests/guests/%.elf: tests/guests/%.asm
	@mkdir -p $(dir $@)
	$(call say,GUEST,$@)
	$(Q)$(NASM) $(NASM_DEPS)
	$(Q)$(NASM) -f elf32 -o $@.o $<
	$(Q)$(LD) -m elf_i386 -nostdlib -static -Ttext 0x100000 -z noexecstack -o $@ $@.o

$(BUILD)/tests/guests/truncated.elf: $(BUILD)/tests/guests/bad-msr.elf
	$(Q)head -c 4200 $< >$@

$(BUILD)/tests/modules/2m.bin:
	@mkdir -p $(dir $@)
	$(Q)head -c 2097152 /dev/zero | tr '\0' M >$@

# Host objects: tests (sanitized) and tools (optimised) are built apart.
$(BUILD)/host-test/%.o: %.c
	@mkdir -p $(dir $@)
	$(call say,HOSTCC,$<)
	$(Q)$(CC) $(HCFLAGS_TEST) -c -o $@ $<

$(BUILD)/host-tool/%.o: %.c
	@mkdir -p $(dir $@)
	$(call say,HOSTCC,$<)
	$(Q)$(CC) $(HCFLAGS_TOOL) -c -o $@ $<

define unit_test_rule
$(BUILD)/tests/$(1): $(BUILD)/host-test/tests/unit/$(1).o \
                     $$(patsubst %.c,$(BUILD)/host-test/%.o,$$($(1)_SRCS))
	@mkdir -p $$(dir $$@)
	$(call say,LINK,$$@)
	$(Q)$(CC) $(HCFLAGS_TEST) -o $$@ $$^ -lcmocka -lm
endef
$(foreach t,$(UNIT_TESTS),$(eval $(call unit_test_rule,$(t))))
UNIT_BINS := $(addprefix $(BUILD)/tests/,$(UNIT_TESTS))

$(BUILD)/mmusim: $(patsubst %.c,$(BUILD)/host-tool/%.o,$(MMUSIM_C) $(MMUSIM_LIB))
	$(call say,LINK,$@)
	$(Q)$(CC) $(HCFLAGS_TOOL) -o $@ $^ -lm

$(BUILD)/qtrace.so: $(wildcard tools/qtrace.d/*.c tools/qtrace.d/*.h)
	@mkdir -p $(dir $@)
	$(call say,PLUGIN,$@)
	$(Q)$(CC) -std=gnu11 -O2 -g $(WARN) -I. -Iinclude -fPIC -shared -o $@ \
	    $(wildcard tools/qtrace.d/*.c)

# The model must also compile freestanding (the hypervisor links it later).
check-model-freestanding: $(patsubst %.c,$(BUILD)/kern/%.o,$(filter-out %_host.c,$(MODEL_C)))

# --- running and testing --------------------------------------------------------
EMU ?= bochs
ARGS ?=
GUEST_ARGS ?=

deps:
	@tools/ensure-deps

run: deps all
	tools/dimvisor-run --emu $(EMU) $(if $(GUEST_C),--guest $(BUILD)/guest.elf) \
	    -- $(ARGS) $(if $(GUEST_ARGS),-- $(GUEST_ARGS))

unit: deps $(UNIT_BINS)
	tests/run-unit $(UNIT_BINS)

system: deps all
	tests/system/run

test: deps all $(UNIT_BINS)
	tests/run-all $(UNIT_BINS)

bench: deps all
	bench/run

debug: deps all
	tools/dimvisor-run --emu qemu --boot kernel --gdb -- $(ARGS)

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' -type f 2>/dev/null)

# --- NASM dependencies ------------------------------------------------------------
# An assembled file without its $@.d (built before NASM_DEPS existed) is
# rebuilt once, so its %include list is known from then on.
NASM_OUTPUTS := $(patsubst %.asm,$(BUILD)/kern/%.o,$(KERNEL_ASM)) \
                $(patsubst %.asm,$(BUILD)/guest/%.o,$(GUEST_ASM)) \
                $(patsubst tests/guests/%.asm,$(BUILD)/tests/guests/%.elf,$(wildcard tests/guests/*.asm))
$(foreach o,$(NASM_OUTPUTS),$(if $(wildcard $(o).d),,$(eval $(o): FORCE)))
.PHONY: FORCE
FORCE:

# --- safety nets: make check (each is also a test in make test) -------------------
#   check-format               clang-format --dry-run -Werror over every C file and header
#   check-cppcheck             cppcheck (warning, portability); suppressions with
#                              their reasons in tests/checks/cppcheck.supp
#   check-headers              every header compiles on its own (and twice: include
#                              guard), with the flags of each build that uses it
#   check-model-freestanding   (above) the whole model compiles freestanding
.PHONY: check check-format check-cppcheck check-headers
check: check-format check-cppcheck check-headers check-model-freestanding

CHECK_C_FILES = $(shell git ls-files -co --exclude-standard '*.c' '*.h' 2>/dev/null || \
                  find . -path ./$(BUILD) -prune -o -name '*.[ch]' -print)

# Files in tests/checks/format-pending are reported as SKIP while they still
# need formatting (and as clean once they are), never silently left out.
FORMAT_PENDING = $(shell sed -e 's/\#.*//' tests/checks/format-pending)
check-format:
	$(call say,FORMAT,"clang-format --dry-run -Werror")
	$(Q)clang-format --dry-run -Werror $(filter-out $(FORMAT_PENDING),$(CHECK_C_FILES))
	$(Q)for f in $(filter $(FORMAT_PENDING),$(CHECK_C_FILES)); do \
	    if clang-format --dry-run -Werror $$f 2>/dev/null; then \
	        echo "check-format: $$f is clean now: remove it from tests/checks/format-pending"; \
	    else \
	        echo "check-format: SKIP $$f: known unformatted (tests/checks/format-pending)"; \
	    fi; \
	done

CPPCHECK_FLAGS := --enable=warning,portability --error-exitcode=1 --inline-suppr -q \
                  --suppressions-list=tests/checks/cppcheck.supp -I. -Iinclude --std=c11 -j2
check-cppcheck:
	$(call say,CPPCHECK,"$(CPPCHECK_FLAGS)")
	$(Q)cppcheck $(CPPCHECK_FLAGS) $(filter %.c,$(CHECK_C_FILES))

# Which build includes which headers: the hypervisor (KCFLAGS), the guest kernel
# (KCFLAGS -DDV_GUEST) and the host (unit tests and tools).
HDR_KERN  := $(wildcard include/*/*.h arch/*/*.h hv/*.h hv/*/*.h mm/*.h mm/*/*.h lib/*.h)
HDR_GUEST := $(wildcard guest/*.h include/*/*.h arch/*/*.h lib/*.h)
HDR_HOST  := $(wildcard include/*/*.h lib/*.h lib/fp/*.h mm/*.h mm/*/*.h tools/mmusim/*.h \
                        tools/qtrace.d/*.h)
HDR_STAMPS := $(patsubst %,$(BUILD)/check-headers/kern/%.ok,$(HDR_KERN)) \
              $(patsubst %,$(BUILD)/check-headers/guest/%.ok,$(HDR_GUEST)) \
              $(patsubst %,$(BUILD)/check-headers/host/%.ok,$(HDR_HOST))
check-headers: $(HDR_STAMPS)

# header_check FLAGS: compile a file that includes $< twice; -MMD keeps the
# stamp's dependencies, so a header is rechecked when anything it includes changes.
define header_check
	@mkdir -p $(dir $@)
	$(Q)printf '#include "%s"\n#include "%s"\n' $< $< | \
	    $(CC) $(filter-out -MMD -MP,$(1)) -fsyntax-only -MMD -MP -MF $@.d -MT $@ -x c - \
	    || { echo "check-headers: $< does not compile on its own ($(2) build)"; exit 1; }
	@touch $@
endef
$(BUILD)/check-headers/kern/%.ok: %
	$(call header_check,$(KCFLAGS),hypervisor)
$(BUILD)/check-headers/guest/%.ok: %
	$(call header_check,$(KCFLAGS) -DDV_GUEST,guest)
$(BUILD)/check-headers/host/%.ok: %
	$(call header_check,$(HCFLAGS_TOOL),host)

# --- fuzzers (tests/fuzz) ---------------------------------------------------------
#   make fuzz [FUZZ_SECONDS=120] [FUZZ_TARGETS="config loader"]
# A target is tests/fuzz/fuzz_NAME.c (LLVMFuzzerTestOneInput) plus fuzz_NAME.mk
# setting fuzz_NAME_SRCS := the sources under test, built hosted (-DDV_HOSTED)
# with clang's libFuzzer, ASan and UBSan; seeds in tests/fuzz/NAME/corpus/,
# known crashing inputs in tests/fuzz/NAME/crashes/. make test runs a smoke run
# of each (tests/fuzz/run-tests): the seeds and the crashes replayed, then a
# few seconds of fuzzing.
FUZZ_CC      := clang
FUZZ_SECONDS ?= 120
FUZZ_CFLAGS  := -std=gnu11 -g -O1 $(WARN) -I. -Iinclude -DDV_HOSTED -MMD -MP \
                -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined \
                -fno-omit-frame-pointer
FUZZ_NAMES   := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_TARGETS ?= $(FUZZ_NAMES)
-include $(wildcard tests/fuzz/*.mk)

$(BUILD)/fuzz-obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(call say,FUZZCC,$<)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -c -o $@ $<

# The harnesses themselves get no coverage instrumentation: their reference
# models' loops would otherwise cost more than the code under test, and guide
# the fuzzer towards the harness instead of the target.
$(BUILD)/fuzz-obj/tests/fuzz/%.o: tests/fuzz/%.c
	@mkdir -p $(dir $@)
	$(call say,FUZZCC,$<)
	$(Q)$(FUZZ_CC) $(subst fuzzer-no-link$(comma),,$(FUZZ_CFLAGS)) -O2 -c -o $@ $<
comma := ,

define fuzz_rule
$(BUILD)/fuzz/fuzz_$(1): $(BUILD)/fuzz-obj/tests/fuzz/fuzz_$(1).o \
                         $$(patsubst %.c,$(BUILD)/fuzz-obj/%.o,$$(fuzz_$(1)_SRCS))
	@mkdir -p $$(dir $$@)
	$(call say,LINK,$$@)
	$(Q)$(FUZZ_CC) -fsanitize=fuzzer,address,undefined -o $$@ $$^ -lm
endef
$(foreach t,$(FUZZ_NAMES),$(eval $(call fuzz_rule,$(t))))
FUZZ_BINS := $(patsubst %,$(BUILD)/fuzz/fuzz_%,$(FUZZ_NAMES))

.PHONY: fuzz fuzz-build
fuzz-build: $(FUZZ_BINS)
fuzz: deps $(FUZZ_BINS)
	tests/fuzz/run --seconds $(FUZZ_SECONDS) $(FUZZ_TARGETS)
test: $(FUZZ_BINS)
