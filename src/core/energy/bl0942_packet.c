/*
 * bl0942_packet.c — the BL0942's packet format, parser and CF_CNT counter;
 * see bl0942_packet.h.  No I/O, no time, no floating point: the driver
 * (bl0942.c) and the simulated chip share it, and the fuzz target runs it
 * alone.
 */
#include "core/energy/bl0942_packet.h"

#include <string.h>

uint8_t bl0942_checksum(const uint8_t bytes[BL0942_PACKET_SIZE - 1])
{
    uint8_t sum = BL0942_CMD_READ;
    for (unsigned i = 0; i < BL0942_PACKET_SIZE - 1; i++)
        sum = (uint8_t)(sum + bytes[i]);
    return (uint8_t)~sum;
}

static uint32_t get24(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16; }

static void put24(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
}

void bl0942_packet_encode(const struct bl0942_packet *packet, uint8_t out[BL0942_PACKET_SIZE])
{
    memset(out, 0, BL0942_PACKET_SIZE);
    out[0] = BL0942_HEAD;
    put24(out + 1, packet->i_rms);
    put24(out + 4, packet->v_rms);
    put24(out + 7, packet->i_fast_rms);
    put24(out + 10, (uint32_t)packet->watt & 0xFFFFFFu);
    put24(out + 13, packet->cf_cnt);
    out[16] = (uint8_t)packet->freq;
    out[17] = (uint8_t)(packet->freq >> 8);
    out[19] = packet->status;
    out[22] = bl0942_checksum(out);
}

static void decode(const uint8_t *b, struct bl0942_packet *out)
{
    uint32_t watt = get24(b + 10);
    *out = (struct bl0942_packet){
        .i_rms = get24(b + 1),
        .v_rms = get24(b + 4),
        .i_fast_rms = get24(b + 7),
        /* sign-extend bit 23 without shifting a negative value */
        .watt = (watt & 0x800000u) ? (int32_t)watt - (int32_t)BL0942_CF_CNT_MODULO : (int32_t)watt,
        .cf_cnt = get24(b + 13),
        .freq = (uint16_t)(b[16] | b[17] << 8),
        .status = b[19],
    };
}

void bl0942_parser_reset(struct bl0942_parser *parser) { memset(parser, 0, sizeof *parser); }

/* After a bad packet: keep what follows its first byte from the next head
 * on (a real packet may have started inside it). */
static void resync(struct bl0942_parser *parser)
{
    const uint8_t *head = memchr(parser->buf + 1, BL0942_HEAD, parser->len - 1u);
    uint8_t keep = head ? (uint8_t)(parser->buf + parser->len - head) : 0;
    parser->junk_bytes += (uint32_t)(parser->len - 1u - keep); /* the bad head itself is in bad_checksum */
    if (keep)
        memmove(parser->buf, head, keep);
    parser->len = keep;
}

/* A whole packet is in buf: accept it or drop it.  Returns true if good. */
static bool complete(struct bl0942_parser *parser, struct bl0942_packet *out)
{
    if (bl0942_checksum(parser->buf) != parser->buf[BL0942_PACKET_SIZE - 1]) {
        parser->bad_checksum++;
        resync(parser);
        return false;
    }
    decode(parser->buf, out);
    parser->good++;
    parser->len = 0;
    return true;
}

size_t bl0942_parser_feed(struct bl0942_parser *parser, const uint8_t *bytes, size_t len, struct bl0942_packet *out,
                          size_t max)
{
    size_t stored = 0;
    for (size_t i = 0; i < len; i++) {
        if (parser->len == 0 && bytes[i] != BL0942_HEAD) {
            parser->junk_bytes++;
            continue;
        }
        parser->buf[parser->len++] = bytes[i];
        /* A resync may leave a tail that already lacks only some bytes;
         * it never leaves a whole packet (it drops at least one byte). */
        if (parser->len == BL0942_PACKET_SIZE) {
            struct bl0942_packet packet;
            if (complete(parser, &packet) && stored < max)
                out[stored++] = packet;
        }
    }
    return stored;
}

void bl0942_parser_idle(struct bl0942_parser *parser)
{
    if (parser->len) {
        parser->truncated++;
        parser->len = 0;
    }
}

uint32_t bl0942_cf_max_step(uint64_t ms)
{
    uint64_t step = ms / 50u + 2u; /* 20 counts a second at full scale */
    return step < BL0942_CF_CNT_MODULO - 1u ? (uint32_t)step : BL0942_CF_CNT_MODULO - 1u;
}

uint32_t bl0942_cf_update(struct bl0942_cf_counter *counter, uint32_t cf_cnt, uint32_t max_step)
{
    cf_cnt &= BL0942_CF_CNT_MODULO - 1u;
    uint32_t step = counter->have_last ? (cf_cnt - counter->last) & (BL0942_CF_CNT_MODULO - 1u) : 0;
    counter->have_last = true;
    counter->last = cf_cnt;
    if (step > max_step) {
        counter->rebased++;
        return 0;
    }
    counter->total += step;
    return step;
}
