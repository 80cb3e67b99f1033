/*
 * fuzz_bl0942.c — the BL0942 packet parser and CF_CNT counter
 * (src/core/energy/bl0942_packet.h) on any byte stream.
 *
 * The input: a chunk size, a mask of where the line goes quiet between
 * chunks, then the bytes the plug hears.  Properties:
 *   - every packet the parser returns is a 23-byte window of the stream,
 *     in order and not overlapping, with the head, a right checksum and the
 *     same registers: no reading comes from bytes that are not a packet;
 *   - a re-encoded packet parses again to the same registers;
 *   - the parser never holds a whole packet, and its counters only grow;
 *   - the CF_CNT count grows by at most max_step per reading and adds up.
 */
#include "core/energy/bl0942_packet.h"
#include "fuzz_input.h"

static bool same(const struct bl0942_packet *a, const struct bl0942_packet *b)
{
    return a->i_rms == b->i_rms && a->v_rms == b->v_rms && a->i_fast_rms == b->i_fast_rms && a->watt == b->watt &&
           a->cf_cnt == b->cf_cnt && a->freq == b->freq && a->status == b->status;
}

/* The window at data[at] as a packet, if it is a good one. */
static bool window(const uint8_t *data, size_t at, struct bl0942_packet *out)
{
    if (data[at] != BL0942_HEAD || bl0942_checksum(data + at) != data[at + BL0942_PACKET_SIZE - 1])
        return false;
    struct bl0942_parser p;
    bl0942_parser_reset(&p);
    return bl0942_parser_feed(&p, data + at, BL0942_PACKET_SIZE, out, 1) == 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    size_t chunk = (size_t)data[0] % 40 + 1;
    uint8_t quiet = data[1];
    const uint8_t *stream = data + 2;
    size_t len = size - 2, matched_end = 0, fed = 0;
    struct bl0942_parser p;
    bl0942_parser_reset(&p);
    struct bl0942_cf_counter cf = {0};
    uint64_t cf_sum = 0;
    for (unsigned k = 0; fed < len; k++) {
        size_t n = len - fed < chunk ? len - fed : chunk;
        struct bl0942_parser before = p;
        struct bl0942_packet out[4];
        size_t got = bl0942_parser_feed(&p, stream + fed, n, out, 4);
        fed += n;
        FUZZ_CHECK(p.len < BL0942_PACKET_SIZE);
        FUZZ_CHECK(p.good >= before.good && p.bad_checksum >= before.bad_checksum &&
                   p.junk_bytes >= before.junk_bytes && p.truncated >= before.truncated);
        FUZZ_CHECK(got <= p.good - before.good);
        for (size_t i = 0; i < got; i++) {
            /* the first good window from the end of the last match on */
            bool found = false;
            for (size_t at = matched_end; at + BL0942_PACKET_SIZE <= fed && !found; at++) {
                struct bl0942_packet w;
                if (window(stream, at, &w) && same(&w, &out[i])) {
                    found = true;
                    matched_end = at + BL0942_PACKET_SIZE;
                }
            }
            FUZZ_CHECK(found);
            FUZZ_CHECK(out[i].watt >= -0x800000 && out[i].watt <= 0x7FFFFF);
            uint8_t again[BL0942_PACKET_SIZE];
            struct bl0942_packet back;
            bl0942_packet_encode(&out[i], again);
            FUZZ_CHECK(window(again, 0, &back) && same(&back, &out[i]));
            uint32_t max_step = (uint32_t)(out[i].status) * 3u; /* any bound: 0 .. 765 */
            uint32_t before_rebased = cf.rebased;
            uint32_t step = bl0942_cf_update(&cf, out[i].cf_cnt, max_step);
            FUZZ_CHECK(step <= max_step);
            FUZZ_CHECK(step == 0 || cf.rebased == before_rebased);
            cf_sum += step;
        }
        if (quiet & (1u << (k % 8)))
            bl0942_parser_idle(&p);
    }
    FUZZ_CHECK(cf.total == cf_sum);
    return 0;
}
