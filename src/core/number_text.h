/* SPDX-License-Identifier: MIT */
/* Doubles as text, in the form SQL, JSON and PostgreSQL's literals take
 * ('.' the decimal point), whatever locale the program set. The C library
 * writes and reads numbers by the LC_NUMERIC a program chose with
 * setlocale: in a German one "%g" writes 1.5 as "1,5" and strtod reads
 * "1.5" as 1, so a REAL array sent to PostgreSQL as '{1,5}' would hold two
 * elements and a float read from text would lose its fraction. calx writes
 * and reads every number it exchanges with these. */
#ifndef CALX_CORE_NUMBER_TEXT_H
#define CALX_CORE_NUMBER_TEXT_H

#include <stddef.h>

/* snprintf(buf, n, "%.*g", precision, d) in the "C" locale's form: the
 * length it wrote (or would have), as snprintf's. */
int calx__double_text(char *buf, size_t n, int precision, double d);

/* snprintf(buf, n, "%.*f", decimals, d), likewise: SQLAlchemy's words
 * ("timeout 30.00", "generated in 0.00012s") read the same everywhere. */
int calx__double_fixed(char *buf, size_t n, int decimals, double d);

/* The shortest "%.*g" text of d (up to 17 digits) that reads back as d,
 * into buf (n: 32 bytes hold any); its length. */
int calx__double_shortest(char *buf, size_t n, double d);

/* The double a float reads as through the shortest decimal that gives the
 * float back (0.1f as 0.1, not 0.100000001490116): PostgreSQL's float4out
 * prints that decimal, and the text path reads it so. */
double calx__float_as_decimal(float f);

/* strtod as the "C" locale reads: end (may be NULL) past the number
 * read. */
double calx__text_double(const char *s, char **end);

#endif
