/* Small, fast, deterministic random numbers, freestanding (integer only), so
 * that the guest's workloads and mmusim's generators draw the same streams.
 * Everything is a pure function of a 64-bit state so a seed reproduces a run.
 *
 * splitmix64: Steele, Lea, Flood, "Fast splittable pseudorandom number
 * generators", OOPSLA 2014 (the constants are the published ones). */
#ifndef LIB_RNG_H
#define LIB_RNG_H

#include <dimvisor/types.h>

/* The splitmix64 finaliser: a bijective 64-bit mixing function. */
static inline u64 rng_mix64(u64 z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Next value of the splitmix64 stream whose state is *s. */
static inline u64 rng_next(u64 *s)
{
	*s += 0x9e3779b97f4a7c15ULL;
	return rng_mix64(*s);
}

/* A value in [0, n) from a uniform 64-bit r, by multiply-high (no division;
 * the bias is below n / 2^64, irrelevant for address streams). */
static inline u64 rng_below(u64 r, u64 n)
{
	return (u64)(((unsigned __int128)r * n) >> 64);
}

/* A bijection of [0, 2^bits) keyed by key: odd multiplications and
 * xor-shifts, each invertible modulo 2^bits. Used where a workload needs a
 * random permutation of billions of slots without storing it. */
static inline u64 rng_perm_pow2(u64 x, unsigned bits, u64 key)
{
	u64 mask = bits >= 64 ? ~0ULL : (1ULL << bits) - 1;
	unsigned sh = bits / 2 ? bits / 2 : 1;

	x = (x ^ key) & mask;
	x = (x * 0x9e3779b97f4a7c15ULL) & mask;
	x ^= x >> sh;
	x = (x * (0xbf58476d1ce4e5b9ULL | 1)) & mask;
	x ^= x >> sh;
	x = (x * (0x94d049bb133111ebULL | 1)) & mask;
	x ^= x >> sh;
	return x;
}

/* Number of bits needed to index n slots: the smallest b with 2^b >= n. */
static inline unsigned rng_bits_for(u64 n)
{
	unsigned b = 0;

	while (b < 64 && (1ULL << b) < n)
		b++;
	return b;
}

/* A bijection of [0, n): the power-of-two permutation, cycle-walked until it
 * lands below n (expected fewer than two steps since 2^bits < 2n). */
static inline u64 rng_perm(u64 x, u64 n, unsigned bits, u64 key)
{
	do
		x = rng_perm_pow2(x, bits, key);
	while (x >= n);
	return x;
}

#endif
