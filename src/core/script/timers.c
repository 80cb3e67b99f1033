/*
 * timers.c — Tasmota's Timer1..16 and Timers: the commands with Tasmota's
 * JSON in and out, the packed settings, and firing them from the clock
 * (when a timer is due is clock_match.h's decision, as for clock events).
 * See timers.h.  Not here: the web page (web/timers.js), the script event
 * handlers (script_events.c listens for EVENT_TIMER).
 */
#include "core/script/timers.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/cmd/cmd.h"
#include "core/cmd/cmd_setting.h"
#include "core/io/channels.h"
#include "core/log.h"
#include "core/sched.h"
#include "core/script/clock_match.h"
#include "hal/hal.h"

enum timer_field { F_TIME, F_WINDOW, F_REPEAT, F_DAYS, F_OUTPUT, F_ACTION, F_MODE, F_ENABLE, F_COUNT };
static const uint8_t field_shift[F_COUNT] = {0, 11, 15, 16, 23, 27, 29, 31};
static const uint8_t field_bits[F_COUNT] = {11, 4, 1, 7, 4, 2, 2, 1};

#define NEGATIVE_OFFSET 720 /* Modes 1, 2: a time field of 720 + m is an offset of -m minutes */
#define ACTION_EVENT 3

/* What each timer needs between firings: not kept in the settings. */
static struct {
    int32_t fired_day;    /* local day it last fired, -1 none */
    int8_t window_minutes; /* today's random shift, -Window .. +Window */
} state[CONFIG_TIMERS];
static struct sched_timer check_timer;
static struct event_listener listener;

static uint32_t get(uint32_t timer, enum timer_field f) { return timer >> field_shift[f] & ((1u << field_bits[f]) - 1); }

static uint32_t put(uint32_t timer, enum timer_field f, uint32_t value)
{
    uint32_t mask = ((1u << field_bits[f]) - 1) << field_shift[f];
    return (timer & ~mask) | (value << field_shift[f] & mask);
}

bool timers_valid(const struct config_timers *timers)
{
    for (unsigned i = 0; i < CONFIG_TIMERS; i++)
        if (get(timers->timer[i], F_MODE) > 2 || get(timers->timer[i], F_TIME) > 1439)
            return false;
    return timers->disarmed <= 1;
}

/* ---- When ---- */

static void draw_window(unsigned i, uint32_t timer)
{
    int window = (int)get(timer, F_WINDOW);
    state[i].window_minutes = (int8_t)(window ? (int)(hal_random() % (2u * window + 1)) - window : 0);
}

/* The local second of `day` timer i fires at, -1 none (sun modes only);
 * the random shift stays within the day, as in Tasmota. */
static int32_t timer_second(unsigned i, uint32_t timer, int64_t day)
{
    uint32_t mode = get(timer, F_MODE), minutes = get(timer, F_TIME);
    int32_t offset_s = mode && minutes >= NEGATIVE_OFFSET ? -(int32_t)(minutes - NEGATIVE_OFFSET) * 60
                                                          : (int32_t)minutes * 60;
    int32_t second = clock_match_second((uint8_t)mode, offset_s, day);
    if (second < 0)
        return -1;
    second += state[i].window_minutes * 60;
    return second < 0 ? 0 : second > 86399 ? 86399 : second;
}

static void disarm(unsigned i)
{
    struct config *next = config_edit();
    next->timers.timer[i] = put(next->timers.timer[i], F_ENABLE, 0);
    if (config_update(next) != 0)
        LOG_ERR("TMR", "Timer%u: could not save its disarming (flash error)", i + 1);
}

static void fire(unsigned i, uint32_t timer)
{
    static const char *const actions[] = {"off", "on", "toggle"};
    unsigned output = get(timer, F_OUTPUT) + 1, action = get(timer, F_ACTION);
    if (action == ACTION_EVENT)
        LOG_INF("TMR", "Timer%u: script event OnTimer %u", i + 1, i + 1);
    else
        LOG_INF("TMR", "Timer%u: output %u %s", i + 1, output, actions[action]);
    draw_window(i, timer); /* for its next day */
    if (!get(timer, F_REPEAT))
        disarm(i); /* Repeat 0: once */
    if (action == ACTION_EVENT)
        event_publish(&(struct event){.type = EVENT_TIMER, .value = (int32_t)i + 1, .source = SOURCE_TIMER});
    else if ((action == 2 ? channel_toggle(output, SOURCE_TIMER)
                          : channel_set(output, action == 1, SOURCE_TIMER)) != 0)
        LOG_ERR("TMR", "Timer%u: output %u has no relay or is locked on", i + 1, output);
}

