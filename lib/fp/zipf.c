/* Zipf sampling; see zipf.h for the method and its source. pow is
 * lib/fp/fp_math.c's, so mmusim and the guest draw the same ranks. */
#include "lib/fp/zipf.h"
#include "lib/fp/fp_math.h"

/* Terms summed exactly before the tail is integrated. */
#define ZETA_EXACT 1000000ULL

double zipf_zeta(u64 n, double theta)
{
	u64 m = n < ZETA_EXACT ? n : ZETA_EXACT;
	double sum = 0, a, b;

	for (u64 i = m; i >= 1; i--) /* smallest terms first: less rounding */
		sum += fp_pow((double)i, -theta);
	if (n == m)
		return sum;
	/* Euler-Maclaurin for f(x) = x^-theta over [m+1, n]:
	 * integral + (f(a) + f(b)) / 2 + (f'(b) - f'(a)) / 12. */
	a = (double)(m + 1);
	b = (double)n;
	sum += (fp_pow(b, 1 - theta) - fp_pow(a, 1 - theta)) / (1 - theta);
	sum += (fp_pow(a, -theta) + fp_pow(b, -theta)) / 2;
	sum += (-theta * fp_pow(b, -theta - 1) + theta * fp_pow(a, -theta - 1)) / 12;
	return sum;
}

void zipf_init(struct zipf *z, u64 n, double theta)
{
	double zeta2 = 1 + fp_pow(2, -theta);

	z->n = n;
	z->theta = theta;
	z->alpha = 1 / (1 - theta);
	z->zetan = zipf_zeta(n, theta);
	z->eta = (1 - fp_pow(2.0 / (double)n, 1 - theta)) / (1 - zeta2 / z->zetan);
	z->half_pow_theta = 1 + fp_pow(0.5, theta);
}

u64 zipf_rank(const struct zipf *z, double u)
{
	double uz = u * z->zetan;
	u64 r;

	if (uz < 1)
		return 0;
	if (uz < z->half_pow_theta)
		return z->n > 1 ? 1 : 0;
	r = (u64)((double)z->n * fp_pow(z->eta * u - z->eta + 1, z->alpha));
	return r < z->n ? r : z->n - 1;
}
