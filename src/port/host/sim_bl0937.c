/*
 * sim_bl0937.c — the BL0937 metering chip of the simulated SM-028_V1.3, and
 * what it measures: the mains voltage and the plugged-in load.
 *
 * The load is behind the board's relay (GPIO2, high = closed): it draws
 * current only while the relay conducts; the voltage is always there.
 *
 * Wiring: CF -> GPIO14, CF1 -> GPIO3, SEL <- GPIO21 (driven by the
 * firmware; the chip sees the line's level, inverted with --sel-inverted as
 * on a BL0937SEL_n board).  An undriven GPIO21 reads 0 (the chip's SEL
 * pull-down): current mode.  The chip runs from power-on whatever the
 * firmware does.
 *
 * Transfer functions (datasheet, see /work/shared/BL0937.md), Vref 1.218 V,
 * Vv = V / divider, Vi = I * Rshunt:
 *   F_CF  = 1721506 * Vv * Vi * pf / Vref^2   (active power)
 *   F_CFU = 15397 * Vv / Vref                 (CF1, SEL=1)
 *   F_CFI = 94638 * Vi / Vref                 (CF1, SEL=0)
 * Each output is a phase accumulator (phase += f dt); a pulse starts when the
 * phase crosses an integer, so a changing rate changes the pulse rate
 * smoothly and no pulse is lost or invented.  A pulse is a 38 us low pulse:
 * falling edge, rising edge.  Initial phases are random (--seed); a reboot
 * carries the phases and the load over (the chip is not reset with the CPU).
 *
 * Efficiency: only the next edge of each output is ever queued, and only
 * while someone (the firmware or a probe) has the pin's interrupt enabled;
 * the rising edge is queued only for a rising-edge interrupt.  Otherwise the
 * chip is brought up to date when looked at (a pin read, `pins`, `counts`,
 * a rate change), counting whole runs of pulses in one step.  At most four
 * events are pending: CF, CF1, the next profile row or trace line.
 *
 * After a SEL change CF1 settles as --cf1-settle says: instant (the rate
 * switches, the phase goes on), exp50ms (the rate moves exponentially to the
 * new one, tau 50 ms), phase-reset (the phase restarts at 0), stray-edges
 * (instant, plus 1-3 extra pulses at random in the first 100 ms).
 *
 * --anti-creep: no CF pulses while the chip's power signal Vv*Vi*pf is below
 * what 4 mA at 230 V gives through the default network (1 mOhm, 1981):
 * 4 mA is the floor of the range BL0937.md quotes for a 1 mOhm shunt, below
 * which the datasheet promises nothing.  With the default network that is
 * 0.92 W whatever the voltage: a 1 W load still counts, 0.1 W standby does
 * not.  The threshold is a signal at the pins, so it scales with the network.
 *
 * Load: --load 60W[,pf=0.9] (default 60 W, pf 1; 0W = nothing plugged),
 * --mains V (default 230), --load-profile FILE (rows t_s,volts,amps,pf, each
 * holding from its time to the next's, time since power-on), the world
 * request `load <watts>W [pf=<pf>] [volts=<v>]` (until the next profile row).
 * --edge-trace FILE replays "t_us CF|CFV|CFI" pulses instead of the model
 * (time since power-on; CFV / CFI reach CF1 only when SEL selects them).
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"

#define SIM_RELAY_GPIO 2 /* the board's relay, high = closed */
/* The chips' transfer constants: BL0937 (datasheet), HLW8012 (48 fosc /
 * 128, 2 fosc / 512, 24 fosc / 512 with fosc 3.579 MHz, Vref 2.43 V). */
static const struct transfer {
    double vref, k_cf, k_cfu, k_cfi;
    bool sel_high_selects_voltage;
} transfers[] = {
    [SIM_METER_BL0937] = {1.218, 1721506.0, 15397.0, 94638.0, true},
    [SIM_METER_HLW8012] = {2.43, 48 * 3579000.0 / 128, 2 * 3579000.0 / 512, 24 * 3579000.0 / 512, false},
    [SIM_METER_BL0942] = {1.218, 1721506.0, 15397.0, 94638.0, true}, /* not fitted: the BL0942 is on the UART */
};
#define T (transfers[sim_opt.meter])
#define PULSE_US 38
#define SETTLE_TAU_US 50000.0
#define STRAY_WINDOW_US 100000u
#define STRAY_MAX 8
#define F_MAX_HZ 10000.0 /* beyond the chip's input range with any sane network */
#define VOLTS_MAX 400.0
#define CREEP_SIGNAL (230.0 / 1981.0 * 0.004 * 0.001) /* V^2 at the pins: 4 mA at 230 V */
#define HANDOVER_ENV "OPENPLUG_SIM_BL0937"

