/*
 * script_events.c — the event tables of scripts: addEventHandler,
 * addRepeatingEvent, addClockEvent, listEvents, clearEvents.
 *
 * Handlers listen to src/core/events.h and queue their command as a run
 * (script.h); they never execute it from inside the event.  Power
 * thresholds fire on the crossing only (the first report just sets the
 * side).  Clock events fire once per local day at their second, if it
 * falls on a day of their mask (bit 0 Sunday … bit 6 Saturday): a local
 * time that a DST change skips does not fire that day, one it repeats
 * fires once.  The tables are fixed arrays: a full table is an error, so
 * thousands of addEventHandler cannot eat memory.
 */
#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/energy/limits.h"
#include "core/energy/meter.h"
#include "core/events.h"
#include "core/log.h"
#include "core/sched.h"
#include "core/script/script.h"
#include "core/script/script_internal.h"
#include "core/script/clock_match.h"
#include "core/cmd/cmd_setting.h"
#include "core/storage/config.h"
#include "core/timekeeping.h"
#include "core/io/button.h"
#include "hal/hal.h"

#define HANDLERS_MAX 16
#define REPEATS_MAX 8
#define CLOCKS_MAX 8

enum handler_kind {
    ON_CLICK,
    ON_DBLCLICK,
    ON_HOLD,
    ON_CHANNEL_CHANGE,
    ON_POWER_ABOVE,
    ON_POWER_BELOW,
    ON_TIMER,
    ON_LIMIT,     /* a limits.h margin crossed or cut-off tripped; arg the enum limit_id */
    ON_LIMIT_OFF, /* … back within it, or the latch ended */
    ON_MQTT_ON,
    ON_MQTT_OFF,
    ON_WIFI_UP,
    ON_WIFI_DOWN,
    HANDLER_KINDS
};
static const char *const kind_names[HANDLER_KINDS] = {
    "OnClick", "OnDblClick", "OnHold", "OnChannelChange", "OnPowerAbove", "OnPowerBelow", "OnTimer",
    "OnLimit", "OnLimitOff", "OnMQTTOn", "OnMQTTOff", "OnWiFiUp", "OnWiFiDown",
};

struct handler {
    bool used, disabled;
    uint8_t kind;
    int8_t power_side; /* power events: -1 unknown, 0 at or below, 1 above */
    int32_t arg;       /* pin, channel or watts; ignored by link events */
    uint16_t id;
    uint16_t window_count;
    uint64_t window_start_ms;
    char command[SCRIPT_CMD_MAX];
};

struct repeat {
    bool used;
    uint16_t id;
    int32_t times_left; /* -1 forever */
    uint32_t period_ms;
    struct sched_timer timer;
    char command[SCRIPT_CMD_MAX];
};

struct clock_event {
    bool used;
    uint16_t id;
    uint8_t days;
    uint8_t sun;          /* enum sun_kind: second_of_day is then the offset from it */
    int32_t second_of_day;
    int32_t fired_day; /* local day it last fired, -1 never */
    char command[SCRIPT_CMD_MAX];
};

static struct handler handlers[HANDLERS_MAX];
static struct repeat repeats[REPEATS_MAX];
static struct clock_event clocks[CLOCKS_MAX];
static uint16_t next_id = 1;
static struct sched_timer clock_timer;
static struct event_listener listener;
static int wifi_was = -1;
static uint32_t runaways;

/* ---- Firing ---- */

static void queue(const char *label, const char *command)
{
    script_queue_text(label, command);
}

/* A handler's firings are counted per second of uptime: too many, and it
 * is disabled (a script that triggers itself). */
static bool runaway(struct handler *h)
{
    uint64_t now = hal_time_ms();
    if (now - h->window_start_ms >= 1000) {
        h->window_start_ms = now;
        h->window_count = 0;
    }
    if (++h->window_count <= SCRIPT_RUNAWAY_PER_S)
        return false;
    h->disabled = true;
    runaways++;
    LOG_ERR("SCR", "handler #%u %s %ld fired more than %d times in a second: disabled (a script loop?)", h->id,
            kind_names[h->kind], (long)h->arg, SCRIPT_RUNAWAY_PER_S);
    return true;
}

