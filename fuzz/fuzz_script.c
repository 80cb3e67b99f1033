/*
 * fuzz_script.c — script lines through the whole scripting layer
 * (src/core/script) on a firmware booted once on the fake board: the
 * parsers of addEventHandler / addRepeatingEvent / addClockEvent / if /
 * delay_s / StartupCommand, the run queue, variable expansion, the event
 * tables and their firing.
 *
 * Input: lines (split at \n).  A line starting with '@' is queued as a
 * script run (the rest, ';'-separated commands, as a startup command
 * would be); any other line is typed on the console.  A line "#click",
 * "#wifi" or "#clock" makes an event happen (a button click on GPIO17,
 * the Wi-Fi link flipping, the clock set forward a day).  Then the main
 * loop runs for up to LOOP_TURNS turns of up to 1 s of fake time.
 * Every input starts with no runs and no events.
 * Properties:
 *   - no crash, no unbounded recursion or loop (libFuzzer's timeout);
 *   - a loop turn never executes more than SCRIPT_STEPS_PER_TURN script
 *     commands (the cooperative budget);
 *   - the queue never holds more than SCRIPT_RUNS_MAX runs;
 *   - every console reply is one JSON object.
 */
#include <setjmp.h>

#include "core/cmd/cmd.h"
#include "core/firmware.h"
#include "core/sched.h"
#include "core/script/script.h"
#include "core/timekeeping.h"
#include "fake_hal.h"
#include "fuzz_input.h"

#define LOOP_TURNS 40

static void check_reply(const char *json, void *arg)
{
    (void)arg;
    size_t len = strlen(json);
    FUZZ_CHECK(len >= 2 && len < CMD_REPLY_MAX && json[0] == '{' && json[len - 1] == '}');
}

static void console(const char *text)
{
    char line[CMD_LINE_MAX + 1];
    snprintf(line, sizeof line, "%s", text);
    cmd_execute(line, SOURCE_CONSOLE, check_reply, NULL);
}

static void run_line(char *line)
{
    if (strcmp(line, "#click") == 0) {
        fake_pin_external(17, 0);
        for (int i = 0; i < 6; i++)
            sched_run_once(10);
        fake_pin_external(17, -1);
    } else if (strcmp(line, "#wifi") == 0) {
        fake_wifi = fake_wifi == HAL_WIFI_CONNECTED ? HAL_WIFI_CONNECTING : HAL_WIFI_CONNECTED;
    } else if (strcmp(line, "#clock") == 0) {
        clock_set((clock_known() ? clock_utc_ms() : 1795516140000) + 86400000, SOURCE_CONSOLE);
    } else if (line[0] == '@') {
        script_queue_text("fuzz", line + 1);
    } else {
        console(line);
    }
}

static jmp_buf reboot_jump;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool booted;
    if (!booted) {
        fake_flash_blank();
        firmware_boot();
        booted = true;
    }
    if (size > 4096)
        return 0;
    script_stop_all();
    console("clearEvents");
    console("SetupEnergyStats 0");
    fake_console_clear();

    static char *text; /* static: a reboot longjmps past the free */
    free(text);
    text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';
    fake_reboot_jump = &reboot_jump; /* Restart 1 / Reset 1 end the input */
    if (setjmp(reboot_jump) == 0) {
        for (char *line = text, *next; line; line = next) {
            next = strchr(line, '\n');
            if (next)
                *next++ = '\0';
            if (strlen(line) <= CMD_LINE_MAX)
                run_line(line);
        }
        for (unsigned turn = 0; turn < LOOP_TURNS; turn++) {
            struct script_stats before, after;
            script_get_stats(&before);
            sched_run_once(1000);
            script_get_stats(&after);
            FUZZ_CHECK(after.commands - before.commands <= SCRIPT_STEPS_PER_TURN);
            FUZZ_CHECK(after.queued <= SCRIPT_RUNS_MAX);
        }
    }
    fake_reboot_jump = NULL;
    fake_flash_power_on();
    return 0;
}