enum which { CHIP_CF, CHIP_CF1, CHIP_PROFILE, CHIP_TRACE };
enum settle { SETTLE_INSTANT, SETTLE_EXP, SETTLE_PHASE_RESET, SETTLE_STRAY };
enum trace_kind { TRACE_CF, TRACE_CFV, TRACE_CFI };

struct load {
    double volts, amps, pf;
};

struct output {
    int gpio, which;
    double phase, t_ref;  /* cycles since the last pulse, valid at t_ref (us) */
    double f_from, f_to, t0; /* rate: f_to, or during a transition (exp) */
    bool exp;             /* f_to + (f_from - f_to) * e^-((t - t0) / tau) */
    double next_cross;    /* instant (us) of the next integer crossing */
    uint64_t next_fall;   /* its falling edge: the next whole microsecond */
    bool low;             /* in a pulse, until rise_at */
    uint64_t rise_at;
    uint64_t strays[STRAY_MAX];
    int stray_count;
    uint64_t falls, first_fall, last_fall;
    bool queued; /* its next edge is in the event queue */
};

struct row {
    uint64_t t_us;
    struct load load;
};

struct trace_edge {
    uint64_t t_us;
    enum trace_kind kind;
};

static struct {
    bool started, busy, pins_dirty, resched;
    struct output cf, cf1;
    struct load load;
    bool sel; /* the chip sees SEL selecting voltage */
    bool relay_closed; /* the load draws current only through the relay */
    double shunt_ohm, divider;
    enum settle settle;
    struct row *rows;
    size_t row_count, row_at; /* the row in force */
    struct trace_edge *trace;
    size_t trace_count, trace_next;
    uint64_t dropped; /* trace CFV/CFI pulses SEL did not select */
} chip;

/* ---- Transfer functions ---- */

/* Current through the shunt: the load's, while the relay conducts. */
static double shunt_amps(const struct load *l) { return chip.relay_closed ? fabs(l->amps) : 0; }

static double f_cf(const struct load *l)
{
    double signal = l->volts / chip.divider * shunt_amps(l) * chip.shunt_ohm * l->pf;
    if (sim_opt.anti_creep && signal < CREEP_SIGNAL)
        return 0;
    return T.k_cf * signal / (T.vref * T.vref);
}

static double f_cfu(const struct load *l) { return T.k_cfu * l->volts / chip.divider / T.vref; }
static double f_cfi(const struct load *l) { return T.k_cfi * shunt_amps(l) * chip.shunt_ohm / T.vref; }
static double cf1_target(void) { return chip.sel ? f_cfu(&chip.load) : f_cfi(&chip.load); }
static double watts_of(const struct load *l) { return l->volts * l->amps * l->pf; }

/* NULL if the chip can measure the load, else why not. */
static const char *check_load(const struct load *l)
{
    static char why[96];
    if (!(l->volts >= 0 && l->volts <= VOLTS_MAX))
        return "volts must be 0..400";
    if (!isfinite(l->amps) || (l->amps < 0 && sim_opt.meter != SIM_METER_BL0942))
        return "amps must be 0 or more (a source, below 0, needs --meter bl0942)";
    if (!(l->pf >= 0 && l->pf <= 1))
        return "pf must be 0..1";
    bool closed = chip.relay_closed; /* judge the load as it would draw */
    chip.relay_closed = true;
    double f[3] = {f_cf(l), f_cfu(l), f_cfi(l)};
    chip.relay_closed = closed;
    const char *names[3] = {"CF", "CF1 (voltage)", "CF1 (current)"};
    for (int i = 0; i < 3; i++) {
        if (f[i] > F_MAX_HZ) {
            snprintf(why, sizeof why, "beyond the chip's range (%s would pulse at %.0f Hz, above %.0f)", names[i],
                     f[i], F_MAX_HZ);
            return why;
        }
    }
    return NULL;
}

/* "2000W", "2000W,pf=0.9", "60 pf=1 volts=120": watts first, then pf= and
 * volts= in any order, separated by commas or blanks. */
