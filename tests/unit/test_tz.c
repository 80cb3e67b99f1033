/* test_tz.c — POSIX TZ rules: parsing, errors, round trips, and the local
 * offset around every change of 2026-2028, against glibc's reading of the
 * same rules (the table was made with Python's time.localtime under TZ=…). */
#include "core/util/tz.h"
#include "harness.h"

struct offset_case {
    const char *rule;
    int64_t utc_s;
    int32_t offset_s;
    int dst;
};

static const struct offset_case cases[] = {
    {"CET-1CEST,M3.5.0,M10.5.0/3", 1767225600, 3600, 0},
    {"CET-1CEST,M3.5.0,M10.5.0/3", 1774745999, 3600, 0},
    {"CET-1CEST,M3.5.0,M10.5.0/3", 1774746000, 7200, 1},
    {"CET-1CEST,M3.5.0,M10.5.0/3", 1792889999, 7200, 1},
    {"CET-1CEST,M3.5.0,M10.5.0/3", 1792890000, 3600, 0},
    {"CET-1CEST,M3.5.0,M10.5.0/3", 1806195599, 3600, 0},
    {"CET-1CEST,M3.5.0,M10.5.0/3", 1806195600, 7200, 1},
    {"CET-1CEST,M3.5.0,M10.5.0/3", 1824944399, 7200, 1},
    {"CET-1CEST,M3.5.0,M10.5.0/3", 1824944400, 3600, 0},
    {"CET-1CEST,M3.5.0,M10.5.0/3", 1837645199, 3600, 0},
    {"CET-1CEST,M3.5.0,M10.5.0/3", 1837645200, 7200, 1},
    {"CET-1CEST,M3.5.0,M10.5.0/3", 1856393999, 7200, 1},
    {"CET-1CEST,M3.5.0,M10.5.0/3", 1856394000, 3600, 0},
    {"AEST-10AEDT,M10.1.0,M4.1.0/3", 1767225600, 39600, 1},
    {"AEST-10AEDT,M10.1.0,M4.1.0/3", 1775318399, 39600, 1},
    {"AEST-10AEDT,M10.1.0,M4.1.0/3", 1775318400, 36000, 0},
    {"AEST-10AEDT,M10.1.0,M4.1.0/3", 1791043199, 36000, 0},
    {"AEST-10AEDT,M10.1.0,M4.1.0/3", 1791043200, 39600, 1},
    {"AEST-10AEDT,M10.1.0,M4.1.0/3", 1806767999, 39600, 1},
    {"AEST-10AEDT,M10.1.0,M4.1.0/3", 1806768000, 36000, 0},
    {"AEST-10AEDT,M10.1.0,M4.1.0/3", 1822492799, 36000, 0},
    {"AEST-10AEDT,M10.1.0,M4.1.0/3", 1822492800, 39600, 1},
    {"AEST-10AEDT,M10.1.0,M4.1.0/3", 1838217599, 39600, 1},
    {"AEST-10AEDT,M10.1.0,M4.1.0/3", 1838217600, 36000, 0},
    {"AEST-10AEDT,M10.1.0,M4.1.0/3", 1853942399, 36000, 0},
    {"AEST-10AEDT,M10.1.0,M4.1.0/3", 1853942400, 39600, 1},
    {"EST5EDT", 1767225600, -18000, 0},
    {"EST5EDT", 1772953199, -18000, 0},
    {"EST5EDT", 1772953200, -14400, 1},
    {"EST5EDT", 1793512799, -14400, 1},
    {"EST5EDT", 1793512800, -18000, 0},
    {"EST5EDT", 1805007599, -18000, 0},
    {"EST5EDT", 1805007600, -14400, 1},
    {"EST5EDT", 1825567199, -14400, 1},
    {"EST5EDT", 1825567200, -18000, 0},
    {"EST5EDT", 1836457199, -18000, 0},
    {"EST5EDT", 1836457200, -14400, 1},
    {"EST5EDT", 1857016799, -14400, 1},
    {"EST5EDT", 1857016800, -18000, 0},
    {"<+0530>-5:30", 1767225600, 19800, 0},
    {"NZST-12NZDT,M9.5.0,M4.1.0/3", 1767225600, 46800, 1},
    {"NZST-12NZDT,M9.5.0,M4.1.0/3", 1775311199, 46800, 1},
    {"NZST-12NZDT,M9.5.0,M4.1.0/3", 1775311200, 43200, 0},
    {"NZST-12NZDT,M9.5.0,M4.1.0/3", 1790431199, 43200, 0},
    {"NZST-12NZDT,M9.5.0,M4.1.0/3", 1790431200, 46800, 1},
    {"NZST-12NZDT,M9.5.0,M4.1.0/3", 1806760799, 46800, 1},
    {"NZST-12NZDT,M9.5.0,M4.1.0/3", 1806760800, 43200, 0},
    {"NZST-12NZDT,M9.5.0,M4.1.0/3", 1821880799, 43200, 0},
    {"NZST-12NZDT,M9.5.0,M4.1.0/3", 1821880800, 46800, 1},
    {"NZST-12NZDT,M9.5.0,M4.1.0/3", 1838210399, 46800, 1},
    {"NZST-12NZDT,M9.5.0,M4.1.0/3", 1838210400, 43200, 0},
    {"NZST-12NZDT,M9.5.0,M4.1.0/3", 1853330399, 43200, 0},
    {"NZST-12NZDT,M9.5.0,M4.1.0/3", 1853330400, 46800, 1},
    {"XXX3YYY,J60/0,300", 1767225600, -10800, 0},
    {"XXX3YYY,J60/0,300", 1772333999, -10800, 0},
    {"XXX3YYY,J60/0,300", 1772334000, -7200, 1},
    {"XXX3YYY,J60/0,300", 1793159999, -7200, 1},
    {"XXX3YYY,J60/0,300", 1793160000, -10800, 0},
    {"XXX3YYY,J60/0,300", 1803869999, -10800, 0},
    {"XXX3YYY,J60/0,300", 1803870000, -7200, 1},
    {"XXX3YYY,J60/0,300", 1824695999, -7200, 1},
    {"XXX3YYY,J60/0,300", 1824696000, -10800, 0},
    {"XXX3YYY,J60/0,300", 1835492399, -10800, 0},
    {"XXX3YYY,J60/0,300", 1835492400, -7200, 1},
    {"XXX3YYY,J60/0,300", 1856231999, -7200, 1},
    {"XXX3YYY,J60/0,300", 1856232000, -10800, 0},
    {"<-03>3<-02>,M3.5.0/-2,M10.5.0/-1", 1767225600, -10800, 0},
    {"<-03>3<-02>,M3.5.0/-2,M10.5.0/-1", 1774745999, -10800, 0},
    {"<-03>3<-02>,M3.5.0/-2,M10.5.0/-1", 1774746000, -7200, 1},
    {"<-03>3<-02>,M3.5.0/-2,M10.5.0/-1", 1792889999, -7200, 1},
    {"<-03>3<-02>,M3.5.0/-2,M10.5.0/-1", 1792890000, -10800, 0},
    {"<-03>3<-02>,M3.5.0/-2,M10.5.0/-1", 1806195599, -10800, 0},
    {"<-03>3<-02>,M3.5.0/-2,M10.5.0/-1", 1806195600, -7200, 1},
    {"<-03>3<-02>,M3.5.0/-2,M10.5.0/-1", 1824944399, -7200, 1},
    {"<-03>3<-02>,M3.5.0/-2,M10.5.0/-1", 1824944400, -10800, 0},
    {"<-03>3<-02>,M3.5.0/-2,M10.5.0/-1", 1837645199, -10800, 0},
    {"<-03>3<-02>,M3.5.0/-2,M10.5.0/-1", 1837645200, -7200, 1},
    {"<-03>3<-02>,M3.5.0/-2,M10.5.0/-1", 1856393999, -7200, 1},
    {"<-03>3<-02>,M3.5.0/-2,M10.5.0/-1", 1856394000, -10800, 0},
    {"IST-1GMT0,M10.5.0,M3.5.0/1", 1767225600, 0, 1},
    {"IST-1GMT0,M10.5.0,M3.5.0/1", 1774745999, 0, 1},
    {"IST-1GMT0,M10.5.0,M3.5.0/1", 1774746000, 3600, 0},
    {"IST-1GMT0,M10.5.0,M3.5.0/1", 1792889999, 3600, 0},
    {"IST-1GMT0,M10.5.0,M3.5.0/1", 1792890000, 0, 1},
    {"IST-1GMT0,M10.5.0,M3.5.0/1", 1806195599, 0, 1},
    {"IST-1GMT0,M10.5.0,M3.5.0/1", 1806195600, 3600, 0},
    {"IST-1GMT0,M10.5.0,M3.5.0/1", 1824944399, 3600, 0},
    {"IST-1GMT0,M10.5.0,M3.5.0/1", 1824944400, 0, 1},
    {"IST-1GMT0,M10.5.0,M3.5.0/1", 1837645199, 0, 1},
    {"IST-1GMT0,M10.5.0,M3.5.0/1", 1837645200, 3600, 0},
    {"IST-1GMT0,M10.5.0,M3.5.0/1", 1856393999, 3600, 0},
    {"IST-1GMT0,M10.5.0,M3.5.0/1", 1856394000, 0, 1},
    {"<+10>-10<+11>-11:30,M10.1.0/25,M4.1.0/167", 1767225600, 41400, 1},
    {"<+10>-10<+11>-11:30,M10.1.0/25,M4.1.0/167", 1775906999, 41400, 1},
    {"<+10>-10<+11>-11:30,M10.1.0/25,M4.1.0/167", 1775907000, 36000, 0},
    {"<+10>-10<+11>-11:30,M10.1.0/25,M4.1.0/167", 1791125999, 36000, 0},
    {"<+10>-10<+11>-11:30,M10.1.0/25,M4.1.0/167", 1791126000, 41400, 1},
    {"<+10>-10<+11>-11:30,M10.1.0/25,M4.1.0/167", 1807356599, 41400, 1},
    {"<+10>-10<+11>-11:30,M10.1.0/25,M4.1.0/167", 1807356600, 36000, 0},
    {"<+10>-10<+11>-11:30,M10.1.0/25,M4.1.0/167", 1822575599, 36000, 0},
    {"<+10>-10<+11>-11:30,M10.1.0/25,M4.1.0/167", 1822575600, 41400, 1},
    {"<+10>-10<+11>-11:30,M10.1.0/25,M4.1.0/167", 1838806199, 41400, 1},
    {"<+10>-10<+11>-11:30,M10.1.0/25,M4.1.0/167", 1838806200, 36000, 0},
    {"<+10>-10<+11>-11:30,M10.1.0/25,M4.1.0/167", 1854025199, 36000, 0},
    {"<+10>-10<+11>-11:30,M10.1.0/25,M4.1.0/167", 1854025200, 41400, 1},
};

