/*
 * main.c — openplug-sim: the real firmware core on a simulated SM-028_V1.3
 * board.  Parses the options, opens the flash image, runs boot2 (which may
 * execute the firmware of the active slot instead), runs the firmware's boot
 * guard (ota_boot_guard()), opens the world socket, starts the metering
 * chip (the BL0937, or the BL0942 with --meter bl0942; it runs from
 * power-on), and hands over to firmware_main().  A reboot re-executes this program
 * with the same arguments (see hal_reboot() in hal_host.c).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <getopt.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/cmd/cmd.h"
#include "core/firmware.h"
#include "core/net/http.h"
#include "core/ota/ota.h"
#include "core/system.h"
#include "sim.h"

struct sim_options sim_opt = {.flash_path = "openplug-flash.bin", .seed = 1, .shunt_mohm = 1};
char **sim_argv;

void sim_take_reboot_state(void);
void sim_install_signals(void);

static void usage(FILE *out)
{
    fputs("usage: openplug-sim [options]\n"
          "  --flash PATH             flash image (default ./openplug-flash.bin; created if missing)\n"
          "  --flash-timing none|real model erase/program latencies (real: 4 KiB erase ~45 ms)\n"
          "  --virtual-time           the clock jumps to the next event: no real waiting\n"
          "  --duration S             stop cleanly after S seconds of device time\n"
          "  --seed N                 seed of every random choice of the model (default 1)\n"
          "  --exec \"cmd; cmd\"        commands typed on the console after the first boot\n"
          "  --at \"S cmd; cmd\"        commands typed at S seconds of device time (repeatable);\n"
          "                           \"S world REQUEST\": a world request then (e.g. \"60 world wifi down\")\n"
          "  --world PATH             UNIX socket for the physical world (press, powercut, hang, pins)\n"
          "  --energy-log FILE        a CSV row a second: t_s,volts,amps,watts,va,pf,kwh_total\n"
          "  --powercut-at-flash-op N tear the N-th flash erase/program and cut the power\n"
          "  --http PORT              the web server's port on 127.0.0.1 (default 8080; 0 = any free port)\n"
          "  --http-next-free         if PORT is taken, say so and use the next free one\n"
          "  --date now|DATE          the world has a time server (NTP) with the host's clock or DATE\n"
          "                           (UTC, YYYY-MM-DD[THH:MM[:SS]] or seconds since 1970)\n"
          "  --wifi SSID:PASS         a Wi-Fi network that exists (repeatable; no :PASS = open)\n"
          "  --rssi DBM               the networks' signal in dBm (default -58..-52)\n"
          "the metering chip (CF GPIO14, CF1 GPIO3, SEL GPIO21) and what it measures:\n"
          "  --meter CHIP             bl0937 (default), hlw8012 (template: HLW8012CF on GPIO14) or\n"
          "                           bl0942 (on the UART, see below)\n"
          "  --load 60W[,pf=0.9]      the plugged-in load (default 60W, pf 1; 0W = nothing)\n"
          "  --mains V                mains volts rms (default 230)\n"
          "  --load-profile FILE      CSV t_s,volts,amps,pf: each row holds until the next\n"
          "  --shunt-mohm R           current shunt in milliohms (default 1)\n"
          "  --divider D              voltage divider ratio, mains/chip (default 1981; hlw8012 2351;\n"
          "                           bl0942 3824.53)\n"
          "  --sel-inverted           a BL0937SEL_n board: SEL is inverted before the chip\n"
          "  --cf1-settle MODE        CF1 after a SEL change: instant|exp50ms|phase-reset|stray-edges\n"
          "  --anti-creep             no CF pulses below the no-load threshold (0.92 W by default)\n"
          "  --edge-trace FILE        replay pulses 't_us CF|CFV|CFI' instead of the model\n"
          "the BL0942 (--meter bl0942: the plug's TX GPIO16, RX GPIO7, 4800 8N1; the first boot\n"
          "types its template; --load may be negative: a solar inverter feeding the mains):\n"
          "  --bl0942-fault KIND[/N]  damage every N-th answer (default 3): corrupt|truncate|desync|junk\n"
          "  --bl0942-cf-start N      the BL0942's CF_CNT at power-on (0 .. 16777215)\n"
          "interrupts:\n"
          "  --irq-jitter-us N        each pin interrupt is delivered 0..N us late\n"
          "  --blackout MS/EVERY_S    every EVERY_S seconds, interrupts are held off for MS ms\n"
          "  --irq-probe GPIO[,GPIO]  count falling-edge interrupts on pins the firmware does not watch\n"
          "  --version                print the version\n"
          "stdin/stdout is the serial console.\n",
          out);
}

/* A numeric option's value within [min, max] (integral if asked); else
 * says what it takes. */
