/*
 * log.h — the firmware's log: one line per event, prefixed with the uptime,
 * written to the serial console.  Lines are bounded (longer ones are cut)
 * and formatting never allocates.
 */
#ifndef OPENPLUG_LOG_H
#define OPENPLUG_LOG_H

enum log_level { LOG_ERROR = 1, LOG_INFO = 2, LOG_DEBUG = 3 };

/* `tag` names the subsystem in three or four capitals: "CFG", "BTN", ... */
void log_msg(enum log_level level, const char *tag, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define LOG_ERR(tag, ...) log_msg(LOG_ERROR, tag, __VA_ARGS__)
#define LOG_INF(tag, ...) log_msg(LOG_INFO, tag, __VA_ARGS__)
#define LOG_DBG(tag, ...) log_msg(LOG_DEBUG, tag, __VA_ARGS__)

#endif
