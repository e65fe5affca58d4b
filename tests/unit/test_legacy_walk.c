/* hv/legacy_walk.c: 32-bit and PAE paging walks over tables built by hand in
 * a 64 KiB "guest RAM" buffer (addresses are offsets into it). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "hv/legacy_walk.h"
#include <dimvisor/errno.h>

static unsigned char ram[64 * 1024];

static bool read_ram(void *ctx, u64 gpa, unsigned size, u64 *value)
{
	(void)ctx;
	if (gpa + size > sizeof(ram))
		return false;
	*value = 0;
	memcpy(value, ram + gpa, size);
	return true;
}

static void put32(u64 gpa, u32 v)
{
	memcpy(ram + gpa, &v, 4);
}

static void put64(u64 gpa, u64 v)
{
	memcpy(ram + gpa, &v, 8);
}

static struct legacy_paging paging(u64 cr3)
{
	return (struct legacy_paging){.cr3 = cr3,
				      .pse = true,
				      .wp = true,
				      .maxphyaddr = 46,
				      .read = read_ram,
				      .ctx = NULL};
}

static int setup(void **state)
{
	(void)state;
	memset(ram, 0, sizeof(ram));
	return 0;
}

/* 32-bit: PD at 0x1000, PT at 0x2000. */
static void walk32_4k_page(void **state)
{
	struct legacy_paging p = paging(0x1000);
	u64 gpa = 0;

	(void)state;
	put32(0x1000 + (0x40000000u >> 22) * 4, 0x2000 | 3);	       /* PDE: present, RW */
	put32(0x2000 + ((0x40005000u >> 12) & 0x3ff) * 4, 0x7000 | 3); /* PTE */
	assert_int_equal(legacy_walk_32(&p, 0x40005123u, WALK_ACC_WRITE, &gpa, NULL), 0);
	assert_int_equal(gpa, 0x7123);
	assert_int_equal(legacy_walk_32(&p, 0x40006000u, 0, &gpa, NULL), -DV_EFAULT); /* no PTE */
	assert_int_equal(legacy_walk_32(&p, 0x80000000u, 0, &gpa, NULL), -DV_EFAULT); /* no PDE */
}

static void walk32_4m_page_needs_pse(void **state)
{
	struct legacy_paging p = paging(0x1000);
	u64 gpa = 0;

	(void)state;
	/* PDE for 0x00400000: a 4 MiB page at 0xc00000 with PA bits 39:32 = 0x1 */
	put32(0x1000 + 1 * 4, 0xc00000 | (1u << 13) | 0x83);
	assert_int_equal(legacy_walk_32(&p, 0x00412345u, 0, &gpa, NULL), 0);
	assert_int_equal(gpa, 0x100c12345ULL);
	p.pse = false; /* then PS is ignored and the entry points at a PT (0xc00000: outside RAM) */
	assert_int_equal(legacy_walk_32(&p, 0x00412345u, 0, &gpa, NULL), -DV_EFAULT);
}

static void walk32_write_protection(void **state)
{
	struct legacy_paging p = paging(0x1000);
	u64 gpa = 0;

	(void)state;
	put32(0x1000, 0x2000 | 3);
	put32(0x2000 + 5 * 4, 0x9000 | 1); /* read-only */
	assert_int_equal(legacy_walk_32(&p, 0x5000, 0, &gpa, NULL), 0);
	assert_int_equal(legacy_walk_32(&p, 0x5000, WALK_ACC_WRITE, &gpa, NULL), -DV_EFAULT);
	p.wp = false; /* supervisor writes ignore R/W */
	assert_int_equal(legacy_walk_32(&p, 0x5000, WALK_ACC_WRITE, &gpa, NULL), 0);
	assert_int_equal(gpa, 0x9000);
}

