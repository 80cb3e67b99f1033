/*
 * history.c — hourly, daily, monthly and yearly energy buckets, the cost of
 * each, and their saving; see history.h.  Owns the media ring
 * LAYOUT_HISTORY_*; reads the energy counters and the tariff settings,
 * never changes them.
 */
#include "history.h"

#include <stddef.h>
#include <string.h>

#include "core/energy/energy.h"
#include "core/energy/tariff.h"
#include "core/log.h"
#include "core/storage/config.h"
#include "core/storage/layout.h"
#include "core/storage/reclog.h"
#include "core/timekeeping.h"
#include "hal/hal.h"

#define RECORD_VERSION 2
#define RECORD_VERSION_V1 1
#define UJ_PER_MWH 3600000ull
/* mWh x price (1/10000 per kWh) counts 1e-10 of the currency; costs are
 * kept in 1e-3. */
#define COST_UNITS_PER_MILLI 10000000ull
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
#define YEAR_MAX_MWH (366ull * DAY_MAX_MWH)

/* Persisted: fixed-width fields only (docs/ARCHITECTURE.md has this
 * layout).  Buckets are rings indexed by their hour (day, month, year)
 * number modulo their count; the four newest move together. */
struct history_record {
    int32_t hour, day, month, year; /* newest buckets (local, since 1970), all -1: the clock was never known */
    uint64_t energy_total_uj;       /* the counters' Total at this save */
    uint64_t cost_total;            /* 1/1000 of the currency, since the Total started */
    uint32_t hour_mwh[HISTORY_HOURS];
    uint32_t day_mwh[HISTORY_DAYS];
    uint32_t month_mwh[HISTORY_MONTHS];
    uint64_t year_mwh[HISTORY_YEARS];
    uint32_t hour_cost[HISTORY_HOURS]; /* 1/1000 of the currency */
    uint32_t day_cost[HISTORY_DAYS];
    uint32_t month_cost[HISTORY_MONTHS];
    uint32_t year_cost[HISTORY_YEARS];
    uint32_t price_e4; /* in force at this save: the price of what a power cut loses */
    uint32_t reserved;
};
_Static_assert(sizeof(struct history_record) == 848, "persisted layout");
_Static_assert(sizeof(struct history_record) + RECLOG_HEADER_SIZE <= LAYOUT_HISTORY_SLOT, "fits its slot");

/* Version 1 (hours and days, in 512-byte slots), carried over once. */
struct history_record_v1 {
    int32_t hour, day;
    uint64_t energy_total_uj;
    uint32_t hour_mwh[HISTORY_HOURS];
    uint32_t day_mwh[HISTORY_DAYS];
};
_Static_assert(sizeof(struct history_record_v1) == 264, "persisted layout");

static struct reclog ring = {
    .part = HAL_PART_MEDIA,
    .offset = LAYOUT_HISTORY_OFFSET,
    .sectors = LAYOUT_HISTORY_SECTORS,
    .slot_size = LAYOUT_HISTORY_SLOT,
    .magic = LAYOUT_HISTORY_MAGIC,
};
static struct history_record state;
static uint64_t pending_uj;  /* measured, not in a bucket yet (clock unknown, or < 1 mWh) */
static uint64_t cost_units;  /* cost below 1/1000 of the currency, not in a bucket yet */
static int32_t saved_hour;   /* state.hour at the last save */
static uint64_t saved_at_ms;
static bool dirty;           /* buckets changed since the last save */
static bool started;
static uint32_t saves;

static int32_t modulo(int32_t value, int32_t n) { return (value % n + n) % n; }

/* Local time now, false while the clock is unknown (or absurd: hour
 * numbers must fit 31 bits). */
static bool local_now(struct local_time *now, int64_t *local_s)
{
    if (!clock_local_now(now))
        return false;
    *local_s = now->utc_s + now->offset_s;
    return *local_s >= 0 && *local_s / 3600 <= INT32_MAX / 2;
}

static int32_t month_number(const struct civil_time *t) { return (t->year - 1970) * 12 + t->month - 1; }

/* A bucket never wraps: a wrapped sum would show less than was measured,
 * and the next restart more (the saved, unwrapped value). */
static void add_saturating(uint32_t *bucket, uint64_t add)
{
    *bucket = add > UINT32_MAX - *bucket ? UINT32_MAX : *bucket + (uint32_t)add;
}

static uint32_t price_now(void)
{
    struct local_time now;
    int64_t local_s;
    return local_now(&now, &local_s) ? tariff_price_at(&config_get()->tariff, &now.civil, now.dst) : 0;
}

/* The four rings of buckets, one description each: where their newest
 * index, energy and cost are in the record. */
