/*
 * commands.h — the command tables of the core, one register function per
 * file, all called once by the firmware at start-up.
 */
#ifndef OPENPLUG_COMMANDS_H
#define OPENPLUG_COMMANDS_H

#include "core/cmd/cmd.h"

void cmd_power_register(void);  /* cmd_power.c: Power, PowerOnState, setChannel, … */
void cmd_device_register(void); /* cmd_device.c: Status, Restart, Reset, Template, Pin, … */
void cmd_energy_register(void); /* cmd_energy.c: PowerSet, VoltageSet, CurrentSet, *Cal */
void cmd_tariff_register(void); /* cmd_tariff.c: Tariff1/2/9, EnergyPrice, Currency */
void cmd_limits_register(void); /* energy/limits.c: PowerLow … MaxEnergy, PulseTime */
void cmd_time_register(void);   /* cmd_time.c: Time, Timezone, TimeStd, TimeDst */
void cmd_time_status(struct json_writer *w); /* Status 7 */
void cmd_ota_register(void);    /* ota/cmd_ota.c: OtaUrl, Upgrade, OtaStatus, OtaConfirm, OtaKey */
#if OPENPLUG_NET
void mqtt_commands_register(void); /* net/mqtt_tasmota.c: MqttHost, Topic, TelePeriod, … */
#endif

static inline void commands_register_all(void)
{
    cmd_init();
    cmd_power_register();
    cmd_device_register();
    cmd_energy_register();
    cmd_tariff_register();
    cmd_limits_register();
    cmd_time_register();
    cmd_ota_register();
#if OPENPLUG_NET
    mqtt_commands_register();
#endif
}

#endif
