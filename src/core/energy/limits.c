/* limits.c — margins, cut-offs with their latch, PulseTime, and their commands; see limits.h. */
#include "limits.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/cmd/cmd.h"
#include "core/cmd/cmd_setting.h"
#include "core/energy/energy.h"
#include "core/energy/meter.h"
#include "core/events.h"
#include "core/io/channels.h"
#include "core/io/pins.h"
#include "core/log.h"
#include "core/sched.h"
#include "core/timekeeping.h"
#include "hal/hal.h"

#define DEFAULT_RETRIES 5     /* Tasmota's SetOption33 default */
#define WINDOW_SHORTHAND_S 30 /* MaxPowerWindow 1 means this, as in Tasmota */
#define SETTLE_MS 1000        /* after a switch-on, readings this soon are of the off time */

_Static_assert(sizeof(((struct config_limits *)0)->pulse_time) / sizeof(uint16_t) == CHANNEL_MAX,
               "one PulseTime per channel");

#define L(field) offsetof(struct config, limits.field)

/* Each setting once: its command, field, range and unit. */
struct limit_setting {
    const char *name;
    uint16_t offset, max;
    const char *unit;
};
static const struct limit_setting settings[] = {
    [LIMIT_POWER_LOW] = {"PowerLow", L(power_low_w), 4000, "W (0 = off)"},
    [LIMIT_POWER_HIGH] = {"PowerHigh", L(power_high_w), 4000, "W (0 = off)"},
    [LIMIT_VOLTAGE_LOW] = {"VoltageLow", L(voltage_low_v), 500, "V (0 = off)"},
    [LIMIT_VOLTAGE_HIGH] = {"VoltageHigh", L(voltage_high_v), 500, "V (0 = off)"},
    [LIMIT_CURRENT_LOW] = {"CurrentLow", L(current_low_ma), 16000, "mA (0 = off)"},
    [LIMIT_CURRENT_HIGH] = {"CurrentHigh", L(current_high_ma), 16000, "mA (0 = off)"},
    [LIMIT_MAX_POWER] = {"MaxPower", offsetof(struct config, max_power_w), 4000, "W (0 = off)"},
    [LIMIT_MAX_ENERGY] = {"MaxEnergy", L(max_energy_wh), 65000, "Wh a day (0 = off)"},
    [LIMIT_MAX_VOLTAGE] = {"MaxVoltage", L(max_voltage_v), 500, "V (0 = off)"},
    [LIMIT_MIN_VOLTAGE] = {"MinVoltage", L(min_voltage_v), 500, "V (0 = off)"},
    {"MaxPowerWindow", L(max_power_window_s), 3600, "s (0 = no retry, 1 = 30 s)"},
    {"SetOption33", L(max_power_retries), 250, "retries (0 = 5)"},
    {"MaxEnergyStart", L(max_energy_start_h), 23, "(local hour)"},
    {"VoltageHold", L(voltage_hold_s), 60, "s"},
};
#define SETTING_COUNT (sizeof settings / sizeof settings[0])

static uint16_t setting_of(const struct config *c, unsigned i)
{
    uint16_t value;
    memcpy(&value, (const uint8_t *)c + settings[i].offset, sizeof value);
    return value;
}

const char *limit_name(enum limit_id id) { return (unsigned)id < LIMIT_COUNT ? settings[id].name : "PulseTime"; }

int limit_by_name(const char *name)
{
    for (int id = 0; id < LIMIT_COUNT; id++)
        if (strcasecmp(name, settings[id].name) == 0)
            return id;
    return -1;
}

const char *limits_invalid(const struct config_limits *l)
{
    struct config probe;
    memset(&probe, 0, sizeof probe);
    probe.limits = *l;
    for (unsigned i = 0; i < SETTING_COUNT; i++)
        if (settings[i].offset != offsetof(struct config, max_power_w) && setting_of(&probe, i) > settings[i].max)
            return settings[i].name;
    for (unsigned i = 0; i < CHANNEL_MAX; i++)
        if (l->pulse_time[i] > 64900)
            return "PulseTime";
    if (l->min_voltage_v && l->max_voltage_v && l->min_voltage_v >= l->max_voltage_v)
        return "MinVoltage";
    return NULL;
}

/* ---- State ---- */

