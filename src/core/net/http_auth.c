/*
 * http_auth.c — who may read config or change state over HTTP: the web
 * password (WebPassword, user "admin"), kept only as SHA-256(salt | pw)
 * in config->web and compared in constant time; HTTP Basic auth, Tasmota's
 * /cm?user=&password= and login sessions (a random cookie); a per-address
 * limit on failed attempts; and the same-origin check that defends state
 * changes against cross-site requests (CSRF); the Host names the server
 * answers to (DNS rebinding, WebHosts).  See http.h.
 *
 * Never logged, never echoed: the password itself.  The log says only that
 * a login failed and from where.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/cmd/cmd_setting.h"
#include "core/log.h"
#include "core/net/http.h"
#include "core/net/http_auth.h"
#include "core/net/http_parse.h"
#include "core/net/wifi.h"
#include "core/storage/config.h"
#include "core/util/sha256.h"
#include "hal/hal.h"

#define PASSWORD_MAX 64
#define FAILURES_BEFORE_LOCK 5
#define LOCK_MS 30000u       /* first lock-out; doubles up to LOCK_MAX_MS */
#define LOCK_MAX_MS 900000u
#define TRACKED_ADDRESSES 8

struct failure_record {
    uint32_t ip;
    uint8_t failures;
    uint8_t locks;
    uint64_t locked_until_ms, last_ms;
};

struct session {
    uint8_t token[16];
    uint64_t last_used_ms;
    bool used;
};

static struct failure_record failures[TRACKED_ADDRESSES];
static struct session sessions[HTTP_SESSIONS];

/* ---- The password ---- */

bool http_password_set(void)
{
    static const uint8_t none[32];
    return memcmp(config_get()->web.password_hash, none, sizeof none) != 0;
}

static void hash_password(const uint8_t salt[16], const char *password, size_t len, uint8_t out[32])
{
    struct sha256 ctx;
    sha256_init(&ctx);
    sha256_update(&ctx, salt, 16);
    sha256_update(&ctx, password, len);
    sha256_final(&ctx, out);
}

bool http_password_check(const char *password, size_t len)
{
    uint8_t digest[32];
    const struct config_web *web = &config_get()->web;
    hash_password(web->password_salt, password, len, digest);
    return sha256_equal_ct(digest, web->password_hash, sizeof digest);
}

static void forget_sessions(void) { memset(sessions, 0, sizeof sessions); }

int http_password_store(struct config *next, const char *password)
{
    size_t len = strlen(password);
    if (len > PASSWORD_MAX)
        return -1;
    if (!len) {
        memset(next->web.password_salt, 0, sizeof next->web.password_salt);
        memset(next->web.password_hash, 0, sizeof next->web.password_hash);
        return 0;
    }
    hal_random_secret(next->web.password_salt, sizeof next->web.password_salt);
    hash_password(next->web.password_salt, password, len, next->web.password_hash);
    return 0;
}

/* WebPassword <pw>: set (""/0 clears); no argument: "****" or "". */
static enum cmd_result cmd_web_password(struct cmd_ctx *ctx)
{
    if (*ctx->arg) {
        const char *text = strcmp(ctx->arg, "\"\"") == 0 || strcmp(ctx->arg, "0") == 0 ? "" : ctx->arg;
        struct config *next = config_edit();
        if (http_password_store(next, text) != 0)
            return cmd_error(ctx, "WebPassword: at most %d characters", PASSWORD_MAX);
        if (cmd_setting_save(ctx, next) != CMD_DONE)
            return CMD_FAILED;
        forget_sessions();
        LOG_INF("HTTP", "web password %s (%s)", *text ? "set" : "cleared", source_name(ctx->source));
    }
    jw_string(ctx->reply, "WebPassword", http_password_set() ? "****" : "");
    return CMD_DONE;
}

static enum cmd_result cmd_web_hosts(struct cmd_ctx *ctx);

static const struct cmd_def auth_commands[] = {
    {"WebPassword", cmd_web_password, 0, "WebPassword <password>: protect the web UI and API (user admin); 0 clears"},
    {"WebHosts", cmd_web_hosts, 0,
     "WebHosts <name> [name ...]: host names the web server answers to besides its addresses and its own name; 0 clears"},
};

void http_auth_register(void)
{
    static struct cmd_table table;
    cmd_register(&table, auth_commands, sizeof auth_commands / sizeof auth_commands[0]);
}