static void check(void *arg)
{
    (void)arg;
    struct script_clock now;
    uint32_t wait_ms = CLOCK_MATCH_LOOK_S * 1000u;
    bool any = false, known = script_local_now(&now);
    for (unsigned i = 0; i < CONFIG_TIMERS; i++) {
        uint32_t timer = config_get()->timers.timer[i];
        if (config_get()->timers.disarmed || !get(timer, F_ENABLE))
            continue;
        any = true;
        if (known && clock_match_due(timer_second(i, timer, now.day), (uint8_t)get(timer, F_DAYS), &now,
                                     &state[i].fired_day, &wait_ms))
            fire(i, timer);
    }
    if (any)
        sched_timer_start(&check_timer, known ? clock_match_on_the_second(wait_ms) : wait_ms, 0);
    else
        sched_timer_stop(&check_timer);
}

/* A timer set now starts afresh: it fires at its next time, not at one
 * that has just passed. */
static void restart_timer(unsigned i)
{
    uint32_t timer = config_get()->timers.timer[i];
    struct script_clock now;
    draw_window(i, timer);
    state[i].fired_day = -1;
    if (script_local_now(&now)) {
        int32_t second = timer_second(i, timer, now.day);
        if (second >= 0 && second <= now.second_of_day)
            state[i].fired_day = (int32_t)now.day;
    }
}

static void on_event(const struct event *e, void *arg)
{
    (void)arg;
    if (e->type == EVENT_CLOCK ||
        (e->type == EVENT_SETTINGS && (e->value & (SETTINGS_TIMERS | SETTINGS_AUTOMATION | SETTINGS_TIME))))
        sched_timer_start(&check_timer, 0, 0); /* look again now */
}

void timers_start(void)
{
    for (unsigned i = 0; i < CONFIG_TIMERS; i++) {
        state[i].fired_day = -1;
        draw_window(i, config_get()->timers.timer[i]);
    }
    sched_timer_start(&check_timer, 0, 0);
}

/* ---- The commands ---- */

static void write_timer(struct json_writer *w, unsigned i)
{
    uint32_t timer = config_get()->timers.timer[i];
    uint32_t minutes = get(timer, F_TIME);
    bool negative = get(timer, F_MODE) && minutes >= NEGATIVE_OFFSET;
    char key[8], days[8], json[128];
    minutes -= negative ? NEGATIVE_OFFSET : 0;
    for (unsigned d = 0; d < 7; d++)
        days[d] = (char)('0' + (get(timer, F_DAYS) >> d & 1));
    days[7] = '\0';
    snprintf(key, sizeof key, "Timer%u", i + 1);
    snprintf(json, sizeof json,
             "{\"Enable\":%u,\"Mode\":%u,\"Time\":\"%s%02u:%02u\",\"Window\":%u,\"Days\":\"%s\",\"Repeat\":%u,"
             "\"Output\":%u,\"Action\":%u}",
             (unsigned)get(timer, F_ENABLE), (unsigned)get(timer, F_MODE), negative ? "-" : "",
             (unsigned)(minutes / 60), (unsigned)(minutes % 60), (unsigned)get(timer, F_WINDOW), days,
             (unsigned)get(timer, F_REPEAT), (unsigned)get(timer, F_OUTPUT) + 1, (unsigned)get(timer, F_ACTION));
    jw_raw(w, key, json);
}

/* "hh:mm"; in Modes 1 and 2 also "+hh:mm" / "-hh:mm", under 12 hours: the
 * time field, -1 if malformed. */
