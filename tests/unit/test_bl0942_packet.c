/* test_bl0942_packet.c — the BL0942 packet parser: good packets, a bad
 * checksum, packets cut short, bytes out of sync, and CF_CNT wrapping. */
#include "core/energy/bl0942_packet.h"
#include "harness.h"

static const struct bl0942_packet sample = {
    .i_rms = 65307, .v_rms = 3653168, .i_fast_rms = 65290, .watt = -37401, .cf_cnt = 0xFFFFF0, .freq = 20000,
    .status = 0x02};

static size_t feed(struct bl0942_parser *p, const uint8_t *bytes, size_t len, struct bl0942_packet *out)
{
    return bl0942_parser_feed(p, bytes, len, out, 4);
}

static void test_checksum_rule(void)
{
    /* ~(0x58 + 0x55 + 0 ... 0) = ~0xAD = 0x52 */
    uint8_t bytes[BL0942_PACKET_SIZE] = {BL0942_HEAD};
    CHECK_EQ(bl0942_checksum(bytes), 0x52);
    bytes[1] = 0x01;
    CHECK_EQ(bl0942_checksum(bytes), 0x51);
    bytes[21] = 0xFF; /* the sum is 8 bits: 0x58 + 0x55 + 1 + 0xFF = 0x1AD */
    CHECK_EQ(bl0942_checksum(bytes), 0x52);
}

static void test_good_packet_round_trip(void)
{
    uint8_t bytes[BL0942_PACKET_SIZE];
    bl0942_packet_encode(&sample, bytes);
    CHECK_EQ(bytes[0], 0x55);
    CHECK_EQ(bytes[10], 0xE7); /* -37401 = 0xFF6DE7, little-endian */
    CHECK_EQ(bytes[11], 0x6D);
    CHECK_EQ(bytes[12], 0xFF);
    CHECK_EQ(bytes[16], 0x20); /* 20000 = 0x4E20 */
    CHECK_EQ(bytes[17], 0x4E);
    struct bl0942_parser p;
    struct bl0942_packet out[4];
    bl0942_parser_reset(&p);
    CHECK_EQ(feed(&p, bytes, sizeof bytes, out), 1);
    CHECK_EQ(out[0].i_rms, sample.i_rms);
    CHECK_EQ(out[0].v_rms, sample.v_rms);
    CHECK_EQ(out[0].i_fast_rms, sample.i_fast_rms);
    CHECK_EQ(out[0].watt, -37401);
    CHECK_EQ(out[0].cf_cnt, 0xFFFFF0);
    CHECK_EQ(out[0].freq, 20000);
    CHECK_EQ(out[0].status, 0x02);
    CHECK_EQ(p.good, 1);
    CHECK_EQ(p.bad_checksum + p.truncated + p.junk_bytes, 0);
    /* byte by byte, the same */
    for (size_t i = 0; i < sizeof bytes; i++)
        CHECK_EQ(feed(&p, bytes + i, 1, out), i + 1 == sizeof bytes);
    CHECK_EQ(p.good, 2);
    /* the extremes of WATT */
    struct bl0942_packet edge = sample;
    edge.watt = -8388608;
    bl0942_packet_encode(&edge, bytes);
    CHECK_EQ(feed(&p, bytes, sizeof bytes, out), 1);
    CHECK_EQ(out[0].watt, -8388608);
    edge.watt = 8388607;
    bl0942_packet_encode(&edge, bytes);
    CHECK_EQ(feed(&p, bytes, sizeof bytes, out), 1);
    CHECK_EQ(out[0].watt, 8388607);
}

static void test_bad_checksum_is_dropped(void)
{
    uint8_t bytes[2 * BL0942_PACKET_SIZE];
    bl0942_packet_encode(&sample, bytes);
    bl0942_packet_encode(&sample, bytes + BL0942_PACKET_SIZE);
    bytes[5] ^= 0x10; /* V_RMS corrupted, checksum as it was */
    struct bl0942_parser p;
    struct bl0942_packet out[4] = {{0}};
    bl0942_parser_reset(&p);
    CHECK_EQ(feed(&p, bytes, BL0942_PACKET_SIZE, out), 0);
    CHECK_EQ(p.bad_checksum, 1);
    CHECK_EQ(p.good, 0);
    CHECK_EQ(out[0].v_rms, 0); /* nothing came out */
    /* the next packet is good again */
    CHECK_EQ(feed(&p, bytes + BL0942_PACKET_SIZE, BL0942_PACKET_SIZE, out), 1);
    CHECK_EQ(out[0].v_rms, sample.v_rms);
    /* a wrong checksum byte alone is enough */
    bl0942_packet_encode(&sample, bytes);
    bytes[22]++;
    CHECK_EQ(feed(&p, bytes, BL0942_PACKET_SIZE, out), 0);
    CHECK_EQ(p.bad_checksum, 2);
}

