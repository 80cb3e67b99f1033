/*
 * fuzz_tz.c — tz_parse(), tz_format() and tz_offset_at() (src/core/util/tz.h).
 *
 * The input: 8 bytes of a UTC instant, then a TZ rule text.  Properties:
 *   - a refused rule leaves the rule untouched and says why;
 *   - an accepted rule prints as a string that parses again to the same
 *     rule (and prints the same);
 *   - offsets are always the standard or the DST offset, within ±25 h;
 *   - tz_dst_changes() puts the start and end of DST within two days of
 *     their calendar year.
 */
#include "core/util/tz.h"
#include "fuzz_input.h"

static bool same_when(const struct tz_when *a, const struct tz_when *b)
{
    return a->kind == b->kind && a->month == b->month && a->week == b->week && a->weekday == b->weekday &&
           a->day == b->day && a->time_s == b->time_s;
}

static bool same_rule(const struct tz_rule *a, const struct tz_rule *b)
{
    return !strcmp(a->std_name, b->std_name) && !strcmp(a->dst_name, b->dst_name) &&
           a->std_offset_s == b->std_offset_s && (!tz_has_dst(a) || (a->dst_offset_s == b->dst_offset_s &&
                                                                     same_when(&a->dst_start, &b->dst_start) &&
                                                                     same_when(&a->dst_end, &b->dst_end)));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_in in = fuzz_in(data, size);
    int64_t utc_s = (int64_t)(fuzz_u64(&in) % 8000000000ull) - 2000000000; /* 1906 .. 2160 */
    size_t len = fuzz_left(&in);
    char *text = malloc(len + 1);
    fuzz_bytes(&in, text, len);
    text[len] = '\0';

    struct tz_rule rule, again, untouched;
    char error[64] = "", printed[128], printed_again[128];
    memset(&rule, 0xA5, sizeof rule);
    memcpy(&untouched, &rule, sizeof rule);
    if (!tz_parse(text, &rule, error, sizeof error)) {
        FUZZ_CHECK(memcmp(&rule, &untouched, sizeof rule) == 0);
        FUZZ_CHECK(error[0] != '\0');
        free(text);
        return 0;
    }
    tz_format(&rule, printed, sizeof printed);
    FUZZ_CHECK(tz_parse(printed, &again, error, sizeof error));
    FUZZ_CHECK(same_rule(&rule, &again));
    tz_format(&again, printed_again, sizeof printed_again);
    FUZZ_CHECK(strcmp(printed, printed_again) == 0);

    bool dst;
    int32_t offset = tz_offset_at(&rule, utc_s, &dst);
    FUZZ_CHECK(offset == (dst ? rule.dst_offset_s : rule.std_offset_s));
    FUZZ_CHECK(offset >= -25 * 3600 && offset <= 25 * 3600);
    FUZZ_CHECK(!dst || tz_has_dst(&rule));
    int64_t start, end;
    struct civil_time t;
    timefmt_civil(utc_s, &t);
    if (tz_dst_changes(&rule, t.year, &start, &end)) {
        int64_t jan1 = timefmt_days_from_civil(t.year, 1, 1) * 86400, next = timefmt_days_from_civil(t.year + 1, 1, 1) * 86400;
        int64_t slack = 9 * 86400; /* 167 h of change time and 25 h of offset */
        FUZZ_CHECK(start >= jan1 - slack && start < next + slack);
        FUZZ_CHECK(end >= jan1 - slack && end < next + slack);
    }
    free(text);
    return 0;
}
