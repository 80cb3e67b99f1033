/*
 * script.c — the run queue of scripts and the commands that steer runs:
 * delay_s, if, StartupCommand, startScript; the boot-time runs.  See
 * script.h for the model.  Event tables live in script_events.c.
 */
#include "script.h"

#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/cmd/cmd_setting.h"
#include "core/health.h"
#include "core/log.h"
#include "core/sched.h"
#include "core/script/expr.h"
#include "core/script/script_internal.h"
#include "core/script/timers.h"
#include "core/storage/config.h"
#include "core/storage/files.h"
#include "hal/hal.h"

#define IF_DEPTH_MAX 4 /* if … then if … then … */

struct script_run {
    bool used;
    bool from_file; /* text holds the file name; pos is the offset in it */
    char label[FILES_NAME_MAX + 24];
    char text[SCRIPT_TEXT_MAX];
    uint32_t pos;
    uint32_t line;
    uint64_t wake_ms;
    uint32_t order; /* queued earlier runs first */
};

static struct script_run runs[SCRIPT_RUNS_MAX];
static struct script_run *current;
static uint32_t next_order;
static unsigned if_depth;
static struct sched_timer runner_timer;
/* Registered with the health monitor while a run is due: a runner that
 * stopped making progress then would be caught.  Parked runs (delay_s)
 * and an empty queue need no watching. */
static struct health_activity runner_health;
#define RUNNER_HEALTH_TIMEOUT_MS 10000
static struct script_stats stats;
static char line_buf[CMD_LINE_MAX + 1];

bool script_in_run(void) { return current != NULL; }

void script_get_stats(struct script_stats *out)
{
    *out = stats;
    out->runaways = script_events_runaways();
    out->queued = 0;
    for (unsigned i = 0; i < SCRIPT_RUNS_MAX; i++)
        out->queued += runs[i].used;
}

/* ---- The queue ---- */

static void runner_wake(void);

static struct script_run *new_run(const char *label)
{
    for (unsigned i = 0; i < SCRIPT_RUNS_MAX; i++) {
        struct script_run *run = &runs[i];
        if (run->used)
            continue;
        *run = (struct script_run){.used = true, .order = next_order++, .wake_ms = hal_time_ms()};
        snprintf(run->label, sizeof run->label, "%s", label);
        return run;
    }
    static uint64_t last_log_ms;
    stats.dropped++;
    if (!last_log_ms || hal_time_ms() - last_log_ms >= 1000) { /* one line a second at most */
        last_log_ms = hal_time_ms();
        LOG_ERR("SCR", "script queue full (%d runs): '%s' dropped (%lu dropped so far)", SCRIPT_RUNS_MAX, label,
                (unsigned long)stats.dropped);
    }
    return NULL;
}

int script_queue_text(const char *label, const char *text)
{
    if (strlen(text) >= SCRIPT_TEXT_MAX) {
        LOG_ERR("SCR", "%s: longer than %d characters: not run", label, SCRIPT_TEXT_MAX - 1);
        return -1;
    }
    struct script_run *run = new_run(label);
    if (!run)
        return -1;
    strcpy(run->text, text);
    runner_wake();
    return 0;
}

int script_queue_file(const char *name)
{
    struct files_info info;
    if (files_stat(name, &info) != 0) {
        LOG_ERR("SCR", "script %s: no such file", name);
        return -1;
    }
    struct script_run *run = new_run(name);
    if (!run)
        return -1;
    run->from_file = true;
    snprintf(run->text, sizeof run->text, "%s", name);
    runner_wake();
    return 0;
}

/* ---- Taking the next command of a run ---- */

