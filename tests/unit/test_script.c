/* test_script.c — the expression evaluator, variable expansion, the file
 * store (with torn writes) and the script runner on a booted fake board. */
#include <stdlib.h>

#include "core/cmd/cmd.h"
#include "core/firmware.h"
#include "core/io/channels.h"
#include "core/sched.h"
#include "core/script/expr.h"
#include "core/script/script.h"
#include "core/script/script_internal.h"
#include "core/script/clock_match.h"
#include "core/script/timers.h"
#include "core/script/sun.h"
#include "core/util/timefmt.h"
#include "core/storage/config.h"
#include "core/storage/files.h"
#include "fake_hal.h"
#include "harness.h"

static bool test_vars(const char *name, double *value, void *arg)
{
    (void)arg;
    if (strcmp(name, "x") == 0)
        *value = 7;
    else if (strcmp(name, "power") == 0)
        *value = 150.5;
    else
        return false;
    return true;
}

static double eval_ok(const char *text)
{
    struct expr_result r = expr_eval(text, test_vars, NULL);
    CHECK(r.ok);
    if (!r.ok)
        printf("  '%s': %s\n", text, r.error);
    return r.value;
}

static const char *eval_error(const char *text)
{
    static struct expr_result r;
    r = expr_eval(text, test_vars, NULL);
    CHECK(!r.ok);
    return r.error;
}

static void test_expressions(void)
{
    CHECK(eval_ok("1+2*3") == 7);
    CHECK(eval_ok("(1+2)*3") == 9);
    CHECK(eval_ok(" -4 / 2 ") == -2);
    CHECK(eval_ok("7 % 3") == 1);
    CHECK(eval_ok("-7 % 3") == -1);
    CHECK(eval_ok("$x==7") == 1);
    CHECK(eval_ok("$x!=7") == 0);
    CHECK(eval_ok("$power>100 && $x<=7") == 1);
    CHECK(eval_ok("$power<100 || !($x>=8)") == 1);
    CHECK(eval_ok("1 < 2 == 1") == 1); /* (1 < 2) == 1, as in C */
    CHECK(eval_ok("3 > 2 > 1") == 0);
}

static void test_expression_errors(void)
{
    CHECK_STR(eval_error("1/0"), "division by zero");
    CHECK_STR(eval_error("$nope > 1"), "unknown variable $nope");
    CHECK_STR(eval_error("(1+2"), "missing ')'");
    CHECK_STR(eval_error("1 +"), "expression ends too early");
    CHECK_STR(eval_error("2 3"), "unexpected '3'");
    CHECK_STR(eval_error("$"), "'$' without a variable name");
    CHECK_STR(eval_error("12abc"), "bad number near '12abc'");
    CHECK_STR(eval_error("((((((((((((((((((1))))))))))))))))))"), "expression nested too deeply");
    CHECK_STR(eval_error(""), "expression ends too early");
    CHECK_STR(eval_error("1e308*10"), "result is not a finite number");
}

static void test_expansion(void)
{
    char out[64];
    channel_set(1, true, SOURCE_CONSOLE);
    CHECK(script_expand("setChannel 2 $CH1 $nope $", out, sizeof out));
    CHECK_STR(out, "setChannel 2 1 $nope $");
    CHECK(script_expand("$uptime", out, sizeof out));
    CHECK_EQ(atoi(out), (long long)(hal_time_ms() / 1000));
    CHECK(!script_expand("$CH1$CH1$CH1", out, 3));
}

static char file_buf[FILES_SIZE_MAX + 1];

static void fill(char *buf, uint32_t len, char seed)
{
    for (uint32_t i = 0; i < len; i++)
        buf[i] = (char)(seed + i % 23);
}

static bool file_is(const char *name, char seed, uint32_t len)
{
    struct files_info info;
    if (files_stat(name, &info) != 0 || info.size != len)
        return false;
    static char expect[FILES_SIZE_MAX];
    fill(expect, len, seed);
    uint32_t got = 0;
    while (got < len) {
        int n = files_read(name, got, file_buf, 1000);
        if (n <= 0)
            return false;
        if (memcmp(file_buf, expect + got, (size_t)n) != 0)
            return false;
        got += (uint32_t)n;
    }
    return true;
}