static unsigned margins;        /* bit per margin ON */
static int announced = -1;      /* the latch as last announced */
static float trip_value;
static uint64_t power_above_ms, voltage_out_ms; /* since when beyond, 0 = not */
static uint64_t retry_ms;       /* when a retry switched on, 0 = not on trial */
static unsigned retries_left;
static bool energy_armed;       /* Today was below MaxEnergy: it may trip */
static uint64_t switched_on_ms; /* the last switch-on: the next reading may still be of the off time */
static struct sched_timer window_timer;
static struct sched_timer pulse_timers[CHANNEL_MAX];
static struct event_listener listener;

unsigned limits_margins(void) { return margins; }
int limits_tripped(void) { return announced; }
float limits_trip_value(void) { return trip_value; }

static void announce(enum limit_id id, enum limit_change change, enum source source)
{
    event_publish(&(struct event){.type = EVENT_LIMIT, .channel = (uint8_t)id, .value = change, .source = source});
}

static bool any_relay_on(void)
{
    for (unsigned channel = 1; channel <= CHANNEL_MAX; channel++)
        if (channel_get(channel))
            return true;
    return false;
}

/* Switch back on what the trip switched off, ending the trial or latch. */
static void restore(void)
{
    uint8_t was;
    channels_tripped(&was);
    for (unsigned channel = 1; channel <= CHANNEL_MAX; channel++)
        if (was >> (channel - 1) & 1u)
            channel_set(channel, true, SOURCE_OVERLOAD);
}

static void end_latch(enum source source, const char *why)
{
    int id = announced;
    LOG_INF("NRG", "%s trip reset: %s (%s)", limit_name((enum limit_id)id), why, source_name(source));
    announced = -1;
    retry_ms = 0;
    sched_timer_stop(&window_timer);
    channels_trip_clear();
    announce((enum limit_id)id, LIMIT_OFF, source);
}

static void trip(enum limit_id id, float value, const char *what)
{
    const struct config *c = config_get();
    bool on_trial = retry_ms != 0;
    trip_value = value;
    retry_ms = 0;
    LOG_ERR("NRG", "%s: relays off (overload)", what);
    if (channels_trip((uint8_t)(id + 1), SOURCE_OVERLOAD) != 0)
        return;
    energy_checkpoint(); /* what was counted up to the trip is on flash */
    announced = id;
    announce(id, LIMIT_ON, SOURCE_OVERLOAD);
    if (id != LIMIT_MAX_POWER || !c->limits.max_power_window_s)
        return;
    if (!on_trial)
        retries_left = c->limits.max_power_retries ? c->limits.max_power_retries : DEFAULT_RETRIES;
    if (retries_left) {
        sched_timer_start(&window_timer, c->limits.max_power_window_s * 1000u, 0);
    } else {
        LOG_ERR("NRG", "MaxPower: retries used up, off until switched on");
        announce(id, LIMIT_GAVE_UP, SOURCE_OVERLOAD);
    }
}

static void window_over(void *arg)
{
    (void)arg;
    if (announced != LIMIT_MAX_POWER)
        return;
    retries_left--;
    LOG_INF("NRG", "MaxPowerWindow over: relays on again, %u retries left", retries_left);
    retry_ms = hal_time_ms();
    if (!retry_ms)
        retry_ms = 1;
    restore();
    announce(LIMIT_MAX_POWER, LIMIT_RETRY, SOURCE_OVERLOAD);
}

/* ---- Checks, on every reading ---- */

static void check_margins(const struct meter_reading *v)
{
    const struct config *c = config_get();
    float values[LIMIT_MARGINS] = {v->power_w, v->power_w, v->voltage_v, v->voltage_v, v->current_a * 1000.0f,
                                   v->current_a * 1000.0f};
    for (unsigned id = 0; id < LIMIT_MARGINS; id++) {
        uint16_t limit = setting_of(c, id);
        bool high = id & 1u;
        bool on = limit && (high ? values[id] > limit : values[id] < limit);
        if (on == (bool)(margins >> id & 1u))
            continue;
        margins ^= 1u << id;
        LOG_INF("NRG", "%s %u: %s (%.1f)", settings[id].name, limit, on ? "ON" : "OFF", (double)values[id]);
        announce((enum limit_id)id, on ? LIMIT_ON : LIMIT_OFF, SOURCE_OVERLOAD);
    }
}

