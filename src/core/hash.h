/* SPDX-License-Identifier: MIT */
/* The one hash function: a multiplicative hash that takes the key eight
 * bytes at a time (FNV-1a's prime and offset basis, each step folding the
 * high half back into the low one, since tables index by the low bits).
 * FNV-1a proper takes a byte per multiply, whose latency made hashing a
 * statement's SQL text the largest part of a statement-cache lookup.
 * Every table keyed by text or bytes (the identity map, the drivers'
 * statement caches, the engine's compiled-SQL cache) hashes with these, so
 * there is one place to change it. Start from CALX_HASH_INIT and feed the
 * parts of a key in turn; a string hashes as its bytes do. Values are for
 * tables in memory only: they differ between byte orders. */
#ifndef CALX_CORE_HASH_H
#define CALX_CORE_HASH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define CALX_HASH_INIT 1469598103934665603ULL  /* FNV-1a's offset basis */
#define CALX_HASH_PRIME 1099511628211ULL

/* h with a whole word mixed in at once (a type OID, a small integer). */
static inline uint64_t calx__hash_word(uint64_t h, uint64_t word)
{
    h = (h ^ word) * CALX_HASH_PRIME;
    return h ^ (h >> 32);
}

/* h with the n bytes at p mixed in. */
static inline uint64_t calx__hash_bytes(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (; n >= 8; b += 8, n -= 8) {
        uint64_t w;
        memcpy(&w, b, 8);
        h = calx__hash_word(h, w);
    }
    uint64_t tail = 0;
    if (n)
        memcpy(&tail, b, n);
    /* The length of the tail goes in too: "a" and "a\0" differ. */
    return calx__hash_word(h, tail ^ ((uint64_t)n << 56));
}

/* h with the NUL-terminated string s mixed in. */
static inline uint64_t calx__hash_str(uint64_t h, const char *s)
{
    return calx__hash_bytes(h, s, strlen(s));
}

#endif
