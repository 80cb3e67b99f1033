/* safemode.c — boot counts, good and bad boots, safe mode; see safemode.h. */
#include "safemode.h"

#include "core/cmd/cmd.h"
#include "core/health.h"
#include "core/log.h"
#include "core/sched.h"
#include "core/storage/layout.h"
#include "core/storage/reclog.h"
#include "core/system.h"
#include "hal/hal.h"

#define RECORD_VERSION 1

/* Persisted: fixed-width fields only. */
struct boot_record {
    uint32_t boot_count;      /* boots since the area was created */
    uint32_t watchdog_resets; /* of them, after a watchdog reset */
    uint32_t crash_resets;    /* of them, after a crash */
    uint16_t bad_in_a_row;    /* boots that did not become good, up to now */
    uint8_t enter_safe_mode;  /* SafeMode 1: the next boot runs in safe mode */
    uint8_t reserved;
};
_Static_assert(sizeof(struct boot_record) == 16, "persisted layout");
_Static_assert(sizeof(struct boot_record) + RECLOG_HEADER_SIZE <= LAYOUT_HEALTH_SLOT, "fits its slot");

static struct reclog ring = {
    .part = HAL_PART_PSM,
    .offset = LAYOUT_HEALTH_OFFSET,
    .sectors = LAYOUT_HEALTH_SECTORS,
    .slot_size = LAYOUT_HEALTH_SLOT,
    .magic = LAYOUT_HEALTH_MAGIC,
};
static struct boot_record record;
static uint32_t bad_before_this_boot;
static bool safe_mode, safe_mode_asked, boot_good;
static uint64_t booted_ms;
static struct sched_timer good_timer, exit_timer;

bool system_safe_mode(void) { return safe_mode; }
uint32_t safemode_boot_count(void) { return record.boot_count; }
uint32_t safemode_watchdog_resets(void) { return record.watchdog_resets; }
uint32_t safemode_crash_resets(void) { return record.crash_resets; }
uint32_t safemode_bad_boots(void) { return bad_before_this_boot; }
bool safemode_boot_is_good(void) { return boot_good; }

static void save(void)
{
    int err = reclog_append(&ring, &record, sizeof record, RECORD_VERSION);
    if (err)
        LOG_ERR("SYS", "cannot save the boot record (flash error %d)", err);
}

/* Did the previous boot die unplanned after the firmware had run (the
 * watchdog, a crash), or restart by a script (a restart loop)?  A power
 * cut says nothing about the firmware: a flickering supply is ordinary. */
static bool ended_badly(void)
{
    enum boot_cause cause = system_boot_cause();
    return cause == BOOT_WATCHDOG || cause == BOOT_CRASH ||
           (cause == BOOT_PLANNED && system_boot_restart_source() == SOURCE_SCRIPT &&
            system_boot_restart_kind() != RESTART_SAFE_MODE_EXIT);
}

/* Did the previous boot end because a person asked for a restart? */
static bool ended_by_request(void)
{
    if (system_boot_cause() != BOOT_PLANNED)
        return false;
    return system_boot_restart_source() != SOURCE_SCRIPT || system_boot_restart_kind() == RESTART_SAFE_MODE_EXIT;
}

static void check_good(void *arg)
{
    (void)arg;
    if (health_stalled()) { /* not good yet: look again in a second */
        sched_timer_start(&good_timer, 1000, 0);
        return;
    }
    boot_good = true;
    record.bad_in_a_row = 0;
    save();
    LOG_INF("SYS", "boot %lu is good (up %u s, every activity alive)", (unsigned long)record.boot_count,
            SAFEMODE_GOOD_AFTER_MS / 1000);
}

/* Safe mode entered by bad boots ends by itself once the plug has been
 * stable this long: a restart into the normal mode, its bad boots
 * forgotten (a fault that is still there brings safe mode back). */
