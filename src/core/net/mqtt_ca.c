/* mqtt_ca.c — the MQTT broker's CA certificate in the file store; see mqtt_ca.h. */
#include "mqtt_ca.h"

#include <stdio.h>
#include <string.h>

#include "core/storage/files.h"
#include "core/util/sha256.h"
#ifdef OPENPLUG_TLS
#include "core/net/tls.h"
#endif

#define PEM_BEGIN "-----BEGIN CERTIFICATE-----"
#define PEM_END "-----END CERTIFICATE-----"

static char pem_buf[MQTT_CA_MAX + 1]; /* the stored CA when read, or the draft being received */
static size_t draft_len;
static bool drafting;

const char *mqtt_ca_pem(void)
{
    if (drafting)
        return NULL; /* the buffer holds a draft: not trusted until complete */
    int n = files_read(MQTT_CA_FILE, 0, pem_buf, MQTT_CA_MAX);
    if (n <= 0)
        return NULL;
    pem_buf[n] = '\0';
    return pem_buf;
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

const char *mqtt_ca_set(const char *pem, size_t len)
{
    static char copy[MQTT_CA_MAX + 1];
    if (len > MQTT_CA_MAX)
        return "too long (at most 2560 bytes)";
    memmove(copy, pem, len);
    copy[len] = '\0';
    const char *bad = check_pem(copy);
    if (bad)
        return bad;
    int r = files_write(MQTT_CA_FILE, copy, (uint32_t)len);
    return r < 0 ? files_strerror(r) : NULL;
}

static void describe(struct cmd_ctx *ctx)
{
    char text[96];
    struct files_info info;
    if (drafting) {
        snprintf(text, sizeof text, "receiving (%u bytes so far)", (unsigned)draft_len);
    } else if (files_stat(MQTT_CA_FILE, &info) == 0 && mqtt_ca_pem()) {
        uint8_t digest[32];
        sha256(pem_buf, strlen(pem_buf), digest);
        snprintf(text, sizeof text, "set (%u bytes, SHA-256 of the PEM %02X%02X%02X%02X…)", (unsigned)info.size,
                 digest[0], digest[1], digest[2], digest[3]);
    } else {
        snprintf(text, sizeof text, "none");
    }
    jw_string(ctx->reply, "MqttCA", text);
}

static enum cmd_result forget(struct cmd_ctx *ctx)
{
    drafting = false;
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
        drafting = true;
        draft_len = 0;
    }
    if (!drafting)
        return cmd_error(ctx, "MqttCA: start with the line " PEM_BEGIN);
    size_t len = strlen(arg);
    if (draft_len + len + 1 > MQTT_CA_MAX) {
        drafting = false;
        return cmd_error(ctx, "MqttCA: longer than %d bytes; start again", MQTT_CA_MAX);
    }
    memcpy(pem_buf + draft_len, arg, len);
    draft_len += len;
    pem_buf[draft_len++] = '\n';
    pem_buf[draft_len] = '\0';
    if (strstr(pem_buf, PEM_END)) {
        drafting = false;
        const char *bad = mqtt_ca_set(pem_buf, draft_len);
        if (bad)
            return cmd_error(ctx, "MqttCA: %s; the previous CA is kept", bad);
    }
    describe(ctx);
    return CMD_DONE;
}
