/* SPDX-License-Identifier: MIT */
/* calx — the event loop.
 *
 * calx runs on libuv. A calx_loop wraps a uv_loop_t: either one it makes
 * and owns, or the program's own (so calx can share a loop with the rest of
 * a libuv program). All calx objects made on a loop are used from the
 * thread that runs it.
 *
 * Lifecycle. A loop outlives what is made on it, but the frees may come in
 * any order at the end of a program:
 *
 *     calx_sessionmaker_free(maker);   any order of these three
 *     calx_engine_free(engine);
 *     calx_loop_free_default();
 *
 * Work that calx runs in the background (a connection's close, the SQLite
 * worker thread's last message, a PostgreSQL cancel) keeps the loop
 * running; calx_loop_free runs the loop until that work is done, so no
 * extra calx_loop_run is needed before it. An engine still alive when its
 * loop is freed is shut down by the loop (its pool closes its
 * connections); calx_engine_free later only frees its memory. The loop
 * refuses to be freed, and is left as it was, while anything it cannot
 * finish by itself is still out: a connection checked out of an engine, a
 * task that has not finished, a call from inside the loop's own run.
 *
 * Sharing a libuv loop the program owns:
 *
 *     uv_loop_t uv;  uv_loop_init(&uv);
 *     calx_loop *loop = calx_loop_new(&uv, &err);
 *     ... engines with .loop = loop; uv_run(&uv, UV_RUN_DEFAULT) ...
 *     calx_engine_free(engine);
 *     calx_loop_free(loop);            runs uv until calx's handles are gone
 *     uv_loop_close(&uv);              succeeds: nothing of calx is left
 */
#ifndef CALX_LOOP_H
#define CALX_LOOP_H

#include <stdint.h>
#include "error.h"
#include "export.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct calx_loop calx_loop;
struct uv_loop_s;

/* Makes a calx loop over `uv` (not owned: it must outlive the calx loop), or
 * over a new libuv loop of its own when uv is NULL. Returns NULL and fills
 * err on failure (err may be NULL). The caller owns the result: free it
 * with calx_loop_free. */
CALX_API calx_loop *calx_loop_new(struct uv_loop_s *uv, calx_error *err);

/* The loop for this thread, made on first use over a libuv loop of its own.
 * Owned by calx; freed at exit by calx_loop_free_default(). Never NULL unless
 * memory runs out. After calx_loop_free_default a call makes a new one. */
CALX_API calx_loop *calx_loop_default(void);

/* calx_loop_free on this thread's default loop, if one was made (0 if not:
 * idempotent). On a refusal the default loop stays, to be freed later. */
CALX_API int calx_loop_free_default(void);

/* Runs the loop until nothing is left to do (uv_run with UV_RUN_DEFAULT).
 * Returns 0, or CALX_ERR_STATE when called from inside the loop, or
 * CALX_ERR_ARGUMENT when loop is NULL. */
CALX_API int calx_loop_run(calx_loop *loop);

/* Frees the loop: finishes what calx started on it, then closes calx's
 * handles and, when it owns its libuv loop, that loop too. In order:
 *
 *   1. Refuses, changing nothing, with CALX_ERR_STATE when called from
 *      inside the loop (a callback or a task of it; nor may it be called
 *      from the program's own libuv callbacks on that loop, as uv_run
 *      does not nest), when a task on the loop has not finished, or
 *      when an engine on the loop has a connection checked out (the
 *      message names the engine); a connection's owner must close it
 *      first (calx_conn_close, calx_session_close), as only the owner
 *      knows whether its transaction should commit.
 *   2. Shuts down the engines still alive on the loop: their pools close
 *      their idle connections, and the engines refuse new checkouts with
 *      CALX_ERR_CLOSED. The program still frees each with calx_engine_free,
 *      which then only frees memory.
 *   3. Runs the loop (uv_run, UV_RUN_ONCE at a time) until calx's background
 *      work is done: connection closes, worker threads' last messages,
 *      name lookups, thread-pool jobs and every timer and fd watch calx
 *      made. On a libuv loop the program owns this also runs the
 *      program's callbacks that are due meanwhile. It waits at most
 *      CALX_LOOP_DRAIN_MS: beyond that it gives up with CALX_ERR_TIMEOUT,
 *      leaving the loop allocated and usable (engines stay shut down), so
 *      that a later call can finish.
 *   4. Closes calx's handles and runs libuv until they are closed; a libuv
 *      loop the program gave is left with nothing of calx in it, so
 *      uv_loop_close then succeeds.
 *
 * Returns 0 when the loop was freed (the pointer is then invalid: nothing
 * can detect a later use of it), or the error code with err filled (err
 * may be NULL). A refused free may be retried. loop NULL is a no-op (0). */
CALX_API int calx_loop_close(calx_loop *loop, calx_error *err);

/* At most this long, in milliseconds, calx_loop_close waits for background
 * work (a connection's close, a connect in flight) to finish. */
#define CALX_LOOP_DRAIN_MS 10000

/* calx_loop_close for programs that keep no error: a refusal is also
 * logged (WARNING, logger "calx.loop", the process-wide handler), so that
 * it is seen. Returns 0 or the error code. NULL is a no-op (0). */
CALX_API int calx_loop_free(calx_loop *loop);

/* The libuv loop underneath; owned by whoever gave it (or by the calx loop).
 * NULL when loop is NULL. */
CALX_API struct uv_loop_s *calx_loop_uv(calx_loop *loop);

/* Milliseconds of the loop's clock (uv_now), cached per iteration. loop
 * must not be NULL (no time would be a safe answer). */
CALX_API uint64_t calx_loop_now(calx_loop *loop);

#ifdef __cplusplus
}
#endif
#endif