/* PAE: PDPT at 0x1020 (32-byte aligned, not page aligned), PD 0x2000, PT 0x3000. */
static void walk_pae_4k_and_2m(void **state)
{
	struct legacy_paging p = paging(0x1020);
	u64 gpa = 0;

	(void)state;
	put64(0x1020 + 1 * 8, 0x2000 | 1);			       /* PDPTE 1: 1-2 GiB */
	put64(0x2000 + ((0x40200000u >> 21) & 0x1ff) * 8, 0x3000 | 3); /* PDE -> PT */
	put64(0x3000 + ((0x40203000u >> 12) & 0x1ff) * 8, 0x12345000ULL | 3);
	put64(0x2000 + ((0x40400000u >> 21) & 0x1ff) * 8, 0x200000000ULL | 0x83); /* 2 MiB */
	assert_int_equal(legacy_walk_pae(&p, 0x40203abcu, WALK_ACC_WRITE, &gpa, NULL), 0);
	assert_int_equal(gpa, 0x12345abc);
	assert_int_equal(legacy_walk_pae(&p, 0x40412345u, WALK_ACC_WRITE, &gpa, NULL), 0);
	assert_int_equal(gpa, 0x200012345ULL);
	assert_int_equal(legacy_walk_pae(&p, 0x00001000u, 0, &gpa, NULL), -DV_EFAULT); /* PDPTE 0 */
}

static void walk_pae_reserved_bits(void **state)
{
	struct legacy_paging p = paging(0x1000);
	u64 gpa = 0;

	(void)state;
	put64(0x1000, 0x2000 | 1 | 2); /* PDPTE with reserved bit 1 */
	put64(0x2000, 0x200000ULL | 0x83);
	assert_int_equal(legacy_walk_pae(&p, 0x1000, 0, &gpa, NULL), -DV_EFAULT);
	put64(0x1000, 0x2000 | 1);
	assert_int_equal(legacy_walk_pae(&p, 0x1000, 0, &gpa, NULL), 0);
	put64(0x2000, (1ULL << 63) | 0x83); /* XD without NXE: reserved */
	assert_int_equal(legacy_walk_pae(&p, 0x1000, 0, &gpa, NULL), -DV_EFAULT);
	p.nxe = true;
	assert_int_equal(legacy_walk_pae(&p, 0x1000, 0, &gpa, NULL), 0);
	put64(0x2000, (1ULL << 50) | 0x83); /* above MAXPHYADDR 46 */
	assert_int_equal(legacy_walk_pae(&p, 0x1000, 0, &gpa, NULL), -DV_EFAULT);
}

/* The #PF error code of each kind of fault: SDM Vol. 3A 4.7. */
static void walk32_error_codes(void **state)
{
	struct legacy_paging p = paging(0x1000);
	u64 gpa = 0;
	u32 err = 0xff;

	(void)state;
	put32(0x1000, 0x2000 | 7);	    /* PDE: present, RW, user */
	put32(0x2000 + 5 * 4, 0x9000 | 1);  /* read-only supervisor page */
	put32(0x2000 + 6 * 4, 0xa000 | 7);  /* user RW page */
	put32(0x1000 + 4, 0x400000 | 0x83); /* 4 MiB supervisor RW page */
	/* not present: P clear, W and U as the access */
	assert_int_equal(legacy_walk_32(&p, 0x7000, 0, &gpa, &err), -DV_EFAULT);
	assert_int_equal(err, 0);
	assert_int_equal(legacy_walk_32(&p, 0x7000, WALK_ACC_WRITE | WALK_ACC_USER, &gpa, &err),
			 -DV_EFAULT);
	assert_int_equal(err, WALK_PF_W | WALK_PF_U);
	assert_int_equal(legacy_walk_32(&p, 0x80000000u, WALK_ACC_WRITE, &gpa, &err), -DV_EFAULT);
	assert_int_equal(err, WALK_PF_W);
	/* protection: P set */
	assert_int_equal(legacy_walk_32(&p, 0x5000, WALK_ACC_WRITE, &gpa, &err), -DV_EFAULT);
	assert_int_equal(err, WALK_PF_P | WALK_PF_W);
	assert_int_equal(legacy_walk_32(&p, 0x5000, WALK_ACC_USER, &gpa, &err), -DV_EFAULT);
	assert_int_equal(err, WALK_PF_P | WALK_PF_U);
	assert_int_equal(legacy_walk_32(&p, 0x400000, WALK_ACC_USER, &gpa, &err), -DV_EFAULT);
	assert_int_equal(err, WALK_PF_P | WALK_PF_U);
	/* a user page allows user reads and writes */
	assert_int_equal(legacy_walk_32(&p, 0x6004, WALK_ACC_WRITE | WALK_ACC_USER, &gpa, &err), 0);
	assert_int_equal(gpa, 0xa004);
	/* a reserved bit: P and RSVD */
	put32(0x1000 + 8, 0x800000 | (1u << 21) | 0x83);
	assert_int_equal(legacy_walk_32(&p, 0x800000, 0, &gpa, &err), -DV_EFAULT);
	assert_int_equal(err, WALK_PF_P | WALK_PF_RSVD);
}