/* True once `beyond` has held for hold_s (since_ms keeps when it began). */
static bool held(bool beyond, uint64_t *since_ms, uint32_t hold_s)
{
    uint64_t now = hal_time_ms();
    if (!beyond) {
        *since_ms = 0;
        return false;
    }
    if (!*since_ms)
        *since_ms = now ? now : 1;
    return now - *since_ms >= hold_s * 1000ull;
}

static void check_cutoffs(const struct meter_reading *v)
{
    const struct config *c = config_get();
    const struct config_limits *l = &c->limits;
    char what[64];
    if (c->max_power_w && held(v->power_w > c->max_power_w, &power_above_ms, c->max_power_hold_s)) {
        snprintf(what, sizeof what, "%.0f W above MaxPower %u W for %u s", (double)v->power_w, c->max_power_w,
                 c->max_power_hold_s);
        power_above_ms = 0;
        trip(LIMIT_MAX_POWER, v->power_w, what);
        return;
    }
    if (retry_ms && !power_above_ms && hal_time_ms() - retry_ms >= c->max_power_hold_s * 1000ull) {
        end_latch(SOURCE_OVERLOAD, "the retry stayed below MaxPower");
        return;
    }
    bool over = l->max_voltage_v && v->voltage_v > l->max_voltage_v;
    bool under = l->min_voltage_v && v->voltage_v < l->min_voltage_v;
    if ((v->valid & METER_HAS_VOLTAGE) && held(over || under, &voltage_out_ms, l->voltage_hold_s)) {
        snprintf(what, sizeof what, "%.1f V %s %u V for %u s", (double)v->voltage_v,
                 over ? "above MaxVoltage" : "below MinVoltage", over ? l->max_voltage_v : l->min_voltage_v,
                 l->voltage_hold_s);
        voltage_out_ms = 0;
        trip(over ? LIMIT_MAX_VOLTAGE : LIMIT_MIN_VOLTAGE, v->voltage_v, what);
    }
}

/* MaxEnergy: Today against the limit from MaxEnergyStart on; a latch of
 * its own ends once a new day has begun and that hour has come. */
static void check_energy(void)
{
    const struct config_limits *l = &config_get()->limits;
    if (!l->max_energy_wh)
        return;
    struct local_time now;
    bool clock = clock_local_now(&now);
    bool started = !l->max_energy_start_h || (clock && now.civil.hour >= l->max_energy_start_h);
    int64_t today_wh = energy_wh(energy_counters()->today_uj);
    if (today_wh < l->max_energy_wh) {
        energy_armed = true;
        if (announced == LIMIT_MAX_ENERGY && started) {
            LOG_INF("NRG", "MaxEnergyStart %u h: relays on again", l->max_energy_start_h);
            restore();
            end_latch(SOURCE_OVERLOAD, "a new day");
        }
        return;
    }
    if (energy_armed && started && announced < 0 && any_relay_on()) {
        char what[64];
        snprintf(what, sizeof what, "Today %ld Wh reached MaxEnergy %u Wh", (long)today_wh, l->max_energy_wh);
        energy_armed = false;
        trip(LIMIT_MAX_ENERGY, (float)today_wh, what);
    }
}

/* ---- PulseTime ---- */

/* Tasmota's encoding to milliseconds and back. */
static uint32_t pulse_ms(uint16_t value) { return value <= 111 ? value * 100u : (value - 100u) * 1000u; }
static uint16_t pulse_value(uint32_t ms)
{
    return !ms ? 0 : ms < 11100 ? (uint16_t)((ms + 99) / 100) : (uint16_t)((ms + 999) / 1000 + 100);
}

static void pulse_over(void *arg)
{
    unsigned channel = (unsigned)((struct sched_timer *)arg - pulse_timers) + 1;
    LOG_INF("PWR", "PulseTime%u over: channel %u off", channel, channel);
    channel_set(channel, false, SOURCE_PULSETIME);
}

uint32_t limits_pulse_remaining_ms(unsigned channel)
{
    if (channel < 1 || channel > CHANNEL_MAX || !pulse_timers[channel - 1].armed)
        return 0;
    uint64_t due = pulse_timers[channel - 1].due_ms, now = hal_time_ms();
    return due > now ? (uint32_t)(due - now) : 0;
}