/* ---- Failed attempts ----
 *
 * TRACKED_ADDRESSES records, one per address that failed lately.  A
 * record that is locked out is never given to another address; when an
 * unlocked one is, its failures go to `others`, the record shared by every
 * address without one of its own.  So failures spread over many addresses
 * still add up to a lock-out (of the addresses without a record), and the
 * count never starts again from 0 by rotating addresses. */

static struct failure_record others;

static bool locked_now(const struct failure_record *r, uint64_t now) { return r->locked_until_ms > now; }

static void count_failure(struct failure_record *r, uint64_t now, unsigned count)
{
    r->last_ms = now ? now : 1; /* 0 marks a free record */
    r->failures = (uint8_t)(r->failures + count);
    if (r->failures >= FAILURES_BEFORE_LOCK) {
        uint32_t lock = LOCK_MS << (r->locks < 5 ? r->locks : 5);
        r->locked_until_ms = now + (lock < LOCK_MAX_MS ? lock : LOCK_MAX_MS);
        if (r->locks < 255)
            r->locks++;
        r->failures = 0;
    }
}

static struct failure_record *record_of(uint32_t ip)
{
    for (int i = 0; i < TRACKED_ADDRESSES; i++)
        if (failures[i].last_ms && failures[i].ip == ip)
            return &failures[i];
    return NULL;
}

/* A record for ip: its own, a free one, or the oldest unlocked one (its
 * failures passed on to `others`); `others` when every record is locked. */
static struct failure_record *record_for(uint32_t ip, uint64_t now)
{
    struct failure_record *r = record_of(ip), *victim = NULL;
    if (r)
        return r;
    for (int i = 0; i < TRACKED_ADDRESSES; i++) {
        struct failure_record *f = &failures[i];
        if (!f->last_ms) {
            victim = f;
            break;
        }
        if (!locked_now(f, now) && (!victim || f->last_ms < victim->last_ms))
            victim = f;
    }
    if (!victim)
        return &others;
    if (victim->last_ms && victim->failures)
        count_failure(&others, now, victim->failures);
    memset(victim, 0, sizeof *victim);
    victim->ip = ip;
    return victim;
}

uint32_t http_auth_locked_ms(uint32_t ip)
{
    uint64_t now = hal_time_ms();
    struct failure_record *r = record_of(ip);
    if (!r)
        r = &others;
    return locked_now(r, now) ? (uint32_t)(r->locked_until_ms - now) : 0;
}

void http_auth_failed(uint32_t ip)
{
    uint64_t now = hal_time_ms();
    count_failure(record_for(ip, now), now, 1);
    char address[16];
    wifi_ip_text(ip, address);
    LOG_INF("HTTP", "failed login from %s", address);
}

void http_auth_succeeded(uint32_t ip)
{
    struct failure_record *r = record_of(ip);
    if (r)
        memset(r, 0, sizeof *r);
}

/* ---- Sessions ---- */

static void hex(const uint8_t *bytes, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[bytes[i] >> 4];
        out[2 * i + 1] = digits[bytes[i] & 15];
    }
    out[2 * n] = '\0';
}

void http_session_new(char token_hex[33])
{
    struct session *s = &sessions[0];
    for (int i = 0; i < HTTP_SESSIONS; i++)
        if (!sessions[i].used || sessions[i].last_used_ms < s->last_used_ms)
            s = &sessions[i];
    hal_random_secret(s->token, sizeof s->token);
    s->used = true;
    s->last_used_ms = hal_time_ms();
    hex(s->token, sizeof s->token, token_hex);
}

/* The op_session cookie's value, if the request has one (33 bytes). */
static bool session_cookie(const struct http_request *req, char out[33])
{
    const char *cookies = http_header(req, "Cookie");
    for (const char *p = cookies ? strstr(cookies, HTTP_SESSION_COOKIE "=") : NULL; p;
         p = strstr(p + 1, HTTP_SESSION_COOKIE "=")) {
        if (p != cookies && p[-1] != ' ' && p[-1] != ';')
            continue;
        p += strlen(HTTP_SESSION_COOKIE "=");
        size_t n = strcspn(p, "; ");
        if (n != 32)
            return false;
        memcpy(out, p, 32);
        out[32] = '\0';
        return true;
    }
    return false;
}

static bool session_valid(const struct http_request *req)
{
    char token[33], candidate[33];
    if (!session_cookie(req, token))
        return false;
    uint64_t now = hal_time_ms();
    for (int i = 0; i < HTTP_SESSIONS; i++) {
        struct session *s = &sessions[i];
        if (!s->used)
            continue;
        if (now - s->last_used_ms > HTTP_SESSION_IDLE_MS) {
            s->used = false;
            continue;
        }
        hex(s->token, sizeof s->token, candidate);
        if (sha256_equal_ct((const uint8_t *)candidate, (const uint8_t *)token, 32)) {
            s->last_used_ms = now;
            return true;
        }
    }
    return false;
}

