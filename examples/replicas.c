/* SPDX-License-Identifier: MIT */
/* Read replicas with read-your-writes: a writer task adds notes on the
 * primary, and reader tasks read them on the streaming standbys, each
 * carrying the writer's causal token so that a lagging standby never
 * shows fewer notes than were written. Every statement's echo line names
 * the server it went to.
 *
 *     DATABASE_URL=postgresql://app@127.0.0.1:5432/app \
 *     REPLICA_URLS=postgresql://app@127.0.0.1:5433/app,postgresql://app@127.0.0.1:5434/app \
 *     ./replicas
 *
 * make test runs it on scripts/pg-test-cluster.sh's primary and two
 * standbys (tests/run-cluster.sh sets both variables). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calx.h"

#define Note_FIELDS(F, M)                                                     \
    F(M, id,   OPT_INT64, NONE,     .primary_key = true)                      \
    F(M, body, TEXT,      REQUIRED)
CALX_MODEL(Note, "replica_note")
CALX_MODEL_DEFINE(Note, "replica_note")

#define NREADERS 2
#define NNOTES 3
#define MAX_REPLICAS 8

static calx_engine *engine;
static char token[CALX_CAUSAL_TOKEN_SIZE];   /* the writer's last commit */
static int complete_reads;                   /* readers that saw every note */

/* Echo's statement lines only, each on one line: "[replica 1 (h:p)]
 * SELECT ..." (the parameter lines, and BEGIN / ROLLBACK, left out). */
static void show_statements(void *udata, calx_log_level level, const char *logger,
                            const char *msg)
{
    (void)udata;
    (void)level;
    (void)logger;
    const char *end = strstr(msg, ")] ");
    if (msg[0] != '[' || !end || strstr(msg, "] BEGIN") || strstr(msg, "] ROLLBACK"))
        return;
    const char *sql = end + 3 + strspn(end + 3, "\n ");
    printf("  %.*s %.*s\n", (int)(end + 2 - msg), msg, (int)strcspn(sql, "\n"), sql);
}

static void *writer(void *arg)
{
    (void)arg;
    calx_error err;
    calx_session *s = calx_session_new(
        &(calx_session_opts){ .bind = engine, .causal_reads = true, .causal_timeout = 2 }, &err);
    for (int i = 1; s && i <= NNOTES; i++) {
        char body[32];
        snprintf(body, sizeof body, "note %d", i);
        Note *n = CALX_NEW(Note, &err, .body = body);
        if (!n || calx_session_add(s, n, &err) || calx_session_commit(s, &err)) {
            fprintf(stderr, "writer: %s\n", err.message);
            break;
        }
        printf("writer: committed '%s', causal token %s\n", body,
               calx_session_causal_token(s));
    }
    if (s && calx_session_causal_token(s))
        snprintf(token, sizeof token, "%s", calx_session_causal_token(s));
    calx_session_close(s, &err);
    calx_session_free(s);
    return NULL;
}

static void *reader(void *arg)
{
    int id = *(int *)arg;
    calx_error err;
    /* Another session, as another request would have: the token says how
     * far a replica must have replayed before it may answer. */
    calx_session *s = calx_session_new(&(calx_session_opts){ .bind = engine }, &err);
    if (!s || calx_session_set_causal_token(s, token, &err)) {
        fprintf(stderr, "reader %d: %s\n", id, err.message);
        calx_session_free(s);
        return NULL;
    }
    calx_select *q = calx_select_new(CALX_TABLE(Note));
    calx_objlist notes = { 0 };
    if (calx_session_all(s, q, &notes, &err) == 0) {
        printf("reader %d saw %zu notes\n", id, notes.n);
        complete_reads += notes.n == NNOTES;
    } else
        fprintf(stderr, "reader %d: %s\n", id, err.message);
    calx_objlist_free(&notes);
    calx_select_free(q);
    calx_session_close(s, &err);
    calx_session_free(s);
    return NULL;
}

int main(void)
{
    const char *url = getenv("DATABASE_URL");
    const char *list = getenv("REPLICA_URLS");
    if (!url || !list) {
        fprintf(stderr, "set DATABASE_URL (the primary) and REPLICA_URLS (the standbys, "
                        "comma-separated)\n");
        return 2;
    }
    /* The replica URLs, split at the commas. */
    char *copy = strdup(list);
    const char *replicas[MAX_REPLICAS];
    size_t nreplicas = 0;
    for (char *p = strtok(copy, ","); p && nreplicas < MAX_REPLICAS; p = strtok(NULL, ","))
        replicas[nreplicas++] = p;

    calx_error err;
    engine = calx_create_engine(url,
                                &(calx_engine_opts){ .echo = true, .log = show_statements,
                                                     .replicas = replicas,
                                                     .nreplicas = nreplicas },
                                &err);
    if (!engine) {
        fprintf(stderr, "%s\n", err.message);
        free(copy);
        return 1;
    }
    calx_metadata *md = calx_metadata_new(&err);
    calx_metadata_add(md, CALX_TABLE(Note), &err);
    int rc = calx_wait(calx_engine_drop_all(engine, md, &err), NULL, &err);
    if (!rc)
        rc = calx_wait(calx_engine_create_all(engine, md, &err), NULL, &err);
    if (!rc)
        rc = calx_wait(calx_spawn(calx_loop_default(), writer, NULL, NULL, &err), NULL, &err);
    int ids[NREADERS];
    calx_future *tasks[NREADERS];
    for (int i = 0; !rc && i < NREADERS; i++) {
        ids[i] = i + 1;
        tasks[i] = calx_spawn(calx_loop_default(), reader, &ids[i], NULL, &err);
    }
    for (int i = 0; !rc && i < NREADERS; i++)
        rc = calx_wait(tasks[i], NULL, &err);
    if (rc)
        fprintf(stderr, "%s\n", err.message);
    else if (complete_reads == NREADERS)
        printf("every reader saw every note the writer committed\n");
    char *status = calx_engine_status(engine);
    printf("%s\n", status);
    free(status);
    calx_metadata_free(md);
    calx_engine_free(engine);
    calx_loop_free_default();
    free(copy);
    return rc ? 1 : 0;
}
