/* log, exp and pow in plain C on IEEE doubles, freestanding: the guest kernel
 * has no libm, and the Zipf sampling that kvs shares between mmusim and the
 * guest (lib/fp/zipf.c) must give the same bits on both sides, which one
 * implementation compiled the same way (SSE2 doubles, no FMA) does, and two
 * libraries would not. Accurate to a few units in the last place for the
 * arguments Zipf uses (positive, finite). Only builds with floating point
 * include this (mmusim; the guest's kvs, compiled with SSE). */
#ifndef LIB_FP_FP_MATH_H
#define LIB_FP_FP_MATH_H

/* Natural logarithm of x > 0 (finite). */
double fp_log(double x);
/* e^x; 0 below -745, +infinity above 709.78. */
double fp_exp(double x);
/* x^y for x > 0, as exp(y log x). */
double fp_pow(double x, double y);

#endif
