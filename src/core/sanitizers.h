/* SPDX-License-Identifier: MIT */
/* What calx's own memory managers (task stacks, core/blocks.c) tell the
 * memory checkers: whether valgrind's client requests can be compiled in
 * (its headers are installed; the requests cost a few instructions outside
 * valgrind) and whether this is an AddressSanitizer build. */
#ifndef CALX_CORE_SANITIZERS_H
#define CALX_CORE_SANITIZERS_H

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>) && __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
#include <valgrind/valgrind.h>
#define CALX_HAVE_VALGRIND 1
#endif
#endif

#if defined(__SANITIZE_ADDRESS__)
#define CALX_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CALX_ASAN 1
#endif
#endif

#ifdef CALX_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif

#endif
