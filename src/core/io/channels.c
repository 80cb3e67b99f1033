/* channels.c — channel states, power-on state, the boot record; see channels.h. */
#include "channels.h"

#include <string.h>

#include "core/io/pins.h"
#include "core/log.h"
#include "core/storage/config.h"
#include "core/storage/layout.h"
#include "core/storage/reclog.h"
#include "hal/hal.h"

#define NO_RELAY 0xFF
#define ACTIVE_LOW 0x80

/* Persisted on every change; fixed-width fields only. */
struct boot_record {
    uint8_t states; /* bit n-1: channel n is on */
    uint8_t power_on_state;
    uint8_t relay[CHANNEL_MAX]; /* GPIO of channel n's relay (| ACTIVE_LOW), NO_RELAY if none */
    uint8_t trip;        /* a protection trip latched (limits.h's id + 1), 0 = none (zero in older records) */
    uint8_t trip_states; /* the states the trip switched off, for a restore */
};
_Static_assert(sizeof(struct boot_record) == 8, "persisted layout");
_Static_assert(sizeof(struct boot_record) + RECLOG_HEADER_SIZE <= LAYOUT_BOOT_SLOT, "fits its slot");

#define BOOT_RECORD_VERSION 1

static struct reclog boot_log = {
    .part = HAL_PART_PSM,
    .offset = LAYOUT_BOOT_OFFSET,
    .sectors = LAYOUT_BOOT_SECTORS,
    .slot_size = LAYOUT_BOOT_SLOT,
    .magic = LAYOUT_BOOT_MAGIC,
};
static struct boot_record stored; /* the newest record in flash */
static bool has_stored;
static uint8_t states;
static uint8_t trip, trip_states; /* the latch, persisted with the states */
static uint32_t restore_us;

static uint8_t relay_mask(const struct boot_record *record)
{
    uint8_t mask = 0;
    for (unsigned i = 0; i < CHANNEL_MAX; i++)
        if (record->relay[i] != NO_RELAY)
            mask |= (uint8_t)(1u << i);
    return mask;
}

/* The relays' states at boot.  PowerOnState is about power-up: after a
 * restart or a watchdog reset the relays keep their state (unless locked
 * on), so a reset never blinks the load.  A latched trip keeps them off
 * whatever PowerOnState says (but locked on).  Channels without a relay
 * always keep theirs. */
static uint8_t boot_states(uint8_t power_on_state, uint8_t last, uint8_t relays)
{
    uint8_t on = last & relays;
    if (power_on_state == POWER_ON_LOCKED_ON) {
        on = relays;
    } else if (trip) {
        on = 0;
    } else if (hal_reset_cause() == HAL_RESET_POWER_ON) {
        switch (power_on_state) {
        case POWER_ON_OFF: on = 0; break;
        case POWER_ON_ON: on = relays; break;
        case POWER_ON_TOGGLE: on = (uint8_t)~last & relays; break;
        default: break; /* restore */
        }
    }
    return (uint8_t)((last & ~relays) | on);
}

void channels_boot_restore(void)
{
    uint8_t version;
    if (reclog_mount(&boot_log) < 0 ||
        reclog_read(&boot_log, &stored, sizeof stored, &version) != (int)sizeof stored)
        return; /* a blank device: the configuration decides, a moment later */
    has_stored = true;
    trip = stored.trip;
    trip_states = stored.trip_states;
    states = boot_states(stored.power_on_state, stored.states, relay_mask(&stored));
    for (unsigned i = 0; i < CHANNEL_MAX; i++) {
        if (stored.relay[i] == NO_RELAY)
            continue;
        int gpio = stored.relay[i] & ~ACTIVE_LOW;
        bool active_low = stored.relay[i] & ACTIVE_LOW;
        bool on = states >> i & 1u;
        hal_pin_write(gpio, on != active_low); /* level first, then drive */
        hal_pin_mode(gpio, HAL_PIN_OUTPUT);
        pins_mark_applied(gpio, (struct pin_setting){active_low ? PIN_REL_N : PIN_REL, (uint8_t)(i + 1)});
    }
    restore_us = hal_time_us();
}

static struct boot_record current_record(void)
{
    const struct config *config = config_get();
    struct boot_record record = {.states = states, .power_on_state = config->power_on_state, .trip = trip,
                                 .trip_states = trip_states};
    memset(record.relay, NO_RELAY, sizeof record.relay);
    for (unsigned channel = 1; channel <= CHANNEL_MAX; channel++) {
        for (int gpio = 0; gpio < CONFIG_PINS; gpio++) {
            struct pin_setting s = config->pins[gpio];
            if ((s.role == PIN_REL || s.role == PIN_REL_N) && pins_power_index(config->pins, s.channel) == channel) {
                record.relay[channel - 1] = (uint8_t)(gpio | (s.role == PIN_REL_N ? ACTIVE_LOW : 0));
                break;
            }
        }
    }
    return record;
}