static void test_offsets_match_glibc(void)
{
    char error[80];
    for (unsigned i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct tz_rule rule;
        bool dst = false;
        CHECK(tz_parse(cases[i].rule, &rule, error, sizeof error));
        int32_t offset = tz_offset_at(&rule, cases[i].utc_s, &dst);
        if (offset != cases[i].offset_s || dst != (cases[i].dst != 0))
            printf("  %s at %lld: %ld dst %d, expected %ld dst %d\n", cases[i].rule, (long long)cases[i].utc_s,
                   (long)offset, dst, (long)cases[i].offset_s, cases[i].dst);
        CHECK_EQ(offset, cases[i].offset_s);
        CHECK_EQ(dst, cases[i].dst != 0);
    }
}

static void test_parse_fields(void)
{
    struct tz_rule r;
    char error[80];
    CHECK(tz_parse("CET-1CEST,M3.5.0,M10.5.0/3", &r, error, sizeof error));
    CHECK_STR(r.std_name, "CET");
    CHECK_STR(r.dst_name, "CEST");
    CHECK_EQ(r.std_offset_s, 3600);
    CHECK_EQ(r.dst_offset_s, 7200);
    CHECK_EQ(r.dst_start.month, 3);
    CHECK_EQ(r.dst_start.week, 5);
    CHECK_EQ(r.dst_start.weekday, 0);
    CHECK_EQ(r.dst_start.time_s, 7200);
    CHECK_EQ(r.dst_end.month, 10);
    CHECK_EQ(r.dst_end.time_s, 3 * 3600);
    CHECK(tz_parse("", &r, error, sizeof error));
    CHECK_STR(r.std_name, "UTC");
    CHECK_EQ(r.std_offset_s, 0);
    CHECK(!tz_has_dst(&r));
    CHECK(tz_parse("<+0530>-5:30", &r, error, sizeof error));
    CHECK_EQ(r.std_offset_s, 5 * 3600 + 1800);
    CHECK_STR(r.std_name, "+0530");
}

