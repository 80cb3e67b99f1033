/*
 * log.h — the firmware's log: one line per event, prefixed with the uptime,
 * written to the serial console.  Lines are bounded (longer ones are cut)
 * and formatting never allocates.  The newest lines are also kept in RAM,
 * numbered, for the web console (/api/logs, the event stream): as many as
 * fit LOG_RING_BYTES (about 35 lines; each takes only its own length), at
 * most LOG_RING_INDEX.
 */
#ifndef OPENPLUG_LOG_H
#define OPENPLUG_LOG_H

#include <stdbool.h>

enum log_level { LOG_ERROR = 1, LOG_INFO = 2, LOG_DEBUG = 3 };

/* `tag` names the subsystem in three or four capitals: "CFG", "BTN", ... */
void log_msg(enum log_level level, const char *tag, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#include <stddef.h>
#include <stdint.h>

#define LOG_LINE_MAX 256 /* a script command's reply fits */
#define LOG_RING_BYTES 2816
#define LOG_RING_INDEX 64

/* Sequence number the next line will get (the first line is 0). */
uint32_t log_next_seq(void);
/* Sequence number of the oldest line still kept. */
uint32_t log_oldest_seq(void);
/* Copy line `seq` (without its newline) into out; false when it is not
 * kept (dropped from the ring, or not written yet). */
bool log_get(uint32_t seq, char *out, size_t size);
/* Called after each new line (one listener: the web's event stream).  It
 * must not log. */
void log_set_listener(void (*fn)(uint32_t seq));

#define LOG_ERR(tag, ...) log_msg(LOG_ERROR, tag, __VA_ARGS__)
#define LOG_INF(tag, ...) log_msg(LOG_INFO, tag, __VA_ARGS__)
#define LOG_DBG(tag, ...) log_msg(LOG_DEBUG, tag, __VA_ARGS__)

#endif
