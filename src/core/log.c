/* log.c — uptime-stamped log lines to the console; see log.h. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "hal/hal.h"

static const enum log_level max_level = LOG_INFO; /* debug lines cost nothing */

static char ring[LOG_RING_LINES][LOG_LINE_MAX];
static uint32_t next_seq;
static void (*listener)(uint32_t seq);

uint32_t log_next_seq(void) { return next_seq; }

bool log_get(uint32_t seq, char *out, size_t size)
{
    if (seq >= next_seq || next_seq - seq > LOG_RING_LINES || !size)
        return false;
    snprintf(out, size, "%s", ring[seq % LOG_RING_LINES]);
    return true;
}

void log_set_listener(void (*fn)(uint32_t seq)) { listener = fn; }

static void keep(const char *line, size_t len)
{
    uint32_t seq = next_seq++;
    char *slot = ring[seq % LOG_RING_LINES];
    memcpy(slot, line, len);
    slot[len] = '\0';
    if (listener)
        listener(seq);
}


void log_msg(enum log_level level, const char *tag, const char *fmt, ...)
{
    if (level > max_level)
        return;
    char line[LOG_LINE_MAX];
    uint64_t ms = hal_time_ms();
    unsigned long seconds = (unsigned long)(ms / 1000);
    int n = snprintf(line, sizeof line, "%02lu:%02lu:%02lu.%03u %s: ", seconds / 3600, seconds / 60 % 60,
                     seconds % 60, (unsigned)(ms % 1000), tag);
    va_list args;
    va_start(args, fmt);
    if (n > 0 && (size_t)n < sizeof line)
        n += vsnprintf(line + n, sizeof line - (size_t)n, fmt, args);
    va_end(args);
    if (n < 0)
        return;
    if ((size_t)n > sizeof line - 2)
        n = (int)sizeof line - 2; /* cut, keep room for the newline */
    keep(line, (size_t)n);
    line[n++] = '\n';
    hal_console_write(line, (size_t)n);
}
