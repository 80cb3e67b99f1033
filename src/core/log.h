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
/* The kept lines from *seq up to end, as JSON strings separated by commas
 * (one before the first when *any), each written whole while it fits in
 * buf's cap bytes with a NUL after it.  Moves *seq past the lines written
 * and those no longer kept; sets *any once a line is written.  Returns the
 * bytes written: 0 with *seq < end when the next line needs more room (a
 * line needs at most LOG_JSON_LINE_MAX). */
#define LOG_JSON_LINE_MAX (1 + 2 + 6 * (LOG_LINE_MAX - 2) + 1) /* comma, quotes, every byte \u00XX, NUL */
size_t log_json_lines(uint32_t *seq, uint32_t end, bool *any, char *buf, size_t cap);
/* Called after each new line (one listener: the web's event stream).  It
 * must not log. */
void log_set_listener(void (*fn)(uint32_t seq));

#define LOG_ERR(tag, ...) log_msg(LOG_ERROR, tag, __VA_ARGS__)
#define LOG_INF(tag, ...) log_msg(LOG_INFO, tag, __VA_ARGS__)
#define LOG_DBG(tag, ...) log_msg(LOG_DEBUG, tag, __VA_ARGS__)

#endif
