/* test_cmd.c — the command interpreter on a booted firmware: names,
 * indexes, Tasmota arguments, errors that change nothing, Backlog, Help,
 * and the console line reader. */
#include "core/cmd/cmd.h"
#include "core/firmware.h"
#include "core/io/channels.h"
#include "core/sched.h"
#include "core/storage/config.h"
#include "fake_hal.h"
#include "harness.h"

static char replies[16384]; /* Help: one reply per module */

static void collect(const char *json, void *arg)
{
    (void)arg;
    size_t len = strlen(replies);
    snprintf(replies + len, sizeof replies - len, "%s\n", json);
}

/* Run a line; returns every reply it produced, one per line. */
static const char *run(const char *text)
{
    char line[CMD_LINE_MAX + 1];
    snprintf(line, sizeof line, "%s", text);
    replies[0] = '\0';
    cmd_execute(line, SOURCE_CONSOLE, collect, NULL);
    return replies;
}

static void test_power_words_and_case(void)
{
    CHECK_STR(run("Power off"), "{\"POWER\":\"OFF\"}\n");
    CHECK_STR(run("power ON"), "{\"POWER\":\"ON\"}\n");
    CHECK(fake_pin_latch(2));
    CHECK(!fake_pin_latch(20)); /* LED_n: lit = low */
    CHECK_STR(run("POWER1 false"), "{\"POWER\":\"OFF\"}\n");
    CHECK(!fake_pin_latch(2));
    CHECK(fake_pin_latch(20));
    CHECK_STR(run("Power 1"), "{\"POWER\":\"ON\"}\n");
    CHECK_STR(run("Power 0"), "{\"POWER\":\"OFF\"}\n");
    CHECK_STR(run("Power true"), "{\"POWER\":\"ON\"}\n");
    CHECK_STR(run("Power toggle"), "{\"POWER\":\"OFF\"}\n");
    CHECK_STR(run("Power 2"), "{\"POWER\":\"ON\"}\n");
    CHECK_STR(run("Power"), "{\"POWER\":\"ON\"}\n");
    CHECK_STR(run("  power1   "), "{\"POWER\":\"ON\"}\n");
}

static void test_bad_input_changes_nothing(void)
{
    run("Power on");
    uint32_t saves = config_save_count();
    CHECK_CONTAINS(run("Power maybe"), "{\"Command\":\"Error\",\"Error\":\"Power: expected 0|off|false");
    CHECK_CONTAINS(run("Power 3"), "\"Error\"");
    CHECK_CONTAINS(run("Power2 on"), "no relay on channel 2");
    CHECK(channel_get(1));
    CHECK_STR(run("Powr on"), "{\"Command\":\"Unknown\"}\n");
    CHECK_STR(run("Power0 on"), "{\"Command\":\"Unknown\"}\n");
    CHECK_STR(run("Power123 on"), "{\"Command\":\"Unknown\"}\n");
    CHECK_STR(run("Status7x"), "{\"Command\":\"Unknown\"}\n");
    CHECK_STR(run("Power{on}"), "{\"Command\":\"Unknown\"}\n");
    CHECK_CONTAINS(run("PowerOnState 5"), "PowerOnState: expected 0 off");
    CHECK_CONTAINS(run("PowerOnState -1"), "\"Error\"");
    CHECK_CONTAINS(run("PowerOnState 1x"), "\"Error\"");
    CHECK_CONTAINS(run("Status 5"), "Status 5 is not in this build");
    CHECK_CONTAINS(run("Restart"), "Restart 1 restarts the plug");
    CHECK_CONTAINS(run("Reset 2"), "Reset 1 erases");
    CHECK_CONTAINS(run("setChannel 9 1"), "setChannel: expected");
    CHECK_CONTAINS(run("SetStartValue 1 7"), "SetStartValue: expected");
    CHECK_CONTAINS(run("Pin 40 Rel;1"), "Pin: expected <gpio 0..22>");
    CHECK_CONTAINS(run("Pin 5 Relay;1"), "unknown pin role 'Relay'");
    CHECK_CONTAINS(run("Pin 5 Rel;9"), "Rel;9: a plug here switches at most 4 relays");
    CHECK_CONTAINS(run("startDriver Toaster"), "no driver 'Toaster' in this build (available: ");
    CHECK_EQ(config_save_count(), saves);
    CHECK(channel_get(1));
    CHECK_EQ(config_get()->power_on_state, POWER_ON_RESTORE);
}

static void test_openbeken_forms(void)
{
    CHECK_STR(run("setChannel 1 0"), "{\"POWER\":\"OFF\"}\n");
    CHECK_STR(run("toggleChannel 1"), "{\"POWER\":\"ON\"}\n");
    CHECK_STR(run("SetStartValue 1 0"), "{\"PowerOnState\":0}\n");
    CHECK_STR(run("SetStartValue 1 1"), "{\"PowerOnState\":1}\n");
    CHECK_STR(run("SetStartValue 1 -1"), "{\"PowerOnState\":3}\n");
}

static void test_power_on_state_4_locks(void)
{
    CHECK_STR(run("Power off"), "{\"POWER\":\"OFF\"}\n");
    CHECK_STR(run("PowerOnState 4"), "{\"PowerOnState\":4}\n");
    CHECK(channel_get(1)); /* switched on at once */
    CHECK_STR(run("Power off"), "{\"POWER\":\"ON\"}\n");
    CHECK_STR(run("Power toggle"), "{\"POWER\":\"ON\"}\n");
    CHECK_STR(run("PowerOnState 3"), "{\"PowerOnState\":3}\n");
    CHECK_STR(run("Power off"), "{\"POWER\":\"OFF\"}\n");
}