static bool parse_load(const char *text, double volts, struct load *out, char *err, unsigned size)
{
    char buf[160];
    if (!text || strlen(text) >= sizeof buf) {
        snprintf(err, size, "expected <watts>W [pf=<0..1>] [volts=<v>]");
        return false;
    }
    strcpy(buf, text);
    char *save, *tok = strtok_r(buf, ", \t", &save), *end;
    double watts = tok ? strtod(tok, &end) : -1, pf = 1;
    if (!tok || end == tok || !(strcmp(end, "") == 0 || strcmp(end, "W") == 0 || strcmp(end, "w") == 0) ||
        !isfinite(watts) || (watts < 0 && sim_opt.meter != SIM_METER_BL0942)) {
        snprintf(err, size, "expected <watts>W [pf=<0..1>] [volts=<v>], e.g. 2000W pf=0.9");
        return false;
    }
    while ((tok = strtok_r(NULL, ", \t", &save))) {
        double *into = strncmp(tok, "pf=", 3) == 0 ? &pf : strncmp(tok, "volts=", 6) == 0 ? &volts : NULL;
        if (!into) {
            snprintf(err, size, "unknown '%.20s' (expected pf=<0..1> or volts=<v>)", tok);
            return false;
        }
        const char *value = strchr(tok, '=') + 1;
        *into = strtod(value, &end);
        if (end == value || *end || !isfinite(*into)) {
            snprintf(err, size, "bad number in '%.20s'", tok);
            return false;
        }
    }
    if (!(pf > 0 && pf <= 1)) {
        snprintf(err, size, "pf must be above 0 and at most 1");
        return false;
    }
    if (!(volts >= 0 && volts <= VOLTS_MAX)) {
        snprintf(err, size, "volts must be 0..400");
        return false;
    }
    if (watts != 0 && volts < 1) {
        snprintf(err, size, "a load needs mains volts (at least 1 V)");
        return false;
    }
    *out = (struct load){volts, watts != 0 ? watts / (volts * pf) : 0, pf}; /* amps < 0: a source */
    const char *why = check_load(out);
    if (why) {
        snprintf(err, size, "%s", why);
        return false;
    }
    return true;
}

/* ---- One output: its rate, phase and pin ---- */

static bool watched(const struct output *o) { return sim_gpio_irq_edge(o->gpio) >= 0; }

static double rate_at(const struct output *o, double t)
{
    if (!o->exp)
        return o->f_to;
    return o->f_to + (o->f_from - o->f_to) * exp(-(t - o->t0) / SETTLE_TAU_US);
}

/* Cycles accumulated from a to b (us). */
static double cycles(const struct output *o, double a, double b)
{
    double c = o->f_to * (b - a);
    if (o->exp)
        c += (o->f_from - o->f_to) * SETTLE_TAU_US * (exp(-(a - o->t0) / SETTLE_TAU_US) - exp(-(b - o->t0) / SETTLE_TAU_US));
    return c * 1e-6;
}

/* The instant from a when `need` more cycles have accumulated; INFINITY if
 * never. */
static double solve(const struct output *o, double a, double need)
{
    if (need <= 0)
        return a;
    if (!o->exp)
        return o->f_to > 0 ? a + need * 1e6 / o->f_to : INFINITY;
    double slowest = fmin(rate_at(o, a), o->f_to), lo = a, hi;
    if (slowest > 0) {
        hi = a + need * 1e6 / slowest;
    } else {
        /* decaying to 0: the whole tail may not be enough */
        if (cycles(o, a, a + 60 * SETTLE_TAU_US) <= need)
            return INFINITY;
        for (hi = a + SETTLE_TAU_US; cycles(o, a, hi) < need; hi += hi - a) {
        }
    }
    /* Newton on a monotone function, kept inside the bracket. */
    double x = hi;
    for (int i = 0; i < 200 && hi - lo > 1e-4; i++) {
        double g = cycles(o, a, x) - need;
        if (g == 0)
            return x;
        if (g < 0)
            lo = x;
        else
            hi = x;
        double f = rate_at(o, x) * 1e-6, next = f > 0 ? x - g / f : 0;
        x = next > lo && next < hi ? next : (lo + hi) / 2;
    }
    return hi;
}

static uint64_t pin_time(double t) { return t < 1.8e19 ? (uint64_t)ceil(t) : UINT64_MAX; }

/* The next crossing: `need` more cycles from `from`. */
static void aim(struct output *o, double from, double need)
{
    o->next_cross = solve(o, from, need);
    o->next_fall = pin_time(o->next_cross);
}

static void end_transition(struct output *o)
{
    if (o->exp && o->t_ref - o->t0 > 40 * SETTLE_TAU_US) {
        o->exp = false;
        o->f_from = o->f_to;
    }
}

static uint64_t min_u64(uint64_t a, uint64_t b) { return a < b ? a : b; }

static void rise(struct output *o)
{
    o->low = false;
    if (sim_opt.meter != SIM_METER_BL0942) /* else no pulse chip is fitted: its pins float */
        sim_gpio_external_at(o->gpio, 1, o->rise_at);
}

/* A pulse starting at t; one starting while the pin is still low merges. */
static void pulse(struct output *o, uint64_t t)
{
    if (o->low && o->rise_at <= t)
        rise(o);
    o->rise_at = t + PULSE_US;
    if (o->low)
        return;
    o->low = true;
    if (!o->falls++)
        o->first_fall = t;
    o->last_fall = t;
    if (sim_opt.meter != SIM_METER_BL0942)
        sim_gpio_external_at(o->gpio, 0, t);
}

