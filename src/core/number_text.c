/* SPDX-License-Identifier: MIT */
/* Numbers written and read in the "C" locale's form (number_text.h says
 * why). The thread switches to a "C" locale object around each call
 * (uselocale is per thread, so other threads and the program's own
 * formatting keep their locale). The object is made once per process;
 * should newlocale fail (no memory), the calls run in the thread's own
 * locale, which is "C" unless the program set another. */
#include <errno.h>
#include <locale.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/number_text.h"

static locale_t c_numeric;
static pthread_once_t c_numeric_once = PTHREAD_ONCE_INIT;

static void make_c_numeric(void)
{
    c_numeric = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
}

/* Switches this thread to the "C" numbers; what to switch back to.
 * errno is left as it was: callers read strtod's. */
static locale_t enter(void)
{
    int saved = errno;
    pthread_once(&c_numeric_once, make_c_numeric);
    locale_t before = c_numeric ? uselocale(c_numeric) : (locale_t)0;
    errno = saved;
    return before;
}

static void leave(locale_t before)
{
    if (before)
        uselocale(before);
}

int calx__double_text(char *buf, size_t n, int precision, double d)
{
    locale_t before = enter();
    int len = snprintf(buf, n, "%.*g", precision, d);
    leave(before);
    return len;
}

int calx__double_fixed(char *buf, size_t n, int decimals, double d)
{
    locale_t before = enter();
    int len = snprintf(buf, n, "%.*f", decimals, d);
    leave(before);
    return len;
}

int calx__double_shortest(char *buf, size_t n, double d)
{
    locale_t before = enter();
    int len = 0;
    for (int prec = 1; prec <= 17; prec++) {
        len = snprintf(buf, n, "%.*g", prec, d);
        if (strtod(buf, NULL) == d)
            break;
    }
    leave(before);
    return len;
}

double calx__float_as_decimal(float f)
{
    locale_t before = enter();
    char buf[32];
    for (int prec = 1; prec <= 9; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, (double)f);
        if (strtof(buf, NULL) == f)
            break;
    }
    double d = strtod(buf, NULL);
    leave(before);
    return d;
}

double calx__text_double(const char *s, char **end)
{
    locale_t before = enter();
    double d = strtod(s, end);
    leave(before);
    return d;
}
