/* SPDX-License-Identifier: MIT */
/* A growable string: the one string builder every layer uses. A failed
 * allocation sets oom and turns later appends into no-ops, so builders
 * append freely and check once at the end. */
#ifndef CALX_CORE_BUF_H
#define CALX_CORE_BUF_H

#include <stdbool.h>
#include <stddef.h>

typedef struct calx_buf {
    char *p;        /* NUL-terminated once anything was appended */
    size_t len;
    size_t cap;
    bool oom;
} calx_buf;

void calx__buf_put(calx_buf *b, const char *s, size_t n);
void calx__buf_puts(calx_buf *b, const char *s);
void calx__buf_printf(calx_buf *b, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Hands the string to the caller (free with free()): "" when nothing was
 * appended, NULL when memory ran out. The buffer is empty afterwards. */
char *calx__buf_take(calx_buf *b);

/* Frees the string and empties the buffer. */
void calx__buf_free(calx_buf *b);

#endif
