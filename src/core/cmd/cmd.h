/*
 * cmd.h — the command registry and interpreter shared by every way in:
 * the serial console now, HTTP, MQTT and scripts later.
 *
 * A command line is `Name[index] [argument]`, Tasmota style: names are
 * case-insensitive, an index is the number glued to the name (Power1), the
 * argument is the rest of the line, trimmed.  Each command writes its reply
 * as members of one JSON object ({"POWER":"ON"}); an unknown command gets
 * {"Command":"Unknown"} and a bad argument {"Command":"Error","Error":…},
 * and changes nothing.  `Backlog a; b; c` runs several in turn, each with
 * its own reply.  Modules register tables of commands at start-up.
 */
#ifndef OPENPLUG_CMD_H
#define OPENPLUG_CMD_H

#include <stdbool.h>
#include <stddef.h>

#include "core/events.h"
#include "core/util/json.h"

#define CMD_LINE_MAX 512  /* longest command line in a fixed buffer (scripts, Backlog parts) */
#define CMD_LONG_LINE_MAX 3584 /* longest line a transport takes, on the heap: a Template of 3 KB */
#define CMD_REPLY_MAX 4096 /* one reply: Status 0, a Template export */
#define CMD_HELP_MAX 8192 /* Help's one reply (about 6 KB), on the heap while it is sent */

typedef void (*cmd_reply_fn)(const char *json, void *arg);

struct cmd_ctx {
    const char *name; /* as registered */
    int index;        /* Power1 -> 1; 0 when none was given */
    char *arg;        /* trimmed, "" when none; the handler may cut it up */
    enum source source;
    struct json_writer *reply; /* an open object: add members */
    cmd_reply_fn reply_fn;     /* for commands that run others (Backlog) */
    void *reply_arg;
};

enum cmd_result {
    CMD_DONE,   /* reply written */
    CMD_FAILED, /* cmd_error() written */
    CMD_SILENT, /* replied through other commands (Backlog) */
};

typedef enum cmd_result (*cmd_fn)(struct cmd_ctx *ctx);

#define CMD_INDEXED 1u /* takes an index: Power1, NtpServer2 */

struct cmd_def {
    const char *name;
    cmd_fn fn;
    unsigned flags;
    const char *help; /* one line for Help and the README */
};

struct cmd_table {
    struct cmd_table *next;
    const struct cmd_def *defs;
    size_t count;
    uint32_t first_letters; /* bit (letter & 31) for each name's first letter, case folded */
};

/* Register the interpreter's own commands (Backlog, Help). */
void cmd_init(void);
void cmd_register(struct cmd_table *table, const struct cmd_def *defs, size_t count);

/* Run one command line (modified in place); the reply goes to `reply`. */
void cmd_execute(char *line, enum source source, cmd_reply_fn reply, void *arg);

/* Replace the reply with {"Command":"Error","Error":"<message>"}. */
enum cmd_result cmd_error(struct cmd_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Split off the next ';'-separated command of *cursor (NULL when none is
 * left).  A ';' inside JSON ({…} or a string) does not split, so
 * `Backlog Template {"pins":{"2":"Rel;1"}}; Power on` works. */
char *cmd_split(char **cursor);
/* Split off the next white-space separated word of *cursor ("" at end). */
char *cmd_next_word(char **cursor);
/* A whole decimal integer within [min, max]. */
bool cmd_parse_long(const char *text, long min, long max, long *out);
/* A whole decimal number (e.g. 230, 0.26) within [min, max]. */
bool cmd_parse_float(const char *text, float min, float max, float *out);
/* Tasmota's on/off words: 0|off|false -> 0, 1|on|true -> 1, 2|toggle -> 2;
 * -1 for anything else. */
int cmd_parse_switch(const char *text);

#endif
