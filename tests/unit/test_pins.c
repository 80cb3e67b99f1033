/* test_pins.c — templates: parsing OpenBeken JSON, printing, errors that
 * keep the old template, and re-wiring the board. */
#include "core/cmd/cmd.h"
#include "core/firmware.h"
#include "core/io/channels.h"
#include "core/io/pins.h"
#include "core/io/template.h"
#include "core/sched.h"
#include "core/storage/config.h"
#include "fake_hal.h"
#include "harness.h"

static char reply[2048];

static void keep(const char *json, void *arg)
{
    (void)arg;
    snprintf(reply, sizeof reply, "%s", json);
}

static const char *run(const char *text)
{
    static char line[CMD_LINE_MAX + 1];
    snprintf(line, sizeof line, "%s", text);
    reply[0] = '\0';
    cmd_execute(line, SOURCE_CONSOLE, keep, NULL);
    return reply;
}

static struct template parsed;

static void test_parse_openbeken_template(void)
{
    const char *json = "{\"vendor\":\"Tuya\",\"bDetailed\":\"0\",\"name\":\"Aubess 16A smart socket SM-028_V1.3 (BL0937)\","
                       "\"flags\":\"1024\",\"keywords\":[ \"a\", \"b\" ],\"pins\":{\"6\":\"BL0937CF1;0\",\"7\":\"BL0937CF;0\","
                       "\"8\":\"Rel_n;1\",\"10\":\"btn;1;2\",\"11\":\"WiFiLED_n;0\",\"21\":\"BL0937SEL_n;0\"},"
                       "\"command\":\"startDriver BL0937\",\"image\":\"https://x/y.jpg\"}";
    char error[96];
    CHECK(template_parse(json, strlen(json), 0, &parsed, error, sizeof error));
    CHECK_STR(parsed.name, "Aubess 16A smart socket SM-028_V1.3 (BL0937)");
    CHECK_EQ(parsed.pins[8].role, PIN_REL_N);
    CHECK_EQ(parsed.pins[8].channel, 1);
    CHECK_EQ(parsed.pins[10].role, PIN_BTN);
    CHECK_EQ(parsed.pins[11].role, PIN_WIFILED_N);
    CHECK_EQ(parsed.pins[21].role, PIN_BL0937SEL_N);
    CHECK_EQ(parsed.pins[2].role, PIN_NONE);
    CHECK(parsed.has_command);
    CHECK_STR(parsed.command, "startDriver BL0937");
    /* the other members kept in order, white space outside strings dropped */
    CHECK_STR(parsed.extra, "\"vendor\":\"Tuya\",\"bDetailed\":\"0\",\"flags\":\"1024\",\"keywords\":[\"a\",\"b\"],"
                            "\"image\":\"https://x/y.jpg\"");
}

static void check_rejected(const char *json, const char *message)
{
    char error[160];
    memset(&parsed, 0x5A, sizeof parsed);
    CHECK(!template_parse(json, strlen(json), 0, &parsed, error, sizeof error));
    CHECK_CONTAINS(error, message);
    CHECK_EQ(parsed.pins[0].role, 0);
    CHECK_STR(parsed.name, "");
}

static void test_bad_templates_are_rejected_whole(void)
{
    check_rejected("{\"pins\":{\"2\":\"Rel;1\",}}", "not valid JSON");
    check_rejected("{\"pins\":{\"2\":\"Rel;1\"}", "not valid JSON");
    check_rejected("{\"name\":\"x\"}", "no \"pins\" object");
    check_rejected("{\"pins\":{\"2\":\"Relay;1\"}}", "GPIO 2: unknown pin role 'Relay'");
    check_rejected("{\"pins\":{\"40\":\"Rel;1\"}}", "no GPIO 40 on this chip");
    check_rejected("{\"pins\":{\"x\":\"Rel;1\"}}", "no GPIO x");
    check_rejected("{\"pins\":{\"2\":\"Rel;5\"}}", "at most 4 relays, on channels 1..4");
    check_rejected("{\"pins\":{\"2\":\"Rel;0\",\"3\":\"Rel;4\"}}", "at most 4 relays, on channels 0..3");
    check_rejected("{\"pins\":{\"2\":\"Rel;1\",\"3\":\"Btn;2\"}}", "GPIO 3: Btn;2: channel 2 has no relay to switch");
    check_rejected("{\"pins\":{\"2\":\"Rel;a\"}}", "bad channel");
    check_rejected("{\"pins\":{\"2\":\"Rel;64\"}}", "bad channel");
    check_rejected("{\"pins\":{\"2\":7}}", "expected a string");
    check_rejected("{\"pins\":{\"2\":\"IRRecv;0\"}}", "role 'IRRecv' refused: a plug has no infrared receiver");
    check_rejected("{\"pins\":{}}", "the pin map is empty");
    check_rejected("{\"name\":\"a\",\"pins\":{\"2\":\"Rel;1\"},\"name\":\"b\"}", "member \"name\" twice");
    check_rejected("{\"wiki\":1,\"pins\":{\"2\":\"Rel;1\"},\"wiki\":2}", "member \"wiki\" twice");
    check_rejected("{\"name\":\"a\001\",\"pins\":{\"2\":\"Rel;1\"}}", "not valid JSON: control character");
    check_rejected("[]", "template is not valid JSON: expected an object");
    check_rejected("", "template is not valid JSON: expected an object");
    check_rejected("{\"pins\":{}} trailing", "trailing data");
    char error[160];
    CHECK(template_parse("{\"pins\":{}}", 11, TEMPLATE_ALLOW_EMPTY, &parsed, error, sizeof error));
}

