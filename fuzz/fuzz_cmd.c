/*
 * fuzz_cmd.c — the command interpreter (src/core/cmd/cmd.h) on a firmware
 * booted once on the fake board.
 *
 * Each input is a few console lines (split at \n and \r, as the console
 * does; lines longer than CMD_LINE_MAX are dropped, as the console does).
 * Every input starts from the same state: a blank flash chip, the default
 * settings saved, relays off.
 * Then each line goes through cmd_execute(); a line "#cut" or "#cutN" (N a
 * digit) is the harness's own: it makes the Nth flash operation from then
 * fail (torn, power back after the next command line), so that saves fail;
 * as the last line it strikes in the main loop.  Afterwards the main loop
 * runs for 2.5 s of fake time so that planned restarts and factory resets
 * happen (hal_reboot() longjmps back here), and the Wi-Fi state changes.
 * Properties:
 *   - every reply is one whole JSON object ('{' … '}', valid, < CMD_REPLY_MAX;
 *     Help's list < CMD_HELP_MAX);
 *   - a line gives exactly one reply (Backlog: one per command it runs);
 *   - a command that replies with an error changes neither the settings nor
 *     the relays (cmd.h: "changes nothing"), also when saving failed;
 *   - the settings in RAM stay valid, and survive a reboot: config_load()
 *     gives them back exactly; after a factory reset it finds none, or if
 *     the flash failed (during the reset, or saves before it), the same
 *     (never an older copy);
 *   - the housekeeping tick keeps running (it reports the Wi-Fi change).
 */
#include <ctype.h>
#include <setjmp.h>
#include <strings.h>

#include "core/cmd/cmd.h"
#include "core/firmware.h"
#include "core/io/channels.h"
#include "core/io/pins.h"
#include "core/sched.h"
#include "core/script/script.h"
#include "core/storage/config.h"
#include "core/system.h"
#include "fake_hal.h"
#include "fuzz_device.h"

#define LOOP_MS 2500 /* two housekeeping ticks and more */
#define LOOP_TURNS 64

static unsigned replies;
static bool error_reply; /* the last reply was {"Command":"Error",…} */
static bool save_failed; /* a settings save failed during this input (config.c logs each) */
static bool log_commands;

static void check_reply(const char *json, void *arg)
{
    (void)arg;
    FUZZ_CHECK(json != NULL);
    size_t len = strlen(json);
    size_t max = strncmp(json, "{\"Commands\":", 12) == 0 ? CMD_HELP_MAX : CMD_REPLY_MAX;
    if (!(len >= 2 && len < max && json[0] == '{' && json[len - 1] == '}'))
        fprintf(stderr, "bad reply: '%s'\n", json);
    FUZZ_CHECK(len >= 2 && len < max);
    FUZZ_CHECK(json[0] == '{' && json[len - 1] == '}');
    struct json_reader r;
    jr_init(&r, json, len);
    bool valid = jr_skip(&r) && jr_finished(&r);
    if (!valid)
        fprintf(stderr, "reply is not valid JSON (%s): %s\n", r.error, json);
    FUZZ_CHECK(valid);
    replies++;
    error_reply = strncmp(json, "{\"Command\":\"Error\"", 18) == 0;
}

/* cmd.c's trim: isspace() on both ends. */
static bool blank(const char *line)
{
    for (; *line; line++)
        if (!isspace((unsigned char)*line))
            return false;
    return true;
}

static bool is_command(const char *line, const char *name)
{
    size_t n = strlen(name);
    while (isspace((unsigned char)*line))
        line++;
    return strncasecmp(line, name, n) == 0 && (line[n] == '\0' || isspace((unsigned char)line[n]));
}

/* Commands that run others and pass their replies on: any number of them,
 * and an error among them does not undo what the others did.  `if` runs
 * one branch, which may be a Backlog. */
static bool is_backlog(const char *line)
{
    return is_command(line, "backlog") || is_command(line, "if");
}

