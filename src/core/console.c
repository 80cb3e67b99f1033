/* console.c — line assembly from the HAL console and command dispatch; see console.h.
 * A line longer than CMD_LINE_MAX (a Template) moves to a heap block of
 * CMD_LONG_LINE_MAX, given back once the line has run. */
#include "console.h"

#include <string.h>

#include "core/cmd/cmd.h"
#include "core/log.h"
#include "core/util/heap.h"
#include "core/sched.h"
#include "hal/hal.h"

static char short_line[CMD_LINE_MAX + 1];
static char *line = short_line;
static size_t line_len, line_max = CMD_LINE_MAX;
static bool discarding; /* the current line was too long: drop it to its end */
static struct sched_poller poller;

static void print_reply(const char *json, void *arg)
{
    (void)arg;
    hal_console_write(json, strlen(json));
    hal_console_write("\n", 1);
}

/* Move the line to a long one on the heap; false if there is none. */
static bool grow_line(void)
{
    char *long_line = line_max == CMD_LINE_MAX ? heap_take(CMD_LONG_LINE_MAX + 1) : NULL;
    if (!long_line)
        return false;
    memcpy(long_line, line, line_len);
    line = long_line;
    line_max = CMD_LONG_LINE_MAX;
    return true;
}

static void take_char(char c)
{
    if (c == '\r' || c == '\n') {
        if (!discarding && line_len) {
            line[line_len] = '\0';
            cmd_execute(line, SOURCE_CONSOLE, print_reply, NULL);
        }
        if (line != short_line)
            heap_give(line);
        line = short_line;
        line_max = CMD_LINE_MAX;
        line_len = 0;
        discarding = false;
    } else if (discarding) {
        return;
    } else if (line_len == line_max && !grow_line()) {
        LOG_ERR("CMD", "line longer than %u characters: ignored", (unsigned)line_max);
        discarding = true;
    } else {
        line[line_len++] = c;
    }
}

static void poll_console(void *arg)
{
    (void)arg;
    char buf[64];
    size_t n;
    while ((n = hal_console_read(buf, sizeof buf)) > 0)
        for (size_t i = 0; i < n; i++)
            take_char(buf[i]);
}

void console_start(void) { sched_poller_add(&poller, poll_console, NULL); }
