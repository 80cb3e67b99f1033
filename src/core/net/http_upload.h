/*
 * http_upload.h — a request body streamed into a consumer that writes flash:
 * it may take fewer bytes than offered (its buffer waits for the flash), may
 * refuse the data part way (the rest is then swallowed), and answers only
 * once it has finished its own work after the last byte (checks, a table
 * switch, a commit).  Shared by POST /api/ota and POST /api/restore.
 *
 * The route's handler checks the head (auth, size), starts the consumer and
 * calls http_upload_accept(); the body then goes to `feed` with
 * back-pressure (a paused socket resumed a turn later), the end to `end`,
 * a lost client to `abort`; the reply is `reply`'s, given once `busy` says
 * the consumer is done.
 */
#ifndef OPENPLUG_HTTP_UPLOAD_H
#define OPENPLUG_HTTP_UPLOAD_H

#include <stdbool.h>
#include <stddef.h>

#include "core/net/http.h"
#include "core/sched.h"

struct http_upload {
    /* The consumer. */
    size_t (*feed)(const void *data, size_t len); /* bytes taken, maybe fewer */
    bool (*taking)(void);                         /* false once it refused: the rest is swallowed */
    void (*end)(void);                            /* every byte delivered (short: it fails) */
    void (*abort)(const char *why);               /* the client went away */
    bool (*busy)(void);                           /* still working: the reply waits */
    void (*reply)(struct http_request *req);      /* the one reply, when not busy */
    /* Kept by http_upload.c. */
    struct http_request *uploading, *waiting;
    struct sched_timer resume_timer, reply_timer;
};

/* Register the route (HTTP_ROUTE_STREAM is added) with the upload's stream;
 * the handler gets `upload` as its arg. */
void http_upload_route(struct http_upload *upload, struct http_route *route, unsigned methods, const char *path,
                       http_handler_fn handler);
/* From the handler, after the consumer has started: the body streams to it. */
void http_upload_accept(struct http_upload *upload, struct http_request *req);

#endif