/* Carry out every edge up to and including device time t; returns whether
 * anything happened.  Unwatched, long runs of pulses are counted in one
 * step (no interrupt can see them). */
static bool run_until(struct output *o, uint64_t t)
{
    bool bulk = !watched(o), any = false;
    for (;;) {
        uint64_t fall_t = o->next_fall;
        uint64_t stray_t = o->stray_count ? o->strays[0] : UINT64_MAX;
        uint64_t rise_t = o->low ? o->rise_at : UINT64_MAX;
        uint64_t first = min_u64(min_u64(fall_t, stray_t), rise_t);
        if (first > t)
            return any;
        any = true;
        if (rise_t == first) {
            rise(o);
            continue;
        }
        if (stray_t == first) {
            memmove(o->strays, o->strays + 1, (size_t)--o->stray_count * sizeof o->strays[0]);
            pulse(o, stray_t);
            continue;
        }
        if (bulk) {
            uint64_t limit = stray_t <= t ? stray_t - 1 : t;
            double total = o->phase + cycles(o, o->t_ref, (double)limit);
            if (total >= 3) {
                double k = floor(total) - 1; /* crossings done here; the last one as a pulse */
                if (!o->falls)
                    o->first_fall = fall_t;
                o->falls += (uint64_t)k - 1;
                double tk = solve(o, o->t_ref, k - o->phase);
                o->phase = 0;
                o->t_ref = tk;
                end_transition(o);
                uint64_t at = pin_time(tk);
                if (o->low) { /* the earlier pulses are long over */
                    o->rise_at = at;
                    rise(o);
                }
                pulse(o, at);
                aim(o, tk, 1);
                continue;
            }
        }
        o->phase = 0;
        o->t_ref = o->next_cross;
        end_transition(o);
        pulse(o, fall_t);
        aim(o, o->t_ref, 1);
    }
}

/* Bring the phase up to device time t (edges included). */
static void catch_up(struct output *o, uint64_t t)
{
    run_until(o, t);
    if ((double)t > o->t_ref) {
        o->phase += cycles(o, o->t_ref, (double)t);
        o->t_ref = (double)t;
        if (o->phase >= 1)
            o->phase = nextafter(1.0, 0.0); /* rounding: the crossing is due now */
        end_transition(o);
    }
}

/* A new rate from now on (after catch_up): during a transition the rate
 * moves on smoothly from where it is. */
static void retarget(struct output *o, double f)
{
    if (o->exp) {
        o->f_from = rate_at(o, o->t_ref);
        o->t0 = o->t_ref;
    } else {
        o->f_from = f;
    }
    o->f_to = f;
    aim(o, o->t_ref, 1 - o->phase);
}

static void schedule(struct output *o)
{
    if (o->queued) {
        sim_event_cancel(SIM_EVENT_BL0937, o->which);
        o->queued = false;
    }
    int edge = sim_gpio_irq_edge(o->gpio);
    if (edge < 0)
        return; /* nobody watches: brought up to date when looked at */
    uint64_t next = min_u64(o->next_fall, o->stray_count ? o->strays[0] : UINT64_MAX);
    if (o->low && edge == HAL_EDGE_RISING)
        next = min_u64(next, o->rise_at);
    if (next != UINT64_MAX)
        o->queued = sim_event_schedule((struct sim_event){next, SIM_EVENT_BL0937, o->gpio, o->which});
}

static struct output *output_of(int gpio)
{
    return gpio == SIM_BL0937_CF_GPIO ? &chip.cf : gpio == SIM_BL0937_CF1_GPIO ? &chip.cf1 : NULL;
}

/* ---- The chip ---- */

static void set_load(const struct load *l, uint64_t t)
{
    sim_bl0942_sync(t); /* the BL0942 counts the old load up to here */
    chip.load = *l;
    if (chip.trace)
        return;
    catch_up(&chip.cf, t);
    retarget(&chip.cf, f_cf(l));
    catch_up(&chip.cf1, t);
    retarget(&chip.cf1, cf1_target());
    chip.resched = true;
}

/* Does the chip see SEL selecting voltage? */
static bool sel_seen(void)
{
    return (hal_pin_read(SIM_BL0937_SEL_GPIO) != sim_opt.sel_inverted) == T.sel_high_selects_voltage;
}

static void add_stray(struct output *o, uint64_t t)
{
    if (o->stray_count == STRAY_MAX)
        return;
    int i = o->stray_count++;
    while (i > 0 && o->strays[i - 1] > t) {
        o->strays[i] = o->strays[i - 1];
        i--;
    }
    o->strays[i] = t;
}

