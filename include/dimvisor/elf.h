/* The parts of the ELF format the guest loader reads. System V ABI, "ELF
 * Object File Format" (gABI 4.1) chapter 4 and 5. */
#ifndef DIMVISOR_ELF_H
#define DIMVISOR_ELF_H

#include <dimvisor/types.h>

#define ELF_MAGIC   0x464c457fu /* "\x7fELF" little-endian */
#define ELFCLASS32  1
#define ELFCLASS64  2
#define ELFDATA2LSB 1
#define ET_EXEC	    2
#define EM_386	    3
#define EM_X86_64   62
#define PT_LOAD	    1

struct __packed elf_ident {
	u32 magic;
	u8 class, data, version, osabi;
	u8 pad[8];
};

struct __packed elf32_ehdr {
	struct elf_ident ident;
	u16 type, machine;
	u32 version, entry, phoff, shoff, flags;
	u16 ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};

struct __packed elf64_ehdr {
	struct elf_ident ident;
	u16 type, machine;
	u32 version;
	u64 entry, phoff, shoff;
	u32 flags;
	u16 ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};

struct __packed elf32_phdr {
	u32 type, offset, vaddr, paddr, filesz, memsz, flags, align;
};

struct __packed elf64_phdr {
	u32 type, flags;
	u64 offset, vaddr, paddr, filesz, memsz, align;
};

#endif