static void test_backlog_runs_each_with_its_reply(void)
{
    CHECK_STR(run("Backlog Power on; Power; power off ;; Bogus; PowerOnState"),
              "{\"POWER\":\"ON\"}\n{\"POWER\":\"ON\"}\n{\"POWER\":\"OFF\"}\n{\"Command\":\"Unknown\"}\n"
              "{\"PowerOnState\":3}\n");
    CHECK_CONTAINS(run("Backlog Backlog Power on"), "Backlog cannot run inside Backlog");
    /* A ';' inside JSON does not split. */
    CHECK_STR(run("Backlog DeviceName {\"a;b\":[1;2]}; DeviceName OpenPlug"),
              "{\"DeviceName\":\"{\\\"a;b\\\":[1;2]}\"}\n{\"DeviceName\":\"OpenPlug\"}\n");
    CHECK(!channel_get(1));
    CHECK_CONTAINS(run("Backlog"), "Backlog needs commands");
}

static void test_status_and_help(void)
{
    const char *status = run("Status 0");
    CHECK_CONTAINS(status, "\"Status\":{\"DeviceName\":\"OpenPlug\"");
    CHECK_CONTAINS(status, "\"StatusPRM\":{");
    CHECK_CONTAINS(status, "\"RestartReason\":\"Power on\"");
    CHECK_CONTAINS(status, "\"StatusFWR\":{\"Version\":");
    CHECK_CONTAINS(status, "\"StatusSTS\":{\"Time\":\"1970-01-01T");
    CHECK_CONTAINS(run("Status 11"), "\"Wifi\":{\"SSId\":\"unit-test\",\"BSSId\":\"02:01:02:03:04:05\","
                                     "\"Channel\":1,\"RSSI\":80,\"Signal\":-60,\"LinkCount\":");
    const char *help = run("Help");
    static const char *const names[] = {"Power", "PowerOnState", "SetStartValue", "setChannel", "toggleChannel",
                                        "Status", "Restart", "Reset", "DeviceName", "Template", "Pin",
                                        "startDriver", "Backlog", "Help"};
    for (unsigned i = 0; i < sizeof names / sizeof names[0]; i++) {
        char key[32];
        snprintf(key, sizeof key, "\"%s\":\"", names[i]);
        CHECK_CONTAINS(help, key);
    }
}

static void test_console_lines(void)
{
    fake_console_clear();
    fake_console_input("Power on\r\nPower\n\n   \nDeviceName Hall\n");
    sched_run_once(0);
    CHECK_CONTAINS(fake_console_output(), "{\"POWER\":\"ON\"}\n{\"POWER\":\"ON\"}\n{\"DeviceName\":\"Hall\"}\n");
    fake_console_clear();
    char long_line[CMD_LONG_LINE_MAX + 40];
    memset(long_line, 'x', sizeof long_line - 2);
    long_line[sizeof long_line - 2] = '\n';
    long_line[sizeof long_line - 1] = '\0';
    fake_console_input(long_line);
    fake_console_input("Power\n");
    sched_run_once(0);
    CHECK_CONTAINS(fake_console_output(), "line longer than 3584 characters: ignored");
    CHECK_CONTAINS(fake_console_output(), "{\"POWER\":\"ON\"}\n");
    CHECK(!strstr(fake_console_output(), "Unknown"));

    /* A line past CMD_LINE_MAX (a 2 KB template) runs from a heap block. */
    static char template_line[2400];
    char wiki[1901];
    memset(wiki, 'w', sizeof wiki - 1);
    wiki[sizeof wiki - 1] = '\0';
    snprintf(template_line, sizeof template_line,
             "Template {\"name\":\"console\",\"wiki\":\"%s\",\"pins\":{\"2\":\"Rel;1\"}}\n", wiki);
    fake_console_clear();
    fake_console_input(template_line);
    sched_run_once(0);
    CHECK_CONTAINS(fake_console_output(), "{\"name\":\"console\",\"wiki\":\"www");
    CHECK_CONTAINS(fake_console_output(), "\"pins\":{\"2\":\"Rel;1\"},\"command\":\"\"}\n");
}

static void test_restart_is_planned_with_its_reason(void)
{
    jmp_buf jump;
    CHECK_STR(run("Restart 1"), "{\"Restart\":\"Restarting\"}\n");
    fake_reboot_jump = &jump;
    if (setjmp(jump) == 0) {
        for (int i = 0; i < 10; i++)
            sched_run_once(50);
        CHECK(!"no reboot happened");
    }
    fake_reboot_jump = NULL;
    CHECK_EQ(fake_reboot_reason, HAL_RESET_USER | 1u << 4 | SOURCE_CONSOLE);
}

int main(void)
{
    fake_flash_blank();
    firmware_boot();
    RUN(test_power_words_and_case);
    RUN(test_bad_input_changes_nothing);
    RUN(test_openbeken_forms);
    RUN(test_power_on_state_4_locks);
    RUN(test_backlog_runs_each_with_its_reply);
    RUN(test_status_and_help);
    RUN(test_console_lines);
    RUN(test_restart_is_planned_with_its_reason);
    return harness_report();
}
