/*
 * test_log.c — the log's ring of recent lines (core/log.h): lines of any
 * length kept end to end, the oldest dropped to make room, sequence numbers
 * that never reuse a dropped line's text, lines read back whole across
 * the ring's wrap, and the kept lines as JSON in buffers of every size.
 */
#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "core/util/json.h"
#include "harness.h"

/* A kept line: "hh:mm:ss.mmm TST: <body>". */
static bool body_of(uint32_t seq, char *body, size_t size)
{
    char line[LOG_LINE_MAX];
    if (!log_get(seq, line, sizeof line))
        return false;
    const char *p = strstr(line, "TST: ");
    snprintf(body, size, "%s", p ? p + 5 : "");
    return true;
}

static void test_short_lines_are_kept_up_to_the_index(void)
{
    uint32_t first = log_next_seq();
    for (int i = 0; i < LOG_RING_INDEX + 5; i++)
        LOG_INF("TST", "short %d", i);
    uint32_t end = log_next_seq();
    CHECK_EQ(end - first, LOG_RING_INDEX + 5);
    CHECK_EQ(end - log_oldest_seq(), LOG_RING_INDEX); /* each of ~26 bytes: the index is the limit */
    char body[64];
    CHECK(!body_of(log_oldest_seq() - 1, body, sizeof body));
    CHECK(body_of(end - 1, body, sizeof body));
    CHECK_STR(body, "short 68");
    CHECK(body_of(log_oldest_seq(), body, sizeof body));
    CHECK_STR(body, "short 5");
    CHECK(!body_of(end, body, sizeof body)); /* not written yet */
}

static void test_long_lines_take_their_length(void)
{
    char long_text[201];
    memset(long_text, 'x', 200);
    long_text[200] = '\0';
    for (int i = 0; i < 40; i++)
        LOG_INF("TST", "%02d%s", i, long_text);
    uint32_t end = log_next_seq();
    uint32_t kept = end - log_oldest_seq();
    /* 220 bytes each: as many as fit the bytes, the newest ones, every one whole */
    CHECK_EQ(kept, LOG_RING_BYTES / 220);
    char body[LOG_LINE_MAX];
    for (uint32_t seq = log_oldest_seq(); seq < end; seq++) {
        CHECK(body_of(seq, body, sizeof body));
        CHECK_EQ(strlen(body), 202);
        CHECK_EQ((body[0] - '0') * 10 + (body[1] - '0'), (int)(40 - (end - seq)));
        CHECK_EQ(strspn(body + 2, "x"), 200);
    }
}

static void test_a_short_buffer_gets_the_start(void)
{
    LOG_INF("TST", "abcdef");
    char out[8];
    CHECK(log_get(log_next_seq() - 1, out, sizeof out));
    CHECK_EQ(strlen(out), 7);
    CHECK(!log_get(log_next_seq() - 1, out, 0));
}

/* /api/logs sends the lines in chunks of what room there is: cut at every
 * size, they are the same text as in one piece, no line lost or cut, and
 * nothing written past the room (found by fuzz_http_server: a buffer filled
 * to its last byte lost the next line, then wrote past its end). */
static void test_lines_as_json_in_every_room(void)
{
    for (int i = 0; i < 40; i++) /* plain, quoted and control bytes: 1 to 6 bytes each as JSON */
        LOG_INF("TST", "%.*s\"%.*s", i * 7 % 23, "abcdefghijklmnopqrstuvw", i % 5, "\x01\x02\x03\x04");
    uint32_t first = log_oldest_seq(), end = log_next_seq();

    static char whole[LOG_RING_BYTES * 6];
    struct json_writer w;
    jw_init(&w, whole, sizeof whole);
    jw_array_begin(&w, NULL);
    char line[LOG_LINE_MAX];
    for (uint32_t seq = first; seq < end; seq++)
        if (log_get(seq, line, sizeof line))
            jw_string(&w, NULL, line);
    jw_array_end(&w);
    CHECK(!w.overflow);
    size_t whole_len = w.len - 2; /* without the brackets */

    static char joined[sizeof whole];
    for (size_t cap = 1; cap <= 300; cap++) {
        uint32_t seq = first;
        bool any = false;
        size_t len = 0;
        while (seq < end) {
            char room[300 + 8];
            memset(room, '#', sizeof room);
            size_t n = log_json_lines(&seq, end, &any, room, cap);
            CHECK(n < cap);
            size_t past = 0; /* bytes written past the room */
            for (size_t k = cap; k < sizeof room; k++)
                past += room[k] != '#';
            CHECK_EQ(past, 0);
            if (n == 0)
                break; /* the next line needs more room than cap */
            memcpy(joined + len, room, n);
            len += n;
        }
        if (seq < end) { /* only a line that cannot fit in cap stops it */
            char one[LOG_JSON_LINE_MAX];
            CHECK(log_get(seq, line, sizeof line));
            jw_init(&w, one, sizeof one);
            jw_string(&w, NULL, line);
            CHECK(any + w.len + 1 > cap);
            continue;
        }
        CHECK_EQ(len, whole_len);
        CHECK(memcmp(joined, whole + 1, whole_len) == 0);
    }
}

int main(void)
{
    RUN(test_short_lines_are_kept_up_to_the_index);
    RUN(test_long_lines_take_their_length);
    RUN(test_a_short_buffer_gets_the_start);
    RUN(test_lines_as_json_in_every_room);
    return harness_report();
}
