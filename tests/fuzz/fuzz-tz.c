/* fuzz-tz.c — TZif images (tables and POSIX footers) and the invariants
 * every zone that parses must keep: spans contain their instant and meet
 * their neighbours, offsets agree, and civil times resolve to instants
 * that read back as the same civil time. An input that is not a TZif
 * image is a POSIX TZ string (after one flag byte) wrapped into one.
 * Seeds: real tzdata files (fat, slim, v3 footers with negative and >24h
 * times) and TZ strings. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/tz.h"

#define require(cond)            \
        do {                     \
                if (!(cond))     \
                        abort(); \
        } while (0)

static void check_instant(const struct tz *z, int64_t t)
{
        struct tz_span s;
        tz_span_at(z, t, &s);
        require(s.start <= t);
        require(t < s.end || (t == INT64_MAX && s.end == INT64_MAX));
        require(s.start < s.end);
        require(tz_offset_at(z, t) == s.offset);
        /* Within a few days of the ends of int64 rule transitions saturate
         * and pile up; spans there contain their instant, nothing more. */
        const int64_t edge = INT64_C(1) << 62;
        if (t < -edge || t > edge) {
                struct tz_civil c;
                tz_to_civil(z, t, &c);
                require(c.month >= 1 && c.month <= 12 && c.day >= 1 && c.day <= 31);
                return;
        }
        if (s.end != INT64_MAX) {
                struct tz_span next;
                tz_span_at(z, s.end, &next);
                require(next.start == s.end);
                require(next.offset == s.next_offset);
                require(next.prev_offset == s.offset);
        } else
                require(s.next_offset == s.offset);
        if (s.start != INT64_MIN) {
                struct tz_span prev;
                tz_span_at(z, s.start - 1, &prev);
                require(prev.end == s.start);
                require(prev.offset == s.prev_offset);
        } else
                require(s.prev_offset == s.offset);

        struct tz_civil c;
        tz_to_civil(z, t, &c);
        require(c.offset == s.offset && c.is_dst == s.is_dst);
        require(c.month >= 1 && c.month <= 12 && c.day >= 1 && c.day <= tz_days_in_month(c.year, c.month));
        require(c.hour >= 0 && c.hour < 24 && c.minute >= 0 && c.minute < 60 && c.second >= 0 && c.second < 60);
        require(c.weekday >= 0 && c.weekday < 7);

        /* Far from the ends of int64, where nothing saturates. */
        if (t < -(INT64_C(1) << 50) || t > (INT64_C(1) << 50))
                return;
        int64_t first = 0, second = 0;
        int n = tz_from_civil(z, &c, &first, &second);
        require(n >= 0 && n <= 2);
        for (int i = 0; i < n; i++) {
                struct tz_civil back;
                tz_to_civil(z, i == 0 ? first : second, &back);
                require(back.year == c.year && back.month == c.month && back.day == c.day && back.hour == c.hour &&
                        back.minute == c.minute && back.second == c.second);
        }
        if (n == 2)
                require(first < second);
}

static void put32(uint8_t **p, uint32_t v)
{
        for (int k = 3; k >= 0; k--)
                *(*p)++ = (uint8_t)(v >> (8 * k));
}

/* A version 3 file around FOOTER: no transitions, or (ONE_TRANSITION) a
 * single one at 2000-01-01 to a type of +1h, so the table meets the rule. */
static size_t wrap_footer(const uint8_t *footer, size_t len, bool one_transition, uint8_t *out)
{
        uint8_t *p = out;
        for (int block = 0; block < 2; block++) {
                memcpy(p, "TZif3", 5);
                memset(p + 5, 0, 15);
                p += 20;
                uint32_t timecnt = block == 1 && one_transition;
                put32(&p, 0);
                put32(&p, 0);
                put32(&p, 0);
                put32(&p, timecnt);
                put32(&p, 2);
                put32(&p, 4);
                if (timecnt) {
                        put32(&p, 0);
                        put32(&p, 946684800);
                        *p++ = 1;
                }
                put32(&p, 0);
                *p++ = 0;
                *p++ = 0;
                put32(&p, 3600);
                *p++ = 0;
                *p++ = 0;
                memcpy(p, "ABC", 4);
                p += 4;
        }
        *p++ = '\n';
        memcpy(p, footer, len);
        p += len;
        *p++ = '\n';
        return (size_t)(p - out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct tz *z = NULL;
        /* Inputs that are no TZif image are POSIX TZ strings to wrap. */
        if (size >= 1 && size <= 256 && data[0] != 'T') {
                uint8_t file[512];
                size_t n = wrap_footer(data + 1, size - 1, data[0] & 1, file);
                if (tz_new_from_tzif("Fuzz/Rule", file, n, &z) < 0)
                        return 0;
        } else if (tz_new_from_tzif("Fuzz/Zone", data, size, &z) < 0)
                return 0;

        static const int64_t fixed[] = {
                INT64_MIN,  INT64_MIN + 1, -(INT64_C(1) << 59), -2208988800,   -1,       0, 1774746000, 2147483647,
                4102444800, 253402300799,  INT64_C(1) << 40,    INT64_MAX - 1, INT64_MAX
        };
        for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
                check_instant(z, fixed[i]);
        /* The input's own 8- and 4-byte big-endian words include its
         * transition times: probe on and around them. */
        size_t stride = size / 48 + 1;
        for (size_t i = 0; i + 8 <= size; i += stride) {
                uint64_t v = 0;
                for (int k = 0; k < 8; k++)
                        v = v << 8 | data[i + k];
                int64_t t = (int64_t)v;
                int32_t t32 = (int32_t)(uint32_t)(v >> 32);
                check_instant(z, t);
                if (t > INT64_MIN)
                        check_instant(z, t - 1);
                check_instant(z, t32);
                check_instant(z, (int64_t)t32 - 1);
        }
        tz_free(z);
        return 0;
}