void http_session_end(const struct http_request *req)
{
    char token[33], candidate[33];
    if (!session_cookie(req, token))
        return;
    for (int i = 0; i < HTTP_SESSIONS; i++) {
        hex(sessions[i].token, sizeof sessions[i].token, candidate);
        if (sessions[i].used && strcmp(candidate, token) == 0)
            sessions[i].used = false;
    }
}

/* ---- Checking a request ---- */

/* Credentials of the request: Basic "admin:pw", or on /cm the query.
 * 1 good, 0 none given, -1 wrong. */
static int credentials(const struct http_request *req)
{
    char password[PASSWORD_MAX + 2], user[16];
    const char *auth = http_header(req, "Authorization");
    if (auth && strncasecmp(auth, "Basic ", 6) == 0) {
        unsigned char decoded[96];
        const char *b64 = auth + 6;
        while (*b64 == ' ')
            b64++;
        int n = http_base64_decode(b64, strlen(b64), decoded, sizeof decoded - 1);
        if (n < 0)
            return -1;
        decoded[n] = '\0';
        char *colon = strchr((char *)decoded, ':');
        if (!colon || (size_t)(colon - (char *)decoded) != 5 || strncmp((char *)decoded, "admin", 5) != 0)
            return -1;
        return http_password_check(colon + 1, strlen(colon + 1)) ? 1 : -1;
    }
    if (strcmp(http_path(req), "/cm") == 0 && http_query(req, "password", password, sizeof password)) {
        if (http_query(req, "user", user, sizeof user) && strcmp(user, "admin") != 0)
            return -1;
        return http_password_check(password, strlen(password)) ? 1 : -1;
    }
    return 0;
}

bool http_require_admin(struct http_request *req)
{
    if (!http_password_set())
        return true;
    /* A session (a 128-bit random token) first: a browser already signed in
     * keeps working while someone else's guesses lock addresses out. */
    if (session_valid(req))
        return true;
    uint32_t ip = http_peer_ip(req);
    uint32_t locked = http_auth_locked_ms(ip);
    if (locked) {
        char seconds[12];
        snprintf(seconds, sizeof seconds, "%lu", (unsigned long)(locked + 999) / 1000);
        http_add_header(req, "Retry-After", seconds);
        http_reply_error(req, 429, "too many failed logins: wait and retry");
        return false;
    }
    int verdict = credentials(req);
    if (verdict > 0) {
        http_auth_succeeded(ip);
        return true;
    }
    if (verdict < 0)
        http_auth_failed(ip);
    /* A script of the web UI says so (X-Requested-With): it shows its own
     * sign-in form, so no challenge that would make the browser ask too. */
    if (!http_header(req, "X-Requested-With"))
        http_add_header(req, "WWW-Authenticate", "Basic realm=\"OpenPlug\", charset=\"UTF-8\"");
    http_reply_error(req, 401, verdict < 0 ? "wrong user or password" : "password required (user admin)");
    return false;
}

/* "http://host:port/path" → does host:port equal the Host header? */
static bool names_host(const char *url, const char *host)
{
    const char *p = strstr(url, "://");
    if (!p || !host)
        return false;
    p += 3;
    size_t n = strcspn(p, "/?#");
    return n == strlen(host) && strncasecmp(p, host, n) == 0;
}

bool http_same_origin(const struct http_request *req)
{
    const char *host = http_header(req, "Host");
    const char *site = http_header(req, "Sec-Fetch-Site");
    if (site && strcmp(site, "same-origin") != 0 && strcmp(site, "none") != 0)
        return false;
    const char *origin = http_header(req, "Origin");
    if (origin)
        return strcmp(origin, "null") != 0 && names_host(origin, host);
    const char *referer = http_header(req, "Referer");
    if (referer)
        return names_host(referer, host);
    return true; /* not a browser (curl, scripts): nothing cross-site about it */
}

/* ---- Host names: the DNS-rebinding defence ----
 *
 * A page of evil.example whose name is made to resolve to the plug would
 * be same-origin with it in the browser: the browser then sends
 * "Host: evil.example".  So every request must name the plug: one of its
 * IPv4 addresses, its name (the access point's, "OpenPlug-XXXXXX"), that
 * name under .local, or a name added with WebHosts.  Password or not. */

