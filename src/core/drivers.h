/*
 * drivers.h — optional subsystems started by name (OpenBeken's
 * `startDriver BL0937`).  A driver registers itself at start-up; this build
 * knows only the drivers that are linked in, and says so for any other.
 */
#ifndef OPENPLUG_DRIVERS_H
#define OPENPLUG_DRIVERS_H

#include <stdbool.h>

struct driver {
    struct driver *next;
    const char *name;
    int (*start)(struct driver *self); /* 0 on success */
    bool running;
};

void driver_register(struct driver *driver);
/* Start a driver by name (case-insensitive): 0, -1 unknown, or its error. */
int driver_start(const char *name);
/* The names of the registered drivers, comma-separated, or "none". */
void driver_list(char *buf, unsigned size);

#endif
