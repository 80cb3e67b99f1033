/*
 * fuzz_web_hosts.c — the Host allow-list (http_host_allowed(), the DNS-
 * rebinding defence) and the WebHosts command's name list, on a firmware
 * booted once on the fake board.
 *
 * Input: a WebHosts argument, a 0xFF byte, then a Host header value (more
 * 0xFF bytes split further Host values).  Properties:
 *   - WebHosts answers one JSON object; refused, it changes no setting;
 *   - accepted, the stored list is names of [A-Za-z0-9.-], 1-63 long, one
 *     space apart, and every one of them is then allowed as a Host, with
 *     or without a port, in any case;
 *   - a Host value is allowed only if it names the plug: its address
 *     (127.0.0.1 here), its access point's name (.local too), or a name of
 *     the list — never anything with a character a host name cannot hold
 *     before the port;
 *   - WebHosts 0 empties the list.
 */
#include <ctype.h>
#include <strings.h>

#include "core/cmd/cmd.h"
#include "core/firmware.h"
#include "core/net/http.h"
#include "core/net/wifi.h"
#include "core/storage/config.h"
#include "fake_hal.h"
#include "fuzz_input.h"

static bool replied, refused;

static void on_reply(const char *json, void *arg)
{
    (void)arg;
    size_t len = strlen(json);
    FUZZ_CHECK(len >= 2 && json[0] == '{' && json[len - 1] == '}');
    replied = true;
    refused = strncmp(json, "{\"Command\":\"Error\"", 18) == 0;
}

static void run(const char *line)
{
    char buf[CMD_LINE_MAX + 1];
    snprintf(buf, sizeof buf, "%s", line);
    replied = refused = false;
    cmd_execute(buf, SOURCE_CONSOLE, on_reply, NULL);
    FUZZ_CHECK(replied);
}

static bool name_char(char c) { return isalnum((unsigned char)c) || c == '-' || c == '.'; }

static void check_list(const char *names)
{
    char host[80];
    for (const char *p = names; *p;) {
        size_t n = strcspn(p, " ");
        FUZZ_CHECK(n >= 1 && n <= 63);
        for (size_t i = 0; i < n; i++)
            FUZZ_CHECK(name_char(p[i]));
        snprintf(host, sizeof host, "%.*s", (int)n, p);
        FUZZ_CHECK(http_host_allowed(host, 0));
        snprintf(host, sizeof host, "%.*s:8080", (int)n, p);
        for (char *c = host; *c; c++)
            *c = (char)toupper((unsigned char)*c);
        FUZZ_CHECK(http_host_allowed(host, 0));
        p += n;
        if (*p) {
            FUZZ_CHECK(*p == ' ' && p[1] && p[1] != ' ');
            p++;
        }
    }
}

/* Is name[0..len) one the plug answers to (the oracle, written apart)? */
static bool expected(const char *host)
{
    size_t len = strcspn(host, ":");
    if (len > 1 && host[len - 1] == '.')
        len--;
    char name[80];
    if (len >= sizeof name)
        return false;
    memcpy(name, host, len);
    name[len] = '\0';
    char local[80], wifi[16] = "";
    snprintf(local, sizeof local, "%s.local", wifi_ap_name());
    if (hal_wifi_ip())
        wifi_ip_text(hal_wifi_ip(), wifi);
    if (!strcmp(name, "127.0.0.1") || (*wifi && !strcmp(name, wifi)) || !strcasecmp(name, wifi_ap_name()) || !strcasecmp(name, local))
        return true;
    const char *list = config_get()->web_hosts.names;
    for (const char *p = list; *p;) {
        size_t n = strcspn(p, " ");
        if (n == len && !strncasecmp(p, name, n))
            return true;
        p += n + (p[n] == ' ');
    }
    return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool booted;
    if (!booted) {
        fake_flash_blank();
        firmware_boot();
        booted = true;
    }
    run("WebHosts 0");
    FUZZ_CHECK(config_get()->web_hosts.names[0] == '\0');

    const uint8_t *cut = memchr(data, 0xFF, size);
    size_t arg_len = cut ? (size_t)(cut - data) : size;
    char line[CMD_LINE_MAX + 1];
    int n = snprintf(line, sizeof line, "WebHosts %.*s", (int)(arg_len < 200 ? arg_len : 200), (const char *)data);
    if (n > 0 && !memchr(line, '\0', (size_t)n) && !strpbrk(line, "\r\n;")) {
        struct config before = *config_get();
        run(line);
        if (refused)
            FUZZ_CHECK(memcmp(&before, config_get(), sizeof before) == 0);
        check_list(config_get()->web_hosts.names);
    }
    /* Host values after the first 0xFF, one per 0xFF */
    for (const uint8_t *p = cut ? cut + 1 : data + size; p < data + size;) {
        const uint8_t *end = memchr(p, 0xFF, (size_t)(data + size - p));
        size_t len = end ? (size_t)(end - p) : (size_t)(data + size - p);
        char host[256];
        snprintf(host, sizeof host, "%.*s", (int)(len < 255 ? len : 255), (const char *)p);
        bool allowed = http_host_allowed(host, 0x7F000001u);
        if (host[0] != '[')
            FUZZ_CHECK(allowed == expected(host));
        p += len + 1;
    }
    return 0;
}
