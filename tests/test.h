/* A small test harness: each tests/test_*.c is one program (one CTest test)
 * made of TEST functions listed in main with RUN. A failed CHECK prints the
 * file, line and expression and fails the test; main ends with the line
 * "N passed, N failed" and exits non-zero on any failure. */
#ifndef CALX_TEST_H
#define CALX_TEST_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int test_failed_now;
static int test_npassed, test_nfailed;

#define TEST(name) static void name(void)

#define CHECK(cond)                                                          \
    do {                                                                     \
        if (!(cond)) {                                                       \
            fprintf(stderr, "  %s:%d: CHECK(%s) failed\n", __FILE__,         \
                    __LINE__, #cond);                                        \
            test_failed_now = 1;                                             \
        }                                                                    \
    } while (0)

#define CHECK_INT(a, b)                                                      \
    do {                                                                     \
        long long a_ = (long long)(a), b_ = (long long)(b);                  \
        if (a_ != b_) {                                                      \
            fprintf(stderr, "  %s:%d: %s == %s failed: %lld != %lld\n",      \
                    __FILE__, __LINE__, #a, #b, a_, b_);                     \
            test_failed_now = 1;                                             \
        }                                                                    \
    } while (0)

#define CHECK_STR(a, b)                                                      \
    do {                                                                     \
        const char *a_ = (a), *b_ = (b);                                     \
        if (!a_ || !b_ || strcmp(a_, b_) != 0) {                             \
            fprintf(stderr, "  %s:%d: %s == %s failed: \"%s\" != \"%s\"\n",  \
                    __FILE__, __LINE__, #a, #b, a_ ? a_ : "(null)",          \
                    b_ ? b_ : "(null)");                                     \
            test_failed_now = 1;                                             \
        }                                                                    \
    } while (0)

/* The string a contains b. */
#define CHECK_CONTAINS(a, b)                                                 \
    do {                                                                     \
        const char *a_ = (a), *b_ = (b);                                     \
        if (!a_ || !b_ || !strstr(a_, b_)) {                                 \
            fprintf(stderr, "  %s:%d: \"%s\" does not contain \"%s\"\n",     \
                    __FILE__, __LINE__, a_ ? a_ : "(null)", b_ ? b_ : "(null)"); \
            test_failed_now = 1;                                             \
        }                                                                    \
    } while (0)

/* A calx call that must succeed: rc 0, else print the error. */
#define CHECK_OK(rc, err)                                                    \
    do {                                                                     \
        int rc_ = (rc);                                                      \
        if (rc_ != 0) {                                                      \
            fprintf(stderr, "  %s:%d: %s failed: %d %s\n", __FILE__,         \
                    __LINE__, #rc, rc_, (err)->message);                     \
            test_failed_now = 1;                                             \
        }                                                                    \
    } while (0)

#define RUN(name)                                                            \
    do {                                                                     \
        test_failed_now = 0;                                                 \
        fprintf(stderr, "%s ...\n", #name);                                  \
        name();                                                              \
        if (test_failed_now) {                                               \
            test_nfailed++;                                                  \
            fprintf(stderr, "%s FAILED\n", #name);                           \
        } else {                                                             \
            test_npassed++;                                                  \
        }                                                                    \
    } while (0)

#define TEST_REPORT()                                                        \
    (printf("%d passed, %d failed\n", test_npassed, test_nfailed),           \
     test_nfailed ? 1 : 0)

/* A fresh scratch directory for this test program's files, under
 * $CALX_TEST_TMP (set by CTest) or /tmp. Returns a static buffer. */
static inline const char *test_tmpdir(const char *prog)
{
    static char dir[512];
    const char *base = getenv("CALX_TEST_TMP");
    if (!base || !*base)
        base = "/tmp/calx-test";
    mkdir(base, 0777);
    snprintf(dir, sizeof dir, "%s/%s.%d", base, prog, (int)getpid());
    mkdir(dir, 0777);
    return dir;
}

#endif
