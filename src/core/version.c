/* SPDX-License-Identifier: MIT */
/* The library's version at run time (include/calx/version.h). The values
 * come from the header as this library was compiled, so a program linked
 * against a newer shared libcalx than its headers learns the newer one. */
#include "calx/version.h"

unsigned calx_version(void)
{
    return CALX_VERSION_HEX;
}

const char *calx_version_string(void)
{
    return CALX_VERSION;
}