static void run_line(const uint8_t *text, size_t len)
{
    char line[CMD_LINE_MAX + 1];
    memcpy(line, text, len);
    line[len] = '\0';
    if (strncmp(line, "#cut", 4) == 0) {
        fake_flash_cut_at(line[4] >= '1' && line[4] <= '9' ? (uint32_t)(line[4] - '0') : 1);
        return;
    }
    bool is_blank = blank(line), backlog = is_backlog(line);
    struct config before = *config_get();
    unsigned states = relay_states();
    replies = 0;
    error_reply = false;
    fake_console_clear(); /* this line's log only */
    cmd_execute(line, SOURCE_CONSOLE, check_reply, NULL);
    fake_flash_power_on(); /* a cut planned for this line is over */
    save_failed |= strstr(fake_console_output(), "CFG: saving settings failed") != NULL;
    if (log_commands) /* debugging a finding */
        fputs(fake_console_output(), stderr);
    if (is_blank)
        FUZZ_CHECK(replies == 0);
    else if (!backlog)
        FUZZ_CHECK(replies == 1);
    check_config(config_get());
    if (error_reply && !backlog) {
        if (memcmp(&before, config_get(), sizeof before) != 0 || states != relay_states())
            fprintf(stderr, "'%.*s' replied an error but changed the %s\n", (int)len, (const char *)text,
                    states != relay_states() ? "relays" : "settings");
        FUZZ_CHECK(memcmp(&before, config_get(), sizeof before) == 0);
        FUZZ_CHECK(states == relay_states());
    }
}

static jmp_buf reboot_jump;

/* A Wi-Fi state the firmware has not announced: neither the one the loop
 * last saw (set here last time) nor one the commands just caused (a join,
 * the set-up access point). */
static enum hal_wifi_state wifi_change(enum hal_wifi_state now)
{
    static enum hal_wifi_state last_set = HAL_WIFI_CONNECTED; /* the fake board's state at boot */
    static const enum hal_wifi_state choices[] = {HAL_WIFI_OFF, HAL_WIFI_CONNECTED, HAL_WIFI_CONNECTING};
    for (unsigned i = 0; i < 3; i++)
        if (choices[i] != now && choices[i] != last_set)
            return last_set = choices[i];
    return last_set;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    boot_once();
    fake_console_clear();
    fake_flash_power_on();
    reset_device();
    save_failed = false;
    log_commands = getenv("FUZZ_CMD_LOG") != NULL; /* debugging a finding: the commands' log on stderr */

    /* The console's way of cutting lines. */
    size_t start = 0;
    for (size_t i = 0; i <= size; i++) {
        if (i < size && data[i] != '\n' && data[i] != '\r')
            continue;
        if (i > start && i - start <= CMD_LINE_MAX)
            run_line(data + start, i - start);
        start = i + 1;
    }

    /* Let the loop run: planned restarts happen, the tick sees Wi-Fi change. */
    fake_wifi = wifi_change(fake_wifi); /* the tick must report it */
    fake_console_clear();
    volatile unsigned turns = 0;
    volatile uint32_t reboot_reason = 0;
    uint64_t until = hal_time_ms() + LOOP_MS;
    fake_reboot_jump = &reboot_jump;
    if (setjmp(reboot_jump))
        reboot_reason = fake_reboot_reason;
    while (hal_time_ms() < until && turns < LOOP_TURNS) {
        turns++;
        sched_run_once(FIRMWARE_TICK_MS);
    }
    fake_reboot_jump = NULL;
    bool cut_in_loop = fake_flash_power_is_off(); /* a "#cut" last struck in the loop */
    fake_flash_power_on();
    if (!strstr(fake_console_output(), "WIF: Wi-Fi"))
        fprintf(stderr, "no Wi-Fi report in %u turns (%llu ms); log:\n%s\n", (unsigned)turns,
                (unsigned long long)hal_time_ms(), fake_console_output());
    FUZZ_CHECK(strstr(fake_console_output(), "WIF: Wi-Fi") != NULL);

    /* The settings survive a reboot as they are; after a factory reset
     * they are gone, or, if the flash failed during the reset, still the
     * same (never an older copy). */
    check_config(config_get());
    struct config before = *config_get();
    bool factory_reset = reboot_reason && (reboot_reason >> 4 & 0xF) == RESTART_FACTORY_RESET;
    bool loaded = config_load();
    bool same = memcmp(&before, config_get(), sizeof before) == 0;
    if (factory_reset ? loaded && !((cut_in_loop || save_failed) && same) : !loaded || !same)
        fprintf(stderr,
                "after %u turns (%llu ms, reboot reason 0x%lx%s) the settings were %sloaded%s; log:\n%s\n",
                (unsigned)turns, (unsigned long long)hal_time_ms(), (unsigned long)reboot_reason,
                cut_in_loop ? ", flash cut" : "", loaded ? "" : "not ",
                loaded && !same ? " but differ from those in use" : "", fake_console_output());
    if (factory_reset) {
        /* The flash failed during the reset, or failed saves had left the
         * settings log refusing writes until the next mount: the settings
         * may stay as they were. */
        if (loaded)
            FUZZ_CHECK((cut_in_loop || save_failed) && same);
    } else {
        FUZZ_CHECK(loaded && same);
    }
    check_config(config_get());
    return 0;
}