static void fire(struct handler *h)
{
    if (h->disabled || runaway(h))
        return;
    char label[40];
    snprintf(label, sizeof label, "#%u %s %ld", h->id, kind_names[h->kind], (long)h->arg);
    queue(label, h->command);
}

static bool matches(struct handler *h, const struct event *e)
{
    switch (h->kind) {
    case ON_CLICK: return e->type == EVENT_BUTTON && e->value == BUTTON_CLICK && e->pin == h->arg;
    case ON_DBLCLICK: return e->type == EVENT_BUTTON && e->value == BUTTON_DOUBLE && e->pin == h->arg;
    case ON_HOLD: return e->type == EVENT_BUTTON && e->value == BUTTON_LONG && e->pin == h->arg;
    case ON_CHANNEL_CHANGE: return e->type == EVENT_CHANNEL && e->channel == h->arg;
    case ON_TIMER: return e->type == EVENT_TIMER && e->value == h->arg;
    case ON_LIMIT: return e->type == EVENT_LIMIT && e->channel == h->arg && e->value == LIMIT_ON;
    case ON_LIMIT_OFF: return e->type == EVENT_LIMIT && e->channel == h->arg && e->value == LIMIT_OFF;
    case ON_MQTT_ON: return e->type == EVENT_MQTT && e->value == 1;
    case ON_MQTT_OFF: return e->type == EVENT_MQTT && e->value == 0;
    case ON_WIFI_UP: return e->type == EVENT_WIFI && e->value == HAL_WIFI_CONNECTED;
    case ON_WIFI_DOWN: return e->type == EVENT_WIFI && wifi_was == HAL_WIFI_CONNECTED && e->value != wifi_was;
    default: return false;
    }
}

/* Power thresholds: fire when the reading crosses to the handler's side. */
static void power_changed(struct handler *h)
{
    const struct meter_reading *v = meter_reading();
    if (!v->valid)
        return;
    int8_t side = v->power_w > (float)h->arg;
    int8_t before = h->power_side;
    h->power_side = side;
    if (before < 0 || before == side)
        return;
    if ((h->kind == ON_POWER_ABOVE && side) || (h->kind == ON_POWER_BELOW && !side))
        fire(h);
}

static void on_event(const struct event *e, void *arg)
{
    (void)arg;
    for (unsigned i = 0; i < HANDLERS_MAX; i++) {
        struct handler *h = &handlers[i];
        if (!h->used)
            continue;
        if (e->type == EVENT_SENSORS && (h->kind == ON_POWER_ABOVE || h->kind == ON_POWER_BELOW))
            power_changed(h);
        else if (matches(h, e))
            fire(h);
    }
    if (e->type == EVENT_WIFI)
        wifi_was = e->value;
    if (e->type == EVENT_CLOCK && clock_timer.armed) /* set, stepped, new zone: look again now */
        sched_timer_start(&clock_timer, 0, 0);
}

static void repeat_due(void *arg)
{
    struct repeat *r = arg;
    char label[40];
    snprintf(label, sizeof label, "#%u repeating event", r->id);
    queue(label, r->command);
    if (r->times_left > 0 && --r->times_left == 0) {
        sched_timer_stop(&r->timer);
        r->used = false;
    }
}

/* The event's local second on `day`, -1 if it has none that day. */
static int32_t event_second(const struct clock_event *c, int64_t day)
{
    return clock_match_second(c->sun, c->second_of_day, day);
}

static void clock_check(void *arg)
{
    (void)arg;
    struct script_clock now;
    uint32_t wait_ms = CLOCK_MATCH_LOOK_S * 1000u;
    bool any = false;
    bool known = script_local_now(&now);
    for (unsigned i = 0; i < CLOCKS_MAX; i++) {
        struct clock_event *c = &clocks[i];
        if (!c->used)
            continue;
        any = true;
        if (known && clock_match_due(event_second(c, now.day), c->days, &now, &c->fired_day, &wait_ms)) {
            char label[40];
            snprintf(label, sizeof label, "#%u clock event", c->id);
            queue(label, c->command);
        }
    }
    if (any)
        sched_timer_start(&clock_timer, known ? clock_match_on_the_second(wait_ms) : wait_ms, 0);
}

