/* SPDX-License-Identifier: MIT */
/* A small test harness: each tests/test_*.c is one program (one CTest test)
 * made of TEST functions listed in main with RUN, run in that order in one
 * process (some programs carry state from case to case, so cases are never
 * forked apart).
 *
 * A case passes, fails (a CHECK failed: the file, line and expression are
 * printed) or is skipped: SKIP("reason") in a TEST's body ends the case and
 * says nothing it claims was checked on this run (a SQLite-only case on
 * PostgreSQL). main ends with the line "N passed, N failed, N skipped"; the
 * exit status TEST_REPORT gives is 1 on any failure, 77 (CTest's
 * SKIP_RETURN_CODE) when every case run was skipped, else 0.
 *
 * `./test_x NAME...` runs only the cases named (a case that needs an
 * earlier one's set-up needs that one named too); a name no RUN has is an
 * error. A case that crashes (SIGSEGV, SIGBUS, SIGABRT: a wild pointer, an
 * assert, a sanitizer's report) is named on stderr, "case NAME crashed
 * (signal N)", and the program then dies of the same signal. */
#ifndef CALX_TEST_H
#define CALX_TEST_H

#include <errno.h>
#include <inttypes.h>
#include <locale.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int test_failed_now;
static const char *test_skipped_now; /* SKIP's reason; NULL: not skipped */
static int test_npassed, test_nfailed, test_nskipped;

#define TEST(name) static void name(void)

/* Ends the case as skipped. Only in a TEST's own body (it returns from the
 * function it is in). A CHECK that failed before it still fails the case. */
#define SKIP(reason)                                                         \
    do {                                                                     \
        test_skipped_now = (reason);                                         \
        return;                                                              \
    } while (0)
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

/* ---- the runner: RUN and TEST_REPORT ---- */

/* The command line's case names (glibc hands a constructor main's
 * arguments; elsewhere every case runs), which of them a RUN matched, and
 * every case RUN saw, for the error that lists them. */
#define TEST_MAX_NAMES 256
static int test_argc;
static char **test_argv;
static bool test_name_found[TEST_MAX_NAMES];
static const char *test_cases[TEST_MAX_NAMES];
static int test_ncases;

#if defined(__GLIBC__)
__attribute__((constructor)) static void test_take_args(int argc, char **argv, char **envp)
{
    (void)envp;
    test_argc = argc;
    test_argv = argv;
}
#endif

/* What the crash handler writes: set at each case's start so the handler
 * only copies bytes (write(2) is async-signal-safe, printf is not). */
static char test_crash_msg[256];
static size_t test_crash_len;
static struct sigaction test_old_segv, test_old_bus, test_old_abrt;
static char test_altstack[64 * 1024]; /* a crash on a task's guard page still reports */

static void test_on_crash(int sig, siginfo_t *info, void *uctx)
{
    (void)uctx;
    char num[16], *p = num + sizeof num;
    *--p = '\n';
    *--p = ')';
    for (int n = sig; p > num + 1;) {
        *--p = (char)('0' + n % 10);
        if ((n /= 10) == 0)
            break;
    }
    ssize_t w = write(STDERR_FILENO, test_crash_msg, test_crash_len);
    w = write(STDERR_FILENO, p, (size_t)(num + sizeof num - p));
    (void)w;
    /* Back to what was there before (the default, or a sanitizer's own
     * report). A fault returns to its instruction and faults again into
     * that; a signal that was sent (abort's raise) is sent again. */
    sigaction(sig, sig == SIGSEGV ? &test_old_segv : sig == SIGBUS ? &test_old_bus
                                                                     : &test_old_abrt,
              NULL);
    if (info->si_code <= 0)
        raise(sig);
}

static inline void test_catch_crashes(void)
{
    static bool done;
    if (done)
        return;
    done = true;
    stack_t cur;
    if (sigaltstack(NULL, &cur) == 0 && (cur.ss_flags & SS_DISABLE)) {
        stack_t ss = { .ss_sp = test_altstack, .ss_size = sizeof test_altstack };
        sigaltstack(&ss, NULL);
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = test_on_crash;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, &test_old_segv);
    sigaction(SIGBUS, &sa, &test_old_bus);
    sigaction(SIGABRT, &sa, &test_old_abrt);
}