static void test_round_trip(void)
{
    static const char *const rules[] = {"CET-1CEST,M3.5.0,M10.5.0/3", "<+0530>-5:30", "EST5EDT,M3.2.0,M11.1.0",
                                        "XXX3YYY,J60/0,300", "<-03>3<-02>,M3.5.0/-2,M10.5.0/-1", "UTC0",
                                        "<+10>-10<+11>-11:30,M10.1.0/25,M4.1.0/167", "AAA-1:02:03"};
    char error[80], text[96];
    for (unsigned i = 0; i < sizeof rules / sizeof rules[0]; i++) {
        struct tz_rule r;
        CHECK(tz_parse(rules[i], &r, error, sizeof error));
        tz_format(&r, text, sizeof text);
        CHECK_STR(text, rules[i]);
    }
}

static void test_bad_rules_are_refused(void)
{
    static const char *const bad[] = {"CE-1", "CET", "CET-1CEST,M3.5.0", "CET-1CEST,M13.5.0,M10.5.0",
                                      "CET-1CEST,M3.6.0,M10.5.0", "CET-1CEST,M3.5.7,M10.5.0", "CET-25",
                                      "CET-1:60", "CET-1 ", "<+01-1", "CET-1,M3.5.0,M10.5.0",
                                      "CET-1CEST,J0,J10", "CET-1CEST,366,1", "CET-1CEST,M3.5.0/168,M10.5.0",
                                      "ABCDEFGHIJKLMNOPQ-1", "CET-1CEST,M3.5.0,M10.5.0/3xyz",
                                      "CET-1CEST,M3.5.0,M10.5.0,M11.1.0",
                                      "AAAAAAAAAAAAAAA-1BBBBBBBBBBBBBBB,M3.5.0/2:00:00,M10.5.0/3:00:00xx"};
    char error[80];
    for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct tz_rule r = {.std_offset_s = 42};
        error[0] = '\0';
        bool ok = tz_parse(bad[i], &r, error, sizeof error);
        if (ok)
            printf("  accepted: %s\n", bad[i]);
        CHECK(!ok);
        CHECK(error[0] != '\0');
        CHECK_EQ(r.std_offset_s, 42); /* untouched */
    }
}