/* ---- Parsing the commands ---- */

static int kind_by_name(const char *name)
{
    for (int k = 0; k < HANDLER_KINDS; k++)
        if (strcasecmp(name, kind_names[k]) == 0)
            return k;
    return -1;
}

static bool takes_no_arg(int kind) { return kind >= ON_MQTT_ON; }

/* The stored command: the rest of the line, unquoted, within size. */
static enum cmd_result take_command(struct cmd_ctx *ctx, char *rest, char *out)
{
    while (isspace((unsigned char)*rest))
        rest++;
    size_t n = strlen(rest);
    if (n >= 2 && rest[0] == '"' && rest[n - 1] == '"') {
        rest[--n] = '\0';
        rest++;
        n--;
    }
    if (!n)
        return cmd_error(ctx, "%s: no command given", ctx->name);
    if (n >= SCRIPT_CMD_MAX)
        return cmd_error(ctx, "%s: command longer than %d characters", ctx->name, SCRIPT_CMD_MAX - 1);
    memcpy(out, rest, n + 1);
    return CMD_DONE;
}

static enum cmd_result cmd_add_event_handler(struct cmd_ctx *ctx)
{
    char *cursor = ctx->arg;
    const char *name = cmd_next_word(&cursor);
    int kind = kind_by_name(name);
    if (kind < 0)
        return cmd_error(ctx, "addEventHandler: unknown event '%.24s' (OnClick, OnDblClick, OnHold, OnChannelChange, "
                              "OnPowerAbove, OnPowerBelow, OnTimer, OnLimit, OnLimitOff, OnMQTTOn, OnMQTTOff, OnWiFiUp, "
                              "OnWiFiDown)", name);
    long arg = 0;
    char word[16];
    size_t word_len = 0;
    while (isspace((unsigned char)*cursor))
        cursor++;
    while (cursor[word_len] && !isspace((unsigned char)cursor[word_len]) && word_len < sizeof word - 1) {
        word[word_len] = cursor[word_len];
        word_len++;
    }
    word[word_len] = '\0';
    if (kind == ON_LIMIT || kind == ON_LIMIT_OFF) {
        arg = limit_by_name(word);
        if (arg < 0)
            return cmd_error(ctx, "addEventHandler %s: expected a limit (PowerLow, PowerHigh, VoltageLow, VoltageHigh, "
                                  "CurrentLow, CurrentHigh, MaxPower, MaxEnergy, MaxVoltage, MinVoltage)", kind_names[kind]);
        cursor += word_len;
    } else if (cmd_parse_long(word, 0, 100000, &arg))
        cursor += word_len;
    else if (!takes_no_arg(kind)) /* OnWiFiUp Power on: no argument needed */
        return cmd_error(ctx, "addEventHandler %s: expected a number (%s) before the command", kind_names[kind],
                         kind <= ON_HOLD              ? "the button's GPIO"
                         : kind == ON_CHANNEL_CHANGE ? "a channel"
                         : kind == ON_TIMER          ? "the timer, 1 .. 16"
                                                     : "watts");
    if (kind == ON_TIMER && (arg < 1 || arg > CONFIG_TIMERS))
        return cmd_error(ctx, "addEventHandler OnTimer: expected the timer, 1 .. %d", CONFIG_TIMERS);
    struct handler *slot = NULL;
    for (unsigned i = 0; i < HANDLERS_MAX && !slot; i++)
        if (!handlers[i].used)
            slot = &handlers[i];
    if (!slot)
        return cmd_error(ctx, "addEventHandler: all %d handlers in use (clearEvents)", HANDLERS_MAX);
    struct handler h = {.used = true, .kind = (uint8_t)kind, .arg = (int32_t)arg, .power_side = -1};
    if (take_command(ctx, cursor, h.command) != CMD_DONE)
        return CMD_FAILED;
    h.id = next_id++;
    *slot = h;
    jw_int(ctx->reply, "addEventHandler", h.id);
    return CMD_DONE;
}

