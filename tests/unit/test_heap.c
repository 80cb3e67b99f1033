/*
 * test_heap.c — the core's run-time heap blocks (core/util/heap.h): the
 * count and the budget, and each user's path when the heap is short — an
 * MqttCA draft, the stored CA loaded for TLS, a TLS session, an OTA pull —
 * refused with a clear error, nothing held after it, and every block given
 * back once its work ends.  (HTTP connections: test_http.c.)  Host only:
 * the network modules are not in the RV32 unit build.
 */
#include <string.h>

#include "core/cmd/cmd.h"
#include "core/firmware.h"
#include "core/net/http_get.h"
#include "core/net/mqtt_ca.h"
#include "core/net/tls.h"
#include "core/util/heap.h"
#include "fake_hal.h"
#include "harness.h"

static char replies[4096];

static void collect(const char *json, void *arg)
{
    (void)arg;
    snprintf(replies, sizeof replies, "%s", json);
}

static const char *run(const char *text)
{
    char line[CMD_LINE_MAX + 1];
    snprintf(line, sizeof line, "%s", text);
    replies[0] = '\0';
    cmd_execute(line, SOURCE_CONSOLE, collect, NULL);
    return replies;
}

/* One line of a certificate to MqttCA. */
static const char *mqtt_ca(const char *line)
{
    char text[CMD_LINE_MAX];
    snprintf(text, sizeof text, "MqttCA %s", line);
    return run(text);
}

static uint32_t in_use(void)
{
    struct heap_stats stats;
    heap_get_stats(&stats);
    return stats.in_use;
}

/* A self-signed P-256 CA (openssl req -x509 -newkey ec), line by line. */
static const char *const ca_lines[] = {
    "-----BEGIN CERTIFICATE-----",
    "MIIBjjCCATOgAwIBAgIUKfznwGTQG2+Tb5tdQQdcieQKYA0wCgYIKoZIzj0EAwIw",
    "GzEZMBcGA1UEAwwQT3BlblBsdWcgdGVzdCBDQTAgFw0yNjEyMDQyMDA5MDhaGA8y",
    "MTI2MTExMDIwMDkwOFowGzEZMBcGA1UEAwwQT3BlblBsdWcgdGVzdCBDQTBZMBMG",
    "ByqGSM49AgEGCCqGSM49AwEHA0IABCu8aKTbcpq/kabHu5wA1tRJCtEKkWLC4MOP",
    "XngZGHvYC9nKrKWw3gn/0VZa1bWws1c3gJWiC3fEJKRTlS6LiYijUzBRMB0GA1Ud",
    "DgQWBBS/km7HAVcKKSwn6C80nngmc/tHiTAfBgNVHSMEGDAWgBS/km7HAVcKKSwn",
    "6C80nngmc/tHiTAPBgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0kAMEYCIQC8",
    "VKpkF5MlevYH91l2lOxvnY4aYOyku79mu9jEXr3MeAIhAPdxLAnEz0MH2gyz2/6w",
    "zNNZSnUQRnUoj1Np6l7o+C/E",
    "-----END CERTIFICATE-----",
};
#define CA_LINES (sizeof ca_lines / sizeof ca_lines[0])

static void test_count_and_budget(void)
{
    struct heap_stats before, after;
    heap_get_stats(&before);
    void *a = heap_take(100), *b = heap_take(1000);
    CHECK(a != NULL && b != NULL);
    CHECK(in_use() >= before.in_use + 1100);
    heap_set_budget(in_use() + 50);
    CHECK(heap_take(100) == NULL);
    void *c = heap_take(8);
    CHECK(c != NULL);
    heap_set_budget(0);
    heap_give(a);
    heap_give(b);
    heap_give(c);
    heap_give(NULL);
    heap_get_stats(&after);
    CHECK_EQ(after.in_use, before.in_use);
    CHECK_EQ(after.refused, before.refused + 1);
    CHECK(after.peak >= before.in_use + 1100);
}