static void sel_update(uint64_t t)
{
    bool sel = sel_seen();
    if (sel == chip.sel)
        return;
    chip.sel = sel;
    if (chip.trace)
        return;
    struct output *o = &chip.cf1;
    catch_up(o, t);
    double f = cf1_target();
    switch (chip.settle) {
    case SETTLE_EXP:
        o->f_from = rate_at(o, (double)t);
        o->f_to = f;
        o->t0 = (double)t;
        o->exp = true;
        break;
    case SETTLE_PHASE_RESET:
        o->phase = 0;
        /* fall through */
    case SETTLE_INSTANT:
    case SETTLE_STRAY:
        o->exp = false;
        o->f_from = o->f_to = f;
        break;
    }
    if (chip.settle == SETTLE_STRAY)
        for (int n = 1 + (int)(sim_random_model() % 3); n > 0; n--)
            add_stray(o, t + 1 + sim_random_model() % STRAY_WINDOW_US);
    aim(o, o->t_ref, 1 - o->phase);
    chip.resched = true;
}

/* The relay (GPIO2, high = closed) switches the load's current. */
static void relay_update(uint64_t t)
{
    bool closed = hal_pin_read(SIM_RELAY_GPIO);
    if (closed == chip.relay_closed)
        return;
    struct load same = chip.load;
    sim_bl0942_sync(t);
    chip.relay_closed = closed;
    set_load(&same, t);
}

static void schedule_profile(void)
{
    if (chip.row_at + 1 >= chip.row_count)
        return;
    uint64_t at = chip.rows[chip.row_at + 1].t_us, offset = sim_boot_offset_us();
    sim_event_schedule((struct sim_event){at > offset ? at - offset : 0, SIM_EVENT_BL0937, -1, CHIP_PROFILE});
}

static void profile_step(uint64_t t)
{
    uint64_t plug_t = t + sim_boot_offset_us();
    while (chip.row_at + 1 < chip.row_count && chip.rows[chip.row_at + 1].t_us <= plug_t)
        chip.row_at++;
    set_load(&chip.rows[chip.row_at].load, t);
    schedule_profile();
}

static void schedule_trace(void)
{
    if (chip.trace_next >= chip.trace_count)
        return;
    uint64_t at = chip.trace[chip.trace_next].t_us, offset = sim_boot_offset_us();
    sim_event_schedule((struct sim_event){at > offset ? at - offset : 0, SIM_EVENT_BL0937, -1, CHIP_TRACE});
}

static void trace_step(uint64_t t)
{
    uint64_t offset = sim_boot_offset_us();
    while (chip.trace_next < chip.trace_count && chip.trace[chip.trace_next].t_us <= t + offset) {
        const struct trace_edge *e = &chip.trace[chip.trace_next++];
        uint64_t at = e->t_us - offset;
        struct output *o = e->kind == TRACE_CF ? &chip.cf : &chip.cf1;
        if (e->kind != TRACE_CF && (e->kind == TRACE_CFV) != chip.sel) {
            chip.dropped++;
            continue;
        }
        run_until(o, at);
        pulse(o, at);
    }
    chip.resched = true;
    schedule_trace();
}

/* Every entry point runs the chip once: hooks that fire while it works (an
 * interrupt handler writing SEL, enabling an interrupt) are noted and done
 * before it lets go. */
static bool enter(void)
{
    if (!chip.started || chip.busy)
        return false;
    chip.busy = true;
    return true;
}

static void leave(void)
{
    while (chip.pins_dirty || chip.resched) {
        if (chip.pins_dirty) {
            chip.pins_dirty = false;
            sel_update(sim_now_us());
            relay_update(sim_now_us());
        }
        if (chip.resched) {
            chip.resched = false;
            schedule(&chip.cf);
            schedule(&chip.cf1);
        }
    }
    if (!chip.cf.queued)
        schedule(&chip.cf);
    if (!chip.cf1.queued)
        schedule(&chip.cf1);
    chip.busy = false;
}

void sim_bl0937_event(int which, uint64_t t_us)
{
    if (!enter())
        return;
    switch (which) {
    case CHIP_CF:
    case CHIP_CF1: {
        struct output *o = which == CHIP_CF ? &chip.cf : &chip.cf1;
        o->queued = false;
        run_until(o, t_us);
        break;
    }
    case CHIP_PROFILE: profile_step(t_us); break;
    case CHIP_TRACE: trace_step(t_us); break;
    }
    leave();
}

void sim_bl0937_pin_changed(int gpio)
{
    if ((gpio != SIM_BL0937_SEL_GPIO && gpio != SIM_RELAY_GPIO) || !chip.started)
        return;
    if (chip.busy) {
        chip.pins_dirty = true;
        return;
    }
    enter();
    sel_update(sim_now_us());
    relay_update(sim_now_us());
    leave();
}

