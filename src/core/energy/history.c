/*
 * history.c — hourly and daily energy buckets and their saving; see
 * history.h.  Owns the media ring LAYOUT_HISTORY_*; reads the energy
 * counters, never changes them.
 */
#include "history.h"

#include <string.h>

#include "core/energy/energy.h"
#include "core/log.h"
#include "core/storage/layout.h"
#include "core/storage/reclog.h"
#include "core/timekeeping.h"
#include "hal/hal.h"

#define RECORD_VERSION 1
#define UJ_PER_MWH 3600000ull
/* At boot, energy the counters saved after the history's last save belongs
 * to the history's newest hour; more than this (4 kW for 15 minutes) means
 * the counters were set by a command, not measured. */
#define RECONCILE_MAX_UJ (1000ull * UJ_PER_WH)
/* No plug fills an hour with more than 16 A at 265 V (4.24 kWh): twice that
 * is the most a bucket we wrote can hold per hour, whatever was reconciled
 * into it.  A record above it was not written by us (a flipped bit, an old
 * firmware) and would draw a bar of gigawatt-hours. */
#define HOUR_MAX_MWH 8480000u
#define DAY_MAX_MWH (24u * HOUR_MAX_MWH)

/* Persisted: fixed-width fields only.  Buckets are rings indexed by hour
 * (day) number modulo their count. */
struct history_record {
    int32_t hour, day;        /* newest bucket, -1 = the clock was never known */
    uint64_t energy_total_uj; /* the counters' Total at this save */
    uint32_t hour_mwh[HISTORY_HOURS];
    uint32_t day_mwh[HISTORY_DAYS];
};
_Static_assert(sizeof(struct history_record) == 264, "persisted layout");
_Static_assert(sizeof(struct history_record) + RECLOG_HEADER_SIZE <= LAYOUT_HISTORY_SLOT, "fits its slot");

static struct reclog ring = {
    .part = HAL_PART_MEDIA,
    .offset = LAYOUT_HISTORY_OFFSET,
    .sectors = LAYOUT_HISTORY_SECTORS,
    .slot_size = LAYOUT_HISTORY_SLOT,
    .magic = LAYOUT_HISTORY_MAGIC,
};
static struct history_record state;
static uint64_t pending_uj;  /* measured, not in a bucket yet (clock unknown, or < 1 mWh) */
static int32_t saved_hour;   /* state.hour at the last save */
static uint64_t saved_at_ms;
static bool dirty;           /* buckets changed since the last save */
static bool started;
static uint32_t saves;

static int32_t modulo(int32_t value, int32_t n) { return (value % n + n) % n; }

/* Local seconds since the epoch, in which hours and days are counted (as
 * the energy counters' Today), -1 while the clock is unknown (or absurd:
 * hour numbers must fit 31 bits). */
static int64_t clock_seconds(void)
{
    struct local_time now;
    if (!clock_local_now(&now))
        return -1;
    int64_t local_s = now.utc_s + now.offset_s;
    return local_s < 0 || local_s / 3600 > INT32_MAX / 2 ? -1 : local_s;
}

/* A bucket never wraps: a wrapped sum would show less than was measured,
 * and the next restart more (the saved, unwrapped value). */
static void add_saturating(uint32_t *bucket, uint32_t mwh)
{
    *bucket = mwh > UINT32_MAX - *bucket ? UINT32_MAX : *bucket + mwh;
}

/* Whole milliwatt-hours of what is pending go to the newest buckets. */
static void add_pending(void)
{
    uint32_t mwh = (uint32_t)(pending_uj / UJ_PER_MWH);
    pending_uj %= UJ_PER_MWH;
    if (!mwh)
        return;
    add_saturating(&state.hour_mwh[modulo(state.hour, HISTORY_HOURS)], mwh);
    add_saturating(&state.day_mwh[modulo(state.day, HISTORY_DAYS)], mwh);
    dirty = true;
}

/* Zero the buckets from just after `newest` up to `next` (at most a lap). */
static void clear_after(uint32_t *buckets, int32_t count, int32_t newest, int32_t next)
{
    int32_t steps = next - newest < count ? next - newest : count;
    for (int32_t i = 1; i <= steps; i++)
        buckets[modulo(newest + i, count)] = 0;
}

/* Start the bucket of the present hour (and day) if the clock moved on. */
static void roll(int64_t now_s)
{
    int32_t hour = (int32_t)(now_s / 3600), day = (int32_t)(now_s / 86400);
    if (state.hour >= 0 && hour <= state.hour)
        return; /* same hour, or the clock went back: keep counting here */
    if (state.hour < 0) {
        state.hour = hour - HISTORY_HOURS; /* every bucket starts empty */
        state.day = day - HISTORY_DAYS;
    }
    clear_after(state.hour_mwh, HISTORY_HOURS, state.hour, hour);
    state.hour = hour;
    if (day > state.day) {
        clear_after(state.day_mwh, HISTORY_DAYS, state.day, day);
        state.day = day;
    }
}

/* The clock moves the buckets on, then what is pending goes to the present
 * hour (as the energy counters do with the day: the pulses counted when
 * the hour changes belong to the new one).  Until the clock is known,
 * energy waits, and then goes to the hour the clock shows. */
