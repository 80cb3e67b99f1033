/* console.c — line assembly from the HAL console and command dispatch; see console.h. */
#include "console.h"

#include <string.h>

#include "core/cmd/cmd.h"
#include "core/log.h"
#include "core/sched.h"
#include "hal/hal.h"

static char line[CMD_LINE_MAX + 1];
static size_t line_len;
static bool discarding; /* the current line was too long: drop it to its end */
static struct sched_poller poller;

static void print_reply(const char *json, void *arg)
{
    (void)arg;
    hal_console_write(json, strlen(json));
    hal_console_write("\n", 1);
}

static void take_char(char c)
{
    if (c == '\r' || c == '\n') {
        if (!discarding && line_len) {
            line[line_len] = '\0';
            cmd_execute(line, SOURCE_CONSOLE, print_reply, NULL);
        }
        line_len = 0;
        discarding = false;
    } else if (discarding) {
        return;
    } else if (line_len == CMD_LINE_MAX) {
        LOG_ERR("CMD", "line longer than %d characters: ignored", CMD_LINE_MAX);
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