static void test_files_round_trip(void)
{
    CHECK_EQ(files_mount(), 0);
    fill(file_buf, 5000, 'a');
    CHECK_EQ(files_write("cert.pem", file_buf, 5000), 0);
    fill(file_buf, 10, 'x');
    CHECK_EQ(files_write("autoexec.bat", file_buf, 10), 0);
    CHECK(file_is("cert.pem", 'a', 5000));
    CHECK_EQ(files_mount(), 2); /* and again from flash */
    CHECK(file_is("cert.pem", 'a', 5000));
    CHECK(file_is("autoexec.bat", 'x', 10));
    fill(file_buf, FILES_SIZE_MAX, 'b');
    CHECK_EQ(files_write("cert.pem", file_buf, FILES_SIZE_MAX), 0);
    CHECK_EQ(files_mount(), 2);
    CHECK(file_is("cert.pem", 'b', FILES_SIZE_MAX));
    CHECK_EQ(files_write("big", file_buf, FILES_SIZE_MAX + 1), FILES_ETOOBIG);
    CHECK_EQ(files_write("../x", file_buf, 1), FILES_ENAME);
    CHECK_EQ(files_write(".hidden", file_buf, 1), FILES_ENAME);
    CHECK_EQ(files_delete("cert.pem"), 0);
    CHECK_EQ(files_delete("cert.pem"), FILES_ENOENT);
    CHECK_EQ(files_mount(), 1);
    struct files_info info;
    CHECK_EQ(files_stat("cert.pem", &info), FILES_ENOENT);
    char name[16];
    for (int i = 0; i < FILES_SLOTS - 1; i++) {
        snprintf(name, sizeof name, "f%d", i);
        CHECK_EQ(files_write(name, "1", 1), 0);
    }
    CHECK_EQ(files_write("one-too-many", "1", 1), FILES_ENOSPC);
    CHECK_EQ(files_write("f3", "22", 2), 0); /* a rewrite needs no free slot */
    for (int i = 0; i < FILES_SLOTS - 1; i++) {
        snprintf(name, sizeof name, "f%d", i);
        CHECK_EQ(files_delete(name), 0);
    }
}

/* A power cut at every flash operation of a rewrite leaves the old or
 * the new version, whole. */
static void test_files_torn_writes(void)
{
    fill(file_buf, 6000, 'o');
    CHECK_EQ(files_write("t.txt", file_buf, 6000), 0);
    bool saw_old = false, saw_new = false;
    for (uint32_t op = 1; op <= 6; op++) {
        fake_flash_cut_at(op);
        fill(file_buf, 7000, 'n');
        files_write("t.txt", file_buf, 7000);
        fake_flash_cut_at(0);
        fake_flash_power_on();
        files_mount();
        bool old = file_is("t.txt", 'o', 6000), fresh = file_is("t.txt", 'n', 7000);
        CHECK(old || fresh);
        saw_old |= old;
        saw_new |= fresh;
        if (fresh) { /* put the old one back for the next cut */
            fill(file_buf, 6000, 'o');
            CHECK_EQ(files_write("t.txt", file_buf, 6000), 0);
        }
    }
    CHECK(saw_old && saw_new);
    CHECK_EQ(files_delete("t.txt"), 0);
}

static char replies[2048];

static void collect(const char *json, void *arg)
{
    (void)arg;
    strncat(replies, json, sizeof replies - strlen(replies) - 2);
    strcat(replies, "\n");
}

static const char *run(const char *text)
{
    char line[CMD_LINE_MAX + 1];
    snprintf(line, sizeof line, "%s", text);
    replies[0] = '\0';
    cmd_execute(line, SOURCE_CONSOLE, collect, NULL);
    return replies;
}

static void turn(unsigned n)
{
    while (n--)
        sched_run_once(1);
}

static void test_runner_and_handlers(void)
{
    run("clearEvents");
    run("Power off");
    CHECK_CONTAINS(run("addEventHandler OnChannelChange 1 if $CH1==1 then DeviceName lit else DeviceName dark"),
                   "{\"addEventHandler\":");
    run("Power on");
    turn(3);
    CHECK_STR(config_get()->device_name, "lit");
    run("Power off");
    turn(3);
    CHECK_STR(config_get()->device_name, "dark");
    CHECK_CONTAINS(run("addEventHandler OnBogus 1 Power on"), "unknown event 'OnBogus'");
    CHECK_CONTAINS(run("addEventHandler OnClick Power on"), "expected a number (the button's GPIO)");
    CHECK_CONTAINS(run("addEventHandler OnClick 17"), "no command given");
    CHECK_CONTAINS(run("addRepeatingEvent 0 1 Power on"), "addRepeatingEvent: expected");
    CHECK_CONTAINS(run("addClockEvent 25:00 0x7f Power on"), "addClockEvent: expected");
    CHECK_CONTAINS(run("delay_s 1"), "only inside a script");
    CHECK_CONTAINS(run("if 1/0 then Power on"), "if: division by zero");
    CHECK_CONTAINS(run("if 1 Power on"), "if: expected");
    CHECK_CONTAINS(run("clearEvents"), "{\"clearEvents\":1}");
}

