/* SPDX-License-Identifier: MIT */
/* The function attributes calx asks of the compiler beyond C11, in one
 * place (builtins such as __builtin_mul_overflow are used where they are
 * needed). calx builds with GCC and clang only (include/calx/model.h says
 * why). */
#ifndef CALX_CORE_COMPILER_H
#define CALX_CORE_COMPILER_H

/* A function kept out of its callers: the cold part of a hot function,
 * so that the hot part's frame stays small (a get that hits the identity
 * map, orm/load.c). */
#define CALX__NOINLINE __attribute__((noinline))

#endif
