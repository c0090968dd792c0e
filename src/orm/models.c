/* SPDX-License-Identifier: MIT */
/* The program's models, SQLModel.metadata's role: every
 * CALX_MODEL_DEFINE registers its model before main runs (a constructor
 * function), and calx_models_metadata gathers their tables, so create_all
 * needs no hand-built list. */
#include <stddef.h>

#include "calx/model.h"

/* In definition order: head, and where the next one goes. */
static calx_model_entry *models;
static calx_model_entry **models_tail = &models;

void calx_model_register(calx_model_entry *e)
{
    if (!e)
        return;
    for (calx_model_entry *m = models; m; m = m->next)
        if (m == e)
            return;
    e->next = NULL;
    *models_tail = e;
    models_tail = &e->next;
}

calx_metadata *calx_models_metadata(calx_error *err)
{
    calx_metadata *md = calx_metadata_new(err);
    for (calx_model_entry *m = models; md && m; m = m->next) {
        if (calx_metadata_add(md, &m->model->table, err)) {
            calx_metadata_free(md);
            return NULL;
        }
    }
    return md;
}