static inline void test_crash_names(const char *what)
{
    int n = snprintf(test_crash_msg, sizeof test_crash_msg, "%s (signal ", what);
    test_crash_len = n < 0 ? 0 : (size_t)n < sizeof test_crash_msg ? (size_t)n
                                                                    : sizeof test_crash_msg - 1;
}

/* Whether the command line asks for the case name (no names: every case). */
static inline bool test_selected(const char *name)
{
    if (test_ncases < TEST_MAX_NAMES)
        test_cases[test_ncases++] = name;
    if (test_argc <= 1)
        return true;
    bool hit = false;
    for (int i = 1; i < test_argc && i < TEST_MAX_NAMES; i++) {
        if (strcmp(test_argv[i], name) == 0) {
            test_name_found[i] = true;
            hit = true;
        }
    }
    return hit;
}

static inline void test_run(const char *name, void (*fn)(void))
{
    if (!test_selected(name))
        return;
    test_catch_crashes();
    test_failed_now = 0;
    test_skipped_now = NULL;
    fprintf(stderr, "%s ...\n", name);
    char what[200];
    snprintf(what, sizeof what, "case %s crashed", name);
    test_crash_names(what);
    fn();
    test_crash_names("test program crashed between cases");
    if (test_failed_now) {
        test_nfailed++;
        fprintf(stderr, "%s FAILED\n", name);
    } else if (test_skipped_now) {
        test_nskipped++;
        fprintf(stderr, "%s SKIPPED: %s\n", name, test_skipped_now);
    } else {
        test_npassed++;
    }
}

/* Runs the case TEST(name) unless the command line names others. */
#define RUN(name) test_run(#name, name)

/* The closing line and the exit status (see the top of this file). */
static inline int test_report(void)
{
    int unknown = 0;
    for (int i = 1; i < test_argc; i++) {
        if (i >= TEST_MAX_NAMES || !test_name_found[i]) {
            fprintf(stderr, "no case named %s\n", test_argv[i]);
            unknown++;
        }
    }
    if (unknown) {
        fprintf(stderr, "the cases are:\n");
        for (int i = 0; i < test_ncases; i++)
            fprintf(stderr, "  %s\n", test_cases[i]);
    }
    printf("%d passed, %d failed, %d skipped\n", test_npassed, test_nfailed, test_nskipped);
    if (test_nfailed || unknown)
        return 1;
    return test_nskipped && !test_npassed ? 77 : 0;
}

#define TEST_REPORT() test_report()

/* A fresh scratch directory for this test program's files, under
 * $CALX_TEST_TMP (set by CTest) or /tmp. Returns a static buffer. */
static inline const char *test_tmpdir(const char *prog)
{
    static char dir[512];
    const char *base = getenv("CALX_TEST_TMP");
    if (!base || !*base)
        base = "/tmp/calx-test";
    mkdir(base, 0777);
    /* A new directory each run: a directory named by the pid alone is
     * met again when pids wrap (32,768 here), its old databases in it. */
    snprintf(dir, sizeof dir, "%s/%s.%d.XXXXXX", base, prog, (int)getpid());
    if (!mkdtemp(dir)) {
        perror(dir);
        exit(1);
    }
    return dir;
}

/* Sets the process's locale to name (e.g. "de_DE.UTF-8"), built from
 * Debian's sources (the locales package) for input (e.g. "de_DE") with
 * localedef into a directory of dir (the test's scratch directory): NULL
 * when set, else why not, for SKIP. test_locale_leave goes back to "C".
 * A program may set any locale; calx must read and write the same in
 * each. */
static inline const char *test_locale_enter(const char *dir, const char *input,
                                            const char *name)
{
    static char where[1024], cmd[2048], why[200];
    snprintf(where, sizeof where, "%s/locale", dir);
    if (mkdir(where, 0700) != 0 && errno != EEXIST)
        return "cannot make a directory for the locale";
    snprintf(cmd, sizeof cmd, "localedef -i %s -f UTF-8 '%s/%s' >/dev/null 2>&1", input, where,
             name);
    snprintf(why, sizeof why, "localedef cannot build %s here (the locales package)", name);
    if (system(cmd) != 0)
        return why;
    setenv("LOCPATH", where, 1);
    if (!setlocale(LC_ALL, name)) {
        unsetenv("LOCPATH");
        snprintf(why, sizeof why, "%s does not load", name);
        return why;
    }
    return NULL;
}

static inline void test_locale_leave(void)
{
    setlocale(LC_ALL, "C");
    unsetenv("LOCPATH");
}

#endif
