/*
 * fuzz_device.h — the firmware state shared by the fuzz targets that run
 * commands on a firmware booted on the fake board (fuzz_cmd,
 * fuzz_web_config): the same starting point for every input, and the
 * checks of the settings in use.
 */
#ifndef OPENPLUG_FUZZ_DEVICE_H
#define OPENPLUG_FUZZ_DEVICE_H

#include "core/cmd/cmd.h"
#include "core/firmware.h"
#include "core/io/channels.h"
#include "core/io/pins.h"
#include "core/script/script.h"
#include "core/storage/config.h"
#include "fake_hal.h"
#include "fuzz_input.h"

static inline void check_config(const struct config *c)
{
    FUZZ_CHECK(memchr(c->device_name, '\0', sizeof c->device_name) != NULL);
    FUZZ_CHECK(memchr(c->template_name, '\0', sizeof c->template_name) != NULL);
    FUZZ_CHECK(c->power_on_state < POWER_ON_COUNT);
    for (int gpio = 0; gpio < CONFIG_PINS; gpio++)
        FUZZ_CHECK(c->pins[gpio].role < PIN_ROLE_COUNT && c->pins[gpio].channel <= 63);
}

/* The firmware booted once per process on a blank chip (the targets then
 * bring it back to their own starting point for each input). */
static inline void boot_once(void)
{
    static bool booted;
    if (!booted) {
        fake_flash_blank();
        firmware_boot(); /* fake_hal.c has the web server listen on 127.0.0.1, any port */
        booted = true;
    }
}

static inline unsigned relay_states(void)
{
    unsigned bits = 0;
    for (unsigned channel = 1; channel <= CHANNEL_MAX; channel++)
        bits |= (unsigned)channel_get(channel) << (channel - 1);
    return bits;
}

static inline void ignore_reply(const char *json, void *arg)
{
    (void)json;
    (void)arg;
}

/* The same starting point for every input: a blank chip, default settings
 * saved (in the first slot), pins applied, relays off. */
static inline void reset_device(void)
{
    uint16_t step = 0;
    while (channels_erase_step(&step)) /* forgets the boot record it holds */
        ;
    fake_flash_blank();
    channels_boot_restore(); /* both logs mount the blank chip */
    FUZZ_CHECK(!config_load());
    struct config defaults;
    config_defaults(&defaults);
    FUZZ_CHECK(config_update(&defaults) == 0);
    pins_apply(config_get()->pins);
    channels_settings_changed(SOURCE_BOOT);
    for (unsigned channel = 1; channel <= CHANNEL_MAX; channel++)
        channel_set(channel, false, SOURCE_BOOT);
    script_stop_all(); /* and no script event of an earlier input */
    char clear[] = "clearEvents";
    cmd_execute(clear, SOURCE_BOOT, ignore_reply, NULL);
}

#endif