#define WEB_HOST_MAX 63

static bool same_name(const char *a, size_t a_len, const char *b)
{
    return a_len == strlen(b) && strncasecmp(a, b, a_len) == 0;
}

/* name[0..len) in the space-separated list? */
static bool listed(const char *list, const char *name, size_t len)
{
    for (const char *p = list; *p;) {
        size_t n = strcspn(p, " ");
        if (n == len && strncasecmp(p, name, len) == 0)
            return true;
        p += n;
        p += strspn(p, " ");
    }
    return false;
}

/* name[0..len) as a dotted quad (as wifi_ip_text() writes addresses: no
 * leading zeros), read without formatting anything; 0 if it is none. */
static uint32_t dotted_quad(const char *name, size_t len)
{
    uint32_t value = 0;
    unsigned parts = 0, digits = 0, part = 0;
    for (size_t i = 0; i <= len; i++) {
        char ch = i < len ? name[i] : '.';
        if (ch >= '0' && ch <= '9' && digits < 3 && !(digits == 1 && part == 0)) {
            part = part * 10 + (unsigned)(ch - '0');
            digits++;
        } else if (ch == '.' && digits && part <= 255 && parts < 4) {
            value = value << 8 | part;
            parts++;
            part = digits = 0;
        } else {
            return 0;
        }
    }
    return parts == 4 ? value : 0; /* the same order wifi_ip_text() reads */
}

bool http_host_allowed(const char *host, uint32_t local_ip)
{
    if (!host)
        return true; /* HTTP/1.0 tools; every browser sends Host */
    size_t len = host[0] == '[' ? strcspn(host, "]") + 1 : strcspn(host, ":");
    if (len > strlen(host))
        return false;
    if (len > 1 && host[len - 1] == '.')
        len--; /* "name." is "name" */
    uint32_t ip = dotted_quad(host, len);
    if (ip && (ip == local_ip || ip == hal_wifi_ip()))
        return true;
    const char *ap = wifi_ap_name();
    size_t ap_len = strlen(ap);
    if (same_name(host, len, ap))
        return true;
    if (len == ap_len + 6 && strncasecmp(host, ap, ap_len) == 0 && strncasecmp(host + ap_len, ".local", 6) == 0)
        return true;
    return listed(config_get()->web_hosts.names, host, len);
}

/* A host name: letters, digits, '-' and '.', 1..63 characters, not
 * starting or ending with a dot. */
static bool valid_host_name(const char *name, size_t len)
{
    if (!len || len > WEB_HOST_MAX || name[0] == '.' || name[len - 1] == '.')
        return false;
    for (size_t i = 0; i < len; i++) {
        char ch = name[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '-' ||
              ch == '.'))
            return false;
    }
    return true;
}

/* WebHosts <name> [name …]: the list, replaced; 0 clears; none: show. */
static enum cmd_result cmd_web_hosts(struct cmd_ctx *ctx)
{
    if (*ctx->arg) {
        char names[CONFIG_WEB_HOSTS_SIZE] = "";
        size_t used = 0;
        bool clear = strcmp(ctx->arg, "\"\"") == 0 || strcmp(ctx->arg, "0") == 0;
        for (const char *p = clear ? "" : ctx->arg + strspn(ctx->arg, " ,"); *p;) {
            size_t token = strcspn(p, " ,"), n = token;
            if (n > 1 && p[n - 1] == '.')
                n--; /* "name." is "name", as in a Host header */
            if (!valid_host_name(p, n))
                return cmd_error(ctx, "WebHosts: host names of 1-%d letters, digits, '-' and '.', separated by spaces",
                                 WEB_HOST_MAX);
            if (used + (used ? 1 : 0) + n >= sizeof names)
                return cmd_error(ctx, "WebHosts: at most %d characters in all", CONFIG_WEB_HOSTS_SIZE - 1);
            if (used)
                names[used++] = ' ';
            memcpy(names + used, p, n);
            used += n;
            names[used] = '\0';
            p += token;
            p += strspn(p, " ,");
        }
        struct config *next = config_edit();
        memset(next->web_hosts.names, 0, sizeof next->web_hosts.names);
        memcpy(next->web_hosts.names, names, used);
        if (cmd_setting_save(ctx, next) != CMD_DONE)
            return CMD_FAILED;
        LOG_INF("HTTP", "web server also answers to: %s", used ? names : "(no other names)");
    }
    jw_string(ctx->reply, "WebHosts", config_get()->web_hosts.names);
    return CMD_DONE;
}
