/*
 * fuzz_web_config.c — POST /api/config (web_api.c's settings parser: a JSON
 * object of {"<Command>": value} run member by member) on a firmware booted
 * on the fake board, reached through the whole web server by a client on
 * the loopback.
 *
 * Input: the request's body (any bytes, sent with its Content-Length).
 * Every input starts from the same state: a blank chip, the default
 * settings saved, relays off, no web password.  After the reply the main
 * loop runs 2.5 s of fake time (planned restarts and factory resets
 * happen: hal_reboot() is caught).
 * Properties (besides no crash, overread or UB):
 *   - a refused body (any status but 200 and 422) changes neither the
 *     settings nor the relays;
 *   - 200 and 422 reply a valid JSON object {"results":{…},"ok":…} (or,
 *     results too many for the reply, {"members":N,"failed":M,"results":
 *     "…","ok":…}: they ran all the same); "ok" is
 *     true exactly for 200, which has no member failed, 422 at least one;
 *     every member of the body has exactly one result: its command's reply
 *     (an object) or the replies of the commands it ran (an array of two
 *     or more: Backlog); when every command failed, nothing changed
 *     (counts are per member: with a member that may run several commands,
 *     which may have failed only in part, they cannot tell);
 *   - the settings in use stay valid (in range, text settings without
 *     control characters) and survive a reboot: config_load() gives them
 *     back exactly (after a factory reset: none).
 */
#include <ctype.h>
#include <setjmp.h>
#include <stdlib.h>
#include <strings.h>

#include "core/cmd/cmd_setting.h"
#include "core/firmware.h"
#include "core/system.h"
#include "fuzz_device.h"
#include "fuzz_loopback.h"

#define LOOP_MS 2500
#define LOOP_TURNS 64

static jmp_buf reboot_jump;
static struct loopback_reply reply;

/* The settings a user types as text: printable, as the commands demand. */
static void check_text_settings(const struct config *c)
{
    const char *texts[] = {c->device_name,    c->mqtt.host,       c->mqtt.user,
                           c->mqtt.client,    c->mqtt.topic,      c->mqtt.group_topic,
                           c->mqtt.full_topic, c->web_hosts.names, c->wifi.ssid[0],
                           c->wifi.ssid[1],   c->time.ntp_server[0], c->time.ntp_server[1]};
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        if (!cmd_text_printable(texts[i]))
            fprintf(stderr, "text setting %zu has a control character: '%s'\n", i, texts[i]);
        FUZZ_CHECK(cmd_text_printable(texts[i]));
    }
}

/* The response's body, chunked framing removed (in place). */
static char *response_body(size_t *len)
{
    char *body = strstr(reply.text, "\r\n\r\n");
    FUZZ_CHECK(body != NULL);
    *body = '\0';
    bool chunked = strstr(reply.text, "Transfer-Encoding: chunked") != NULL;
    body += 4;
    if (!chunked) {
        *len = strlen(body);
        return body;
    }
    char *in = body, *out = body;
    for (;;) {
        char *end;
        unsigned long n = strtoul(in, &end, 16);
        FUZZ_CHECK(end != in && end[0] == '\r' && end[1] == '\n');
        if (n == 0)
            break;
        in = end + 2;
        FUZZ_CHECK(strlen(in) >= n + 2);
        memmove(out, in, n);
        out += n;
        in += n + 2;
    }
    *out = '\0';
    *len = (size_t)(out - body);
    return body;
}

static bool is_word(const char *text, const char *word)
{
    size_t n = strlen(word);
    return strncasecmp(text, word, n) == 0 && !isalnum((unsigned char)text[n]) && text[n] != '_';
}

/* Whether a member may run several commands: its command line's first
 * word (the name, or with a blank name the value's) is Backlog or if. */
static bool may_run_several(const char *key)
{
    while (isspace((unsigned char)*key))
        key++;
    return !*key || is_word(key, "Backlog") || is_word(key, "if");
}

/* The members of the object the body holds; *several: one may run several commands. */
static unsigned body_members(const uint8_t *data, size_t size, bool *several)
{
    static char key[4096];
    struct json_reader r;
    unsigned n = 0;
    *several = false;
    jr_init(&r, (const char *)data, size);
    FUZZ_CHECK(jr_object_begin(&r));
    while (jr_object_next(&r, key, sizeof key) && jr_skip(&r)) {
        *several |= may_run_several(key);
        n++;
    }
    return n;
}

/* One reply: an object; whether it says the command failed. */
static bool reply_failed(struct json_reader *r)
{
    bool failed = strncmp(r->pos, "{\"Command\":", 11) == 0; /* "Error" or "Unknown" */
    FUZZ_CHECK(jr_peek(r) == JSON_OBJECT && jr_skip(r));
    return failed;
}

/* Checks the reply of a body that ran; returns whether every command it
 * ran failed.  Listed results have every command's reply; counts are per
 * member, and a member that failed in part counts as failed, so with one
 * that may run several commands in the body counts cannot tell. */
