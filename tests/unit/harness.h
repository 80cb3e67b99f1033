/*
 * harness.h — a tiny unit-test harness that needs only printf: the same
 * test programs run on Linux (also under ASan/UBSan) and freestanding on an
 * emulated RV32 CPU with picolibc.
 *
 *   static void test_x(void) { CHECK(a == b); CHECK_EQ(n, 3); CHECK_STR(s, "ok"); }
 *   int main(void) { RUN(test_x); return harness_report(); }
 */
#ifndef OPENPLUG_HARNESS_H
#define OPENPLUG_HARNESS_H

#include <stdio.h>
#include <string.h>

extern int harness_failures, harness_checks;
extern const char *harness_test;

#define CHECK(cond)                                                                          \
    do {                                                                                     \
        harness_checks++;                                                                    \
        if (!(cond)) {                                                                       \
            harness_failures++;                                                              \
            printf("FAIL %s:%d in %s: %s\n", __FILE__, __LINE__, harness_test, #cond);      \
        }                                                                                    \
    } while (0)

#define CHECK_EQ(actual, expected)                                                           \
    do {                                                                                     \
        long long a_ = (long long)(actual), e_ = (long long)(expected);                      \
        harness_checks++;                                                                    \
        if (a_ != e_) {                                                                      \
            harness_failures++;                                                              \
            printf("FAIL %s:%d in %s: %s is %lld, expected %lld\n", __FILE__, __LINE__,      \
                   harness_test, #actual, a_, e_);                                           \
        }                                                                                    \
    } while (0)

#define CHECK_STR(actual, expected)                                                          \
    do {                                                                                     \
        const char *a_ = (actual), *e_ = (expected);                                         \
        harness_checks++;                                                                    \
        if (strcmp(a_, e_) != 0) {                                                           \
            harness_failures++;                                                              \
            printf("FAIL %s:%d in %s: %s is\n  \"%s\"\nexpected\n  \"%s\"\n", __FILE__,      \
                   __LINE__, harness_test, #actual, a_, e_);                                 \
        }                                                                                    \
    } while (0)

/* Substring check, for replies and logs. */
#define CHECK_CONTAINS(haystack, needle)                                                     \
    do {                                                                                     \
        const char *h_ = (haystack), *n_ = (needle);                                         \
        harness_checks++;                                                                    \
        if (!strstr(h_, n_)) {                                                               \
            harness_failures++;                                                              \
            printf("FAIL %s:%d in %s: \"%s\" not found in\n  \"%s\"\n", __FILE__, __LINE__,  \
                   harness_test, n_, h_);                                                    \
        }                                                                                    \
    } while (0)

#define RUN(test)                                                                            \
    do {                                                                                     \
        harness_test = #test;                                                                \
        test();                                                                              \
    } while (0)

int harness_report(void);

#endif
