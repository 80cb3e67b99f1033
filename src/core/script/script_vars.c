/*
 * script_vars.c — the variables scripts can read ($CH1, $power, …) and
 * their expansion into command lines.  Values come from the one place
 * that owns each: channels, the sensor registry, the energy counters, the
 * clock.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/energy/energy.h"
#include "core/energy/meter.h"
#include "core/io/channels.h"
#include "core/io/pins.h"
#include "core/script/expr.h"
#include "core/script/script_internal.h"
#include "core/timekeeping.h"
#include "hal/hal.h"

bool script_local_now(struct script_clock *out)
{
    struct local_time now;
    if (!clock_local_now(&now))
        return false;
    out->day = now.day;
    out->second_of_day = now.civil.hour * 3600 + now.civil.minute * 60 + now.civil.second;
    out->weekday = now.civil.weekday;
    return true;
}

static double kwh(uint64_t uj) { return (double)uj / (double)UJ_PER_WH / 1000.0; }

static bool clock_var(const char *name, double *value)
{
    static const char *const names[] = {"hour", "minute", "second", "weekday"};
    for (unsigned i = 0; i < 4; i++) {
        if (strcasecmp(name, names[i]) != 0)
            continue;
        struct script_clock now;
        if (!script_local_now(&now)) {
            *value = -1; /* the clock is not set yet */
            return true;
        }
        int32_t parts[4] = {now.second_of_day / 3600, now.second_of_day / 60 % 60, now.second_of_day % 60,
                            now.weekday};
        *value = parts[i];
        return true;
    }
    return false;
}

bool script_var_lookup(const char *name, double *value, void *arg)
{
    (void)arg;
    const struct meter_reading *e = meter_reading();
    if ((name[0] == 'C' || name[0] == 'c') && (name[1] == 'H' || name[1] == 'h') && isdigit((unsigned char)name[2])) {
        char *end;
        long channel = strtol(name + 2, &end, 10);
        if (*end || channel < 1 || channel > CHANNEL_MAX)
            return false;
        *value = channel_get((unsigned)channel);
        return true;
    }
    if (strcasecmp(name, "power") == 0)
        *value = e->valid ? e->power_w : 0;
    else if (strcasecmp(name, "voltage") == 0)
        *value = e->valid ? e->voltage_v : 0;
    else if (strcasecmp(name, "current") == 0)
        *value = e->valid ? e->current_a : 0;
    else if (strcasecmp(name, "energy_today") == 0)
        *value = kwh(energy_counters()->today_uj);
    else if (strcasecmp(name, "energy_total") == 0)
        *value = kwh(energy_counters()->total_uj);
    else if (strcasecmp(name, "uptime") == 0)
        *value = (double)(hal_time_ms() / 1000);
    else
        return clock_var(name, value);
    return true;
}

/* A value as a command argument: whole numbers plainly, others with up to
 * three decimals ("230.4", not "230.400000"). */
static int format_value(double value, char *buf, size_t size)
{
    if (value == (double)(long long)value && value > -1e15 && value < 1e15)
        return snprintf(buf, size, "%lld", (long long)value);
    int n = snprintf(buf, size, "%.3f", value);
    while (n > 0 && (size_t)n < size && buf[n - 1] == '0')
        buf[--n] = '\0';
    return n;
}

bool script_expand(const char *in, char *out, size_t size)
{
    size_t len = 0;
    while (*in) {
        char name[EXPR_NAME_MAX + 1];
        size_t n = 0;
        double value;
        if (*in == '$') {
            while (n < EXPR_NAME_MAX && (isalnum((unsigned char)in[1 + n]) || in[1 + n] == '_')) {
                name[n] = in[1 + n];
                n++;
            }
            name[n] = '\0';
        }
        if (n && script_var_lookup(name, &value, NULL)) {
            char text[32];
            int t = format_value(value, text, sizeof text);
            if (t < 0 || len + (size_t)t >= size)
                return false;
            memcpy(out + len, text, (size_t)t);
            len += (size_t)t;
            in += 1 + n;
            continue;
        }
        if (len + 1 >= size)
            return false;
        out[len++] = *in++;
    }
    out[len] = '\0';
    return true;
}
