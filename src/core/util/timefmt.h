/*
 * timefmt.h — calendar arithmetic for printing times, without the C
 * library's time zone machinery (which the target does not have).
 */
#ifndef OPENPLUG_TIMEFMT_H
#define OPENPLUG_TIMEFMT_H

#include <stddef.h>
#include <stdint.h>

/* "2026-11-24T01:23:45" for seconds since the Unix epoch. */
void timefmt_iso8601(int64_t unix_seconds, char *buf, size_t size);

#endif
