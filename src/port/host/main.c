/*
 * main.c — openplug-sim: the real firmware core on a simulated SM-028_V1.3
 * board.  Parses the options, opens the flash image and the world socket,
 * and hands over to firmware_main().  A reboot re-executes this program
 * with the same arguments (see hal_reboot() in hal_host.c).
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/firmware.h"
#include "core/system.h"
#include "sim.h"

struct sim_options sim_opt = {.flash_path = "openplug-flash.bin", .seed = 1};
char **sim_argv;

void sim_take_reboot_state(void);
bool sim_first_boot(void);
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
          "  --world PATH             UNIX socket for the physical world (press, powercut, hang, pins)\n"
          "  --powercut-at-flash-op N tear the N-th flash erase/program and cut the power\n"
          "  --version                print the version\n"
          "stdin/stdout is the serial console.\n",
          out);
}

static bool parse_number(const char *text, double *out)
{
    char *end;
    *out = strtod(text, &end);
    return end != text && !*end && *out >= 0;
}

/* "a; b;c" -> "a\nb\nc\n" on the console, as if typed. */
static void inject_exec(const char *commands)
{
    char *lines = strdup(commands);
    if (!lines)
        return;
    for (char *p = lines; *p; p++)
        if (*p == ';')
            *p = '\n';
    sim_console_inject(lines);
    sim_console_inject("\n");
    free(lines);
}

int main(int argc, char **argv)
{
    enum { OPT_FLASH = 1, OPT_TIMING, OPT_VIRTUAL, OPT_DURATION, OPT_SEED, OPT_EXEC, OPT_WORLD, OPT_CUT, OPT_VERSION, OPT_HELP };
    static const struct option options[] = {
        {"flash", required_argument, NULL, OPT_FLASH},
        {"flash-timing", required_argument, NULL, OPT_TIMING},
        {"virtual-time", no_argument, NULL, OPT_VIRTUAL},
        {"duration", required_argument, NULL, OPT_DURATION},
        {"seed", required_argument, NULL, OPT_SEED},
        {"exec", required_argument, NULL, OPT_EXEC},
        {"world", required_argument, NULL, OPT_WORLD},
        {"powercut-at-flash-op", required_argument, NULL, OPT_CUT},
        {"version", no_argument, NULL, OPT_VERSION},
        {"help", no_argument, NULL, OPT_HELP},
        {0},
    };
    sim_argv = argv;
    int opt;
    double number;
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
            if (!parse_number(optarg, &sim_opt.duration_s)) {
                fprintf(stderr, "openplug-sim: --duration takes seconds, e.g. 86400\n");
                return 2;
            }
            break;
        case OPT_SEED:
            if (!parse_number(optarg, &number)) {
                fprintf(stderr, "openplug-sim: --seed takes a number\n");
                return 2;
            }
            sim_opt.seed = (uint64_t)number;
            break;
        case OPT_EXEC: sim_opt.exec = optarg; break;
        case OPT_WORLD: sim_opt.world_path = optarg; break;
        case OPT_CUT:
            if (!parse_number(optarg, &number) || number < 1) {
                fprintf(stderr, "openplug-sim: --powercut-at-flash-op takes a count from 1\n");
                return 2;
            }
            sim_opt.powercut_at_flash_op = (uint64_t)number;
            break;
        case OPT_VERSION: printf("openplug-sim %s\n", OPENPLUG_VERSION); return 0;
        case OPT_HELP: usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
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
    if (sim_opt.world_path && !sim_world_open(sim_opt.world_path))
        return 1;
    if (sim_opt.exec && sim_first_boot())
        inject_exec(sim_opt.exec);
    firmware_main();
}
