/* SPDX-License-Identifier: MIT */
/* Character classes the parsers share (URLs' percent escapes, UUIDs, JSON
 * escapes, keywords and option names): ASCII only, whatever the C locale
 * says. The C library's case folding follows the locale a program set: in
 * a Turkish one tolower('I') is not 'i', so strcasecmp("immediate",
 * "IMMEDIATE") is not 0 there; calx compares its keywords with these. */
#ifndef CALX_CORE_CHARS_H
#define CALX_CORE_CHARS_H

#include <stdbool.h>
#include <stddef.h>

/* The value of the hex digit c (either case), or -1. */
static inline int calx__hex_digit(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Whether c is an ASCII digit, an ASCII small letter (isdigit and islower
 * as the "C" locale answers, in every locale). */
static inline bool calx__ascii_is_digit(int c)
{
    return c >= '0' && c <= '9';
}

static inline bool calx__ascii_is_lower(int c)
{
    return c >= 'a' && c <= 'z';
}

/* c with an ASCII capital made small; any other byte as it is. */
static inline char calx__ascii_lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* strncasecmp over at most n bytes, folding ASCII letters only: 0 when a
 * and b are the same but for the case of their ASCII letters, else the
 * difference of the first folded bytes that differ. Neither may be NULL. */
static inline int calx__ascii_ncasecmp(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char x = (unsigned char)calx__ascii_lower(a[i]),
                      y = (unsigned char)calx__ascii_lower(b[i]);
        if (x != y || !x)
            return x - y;
    }
    return 0;
}

/* strcasecmp folding ASCII letters only (calx__ascii_ncasecmp's rules). */
static inline int calx__ascii_casecmp(const char *a, const char *b)
{
    return calx__ascii_ncasecmp(a, b, (size_t)-1);
}

#endif
