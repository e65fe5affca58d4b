/* Zipf-distributed ranks in [0, n) with skew theta (0 < theta < 1), in O(1)
 * per sample after O(1) set-up, by the method of Gray, Sundaresan, Englert,
 * Baclawski, Weinberger, "Quickly generating billion-record synthetic
 * databases", SIGMOD 1994 (the one YCSB uses). Rank 0 is the most popular.
 * Shared by mmusim's kvs and the guest's (floating point: built only where
 * the build has it). */
#ifndef LIB_FP_ZIPF_H
#define LIB_FP_ZIPF_H

#include <dimvisor/types.h>

struct zipf {
	u64 n;
	double theta, alpha, zetan, eta, half_pow_theta;
};

/* zeta(n, theta) = sum_{i=1..n} i^-theta: exact for the first terms, the
 * Euler-Maclaurin formula for the tail, so n may be in the billions. */
double zipf_zeta(u64 n, double theta);
void zipf_init(struct zipf *z, u64 n, double theta);
/* The rank for a uniform u in [0, 1). */
u64 zipf_rank(const struct zipf *z, double u);

#endif
