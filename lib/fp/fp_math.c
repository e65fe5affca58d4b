/* The classic reductions (as in Cody and Waite, "Software Manual for the
 * Elementary Functions", 1980): ln 2 split in a high part exact in 32 bits
 * and a low part, log through atanh of (m-1)/(m+1) on m in [sqrt(1/2),
 * sqrt(2)), exp through e^r on |r| <= ln(2)/2 and a power of two. The series
 * are summed far enough that their truncation is below 2^-60. */
#include <dimvisor/types.h>
#include "lib/fp/fp_math.h"

static const double ln2_hi = 6.93147180369123816490e-01; /* high bits of ln 2 */
static const double ln2_lo = 1.90821492927058770002e-10; /* ln 2 - ln2_hi */
static const double inv_ln2 = 1.44269504088896338700e+00;
static const double sqrt2 = 1.41421356237309504880;

union fp_bits {
	double d;
	u64 u;
};

/* 2^k as a double, for -1022 <= k <= 1023. */
static double pow2(int k)
{
	union fp_bits b = {.u = (u64)(k + 1023) << 52};

	return b.d;
}

double fp_log(double x)
{
	union fp_bits b = {.d = x};
	int e = (int)((b.u >> 52) & 0x7ff) - 1023;
	double m, f, s, s2, sum = 0;

	if (e == -1023) { /* subnormal: scale into the normal range first */
		b.d = x * pow2(54);
		e = (int)((b.u >> 52) & 0x7ff) - 1023 - 54;
	}
	b.u = (b.u & ((1ULL << 52) - 1)) | (1023ULL << 52); /* the mantissa, in [1, 2) */
	m = b.d;
	if (m > sqrt2) {
		m *= 0.5;
		e++;
	}
	f = m - 1.0; /* exact: m is within a factor of 2 of 1 */
	s = f / (2.0 + f);
	s2 = s * s;
	/* log m = 2 atanh s = 2 (s + s^3/3 + s^5/5 + ...), |s| < 0.1716 */
	for (int k = 23; k >= 3; k -= 2)
		sum = (sum + 1.0 / k) * s2;
	return e * ln2_hi + (2.0 * s * (1.0 + sum) + e * ln2_lo);
}

double fp_exp(double x)
{
	double r, p = 1.0;
	long k;

	if (x != x)
		return x;
	if (x > 709.78)
		return pow2(1023) * 2.0; /* overflows to +infinity */
	if (x < -745.2)
		return 0.0;
	k = (long)(x * inv_ln2 + (x < 0 ? -0.5 : 0.5));
	r = (x - k * ln2_hi) - k * ln2_lo; /* |r| <= ln(2)/2 */
	/* e^r = 1 + r (1 + r/2 (1 + r/3 (...))), 18 terms: r^18/18! < 2^-60 */
	for (int i = 18; i >= 1; i--)
		p = 1.0 + r * p / i;
	if (k < -1021) /* the result is subnormal: scale in two steps */
		return p * pow2((int)k + 54) * pow2(-54);
	if (k > 1023)
		return p * pow2(1023) * pow2((int)k - 1023);
	return p * pow2((int)k);
}

double fp_pow(double x, double y)
{
	return fp_exp(y * fp_log(x));
}
