/* SPDX-License-Identifier: MIT */
/* The once-table (once_table.h): open addressing on a static object's
 * address, lock-free lookups, fills under a mutex. */
#include <stdint.h>
#include <string.h>

#include "core/hash.h"
#include "core/once_table.h"

static size_t slot_of(const calx__once_table *t, const void *key)
{
    return (size_t)calx__hash_word(CALX_HASH_INIT, (uintptr_t)key) & (t->nslots - 1);
}

const void *calx__once_find(calx__once_table *t, const void *key)
{
    size_t i = slot_of(t, key);
    for (size_t n = 0; n < t->nslots; n++, i = (i + 1) & (t->nslots - 1)) {
        const void *k = atomic_load_explicit(&t->keys[i], memory_order_acquire);
        if (k == key)
            return t->values + i * t->value_size;
        if (!k)
            return NULL;
    }
    return NULL;
}

void calx__once_keep(calx__once_table *t, const void *key, const void *value)
{
    pthread_mutex_lock(&t->mu);
    size_t i = slot_of(t, key);
    for (size_t n = 0; n < t->nslots; n++, i = (i + 1) & (t->nslots - 1)) {
        const void *k = atomic_load_explicit(&t->keys[i], memory_order_relaxed);
        if (k == key)
            break;
        if (!k) {
            memcpy(t->values + i * t->value_size, value, t->value_size);
            atomic_store_explicit(&t->keys[i], key, memory_order_release);
            break;
        }
    }
    pthread_mutex_unlock(&t->mu);
}
