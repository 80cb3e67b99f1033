/* button.c — interrupt-woken, sampled button state machine; see button.h. */
#include "button.h"

#include <stdint.h>

#include "core/events.h"
#include "core/io/channels.h"
#include "core/io/pins.h"
#include "core/log.h"
#include "core/sched.h"
#include "core/storage/config.h"

struct button { /* widest members first: no padding */
    struct sched_timer sampler;
    uint64_t pressed_at_ms, clicked_at_ms;
    uint32_t down_edge_us; /* the time of the last press edge's interrupt */
    int8_t gpio;
    uint8_t channel;
    uint8_t kind; /* enum button_kind */
    uint8_t stable_samples;
    bool in_use;
    bool active_low;
    bool pressed; /* debounced */
    bool long_fired;
    bool click_pending; /* a click that a second one would make double */
    bool down_edge;     /* a press edge since the last release (push buttons) */
};

static struct button buttons[BUTTON_MAX];

const char *button_action_name(enum button_action action)
{
    switch (action) {
    case BUTTON_CLICK: return "click";
    case BUTTON_DOUBLE: return "double click";
    case BUTTON_LONG: return "long press";
    }
    return "?";
}

static bool raw_pressed(const struct button *b) { return hal_pin_read(b->gpio) != b->active_low; }

/* The edge that wakes a still button: a press, or for a switch the change
 * away from where it rests. */
static enum hal_pin_edge wake_edge(const struct button *b)
{
    bool pressing = b->kind != BUTTON_SWITCH || !b->pressed;
    return pressing == b->active_low ? HAL_EDGE_FALLING : HAL_EDGE_RISING;
}

/* Btn_Tgl_All: every relay off if any is on, else every relay on. */
static void toggle_all(void)
{
    bool any_on = false;
    for (unsigned channel = 1; channel <= CHANNEL_MAX; channel++)
        any_on = any_on || (channel_has_relay(channel) && channel_get(channel));
    for (unsigned channel = 1; channel <= CHANNEL_MAX; channel++)
        if (channel_has_relay(channel))
            channel_set(channel, !any_on, SOURCE_BUTTON);
}

static void act(struct button *b, enum button_action action)
{
    LOG_INF("BTN", "button %u %s", b->channel, button_action_name(action));
    if (action == BUTTON_CLICK && b->kind == BUTTON_TOGGLE_ALL)
        toggle_all();
    else if (action == BUTTON_CLICK && b->kind != BUTTON_SCRIPT_ONLY)
        channel_toggle(b->channel, SOURCE_BUTTON);
    event_publish(&(struct event){.type = EVENT_BUTTON, .channel = b->channel, .pin = (uint8_t)b->gpio, .value = action,
                                  .source = SOURCE_BUTTON});
}

static void released(struct button *b, uint64_t now)
{
    if (b->long_fired)
        return;
    if (b->click_pending && now - b->clicked_at_ms <= config_get()->button_double_ms) {
        b->click_pending = false;
        act(b, BUTTON_DOUBLE);
    } else {
        b->click_pending = true;
        b->clicked_at_ms = now;
        act(b, BUTTON_CLICK);
    }
}

static void on_switch_edge(int pin, uint32_t t_us, bool level, void *arg);

static void sample(void *arg)
{
    struct button *b = arg;
    uint64_t now = hal_time_ms();
    bool raw = raw_pressed(b);
    if (raw == b->pressed) {
        b->stable_samples = 0;
    } else if (++b->stable_samples >= BUTTON_STABLE_SAMPLES) {
        b->stable_samples = 0;
        b->pressed = raw;
        if (b->kind == BUTTON_SWITCH) {
            act(b, BUTTON_CLICK);
        } else if (raw) {
            b->pressed_at_ms = now;
            b->long_fired = false;
        } else {
            b->down_edge = false;
            released(b, now);
        }
    }
    if (b->kind != BUTTON_SWITCH && b->pressed && !b->long_fired &&
        now - b->pressed_at_ms >= config_get()->button_long_ms) {
        b->long_fired = true;
        act(b, BUTTON_LONG);
    }
    if (b->kind != BUTTON_SWITCH) {
        if (!b->pressed && !raw) /* idle again: the next press edge wakes it */
            sched_timer_stop(&b->sampler);
    } else if (raw == b->pressed && !b->stable_samples) {
        /* At rest: sleep until the edge away from here. */
        sched_timer_stop(&b->sampler);
        sched_pin_watch(b->gpio, wake_edge(b), on_switch_edge, b);
        if (raw_pressed(b) != b->pressed) /* moved between the sample and the re-arm */
            on_switch_edge(b->gpio, hal_time_us(), !b->active_low, b);
    }
}

