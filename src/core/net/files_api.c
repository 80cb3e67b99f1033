/* files_api.c — /api/files routes over the file store; see files_api.h. */
#include "files_api.h"

#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "core/net/http.h"
#include "core/sched.h"
#include "core/storage/files.h"

#define PREFIX "/api/files/"

static struct http_route list_route, file_route;
static struct sched_timer resume_timer;
static struct http_request *uploading; /* the one upload under way */
static uint64_t erase_turn = UINT64_MAX; /* loop turn of the last erase */

struct read_state {
    char name[FILES_NAME_MAX + 1];
    uint32_t offset;
};
_Static_assert(sizeof(struct read_state) <= HTTP_USER_SIZE, "fits http_user()");

static uint64_t loop_turn(void)
{
    struct sched_stats s;
    sched_get_stats(&s);
    return s.turns;
}

static int status_of(int err)
{
    switch (err) {
    case FILES_ENOENT: return 404;
    case FILES_ENAME: return 400;
    case FILES_ETOOBIG: return 413;
    case FILES_ENOSPC: return 507;
    case FILES_EBUSY: return 409;
    default: return 500;
    }
}

static void serve_list(struct http_request *req, void *arg)
{
    (void)arg;
    if (!http_require_admin(req))
        return;
    struct files_info infos[FILES_SLOTS];
    int n = files_list(infos, FILES_SLOTS);
    struct json_writer *w = http_reply_json_begin(req, 200);
    jw_array_begin(w, "files");
    for (int i = 0; i < n; i++) {
        jw_object_begin(w, NULL);
        jw_string(w, "name", infos[i].name);
        jw_int(w, "size", infos[i].size);
        jw_int(w, "crc", infos[i].crc);
        jw_object_end(w);
    }
    jw_array_end(w);
    jw_int(w, "slots", FILES_SLOTS);
    jw_int(w, "free", FILES_SLOTS - n);
    jw_int(w, "max_size", FILES_SIZE_MAX);
    http_reply_json_end(req);
}

static int produce_file(struct http_request *req, char *buf, size_t cap, void *arg)
{
    (void)arg;
    struct read_state *st = http_user(req);
    int n = files_read(st->name, st->offset, buf, (uint32_t)cap);
    if (n <= 0)
        return 0; /* the end (or the file went away: the body just ends) */
    st->offset += (uint32_t)n;
    return n;
}

static const char *content_type(const char *name)
{
    const char *dot = strrchr(name, '.');
    if (dot && (!strcmp(dot, ".bat") || !strcmp(dot, ".txt") || !strcmp(dot, ".pem") || !strcmp(dot, ".crt")))
        return "text/plain; charset=utf-8";
    if (dot && !strcmp(dot, ".json"))
        return "application/json";
    return "application/octet-stream";
}

static void serve_get(struct http_request *req, const char *name)
{
    struct files_info info;
    int err = files_stat(name, &info);
    if (err) {
        http_reply_error(req, status_of(err), files_strerror(err));
        return;
    }
    struct read_state *st = http_user(req);
    snprintf(st->name, sizeof st->name, "%s", name);
    st->offset = 0;
    http_reply_stream(req, 200, content_type(name), produce_file, NULL);
}

static void serve_delete(struct http_request *req, const char *name)
{
    int err = files_delete(name);
    if (err) {
        http_reply_error(req, status_of(err), files_strerror(err));
        return;
    }
    LOG_INF("FILE", "%s deleted (web)", name);
    http_reply(req, 204, NULL, NULL, 0);
}

static void serve_upload(struct http_request *req, const char *name)
{
    size_t size = http_content_length(req);
    if (size > FILES_SIZE_MAX) {
        http_reply_error(req, 413, files_strerror(FILES_ETOOBIG));
        return;
    }
    int err = files_write_begin(name, (uint32_t)size);
    if (err) {
        http_reply_error(req, status_of(err), files_strerror(err));
        return;
    }
    erase_turn = loop_turn(); /* begin erased the header's sector */
    uploading = req;
    struct read_state *st = http_user(req);
    snprintf(st->name, sizeof st->name, "%s", name);
    /* Returning without a reply: the body streams to upload_data(). */
}

static void serve_file(struct http_request *req, void *arg)
{
    (void)arg;
    if (!http_require_admin(req))
        return;
    const char *name = http_path(req) + strlen(PREFIX);
    if (!files_name_valid(name)) {
        http_reply_error(req, 400, files_strerror(FILES_ENAME));
        return;
    }
    switch (http_method(req)) {
    case HTTP_GET:
    case HTTP_HEAD: serve_get(req, name); break;
    case HTTP_DELETE: serve_delete(req, name); break;
    default: serve_upload(req, name); break;
    }
}

static void resume_upload(void *arg)
{
    (void)arg;
    if (uploading)
        http_resume(uploading);
}

static size_t upload_data(struct http_request *req, const uint8_t *data, size_t len, void *arg)
{
    (void)arg;
    if (req != uploading)
        return 0;
    if (files_write_would_erase()) {
        if (erase_turn == loop_turn()) { /* one erase per turn: the rest next turn */
            sched_timer_start(&resume_timer, 0, 0);
            return 0;
        }
        erase_turn = loop_turn();
    }
    int n = files_write_chunk(data, (uint32_t)len);
    if (n < 0) {
        LOG_ERR("FILE", "upload: %s", files_strerror(n));
        files_write_abort();
        return len; /* swallow the rest; on_end answers with the error */
    }
    if ((size_t)n < len)
        sched_timer_start(&resume_timer, 0, 0);
    return (size_t)n;
}

static void upload_end(struct http_request *req, void *arg)
{
    (void)arg;
    uploading = NULL;
    struct read_state *st = http_user(req);
    int err = files_write_busy() ? files_write_commit() : HAL_EIO;
    if (err) {
        files_write_abort();
        http_reply_error(req, status_of(err), files_strerror(err));
        return;
    }
    struct files_info info;
    files_stat(st->name, &info);
    LOG_INF("FILE", "%s written, %lu bytes (web)", info.name, (unsigned long)info.size);
    struct json_writer *w = http_reply_json_begin(req, 200);
    jw_string(w, "name", info.name);
    jw_int(w, "size", info.size);
    jw_int(w, "crc", info.crc);
    http_reply_json_end(req);
}

static void upload_abort(struct http_request *req, void *arg)
{
    (void)arg;
    if (req == uploading) {
        files_write_abort();
        uploading = NULL;
        LOG_INF("FILE", "upload aborted: the previous version stays");
    }
}

static const struct http_body_stream upload_stream = {upload_data, upload_end, upload_abort};

void files_api_start(void)
{
    sched_timer_init(&resume_timer, resume_upload, NULL);
    http_route_add(&list_route, HTTP_GET, "/api/files", 0, serve_list, NULL);
    http_route_add(&file_route, HTTP_GET | HTTP_PUT | HTTP_POST | HTTP_DELETE, PREFIX,
                   HTTP_ROUTE_PREFIX | HTTP_ROUTE_STREAM, serve_file, NULL);
    file_route.stream = &upload_stream;
}
