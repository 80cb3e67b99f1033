/* timekeeping.c — wall clock state, local time, clock events; see timekeeping.h. */
#include "timekeeping.h"

#include <string.h>

#include "core/log.h"
#include "core/sched.h"
#include "core/storage/config.h"
#include "core/system.h"
#include "hal/hal.h"

#define STEP_THRESHOLD_MS 1000
#define DST_WATCH_MAX_MS (6u * 3600 * 1000) /* re-arm at least this often */

static struct tz_rule zone = {.std_name = "UTC"};
static enum source set_by = SOURCE_BOOT;
static struct sched_timer dst_timer;
static int32_t offset_in_force;

static void announce(enum clock_change change, enum source source)
{
    event_publish(&(struct event){.type = EVENT_CLOCK, .value = change, .source = source});
}

/* The next UTC instant after now at which the zone's offset changes, or -1. */
static int64_t next_offset_change(int64_t now_s)
{
    struct civil_time t;
    timefmt_civil(now_s + zone.std_offset_s, &t);
    int64_t best = -1, start, end;
    for (int32_t year = t.year; year <= t.year + 1; year++) {
        if (!tz_dst_changes(&zone, year, &start, &end))
            return -1;
        if (start > now_s && (best < 0 || start < best))
            best = start;
        if (end > now_s && (best < 0 || end < best))
            best = end;
    }
    return best;
}

/* Arm the timer for the next DST change (or a later look, for long waits). */
static void watch_dst(void)
{
    int64_t now_ms = clock_utc_ms();
    sched_timer_stop(&dst_timer);
    if (now_ms < 0)
        return;
    offset_in_force = tz_offset_at(&zone, now_ms / 1000, NULL);
    int64_t next_s = next_offset_change(now_ms / 1000);
    if (next_s < 0)
        return;
    int64_t wait_ms = next_s * 1000 - now_ms;
    sched_timer_start(&dst_timer, wait_ms > DST_WATCH_MAX_MS ? DST_WATCH_MAX_MS : (uint32_t)wait_ms, 0);
}

static void dst_due(void *arg)
{
    (void)arg;
    int32_t before = offset_in_force;
    watch_dst();
    if (offset_in_force != before) {
        bool dst;
        tz_offset_at(&zone, clock_utc_s(), &dst);
        LOG_INF("TIM", "daylight saving time %s", dst ? "starts" : "ends");
        announce(CLOCK_DST, SOURCE_BOOT);
    }
}

void clock_start(void)
{
    char error[64];
    if (!tz_parse(config_get()->time.tz, &zone, error, sizeof error)) {
        LOG_ERR("TIM", "time zone \"%s\" ignored (%s): using UTC", config_get()->time.tz, error);
        tz_utc(&zone);
    }
    sched_timer_init(&dst_timer, dst_due, NULL);
    int64_t before_reset_ms = system_wall_before_reset_ms();
    if (before_reset_ms > 0 && !clock_known())
        clock_set(before_reset_ms, SOURCE_BOOT); /* a reset, not a power cut: about right; NTP refines it */
    watch_dst();
}

bool clock_known(void) { return hal_wallclock_ms() >= 0; }
int64_t clock_utc_ms(void) { return hal_wallclock_ms(); }

int64_t clock_utc_s(void)
{
    int64_t ms = hal_wallclock_ms();
    return ms < 0 ? -1 : ms / 1000;
}

enum source clock_set_by(void) { return clock_known() ? set_by : SOURCE_BOOT; }


void clock_set(int64_t utc_ms, enum source by)
{
    int64_t before = hal_wallclock_ms();
    hal_wallclock_set(utc_ms);
    set_by = by;
    int64_t step = before < 0 ? 0 : utc_ms - before;
    watch_dst();
    if (before < 0) {
        if (by == SOURCE_BOOT)
            LOG_INF("TIM", "clock kept across the reset");
        else
            LOG_INF("TIM", "clock set (%s)", source_name(by));
        announce(CLOCK_SET, by);
    } else if (step >= STEP_THRESHOLD_MS || step <= -STEP_THRESHOLD_MS) {
        LOG_INF("TIM", "clock stepped by %+ld s (%s)", (long)(step / 1000), source_name(by));
        announce(CLOCK_STEP, by);
    }
}

void clock_resync(enum source by)
{
    if (clock_known() && set_by != SOURCE_NTP)
        set_by = SOURCE_BOOT; /* known, but nobody vouches for it any more */
    LOG_INF("TIM", "network time sync asked for (%s)", source_name(by));
    announce(CLOCK_RESYNC, by);
}

void clock_local_at(int64_t utc_s, struct local_time *out)
{
    out->utc_s = utc_s;
    out->offset_s = tz_offset_at(&zone, utc_s, &out->dst);
    out->day = (int32_t)timefmt_day_number(utc_s + out->offset_s);
    timefmt_civil(utc_s + out->offset_s, &out->civil);
}

bool clock_local_now(struct local_time *out)
{
    int64_t utc_s = clock_utc_s();
    if (utc_s < 0)
        return false;
    clock_local_at(utc_s, out);
    return true;
}

const struct tz_rule *clock_zone(void) { return &zone; }

int clock_zone_set(const char *posix, enum source by, char *error, size_t error_size)
{
    struct tz_rule parsed;
    if (!tz_parse(posix, &parsed, error, error_size)) /* also checks the length */
        return -1;
    struct config *next = config_edit();
    memset(next->time.tz, 0, sizeof next->time.tz);
    memcpy(next->time.tz, posix, strlen(posix));
    int err = config_update(next);
    if (err)
        return err;
    zone = parsed;
    watch_dst();
    LOG_INF("TIM", "time zone \"%s\"", config_get()->time.tz);
    announce(CLOCK_ZONE, by);
    return 0;
}

/* Formatted once a second (as web servers keep their Date header): a
 * plug writes its time into every reply and report. */
void clock_local_iso8601(char *buf, size_t size)
{
    static int64_t formatted_s = -1;
    static char text[24];
    struct local_time now;
    int64_t seconds = clock_local_now(&now) ? now.utc_s + now.offset_s : (int64_t)(hal_time_ms() / 1000);
    if (seconds != formatted_s) {
        timefmt_iso8601(seconds, text, sizeof text);
        formatted_s = seconds;
    }
    size_t n = strlen(text) < size ? strlen(text) : size - 1;
    memcpy(buf, text, n);
    buf[n] = '\0';
}