static void test_truncated_is_dropped(void)
{
    uint8_t bytes[BL0942_PACKET_SIZE];
    bl0942_packet_encode(&sample, bytes);
    struct bl0942_parser p;
    struct bl0942_packet out[4];
    bl0942_parser_reset(&p);
    CHECK_EQ(feed(&p, bytes, 12, out), 0);
    bl0942_parser_idle(&p); /* the line went quiet */
    CHECK_EQ(p.truncated, 1);
    CHECK_EQ(p.len, 0);
    bl0942_parser_idle(&p); /* quiet with nothing pending: nothing more */
    CHECK_EQ(p.truncated, 1);
    CHECK_EQ(feed(&p, bytes, sizeof bytes, out), 1);
    CHECK_EQ(p.good, 1);
    /* a cut packet followed at once by a whole one: the pair fails the
     * checksum, and the parser finds the second head inside it */
    uint8_t stream[12 + BL0942_PACKET_SIZE];
    memcpy(stream, bytes, 12);
    memcpy(stream + 12, bytes, BL0942_PACKET_SIZE);
    CHECK_EQ(feed(&p, stream, sizeof stream, out), 1);
    CHECK_EQ(out[0].v_rms, sample.v_rms);
    CHECK_EQ(p.bad_checksum, 1);
    CHECK_EQ(p.good, 2);
}

static void test_out_of_sync_resynchronises(void)
{
    uint8_t bytes[BL0942_PACKET_SIZE];
    bl0942_packet_encode(&sample, bytes);
    struct bl0942_parser p;
    struct bl0942_packet out[4];
    bl0942_parser_reset(&p);
    /* noise without a head is skipped and counted */
    static const uint8_t noise[] = {0x00, 0xFF, 0xA5, 0x13};
    CHECK_EQ(feed(&p, noise, sizeof noise, out), 0);
    CHECK_EQ(p.junk_bytes, 4);
    CHECK_EQ(feed(&p, bytes, sizeof bytes, out), 1);
    /* the tail of a packet heard from its middle: no reading from it */
    bl0942_parser_reset(&p);
    CHECK_EQ(feed(&p, bytes + 7, sizeof bytes - 7, out), 0);
    bl0942_parser_idle(&p);
    CHECK_EQ(p.good, 0);
    CHECK_EQ(p.junk_bytes + p.truncated + p.bad_checksum > 0, 1);
    /* a false head in the noise before a real packet costs no packet */
    bl0942_parser_reset(&p);
    uint8_t stream[3 + BL0942_PACKET_SIZE] = {0x55, 0x01, 0x02};
    memcpy(stream + 3, bytes, BL0942_PACKET_SIZE);
    CHECK_EQ(feed(&p, stream, sizeof stream, out), 1);
    CHECK_EQ(out[0].watt, sample.watt);
    CHECK_EQ(p.bad_checksum, 1); /* the false one */
    CHECK_EQ(p.junk_bytes, 2);   /* what lay between its head and the real one */
    CHECK_EQ(p.good, 1);
}

static void test_cf_cnt_wraps(void)
{
    struct bl0942_cf_counter c = {0};
    CHECK_EQ(bl0942_cf_update(&c, 0xFFFFF0, 100), 0); /* the first reading sets the base */
    CHECK_EQ(bl0942_cf_update(&c, 0xFFFFFE, 100), 14);
    CHECK_EQ(bl0942_cf_update(&c, 0x000003, 100), 5); /* across the wrap */
    CHECK_EQ(bl0942_cf_update(&c, 0x000003, 100), 0);
    CHECK_EQ(c.total, 19);
    CHECK_EQ(c.rebased, 0);
    /* a chip reset (back to 0) is not a wrap of 16 million counts */
    CHECK_EQ(bl0942_cf_update(&c, 0x000001, 100), 0);
    CHECK_EQ(c.rebased, 1);
    CHECK_EQ(bl0942_cf_update(&c, 0x000004, 100), 3);
    CHECK_EQ(c.total, 22);
    /* full scale is 20 counts a second */
    CHECK_EQ(bl0942_cf_max_step(0), 2);
    CHECK_EQ(bl0942_cf_max_step(1000), 22);
    CHECK_EQ(bl0942_cf_max_step(UINT64_MAX / 2), 0xFFFFFF);
}

int main(void)
{
    RUN(test_checksum_rule);
    RUN(test_good_packet_round_trip);
    RUN(test_bad_checksum_is_dropped);
    RUN(test_truncated_is_dropped);
    RUN(test_out_of_sync_resynchronises);
    RUN(test_cf_cnt_wraps);
    return harness_report();
}
