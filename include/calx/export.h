/* SPDX-License-Identifier: MIT */
/* calx — CALX_API marks the functions the shared library exports (as
 * libuv's UV_EXTERN). The library is built with hidden visibility, so
 * everything else in it, the internals of every floor, stays out of its
 * dynamic symbol table: a program can only link against what
 * include/calx/ declares. */
#ifndef CALX_EXPORT_H
#define CALX_EXPORT_H

#if defined(__GNUC__)
#define CALX_API __attribute__((visibility("default")))
#else
#define CALX_API
#endif

#endif