static bool number_option(const char *name, const char *takes, double min, double max, bool whole, double *out)
{
    char *end;
    *out = strtod(optarg, &end);
    if (end != optarg && !*end && *out >= min && *out <= max && (!whole || *out == (double)(uint64_t)*out))
        return true;
    fprintf(stderr, "openplug-sim: %s takes %s\n", name, takes);
    return false;
}

/* "30/10": 30 ms every 10 s. */
static bool parse_blackout(const char *text)
{
    char *end;
    double ms = strtod(text, &end);
    if (end == text || *end != '/')
        return false;
    const char *rest = end + 1;
    double every = strtod(rest, &end);
    if (end == rest || *end || !(ms > 0) || !(every > 0) || ms >= every * 1000 || every > 1e6)
        return false;
    sim_opt.blackout_ms = ms;
    sim_opt.blackout_every_s = every;
    return true;
}

/* "14,3": a counting probe on each pin's falling edge. */
static bool start_probes(const char *list)
{
    char *copy = strdup(list), *save, *end;
    bool ok = copy != NULL;
    for (char *tok = copy ? strtok_r(copy, ",", &save) : NULL; tok && ok; tok = strtok_r(NULL, ",", &save)) {
        long gpio = strtol(tok, &end, 10);
        ok = end != tok && !*end && gpio >= 0 && gpio < SIM_PINS;
        if (ok)
            sim_gpio_probe((int)gpio, HAL_EDGE_FALLING);
    }
    free(copy);
    if (!ok)
        fprintf(stderr, "openplug-sim: --irq-probe takes GPIO numbers 0..%d, e.g. 14,3\n", SIM_PINS - 1);
    return ok;
}

/* --http-next-free: the first port from `port` that no program holds on
 * 127.0.0.1 (a few tried); `port` itself when none is free, and the web
 * server then says it cannot listen. */
static uint16_t first_free_port(uint16_t port)
{
    for (unsigned p = port; p && p <= 65535u && p < port + 50u; p++) {
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)p),
                                   .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        bool taken = fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof addr) != 0;
        if (fd >= 0)
            close(fd);
        if (!taken) {
            if (p != port)
                fprintf(stderr, "openplug-sim: port %u is taken by another program: the web UI is on "
                                "http://127.0.0.1:%u/ instead\n", (unsigned)port, p);
            return (uint16_t)p;
        }
    }
    return port;
}

/* "a; b;c" -> "a\nb\nc\n" on the console, as if typed (a ; inside JSON
 * does not split: cmd_split()). */
void sim_console_type(const char *commands)
{
    char *lines = strdup(commands), *cursor = lines, *command;
    while (lines && (command = cmd_split(&cursor))) {
        sim_console_inject(command);
        sim_console_inject("\n");
    }
    free(lines);
}

/* --at "S cmd; cmd": commands typed at S seconds of device time. */
static bool parse_at(const char *text)
{
    char *end;
    double seconds = strtod(text, &end);
    if (end == text || *end != ' ' || !(seconds >= 0) || seconds > 1e12 || !end[1] || !sim_console_at(seconds, end + 1)) {
        fprintf(stderr, "openplug-sim: --at takes \"SECONDS commands\", e.g. --at \"3600 Time 0\" (at most 256)\n");
        return false;
    }
    return true;
}

