/*
 * script_internal.h — what the files of src/core/script share and nobody
 * else needs: the runner's hooks for the event tables and the variables.
 */
#ifndef OPENPLUG_SCRIPT_INTERNAL_H
#define OPENPLUG_SCRIPT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/cmd/cmd.h"

#define SCRIPT_CMD_MAX 160 /* a command stored in an event table, with its NUL */

/* script_vars.c */
bool script_var_lookup(const char *name, double *value, void *arg);
/* Copy `in` to `out` with every known $variable replaced by its value; an
 * unknown one is left as written.  False when the result does not fit. */
bool script_expand(const char *in, char *out, size_t size);

/* Local wall-clock time, false while the clock is unknown. */
struct script_clock {
    int64_t day;  /* local days since 1970-01-01 */
    int32_t second_of_day;
    uint8_t weekday; /* 0 = Sunday */
};
bool script_local_now(struct script_clock *out);

/* script_events.c */
void script_events_register(void);
uint32_t script_events_runaways(void); /* handlers disabled since boot */

/* script.c: true while a run is executing a command (delay_s, the reply). */
bool script_in_run(void);

#endif
