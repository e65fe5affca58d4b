#include "arch/x86_64/exception.h"

/* SDM Vol. 3A Table 6-1. */
static const char *const exception_names[EXCEPTION_VECTORS] = {
	[0] = "#DE divide error",
	[1] = "#DB debug",
	[2] = "NMI",
	[3] = "#BP breakpoint",
	[4] = "#OF overflow",
	[5] = "#BR bound range exceeded",
	[6] = "#UD invalid opcode",
	[7] = "#NM device not available",
	[8] = "#DF double fault",
	[9] = "coprocessor segment overrun",
	[10] = "#TS invalid TSS",
	[11] = "#NP segment not present",
	[12] = "#SS stack-segment fault",
	[13] = "#GP general protection",
	[14] = "#PF page fault",
	[16] = "#MF x87 floating-point error",
	[17] = "#AC alignment check",
	[18] = "#MC machine check",
	[19] = "#XM SIMD floating-point",
	[20] = "#VE virtualization exception",
	[21] = "#CP control protection",
	[28] = "#HV hypervisor injection",
	[29] = "#VC VMM communication",
	[30] = "#SX security exception",
};

/* SDM Vol. 3A Table 6-1, "Type" column. Vectors 28-30 are AMD's (#HV, #VC,
 * #SX); on Intel CPUs they are reserved, like 15 and 22-27, 31. */
static const u8 exception_classes[EXCEPTION_VECTORS] = {
	[0] = EXCEPTION_FAULT,	   [1] = EXCEPTION_FAULT_OR_TRAP, [2] = EXCEPTION_INTERRUPT,
	[3] = EXCEPTION_TRAP,	   [4] = EXCEPTION_TRAP,	  [5] = EXCEPTION_FAULT,
	[6] = EXCEPTION_FAULT,	   [7] = EXCEPTION_FAULT,	  [8] = EXCEPTION_ABORT,
	[9] = EXCEPTION_FAULT,	   [10] = EXCEPTION_FAULT,	  [11] = EXCEPTION_FAULT,
	[12] = EXCEPTION_FAULT,	   [13] = EXCEPTION_FAULT,	  [14] = EXCEPTION_FAULT,
	[15] = EXCEPTION_RESERVED, [16] = EXCEPTION_FAULT,	  [17] = EXCEPTION_FAULT,
	[18] = EXCEPTION_ABORT,	   [19] = EXCEPTION_FAULT,	  [20] = EXCEPTION_FAULT,
	[21] = EXCEPTION_FAULT,	   [22] = EXCEPTION_RESERVED,	  [23] = EXCEPTION_RESERVED,
	[24] = EXCEPTION_RESERVED, [25] = EXCEPTION_RESERVED,	  [26] = EXCEPTION_RESERVED,
	[27] = EXCEPTION_RESERVED, [28] = EXCEPTION_RESERVED,	  [29] = EXCEPTION_RESERVED,
	[30] = EXCEPTION_RESERVED, [31] = EXCEPTION_RESERVED,
};

const char *exception_name(unsigned vector)
{
	if (vector < EXCEPTION_VECTORS && exception_names[vector])
		return exception_names[vector];
	return "reserved";
}

enum exception_class exception_class(unsigned vector)
{
	return vector < EXCEPTION_VECTORS ? (enum exception_class)exception_classes[vector]
					  : EXCEPTION_RESERVED;
}

bool exception_has_error_code(unsigned vector)
{
	switch (vector) {
	case 8:	 /* #DF, always 0 */
	case 10: /* #TS */
	case 11: /* #NP */
	case 12: /* #SS */
	case 13: /* #GP */
	case 14: /* #PF */
	case 17: /* #AC, always 0 */
	case 21: /* #CP */
		return true;
	}
	return false;
}

bool exception_sets_rf(unsigned vector)
{
	return exception_class(vector) == EXCEPTION_FAULT;
}
