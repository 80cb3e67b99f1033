/* log.c — uptime-stamped log lines to the console; see log.h. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/util/json.h"
#include "hal/hal.h"

static const enum log_level max_level = LOG_INFO; /* debug lines cost nothing */

/* The kept lines' text end to end in a byte ring (no NULs), oldest first;
 * line seq starts at starts[seq % LOG_RING_INDEX]. */
static char text[LOG_RING_BYTES];
static uint16_t starts[LOG_RING_INDEX];
static uint8_t lengths[LOG_RING_INDEX]; /* a kept line is at most LOG_LINE_MAX - 2 bytes */
static size_t head, used;
_Static_assert(LOG_LINE_MAX - 2 <= UINT8_MAX && LOG_RING_BYTES <= UINT16_MAX, "lengths and starts fit their types");
static uint32_t next_seq, oldest_seq;
static void (*listener)(uint32_t seq);

uint32_t log_next_seq(void) { return next_seq; }
uint32_t log_oldest_seq(void) { return oldest_seq; }

bool log_get(uint32_t seq, char *out, size_t size)
{
    if (seq >= next_seq || seq < oldest_seq || !size)
        return false;
    size_t at = starts[seq % LOG_RING_INDEX], n = lengths[seq % LOG_RING_INDEX];
    if (n > size - 1)
        n = size - 1;
    for (size_t i = 0; i < n; i++)
        out[i] = text[(at + i) % LOG_RING_BYTES];
    out[n] = '\0';
    return true;
}

size_t log_json_lines(uint32_t *seq, uint32_t end, bool *any, char *buf, size_t cap)
{
    char line[LOG_LINE_MAX];
    size_t n = 0;
    for (; *seq < end; ++*seq) {
        if (!log_get(*seq, line, sizeof line))
            continue; /* dropped from the ring */
        size_t comma = *any;
        if (n + comma >= cap)
            break;
        struct json_writer w;
        jw_init(&w, buf + n + comma, cap - n - comma);
        jw_string(&w, NULL, line);
        if (w.overflow)
            break;
        if (comma)
            buf[n] = ',';
        n += comma + w.len;
        *any = true;
    }
    return n;
}

void log_set_listener(void (*fn)(uint32_t seq)) { listener = fn; }

static void keep(const char *line, size_t len)
{
    uint32_t seq = next_seq++;
    while (oldest_seq < seq && (seq - oldest_seq >= LOG_RING_INDEX || used + len > LOG_RING_BYTES))
        used -= lengths[oldest_seq++ % LOG_RING_INDEX]; /* the oldest line makes room */
    starts[seq % LOG_RING_INDEX] = (uint16_t)head;
    lengths[seq % LOG_RING_INDEX] = (uint8_t)len;
    for (size_t i = 0; i < len; i++)
        text[(head + i) % LOG_RING_BYTES] = line[i];
    head = (head + len) % LOG_RING_BYTES;
    used += len;
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
