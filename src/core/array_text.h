/* SPDX-License-Identifier: MIT */
/* The text form of a one-dimensional array, as PostgreSQL's array_out
 * writes it: array_text.c. */
#ifndef CALX_CORE_ARRAY_TEXT_H
#define CALX_CORE_ARRAY_TEXT_H

#include <stdbool.h>
#include <stddef.h>

/* Where the elements of the array text s (NUL-terminated) start: past a
 * lower bound ("[0:2]=") and the opening brace. NULL when s is no array
 * text; *nested (when not NULL) is then set for an array of more than one
 * dimension ("{{1,2},{3,4}}"), which calx's arrays cannot hold. */
const char *calx__array_text_start(const char *s, bool *nested);

/* One element at s (calx__array_text_start's answer, or one past the
 * comma after an element), unescaped into out (room for strlen(s) + 1
 * bytes, NUL-terminated): its length in *len, *null set for an unquoted
 * NULL, and *end at the comma or brace after it (the last element's is
 * '}'). false for text that is no element. The empty array is "{}":
 * s then points at '}', which is no element. */
bool calx__array_text_element(const char *s, const char **end, char *out, size_t *len,
                              bool *null);

/* The most elements the array text s can hold (one per comma, and one). */
size_t calx__array_text_most(const char *s);

#endif