static void pulse_follow(const struct event *e)
{
    struct sched_timer *t = &pulse_timers[e->channel - 1];
    uint16_t set = config_get()->limits.pulse_time[e->channel - 1];
    bool was = t->armed;
    if (e->value && set)
        sched_timer_start(t, pulse_ms(set), 0);
    else
        sched_timer_stop(t);
    if (was || t->armed)
        announce(LIMIT_PULSE, t->armed ? LIMIT_ON : LIMIT_OFF, e->source);
}

/* ---- Events ---- */

static void on_event(const struct event *e, void *arg)
{
    (void)arg;
    if (e->type == EVENT_CHANNEL && e->channel >= 1 && e->channel <= CHANNEL_MAX) {
        pulse_follow(e);
        if (e->value)
            switched_on_ms = hal_time_ms();
        if (e->value && e->source != SOURCE_OVERLOAD && announced >= 0) {
            end_latch(e->source, "switched on");
        }
        return;
    }
    if (e->type != EVENT_SENSORS)
        return;
    const struct meter_reading *v = meter_reading();
    check_energy();
    if (!v->valid || !any_relay_on() || hal_time_ms() - switched_on_ms < SETTLE_MS)
        return;
    check_margins(v);
    check_cutoffs(v);
}

void limits_start(void)
{
    int latched = channels_tripped(NULL);
    announced = latched ? latched - 1 : -1;
    if (announced >= LIMIT_COUNT)
        announced = LIMIT_MAX_POWER; /* from a newer firmware: still a latch */
    if (announced >= 0)
        LOG_ERR("NRG", "%s trip latched: relays stay off until switched on", limit_name((enum limit_id)announced));
    sched_timer_init(&window_timer, window_over, NULL);
    for (unsigned i = 0; i < CHANNEL_MAX; i++) {
        sched_timer_init(&pulse_timers[i], pulse_over, &pulse_timers[i]);
        if (channel_get(i + 1)) /* on at boot: a pulse counts from now */
            pulse_follow(&(struct event){.type = EVENT_CHANNEL, .channel = (uint8_t)(i + 1), .value = 1,
                                         .source = SOURCE_BOOT});
    }
    event_listen(&listener, on_event, NULL);
}

void limits_write_state(struct json_writer *w, bool with_pulse)
{
    jw_string(w, "Tripped", announced >= 0 ? limit_name((enum limit_id)announced) : "OFF");
    if (announced >= 0)
        jw_int(w, "Limit", setting_of(config_get(), (unsigned)announced));
    for (unsigned id = 0; id < LIMIT_MARGINS; id++)
        jw_string(w, settings[id].name, margins >> id & 1u ? "ON" : "OFF");
    for (unsigned channel = 1; with_pulse && channel <= CHANNEL_MAX; channel++) {
        char key[24];
        snprintf(key, sizeof key, "PulseTime%u", channel);
        if (limits_pulse_remaining_ms(channel))
            jw_int(w, key, limits_pulse_remaining_ms(channel));
    }
}

/* Tasmota's Status 9: {"StatusPTH":{"PowerDelta":[d],"PowerLow":…,"CurrentHigh":…}}. */
void limits_status(struct json_writer *w)
{
    jw_object_begin(w, "StatusPTH");
    jw_array_begin(w, "PowerDelta");
    jw_int(w, NULL, config_get()->mqtt.power_delta);
    jw_array_end(w);
    for (unsigned id = 0; id < LIMIT_MARGINS; id++)
        jw_int(w, settings[id].name, setting_of(config_get(), id));
    jw_object_end(w);
}

/* ---- Commands ---- */

static enum cmd_result cmd_limit(struct cmd_ctx *ctx)
{
    unsigned i = 0;
    while (strcasecmp(settings[i].name, ctx->name) != 0)
        i++;
    const struct limit_setting *s = &settings[i];
    if (!*ctx->arg) {
        uint16_t value = setting_of(config_get(), i);
        jw_int(ctx->reply, ctx->name, s->offset == L(max_power_retries) && !value ? DEFAULT_RETRIES : value);
        return CMD_DONE;
    }
    long value;
    if (!cmd_parse_long(ctx->arg, s->offset == L(max_power_retries), s->max, &value))
        return cmd_error(ctx, "%s: expected %d .. %u %s", ctx->name, s->offset == L(max_power_retries), s->max,
                         s->unit);
    if (s->offset == L(max_power_window_s) && value == 1)
        value = WINDOW_SHORTHAND_S;
    struct config *next = config_edit();
    uint16_t field = (uint16_t)value;
    memcpy((uint8_t *)next + s->offset, &field, sizeof field);
    const char *bad = limits_invalid(&next->limits);
    if (bad)
        return cmd_error(ctx, "%s: MinVoltage must stay below MaxVoltage; nothing changed", ctx->name);
    if (cmd_setting_save(ctx, next) != CMD_DONE)
        return CMD_FAILED;
    jw_int(ctx->reply, ctx->name, (long)value);
    return CMD_DONE;
}