/* The next line of a file run into line_buf; false at the end. */
static bool next_file_line(struct script_run *run)
{
    for (;;) {
        int n = files_read(run->text, run->pos, line_buf, CMD_LINE_MAX);
        if (n <= 0)
            return false;
        line_buf[n] = '\0';
        char *end = strchr(line_buf, '\n');
        run->line++;
        if (!end && n == CMD_LINE_MAX) {
            LOG_ERR("SCR", "%s line %lu: longer than %d characters: script stopped", run->label,
                    (unsigned long)run->line, CMD_LINE_MAX);
            return false;
        }
        run->pos += end ? (uint32_t)(end - line_buf) + 1 : (uint32_t)n;
        if (end)
            *end = '\0';
        char *text = line_buf;
        while (isspace((unsigned char)*text))
            text++;
        if (*text && *text != '#' && strncmp(text, "//", 2) != 0) {
            memmove(line_buf, text, strlen(text) + 1);
            return true;
        }
    }
}

/* The next ';'-separated command of an inline run into line_buf. */
static bool next_inline_command(struct script_run *run)
{
    while (run->pos < sizeof run->text && run->text[run->pos]) {
        char *cursor = run->text + run->pos;
        char *command = cmd_split(&cursor);
        run->pos = cursor ? (uint32_t)(cursor - run->text) : (uint32_t)sizeof run->text;
        run->line++;
        while (isspace((unsigned char)*command))
            command++;
        if (*command) {
            snprintf(line_buf, sizeof line_buf, "%s", command);
            return true;
        }
    }
    return false;
}

/* ---- Executing ---- */

/* A script's replies go to the log: errors as errors (with where they
 * came from), the rest so that a user can follow what a script did. */
static void log_reply(const char *json, void *arg)
{
    const struct script_run *run = arg;
    if (strstr(json, "{\"Command\":\"Unknown\"") || strstr(json, "{\"Command\":\"Error\"")) {
        stats.errors++;
        LOG_ERR("SCR", "%s, command %lu: %s", run ? run->label : "script", run ? (unsigned long)run->line : 0ul, json);
    } else {
        LOG_INF("SCR", "-> %s", json);
    }
}

/* Commands that carry another command to run later: their text is
 * expanded when that command runs, not now. */
static bool defers_expansion(const char *line)
{
    static const char *const names[] = {"addEventHandler", "addRepeatingEvent", "addClockEvent", "if"};
    for (unsigned i = 0; i < sizeof names / sizeof names[0]; i++) {
        size_t n = strlen(names[i]);
        if (strncasecmp(line, names[i], n) == 0 && (!line[n] || isspace((unsigned char)line[n])))
            return true;
    }
    return false;
}

/* Run one command line on behalf of the current run (line may be line_buf). */
static void execute(const char *line)
{
    char expanded[CMD_LINE_MAX + 1];
    stats.commands++;
    if (defers_expansion(line)) {
        snprintf(expanded, sizeof expanded, "%s", line);
    } else if (!script_expand(line, expanded, sizeof expanded)) {
        stats.errors++;
        LOG_ERR("SCR", "%s, command %lu: too long once variables are filled in", current->label,
                (unsigned long)current->line);
        return;
    }
    LOG_INF("SCR", "%s: %s", current->label, expanded);
    cmd_execute(expanded, SOURCE_SCRIPT, log_reply, current);
}

static bool step(struct script_run *run)
{
    bool more = run->from_file ? next_file_line(run) : next_inline_command(run);
    if (!more) {
        run->used = false;
        return false;
    }
    current = run;
    execute(line_buf);
    current = NULL;
    return true;
}

static struct script_run *oldest_due(uint64_t now)
{
    struct script_run *best = NULL;
    for (unsigned i = 0; i < SCRIPT_RUNS_MAX; i++)
        if (runs[i].used && runs[i].wake_ms <= now && (!best || runs[i].order < best->order))
            best = &runs[i];
    return best;
}

/* Arm the runner for the earliest due run, at least min_delay_ms from now
 * (1 after a turn's budget is spent: a timer due "now" would run again in
 * the same turn). */