static void leave_when_stable(void *arg)
{
    (void)arg;
    if (!boot_good || health_stalled()) {
        sched_timer_start(&exit_timer, 1000, 0);
        return;
    }
    LOG_INF("SYS", "safe mode: stable for %u s: leaving it (restart)", SAFEMODE_EXIT_AFTER_MS / 1000);
    record.bad_in_a_row = 0;
    save();
    system_restart(RESTART_SAFE_MODE_EXIT, SOURCE_BOOT);
}

uint32_t safemode_exit_in_s(void)
{
    if (!safe_mode || safe_mode_asked || !exit_timer.armed)
        return 0;
    uint64_t up = hal_time_ms() - booted_ms;
    return up < SAFEMODE_EXIT_AFTER_MS ? (uint32_t)((SAFEMODE_EXIT_AFTER_MS - up + 999) / 1000) : 1;
}

void safemode_boot(void)
{
    uint8_t version;
    if (reclog_mount(&ring) <= 0 || reclog_read(&ring, &record, sizeof record, &version) != (int)sizeof record ||
        version != RECORD_VERSION)
        record = (struct boot_record){0};
    if (ended_by_request())
        record.bad_in_a_row = 0;
    else if (ended_badly() && record.bad_in_a_row < UINT16_MAX)
        record.bad_in_a_row++;
    bad_before_this_boot = record.bad_in_a_row;
    safe_mode_asked = record.enter_safe_mode;
    booted_ms = hal_time_ms();
    safe_mode = safe_mode_asked || record.bad_in_a_row >= SAFEMODE_BAD_BOOTS;
    record.boot_count++;
    record.watchdog_resets += system_boot_cause() == BOOT_WATCHDOG;
    record.crash_resets += system_boot_cause() == BOOT_CRASH;
    sched_timer_init(&good_timer, check_good, NULL);
    sched_timer_init(&exit_timer, leave_when_stable, NULL);
    if (safe_mode && safe_mode_asked)
        LOG_ERR("SYS", "SAFE MODE (asked for): no scripts, MQTT or optional drivers (metering runs); SafeMode 0 "
                       "leaves it");
    else if (safe_mode) {
        LOG_ERR("SYS", "SAFE MODE (%u bad boots in a row): no scripts, MQTT or optional drivers (metering runs); "
                       "left by itself after %u s stable, or with SafeMode 0",
                (unsigned)record.bad_in_a_row, SAFEMODE_EXIT_AFTER_MS / 1000);
        sched_timer_start(&exit_timer, SAFEMODE_EXIT_AFTER_MS, 0);
    }
    record.enter_safe_mode = 0;
    save();
    sched_timer_start(&good_timer, SAFEMODE_GOOD_AFTER_MS, 0);
}

/* SafeMode: show; 1 restart into safe mode; 0 leave it (restart). */
static enum cmd_result cmd_safe_mode(struct cmd_ctx *ctx)
{
    if (*ctx->arg) {
        int wanted = cmd_parse_switch(ctx->arg);
        if (wanted != 0 && wanted != 1)
            return cmd_error(ctx, "SafeMode: expected 0 (leave, restart) or 1 (restart into safe mode)");
        if (wanted == (int)safe_mode && !wanted)
            return cmd_error(ctx, "SafeMode: not in safe mode");
        record.enter_safe_mode = (uint8_t)wanted;
        record.bad_in_a_row = 0;
        save();
        system_restart(wanted ? RESTART_SAFE_MODE_ENTER : RESTART_SAFE_MODE_EXIT, ctx->source);
        jw_int(ctx->reply, "SafeMode", safe_mode);
        jw_string(ctx->reply, "Restart", "Restarting");
        return CMD_DONE;
    }
    jw_int(ctx->reply, "SafeMode", safe_mode);
    jw_int(ctx->reply, "BadBoots", bad_before_this_boot);
    jw_int(ctx->reply, "BootCount", record.boot_count);
    return CMD_DONE;
}

static const struct cmd_def safe_mode_commands[] = {
    {"SafeMode", cmd_safe_mode, 0,
     "SafeMode [0|1]: show; 1 restart into safe mode (console, AP, web, OTA only); 0 leave it"},
};

void safemode_register(void)
{
    static struct cmd_table table;
    cmd_register(&table, safe_mode_commands, 1);
}
