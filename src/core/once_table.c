/* SPDX-License-Identifier: MIT */
/* The once-table (once_table.h): open addressing on a static object's
 * address; lookups are inline in the header, fills here under a mutex. */
#include <string.h>

#include "core/once_table.h"

void calx__once_keep(calx__once_table *t, const void *key, const void *value)
{
    pthread_mutex_lock(&t->mu);
    size_t i = calx__once_slot(t, key);
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