static void runner_arm(uint32_t min_delay_ms)
{
    uint64_t now = hal_time_ms(), wake = UINT64_MAX;
    for (unsigned i = 0; i < SCRIPT_RUNS_MAX; i++)
        if (runs[i].used && runs[i].wake_ms < wake)
            wake = runs[i].wake_ms;
    if (wake <= now)
        health_register(&runner_health, "script", RUNNER_HEALTH_TIMEOUT_MS);
    else
        health_unregister(&runner_health);
    if (wake == UINT64_MAX)
        sched_timer_stop(&runner_timer);
    else
        sched_timer_start(&runner_timer, wake > now + min_delay_ms ? (uint32_t)(wake - now) : min_delay_ms, 0);
}

/* When the runner last spent a turn's budget: a run queued by another
 * timer of that same turn waits for the next turn (armed for "now", the
 * runner would run a second budget in this one). */
static uint64_t runner_ran_ms = UINT64_MAX;

static void runner_wake(void) { runner_arm(runner_ran_ms == hal_time_ms() ? 1 : 0); }

static void run_some(void *arg)
{
    (void)arg;
    runner_ran_ms = hal_time_ms();
    for (unsigned budget = SCRIPT_STEPS_PER_TURN; budget;) {
        struct script_run *run = oldest_due(hal_time_ms());
        if (!run)
            break;
        if (step(run))
            budget--;
    }
    health_alive(&runner_health);
    runner_arm(1);
}

unsigned script_stop_all(void)
{
    unsigned stopped = 0;
    for (unsigned i = 0; i < SCRIPT_RUNS_MAX; i++) {
        stopped += runs[i].used;
        runs[i].used = false;
    }
    runner_wake();
    return stopped;
}

/* ---- Commands ---- */

static enum cmd_result cmd_stop_all(struct cmd_ctx *ctx)
{
    jw_int(ctx->reply, "stopAllScripts", script_stop_all());
    return CMD_DONE;
}

static enum cmd_result cmd_delay(struct cmd_ctx *ctx)
{
    float seconds;
    if (!cmd_parse_float(ctx->arg, 0, 86400, &seconds))
        return cmd_error(ctx, "delay_s: expected 0 .. 86400 seconds");
    if (!current)
        return cmd_error(ctx, "delay_s: only inside a script (startup command, autoexec.bat, event handler)");
    current->wake_ms = hal_time_ms() + (uint64_t)(seconds * 1000.0f + 0.5f);
    jw_fixed(ctx->reply, "delay_s", (int64_t)(seconds * 1000.0f + 0.5f), 3);
    return CMD_DONE;
}

/* Find the word `word` (blank-delimited, case-insensitive) outside quotes. */
static char *find_word(char *text, const char *word)
{
    size_t n = strlen(word);
    bool quoted = false;
    for (char *p = text; *p; p++) {
        if (*p == '"')
            quoted = !quoted;
        if (!quoted && (p == text || isspace((unsigned char)p[-1])) && strncasecmp(p, word, n) == 0 &&
            (!p[n] || isspace((unsigned char)p[n])))
            return p;
    }
    return NULL;
}

/* A branch of if: "quoted" or bare; trims it in place. */
static char *branch_text(char *text)
{
    while (isspace((unsigned char)*text))
        text++;
    size_t n = strlen(text);
    while (n && isspace((unsigned char)text[n - 1]))
        text[--n] = '\0';
    if (n >= 2 && text[0] == '"' && text[n - 1] == '"') {
        text[n - 1] = '\0';
        text++;
    }
    return text;
}

static enum cmd_result run_branch(struct cmd_ctx *ctx, const char *command, bool condition)
{
    if (!*command) { /* false and no else: say so (every line gets a reply) */
        jw_bool(ctx->reply, "if", condition);
        return CMD_DONE;
    }
    if (if_depth >= IF_DEPTH_MAX)
        return cmd_error(ctx, "if: nested more than %d deep", IF_DEPTH_MAX);
    char line[CMD_LINE_MAX + 1];
    if (!script_expand(command, line, sizeof line))
        return cmd_error(ctx, "if: command too long once variables are filled in");
    if (current)
        LOG_INF("SCR", "%s: %s", current->label, line);
    if_depth++;
    cmd_execute(line, ctx->source, ctx->reply_fn, ctx->reply_arg);
    if_depth--;
    return CMD_SILENT;
}

