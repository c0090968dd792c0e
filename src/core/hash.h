/* SPDX-License-Identifier: MIT */
/* The one hash function: FNV-1a, 64-bit. Every table keyed by text or
 * bytes (the identity map, the drivers' statement caches, the engine's
 * compiled-SQL cache) hashes with these, so there is one place to change
 * it. Start from CALX_HASH_INIT and feed the parts of a key in turn. */
#ifndef CALX_CORE_HASH_H
#define CALX_CORE_HASH_H

#include <stddef.h>
#include <stdint.h>

#define CALX_HASH_INIT 1469598103934665603ULL  /* FNV-1a's offset basis */
#define CALX_HASH_PRIME 1099511628211ULL

/* h with the n bytes at p mixed in. */
static inline uint64_t calx__hash_bytes(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * CALX_HASH_PRIME;
    return h;
}

/* h with the NUL-terminated string s mixed in. */
static inline uint64_t calx__hash_str(uint64_t h, const char *s)
{
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * CALX_HASH_PRIME;
    return h;
}

/* h with a whole word mixed in at once (a type OID, a small integer). */
static inline uint64_t calx__hash_word(uint64_t h, uint64_t word)
{
    return (h ^ word) * CALX_HASH_PRIME;
}

#endif
