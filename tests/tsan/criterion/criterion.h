/*
 * criterion.h (TSan stand-in) — the subset of Criterion's API the asynclab
 * tests use, for the ThreadSanitizer build only (see ../README.md for why).
 * Each test runs in a forked child with a timeout; a failed assertion prints
 * file:line and the message, and exits the child with status 1.
 */
#ifndef AL_TSAN_CRITERION_H
#define AL_TSAN_CRITERION_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct criterion_test_extra_data {
    int sentinel_;
    double timeout;
    void (*init)(void);
    void (*fini)(void);
    bool disabled;
    int exit_code;
    int signal;
    const char *description;
};

struct al_cr_test {
    const char *suite, *name;
    void (*fn)(void);
    struct criterion_test_extra_data data;
    struct al_cr_test *next;
};

void al_cr_register(struct al_cr_test *t);
/* Not format-checked: the message is optional, as in Criterion. */
void al_cr_fail_at(const char *file, int line, const char *cond, int fatal, const char *fmt, ...);

#define Test(suite, name, ...)                                                                     \
    static void suite##_##name##_impl(void);                                                       \
    static struct al_cr_test suite##_##name##_desc = {                                             \
        #suite, #name, suite##_##name##_impl,                                                      \
        {.sentinel_ = 0, __VA_ARGS__}, NULL};                                                      \
    __attribute__((constructor)) static void suite##_##name##_reg(void)                            \
    {                                                                                              \
        al_cr_register(&suite##_##name##_desc);                                                    \
    }                                                                                              \
    static void suite##_##name##_impl(void)

#define AL_CR_CHECK(fatal, cond, text, ...)                                                        \
    do {                                                                                           \
        if (!(cond))                                                                               \
            al_cr_fail_at(__FILE__, __LINE__, text, fatal, "" __VA_ARGS__);                        \
    } while (0)

#define cr_assert(cond, ...) AL_CR_CHECK(1, (cond), #cond, __VA_ARGS__)
#define cr_expect(cond, ...) AL_CR_CHECK(0, (cond), #cond, __VA_ARGS__)
#define cr_assert_not(cond, ...) AL_CR_CHECK(1, !(cond), "!(" #cond ")", __VA_ARGS__)
#define cr_expect_not(cond, ...) AL_CR_CHECK(0, !(cond), "!(" #cond ")", __VA_ARGS__)
#define cr_fail(...) al_cr_fail_at(__FILE__, __LINE__, "cr_fail", 0, "" __VA_ARGS__)
#define cr_assert_fail(...) al_cr_fail_at(__FILE__, __LINE__, "cr_assert_fail", 1, "" __VA_ARGS__)

#define AL_CR_CMP(fatal, a, op, b, ...)                                                            \
    AL_CR_CHECK(fatal, (a)op(b), #a " " #op " " #b, __VA_ARGS__)
#define cr_assert_eq(a, b, ...) AL_CR_CMP(1, a, ==, b, __VA_ARGS__)
#define cr_assert_neq(a, b, ...) AL_CR_CMP(1, a, !=, b, __VA_ARGS__)
#define cr_assert_lt(a, b, ...) AL_CR_CMP(1, a, <, b, __VA_ARGS__)
#define cr_assert_leq(a, b, ...) AL_CR_CMP(1, a, <=, b, __VA_ARGS__)
#define cr_assert_gt(a, b, ...) AL_CR_CMP(1, a, >, b, __VA_ARGS__)
#define cr_assert_geq(a, b, ...) AL_CR_CMP(1, a, >=, b, __VA_ARGS__)
#define cr_expect_eq(a, b, ...) AL_CR_CMP(0, a, ==, b, __VA_ARGS__)
#define cr_expect_neq(a, b, ...) AL_CR_CMP(0, a, !=, b, __VA_ARGS__)
#define cr_expect_lt(a, b, ...) AL_CR_CMP(0, a, <, b, __VA_ARGS__)
#define cr_expect_leq(a, b, ...) AL_CR_CMP(0, a, <=, b, __VA_ARGS__)
#define cr_expect_gt(a, b, ...) AL_CR_CMP(0, a, >, b, __VA_ARGS__)
#define cr_expect_geq(a, b, ...) AL_CR_CMP(0, a, >=, b, __VA_ARGS__)
#define cr_assert_null(p, ...) AL_CR_CHECK(1, (p) == NULL, #p " == NULL", __VA_ARGS__)
#define cr_assert_not_null(p, ...) AL_CR_CHECK(1, (p) != NULL, #p " != NULL", __VA_ARGS__)
#define cr_expect_null(p, ...) AL_CR_CHECK(0, (p) == NULL, #p " == NULL", __VA_ARGS__)
#define cr_expect_not_null(p, ...) AL_CR_CHECK(0, (p) != NULL, #p " != NULL", __VA_ARGS__)
#define cr_assert_str_eq(a, b, ...) AL_CR_CHECK(1, strcmp((a), (b)) == 0, #a " == " #b, __VA_ARGS__)
#define cr_assert_str_neq(a, b, ...) AL_CR_CHECK(1, strcmp((a), (b)) != 0, #a " != " #b, __VA_ARGS__)
#define cr_expect_str_eq(a, b, ...) AL_CR_CHECK(0, strcmp((a), (b)) == 0, #a " == " #b, __VA_ARGS__)
#define cr_assert_str_empty(a, ...) AL_CR_CHECK(1, (a)[0] == 0, #a " is empty", __VA_ARGS__)
#define cr_assert_str_not_empty(a, ...) AL_CR_CHECK(1, (a)[0] != 0, #a " not empty", __VA_ARGS__)
#define cr_assert_arr_eq(a, b, n, ...) AL_CR_CHECK(1, memcmp((a), (b), (n)) == 0, #a " == " #b, __VA_ARGS__)
#define cr_log_info(...) (fprintf(stderr, __VA_ARGS__), fputc('\n', stderr))
#define cr_log_warn(...) cr_log_info(__VA_ARGS__)

#endif