void sim_bl0937_irq_changing(int gpio)
{
    struct output *o = output_of(gpio);
    if (o && enter()) {
        run_until(o, sim_now_us()); /* up to now under the old set-up */
        leave();
    }
}

void sim_bl0937_irq_changed(int gpio)
{
    if (!output_of(gpio) || !chip.started)
        return;
    chip.resched = true;
    if (enter())
        leave();
}

void sim_bl0937_sync(int gpio)
{
    struct output *o = output_of(gpio);
    if (o && enter()) {
        if (run_until(o, sim_now_us()) && o->queued)
            chip.resched = true;
        leave();
    }
}

void sim_bl0937_load_request(char *args, char *out, unsigned size)
{
    char err[128];
    struct load l = chip.load;
    while (args && isspace((unsigned char)*args))
        args++;
    if (chip.trace) {
        snprintf(out, size, "error: load: the chip replays --edge-trace, it has no load\n");
        return;
    }
    if (args && *args) {
        if (!parse_load(args, chip.load.volts, &l, err, sizeof err)) {
            snprintf(out, size, "error: load: %s\n", err);
            return;
        }
        if (enter()) {
            set_load(&l, sim_now_us());
            leave();
        }
    }
    snprintf(out, size, "ok load %.6g W pf %.2f at %.1f V\n", watts_of(&l), l.pf, l.volts);
}

void sim_bl0937_counts_json(char *buf, unsigned size)
{
    if (enter()) {
        run_until(&chip.cf, sim_now_us());
        run_until(&chip.cf1, sim_now_us());
        chip.resched = chip.cf.queued || chip.cf1.queued;
        leave();
    }
    struct sim_irq_stats cf, cf1;
    sim_gpio_irq_stats(SIM_BL0937_CF_GPIO, &cf);
    sim_gpio_irq_stats(SIM_BL0937_CF1_GPIO, &cf1);
    uint64_t delivered = cf.delivered + cf1.delivered;
    uint64_t lat_min = cf.latency_min_us < cf1.latency_min_us ? cf.latency_min_us : cf1.latency_min_us;
    uint64_t lat_max = cf.latency_max_us > cf1.latency_max_us ? cf.latency_max_us : cf1.latency_max_us;
    snprintf(buf, size,
             "{\"cf\":%llu,\"cf1\":%llu,\"sel\":%d,\"t_us\":%llu,\"irq_cf\":%llu,\"irq_cf1\":%llu,"
             "\"collapsed_cf\":%llu,\"collapsed_cf1\":%llu,\"lat_min_us\":%llu,\"lat_max_us\":%llu,"
             "\"lat_mean_us\":%.1f,\"cf_first_us\":%llu,\"cf_last_us\":%llu,\"cf1_first_us\":%llu,"
             "\"cf1_last_us\":%llu,\"dropped\":%llu}",
             (unsigned long long)chip.cf.falls, (unsigned long long)chip.cf1.falls, chip.sel,
             (unsigned long long)sim_now_us(), (unsigned long long)cf.delivered,
             (unsigned long long)cf1.delivered, (unsigned long long)cf.collapsed,
             (unsigned long long)cf1.collapsed, (unsigned long long)(delivered ? lat_min : 0),
             (unsigned long long)lat_max,
             delivered ? (double)(cf.latency_sum_us + cf1.latency_sum_us) / (double)delivered : 0.0,
             (unsigned long long)chip.cf.first_fall, (unsigned long long)chip.cf.last_fall,
             (unsigned long long)chip.cf1.first_fall, (unsigned long long)chip.cf1.last_fall,
             (unsigned long long)chip.dropped);
}

void sim_bl0937_handover(char *entry, size_t size)
{
    *entry = '\0';
    if (!enter())
        return;
    catch_up(&chip.cf, sim_now_us());
    catch_up(&chip.cf1, sim_now_us());
    leave();
    snprintf(entry, size, "%s=%.17g %.17g %.17g %.17g %.17g", HANDOVER_ENV, chip.load.volts, chip.load.amps,
             chip.load.pf, chip.cf.phase, chip.cf1.phase);
}

void sim_load_now(struct sim_load *out)
{
    *out = (struct sim_load){chip.load.volts, chip.load.amps, chip.load.pf, chip.relay_closed};
}

/* ---- Files: the load profile and the edge trace ---- */

/* The line without its comment and surrounding blanks. */
static char *clean_line(char *line)
{
    char *hash = strchr(line, '#');
    if (hash)
        *hash = '\0';
    while (isspace((unsigned char)*line))
        line++;
    size_t len = strlen(line);
    while (len && isspace((unsigned char)line[len - 1]))
        line[--len] = '\0';
    return line;
}