static bool check_results(int status, unsigned sent, bool several)
{
    size_t len;
    const char *body = response_body(&len);
    struct json_reader r;
    jr_init(&r, body, len);
    bool valid = jr_skip(&r) && jr_finished(&r);
    if (!valid)
        fprintf(stderr, "reply is not valid JSON (%s): %s\n", r.error, body);
    FUZZ_CHECK(valid);
    jr_init(&r, body, len);
    char key[40];
    unsigned members = 0, failed = 0, commands = 0, commands_failed = 0;
    int ok = -1;
    bool counted = false;
    FUZZ_CHECK(jr_object_begin(&r));
    while (jr_object_next(&r, key, sizeof key)) {
        if (strcmp(key, "ok") == 0) {
            enum json_type type = jr_peek(&r);
            FUZZ_CHECK((type == JSON_TRUE || type == JSON_FALSE) && jr_skip(&r));
            ok = type == JSON_TRUE;
            continue;
        }
        if (strcmp(key, "members") == 0 || strcmp(key, "failed") == 0) { /* results too many to list */
            FUZZ_CHECK(jr_peek(&r) == JSON_NUMBER);
            *(strcmp(key, "members") == 0 ? &members : &failed) = (unsigned)strtoul(r.pos, NULL, 10);
            counted = true;
            FUZZ_CHECK(jr_skip(&r));
            continue;
        }
        FUZZ_CHECK(strcmp(key, "results") == 0);
        if (jr_peek(&r) == JSON_STRING) {
            FUZZ_CHECK(jr_skip(&r));
            continue;
        }
        FUZZ_CHECK(jr_object_begin(&r));
        while (jr_object_next(&r, key, sizeof key)) {
            members++;
            unsigned replies = 0, replies_failed = 0;
            if (jr_peek(&r) == JSON_ARRAY) { /* the writer's: no white space; the reply is valid JSON */
                do {
                    r.pos++; /* '[' or ',' */
                    replies++;
                    replies_failed += reply_failed(&r);
                } while (*r.pos == ',');
                FUZZ_CHECK(*r.pos++ == ']' && replies >= 2);
            } else {
                replies = 1;
                replies_failed = reply_failed(&r);
            }
            commands += replies;
            commands_failed += replies_failed;
            failed += replies_failed > 0;
        }
    }
    FUZZ_CHECK(!jr_failed(&r));
    if (ok != (status == 200))
        fprintf(stderr, "status %d, \"ok\" %d, %u of %u members failed: %s\n", status, ok, failed, members, body);
    FUZZ_CHECK(ok == (status == 200));
    FUZZ_CHECK(status == 200 ? failed == 0 : failed > 0);
    if (members != sent)
        fprintf(stderr, "%u members sent, %u results: %s\n", sent, members, body);
    FUZZ_CHECK(members == sent);
    return counted ? failed == members && !several : commands_failed == commands;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    boot_once();
    fake_flash_power_on();
    reset_device();
    char clear[] = "WebPassword 0";
    cmd_execute(clear, SOURCE_BOOT, ignore_reply, NULL);
    struct config before = *config_get();
    unsigned states = relay_states();
    reply.len = 0;
    reply.closed = false;

    char head[160];
    int head_len = snprintf(head, sizeof head,
                            "POST /api/config HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                            "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                            size);
    int fd = loopback_connect(http_port());
    volatile uint32_t reboot_reason = 0;
    volatile int phase = 0;
    volatile unsigned turns = 0;
    fake_reboot_jump = &reboot_jump;
    if (setjmp(reboot_jump))
        reboot_reason = fake_reboot_reason; /* a planned restart or factory reset ran: the plug goes on */
    if (phase == 0) {
        phase = 1;
        loopback_send(fd, head, (size_t)head_len, &reply);
        loopback_send(fd, data, size, &reply);
    }
    for (int i = 0; phase == 1 && i < 100 && !reply.closed; i++) {
        loop_turn(1);
        loopback_drain(fd, &reply);
        if (i % 10 == 9)
            fake_time_advance_us(3000000);
    }
    if (phase == 1) {
        phase = 2;
        FUZZ_CHECK(reply.closed && reply.len >= 13 && memcmp(reply.text, "HTTP/1.1 ", 9) == 0);
        int status = atoi(reply.text + 9);
        bool nothing_done = status != 200 && status != 422;
        if (!nothing_done) {
            bool several;
            unsigned sent = body_members(data, size, &several);
            nothing_done = check_results(status, sent, several);
        }
        if (nothing_done) {
            if (memcmp(&before, config_get(), sizeof before) != 0 || states != relay_states())
                fprintf(stderr, "status %d, nothing accepted, but the %s changed\n", status,
                        states != relay_states() ? "relays" : "settings");
            FUZZ_CHECK(memcmp(&before, config_get(), sizeof before) == 0);
            FUZZ_CHECK(states == relay_states());
        }
        check_config(config_get());
        check_text_settings(config_get());
        close(fd);
    }
    uint64_t until = hal_time_ms() + LOOP_MS;
    while (hal_time_ms() < until && turns < LOOP_TURNS) {
        turns++;
        sched_run_once(FIRMWARE_TICK_MS);
    }
    fake_reboot_jump = NULL;

    /* The settings survive a reboot as they are (a factory reset: none). */
    check_config(config_get());
    check_text_settings(config_get());
    struct config in_use = *config_get();
    bool factory_reset = reboot_reason && (reboot_reason >> 4 & 0xF) == RESTART_FACTORY_RESET;
    bool loaded = config_load();
    bool same = memcmp(&in_use, config_get(), sizeof in_use) == 0;
    if (factory_reset ? loaded : !loaded || !same)
        fprintf(stderr, "reboot reason 0x%lx: the settings were %sloaded%s\n", (unsigned long)reboot_reason,
                loaded ? "" : "not ", loaded && !same ? " but differ from those in use" : "");
    FUZZ_CHECK(factory_reset ? !loaded : loaded && same);
    return 0;
}
