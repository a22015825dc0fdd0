/*
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <string.h>

#include "config.h"
#include "nvc/common.h"

const char *nvc_version(void)
{
    return PACKAGE_VERSION;
}

unsigned nvc_version_api(void)
{
    return NVC_API_VERSION_MAJOR << 16 | NVC_API_VERSION_MINOR << 8 | NVC_API_VERSION_PATCH;
}

const char *nvc_error_string(int err)
{
    if (err >= 0)
        return "success";
    switch (err) {
    case NVC_ERR_CORRUPT: return "corrupt or truncated data";
    case NVC_ERR(EINVAL): return "invalid argument";
    case NVC_ERR(ENOMEM): return "out of memory";
    case NVC_ERR(ERANGE): return "size or count beyond the configured limit";
    case NVC_ERR(ENOSYS): return "not supported by this build";
    case NVC_ERR(ENOTSUP): return "unsupported format or feature";
    case NVC_ERR(EAGAIN): return "more input needed / output pending";
    case NVC_ERR(EIO): return "input/output error";
    case NVC_ERR(ENOENT): return "no such file or directory";
    case NVC_ERR(EINTR): return "interrupted";
    default: return strerror(-err);
    }
}
