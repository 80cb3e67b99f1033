/* cmd.c — command tokenizer, lookup, replies, Backlog and Help; see cmd.h. */
#include "cmd.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/log.h"
#include "core/util/heap.h"

static struct cmd_table *tables;
static char reply_buf[CMD_REPLY_MAX];
static struct json_writer reply_writer;
static unsigned backlog_depth;

void cmd_register(struct cmd_table *table, const struct cmd_def *defs, size_t count)
{
    table->defs = defs;
    table->count = count;
    table->first_letters = 0;
    for (size_t i = 0; i < count; i++)
        table->first_letters |= 1u << (defs[i].name[0] & 31);
    /* Looked up in the order registered: the interpreter's, Power's and
     * Status's tables, which pollers and switches use most, first. */
    table->next = NULL;
    struct cmd_table **end = &tables;
    while (*end)
        end = &(*end)->next;
    *end = table;
}

static const struct cmd_def *find(const char *name, size_t len, bool indexed)
{
    char first = (char)(name[0] | 0x20); /* ASCII letters folded to lower case */
    for (struct cmd_table *t = tables; t; t = t->next) {
        if (!(t->first_letters & 1u << (first & 31)))
            continue; /* no name in this table starts with that letter */
        for (size_t i = 0; i < t->count; i++) {
            const struct cmd_def *def = &t->defs[i];
            /* The first two letters rule out most of the names at once. */
            if ((char)(def->name[0] | 0x20) == first &&
                (len < 2 || (char)(def->name[1] | 0x20) == (char)(name[1] | 0x20)) && strlen(def->name) == len &&
                strncasecmp(def->name, name, len) == 0 &&
                (!indexed || (def->flags & CMD_INDEXED)))
                return def;
        }
    }
    return NULL;
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

static void begin_reply(void)
{
    jw_init(&reply_writer, reply_buf, sizeof reply_buf);
    jw_object_begin(&reply_writer, NULL);
}

static void send_reply(cmd_reply_fn reply, void *arg)
{
    jw_object_end(&reply_writer);
    if (reply_writer.overflow) {
        begin_reply();
        jw_string(&reply_writer, "Command", "Error");
        jw_string(&reply_writer, "Error", "reply too long");
        jw_object_end(&reply_writer);
    }
    reply(jw_text(&reply_writer), arg);
}

enum cmd_result cmd_error(struct cmd_ctx *ctx, const char *fmt, ...)
{
    char message[256];
    va_list args;
    va_start(args, fmt);
    vsnprintf(message, sizeof message, fmt, args);
    va_end(args);
    begin_reply();
    jw_string(ctx->reply, "Command", "Error");
    jw_string(ctx->reply, "Error", message);
    return CMD_FAILED;
}

void cmd_execute(char *line, enum source source, cmd_reply_fn reply, void *arg)
{
    line = trim(line);
    if (!*line)
        return;
    size_t name_len = 0;
    while (isalnum((unsigned char)line[name_len]) || line[name_len] == '_')
        name_len++;
    char *rest = line + name_len;

    /* The exact name first, then a trailing number of one or two digits
     * as the index of an indexed command (Power1; Power0 is no index). */
    int index = 0;
    const struct cmd_def *def = NULL;
    if (name_len && (!*rest || isspace((unsigned char)*rest))) {
        def = find(line, name_len, false);
        size_t base_len = name_len;
        while (!def && base_len && isdigit((unsigned char)line[base_len - 1]))
            base_len--;
        if (!def && base_len && name_len - base_len >= 1 && name_len - base_len <= 2) {
            index = atoi(line + base_len);
            def = index > 0 ? find(line, base_len, true) : NULL;
        }
    }

    begin_reply();
    if (!def) {
        jw_string(&reply_writer, "Command", "Unknown");
        LOG_INF("CMD", "unknown command '%.*s'", (int)(name_len > 32 ? 32 : name_len), line);
        send_reply(reply, arg);
        return;
    }
    struct cmd_ctx ctx = {
        .name = def->name,
        .index = index,
        .arg = trim(rest),
        .source = source,
        .reply = &reply_writer,
        .reply_fn = reply,
        .reply_arg = arg,
    };
    if (def->fn(&ctx) != CMD_SILENT)
        send_reply(reply, arg);
}

/* ---- Argument helpers ---- */

char *cmd_split(char **cursor)
{
    char *start = *cursor;
    if (!start)
        return NULL;
    int depth = 0;
    bool in_string = false;
    for (char *p = start; *p; p++) {
        if (in_string) {
            if (*p == '\\' && p[1])
                p++;
            else if (*p == '"')
                in_string = false;
        } else if (*p == '"') {
            in_string = true;
        } else if (*p == '{' || *p == '[') {
            depth++;
        } else if ((*p == '}' || *p == ']') && depth > 0) {
            depth--;
        } else if (*p == ';' && depth == 0) {
            *p = '\0';
            *cursor = p + 1;
            return start;
        }
    }
    *cursor = NULL;
    return start;
}

char *cmd_next_word(char **cursor)
{
    char *s = *cursor;
    while (isspace((unsigned char)*s))
        s++;
    char *word = s;
    while (*s && !isspace((unsigned char)*s))
        s++;
    if (*s)
        *s++ = '\0';
    *cursor = s;
    return word;
}

bool cmd_parse_long(const char *text, long min, long max, long *out)
{
    char *end;
    long value = strtol(text, &end, 10);
    if (end == text || *end || value < min || value > max)
        return false;
    *out = value;
    return true;
}

bool cmd_parse_float(const char *text, float min, float max, float *out)
{
    char *end;
    float value = strtof(text, &end);
    if (end == text || *end || !(value >= min && value <= max)) /* also refuses NaN */
        return false;
    *out = value;
    return true;
}

int cmd_parse_switch(const char *text)
{
    static const char *const words[3][2] = {{"off", "false"}, {"on", "true"}, {"toggle", "toggle"}};
    for (int value = 0; value < 3; value++) {
        if (text[0] == '0' + value && text[1] == '\0')
            return value;
        if (strcasecmp(text, words[value][0]) == 0 || strcasecmp(text, words[value][1]) == 0)
            return value;
    }
    return -1;
}

/* ---- Commands of the interpreter itself ---- */

static enum cmd_result cmd_backlog(struct cmd_ctx *ctx)
{
    if (!*ctx->arg)
        return cmd_error(ctx, "Backlog needs commands: Backlog Power on; Status 11");
    if (backlog_depth)
        return cmd_error(ctx, "Backlog cannot run inside Backlog");
    backlog_depth++;
    char *cursor = ctx->arg, *command;
    while ((command = cmd_split(&cursor)))
        cmd_execute(command, ctx->source, ctx->reply_fn, ctx->reply_arg);
    backlog_depth--;
    return CMD_SILENT;
}

/* Help: one reply {"Commands":{name: help, …}} with every command, built
 * in a heap block (it outgrows the reply buffer); every transport takes a
 * reply of any length (HTTP streams it, MQTT splits it).  Help <command>:
 * that command's line alone. */
static enum cmd_result cmd_help(struct cmd_ctx *ctx)
{
    if (*ctx->arg) {
        const struct cmd_def *def = find(ctx->arg, strlen(ctx->arg), false);
        if (!def)
            return cmd_error(ctx, "Help: no command '%.32s' (Help lists them all)", ctx->arg);
        jw_object_begin(ctx->reply, "Commands");
        jw_string(ctx->reply, def->name, def->help);
        jw_object_end(ctx->reply);
        return CMD_DONE;
    }
    char *text = heap_take(CMD_HELP_MAX);
    if (!text)
        return cmd_error(ctx, "Help: not enough memory now (Help <command> answers for one)");
    struct json_writer w;
    jw_init(&w, text, CMD_HELP_MAX);
    jw_object_begin(&w, NULL);
    jw_object_begin(&w, "Commands");
    for (struct cmd_table *t = tables; t; t = t->next)
        for (size_t i = 0; i < t->count; i++)
            jw_string(&w, t->defs[i].name, t->defs[i].help);
    jw_object_end(&w);
    jw_object_end(&w);
    bool whole = !w.overflow;
    if (whole)
        ctx->reply_fn(jw_text(&w), ctx->reply_arg);
    heap_give(text);
    return whole ? CMD_SILENT : cmd_error(ctx, "Help: the list outgrew %d bytes", CMD_HELP_MAX);
}

static const struct cmd_def interpreter_commands[] = {
    {"Backlog", cmd_backlog, 0, "Run commands in turn: Backlog Power on; Status 11"},
    {"Help", cmd_help, 0, "Help [<command>]: every command (or that one) with a one-line description"},
};
static struct cmd_table interpreter_table;

void cmd_init(void)
{
    cmd_register(&interpreter_table, interpreter_commands,
                 sizeof interpreter_commands / sizeof interpreter_commands[0]);
}