static void test_mqtt_ca_draft_and_load(void)
{
    uint32_t base = in_use();
    CHECK_CONTAINS(run("MqttCA"), "\"MqttCA\":\"none\"");

    /* no room for a draft: refused, nothing held, the next BEGIN works */
    heap_set_budget(base + 100);
    CHECK_CONTAINS(mqtt_ca(ca_lines[0]), "MqttCA: out of memory; try again");
    CHECK_EQ(in_use(), base);
    CHECK_CONTAINS(mqtt_ca(ca_lines[1]), "start with the line");
    heap_set_budget(0);

    /* a draft holds one block until its END line, then none */
    CHECK_CONTAINS(mqtt_ca(ca_lines[0]), "receiving");
    uint32_t drafting = in_use();
    CHECK(drafting > base + MQTT_CA_MAX);
    for (size_t i = 1; i + 1 < CA_LINES; i++)
        CHECK_CONTAINS(mqtt_ca(ca_lines[i]), "receiving");
    CHECK_EQ(in_use(), drafting);
    CHECK_CONTAINS(mqtt_ca(ca_lines[CA_LINES - 1]), "\"MqttCA\":\"set (");
    CHECK_EQ(in_use(), base);

    /* loaded for a TLS set-up: a block of its size, given back by the caller */
    char *pem = mqtt_ca_pem_load();
    CHECK(pem != NULL && strncmp(pem, ca_lines[0], strlen(ca_lines[0])) == 0);
    CHECK(in_use() > base && in_use() < base + MQTT_CA_MAX);
    heap_give(pem);
    CHECK_EQ(in_use(), base);

    /* heap short: no CA to trust (the connect fails with that), nothing held */
    heap_set_budget(base + 100);
    CHECK(mqtt_ca_pem_load() == NULL);
    heap_set_budget(0);

    /* a draft abandoned by `MqttCA 0` is given back; the CA is gone */
    mqtt_ca(ca_lines[0]);
    CHECK(in_use() > base);
    CHECK_CONTAINS(run("MqttCA 0"), "\"MqttCA\":\"none\"");
    CHECK_EQ(in_use(), base);

    /* a draft too long is given back */
    mqtt_ca(ca_lines[0]);
    const char *reply = "";
    for (int i = 0; i < 60 && !strstr(reply, "longer than"); i++)
        reply = mqtt_ca(ca_lines[1]);
    CHECK_CONTAINS(reply, "MqttCA: longer than 2560 bytes; start again");
    CHECK_EQ(in_use(), base);
}

static void test_tls_session_short_heap(void)
{
    uint32_t base = in_use();
    char err[64];
    static const uint8_t fingerprint[32] = {1};
    struct tls_trust trust = {.fingerprint = fingerprint, .ca_pem = NULL, .host = "broker"};
    heap_set_budget(base + 100);
    CHECK_EQ(tls_open(-1, &trust, err, sizeof err), -1);
    CHECK_STR(err, "set-up: out of memory");
    heap_set_budget(0);
    tls_close(); /* nothing open: nothing to give back */
    CHECK_EQ(in_use(), base);
}

static void done(int status, const char *error, void *arg)
{
    (void)status;
    (void)error;
    (void)arg;
}
static size_t body(const void *data, size_t len, void *arg)
{
    (void)data;
    (void)arg;
    return len;
}

static void test_ota_pull_short_heap(void)
{
    uint32_t base = in_use();
    char err[64];
    struct http_get_sink sink = {NULL, body, done, NULL};
    heap_set_budget(base + 100);
    CHECK_EQ(http_get_start("http://127.0.0.1:9/fw.bin", &sink, err, sizeof err), -1);
    CHECK_STR(err, "out of memory: try again");
    heap_set_budget(0);
    CHECK_EQ(in_use(), base);
}

int main(void)
{
    fake_flash_blank();
    firmware_boot();
    RUN(test_count_and_budget);
    RUN(test_mqtt_ca_draft_and_load);
    RUN(test_tls_session_short_heap);
    RUN(test_ota_pull_short_heap);
    return harness_report();
}
