/*
 * al_error.c — messages and names for error codes (generated from
 * AL_ERRNO_MAP in al_error.h; OS errors go through strerror).
 */
#include <string.h>

#include "al_error.h"

const char *al_strerror(int code)
{
    if (code == AL_OK)
        return "success";
    switch (code) {
#define AL__ERR_MSG(name, msg)                                                                     \
    case AL_##name:                                                                                \
        return msg;
        AL_ERRNO_MAP(AL__ERR_MSG)
#undef AL__ERR_MSG
    default:
        break;
    }
    if (code < 0 && code > AL__ERR_BASE)
        return strerror(-code); /* a negated errno: thread-safe for known codes in glibc */
    return "unknown error";
}

const char *al_err_name(int code)
{
    if (code == AL_OK)
        return "AL_OK";
    switch (code) {
#define AL__ERR_NAME(name, msg)                                                                    \
    case AL_##name:                                                                                \
        return "AL_" #name;
        AL_ERRNO_MAP(AL__ERR_NAME)
#undef AL__ERR_NAME
    default:
        break;
    }
    if (code < 0 && code > AL__ERR_BASE) {
        const char *n = strerrorname_np(-code);
        if (n)
            return n;
    }
    return "AL_EUNKNOWN";
}
