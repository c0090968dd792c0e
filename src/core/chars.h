/* SPDX-License-Identifier: MIT */
/* Character classes the parsers share (URLs' percent escapes, UUIDs, JSON
 * escapes): ASCII only, whatever the C locale says. */
#ifndef CALX_CORE_CHARS_H
#define CALX_CORE_CHARS_H

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

#endif