static enum cmd_result cmd_add_repeating_event(struct cmd_ctx *ctx)
{
    char *cursor = ctx->arg;
    float seconds;
    long times;
    if (!cmd_parse_float(cmd_next_word(&cursor), 1, 86400, &seconds) ||
        !cmd_parse_long(cmd_next_word(&cursor), -1, 1000000, &times) || times == 0)
        return cmd_error(ctx, "addRepeatingEvent: expected <seconds 1 .. 86400> <times, -1 = forever> <command>");
    struct repeat *slot = NULL;
    for (unsigned i = 0; i < REPEATS_MAX && !slot; i++)
        if (!repeats[i].used)
            slot = &repeats[i];
    if (!slot)
        return cmd_error(ctx, "addRepeatingEvent: all %d repeating events in use (clearEvents)", REPEATS_MAX);
    char command[SCRIPT_CMD_MAX];
    if (take_command(ctx, cursor, command) != CMD_DONE)
        return CMD_FAILED;
    *slot = (struct repeat){.used = true, .id = next_id++, .times_left = (int32_t)times,
                            .period_ms = (uint32_t)(seconds * 1000.0f + 0.5f)};
    memcpy(slot->command, command, sizeof command);
    sched_timer_init(&slot->timer, repeat_due, slot);
    sched_timer_start(&slot->timer, slot->period_ms, slot->period_ms);
    jw_int(ctx->reply, "addRepeatingEvent", slot->id);
    return CMD_DONE;
}

/* sunrise / sunset, alone or with +HH:MM / -HH:MM: the kind and the
 * offset in seconds; SUN_NONE if the text is neither. */
static enum sun_kind parse_sun(const char *text, int32_t *offset_s, bool *ok)
{
    enum sun_kind kind = strncasecmp(text, "sunrise", 7) == 0 ? SUN_RISE
                         : strncasecmp(text, "sunset", 6) == 0 ? SUN_SET : SUN_NONE;
    *ok = kind != SUN_NONE;
    *offset_s = 0;
    if (kind == SUN_NONE)
        return kind;
    const char *rest = text + (kind == SUN_RISE ? 7 : 6);
    if (!*rest)
        return kind;
    int h = 0, m = 0, used = 0;
    *ok = (*rest == '+' || *rest == '-') && sscanf(rest + 1, "%2d:%2d%n", &h, &m, &used) == 2 && !rest[1 + used] &&
          used == 5 && h >= 0 && h <= 12 && m >= 0 && m <= 59;
    *offset_s = (*rest == '-' ? -1 : 1) * (h * 3600 + m * 60);
    return kind;
}

static enum cmd_result cmd_add_clock_event(struct cmd_ctx *ctx)
{
    char *cursor = ctx->arg;
    const char *when = cmd_next_word(&cursor);
    bool sun_ok;
    int32_t sod;
    enum sun_kind sun = parse_sun(when, &sod, &sun_ok);
    if (sun == SUN_NONE)
        sod = clock_match_parse_time(when);
    else if (!sun_ok)
        sod = -1;
    const char *mask_text = cmd_next_word(&cursor);
    char *end;
    unsigned long mask = strtoul(mask_text, &end, 0);
    if ((sun == SUN_NONE && sod < 0) || (sun != SUN_NONE && !sun_ok) || end == mask_text || *end || mask > 0xFF ||
        !(mask & 0x7F))
        return cmd_error(ctx, "addClockEvent: expected <HH:MM[:SS] | sunrise[+-HH:MM] | sunset[+-HH:MM]> <days mask, "
                              "bit 0 Sunday .. bit 6 Saturday, 0x7F every day> <command>");
    if (sun != SUN_NONE && !clock_match_location_set())
        return cmd_error(ctx, "addClockEvent: set Latitude and Longitude first (sunrise and sunset depend on them)");
    struct clock_event *slot = NULL;
    for (unsigned i = 0; i < CLOCKS_MAX && !slot; i++)
        if (!clocks[i].used)
            slot = &clocks[i];
    if (!slot)
        return cmd_error(ctx, "addClockEvent: all %d clock events in use (clearEvents)", CLOCKS_MAX);
    char command[SCRIPT_CMD_MAX];
    if (take_command(ctx, cursor, command) != CMD_DONE)
        return CMD_FAILED;
    *slot = (struct clock_event){.used = true, .id = next_id++, .days = (uint8_t)(mask & 0x7F), .sun = (uint8_t)sun,
                                 .second_of_day = sod, .fired_day = -1};
    memcpy(slot->command, command, sizeof command);
    struct script_clock now;
    if (script_local_now(&now) && event_second(slot, now.day) == now.second_of_day)
        slot->fired_day = (int32_t)now.day; /* added at its own second: from tomorrow */
    sched_timer_start(&clock_timer, 0, 0);
    jw_int(ctx->reply, "addClockEvent", slot->id);
    if (!script_local_now(&now))
        jw_string(ctx->reply, "Note", "the clock is not set yet: it fires once the time is known");
    return CMD_DONE;
}