static void test_runaway_is_stopped(void)
{
    run("addEventHandler OnChannelChange 1 toggleChannel 1");
    run("Power on");
    for (int i = 0; i < 200; i++)
        turn(1);
    CHECK_CONTAINS(run("listEvents"), "\"Disabled\":true");
    CHECK_CONTAINS(replies, "\"Runaways\":1");
    struct script_stats s;
    script_get_stats(&s);
    CHECK_EQ(s.queued, 0);
    run("clearEvents");
}

static void test_file_script_with_delay(void)
{
    const char *text = "// comment\nDeviceName one\r\n\n  delay_s 2\nDeviceName two\nnonsense\n";
    CHECK_EQ(files_write("s.txt", text, (uint32_t)strlen(text)), 0);
    CHECK_CONTAINS(run("startScript s.txt"), "{\"startScript\":\"s.txt\"}");
    turn(2);
    CHECK_STR(config_get()->device_name, "one");
    fake_time_advance_us(1000000);
    turn(2);
    CHECK_STR(config_get()->device_name, "one");
    fake_time_advance_us(1100000);
    turn(3);
    CHECK_STR(config_get()->device_name, "two");
    struct script_stats s;
    script_get_stats(&s);
    CHECK(s.errors >= 1);
    CHECK_CONTAINS(fake_console_output(), "SCR: s.txt, command 6: {\"Command\":\"Unknown\"}");
    CHECK_CONTAINS(run("startScript nofile"), "no file 'nofile'");
}

/* The runner's budget is per loop turn, also when another timer due in the
 * same turn queues a run (fuzz_script-wake-after-budget): the wake used to
 * arm the runner for "now", and it ran a second budget in that turn. */
static void test_budget_holds_when_a_timer_queues_in_the_same_turn(void)
{
    run("clearEvents");
    CHECK_EQ(script_queue_text("six", "delay_s 1; Status 2; Status 2; Status 2; Status 2; Status 2; Status 2"), 0);
    turn(1); /* delay_s: the run parks for 1 s */
    CHECK_CONTAINS(run("addRepeatingEvent 1 1 Status 2"), "{\"addRepeatingEvent\":");
    fake_time_advance_us(1100000); /* the run and the repeating event are both due in the next turn */
    struct script_stats before, after;
    script_get_stats(&before);
    sched_run_once(0);
    script_get_stats(&after);
    CHECK(after.commands - before.commands <= SCRIPT_STEPS_PER_TURN);
    if (after.commands - before.commands > SCRIPT_STEPS_PER_TURN)
        printf("  %lu commands in one turn\n", (unsigned long)(after.commands - before.commands));
    turn(5);
    script_get_stats(&after);
    CHECK_EQ(after.commands - before.commands, 7); /* all of them, in later turns */
    CHECK_EQ(after.queued, 0);
    run("clearEvents");
}

/* Sunrise and sunset against published times (to the minute, so within
 * 90 s plus the formulas' minute). */
static void check_sun(int month, int day, double lat, double lon, bool rise, int64_t published_utc_minute)
{
    int64_t date = timefmt_days_from_civil(2026, (unsigned)month, (unsigned)day), utc = 0;
    CHECK(sun_event_utc(date, lat, lon, rise, &utc));
    int64_t expected = date * 86400 + published_utc_minute * 60 + 30;
    CHECK(utc - expected <= 90 && expected - utc <= 90);
    if (utc - expected > 90 || expected - utc > 90)
        printf("  %02d-%02d %s: %lld s off\n", month, day, rise ? "rise" : "set", (long long)(utc - expected));
}

