/* SPDX-License-Identifier: MIT */
/* UUIDs (calx/types.h): the forms Python's uuid.UUID reads, the
 * hyphenated lower-case form it writes, and random (version 4) ones from
 * the kernel's generator, getrandom(2), which needs no file descriptor and
 * blocks only until the pool is first seeded at boot. */
#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include "calx/types.h"
#include "core/chars.h"
#include "core/types_int.h"


int calx_uuid_parse(const char *s, size_t n, calx_uuid *out, calx_error *err)
{
    const char *p = s;
    size_t len = n;
    static const char urn[] = "urn:uuid:";
    if (len >= sizeof urn - 1 && calx__ascii_ncasecmp(p, urn, sizeof urn - 1) == 0) {
        p += sizeof urn - 1;
        len -= sizeof urn - 1;
    } else if (len >= 2 && p[0] == '{' && p[len - 1] == '}') {
        p++;
        len -= 2;
    }
    /* 32 hex digits, or 8-4-4-4-12 with the hyphens where they belong. */
    bool hyphens = len == 36;
    if (len != 32 && !hyphens)
        goto bad;
    calx_uuid u;
    int k = 0;
    for (size_t i = 0; i < len; i++) {
        if (hyphens && (i == 8 || i == 13 || i == 18 || i == 23)) {
            if (p[i] != '-')
                goto bad;
            continue;
        }
        int hi = calx__hex_digit(p[i]), lo = i + 1 < len ? calx__hex_digit(p[i + 1]) : -1;
        if (hi < 0 || lo < 0)
            goto bad;
        u.bytes[k++] = (uint8_t)(hi << 4 | lo);
        i++;
    }
    *out = u;
    return 0;
bad:
    return calx_error_set(err, CALX_ERR_DATA,
                          "'%.*s%s' is not a UUID: expected 32 hex digits, with or without "
                          "hyphens as in 1b4e28ba-2fa1-11d2-883f-0016d3cca427",
                          CALX__SHOWN(s, n));
}

void calx_uuid_format(calx_uuid u, char *out)
{
    static const char hex[] = "0123456789abcdef";
    char *o = out;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            *o++ = '-';
        *o++ = hex[u.bytes[i] >> 4];
        *o++ = hex[u.bytes[i] & 15];
    }
    *o = '\0';
}

int calx_uuid4(calx_uuid *out, calx_error *err)
{
    calx_uuid u;
    size_t got = 0;
    while (got < sizeof u.bytes) {
        ssize_t r = getrandom(u.bytes + got, sizeof u.bytes - got, 0);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return calx_error_set(err, CALX_ERR_OPERATIONAL,
                                  "cannot make a random UUID: getrandom failed (%s)",
                                  strerror(errno));
        }
        got += (size_t)r;
    }
    /* RFC 4122: version 4 in the high nibble of byte 6, variant 10xx in
     * the high bits of byte 8. */
    u.bytes[6] = (uint8_t)((u.bytes[6] & 0x0f) | 0x40);
    u.bytes[8] = (uint8_t)((u.bytes[8] & 0x3f) | 0x80);
    *out = u;
    return 0;
}

int calx_uuid_cmp(calx_uuid a, calx_uuid b)
{
    int c = memcmp(a.bytes, b.bytes, sizeof a.bytes);
    return c < 0 ? -1 : c > 0;
}
