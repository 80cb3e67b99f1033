/* energy.c — the energy counters and their wear-aware saving; see energy.h. */
#include "energy.h"

#include <stdbool.h>

#include "core/energy/history.h"
#include "core/energy/meter.h"
#include "core/events.h"
#include "core/log.h"
#include "core/storage/config.h"
#include "core/storage/layout.h"
#include "core/storage/reclog.h"
#include "core/timekeeping.h"
#include "hal/hal.h"

#define RECORD_VERSION 1

/* Persisted: fixed-width fields only. */
struct energy_record {
    uint64_t total_uj, today_uj, yesterday_uj;
    int64_t total_start_s;
    int32_t day;
    uint32_t reserved;
};
_Static_assert(sizeof(struct energy_record) == 40, "persisted layout");
_Static_assert(sizeof(struct energy_record) + RECLOG_HEADER_SIZE <= LAYOUT_ENERGY_SLOT, "fits its slot");

static struct reclog ring = {
    .part = HAL_PART_MEDIA,
    .offset = LAYOUT_ENERGY_OFFSET,
    .sectors = LAYOUT_ENERGY_SECTORS,
    .slot_size = LAYOUT_ENERGY_SLOT,
    .magic = LAYOUT_ENERGY_MAGIC,
};
static struct energy_counters counters = {.day = -1};
static struct energy_counters saved = {.day = -1}; /* as in the newest record */
static uint64_t seen_uj;        /* of the meter's import count, this boot */
static struct event_listener listener;

const struct energy_counters *energy_counters(void) { return &counters; }
const struct energy_counters *energy_saved_counters(void) { return &saved; }

static int save(void)
{
    struct energy_record r = {counters.total_uj, counters.today_uj, counters.yesterday_uj,
                              counters.total_start_s, counters.day, 0};
    int err = reclog_append(&ring, &r, sizeof r, RECORD_VERSION);
    if (err) {
        LOG_ERR("NRG", "cannot save the energy counters (flash error %d)", err);
        return err;
    }
    saved = counters;
    return 0;
}

void energy_checkpoint(void)
{
    if (saved.total_uj != counters.total_uj || saved.today_uj != counters.today_uj || saved.day != counters.day ||
        saved.yesterday_uj != counters.yesterday_uj || saved.total_start_s != counters.total_start_s)
        save();
}

/* Today by the local calendar (timekeeping.h), -1 while the clock is unknown. */
static int32_t current_day(void)
{
    struct local_time now;
    return clock_local_now(&now) ? now.day : -1;
}

/* A new local day moves Today to Yesterday, once.  A clock that goes back
 * one day (DST ending just after midnight, a zone moved west, a small
 * correction) keeps counting into Today under the later day number: the
 * midnight it repeats does not roll over a second time.  A clock that goes
 * back further (a wrong date corrected) takes the earlier day number, so
 * the next midnight rolls over instead of months later.  Either way nothing
 * is counted twice; a jump of several days forward leaves Yesterday at 0. */
static bool roll_over_day(void)
{
    int32_t day = current_day();
    if (day < 0 || day == counters.day)
        return false;
    if (counters.day >= 0 && day < counters.day) {
        if (counters.day - day == 1)
            return false;
        counters.day = day;
        return true;
    }
    if (counters.day >= 0) {
        counters.yesterday_uj = day == counters.day + 1 ? counters.today_uj : 0;
        counters.today_uj = 0;
    }
    if (!counters.total_start_s)
        counters.total_start_s = hal_wallclock_ms() / 1000;
    counters.day = day;
    return true;
}

static void on_sensors(const struct event *event, void *arg)
{
    (void)arg;
    if (event->type == EVENT_RESTART && counters.total_uj != saved.total_uj) {
        /* A planned restart loses nothing: what MQTT / HA last saw as the
         * total is never more than what the next boot restores. */
        save();
        return;
    }
    if (event->type != EVENT_SENSORS)
        return;
    const struct meter_reading *v = meter_reading();
    bool new_day = roll_over_day(); /* first: the energy just counted is the new day's */
    uint64_t uj = v->import_uj - seen_uj;
    seen_uj = v->import_uj;
    counters.total_uj += uj;
    counters.today_uj += uj;
    history_add(uj); /* after the day rollover: the same hour and day */
    /* Save before the unsaved energy could pass EnergySaveWh: once one more
     * report like this one would (a power cut tearing this save then loses
     * less than EnergySaveWh, not EnergySaveWh and a report). */
    if (new_day || counters.total_uj - saved.total_uj + uj >= config_get()->energy_save_wh * UJ_PER_WH)
        save();
}

void energy_start(void)
{
    struct energy_record r;
    uint8_t version;
    int found = reclog_mount(&ring);
    if (found > 0 && reclog_read(&ring, &r, sizeof r, &version) == (int)sizeof r && version == RECORD_VERSION) {
        counters = (struct energy_counters){r.total_uj, r.today_uj, r.yesterday_uj, r.total_start_s, r.day};
        saved = counters;
        LOG_INF("NRG", "energy restored: total %lu Wh", (unsigned long)(r.total_uj / UJ_PER_WH));
    } else if (found < 0 || ring.damaged) {
        LOG_ERR("NRG", "energy counters unreadable: starting from 0");
    }
    seen_uj = meter_reading()->import_uj;
    event_listen(&listener, on_sensors, NULL);
}

/* Make `next` the counters if it can be saved; else nothing changes. */
static int replace(struct energy_counters next)
{
    struct energy_counters before = counters;
    counters = next;
    int err = save();
    if (err)
        counters = before;
    else
        history_counters_set();
    return err;
}

int energy_set_total(uint64_t total_uj)
{
    struct energy_counters next = counters;
    next.total_uj = total_uj;
    return replace(next);
}

int energy_set_today(uint64_t today_uj)
{
    struct energy_counters next = counters;
    next.today_uj = today_uj;
    return replace(next);
}

int energy_reset(void)
{
    struct energy_counters next = {.day = current_day()};
    if (next.day >= 0)
        next.total_start_s = hal_wallclock_ms() / 1000;
    return replace(next);
}

bool energy_record_valid(const void *record, uint32_t len, uint8_t version)
{
    (void)record;
    return len == sizeof(struct energy_record) && version == RECORD_VERSION;
}

uint32_t energy_flash_life_years(uint32_t watts)
{
    /* A save every EnergySaveWh less one report (1 s of energy), at least
     * one a report. */
    uint64_t report_mwh = (uint64_t)watts * 1000 / 3600, limit_mwh = config_get()->energy_save_wh * 1000ull;
    uint64_t interval_mwh = limit_mwh > report_mwh ? limit_mwh - report_mwh : report_mwh;
    uint64_t saves_per_day = (uint64_t)watts * 24000 / (interval_mwh ? interval_mwh : 1) + 1;
    uint64_t slots = (uint64_t)LAYOUT_ENERGY_SECTORS * (HAL_FLASH_SECTOR / LAYOUT_ENERGY_SLOT);
    /* Each sector is erased once per lap of the ring. */
    return (uint32_t)(100000ull * slots / saves_per_day / 365);
}