static void on_switch_edge(int pin, uint32_t t_us, bool level, void *arg)
{
    (void)t_us;
    (void)level;
    struct button *b = arg;
    sched_pin_unwatch(pin); /* bounces need no interrupts: we sample now */
    sched_timer_start(&b->sampler, BUTTON_SAMPLE_MS, BUTTON_SAMPLE_MS);
}

/* The time of an interrupt (hal_time_us(), 32 bits) in loop milliseconds. */
static uint64_t ms_at(uint32_t t_us)
{
    uint64_t now = hal_time_ms();
    uint32_t ago_ms = (hal_time_us() - t_us) / 1000u;
    return now > ago_ms ? now - ago_ms : 0;
}

/* A push button's edges, both ways.  A press edge starts the sampler.  A
 * release edge matters only when the sampler never saw that press: the
 * loop was held up (a TLS handshake, say) for all of it.  Then
 * the interrupts' times tell the press: long enough to be no glitch or
 * bounce, it is a click (or a long press) as of its release. */
static void on_push_edge(int pin, uint32_t t_us, bool level, void *arg)
{
    (void)pin;
    struct button *b = arg;
    if (level != b->active_low) {
        b->down_edge = true;
        b->down_edge_us = t_us;
        if (!b->sampler.armed)
            sched_timer_start(&b->sampler, BUTTON_SAMPLE_MS, BUTTON_SAMPLE_MS);
        return;
    }
    if (!b->down_edge || b->pressed)
        return; /* the sampler follows this press */
    b->down_edge = false;
    uint32_t held_ms = (t_us - b->down_edge_us) / 1000u;
    if (held_ms < BUTTON_SAMPLE_MS * BUTTON_STABLE_SAMPLES)
        return; /* shorter than the sampler would take: a glitch or a bounce */
    b->stable_samples = 0;
    if (held_ms >= config_get()->button_long_ms) {
        act(b, BUTTON_LONG);
        return;
    }
    b->long_fired = false;
    released(b, ms_at(t_us));
}

void button_attach(int gpio, bool active_low, unsigned channel, enum button_kind kind)
{
    for (int i = 0; i < BUTTON_MAX; i++) {
        struct button *b = &buttons[i];
        if (b->in_use)
            continue;
        *b = (struct button){.in_use = true, .gpio = (int8_t)gpio, .active_low = active_low,
                             .channel = (uint8_t)channel, .kind = (uint8_t)kind};
        sched_timer_init(&b->sampler, sample, b);
        if (kind == BUTTON_SWITCH) {
            b->pressed = raw_pressed(b); /* where the switch rests is no change */
            sched_pin_watch(gpio, wake_edge(b), on_switch_edge, b);
        } else {
            sched_pin_watch_both(gpio, on_push_edge, b);
        }
        return;
    }
    LOG_ERR("BTN", "GPIO %d: more than %d buttons, ignored", gpio, BUTTON_MAX);
}

void button_detach(int gpio)
{
    for (int i = 0; i < BUTTON_MAX; i++) {
        if (buttons[i].in_use && buttons[i].gpio == gpio) {
            sched_pin_unwatch(gpio);
            sched_timer_stop(&buttons[i].sampler);
            buttons[i].in_use = false;
        }
    }
}
