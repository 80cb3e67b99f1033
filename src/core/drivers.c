/* drivers.c — the driver registry behind startDriver; see drivers.h. */
#include "drivers.h"

#include <stdio.h>
#include <strings.h>

#include "core/log.h"

static struct driver *drivers;

void driver_register(struct driver *driver)
{
    driver->next = drivers;
    drivers = driver;
}

int driver_start(const char *name)
{
    for (struct driver *d = drivers; d; d = d->next) {
        if (strcasecmp(d->name, name) != 0)
            continue;
        if (d->running)
            return 0;
        int err = d->start(d);
        d->running = err == 0;
        LOG_INF("DRV", "%s %s", d->name, err ? "failed to start" : "started");
        return err;
    }
    return -1;
}

void driver_list(char *buf, unsigned size)
{
    unsigned len = 0;
    buf[0] = '\0';
    for (struct driver *d = drivers; d && len < size; d = d->next)
        len += (unsigned)snprintf(buf + len, size - len, "%s%s", len ? ", " : "", d->name);
    if (!drivers)
        snprintf(buf, size, "none");
}
