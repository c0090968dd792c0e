/* SPDX-License-Identifier: MIT */
/* calx — errors.
 *
 * Every fallible calx function returns a status (0 = success, else one of
 * the codes below) or NULL, and fills a caller-owned calx_error. The error
 * holds everything inline, so there is nothing to free and it can live on
 * the stack.
 *
 * NULL: a function's err must not be NULL unless its comment says it may
 * be (some calls write the error and then read its code back). The same
 * goes for every pointer a calx function takes: its comment says whether
 * NULL is allowed and what it then does. Every function that frees or
 * gives back a handle (calx_*_free, calx_future_release, calx_conn_close)
 * takes NULL as a no-op.
 */
#ifndef CALX_ERROR_H
#define CALX_ERROR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include "export.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum calx_errcode {
    CALX_OK = 0,
    CALX_ERR_NOMEM,          /* out of memory */
    CALX_ERR_ARGUMENT,       /* a bad argument: NULL where an object is needed, out of range, ... */
    CALX_ERR_URL,            /* malformed or unsupported database URL */
    CALX_ERR_STATE,          /* call not allowed now (calx_wait inside the loop, closed object, ...) */
    CALX_ERR_BUSY,           /* the object is already running an operation */
    CALX_ERR_CANCELED,       /* the operation was cancelled */
    CALX_ERR_TIMEOUT,        /* a time limit ran out (pool checkout, connect) */
    CALX_ERR_CLOSED,         /* the engine or connection is closed / disposed */
    CALX_ERR_NO_RESULT,      /* NoResultFound: one() / scalar_one() on no row */
    CALX_ERR_MULTIPLE_RESULTS, /* MultipleResultsFound: one() on several rows */
    CALX_ERR_TYPE,           /* a value of the wrong type for the getter, or NULL where a value is needed */
    /* Database errors, classified as SQLAlchemy's DBAPIError subclasses. */
    CALX_ERR_INTEGRITY,      /* IntegrityError: NOT NULL, UNIQUE, FOREIGN KEY, CHECK */
    CALX_ERR_OPERATIONAL,    /* OperationalError: locked, busy, I/O, can't open, ... */
    CALX_ERR_PROGRAMMING,    /* ProgrammingError: syntax error, no such table, ... */
    CALX_ERR_DATA,           /* DataError: value out of range, too big, mismatch */
    CALX_ERR_NOT_SUPPORTED,  /* NotSupportedError */
    CALX_ERR_INTERNAL,       /* InternalError: the database's own failure */
    CALX_ERR_DISCONNECT,     /* the connection to the database was lost */
    CALX_ERR_SERIALIZATION,  /* a serialization failure: retry the transaction */
    CALX_ERR_DATABASE,       /* DatabaseError: any other database error */
    CALX_ERR_VALIDATION,     /* a model field failed validation */
    CALX_ERR_STALE_DATA,     /* StaleDataError: a flushed UPDATE or DELETE matched no row */
    CALX_ERR_NOT_LOADED,     /* a relationship read before it was loaded (lazy='raise') */
    CALX_ERR_AMBIGUOUS_COMMIT, /* the connection was lost after COMMIT was sent: the
                                  transaction may or may not have committed */
    CALX_ERR__COUNT
} calx_errcode;

typedef struct calx_error {
    int code;              /* a calx_errcode; CALX_OK when no error */
    int driver_code;       /* the driver's own code (SQLite extended result code), 0 if none */
    char sqlstate[6];      /* the server's SQLSTATE, "" when there is none */
    char message[512];     /* what went wrong, naming the cause */
} calx_error;

/* A short, static name for a code ("IntegrityError", "TimeoutError", ...),
 * as SQLAlchemy names the exception. Never NULL; owned by calx. */
CALX_API const char *calx_errcode_name(int code);

/* Clears err (code CALX_OK, empty message). err may be NULL. */
CALX_API void calx_error_clear(calx_error *err);

/* Fills err with code and a printf-style message; returns code so that a
 * function can `return calx_error_set(err, ...)`. err may be NULL (the
 * code is still returned); fmt must not be NULL. */
CALX_API int calx_error_set(calx_error *err, int code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Writes err in one line, as SQLAlchemy prints an exception: its class,
 * then the message, then what the database said beyond it:
 *
 *     IntegrityError: UNIQUE constraint failed: hero.name (SQLSTATE 23505, code 2067)
 *
 * (the SQL the message names, "[SQL: ...]", stays in the message). Writes
 * at most size bytes into buf, NUL included, and returns the length the
 * whole line has, as snprintf: a larger return than size - 1 means it was
 * cut. "OK" for an error with code CALX_OK, "(no error)" for err NULL. buf
 * may be NULL when size is 0. */
CALX_API size_t calx_error_str(const calx_error *err, char *buf, size_t size);

/* Writes calx_error_str's line and a newline to f (stderr when f is NULL). */
CALX_API void calx_error_print(const calx_error *err, FILE *f);

#ifdef __cplusplus
}
#endif
#endif