static void test_template_command_round_trip(void)
{
    const char *shown = run("Template");
    CHECK_STR(shown, "{\"name\":\"SM-028_V1.3\",\"pins\":{\"2\":\"Rel;1\",\"3\":\"BL0937CF1;0\",\"14\":\"BL0937CF;0\","
                     "\"17\":\"Btn;1\",\"20\":\"LED_n;1\",\"21\":\"BL0937SEL;0\"},\"command\":\"\"}");
    char again[600];
    snprintf(again, sizeof again, "Template %s", shown);
    uint32_t saves = config_save_count();
    CHECK_STR(run(again), shown);
    CHECK_EQ(config_save_count(), saves + 1);
}

static void test_import_rewires_and_errors_keep_old(void)
{
    run("Power on");
    CHECK(fake_pin_latch(2));
    CHECK_STR(run("Template {\"name\":\"moved\",\"pins\":{\"5\":\"Rel;1\",\"22\":\"Btn;1\",\"20\":\"LED_n;1\"}}"),
              "{\"name\":\"moved\",\"pins\":{\"5\":\"Rel;1\",\"20\":\"LED_n;1\",\"22\":\"Btn;1\"},\"command\":\"\"}");
    CHECK_EQ(fake_pin_mode(2), HAL_PIN_DISABLED); /* released */
    CHECK_EQ(fake_pin_mode(5), HAL_PIN_OUTPUT);
    CHECK(fake_pin_latch(5)); /* the relay keeps its state on its new pin */
    CHECK_EQ(fake_pin_output_changes(5), 0); /* driven high from the start: no glitch */
    CHECK_EQ(fake_pin_mode(22), HAL_PIN_INPUT_PULLUP);
    CHECK_EQ(fake_pin_mode(17), HAL_PIN_DISABLED);

    uint32_t saves = config_save_count();
    CHECK_CONTAINS(run("Template {\"pins\":{\"5\":\"Rel;1\""), "the current template is kept");
    CHECK_CONTAINS(run("Template {\"pins\":{\"9\":\"Foo;1\"}}"), "unknown pin role 'Foo'");
    CHECK_EQ(config_save_count(), saves);
    CHECK_STR(config_get()->template_name, "moved");
    CHECK_EQ(fake_pin_mode(5), HAL_PIN_OUTPUT);

    CHECK_STR(run("Pin 5"), "{\"Pin5\":\"Rel;1\"}");
    CHECK_STR(run("Pin 6 rel_n;1"), "{\"Pin6\":\"Rel_n;1\"}");
    CHECK_EQ(fake_pin_mode(6), HAL_PIN_OUTPUT);
    CHECK(!fake_pin_latch(6)); /* active low, relay on */
    CHECK_EQ(fake_pin_output_changes(6), 0);
    CHECK_STR(run("Pin 6 none"), "{\"Pin6\":\"none\"}");
    CHECK_EQ(fake_pin_mode(6), HAL_PIN_DISABLED);
}

static void run_ms(uint32_t ms)
{
    uint64_t end = hal_time_ms() + ms;
    while (hal_time_ms() < end)
        sched_run_once((uint32_t)(end - hal_time_ms()));
}

static void test_wifi_led_blinks_until_connected(void)
{
    CHECK_STR(run("Pin 11 WifiLED_n;0"), "{\"Pin11\":\"WifiLED_n;0\"}");
    fake_wifi = HAL_WIFI_CONNECTING;
    run_ms(1100); /* the housekeeping tick notices */
    int changes = 0;
    bool last = fake_pin_latch(11);
    for (int i = 0; i < 8; i++) {
        run_ms(250);
        changes += fake_pin_latch(11) != last;
        last = fake_pin_latch(11);
    }
    CHECK(changes >= 6); /* blinking at 2 Hz */
    fake_wifi = HAL_WIFI_CONNECTED;
    run_ms(1100);
    CHECK(!fake_pin_latch(11)); /* inverted: lit = low */
    run_ms(600);
    CHECK(!fake_pin_latch(11)); /* and steady */
    run("Pin 11 none");
}

int main(void)
{
    fake_flash_blank();
    firmware_boot();
    RUN(test_parse_openbeken_template);
    RUN(test_bad_templates_are_rejected_whole);
    RUN(test_template_command_round_trip);
    RUN(test_import_rewires_and_errors_keep_old);
    RUN(test_wifi_led_blinks_until_connected);
    return harness_report();
}