/* ---- Listing and clearing ---- */

static bool room_left(const struct json_writer *w) { return w->cap - w->len > 2 * SCRIPT_CMD_MAX + 64; }

static void list_handlers(struct json_writer *w, unsigned *left_out)
{
    jw_array_begin(w, "Handlers");
    for (unsigned i = 0; i < HANDLERS_MAX; i++) {
        const struct handler *h = &handlers[i];
        if (!h->used)
            continue;
        if (!room_left(w)) {
            (*left_out)++;
            continue;
        }
        jw_object_begin(w, NULL);
        jw_int(w, "Id", h->id);
        jw_string(w, "Event", kind_names[h->kind]);
        if (h->kind == ON_LIMIT || h->kind == ON_LIMIT_OFF)
            jw_string(w, "Arg", limit_name((enum limit_id)h->arg));
        else
            jw_int(w, "Arg", h->arg);
        jw_string(w, "Command", h->command);
        if (h->disabled)
            jw_bool(w, "Disabled", true);
        jw_object_end(w);
    }
    jw_array_end(w);
}

static void list_repeats(struct json_writer *w, unsigned *left_out)
{
    jw_array_begin(w, "Repeating");
    for (unsigned i = 0; i < REPEATS_MAX; i++) {
        const struct repeat *r = &repeats[i];
        if (!r->used)
            continue;
        if (!room_left(w)) {
            (*left_out)++;
            continue;
        }
        jw_object_begin(w, NULL);
        jw_int(w, "Id", r->id);
        jw_fixed(w, "Seconds", r->period_ms, 3);
        jw_int(w, "TimesLeft", r->times_left);
        jw_string(w, "Command", r->command);
        jw_object_end(w);
    }
    jw_array_end(w);
}

static void list_clocks(struct json_writer *w, unsigned *left_out)
{
    jw_array_begin(w, "Clock");
    for (unsigned i = 0; i < CLOCKS_MAX; i++) {
        const struct clock_event *c = &clocks[i];
        if (!c->used)
            continue;
        if (!room_left(w)) {
            (*left_out)++;
            continue;
        }
        char time[24];
        int32_t t = c->second_of_day < 0 ? -c->second_of_day : c->second_of_day;
        if (c->sun)
            snprintf(time, sizeof time, "%s%c%02d:%02d", c->sun == SUN_RISE ? "sunrise" : "sunset",
                     c->second_of_day < 0 ? '-' : '+', (int)(t / 3600), (int)(t / 60 % 60));
        else
            snprintf(time, sizeof time, "%02d:%02d:%02d", (int)(t / 3600), (int)(t / 60 % 60), (int)(t % 60));
        jw_object_begin(w, NULL);
        jw_int(w, "Id", c->id);
        jw_string(w, "Time", time);
        jw_int(w, "Days", c->days);
        jw_string(w, "Command", c->command);
        jw_object_end(w);
    }
    jw_array_end(w);
}

static enum cmd_result cmd_list_events(struct cmd_ctx *ctx)
{
    unsigned left_out = 0;
    struct script_stats s;
    script_get_stats(&s);
    jw_object_begin(ctx->reply, "Events");
    list_handlers(ctx->reply, &left_out);
    list_repeats(ctx->reply, &left_out);
    list_clocks(ctx->reply, &left_out);
    if (left_out)
        jw_int(ctx->reply, "NotShown", left_out);
    jw_int(ctx->reply, "Queued", s.queued);
    jw_int(ctx->reply, "Commands", s.commands);
    jw_int(ctx->reply, "Errors", s.errors);
    jw_int(ctx->reply, "Dropped", s.dropped);
    jw_int(ctx->reply, "Runaways", s.runaways);
    jw_object_end(ctx->reply);
    return CMD_DONE;
}

