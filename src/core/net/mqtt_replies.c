/* mqtt_replies.c — command replies queued and split for MQTT; see mqtt_replies.h. */
#include "mqtt_replies.h"

#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "core/net/mqtt.h"
#include "core/net/mqtt_tasmota.h"
#include "core/util/heap.h"
#include "core/util/json.h"

/* The queue: entries "<suffix>\0<json>\0", oldest first. */
static char *queue;
static size_t queue_len, queue_cap;

static bool send_now(const char *suffix, const char *json)
{
    char topic[MQTT_TOPIC_MAX + 1];
    if (!tasmota_topic_for(PREFIX_STAT, suffix, topic, sizeof topic))
        return true; /* cannot ever be sent: FullTopic too long (refused when set) */
    return mqtt_publish_text(topic, json, 1, false) != MQTT_EBUSY;
}

static bool enqueue(const char *suffix, const char *json, size_t json_len)
{
    size_t suffix_len = strlen(suffix);
    size_t need = queue_len + suffix_len + 1 + json_len + 1;
    if (need > queue_cap) {
        size_t cap = queue_cap ? queue_cap : 2048;
        while (cap < need)
            cap *= 2;
        char *bigger = cap <= MQTT_REPLIES_MAX ? heap_take(cap) : NULL;
        if (!bigger)
            return false;
        if (queue_len)
            memcpy(bigger, queue, queue_len);
        heap_give(queue);
        queue = bigger;
        queue_cap = cap;
    }
    memcpy(queue + queue_len, suffix, suffix_len + 1);
    queue_len += suffix_len + 1;
    memcpy(queue + queue_len, json, json_len);
    queue[queue_len + json_len] = '\0';
    queue_len += json_len + 1;
    return true;
}

static void reply_one(const char *suffix, const char *json, size_t len)
{
    if (len + MQTT_TOPIC_MAX + 8 > MQTT_TX_MAX) { /* would wait for room forever */
        LOG_INF("MQT", "reply on %s dropped: %u bytes do not fit one message", suffix, (unsigned)len);
        return;
    }
    if (!queue_len && len == strlen(json) && send_now(suffix, json))
        return;
    if (!enqueue(suffix, json, len))
        LOG_INF("MQT", "reply on %s dropped: %u bytes of replies wait already", suffix, (unsigned)queue_len);
}

/* Status 0's parts go where Tasmota's Status n would send them. */
static const char *status_suffix(const char *key)
{
    static const struct {
        const char *key, *suffix;
    } parts[] = {{"Status", "STATUS"},      {"StatusPRM", "STATUS1"}, {"StatusFWR", "STATUS2"},
                 {"StatusLOG", "STATUS3"},  {"StatusMEM", "STATUS4"}, {"StatusNET", "STATUS5"},
                 {"StatusMQT", "STATUS6"},  {"StatusTIM", "STATUS7"}, {"StatusSNS", "STATUS10"},
                 {"StatusPTH", "STATUS9"},  {"StatusSTS", "STATUS11"}};
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
        if (strcmp(key, parts[i].key) == 0)
            return parts[i].suffix;
    return NULL;
}

/* The start of the member that follows `pos` (after '{' or a value). */
static const char *member_start(const char *pos)
{
    while (*pos == ' ' || *pos == ',' || *pos == '\n' || *pos == '\t' || *pos == '\r')
        pos++;
    return pos;
}

/* {"key":{a,b,c,…}} as {"key":{a,b}}, {"key":{c,…}}: parts of at most
 * about MQTT_REPLY_SPLIT bytes (Help's list). */
