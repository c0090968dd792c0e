/* The insides of a select, shared by its builder (select.c) and its
 * compiler (compile_select.c). */
#ifndef CALX_SQL_SELECT_INT_H
#define CALX_SQL_SELECT_INT_H

#include "sql/expr_int.h"

typedef struct calx_order_term {
    calx_expr *e;
    calx_order dir;
} calx_order_term;

struct calx_select {
    const calx_table *t;
    calx_expr *where;            /* the where()s ANDed, or NULL */
    calx_order_term *order;
    size_t norder, order_cap;
    bool has_limit, has_offset;
    calx_value limit, offset;    /* bound from here: compiled params point at q */
    bool failed;
    calx_error err;              /* the first error, when failed */
};

#endif
