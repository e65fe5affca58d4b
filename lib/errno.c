/* Names of the dimvisor error codes, for logs and test output. */
#include <dimvisor/types.h>
#include <dimvisor/errno.h>

static const char *const errno_names[] = {
	[DV_EPERM] = "EPERM",	[DV_ENOENT] = "ENOENT", [DV_EIO] = "EIO",
	[DV_E2BIG] = "E2BIG",	[DV_ENOMEM] = "ENOMEM", [DV_EFAULT] = "EFAULT",
	[DV_EBUSY] = "EBUSY",	[DV_EEXIST] = "EEXIST", [DV_EINVAL] = "EINVAL",
	[DV_ERANGE] = "ERANGE", [DV_ENOSYS] = "ENOSYS", [DV_ENOTSUP] = "ENOTSUP",
};

/* err may be given as returned (-DV_EINVAL) or as the positive code; 0 and
 * codes without a name give "E?". */
const char *dv_strerror(int err)
{
	long code = err < 0 ? -(long)err : err;

	if (code >= (long)ARRAY_SIZE(errno_names) || !errno_names[code])
		return "E?";
	return errno_names[code];
}
