/*
 * bl0942_packet.h — the BL0942's serial protocol, with no I/O: the read
 * command, the 23-byte answer to "read all" and its checksum, a byte-wise
 * parser that finds packets in a stream and drops bad ones with a counter,
 * and the 24-bit CF_CNT turned into a count that does not wrap.
 *
 * The answer to 0x58 0xAA (read, all registers), little-endian fields:
 *   0      head 0x55
 *   1..3   I_RMS        unsigned 24
 *   4..6   V_RMS        unsigned 24
 *   7..9   I_FAST_RMS   unsigned 24
 *   10..12 WATT         signed 24 (two's complement; below 0 = exported)
 *   13..15 CF_CNT       unsigned 24, wraps
 *   16..17 FREQ         unsigned 16: the mains period in us (20000 at 50 Hz)
 *   18     reserved
 *   19     STATUS
 *   20..21 reserved
 *   22     checksum: ~(0x58 + the sum of bytes 0..21), 8 bits
 * The 0x58 in the sum is the read command with the chip's address (0).
 *
 * The parser never turns a bad packet into a reading: a wrong checksum or a
 * packet cut short is counted and dropped, and bytes outside a packet are
 * skipped (and counted) until the next head byte.  After a bad checksum it
 * looks for a head inside the dropped bytes, so junk that happened to start
 * with 0x55 costs no good packet behind it.
 */
#ifndef OPENPLUG_BL0942_PACKET_H
#define OPENPLUG_BL0942_PACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BL0942_CMD_READ 0x58u     /* read, chip address 0 */
#define BL0942_REG_ALL 0xAAu      /* "all registers": the 23-byte packet */
#define BL0942_HEAD 0x55u
#define BL0942_PACKET_SIZE 23u
#define BL0942_CF_CNT_MODULO 0x1000000u /* CF_CNT is 24 bits wide */

/* The registers of one good packet. */
struct bl0942_packet {
    uint32_t i_rms, v_rms, i_fast_rms;
    int32_t watt;
    uint32_t cf_cnt;
    uint16_t freq;
    uint8_t status;
};

struct bl0942_parser {
    uint8_t buf[BL0942_PACKET_SIZE];
    uint8_t len; /* bytes of the packet under way (0 = looking for a head) */
    uint32_t good;         /* packets accepted */
    uint32_t bad_checksum; /* packets dropped for their checksum */
    uint32_t truncated;    /* packets cut short (bl0942_parser_idle() with bytes pending) */
    uint32_t junk_bytes;   /* bytes skipped while out of sync */
};

/* The checksum byte of a packet's first 22 bytes. */
uint8_t bl0942_checksum(const uint8_t bytes[BL0942_PACKET_SIZE - 1]);

/* A packet's 23 bytes for these registers (the simulated chip's answer,
 * tests, fuzz seeds). */
void bl0942_packet_encode(const struct bl0942_packet *packet, uint8_t out[BL0942_PACKET_SIZE]);

void bl0942_parser_reset(struct bl0942_parser *parser);

/* Feed received bytes.  Each good packet is decoded into out[] up to max
 * of them (more in one call are counted good but not returned); returns
 * how many were stored. */
size_t bl0942_parser_feed(struct bl0942_parser *parser, const uint8_t *bytes, size_t len, struct bl0942_packet *out,
                          size_t max);

/* The line went quiet (the time for a whole answer passed): a packet still
 * under way was cut short; it is dropped and counted. */
void bl0942_parser_idle(struct bl0942_parser *parser);

/* CF_CNT as a count that does not wrap: each reading adds what the 24-bit
 * register moved since the last one (modulo 2^24).  The first reading only
 * sets the base.  A step above max_step (more than the chip can count in
 * the time since the last reading: it was reset, or the packet lies) adds
 * nothing, re-bases and is counted in rebased.  Returns the counts added. */
struct bl0942_cf_counter {
    bool have_last;
    uint32_t last;
    uint64_t total;
    uint32_t rebased;
};
uint32_t bl0942_cf_update(struct bl0942_cf_counter *counter, uint32_t cf_cnt, uint32_t max_step);

/* The most CF_CNT can advance in ms milliseconds: at full scale (WATT
 * 2^23 - 1) it counts 20 a second; one count of margin. */
uint32_t bl0942_cf_max_step(uint64_t ms);

#endif
