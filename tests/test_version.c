/* SPDX-License-Identifier: MIT */
/* The version: the run-time calls agree with the header's macros, with
 * each other, and with the version CMake gave the build (project(VERSION),
 * read from include/calx/version.h; calx.pc and calxConfigVersion.cmake
 * carry the same). */
#include <stdio.h>

#include "calx.h"
#include "test.h"

TEST(the_number_is_major_minor_patch_in_bytes_as_uv_version)
{
    CHECK_INT(calx_version(), (CALX_VERSION_MAJOR << 16) | (CALX_VERSION_MINOR << 8) |
                                  CALX_VERSION_PATCH);
    CHECK_INT(calx_version(), CALX_VERSION_HEX);
    /* Each part fits its byte, or the packing would mix them up. */
    CHECK(CALX_VERSION_MINOR < 256 && CALX_VERSION_PATCH < 256);
}

TEST(the_string_spells_the_number)
{
    const char *s = calx_version_string();
    CHECK(s != NULL);
    CHECK_STR(s, CALX_VERSION);
    char want[32];
    unsigned v = calx_version();
    snprintf(want, sizeof want, "%u.%u.%u", v >> 16, (v >> 8) & 0xff, v & 0xff);
    CHECK_STR(s, want);
    /* A static string: the same pointer every time. */
    CHECK(calx_version_string() == s);
}

TEST(the_header_and_the_cmake_project_agree)
{
#ifdef CALX_PROJECT_VERSION
    CHECK_STR(calx_version_string(), CALX_PROJECT_VERSION);
#else
    SKIP("built without CMake's CALX_PROJECT_VERSION");
#endif
}

int main(void)
{
    RUN(the_number_is_major_minor_patch_in_bytes_as_uv_version);
    RUN(the_string_spells_the_number);
    RUN(the_header_and_the_cmake_project_agree);
    return TEST_REPORT();
}