int main(int argc, char **argv)
{
    enum {
        OPT_FLASH = 1, OPT_TIMING, OPT_VIRTUAL, OPT_DURATION, OPT_SEED, OPT_EXEC, OPT_WORLD, OPT_CUT, OPT_VERSION,
        OPT_HELP, OPT_LOAD, OPT_MAINS, OPT_PROFILE, OPT_SHUNT, OPT_DIVIDER, OPT_SEL_INV, OPT_SETTLE, OPT_CREEP,
        OPT_TRACE, OPT_JITTER, OPT_BLACKOUT, OPT_PROBE, OPT_ENERGY_LOG, OPT_HTTP, OPT_WIFI, OPT_RSSI, OPT_AT,
        OPT_METER, OPT_BL0942_FAULT, OPT_BL0942_CF, OPT_HTTP_NEXT, OPT_DATE
    };
    static const struct option options[] = {
        {"flash", required_argument, NULL, OPT_FLASH},
        {"flash-timing", required_argument, NULL, OPT_TIMING},
        {"virtual-time", no_argument, NULL, OPT_VIRTUAL},
        {"duration", required_argument, NULL, OPT_DURATION},
        {"seed", required_argument, NULL, OPT_SEED},
        {"exec", required_argument, NULL, OPT_EXEC},
        {"at", required_argument, NULL, OPT_AT},
        {"world", required_argument, NULL, OPT_WORLD},
        {"powercut-at-flash-op", required_argument, NULL, OPT_CUT},
        {"version", no_argument, NULL, OPT_VERSION},
        {"load", required_argument, NULL, OPT_LOAD},
        {"energy-log", required_argument, NULL, OPT_ENERGY_LOG},
        {"mains", required_argument, NULL, OPT_MAINS},
        {"load-profile", required_argument, NULL, OPT_PROFILE},
        {"shunt-mohm", required_argument, NULL, OPT_SHUNT},
        {"divider", required_argument, NULL, OPT_DIVIDER},
        {"sel-inverted", no_argument, NULL, OPT_SEL_INV},
        {"cf1-settle", required_argument, NULL, OPT_SETTLE},
        {"anti-creep", no_argument, NULL, OPT_CREEP},
        {"edge-trace", required_argument, NULL, OPT_TRACE},
        {"bl0942-fault", required_argument, NULL, OPT_BL0942_FAULT},
        {"bl0942-cf-start", required_argument, NULL, OPT_BL0942_CF},
        {"irq-jitter-us", required_argument, NULL, OPT_JITTER},
        {"blackout", required_argument, NULL, OPT_BLACKOUT},
        {"irq-probe", required_argument, NULL, OPT_PROBE},
        {"http", required_argument, NULL, OPT_HTTP},
        {"http-next-free", no_argument, NULL, OPT_HTTP_NEXT},
        {"date", required_argument, NULL, OPT_DATE},
        {"wifi", required_argument, NULL, OPT_WIFI},
        {"rssi", required_argument, NULL, OPT_RSSI},
        {"meter", required_argument, NULL, OPT_METER},
        {"help", no_argument, NULL, OPT_HELP},
        {0},
    };
    sim_argv = argv;
    uint16_t http_port_option = 8080;
    bool http_next_free = false;
    int opt;
    double number;
    const char *probes = NULL;
    while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (opt) {
        case OPT_FLASH: sim_opt.flash_path = optarg; break;
        case OPT_TIMING:
            if (strcmp(optarg, "real") != 0 && strcmp(optarg, "none") != 0) {
                fprintf(stderr, "openplug-sim: --flash-timing takes none or real\n");
                return 2;
            }
            sim_opt.flash_timing_real = strcmp(optarg, "real") == 0;
            break;
        case OPT_VIRTUAL: sim_opt.virtual_time = true; break;
        case OPT_DURATION:
            if (!number_option("--duration", "seconds, e.g. 86400", 0, 1e12, false, &sim_opt.duration_s))
                return 2;
            break;
        case OPT_SEED:
            if (!number_option("--seed", "a number", 0, 1e18, false, &number))
                return 2;
            sim_opt.seed = (uint64_t)number;
            break;
        case OPT_EXEC: sim_opt.exec = optarg; break;
        case OPT_AT:
            if (!parse_at(optarg))
                return 2;
            break;
        case OPT_WORLD: sim_opt.world_path = optarg; break;
        case OPT_ENERGY_LOG: sim_opt.energy_log_path = optarg; break;
        case OPT_CUT:
            if (!number_option("--powercut-at-flash-op", "a count from 1", 1, 1e18, true, &number))
                return 2;
            sim_opt.powercut_at_flash_op = (uint64_t)number;
            break;
        case OPT_LOAD: sim_opt.load = optarg; break;
        case OPT_METER:
            if (strcmp(optarg, "bl0937") == 0)
                sim_opt.meter = SIM_METER_BL0937;
            else if (strcmp(optarg, "hlw8012") == 0)
                sim_opt.meter = SIM_METER_HLW8012;
            else if (strcmp(optarg, "bl0942") == 0)
                sim_opt.meter = SIM_METER_BL0942;
            else {
                fprintf(stderr, "openplug-sim: --meter takes bl0937, hlw8012 or bl0942\n");
                return 2;
            }
            break;
        case OPT_MAINS:
            if (!number_option("--mains", "volts rms, e.g. 230", 1, 1e9, false, &sim_opt.mains_v))
                return 2;
            break;
        case OPT_PROFILE: sim_opt.load_profile = optarg; break;
        case OPT_SHUNT:
            if (!number_option("--shunt-mohm", "milliohms, e.g. 1", 0, 1e9, false, &sim_opt.shunt_mohm))
                return 2;
            break;
        case OPT_DIVIDER:
            if (!number_option("--divider", "a ratio, e.g. 1981", 0, 1e9, false, &sim_opt.divider))
                return 2;
            break;
        case OPT_SEL_INV: sim_opt.sel_inverted = true; break;
        case OPT_SETTLE: sim_opt.cf1_settle = optarg; break;
        case OPT_CREEP: sim_opt.anti_creep = true; break;
        case OPT_TRACE: sim_opt.edge_trace = optarg; break;
        case OPT_BL0942_FAULT: sim_opt.bl0942_fault = optarg; break;
        case OPT_BL0942_CF:
            if (!number_option("--bl0942-cf-start", "a count, 0 .. 16777215", 0, 16777215, true, &number))
                return 2;
            sim_opt.bl0942_cf_start = (uint32_t)number;
            break;
        case OPT_JITTER:
            if (!number_option("--irq-jitter-us", "whole microseconds, e.g. 100", 0, 1000000, true, &number))
                return 2;
            sim_opt.irq_jitter_us = (uint32_t)number;
            break;
        case OPT_BLACKOUT:
            if (!parse_blackout(optarg)) {
                fprintf(stderr, "openplug-sim: --blackout takes MS/EVERY_S with MS shorter than the period, e.g. 30/10\n");
                return 2;
            }
            break;
        case OPT_PROBE: probes = optarg; break;
        case OPT_HTTP:
            if (!number_option("--http", "a TCP port, 0 .. 65535", 0, 65535, true, &number))
                return 2;
            http_port_option = (uint16_t)number;
            break;
        case OPT_HTTP_NEXT: http_next_free = true; break;
        case OPT_DATE:
            if (!sim_net_date_option(optarg))
                return 2;
            break;
        case OPT_WIFI:
            if (!sim_wifi_option(optarg))
                return 2;
            break;
        case OPT_RSSI:
            if (!number_option("--rssi", "dBm, -100 .. -1, e.g. -67", -100, -1, false, &number))
                return 2;
            sim_opt.rssi_dbm = (int)number;
            break;
        case OPT_VERSION: printf("openplug-sim %s\n", OPENPLUG_VERSION); return 0;
        case OPT_HELP: usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if ((sim_opt.bl0942_fault || sim_opt.bl0942_cf_start) && sim_opt.meter != SIM_METER_BL0942) {
        fprintf(stderr, "openplug-sim: --bl0942-fault and --bl0942-cf-start need --meter bl0942\n");
        return 2;
    }
    if (optind < argc) {
        fprintf(stderr, "openplug-sim: unexpected argument '%s'\n", argv[optind]);
        usage(stderr);
        return 2;
    }

    sim_clock_init(); /* reset: device time starts at 0 */
    sim_take_reboot_state();
    sim_install_signals();
    if (!sim_flash_open(sim_opt.flash_path))
        return 1;
    if (!sim_boot2()) /* may execute the firmware of the active slot instead */
        return SIM_EXIT_NO_FIRMWARE;
    if (!sim_retained_open(sim_opt.flash_path, sim_first_boot()))
        return 1;
    sim_install_crash_handlers();
    /* The firmware's first act, as on the chip (boot2 counts no tries):
     * before the board's start-up below and before firmware_main(). */
    ota_boot_guard();
#ifdef OPENPLUG_SIM_FATAL_AT_START
    /* A test build only (openplug-sim-fatal): a firmware that dies at start
     * the way the BL602 SDK's fatal paths do — it loops forever, and only the
     * watchdog brings the chip back (the guard above has counted the try). */
    printf("FATAL: this test firmware stops at start; the watchdog will reset it\n");
    fflush(stdout);
    hal_wdt_start(1000);
    for (;;)
        hal_idle(1000);
#endif
    if (!sim_bl0937_start() || !sim_bl0942_start())
        return 2;
    if (probes && !start_probes(probes))
        return 2;
    if (sim_opt.world_path && !sim_world_open(sim_opt.world_path))
        return 1;
    if (sim_opt.energy_log_path && !sim_energy_log_open(sim_opt.energy_log_path))
        return 1;
    if (sim_opt.meter == SIM_METER_BL0942 && sim_first_boot())
        sim_console_type("Template " SIM_BL0942_TEMPLATE); /* the board's own, before anything else */
    if (sim_opt.exec && sim_first_boot())
        sim_console_type(sim_opt.exec);
    if (!sim_net_start())
        return 1;
    /* The port chosen at the first boot stays across reboots (the URL the
     * user has open keeps working). */
    const char *kept_port = getenv("OPENPLUG_SIM_HTTP_PORT");
    sim_opt.http_port = kept_port ? (uint16_t)atoi(kept_port)
                                  : http_next_free ? first_free_port(http_port_option) : http_port_option;
    http_set_listen(0x7F000001, sim_opt.http_port); /* 127.0.0.1 only: the simulator is not a device on the LAN */
    firmware_main();
}