static void test_civil_time(void)
{
    struct civil_time t;
    timefmt_civil(1835438400, &t); /* 2028-02-29T12:00:00, a Tuesday */
    CHECK_EQ(t.year, 2028);
    CHECK_EQ(t.month, 2);
    CHECK_EQ(t.day, 29);
    CHECK_EQ(t.hour, 12);
    CHECK_EQ(t.weekday, 2);
    CHECK_EQ(t.yday, 59);
    timefmt_civil(-1, &t); /* 1969-12-31T23:59:59, a Wednesday */
    CHECK_EQ(t.year, 1969);
    CHECK_EQ(t.day, 31);
    CHECK_EQ(t.second, 59);
    CHECK_EQ(t.weekday, 3);
    CHECK_EQ(timefmt_day_number(-1), -1);
    CHECK_EQ(timefmt_days_from_civil(2028, 2, 29), 1835438400 / 86400);
    for (int64_t day = -800000; day < 800000; day += 997) { /* round trip, 4000 years */
        timefmt_civil(day * 86400, &t);
        CHECK_EQ(timefmt_days_from_civil(t.year, t.month, t.day), day);
    }
    char text[24];
    tz_format_offset(-(3 * 3600 + 1800), text, sizeof text);
    CHECK_STR(text, "-03:30");
}

int main(void)
{
    RUN(test_offsets_match_glibc);
    RUN(test_parse_fields);
    RUN(test_round_trip);
    RUN(test_bad_rules_are_refused);
    RUN(test_civil_time);
    return harness_report();
}