static void persist(void)
{
    struct boot_record record = current_record();
    if (has_stored && memcmp(&record, &stored, sizeof record) == 0)
        return;
    int err = reclog_append(&boot_log, &record, sizeof record, BOOT_RECORD_VERSION);
    if (err) {
        LOG_ERR("PWR", "cannot save the relay state (flash error %d)", err);
        return;
    }
    stored = record;
    has_stored = true;
}

void channels_start(void)
{
    const struct config *config = config_get();
    /* The configuration is the authority: if the boot record is missing or
     * lags behind it (power cut between the two saves), decide again. */
    struct boot_record wanted = current_record();
    if (!has_stored || stored.power_on_state != config->power_on_state ||
        memcmp(stored.relay, wanted.relay, sizeof wanted.relay) != 0)
        states = boot_states(config->power_on_state, has_stored ? stored.states : 0, relay_mask(&wanted));
    bool early = has_stored;
    pins_apply(config->pins);
    persist();
    if (early)
        LOG_INF("PWR", "relays restored by PowerOnState %u, %lu us after reset", config->power_on_state,
                (unsigned long)restore_us);
    else
        LOG_INF("PWR", "no relay record: relays set by PowerOnState %u", config->power_on_state);
}

/* Drive the pins, persist, then log and announce each changed channel. */
static void announce(uint8_t changed, bool on, enum source source)
{
    pins_refresh_outputs(); /* the relay switches before anything is written */
    persist();
    for (unsigned channel = 1; channel <= CHANNEL_MAX; channel++) {
        if (!(changed >> (channel - 1) & 1u))
            continue;
        LOG_INF("PWR", "channel %u %s (%s)", channel, on ? "ON" : "OFF", source_name(source));
        event_publish(&(struct event){.type = EVENT_CHANNEL, .channel = (uint8_t)channel, .value = on, .source = source});
    }
}

bool channel_get(unsigned channel)
{
    return channel >= 1 && channel <= CHANNEL_MAX && (states >> (channel - 1) & 1u);
}

int channel_set(unsigned channel, bool on, enum source source)
{
    if (channel < 1 || channel > CHANNEL_MAX)
        return -1;
    if (!on && config_get()->power_on_state == POWER_ON_LOCKED_ON) {
        LOG_INF("PWR", "channel %u is locked on (PowerOnState 4)", channel);
        return -1;
    }
    if (on && trip && source == SOURCE_TIMER) {
        LOG_INF("PWR", "channel %u stays off: a protection trip is latched (switch it on to reset it)", channel);
        return -1; /* a schedule is no one at the plug: it neither resets the latch nor switches on */
    }
    if (channel_get(channel) == on)
        return 0;
    states ^= (uint8_t)(1u << (channel - 1));
    if (on && source != SOURCE_OVERLOAD)
        trip = trip_states = 0; /* switched on by the user: the latch ends (in the same record) */
    announce((uint8_t)(1u << (channel - 1)), on, source);
    return 0;
}

int channels_trip(uint8_t id, enum source source)
{
    if (config_get()->power_on_state == POWER_ON_LOCKED_ON) {
        LOG_ERR("PWR", "a protection trip cannot switch the relays off: locked on (PowerOnState 4)");
        return -1;
    }
    uint8_t was = states;
    if (!trip) /* a retry's second trip keeps what the first switched off */
        trip_states = was;
    trip = id;
    states = 0;
    announce(was, false, source);
    return 0;
}

uint8_t channels_tripped(uint8_t *switched_off)
{
    if (switched_off)
        *switched_off = trip_states;
    return trip;
}

void channels_trip_clear(void)
{
    trip = trip_states = 0;
    persist();
}

int channel_toggle(unsigned channel, enum source source)
{
    return channel_set(channel, !channel_get(channel), source);
}

bool channel_has_relay(unsigned channel)
{
    struct boot_record record = current_record();
    return channel >= 1 && channel <= CHANNEL_MAX && record.relay[channel - 1] != NO_RELAY;
}

unsigned channels_relay_count(void)
{
    unsigned count = 0;
    struct boot_record record = current_record();
    for (unsigned i = 0; i < CHANNEL_MAX; i++)
        count += record.relay[i] != NO_RELAY;
    return count;
}

unsigned channels_highest_relay(void)
{
    struct boot_record record = current_record();
    for (unsigned channel = CHANNEL_MAX; channel >= 1; channel--)
        if (record.relay[channel - 1] != NO_RELAY)
            return channel;
    return 0;
}

void channels_settings_changed(enum source source)
{
    struct boot_record record = current_record();
    if (config_get()->power_on_state == POWER_ON_LOCKED_ON)
        for (unsigned channel = 1; channel <= CHANNEL_MAX; channel++)
            if (relay_mask(&record) >> (channel - 1) & 1u)
                channel_set(channel, true, source);
    persist();
}

bool channels_erase_step(uint16_t *step)
{
    has_stored = false;
    return reclog_erase_step(&boot_log, step);
}