static void reply_split_inner(const char *suffix, struct json_reader *r, const char *key)
{
    char *part = heap_take(MQTT_REPLY_SPLIT + 64);
    if (!part) {
        LOG_INF("MQT", "reply on %s dropped: out of memory", suffix);
        return;
    }
    struct json_writer w;
    jw_init(&w, part, 64);
    jw_string(&w, NULL, key);
    size_t head = w.len + 3; /* {"key":{ */
    memmove(part + 1, part, w.len);
    part[0] = '{';
    memcpy(part + w.len + 1, ":{", 2);
    size_t len = head;
    char inner_key[48];
    jr_object_begin(r);
    for (;;) {
        const char *member = r->pos;
        bool more = jr_object_next(r, inner_key, sizeof inner_key) && jr_skip(r);
        member = member_start(member);
        size_t n = more ? (size_t)(r->pos - member) : 0;
        if (len > head && (!more || len + 1 + n + 2 > MQTT_REPLY_SPLIT)) {
            memcpy(part + len, "}}", 3);
            reply_one(suffix, part, len + 2);
            len = head;
        }
        if (!more)
            break;
        if (n + head + 2 > MQTT_REPLY_SPLIT) {
            LOG_INF("MQT", "reply part %.24s on %s dropped: too long", inner_key, suffix);
            continue;
        }
        if (len > head)
            part[len++] = ',';
        memcpy(part + len, member, n);
        len += n;
    }
    heap_give(part);
}

/* Each top-level member as its own message {member} (a single member that
 * is an object: its members in parts); false (nothing sent) if the reply
 * is not an object of members. */
static bool reply_split(const char *suffix, const char *json)
{
    struct json_reader r;
    char key[24];
    size_t len = strlen(json);
    jr_init(&r, json, len);
    if (!jr_object_begin(&r))
        return false;
    /* One pass to check, one to send: a half-sent reply would mislead. */
    unsigned members = 0;
    bool object = false;
    while (jr_object_next(&r, key, sizeof key) && (object = jr_peek(&r) == JSON_OBJECT, jr_skip(&r)))
        members++;
    if (jr_failed(&r) || members == 0 || (members == 1 && (!object || len <= MQTT_REPLY_SPLIT)))
        return false;
    jr_init(&r, json, len);
    jr_object_begin(&r);
    if (members == 1) {
        jr_object_next(&r, key, sizeof key);
        reply_split_inner(suffix, &r, key);
        return true;
    }
    bool status0 = strcmp(suffix, "STATUS") == 0;
    for (;;) {
        const char *member = r.pos; /* after '{' or the previous value */
        if (!jr_object_next(&r, key, sizeof key))
            break;
        member = member_start(member);
        jr_skip(&r);
        size_t n = (size_t)(r.pos - member);
        char *text = heap_take(n + 3);
        if (!text) {
            LOG_INF("MQT", "reply part %s dropped: out of memory", key);
            continue;
        }
        text[0] = '{';
        memcpy(text + 1, member, n);
        text[n + 1] = '}';
        text[n + 2] = '\0';
        const char *part_suffix = status0 ? status_suffix(key) : NULL;
        reply_one(part_suffix ? part_suffix : suffix, text, n + 2);
        heap_give(text);
    }
    return true;
}

void mqtt_reply(const char *suffix, const char *json)
{
    if ((strcmp(suffix, "STATUS") == 0 || strlen(json) > MQTT_REPLY_SPLIT) && reply_split(suffix, json))
        return;
    reply_one(suffix, json, strlen(json));
}

void mqtt_replies_send(void)
{
    size_t pos = 0;
    while (pos < queue_len) {
        const char *suffix = queue + pos;
        const char *json = suffix + strlen(suffix) + 1;
        if (!send_now(suffix, json))
            break;
        pos = (size_t)(json - queue) + strlen(json) + 1;
    }
    if (pos == queue_len) {
        mqtt_replies_drop();
    } else if (pos) {
        memmove(queue, queue + pos, queue_len - pos);
        queue_len -= pos;
    }
}

void mqtt_replies_drop(void)
{
    heap_give(queue);
    queue = NULL;
    queue_len = queue_cap = 0;
}