static int32_t parse_time(const char *text, uint32_t mode)
{
    char sign = *text == '+' || *text == '-' ? *text++ : 0;
    const char *colon = strchr(text, ':');
    int32_t second = colon && !strchr(colon + 1, ':') ? clock_match_parse_time(text) : -1;
    if (second < 0 || (sign && !mode) || (mode && second >= 12 * 3600))
        return -1;
    return second / 60 + (sign == '-' ? NEGATIVE_OFFSET : 0);
}

/* Seven characters from Sunday: a day's letter (SMTWTFS) or 1 is on, - or
 * 0 is off; the mask, -1 if malformed. */
static int parse_days(const char *text)
{
    int days = 0;
    if (strlen(text) != 7)
        return -1;
    for (int d = 0; d < 7; d++) {
        if (text[d] == '1' || toupper((unsigned char)text[d]) == "SMTWTFS"[d])
            days |= 1 << d;
        else if (text[d] != '0' && text[d] != '-')
            return -1;
    }
    return days;
}

static const struct {
    const char *key;
    uint8_t field, min, max;
} number_members[] = {
    {"Enable", F_ENABLE, 0, 1}, {"Arm", F_ENABLE, 0, 1},      {"Mode", F_MODE, 0, 2},     {"Window", F_WINDOW, 0, 15},
    {"Repeat", F_REPEAT, 0, 1}, {"Output", F_OUTPUT, 1, 16}, {"Action", F_ACTION, 0, 3},
};

/* Tasmota's JSON members onto *timer (CMD_FAILED: the reply says why). */
static enum cmd_result apply_json(struct cmd_ctx *ctx, uint32_t *timer)
{
    struct json_reader r;
    char key[12], value[12], time_text[12] = "";
    jr_init(&r, ctx->arg, strlen(ctx->arg));
    if (!jr_object_begin(&r))
        return cmd_error(ctx, "%s%d: expected 0 (clear), 1..16 (copy that timer) or JSON: "
                              "{\"Enable\":1,\"Time\":\"07:30\",\"Action\":1}", ctx->name, ctx->index);
    while (jr_object_next(&r, key, sizeof key)) {
        enum json_type type = jr_peek(&r);
        const char *start = r.pos;
        if (type == JSON_STRING ? !jr_string(&r, value, sizeof value) : type != JSON_NUMBER || !jr_skip(&r))
            return cmd_error(ctx, "%s%d: %s: expected a number or a short string", ctx->name, ctx->index, key);
        if (type == JSON_NUMBER) {
            size_t n = (size_t)(r.pos - start);
            memcpy(value, start, n < sizeof value ? n : 0);
            value[n < sizeof value ? n : 0] = '\0';
        }
        if (strcasecmp(key, "Time") == 0) {
            memcpy(time_text, value, sizeof value);
            continue;
        }
        if (strcasecmp(key, "Days") == 0) {
            int days = parse_days(value);
            if (days < 0)
                return cmd_error(ctx, "%s%d: Days: 7 characters from Sunday, SMTWTFS or 1 on, - or 0 off", ctx->name,
                                 ctx->index);
            *timer = put(*timer, F_DAYS, (uint32_t)days);
            continue;
        }
        unsigned m = 0;
        while (m < sizeof number_members / sizeof number_members[0] && strcasecmp(key, number_members[m].key))
            m++;
        if (m == sizeof number_members / sizeof number_members[0])
            return cmd_error(ctx, "%s%d: unknown member '%s' (Enable, Mode, Time, Window, Days, Repeat, Output, "
                                  "Action)", ctx->name, ctx->index, key);
        long number;
        if (!cmd_parse_long(value, number_members[m].min, number_members[m].max, &number))
            return cmd_error(ctx, "%s%d: %s: expected %u .. %u", ctx->name, ctx->index, number_members[m].key,
                             number_members[m].min, number_members[m].max);
        *timer = put(*timer, number_members[m].field, (uint32_t)number - (number_members[m].field == F_OUTPUT));
    }
    if (!jr_finished(&r))
        return cmd_error(ctx, "%s%d: bad JSON: %s", ctx->name, ctx->index, r.error[0] ? r.error : "text after it");
    if (*time_text) {
        int32_t field = parse_time(time_text, get(*timer, F_MODE));
        if (field < 0)
            return cmd_error(ctx, "%s%d: Time: expected \"hh:mm\"; Modes 1, 2: an offset under 12 hours "
                                  "(\"-hh:mm\" before)", ctx->name, ctx->index);
        *timer = put(*timer, F_TIME, (uint32_t)field);
    }
    return CMD_DONE;
}