static void reply_pulse(struct cmd_ctx *ctx, unsigned channel)
{
    char key[24];
    snprintf(key, sizeof key, "PulseTime%u", channel);
    jw_object_begin(ctx->reply, key);
    jw_int(ctx->reply, "Set", config_get()->limits.pulse_time[channel - 1]);
    jw_int(ctx->reply, "Remaining", pulse_value(limits_pulse_remaining_ms(channel)));
    jw_object_end(ctx->reply);
}

static enum cmd_result cmd_pulse_time(struct cmd_ctx *ctx)
{
    if (ctx->index > CHANNEL_MAX)
        return cmd_error(ctx, "PulseTime: relay 1 .. %d", CHANNEL_MAX);
    if (!ctx->index && !*ctx->arg) {
        for (unsigned channel = 1; channel <= CHANNEL_MAX; channel++)
            reply_pulse(ctx, channel);
        return CMD_DONE;
    }
    unsigned channel = ctx->index ? (unsigned)ctx->index : 1;
    if (*ctx->arg) {
        long value;
        if (!cmd_parse_long(ctx->arg, 0, 64900, &value))
            return cmd_error(ctx, "PulseTime: expected 0 (off), 1 .. 111 tenths of a second or 112 .. 64900 "
                                  "(seconds + 100)");
        struct config *next = config_edit();
        next->limits.pulse_time[channel - 1] = (uint16_t)value;
        if (cmd_setting_save(ctx, next) != CMD_DONE)
            return CMD_FAILED;
    }
    reply_pulse(ctx, channel);
    return CMD_DONE;
}

static const struct cmd_def limit_commands[] = {
    {"PowerLow", cmd_limit, 0, "PowerLow [W]: report (MARGINS) power below this while on (0 = off)"},
    {"PowerHigh", cmd_limit, 0, "PowerHigh [W]: report power above this while on (0 = off)"},
    {"VoltageLow", cmd_limit, 0, "VoltageLow [V]: report voltage below this while on (0 = off)"},
    {"VoltageHigh", cmd_limit, 0, "VoltageHigh [V]: report voltage above this while on (0 = off)"},
    {"CurrentLow", cmd_limit, 0, "CurrentLow [mA]: report current below this while on (0 = off)"},
    {"CurrentHigh", cmd_limit, 0, "CurrentHigh [mA]: report current above this while on (0 = off)"},
    {"MaxPowerWindow", cmd_limit, 0, "MaxPowerWindow [s]: after a MaxPower trip, on again after this (0 = stay off)"},
    {"SetOption33", cmd_limit, 0, "SetOption33 [1..250]: MaxPower retries before staying off (default 5)"},
    {"MaxEnergy", cmd_limit, 0, "MaxEnergy [Wh]: switch off when Today reaches this (0 = off)"},
    {"MaxEnergyStart", cmd_limit, 0, "MaxEnergyStart [0..23]: local hour MaxEnergy starts (and switches back on)"},
    {"MaxVoltage", cmd_limit, 0, "MaxVoltage [V]: switch off above this voltage (0 = off)"},
    {"MinVoltage", cmd_limit, 0, "MinVoltage [V]: switch off below this voltage (0 = off)"},
    {"VoltageHold", cmd_limit, 0, "VoltageHold [0..60 s]: how long beyond Max/MinVoltage before the trip"},
    {"PulseTime", cmd_pulse_time, CMD_INDEXED, "PulseTime<n> [v]: switch relay n off after v/10 s (1..111) or v-100 s"},
};

void cmd_limits_register(void)
{
    static struct cmd_table table;
    cmd_register(&table, limit_commands, sizeof limit_commands / sizeof limit_commands[0]);
}