static enum cmd_result cmd_clear_events(struct cmd_ctx *ctx)
{
    unsigned cleared = 0;
    for (unsigned i = 0; i < HANDLERS_MAX; i++) {
        cleared += handlers[i].used;
        handlers[i].used = false;
    }
    for (unsigned i = 0; i < REPEATS_MAX; i++) {
        cleared += repeats[i].used;
        if (repeats[i].used)
            sched_timer_stop(&repeats[i].timer);
        repeats[i].used = false;
    }
    for (unsigned i = 0; i < CLOCKS_MAX; i++) {
        cleared += clocks[i].used;
        clocks[i].used = false;
    }
    sched_timer_stop(&clock_timer);
    jw_int(ctx->reply, "clearEvents", cleared);
    return CMD_DONE;
}

/* Latitude / Longitude: degrees with up to 6 decimals, kept in
 * microdegrees at `offset` in struct config. */
static enum cmd_result location_setting(struct cmd_ctx *ctx, size_t offset, double limit)
{
    int32_t value;
    if (*ctx->arg) {
        char *end;
        double degrees = strtod(ctx->arg, &end);
        if (end == ctx->arg || *end || !(degrees >= -limit && degrees <= limit))
            return cmd_error(ctx, "%s: expected degrees, -%.0f .. %.0f (north / east positive)", ctx->name, limit,
                             limit);
        struct config *next = config_edit();
        value = (int32_t)(degrees * 1e6 + (degrees < 0 ? -0.5 : 0.5));
        memcpy((uint8_t *)next + offset, &value, sizeof value);
        if (cmd_setting_save(ctx, next) != CMD_DONE)
            return CMD_FAILED;
    }
    memcpy(&value, (const uint8_t *)config_get() + offset, sizeof value);
    jw_fixed(ctx->reply, ctx->name, value, 6);
    return CMD_DONE;
}

static enum cmd_result cmd_latitude(struct cmd_ctx *ctx)
{
    return location_setting(ctx, offsetof(struct config, automation.latitude_e6), 90);
}

static enum cmd_result cmd_longitude(struct cmd_ctx *ctx)
{
    return location_setting(ctx, offsetof(struct config, automation.longitude_e6), 180);
}

static const struct cmd_def event_commands[] = {
    {"Latitude", cmd_latitude, 0, "Latitude [degrees north]: where the plug is, for sunrise / sunset clock events"},
    {"Longitude", cmd_longitude, 0, "Longitude [degrees east]: where the plug is, for sunrise / sunset clock events"},
    {"addEventHandler", cmd_add_event_handler, 0,
     "addEventHandler <event> <arg> <command>: OnClick|OnDblClick|OnHold <gpio>, OnChannelChange <ch>, "
     "OnPowerAbove|OnPowerBelow <W>, OnTimer <1..16>, OnMQTTOn|OnMQTTOff|OnWiFiUp|OnWiFiDown"},
    {"addRepeatingEvent", cmd_add_repeating_event, 0,
     "addRepeatingEvent <seconds> <times|-1> <command>: run a command every so many seconds"},
    {"addClockEvent", cmd_add_clock_event, 0,
     "addClockEvent <HH:MM[:SS]> <days mask> <command>: run at a local time (mask bit 0 Sunday, 0x7F daily)"},
    {"listEvents", cmd_list_events, 0, "listEvents: event handlers, repeating and clock events, script figures"},
    {"clearEvents", cmd_clear_events, 0, "clearEvents: remove every event handler, repeating and clock event"},
};
static struct cmd_table event_table;

uint32_t script_events_runaways(void) { return runaways; }

void script_events_register(void)
{
    cmd_register(&event_table, event_commands, sizeof event_commands / sizeof event_commands[0]);
    event_listen(&listener, on_event, NULL);
    sched_timer_init(&clock_timer, clock_check, NULL);
}