static enum cmd_result cmd_if(struct cmd_ctx *ctx)
{
    char *then_word = find_word(ctx->arg, "then");
    if (!then_word)
        return cmd_error(ctx, "if: expected if <expression> then <command> [else <command>]");
    *then_word = '\0';
    char *then_part = then_word + 4;
    char *else_word = find_word(then_part, "else");
    char *else_part = "";
    if (else_word) {
        *else_word = '\0';
        else_part = branch_text(else_word + 4);
    }
    then_part = branch_text(then_part);
    if (!*then_part)
        return cmd_error(ctx, "if: nothing after then");
    struct expr_result r = expr_eval(ctx->arg, script_var_lookup, NULL);
    if (!r.ok)
        return cmd_error(ctx, "if: %s", r.error);
    return run_branch(ctx, r.value != 0 ? then_part : else_part, r.value != 0);
}

static enum cmd_result cmd_startup_command(struct cmd_ctx *ctx)
{
    size_t n = strlen(ctx->arg);
    if (n >= 3 && ctx->arg[0] == '"' && ctx->arg[n - 1] == '"') { /* StartupCommand "a; b" */
        ctx->arg[n - 1] = '\0';
        ctx->arg++;
    }
    return cmd_setting_text(ctx, offsetof(struct config, automation.startup_command), CONFIG_STARTUP_SIZE,
                            SETTING_PLAIN);
}

static enum cmd_result cmd_start_script(struct cmd_ctx *ctx)
{
    if (!files_name_valid(ctx->arg))
        return cmd_error(ctx, "startScript: expected a file name, e.g. startScript autoexec.bat");
    struct files_info info;
    if (files_stat(ctx->arg, &info) != 0)
        return cmd_error(ctx, "startScript: no file '%s'", ctx->arg);
    if (script_queue_file(ctx->arg) != 0)
        return cmd_error(ctx, "startScript: script queue full");
    jw_string(ctx->reply, "startScript", ctx->arg);
    return CMD_DONE;
}

static const struct cmd_def script_commands[] = {
    {"delay_s", cmd_delay, 0, "delay_s <seconds>: inside a script, wait before its next command"},
    {"if", cmd_if, 0, "if <expression> then <command> [else <command>]: e.g. if $power>100 then Power off"},
    {"StartupCommand", cmd_startup_command, 0,
     "StartupCommand \"a; b\": commands run at every boot (not in safe mode); \"\" clears"},
    {"stopAllScripts", cmd_stop_all, 0, "stopAllScripts: stop every script run, queued or waiting in delay_s"},
    {"startScript", cmd_start_script, 0, "startScript <file>: run a file of the file store, one command a line"},
};
static struct cmd_table script_table;

void script_register(void)
{
    cmd_register(&script_table, script_commands, sizeof script_commands / sizeof script_commands[0]);
    sched_timer_init(&runner_timer, run_some, NULL);
    script_events_register();
    timers_register();
}

void script_boot(bool safe_mode)
{
    const char *startup = config_get()->automation.startup_command;
    struct files_info info;
    bool autoexec = files_stat(SCRIPT_AUTOEXEC, &info) == 0;
    timers_start(); /* settings, not scripts: also in safe mode */
    if (safe_mode) {
        if (*startup || autoexec)
            LOG_INF("SCR", "safe mode: startup command and autoexec.bat not run");
        return;
    }
    if (*startup) {
        LOG_INF("SCR", "running the startup command");
        script_queue_text("startup command", startup);
    }
    if (autoexec) {
        LOG_INF("SCR", "running %s (%lu bytes)", SCRIPT_AUTOEXEC, (unsigned long)info.size);
        script_queue_file(SCRIPT_AUTOEXEC);
    }
}
