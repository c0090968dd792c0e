/* SPDX-License-Identifier: MIT */
/* calx — the library's version, at compile time and at run time.
 *
 *     if (calx_version() < CALX_VERSION_HEX)
 *         fprintf(stderr, "built against calx %s, running %s\n",
 *                 CALX_VERSION, calx_version_string());
 *
 * The macros say which calx a program was compiled against; the functions
 * say which library it runs with (a shared libcalx may be newer than the
 * headers), as uv_version and sqlite3_libversion do.
 *
 * The three numbers below are the project's one record of its version:
 * CMakeLists.txt reads them for project(VERSION), and so for the shared
 * library's SOVERSION, calx.pc and calxConfigVersion.cmake. Change them
 * here only.
 */
#ifndef CALX_VERSION_H
#define CALX_VERSION_H

#include "export.h"
#ifdef __cplusplus
extern "C" {
#endif

#define CALX_VERSION_MAJOR 0
#define CALX_VERSION_MINOR 1
#define CALX_VERSION_PATCH 0

/* The three numbers in one, comparable with calx_version(). */
#define CALX_VERSION_HEX                                                     \
    ((CALX_VERSION_MAJOR << 16) | (CALX_VERSION_MINOR << 8) | CALX_VERSION_PATCH)

#define CALX_VERSION_STR_(x) #x
#define CALX_VERSION_STR(x) CALX_VERSION_STR_(x)
/* "MAJOR.MINOR.PATCH", a string literal. */
#define CALX_VERSION                                                         \
    CALX_VERSION_STR(CALX_VERSION_MAJOR) "." CALX_VERSION_STR(CALX_VERSION_MINOR) "." \
    CALX_VERSION_STR(CALX_VERSION_PATCH)

/* The version of the library the program runs with, as
 * (major << 16) | (minor << 8) | patch: 0.1.0 is 0x000100. Compare it with
 * CALX_VERSION_HEX. Never fails; callable before anything else in calx,
 * from any thread. */
CALX_API unsigned calx_version(void);

/* The same version as "MAJOR.MINOR.PATCH" ("0.1.0"). The string is static:
 * never NULL, never to be freed. Never fails; callable from any thread. */
CALX_API const char *calx_version_string(void);

#ifdef __cplusplus
}
#endif

#endif