/* Read a text file line by line; fn returns an error message or NULL. */
static bool read_lines(const char *option, const char *path, const char *(*fn)(char *line, unsigned number))
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "openplug-sim: %s %s: cannot open: %m\n", option, path);
        return false;
    }
    char line[512];
    unsigned number = 0;
    const char *error = NULL;
    while (!error && fgets(line, sizeof line, f)) {
        number++;
        if (!strchr(line, '\n') && !feof(f))
            error = "line too long";
        else
            error = fn(clean_line(line), number);
    }
    fclose(f);
    if (error) {
        fprintf(stderr, "openplug-sim: %s %s: line %u: %s\n", option, path, number, error);
        return false;
    }
    error = fn(NULL, number + 1); /* end of file */
    if (error) {
        fprintf(stderr, "openplug-sim: %s %s: %s\n", option, path, error);
        return false;
    }
    return true;
}

static bool header_seen;

static const char *profile_line(char *line, unsigned number)
{
    (void)number;
    static char why[128];
    if (!line) {
        if (!header_seen)
            return "empty: expected the header line t_s,volts,amps,pf";
        return chip.row_count ? NULL : "no rows after the header";
    }
    if (!*line)
        return NULL;
    if (!header_seen) {
        char compact[64];
        size_t n = 0;
        for (const char *p = line; *p && n + 1 < sizeof compact; p++)
            if (!isspace((unsigned char)*p))
                compact[n++] = *p;
        compact[n] = '\0';
        if (strcmp(compact, "t_s,volts,amps,pf") != 0)
            return "expected the header line t_s,volts,amps,pf";
        header_seen = true;
        return NULL;
    }
    double v[4];
    char *p = line, *end;
    for (int i = 0; i < 4; i++) {
        v[i] = strtod(p, &end);
        while (isspace((unsigned char)*end))
            end++;
        if (end == p || !isfinite(v[i]) || *end != (i < 3 ? ',' : '\0'))
            return "expected four numbers t_s,volts,amps,pf";
        p = end + 1;
    }
    if (v[0] < 0 || v[0] > 1e12)
        return "t_s must be 0 or more";
    uint64_t t = (uint64_t)llround(v[0] * 1e6);
    if (!chip.row_count && t != 0)
        return "the first row must be at t_s=0";
    if (chip.row_count && t <= chip.rows[chip.row_count - 1].t_us)
        return "t_s must increase from row to row";
    struct load l = {v[1], v[2], v[3]};
    const char *bad = check_load(&l);
    if (bad) {
        snprintf(why, sizeof why, "%s", bad);
        return why;
    }
    struct row *grown = realloc(chip.rows, (chip.row_count + 1) * sizeof *grown);
    if (!grown)
        return "out of memory";
    chip.rows = grown;
    chip.rows[chip.row_count++] = (struct row){t, l};
    return NULL;
}

static const char *trace_line(char *line, unsigned number)
{
    (void)number;
    static size_t capacity;
    if (!line || !*line)
        return NULL;
    if (!isdigit((unsigned char)*line))
        return "expected '<t_us> CF|CFV|CFI'";
    char *end;
    unsigned long long t = strtoull(line, &end, 10);
    if (end == line || !isspace((unsigned char)*end))
        return "expected '<t_us> CF|CFV|CFI'";
    while (isspace((unsigned char)*end))
        end++;
    enum trace_kind kind;
    if (strcmp(end, "CF") == 0)
        kind = TRACE_CF;
    else if (strcmp(end, "CFV") == 0)
        kind = TRACE_CFV;
    else if (strcmp(end, "CFI") == 0)
        kind = TRACE_CFI;
    else
        return "expected '<t_us> CF|CFV|CFI'";
    if (chip.trace_count && t < chip.trace[chip.trace_count - 1].t_us)
        return "times must not go backwards";
    if (chip.trace_count == capacity) {
        size_t more = capacity ? capacity * 2 : 1024;
        struct trace_edge *grown = realloc(chip.trace, more * sizeof *grown);
        if (!grown)
            return "out of memory";
        chip.trace = grown;
        capacity = more;
    }
    chip.trace[chip.trace_count++] = (struct trace_edge){t, kind};
    return NULL;
}

/* ---- Start ---- */

