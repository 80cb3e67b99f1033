/* tz.c — POSIX TZ rules: parsing, formatting, local offset; see tz.h. */
#include "tz.h"

#include <stdio.h>
#include <string.h>

#define HOUR 3600
#define MAX_OFFSET_S (25 * HOUR)     /* POSIX: 0..24 hours, either side */
#define MAX_CHANGE_TIME_S (167 * HOUR) /* RFC 8536 extension */

void tz_utc(struct tz_rule *rule)
{
    *rule = (struct tz_rule){.std_name = "UTC"};
}

/* ---- Parsing ---- */

struct cursor {
    const char *p;
    char *error;
    size_t error_size;
};

static bool fail(struct cursor *c, const char *what)
{
    snprintf(c->error, c->error_size, "%s at \"%.12s\"", what, c->p);
    return false;
}

/* Take one expected character (never steps past the end of the text). */
static bool take(struct cursor *c, char expected)
{
    if (*c->p != expected)
        return false;
    c->p++;
    return true;
}

static bool is_alpha(char ch) { return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z'); }
static bool is_digit(char ch) { return ch >= '0' && ch <= '9'; }

static bool parse_name(struct cursor *c, char *name)
{
    size_t n = 0;
    if (*c->p == '<') {
        c->p++;
        while (is_alpha(*c->p) || is_digit(*c->p) || *c->p == '+' || *c->p == '-') {
            if (n == TZ_NAME_MAX)
                return fail(c, "zone name too long");
            name[n++] = *c->p++;
        }
        if (*c->p != '>')
            return fail(c, "expected '>' closing the zone name");
        c->p++;
    } else {
        while (is_alpha(*c->p)) {
            if (n == TZ_NAME_MAX)
                return fail(c, "zone name too long");
            name[n++] = *c->p++;
        }
    }
    name[n] = '\0';
    if (n < 3)
        return fail(c, "expected a zone name of 3 or more letters");
    return true;
}

/* A decimal number of at most `digits` digits within [0, max]. */
static bool parse_number(struct cursor *c, unsigned digits, long max, long *out)
{
    long value = 0;
    unsigned n = 0;
    while (is_digit(*c->p) && n < digits) {
        value = value * 10 + (*c->p++ - '0');
        n++;
    }
    if (!n || is_digit(*c->p) || value > max)
        return false;
    *out = value;
    return true;
}

/* [+-]hh[:mm[:ss]], hours up to max_hours, in seconds. */
static bool parse_hms(struct cursor *c, long max_hours, int32_t *out)
{
    int sign = 1;
    if (*c->p == '+' || *c->p == '-')
        sign = *c->p++ == '-' ? -1 : 1;
    long h, m = 0, s = 0;
    if (!parse_number(c, 3, max_hours, &h))
        return fail(c, "expected hours");
    if (*c->p == ':') {
        c->p++;
        if (!parse_number(c, 2, 59, &m))
            return fail(c, "expected minutes 00..59");
        if (*c->p == ':') {
            c->p++;
            if (!parse_number(c, 2, 59, &s))
                return fail(c, "expected seconds 00..59");
        }
    }
    *out = (int32_t)(sign * (h * HOUR + m * 60 + s));
    return true;
}

/* A POSIX offset (west positive), stored as local minus UTC. */
static bool parse_offset(struct cursor *c, int32_t *local_minus_utc)
{
    int32_t west;
    if (!parse_hms(c, 24, &west))
        return false;
    *local_minus_utc = -west;
    return true;
}

static bool parse_when(struct cursor *c, struct tz_when *when)
{
    long a, b, d;
    *when = (struct tz_when){.time_s = 2 * HOUR};
    if (*c->p == 'M') {
        c->p++;
        if (!parse_number(c, 2, 12, &a) || a < 1 || !take(c, '.') || !parse_number(c, 1, 5, &b) || b < 1 ||
            !take(c, '.') || !parse_number(c, 1, 6, &d))
            return fail(c, "expected Mm.w.d (month 1-12, week 1-5, weekday 0-6)");
        when->kind = TZ_WHEN_MONTH_WEEK_DAY;
        when->month = (uint8_t)a;
        when->week = (uint8_t)b;
        when->weekday = (uint8_t)d;
    } else if (*c->p == 'J') {
        c->p++;
        if (!parse_number(c, 3, 365, &a) || a < 1)
            return fail(c, "expected Jn with n 1-365");
        when->kind = TZ_WHEN_JULIAN_NO_LEAP;
        when->day = (uint16_t)a;
    } else {
        if (!parse_number(c, 3, 365, &a))
            return fail(c, "expected a change date (Mm.w.d, Jn or n)");
        when->kind = TZ_WHEN_YEAR_DAY;
        when->day = (uint16_t)a;
    }
    if (*c->p == '/') {
        c->p++;
        if (!parse_hms(c, 167, &when->time_s))
            return false;
    }
    return true;
}

bool tz_parse(const char *text, struct tz_rule *rule, char *error, size_t error_size)
{
    struct cursor c = {text, error, error_size};
    struct tz_rule r = {0};
    if (!*text) {
        tz_utc(rule);
        return true;
    }
    if (strlen(text) > TZ_TEXT_MAX)
        return fail(&c, "rule too long");
    if (!parse_name(&c, r.std_name) || !parse_offset(&c, &r.std_offset_s))
        return false;
    if (*c.p && *c.p != ',') {
        if (!parse_name(&c, r.dst_name))
            return false;
        r.dst_offset_s = r.std_offset_s + HOUR;
        if (*c.p && *c.p != ',' && !parse_offset(&c, &r.dst_offset_s))
            return false;
        r.dst_start = (struct tz_when){TZ_WHEN_MONTH_WEEK_DAY, 3, 2, 0, 0, 2 * HOUR};
        r.dst_end = (struct tz_when){TZ_WHEN_MONTH_WEEK_DAY, 11, 1, 0, 0, 2 * HOUR};
        if (*c.p == ',') {
            c.p++;
            if (!parse_when(&c, &r.dst_start))
                return false;
            if (!take(&c, ','))
                return fail(&c, "expected ',' and the end of daylight saving time");
            if (!parse_when(&c, &r.dst_end))
                return false;
        }
    } else if (*c.p == ',') {
        return fail(&c, "change dates without a daylight saving zone name");
    }
    if (*c.p)
        return fail(&c, "unexpected text");
    *rule = r;
    return true;
}

/* ---- Formatting ---- */

static bool needs_quotes(const char *name)
{
    for (; *name; name++)
        if (!is_alpha(*name))
            return true;
    return false;
}

static size_t put(char *buf, size_t size, size_t len, const char *fmt, const char *s, long a, long b, long c)
{
    if (len >= size)
        return len;
    int n = s ? snprintf(buf + len, size - len, fmt, s) : snprintf(buf + len, size - len, fmt, a, b, c);
    return n < 0 ? len : len + (size_t)n;
}

static size_t put_name(char *buf, size_t size, size_t len, const char *name)
{
    return put(buf, size, len, needs_quotes(name) ? "<%s>" : "%s", name, 0, 0, 0);
}

/* [-]h[:mm[:ss]] */
static size_t put_hms(char *buf, size_t size, size_t len, int32_t seconds)
{
    if (seconds < 0) {
        len = put(buf, size, len, "-", "", 0, 0, 0);
        seconds = -seconds;
    }
    long h = seconds / HOUR, m = seconds / 60 % 60, s = seconds % 60;
    if (s)
        return put(buf, size, len, "%ld:%02ld:%02ld", NULL, h, m, s);
    if (m)
        return put(buf, size, len, "%ld:%02ld", NULL, h, m, 0);
    return put(buf, size, len, "%ld", NULL, h, 0, 0);
}

static size_t put_when(char *buf, size_t size, size_t len, const struct tz_when *w)
{
    if (w->kind == TZ_WHEN_MONTH_WEEK_DAY)
        len = put(buf, size, len, ",M%ld.%ld.%ld", NULL, w->month, w->week, w->weekday);
    else
        len = put(buf, size, len, w->kind == TZ_WHEN_JULIAN_NO_LEAP ? ",J%ld" : ",%ld", NULL, w->day, 0, 0);
    if (w->time_s != 2 * HOUR) {
        len = put(buf, size, len, "/", "", 0, 0, 0);
        len = put_hms(buf, size, len, w->time_s);
    }
    return len;
}

void tz_format(const struct tz_rule *rule, char *buf, size_t size)
{
    size_t len = 0;
    if (!size)
        return;
    buf[0] = '\0';
    len = put_name(buf, size, len, rule->std_name);
    len = put_hms(buf, size, len, -rule->std_offset_s);
    if (!tz_has_dst(rule))
        return;
    len = put_name(buf, size, len, rule->dst_name);
    if (rule->dst_offset_s != rule->std_offset_s + HOUR)
        len = put_hms(buf, size, len, -rule->dst_offset_s);
    len = put_when(buf, size, len, &rule->dst_start);
    put_when(buf, size, len, &rule->dst_end);
}

void tz_format_offset(int32_t offset_s, char *buf, size_t size)
{
    int32_t a = offset_s < 0 ? -offset_s : offset_s;
    snprintf(buf, size, "%c%02ld:%02ld", offset_s < 0 ? '-' : '+', (long)(a / HOUR), (long)(a / 60 % 60));
}

/* ---- Local time ---- */

/* Day number (since the epoch) of a change in `year`. */
static int64_t change_day(const struct tz_when *w, int32_t year)
{
    int64_t jan1 = timefmt_days_from_civil(year, 1, 1);
    switch (w->kind) {
    case TZ_WHEN_JULIAN_NO_LEAP:
        return jan1 + w->day - 1 + (timefmt_is_leap(year) && w->day >= 60);
    case TZ_WHEN_YEAR_DAY:
        return jan1 + w->day;
    default: {
        int64_t first = timefmt_days_from_civil(year, w->month, 1);
        int64_t first_weekday = ((first + 4) % 7 + 7) % 7;
        int64_t day = first + (w->weekday - first_weekday + 7) % 7 + (int64_t)(w->week - 1) * 7;
        int64_t month_end = first + timefmt_days_in_month(year, w->month);
        while (day >= month_end)
            day -= 7; /* week 5: the last one */
        return day;
    }
    }
}

bool tz_dst_changes(const struct tz_rule *rule, int32_t year, int64_t *start_utc_s, int64_t *end_utc_s)
{
    if (!tz_has_dst(rule))
        return false;
    /* Each change happens in the local time in force before it. */
    *start_utc_s = change_day(&rule->dst_start, year) * 86400 + rule->dst_start.time_s - rule->std_offset_s;
    *end_utc_s = change_day(&rule->dst_end, year) * 86400 + rule->dst_end.time_s - rule->dst_offset_s;
    return true;
}

int32_t tz_offset_at(const struct tz_rule *rule, int64_t utc_s, bool *dst)
{
    bool in_dst = false;
    int64_t start, end;
    struct civil_time t;
    timefmt_civil(utc_s + rule->std_offset_s, &t);
    if (tz_dst_changes(rule, t.year, &start, &end)) {
        if (start < end) /* northern hemisphere: DST inside the year */
            in_dst = utc_s >= start && utc_s < end;
        else /* southern: DST across the new year */
            in_dst = !(utc_s >= end && utc_s < start);
    }
    if (dst)
        *dst = in_dst;
    return in_dst ? rule->dst_offset_s : rule->std_offset_s;
}
