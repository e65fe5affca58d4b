/* See hv/insn.h. Prefixes, REX, ModRM, SIB and displacement: SDM Vol. 2A
 * 2.1-2.2; the opcodes: Vol. 2B (MOV 88/89/8A/8B/C6/C7/A0-A3, MOVZX 0F B6/B7,
 * MOVSX 0F BE/BF). */
#include "hv/insn.h"
#include <dimvisor/errno.h>

struct cursor {
	const u8 *p;
	unsigned at, avail;
};

static bool take(struct cursor *c, unsigned n, u64 *value)
{
	u64 v = 0;

	if (c->at + n > c->avail || c->at + n > INSN_MAX_LEN)
		return false;
	for (unsigned i = 0; i < n; i++)
		v |= (u64)c->p[c->at + i] << (8 * i);
	c->at += n;
	if (value)
		*value = v;
	return true;
}

static bool is_legacy_prefix(u8 b)
{
	switch (b) {
	case 0x26: /* segment overrides ES CS SS DS FS GS */
	case 0x2e:
	case 0x36:
	case 0x3e:
	case 0x64:
	case 0x65:
	case 0x66: /* operand size */
	case 0x67: /* address size */
	case 0xf0: /* LOCK */
	case 0xf2: /* REPNE, REP: meaningless on MOV */
	case 0xf3:
		return true;
	default:
		return false;
	}
}

/* Skip ModRM's memory operand (SIB, displacement); reg gets ModRM.reg.
 * A register operand (mod 11) is not a memory access. */
static int skip_modrm(struct cursor *c, bool addr16, unsigned *reg)
{
	u64 modrm, sib;
	unsigned mod, rm;

	if (!take(c, 1, &modrm))
		return -DV_EINVAL;
	mod = (unsigned)modrm >> 6;
	rm = (unsigned)modrm & 7;
	*reg = ((unsigned)modrm >> 3) & 7;
	if (mod == 3)
		return -DV_ENOTSUP;
	if (addr16) /* 16-bit addressing: no SIB; mod 00 rm 110 is disp16 */
		return take(c,
			    mod == 1				  ? 1
			    : (mod == 2 || (mod == 0 && rm == 6)) ? 2
								  : 0,
			    NULL)
			       ? 0
			       : -DV_EINVAL;
	if (rm == 4) {
		if (!take(c, 1, &sib))
			return -DV_EINVAL;
		if (mod == 0 && (sib & 7) == 5)
			return take(c, 4, NULL) ? 0 : -DV_EINVAL;
	}
	if (mod == 1)
		return take(c, 1, NULL) ? 0 : -DV_EINVAL;
	if (mod == 2 || (mod == 0 && rm == 5)) /* rm 101, mod 00: disp32 (RIP-relative in 64-bit) */
		return take(c, 4, NULL) ? 0 : -DV_EINVAL;
	return 0;
}

static u64 low_bytes(u64 v, unsigned bytes)
{
	return bytes >= 8 ? v : v & ((1ULL << (8 * bytes)) - 1);
}

static u64 sign_extend(u64 v, unsigned from_bytes)
{
	unsigned shift = 64 - 8 * from_bytes;

	return from_bytes >= 8 ? v : (u64)((s64)(v << shift) >> shift);
}

int insn_decode_mem(const u8 *bytes, unsigned avail, bool long_mode, struct insn_mem *out)
{
	struct cursor c = {bytes, 0, avail};
	bool opsize16 = false, addr_override = false;
	unsigned rex = 0, opsize, reg = 0, immsize;
	u64 op, op2, imm;
	int rc;

	for (;;) {
		if (c.at >= c.avail)
			return -DV_EINVAL;
		if (!is_legacy_prefix(bytes[c.at]))
			break;
		opsize16 |= bytes[c.at] == 0x66;
		addr_override |= bytes[c.at] == 0x67;
		c.at++;
		if (c.at >= INSN_MAX_LEN)
			return -DV_EINVAL;
	}
	if (long_mode && (bytes[c.at] & 0xf0) == 0x40) /* REX: last, right before the opcode */
		rex = bytes[c.at++];
	if (!take(&c, 1, &op))
		return -DV_EINVAL;
	opsize = (rex & 8) ? 8 : opsize16 ? 2 : 4;
	*out = (struct insn_mem){0};

	switch (op) {
	case 0x88: /* MOV r/m8, r8 */
	case 0x89: /* MOV r/m, r */
	case 0x8a: /* MOV r8, r/m8 */
	case 0x8b: /* MOV r, r/m */
		rc = skip_modrm(&c, !long_mode && addr_override, &reg);
		if (rc)
			return rc;
		out->op = (op & 2) ? INSN_LOAD : INSN_STORE;
		out->size = (op & 1) ? opsize : 1;
		break;
	case 0xc6: /* MOV r/m8, imm8 */
	case 0xc7: /* MOV r/m, imm16/32 (sign-extended to 64 with REX.W) */
		rc = skip_modrm(&c, !long_mode && addr_override, &reg);
		if (rc)
			return rc;
		if (reg != 0)
			return -DV_ENOTSUP;
		out->op = INSN_STORE_IMM;
		out->size = op == 0xc6 ? 1 : opsize;
		immsize = out->size == 8 ? 4 : out->size;
		if (!take(&c, immsize, &imm))
			return -DV_EINVAL;
		out->imm = low_bytes(sign_extend(imm, immsize), out->size);
		break;
	case 0xa0: /* MOV AL, moffs8 */
	case 0xa1: /* MOV eAX, moffs */
	case 0xa2: /* MOV moffs8, AL */
	case 0xa3: /* MOV moffs, eAX */
		/* The offset is as wide as the address size (SDM Vol. 2B MOV). */
		if (!take(&c, long_mode ? (addr_override ? 4 : 8) : (addr_override ? 2 : 4), NULL))
			return -DV_EINVAL;
		out->op = (op & 2) ? INSN_STORE : INSN_LOAD;
		out->size = (op & 1) ? opsize : 1;
		reg = 0;
		rex &= ~4u; /* the register is always rAX */
		break;
	case 0x0f:
		if (!take(&c, 1, &op2))
			return -DV_EINVAL;
		if (op2 != 0xb6 && op2 != 0xb7 && op2 != 0xbe && op2 != 0xbf)
			return -DV_ENOTSUP;
		rc = skip_modrm(&c, !long_mode && addr_override, &reg);
		if (rc)
			return rc;
		out->op = INSN_LOAD;
		out->size = (op2 & 1) ? 2 : 1;
		out->dest_size = opsize;
		out->sign_extend = op2 >= 0xbe;
		break;
	default:
		return -DV_ENOTSUP;
	}
	out->reg = reg | ((rex & 4) ? 8 : 0);
	out->high_byte = out->size == 1 && !rex && reg >= 4 && out->dest_size == 0 && op != 0xc6 &&
			 (op < 0xa0 || op > 0xa3);
	if (!out->dest_size)
		out->dest_size = out->size;
	out->len = c.at;
	return 0;
}

u64 insn_load_value(const struct insn_mem *m, u64 loaded)
{
	u64 v = low_bytes(loaded, m->size);

	if (m->sign_extend)
		v = sign_extend(v, m->size);
	return low_bytes(v, m->dest_size);
}
