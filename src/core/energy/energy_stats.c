/* energy_stats.c — rolling per-interval energy samples; see energy_stats.h. */
#include "energy_stats.h"

#include <stdbool.h>

#include "core/cmd/cmd.h"
#include "core/energy/energy.h"
#include "core/sched.h"

static struct {
    bool enabled;
    uint16_t sample_s, count;
    uint16_t filled, next; /* ring of samples, next = where the next goes */
    uint64_t last_total_uj;
    uint32_t samples_mwh[ENERGY_STATS_SAMPLES_MAX];
    uint64_t samples_taken;
} stats;
static struct sched_timer sample_timer;

static void take_sample(void *arg)
{
    (void)arg;
    uint64_t total = energy_counters()->total_uj;
    /* A total set or reset by a command is not consumption. */
    uint64_t used = total >= stats.last_total_uj ? total - stats.last_total_uj : 0;
    stats.last_total_uj = total;
    uint64_t mwh = used / (UJ_PER_WH / 1000);
    stats.samples_mwh[stats.next] = mwh > UINT32_MAX ? UINT32_MAX : (uint32_t)mwh;
    stats.next = (uint16_t)((stats.next + 1) % stats.count);
    if (stats.filled < stats.count)
        stats.filled++;
    stats.samples_taken++;
}

static uint64_t window_mwh(void)
{
    uint64_t sum = 0;
    for (unsigned i = 0; i < stats.filled; i++)
        sum += stats.samples_mwh[i];
    return sum;
}

static void reply(struct cmd_ctx *ctx)
{
    jw_object_begin(ctx->reply, "SetupEnergyStats");
    jw_int(ctx->reply, "Enabled", stats.enabled);
    jw_int(ctx->reply, "SampleTime", stats.sample_s);
    jw_int(ctx->reply, "SampleCount", stats.count);
    jw_int(ctx->reply, "Samples", stats.filled);
    jw_int(ctx->reply, "SamplesTaken", (int64_t)stats.samples_taken);
    jw_fixed(ctx->reply, "Consumption", (int64_t)window_mwh(), 3); /* Wh over the window */
    if (stats.filled) {
        unsigned newest = (stats.next + stats.count - 1u) % stats.count;
        jw_fixed(ctx->reply, "LastSample", stats.samples_mwh[newest], 3);
    }
    jw_object_end(ctx->reply);
}

static enum cmd_result cmd_setup_energy_stats(struct cmd_ctx *ctx)
{
    if (!*ctx->arg) {
        reply(ctx);
        return CMD_DONE;
    }
    char *cursor = ctx->arg;
    long enable, sample_s = 60, count = 60;
    const char *w1 = cmd_next_word(&cursor), *w2 = cmd_next_word(&cursor), *w3 = cmd_next_word(&cursor);
    if (!cmd_parse_long(w1, 0, 1, &enable) || (*w2 && !cmd_parse_long(w2, 10, 900, &sample_s)) ||
        (*w3 && !cmd_parse_long(w3, 1, ENERGY_STATS_SAMPLES_MAX, &count)) || *cursor)
        return cmd_error(ctx, "SetupEnergyStats: expected <0|1> [<sample seconds 10 .. 900> [<samples 1 .. %d>]]",
                         ENERGY_STATS_SAMPLES_MAX);
    stats.enabled = enable;
    stats.sample_s = (uint16_t)sample_s;
    stats.count = (uint16_t)count;
    stats.filled = stats.next = 0;
    stats.samples_taken = 0;
    stats.last_total_uj = energy_counters()->total_uj;
    if (enable)
        sched_timer_start(&sample_timer, (uint32_t)sample_s * 1000u, (uint32_t)sample_s * 1000u);
    else
        sched_timer_stop(&sample_timer);
    reply(ctx);
    return CMD_DONE;
}

static const struct cmd_def stats_commands[] = {
    {"SetupEnergyStats", cmd_setup_energy_stats, 0,
     "SetupEnergyStats <0|1> [<sample s> [<samples>]]: energy per interval over a rolling window (OpenBeken)"},
};
static struct cmd_table stats_table;

void energy_stats_register(void)
{
    cmd_register(&stats_table, stats_commands, 1);
    sched_timer_init(&sample_timer, take_sample, NULL);
}