static void test_sunrise_sunset(void)
{
    check_sun(6, 21, 52.52, 13.405, true, 2 * 60 + 43);     /* Berlin 04:43 CEST */
    check_sun(6, 21, 52.52, 13.405, false, 19 * 60 + 33);   /* Berlin 21:33 CEST */
    check_sun(12, 21, 51.5074, -0.1278, true, 8 * 60 + 4);  /* London 08:04 GMT */
    check_sun(12, 21, 51.5074, -0.1278, false, 15 * 60 + 53);
    check_sun(6, 21, 40.7128, -74.006, true, 9 * 60 + 25);  /* New York 05:25 EDT */
    check_sun(6, 21, 40.7128, -74.006, false, 24 * 60 + 31); /* 20:31 EDT: the next UTC day */
    int64_t utc;
    CHECK(!sun_event_utc(timefmt_days_from_civil(2026, 6, 21), 78.22, 15.65, true, &utc));  /* Svalbard: midnight sun */
    CHECK(!sun_event_utc(timefmt_days_from_civil(2026, 12, 21), 78.22, 15.65, false, &utc)); /* polar night */
}

/* The matching both clock events and timers use: time syntax, the late
 * window, once a day, the weekday mask, the wait to the next second. */
static void test_clock_match(void)
{
    CHECK_EQ(clock_match_parse_time("7:05"), 7 * 3600 + 5 * 60);
    CHECK_EQ(clock_match_parse_time("23:59:59"), 86399);
    CHECK_EQ(clock_match_parse_time("24:00"), -1);
    CHECK_EQ(clock_match_parse_time("7:5"), -1);
    CHECK_EQ(clock_match_parse_time("07:60"), -1);
    CHECK_EQ(clock_match_parse_time("07:30:"), -1);
    CHECK_EQ(clock_match_parse_time("-1:00"), -1);
    struct script_clock now = {.day = 20000, .second_of_day = 36000, .weekday = 2}; /* a Tuesday, 10:00:00 */
    int32_t fired = -1;
    uint32_t wait = 30000;
    CHECK(!clock_match_due(36001, 0x7F, &now, &fired, &wait)); /* a second early */
    CHECK_EQ(wait, 1000u);
    CHECK(!clock_match_due(36000, 0x7F & ~(1 << 2), &now, &fired, &wait)); /* not on Tuesdays */
    CHECK(clock_match_due(36000 - CLOCK_MATCH_LATE_S + 1, 0x04, &now, &fired, &wait)); /* 59 s late: still */
    CHECK_EQ(fired, 20000);
    CHECK(!clock_match_due(36000, 0x04, &now, &fired, &wait)); /* once a day */
    fired = -1;
    CHECK(!clock_match_due(36000 - CLOCK_MATCH_LATE_S, 0x7F, &now, &fired, &wait)); /* 60 s late: missed */
    CHECK(!clock_match_due(-1, 0x7F, &now, &fired, &wait)); /* no such second today */
    CHECK_EQ(fired, -1);
    /* Stored timers: Mode 3 and a time past 23:59 are not valid settings. */
    struct config_timers t = {0};
    CHECK(timers_valid(&t));
    t.timer[3] = 3u << 29;
    CHECK(!timers_valid(&t));
    t.timer[3] = 1440;
    CHECK(!timers_valid(&t));
    t.timer[3] = 0;
    t.disarmed = 2;
    CHECK(!timers_valid(&t));
    CHECK_STR(run("Timer16 {\"Enable\":0,\"Mode\":1,\"Time\":\"-11:59\",\"Window\":15,\"Days\":\"S-----s\","
                  "\"Repeat\":1,\"Output\":16,\"Action\":3}"),
              "{\"Timer16\":{\"Enable\":0,\"Mode\":1,\"Time\":\"-11:59\",\"Window\":15,\"Days\":\"1000001\","
              "\"Repeat\":1,\"Output\":16,\"Action\":3}}\n");
    CHECK_EQ(config_get()->timers.timer[15], (1u << 29) | (3u << 27) | (15u << 23) | (0x41u << 16) | (1u << 15) |
                                                 (15u << 11) | (720u + 719u));
    run("Timer16 0");
}

int main(void)
{
    fake_flash_blank();
    firmware_boot();
    RUN(test_expressions);
    RUN(test_expression_errors);
    RUN(test_expansion);
    RUN(test_files_round_trip);
    RUN(test_files_torn_writes);
    RUN(test_runner_and_handlers);
    RUN(test_runaway_is_stopped);
    RUN(test_file_script_with_delay);
    RUN(test_budget_holds_when_a_timer_queues_in_the_same_turn);
    RUN(test_sunrise_sunset);
    RUN(test_clock_match);
    return harness_report();
}
