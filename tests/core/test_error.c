/* test_error.c — error codes: distinct values, messages and names for every code. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "asynclab.h"

Test(error, codes_are_distinct_negative_and_named)
{
    int codes[] = {
#define C(name, msg) AL_##name,
        AL_ERRNO_MAP(C)
#undef C
    };
    size_t n = sizeof codes / sizeof codes[0];
    for (size_t i = 0; i < n; i++) {
        cr_assert_lt(codes[i], AL__ERR_BASE);
        cr_assert_str_neq(al_strerror(codes[i]), "unknown error");
        cr_assert_eq(strncmp(al_err_name(codes[i]), "AL_E", 4), 0);
        for (size_t j = 0; j < i; j++)
            cr_assert_neq(codes[i], codes[j]);
    }
}

Test(error, context_errors_use_tokio_wording)
{
    cr_assert(strstr(al_strerror(AL_ENESTED), "Cannot start a runtime from within a runtime"));
    cr_assert(strstr(al_strerror(AL_ENORUNTIME), "there is no reactor running"));
    cr_assert(strstr(al_strerror(AL_ETIMEDISABLED), "timers are disabled"));
    cr_assert(strstr(al_strerror(AL_EIODISABLED), "Call `enable_io`"));
}

Test(error, os_errors_and_unknown_codes)
{
    cr_assert_str_eq(al_err_name(-ECONNREFUSED), "ECONNREFUSED");
    cr_assert_str_eq(al_strerror(-ECONNREFUSED), strerror(ECONNREFUSED));
    cr_assert_str_eq(al_strerror(-99999), "unknown error");
    cr_assert_str_eq(al_strerror(0), "success");
}