static enum cmd_result cmd_timer(struct cmd_ctx *ctx)
{
    if (ctx->index < 1 || ctx->index > CONFIG_TIMERS)
        return cmd_error(ctx, "Timer: expected a timer number, Timer1 .. Timer%d", CONFIG_TIMERS);
    unsigned i = (unsigned)ctx->index - 1;
    if (*ctx->arg) {
        uint32_t timer = config_get()->timers.timer[i];
        long copy;
        if (cmd_parse_long(ctx->arg, 0, CONFIG_TIMERS, &copy))
            timer = copy ? config_get()->timers.timer[copy - 1] : 0;
        else if (apply_json(ctx, &timer) != CMD_DONE)
            return CMD_FAILED;
        if (get(timer, F_ENABLE) && get(timer, F_MODE) && !clock_match_location_set())
            return cmd_error(ctx, "Timer%d: set Latitude and Longitude first (Mode 1 and 2 follow sunrise and "
                                  "sunset)", ctx->index);
        if (get(timer, F_ENABLE) && get(timer, F_ACTION) != ACTION_EVENT && !channel_has_relay(get(timer, F_OUTPUT) + 1))
            return cmd_error(ctx, "Timer%d: Output %u has no relay (Action 3 raises a script event instead)",
                             ctx->index, (unsigned)get(timer, F_OUTPUT) + 1);
        struct config *next = config_edit();
        next->timers.timer[i] = timer;
        if (cmd_setting_save(ctx, next) != CMD_DONE)
            return CMD_FAILED;
        restart_timer(i);
    }
    write_timer(ctx->reply, i);
    return CMD_DONE;
}

static enum cmd_result cmd_timers(struct cmd_ctx *ctx)
{
    const struct config_timers *timers = &config_get()->timers;
    if (*ctx->arg) {
        int value = cmd_parse_switch(ctx->arg);
        if (value < 0)
            return cmd_error(ctx, "Timers: expected 0|off (disarm all), 1|on (arm all) or 2|toggle");
        bool was_disarmed = timers->disarmed;
        struct config *next = config_edit();
        next->timers.disarmed = (uint8_t)(value == 2 ? !timers->disarmed : !value);
        if (cmd_setting_save(ctx, next) != CMD_DONE)
            return CMD_FAILED;
        for (unsigned i = 0; was_disarmed && !timers->disarmed && i < CONFIG_TIMERS; i++)
            restart_timer(i); /* armed again: from their next times, not the minute just gone */
    }
    jw_string(ctx->reply, "Timers", timers->disarmed ? "OFF" : "ON");
    for (unsigned i = 0; i < CONFIG_TIMERS; i++) {
        char group[8];
        snprintf(group, sizeof group, "Timers%u", i / 4 + 1);
        if (i % 4 == 0)
            jw_object_begin(ctx->reply, group);
        write_timer(ctx->reply, i);
        if (i % 4 == 3)
            jw_object_end(ctx->reply);
    }
    return CMD_DONE;
}

static const struct cmd_def timer_commands[] = {
    {"Timer", cmd_timer, CMD_INDEXED,
     "Timer<x> [0 | <y> | {\"Enable\":1,\"Mode\":0,\"Time\":\"07:30\",\"Window\":0,\"Days\":\"-MTWTF-\",\"Repeat\":1,"
     "\"Output\":1,\"Action\":1}]: Tasmota's timers 1..16 (0 clears, y copies Timer<y>)"},
    {"Timers", cmd_timers, 0, "Timers [0|1|2]: disarm, arm or toggle all timers; lists them"},
};
static struct cmd_table timer_table;

void timers_register(void)
{
    cmd_register(&timer_table, timer_commands, sizeof timer_commands / sizeof timer_commands[0]);
    event_listen(&listener, on_event, NULL);
    sched_timer_init(&check_timer, check, NULL);
}
