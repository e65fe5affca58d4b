/* Error codes shared by the hypervisor, the hypercall ABI and host tools.
 * Functions that can fail return 0 (or a positive value) on success and a
 * negative code, e.g. -DV_EINVAL, on failure. Values follow Linux errno so a
 * guest author recognises them. */
#ifndef DIMVISOR_ERRNO_H
#define DIMVISOR_ERRNO_H

#define DV_EPERM   1  /* not allowed (e.g. hypercall from CPL > 0) */
#define DV_ENOENT  2  /* no such object */
#define DV_EIO	   5  /* hardware or emulator error */
#define DV_E2BIG   7  /* too many items */
#define DV_ENOMEM  12 /* out of memory */
#define DV_EFAULT  14 /* bad address (outside guest RAM, unmapped) */
#define DV_EBUSY   16 /* resource in use */
#define DV_EEXIST  17 /* already exists / already mapped */
#define DV_EINVAL  22 /* invalid argument */
#define DV_ERANGE  34 /* argument out of range */
#define DV_ENOSYS  38 /* unknown call */
#define DV_ENOTSUP 95 /* not supported by this CPU or build */

/* A short name for an error code ("EINVAL"), or "E?" for an unknown one. */
const char *dv_strerror(int err);

#endif