enum { HOURS, DAYS, MONTHS, YEARS, SERIES };
static const struct series {
    uint16_t newest, energy, cost; /* offsets in struct history_record */
    uint8_t count, energy_size;    /* energy: uint32_t (uint64_t for years) */
    const char *index_key, *energy_key, *cost_key;
} series[SERIES] = {
#define SERIES_OF(index, energy, cost, count, key)                                                            \
    {offsetof(struct history_record, index), offsetof(struct history_record, energy),                         \
     offsetof(struct history_record, cost), count, sizeof state.energy[0], #index, key "_wh", key "_cost"}
    SERIES_OF(hour, hour_mwh, hour_cost, HISTORY_HOURS, "hours"),
    SERIES_OF(day, day_mwh, day_cost, HISTORY_DAYS, "days"),
    SERIES_OF(month, month_mwh, month_cost, HISTORY_MONTHS, "months"),
    SERIES_OF(year, year_mwh, year_cost, HISTORY_YEARS, "years"),
#undef SERIES_OF
};

static int32_t *newest_of(int s) { return (int32_t *)((uint8_t *)&state + series[s].newest); }
static uint32_t *cost_of(int s, int32_t slot) { return (uint32_t *)((uint8_t *)&state + series[s].cost) + slot; }
static void *energy_of(int s, int32_t slot)
{
    return (uint8_t *)&state + series[s].energy + (size_t)slot * series[s].energy_size;
}
/* A bucket's energy, mWh. */
static uint64_t energy_at(int s, int32_t slot)
{
    void *e = energy_of(s, slot);
    return series[s].energy_size == 8 ? *(uint64_t *)e : *(uint32_t *)e;
}
/* Slot of bucket i (0 = oldest) of a ring. */
static int32_t slot_of(int s, int32_t i) { return modulo(*newest_of(s) - series[s].count + 1 + i, series[s].count); }

/* Whole milliwatt-hours into every newest bucket, with their cost. */
static void credit(uint32_t mwh, uint32_t price_e4)
{
    cost_units += (uint64_t)mwh * price_e4;
    uint64_t milli = cost_units / COST_UNITS_PER_MILLI;
    cost_units %= COST_UNITS_PER_MILLI;
    for (int s = 0; s < SERIES; s++) {
        int32_t slot = modulo(*newest_of(s), series[s].count);
        if (series[s].energy_size == 8)
            *(uint64_t *)energy_of(s, slot) += mwh;
        else
            add_saturating(energy_of(s, slot), mwh);
        add_saturating(cost_of(s, slot), milli);
    }
    state.cost_total += milli;
}

/* Whole milliwatt-hours of what is pending go to the newest buckets. */
static void add_pending(uint32_t price_e4)
{
    uint32_t mwh = (uint32_t)(pending_uj / UJ_PER_MWH);
    pending_uj %= UJ_PER_MWH;
    if (!mwh)
        return;
    credit(mwh, price_e4);
    dirty = true;
}

/* Move the rings on to `now` (never back): the buckets after the newest up
 * to now (at most a lap) start empty. */
static void advance(const int32_t now[SERIES])
{
    for (int s = 0; s < SERIES; s++) {
        int32_t *newest = newest_of(s), count = series[s].count;
        if (*newest >= 0 && now[s] <= *newest)
            continue; /* same bucket, or the clock went back: keep counting here */
        int32_t from = *newest < 0 ? now[s] - count : *newest; /* never known: every bucket starts empty */
        int32_t steps = now[s] - from < count ? now[s] - from : count;
        for (int32_t i = 1; i <= steps; i++) {
            int32_t slot = modulo(from + i, count);
            memset(energy_of(s, slot), 0, series[s].energy_size);
            *cost_of(s, slot) = 0;
        }
        *newest = now[s];
    }
}

/* The numbers of an hour's (local) hour, day, month and year. */
static void numbers_of(int32_t hour, int32_t now[SERIES])
{
    struct civil_time civil;
    timefmt_civil((int64_t)hour * 3600, &civil);
    now[HOURS] = hour;
    now[DAYS] = hour / 24;
    now[MONTHS] = month_number(&civil);
    now[YEARS] = civil.year - 1970;
}

/* The clock moves the buckets on, then what is pending goes to the present
 * hour (as the energy counters do with the day: the pulses counted when
 * the hour changes belong to the new one), at the price in force now.
 * Until the clock is known, energy waits, and then goes to the hour the
 * clock shows.  The clock set back leaves every ring where it is. */
static void update(void)
{
    struct local_time now;
    int64_t local_s;
    if (!local_now(&now, &local_s))
        return;
    int32_t hour = (int32_t)(local_s / 3600), numbers[SERIES];
    if (state.hour < 0 || hour > state.hour) {
        numbers_of(hour, numbers);
        advance(numbers);
    }
    add_pending(tariff_price_at(&config_get()->tariff, &now.civil, now.dst));
}

static void save(void)
{
    state.energy_total_uj = energy_counters()->total_uj;
    state.price_e4 = price_now();
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
 * Total, or the next boot would take the jump for energy we did not save.
 * A Total started again from 0 starts the total cost again too. */
void history_counters_set(void)
{
    if (!started)
        return;
    if (energy_counters()->total_uj == 0)
        state.cost_total = 0;
    if (state.hour >= 0)
        save();
}

/* What the counters saved after our last save was measured in our newest
 * hour (we save whenever the hour changes), at the price of that save:
 * put it back there. */
static void reconcile(void)
{
    uint64_t total = energy_counters()->total_uj;
    cost_units = 0;
    if (state.hour < 0 || total <= state.energy_total_uj)
        return;
    uint64_t gap = total - state.energy_total_uj;
    if (gap > RECONCILE_MAX_UJ) {
        LOG_INF("HIST", "energy total moved by %lu Wh since the history's last save: not added to it",
                (unsigned long)(gap / UJ_PER_WH));
        return;
    }
    credit((uint32_t)(gap / UJ_PER_MWH), state.price_e4);
}

static bool buckets_within(const uint32_t *mwh, int count, uint32_t max)
{
    for (int i = 0; i < count; i++)
        if (mwh[i] > max)
            return false;
    return true;
}

/* A record we could have written: all indexes unknown, or the newest day
 * the one of the newest hour, the month the one of the day, the year the
 * one of the month (they move together); no bucket fuller than a plug can
 * fill it. */
static bool plausible(const struct history_record *r)
{
    if (!buckets_within(r->hour_mwh, HISTORY_HOURS, HOUR_MAX_MWH) ||
        !buckets_within(r->day_mwh, HISTORY_DAYS, DAY_MAX_MWH) || r->price_e4 > TARIFF_PRICE_MAX_E4)
        return false;
    for (int i = 0; i < HISTORY_YEARS; i++)
        if (r->year_mwh[i] > YEAR_MAX_MWH)
            return false;
    if (r->hour < 0 || r->day < 0 || r->month < 0 || r->year < 0)
        return r->hour == -1 && r->day == -1 && r->month == -1 && r->year == -1;
    struct civil_time civil;
    timefmt_civil((int64_t)r->day * 86400, &civil);
    return r->day == r->hour / 24 && r->month == month_number(&civil) && r->year == r->month / 12;
}

/* A version 1 record (hours and days, 512-byte slots), if the ring holds
 * one we could have written: carried over, its days also filling the
 * months and years they belong to. */
static bool carry_over_v1(void)
{
    static struct reclog ring_v1 = {
        .part = HAL_PART_MEDIA,
        .offset = LAYOUT_HISTORY_OFFSET,
        .sectors = LAYOUT_HISTORY_SECTORS,
        .slot_size = LAYOUT_HISTORY_SLOT_V1,
        .magic = LAYOUT_HISTORY_MAGIC,
    };
    struct history_record_v1 v1;
    uint8_t version;
    if (reclog_mount(&ring_v1) <= 0 || reclog_read(&ring_v1, &v1, sizeof v1, &version) != (int)sizeof v1 ||
        version != RECORD_VERSION_V1 || v1.hour < 0 || v1.day != v1.hour / 24 ||
        !buckets_within(v1.hour_mwh, HISTORY_HOURS, HOUR_MAX_MWH) ||
        !buckets_within(v1.day_mwh, HISTORY_DAYS, DAY_MAX_MWH))
        return false;
    /* Day by day, oldest first: each day's energy is credited to it and so
     * to its month and year (and, for now, to the newest hour). */
    for (int32_t day = v1.day - HISTORY_DAYS + 1; day <= v1.day; day++) {
        int32_t numbers[SERIES];
        numbers_of(day * 24, numbers);
        numbers[HOURS] = v1.hour;
        advance(numbers);
        credit(v1.day_mwh[modulo(day, HISTORY_DAYS)], 0);
    }
    memcpy(state.hour_mwh, v1.hour_mwh, sizeof state.hour_mwh);
    memcpy(state.day_mwh, v1.day_mwh, sizeof state.day_mwh);
    state.energy_total_uj = v1.energy_total_uj;
    LOG_INF("HIST", "energy history carried over from its version 1 record");
    return true;
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
    static const struct history_record empty = {.hour = -1, .day = -1, .month = -1, .year = -1};
    uint8_t version = 0;
    int found = reclog_mount(&ring);
    if (found > 0 && reclog_read(&ring, &state, sizeof state, &version) == (int)sizeof state &&
        version == RECORD_VERSION && plausible(&state)) {
        reconcile();
        return;
    }
    state = empty;
    if (carry_over_v1())
        reconcile();
    else if (found != 0 || ring.damaged)
        LOG_ERR("HIST", "energy history unreadable: starting empty");
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

/* A ring's buckets oldest first: energy (32-bit rings) and cost, either may be NULL. */
static void oldest_first(int s, uint32_t *energy, uint32_t *cost)
{
    for (int32_t i = 0; i < series[s].count; i++) {
        if (energy)
            energy[i] = (uint32_t)energy_at(s, slot_of(s, i));
        if (cost)
            cost[i] = *cost_of(s, slot_of(s, i));
    }
}

void history_view(struct history_view *out)
{
    update();
    memset(out, 0, sizeof *out);
    out->known = state.hour >= 0;
    out->newest_hour = state.hour;
    out->newest_day = state.day;
    if (out->known) {
        oldest_first(HOURS, out->hour_mwh, NULL);
        oldest_first(DAYS, out->day_mwh, NULL);
    }
}

void history_long_view(struct history_long_view *out)
{
    update();
    memset(out, 0, sizeof *out);
    out->known = state.hour >= 0;
    out->newest_month = state.month;
    out->newest_year = state.year;
    if (!out->known)
        return;
    oldest_first(HOURS, NULL, out->hour_cost);
    oldest_first(DAYS, NULL, out->day_cost);
    oldest_first(MONTHS, out->month_mwh, out->month_cost);
    oldest_first(YEARS, NULL, out->year_cost);
    for (int32_t i = 0; i < HISTORY_YEARS; i++)
        out->year_mwh[i] = energy_at(YEARS, slot_of(YEARS, i));
}

void history_cost(struct history_cost *out)
{
    update();
    memset(out, 0, sizeof *out);
    out->priced = tariff_priced(&config_get()->tariff);
    struct local_time now;
    int64_t local_s;
    if (!out->priced || state.hour < 0)
        return;
    out->total = state.cost_total;
    if (!local_now(&now, &local_s))
        return; /* today is not known */
    int32_t today = (int32_t)(local_s / 86400);
    /* The newest buckets are today's and this month's unless the clock
     * went back (then they are later ones, and today has cost nothing). */
    if (state.day == today) {
        out->today = state.day_cost[modulo(today, HISTORY_DAYS)];
        out->yesterday = state.day_cost[modulo(today - 1, HISTORY_DAYS)];
    }
    if (state.month == month_number(&now.civil))
        out->month = state.month_cost[modulo(state.month, HISTORY_MONTHS)];
}

/* A ring's buckets in JSON, oldest first, in 1/1000 (mWh: Wh; milli:
 * the currency); all 0 while the clock was never known. */
static void write_ring(struct json_writer *w, int s, bool cost)
{
    jw_array_begin(w, cost ? series[s].cost_key : series[s].energy_key);
    for (int32_t i = 0; i < series[s].count; i++) {
        int32_t slot = slot_of(s, i);
        int64_t value = cost ? *cost_of(s, slot) : (int64_t)energy_at(s, slot);
        jw_fixed(w, NULL, state.hour >= 0 ? value : 0, 3);
    }
    jw_array_end(w);
}

void history_write_json(struct json_writer *w)
{
    struct local_time now;
    int64_t local_s;
    update();
    jw_bool(w, "clock", local_now(&now, &local_s));
    for (int s = 0; s < SERIES; s++) {
        if (*newest_of(s) >= 0)
            jw_int(w, series[s].index_key, *newest_of(s));
        else
            jw_raw(w, series[s].index_key, "null");
    }
    for (int s = 0; s < SERIES; s++)
        write_ring(w, s, false);
    const struct config_tariff *tariff = &config_get()->tariff;
    if (!tariff_priced(tariff))
        return;
    struct history_cost cost;
    history_cost(&cost);
    jw_string(w, "currency", tariff->currency);
    jw_object_begin(w, "cost");
    jw_fixed(w, "today", (int64_t)cost.today, 3);
    jw_fixed(w, "yesterday", (int64_t)cost.yesterday, 3);
    jw_fixed(w, "month", (int64_t)cost.month, 3);
    jw_fixed(w, "total", (int64_t)cost.total, 3);
    jw_object_end(w);
    for (int s = 0; s < SERIES; s++)
        write_ring(w, s, true);
}

uint32_t history_saves(void) { return saves; }