static bool configure(void)
{
    static const char *const settles[] = {"instant", "exp50ms", "phase-reset", "stray-edges"};
    const char *settle = sim_opt.cf1_settle ? sim_opt.cf1_settle : "instant";
    bool known = false;
    for (int i = 0; i < 4; i++) {
        if (strcmp(settle, settles[i]) == 0) {
            chip.settle = (enum settle)i;
            known = true;
        }
    }
    if (!known) {
        fprintf(stderr, "openplug-sim: --cf1-settle takes instant, exp50ms, phase-reset or stray-edges\n");
        return false;
    }
    if (!(sim_opt.shunt_mohm >= 0.01 && sim_opt.shunt_mohm <= 100)) {
        fprintf(stderr, "openplug-sim: --shunt-mohm takes milliohms, 0.01..100\n");
        return false;
    }
    if (sim_opt.divider && !(sim_opt.divider >= 1 && sim_opt.divider <= 1e6)) {
        fprintf(stderr, "openplug-sim: --divider takes the mains-to-chip voltage ratio, 1..1000000\n");
        return false;
    }
    chip.shunt_ohm = sim_opt.shunt_mohm / 1000;
    chip.divider = sim_opt.divider ? sim_opt.divider : sim_opt.meter == SIM_METER_HLW8012 ? 2351 : 1981;
    if (sim_opt.edge_trace && (sim_opt.load || sim_opt.load_profile || sim_opt.mains_v > 0)) {
        fprintf(stderr, "openplug-sim: --edge-trace replaces the load model: no --load, --load-profile or --mains\n");
        return false;
    }
    if (sim_opt.load_profile && (sim_opt.load || sim_opt.mains_v > 0)) {
        fprintf(stderr, "openplug-sim: --load-profile gives the load and the volts: no --load or --mains\n");
        return false;
    }
    if (!(sim_opt.mains_v >= 0 && sim_opt.mains_v <= VOLTS_MAX)) {
        fprintf(stderr, "openplug-sim: --mains takes volts rms, 0..400\n");
        return false;
    }
    char err[128];
    double volts = sim_opt.mains_v > 0 ? sim_opt.mains_v : 230;
    if (!parse_load(sim_opt.load ? sim_opt.load : "60W", volts, &chip.load, err, sizeof err)) {
        fprintf(stderr, "openplug-sim: --load %s: %s\n", sim_opt.load ? sim_opt.load : "", err);
        return false;
    }
    if (sim_opt.load_profile) {
        header_seen = false;
        if (!read_lines("--load-profile", sim_opt.load_profile, profile_line))
            return false;
        chip.load = chip.rows[0].load;
    }
    if (sim_opt.edge_trace) {
        if (!read_lines("--edge-trace", sim_opt.edge_trace, trace_line))
            return false;
        if (!chip.trace) /* an empty trace: no pulses at all */
            chip.trace = malloc(sizeof *chip.trace);
    }
    return true;
}

static double random_phase(void) { return (double)(sim_random_model() >> 11) * 0x1p-53; }

bool sim_bl0937_start(void)
{
    if (!configure())
        return false;
    chip.cf = (struct output){.gpio = SIM_BL0937_CF_GPIO, .which = CHIP_CF};
    chip.cf1 = (struct output){.gpio = SIM_BL0937_CF1_GPIO, .which = CHIP_CF1};
    uint64_t offset = sim_boot_offset_us();
    const char *handed = getenv(HANDOVER_ENV);
    struct load l;
    double phase_cf, phase_cf1;
    if (handed && sscanf(handed, "%lf %lf %lf %lf %lf", &l.volts, &l.amps, &l.pf, &phase_cf, &phase_cf1) == 5 &&
        !check_load(&l) && phase_cf >= 0 && phase_cf < 1 && phase_cf1 >= 0 && phase_cf1 < 1) {
        if (!chip.trace)
            chip.load = l; /* the mains and the load did not change with the reboot */
    } else {
        phase_cf = random_phase();
        phase_cf1 = random_phase();
    }
    while (chip.row_at + 1 < chip.row_count && chip.rows[chip.row_at + 1].t_us <= offset)
        chip.row_at++;
    if (chip.rows && !handed)
        chip.load = chip.rows[chip.row_at].load;
    while (chip.trace_next < chip.trace_count && chip.trace[chip.trace_next].t_us < offset)
        chip.trace_next++;
    chip.sel = sel_seen();
    chip.cf.phase = phase_cf;
    chip.cf1.phase = phase_cf1;
    double f_cf_now = chip.trace ? 0 : f_cf(&chip.load), f_cf1_now = chip.trace ? 0 : cf1_target();
    chip.cf.f_from = chip.cf.f_to = f_cf_now;
    chip.cf1.f_from = chip.cf1.f_to = f_cf1_now;
    aim(&chip.cf, 0, 1 - chip.cf.phase);
    aim(&chip.cf1, 0, 1 - chip.cf1.phase);
    /* Idle high: the pulses are low. */
    sim_gpio_external_at(SIM_BL0937_CF_GPIO, 1, 0);
    sim_gpio_external_at(SIM_BL0937_CF1_GPIO, 1, 0);
    chip.started = true;
    schedule_profile();
    schedule_trace();
    chip.resched = true;
    if (enter())
        leave();
    return true;
}