static void update(void)
{
    int64_t now_s = clock_seconds();
    if (now_s < 0)
        return;
    roll(now_s);
    add_pending();
}

static void save(void)
{
    state.energy_total_uj = energy_counters()->total_uj;
    int err = reclog_append(&ring, &state, sizeof state, RECORD_VERSION);
    if (err) {
        LOG_ERR("HIST", "cannot save the energy history (flash error %d)", err);
        return; /* try again at the next report */
    }
    saved_hour = state.hour;
    saved_at_ms = hal_time_ms();
    dirty = false;
    saves++;
}

void history_add(uint64_t uj)
{
    if (!started)
        return;
    pending_uj += uj;
    update();
    bool due = state.hour != saved_hour || hal_time_ms() - saved_at_ms >= HISTORY_SAVE_INTERVAL_MS;
    if (dirty && due)
        save();
}

/* The counters' Total was set by a command: our record must name the new
 * Total, or the next boot would take the jump for energy we did not save. */
void history_counters_set(void)
{
    if (started && state.hour >= 0)
        save();
}

/* What the counters saved after our last save was measured in our newest
 * hour (we save whenever the hour changes): put it back there. */
static void reconcile(void)
{
    uint64_t total = energy_counters()->total_uj;
    if (state.hour < 0 || total <= state.energy_total_uj)
        return;
    uint64_t gap = total - state.energy_total_uj;
    if (gap > RECONCILE_MAX_UJ) {
        LOG_INF("HIST", "energy total moved by %lu Wh since the history's last save: not added to it",
                (unsigned long)(gap / UJ_PER_WH));
        return;
    }
    pending_uj = gap;
    add_pending();
    pending_uj = 0;
}

static bool buckets_within(const uint32_t *mwh, int count, uint32_t max)
{
    for (int i = 0; i < count; i++)
        if (mwh[i] > max)
            return false;
    return true;
}

/* A record we could have written: both indexes unknown, or the newest
 * day the one of the newest hour (they move together); no bucket fuller
 * than a plug can fill it. */
static bool plausible(const struct history_record *r)
{
    if (!buckets_within(r->hour_mwh, HISTORY_HOURS, HOUR_MAX_MWH) ||
        !buckets_within(r->day_mwh, HISTORY_DAYS, DAY_MAX_MWH))
        return false;
    if (r->hour < 0 || r->day < 0)
        return r->hour == -1 && r->day == -1;
    return r->day == r->hour / 24;
}

bool history_record_valid(const void *record, uint32_t len, uint8_t version)
{
    struct history_record r;
    if (len != sizeof r || version != RECORD_VERSION)
        return false;
    memcpy(&r, record, sizeof r);
    return plausible(&r);
}

static void restore(void)
{
    uint8_t version;
    state = (struct history_record){.hour = -1, .day = -1};
    int found = reclog_mount(&ring);
    if (found > 0 && reclog_read(&ring, &state, sizeof state, &version) == (int)sizeof state &&
        version == RECORD_VERSION && plausible(&state)) {
        reconcile();
    } else {
        state = (struct history_record){.hour = -1, .day = -1};
        if (found != 0 || ring.damaged)
            LOG_ERR("HIST", "energy history unreadable: starting empty");
    }
}

void history_start(void)
{
    pending_uj = 0;
    dirty = false;
    saves = 0;
    restore();
    saved_hour = state.hour;
    saved_at_ms = hal_time_ms();
    started = true;
}

void history_view(struct history_view *out)
{
    update();
    out->known = state.hour >= 0;
    out->newest_hour = state.hour;
    out->newest_day = state.day;
    for (int32_t i = 0; i < HISTORY_HOURS; i++)
        out->hour_mwh[i] = out->known ? state.hour_mwh[modulo(state.hour - HISTORY_HOURS + 1 + i, HISTORY_HOURS)] : 0;
    for (int32_t i = 0; i < HISTORY_DAYS; i++)
        out->day_mwh[i] = out->known ? state.day_mwh[modulo(state.day - HISTORY_DAYS + 1 + i, HISTORY_DAYS)] : 0;
}

static void write_buckets(struct json_writer *w, const char *key, const uint32_t *mwh, int count)
{
    jw_array_begin(w, key);
    for (int i = 0; i < count; i++)
        jw_fixed(w, NULL, mwh[i], 3);
    jw_array_end(w);
}

void history_write_json(struct json_writer *w)
{
    static struct history_view view; /* 250 bytes: off the task stack */
    history_view(&view);
    jw_bool(w, "clock", clock_seconds() >= 0);
    if (view.known) {
        jw_int(w, "hour", view.newest_hour);
        jw_int(w, "day", view.newest_day);
    } else {
        jw_raw(w, "hour", "null");
        jw_raw(w, "day", "null");
    }
    write_buckets(w, "hours_wh", view.hour_mwh, HISTORY_HOURS);
    write_buckets(w, "days_wh", view.day_mwh, HISTORY_DAYS);
}

uint32_t history_saves(void) { return saves; }
