/* SPDX-License-Identifier: MIT */
/* Facts computed once per static object (a model, a relationship) and
 * asked for on hot paths: a fixed table of slots keyed by the object's
 * address, each holding a copy of the facts. A lookup takes no lock: a
 * slot's key is published after its value (release / acquire). Filling one
 * takes the table's mutex. A full table keeps nothing new, and its callers
 * compute the facts anew each time (slower, never wrong).
 *
 * The key is an address, so the objects must live as long as the process
 * (the models and relationships CALX_MODEL_DEFINE makes are static). Each
 * table is declared where its facts are made:
 *
 *     CALX_ONCE_TABLE(resolved, calx__relinfo, 1024);
 *     const calx__relinfo *kept = calx__once_find(&resolved, r);
 *     if (!kept) { ...; calx__once_keep(&resolved, r, &info); }
 */
#ifndef CALX_CORE_ONCE_TABLE_H
#define CALX_CORE_ONCE_TABLE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/hash.h"

typedef struct calx__once_table {
    _Atomic(const void *) *keys;
    unsigned char *values;     /* nslots values of value_size bytes */
    size_t value_size;
    size_t nslots;             /* a power of two */
    pthread_mutex_t mu;
} calx__once_table;

/* A table of nslots (a power of two) values of type T, in static storage
 * local to the file. */
#define CALX_ONCE_TABLE(name, T, nslots)                                      \
    static _Atomic(const void *) name##_keys[nslots];                         \
    static T name##_values[nslots];                                           \
    static calx__once_table name = { name##_keys, (unsigned char *)name##_values,    \
                              sizeof(T), nslots, PTHREAD_MUTEX_INITIALIZER }

static inline size_t calx__once_slot(const calx__once_table *t, const void *key)
{
    return (size_t)calx__hash_word(CALX_HASH_INIT, (uintptr_t)key) & (t->nslots - 1);
}

/* key's facts in t, or NULL when t has none. They stay where they are,
 * unchanged, for the life of the process. Inline: the constructor, the
 * flush and the loaders ask for a model's facts per object. */
static inline const void *calx__once_find(calx__once_table *t, const void *key)
{
    size_t i = calx__once_slot(t, key);
    for (size_t n = 0; n < t->nslots; n++, i = (i + 1) & (t->nslots - 1)) {
        const void *k = atomic_load_explicit(&t->keys[i], memory_order_acquire);
        if (k == key)
            return t->values + i * t->value_size;
        if (!k)
            return NULL;
    }
    return NULL;
}

/* Keeps a copy of key's facts in t (nothing when t is full or already
 * has them). */
void calx__once_keep(calx__once_table *t, const void *key, const void *value);

#endif
