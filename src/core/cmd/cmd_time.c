/*
 * cmd_time.c — the clock's commands: Time, Timezone (±HH:MM, Tasmota's 99,
 * or a POSIX TZ rule), TimeStd / TimeDst (Tasmota's DST rules, kept as the
 * POSIX rule in config->time.tz) and Status 7.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cmd/commands.h"
#include "core/timekeeping.h"
#include "hal/hal.h"

/* Tasmota's defaults for TimeStd / TimeDst: central European time. */
static const struct tz_when tasmota_std_default = {TZ_WHEN_MONTH_WEEK_DAY, 10, 5, 0, 0, 3 * 3600};
static const struct tz_when tasmota_dst_default = {TZ_WHEN_MONTH_WEEK_DAY, 3, 5, 0, 0, 2 * 3600};

static enum cmd_result apply_rule(struct cmd_ctx *ctx, const struct tz_rule *rule)
{
    char text[TZ_TEXT_MAX + 32], error[64];
    tz_format(rule, text, sizeof text);
    int err = clock_zone_set(text, ctx->source, error, sizeof error);
    if (err == -1)
        return cmd_error(ctx, "%s: %s", ctx->name, error);
    if (err)
        return cmd_error(ctx, "%s: cannot save settings (flash error)", ctx->name);
    return CMD_DONE;
}

/* ---- Time ---- */

static enum cmd_result cmd_time(struct cmd_ctx *ctx)
{
    long seconds;
    char text[24];
    if (strcmp(ctx->arg, "0") == 0) {
        clock_resync(ctx->source);
    } else if (*ctx->arg) {
        if (!cmd_parse_long(ctx->arg, 1000000000L, 2147483647L, &seconds))
            return cmd_error(ctx, "Time: expected Unix seconds (UTC), e.g. 1790000000, or 0 (back to NTP)");
        clock_set((int64_t)seconds * 1000, ctx->source);
    }
    if (!clock_known())
        return cmd_error(ctx, "Time: the clock is not set yet (NTP, or Time <Unix seconds>)");
    clock_local_iso8601(text, sizeof text);
    jw_string(ctx->reply, "Time", text);
    jw_int(ctx->reply, "Epoch", clock_utc_s());
    return CMD_DONE;
}

/* ---- Timezone ---- */

static void write_timezone(struct json_writer *w)
{
    const struct tz_rule *zone = clock_zone();
    char text[TZ_TEXT_MAX + 32];
    if (tz_has_dst(zone)) {
        jw_int(w, "Timezone", 99);
    } else {
        tz_format_offset(zone->std_offset_s, text, sizeof text);
        jw_string(w, "Timezone", text);
    }
    tz_format(zone, text, sizeof text);
    jw_string(w, "TZ", text);
}

/* "+01:00", "-3", "5:30", "+14": hours (and minutes) east of UTC. */
static bool parse_fixed_offset(const char *text, int32_t *offset_s)
{
    int sign = *text == '-' ? -1 : 1;
    if (*text == '+' || *text == '-')
        text++;
    char hours[4] = "", *end;
    size_t n = strspn(text, "0123456789");
    if (n == 0 || n > 2)
        return false;
    memcpy(hours, text, n);
    long h = strtol(hours, &end, 10), m = 0;
    text += n;
    if (*text == ':') {
        if (strlen(text + 1) != 2 || strspn(text + 1, "0123456789") != 2)
            return false;
        m = strtol(text + 1, &end, 10);
        text += 3;
    }
    if (*text || m > 59 || h * 60 + m > (sign < 0 ? 13 * 60 : 14 * 60))
        return false;
    *offset_s = (int32_t)(sign * (h * 3600 + m * 60));
    return true;
}

/* A rule with daylight saving time, completing a fixed zone with Tasmota's defaults. */
static struct tz_rule with_dst(void)
{
    struct tz_rule rule = *clock_zone();
    if (!tz_has_dst(&rule)) {
        strcpy(rule.dst_name, "DST");
        if (rule.std_offset_s == 0) { /* Tasmota's TimeStd / TimeDst defaults: CET, CEST */
            rule.std_offset_s = 3600;
            strcpy(rule.std_name, "STD");
        }
        rule.dst_offset_s = rule.std_offset_s + 3600;
        rule.dst_start = tasmota_dst_default;
        rule.dst_end = tasmota_std_default;
    }
    return rule;
}

static enum cmd_result cmd_timezone(struct cmd_ctx *ctx)
{
    int32_t offset_s;
    if (*ctx->arg) {
        struct tz_rule rule;
        if (strcmp(ctx->arg, "99") == 0) {
            rule = with_dst();
        } else if (parse_fixed_offset(ctx->arg, &offset_s)) {
            rule = (struct tz_rule){.std_offset_s = offset_s};
            if (offset_s)
                snprintf(rule.std_name, sizeof rule.std_name, "%c%02ld%02ld", offset_s < 0 ? '-' : '+',
                         (long)(abs(offset_s) / 3600), (long)(abs(offset_s) / 60 % 60));
            else
                strcpy(rule.std_name, "UTC");
        } else {
            char error[64];
            if (!tz_parse(ctx->arg, &rule, error, sizeof error))
                return cmd_error(ctx, "Timezone: expected -13:00 .. +14:00, 99 (TimeStd/TimeDst) or a POSIX "
                                      "rule such as CET-1CEST,M3.5.0,M10.5.0/3 (%s)", error);
        }
        if (apply_rule(ctx, &rule) != CMD_DONE)
            return CMD_FAILED;
    }
    write_timezone(ctx->reply);
    return CMD_DONE;
}

