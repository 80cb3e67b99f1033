/* log.c — uptime-stamped log lines to the console; see log.h. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>

#include "hal/hal.h"

#define LOG_LINE_MAX 256 /* a script command's reply fits */

static const enum log_level max_level = LOG_INFO; /* debug lines cost nothing */


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
    line[n++] = '\n';
    hal_console_write(line, (size_t)n);
}