/* A user write needs RW even without CR0.WP; US must be set at every level. */
static void user_rights_over_levels(void **state)
{
	struct legacy_paging p = paging(0x1020);
	u64 gpa = 0;
	u32 err = 0;

	(void)state;
	p.wp = false;
	put64(0x1020, 0x2000 | 1);
	put64(0x2000, 0x3000 | 3);	   /* PDE: supervisor only */
	put64(0x3000 + 1 * 8, 0x5000 | 7); /* PTE: user RW */
	put64(0x2000 + 1 * 8, 0x4000 | 7); /* PDE: user RW */
	put64(0x4000 + 1 * 8, 0x6000 | 5); /* PTE: user read-only */
	assert_int_equal(legacy_walk_pae(&p, 0x1000, WALK_ACC_USER, &gpa, &err), -DV_EFAULT);
	assert_int_equal(err, WALK_PF_P | WALK_PF_U);
	assert_int_equal(legacy_walk_pae(&p, 0x1000, WALK_ACC_WRITE, &gpa, &err), 0);
	assert_int_equal(legacy_walk_pae(&p, 0x201000, WALK_ACC_USER, &gpa, &err), 0);
	assert_int_equal(gpa, 0x6000);
	assert_int_equal(legacy_walk_pae(&p, 0x201000, WALK_ACC_USER | WALK_ACC_WRITE, &gpa, &err),
			 -DV_EFAULT);
	assert_int_equal(err, WALK_PF_P | WALK_PF_W | WALK_PF_U);
	assert_int_equal(legacy_walk_pae(&p, 0x201000, WALK_ACC_WRITE, &gpa, &err), 0);
	/* a PDPTE that is not present */
	assert_int_equal(legacy_walk_pae(&p, 0x40000000u, WALK_ACC_WRITE, &gpa, &err), -DV_EFAULT);
	assert_int_equal(err, WALK_PF_W);
}

static void tables_outside_ram_fault(void **state)
{
	struct legacy_paging p = paging(0x100000); /* CR3 past the buffer */
	u64 gpa = 0;

	(void)state;
	assert_int_equal(legacy_walk_32(&p, 0, 0, &gpa, NULL), -DV_EFAULT);
	assert_int_equal(legacy_walk_pae(&p, 0, 0, &gpa, NULL), -DV_EFAULT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(walk32_4k_page, setup),
		cmocka_unit_test_setup(walk32_4m_page_needs_pse, setup),
		cmocka_unit_test_setup(walk32_write_protection, setup),
		cmocka_unit_test_setup(walk_pae_4k_and_2m, setup),
		cmocka_unit_test_setup(walk_pae_reserved_bits, setup),
		cmocka_unit_test_setup(walk32_error_codes, setup),
		cmocka_unit_test_setup(user_rights_over_levels, setup),
		cmocka_unit_test_setup(tables_outside_ram_fault, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