/* ---- TimeStd / TimeDst: hemisphere,week,month,day,hour,offset ---- */

static void write_tasmota_rule(struct json_writer *w, const char *key, const struct tz_when *when, int32_t offset_s)
{
    const struct tz_rule *zone = clock_zone();
    jw_object_begin(w, key);
    jw_int(w, "Hemisphere", zone->dst_start.month > zone->dst_end.month);
    jw_int(w, "Week", when->week == 5 ? 0 : when->week);
    jw_int(w, "Month", when->month);
    jw_int(w, "Day", when->weekday + 1);
    jw_int(w, "Hour", when->time_s / 3600);
    jw_int(w, "Offset", offset_s / 60);
    jw_object_end(w);
}

static enum cmd_result cmd_time_rule(struct cmd_ctx *ctx, bool dst)
{
    static const long min[6] = {0, 0, 1, 1, 0, -780}, max[6] = {1, 4, 12, 7, 23, 780};
    if (*ctx->arg) {
        long v[6];
        char *cursor = ctx->arg;
        for (int i = 0; i < 6; i++) {
            char *field = cursor, *comma = cursor ? strchr(cursor, ',') : NULL;
            if (comma)
                *comma = '\0';
            cursor = comma ? comma + 1 : NULL;
            if (!field || !cmd_parse_long(field, min[i], max[i], &v[i]))
                return cmd_error(ctx, "%s: expected hemisphere 0|1, week 0 (last) .. 4, month 1..12, day 1 "
                                      "(Sunday) .. 7, hour 0..23, offset -780..780 minutes, e.g. %s",
                                 ctx->name, dst ? "0,0,3,1,2,120" : "0,0,10,1,3,60");
        }
        if (cursor)
            return cmd_error(ctx, "%s: six values expected", ctx->name);
        struct tz_rule rule = with_dst();
        struct tz_when when = {TZ_WHEN_MONTH_WEEK_DAY, (uint8_t)v[2], (uint8_t)(v[1] ? v[1] : 5), (uint8_t)(v[3] - 1),
                               0, (int32_t)v[4] * 3600};
        if (dst) {
            rule.dst_start = when;
            rule.dst_offset_s = (int32_t)v[5] * 60;
        } else {
            rule.dst_end = when;
            rule.std_offset_s = (int32_t)v[5] * 60;
        }
        if (apply_rule(ctx, &rule) != CMD_DONE)
            return CMD_FAILED;
    }
    const struct tz_rule *zone = clock_zone();
    if (!tz_has_dst(zone) || zone->dst_start.kind != TZ_WHEN_MONTH_WEEK_DAY ||
        zone->dst_end.kind != TZ_WHEN_MONTH_WEEK_DAY)
        return cmd_error(ctx, "%s: the time zone has no Mm.w.d daylight saving rule (Timezone 99 starts one)",
                         ctx->name);
    if (dst)
        write_tasmota_rule(ctx->reply, "TimeDst", &zone->dst_start, zone->dst_offset_s);
    else
        write_tasmota_rule(ctx->reply, "TimeStd", &zone->dst_end, zone->std_offset_s);
    return CMD_DONE;
}

static enum cmd_result cmd_time_std(struct cmd_ctx *ctx) { return cmd_time_rule(ctx, false); }
static enum cmd_result cmd_time_dst(struct cmd_ctx *ctx) { return cmd_time_rule(ctx, true); }

/* ---- Status 7 ---- */

void cmd_time_status(struct json_writer *w)
{
    char text[24];
    struct local_time now;
    jw_object_begin(w, "StatusTIM");
    if (clock_local_now(&now)) {
        timefmt_iso8601(now.utc_s, text, sizeof text);
        jw_string(w, "UTC", text);
        timefmt_iso8601(now.utc_s + now.offset_s, text, sizeof text);
        jw_string(w, "Local", text);
        int64_t start, end;
        const struct tz_rule *zone = clock_zone();
        if (tz_dst_changes(zone, now.civil.year, &start, &end)) {
            /* each in the local time in force before it, as the rule says it */
            timefmt_iso8601(start + zone->std_offset_s, text, sizeof text);
            jw_string(w, "StartDST", text);
            timefmt_iso8601(end + zone->dst_offset_s, text, sizeof text);
            jw_string(w, "EndDST", text);
        }
        jw_int(w, "DST", now.dst);
    } else {
        jw_string(w, "UTC", "");
        jw_string(w, "Local", "");
    }
    write_timezone(w);
    jw_string(w, "ClockSource", source_name(clock_set_by()));
    jw_object_end(w);
}

static const struct cmd_def time_commands[] = {
    {"Time", cmd_time, 0, "Time [Unix seconds | 0]: show the local time, set the clock (pauses NTP) or 0: NTP again"},
    {"Timezone", cmd_timezone, 0,
     "Timezone [-13:00..+14:00 | 99 | POSIX rule]: show or set the time zone (99: TimeStd/TimeDst)"},
    {"TimeStd", cmd_time_std, 0, "TimeStd [hemisphere,week,month,day,hour,offset]: when standard time starts"},
    {"TimeDst", cmd_time_dst, 0, "TimeDst [hemisphere,week,month,day,hour,offset]: when daylight saving starts"},
};

void cmd_time_register(void)
{
    static struct cmd_table table;
    cmd_register(&table, time_commands, sizeof time_commands / sizeof time_commands[0]);
}
