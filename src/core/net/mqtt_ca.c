/* mqtt_ca.c — the MQTT broker's CA certificate in the file store; see mqtt_ca.h. */
#include "mqtt_ca.h"

#include <stdio.h>
#include <string.h>

#include "core/storage/files.h"
#include "core/util/heap.h"
#include "core/util/sha256.h"
#ifdef OPENPLUG_TLS
#include "core/net/tls.h"
#endif

#define PEM_BEGIN "-----BEGIN CERTIFICATE-----"
#define PEM_END "-----END CERTIFICATE-----"

/* The certificate being received a line at a time, on the heap from its
 * BEGIN line until its END line, a `MqttCA 0` or the next BEGIN: one
 * block of MQTT_CA_MAX + 1 bytes at most, and none between certificates. */
static char *draft;
static size_t draft_len;

static void drop_draft(void)
{
    heap_give(draft);
    draft = NULL;
    draft_len = 0;
}

char *mqtt_ca_pem_load(void)
{
    struct files_info info;
    if (files_stat(MQTT_CA_FILE, &info) != 0 || info.size == 0 || info.size > MQTT_CA_MAX)
        return NULL;
    char *pem = heap_take(info.size + 1);
    if (!pem)
        return NULL;
    int n = files_read(MQTT_CA_FILE, 0, pem, info.size);
    if (n <= 0) {
        heap_give(pem);
        return NULL;
    }
    pem[n] = '\0';
    return pem;
}

/* One certificate, BEGIN to END, nothing but base64 between. */
static const char *check_pem(const char *pem)
{
    const char *begin = strstr(pem, PEM_BEGIN), *end = strstr(pem, PEM_END);
    if (!begin || !end || end < begin)
        return "not a PEM certificate";
    for (const char *p = begin + strlen(PEM_BEGIN); p < end; p++)
        if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '+' ||
              *p == '/' || *p == '=' || *p == '\n' || *p == '\r'))
            return "not base64 between BEGIN and END";
#ifdef OPENPLUG_TLS
    return tls_check_ca(pem);
#else
    return NULL;
#endif
}

/* Check a whole NUL-terminated PEM and store it: NULL, or why not. */
static const char *store(const char *pem, size_t len)
{
    const char *bad = check_pem(pem);
    if (bad)
        return bad;
    int r = files_write(MQTT_CA_FILE, pem, (uint32_t)len);
    return r < 0 ? files_strerror(r) : NULL;
}

static void describe(struct cmd_ctx *ctx)
{
    char text[96];
    struct files_info info;
    char *pem;
    if (draft) {
        snprintf(text, sizeof text, "receiving (%u bytes so far)", (unsigned)draft_len);
    } else if (files_stat(MQTT_CA_FILE, &info) == 0 && (pem = mqtt_ca_pem_load()) != NULL) {
        uint8_t digest[32];
        sha256(pem, strlen(pem), digest);
        heap_give(pem);
        snprintf(text, sizeof text, "set (%u bytes, SHA-256 of the PEM %02X%02X%02X%02X…)", (unsigned)info.size,
                 digest[0], digest[1], digest[2], digest[3]);
    } else {
        snprintf(text, sizeof text, "none");
    }
    jw_string(ctx->reply, "MqttCA", text);
}

static enum cmd_result forget(struct cmd_ctx *ctx)
{
    drop_draft();
    int r = files_delete(MQTT_CA_FILE);
    if (r < 0 && r != FILES_ENOENT)
        return cmd_error(ctx, "MqttCA: %s", files_strerror(r));
    describe(ctx);
    return CMD_DONE;
}

enum cmd_result cmd_mqtt_ca(struct cmd_ctx *ctx)
{
    const char *arg = ctx->arg;
    if (!*arg) {
        describe(ctx);
        return CMD_DONE;
    }
    if (strcmp(arg, "0") == 0)
        return forget(ctx);
    if (strncmp(arg, PEM_BEGIN, strlen(PEM_BEGIN)) == 0) {
        if (!draft && (draft = heap_take(MQTT_CA_MAX + 1)) == NULL)
            return cmd_error(ctx, "MqttCA: out of memory; try again");
        draft_len = 0;
    }
    if (!draft)
        return cmd_error(ctx, "MqttCA: start with the line " PEM_BEGIN);
    size_t len = strlen(arg);
    if (draft_len + len + 1 > MQTT_CA_MAX) {
        drop_draft();
        return cmd_error(ctx, "MqttCA: longer than %d bytes; start again", MQTT_CA_MAX);
    }
    memcpy(draft + draft_len, arg, len);
    draft_len += len;
    draft[draft_len++] = '\n';
    draft[draft_len] = '\0';
    if (strstr(draft, PEM_END)) {
        const char *bad = store(draft, draft_len);
        drop_draft();
        if (bad)
            return cmd_error(ctx, "MqttCA: %s; the previous CA is kept", bad);
    }
    describe(ctx);
    return CMD_DONE;
}
