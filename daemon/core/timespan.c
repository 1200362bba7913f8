/* timespan.c — systemd time-span syntax; see timespan.h. */
#include "core/timespan.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

struct span_unit {
        const char *name;
        uint64_t usec;
};

/* Longest names first, so "min" is not read as "m" followed by "in". */
static const struct span_unit units[] = {
        { "seconds", USEC_PER_SEC },
        { "second", USEC_PER_SEC },
        { "minutes", 60 * USEC_PER_SEC },
        { "minute", 60 * USEC_PER_SEC },
        { "months", 2629800 * USEC_PER_SEC },
        { "month", 2629800 * USEC_PER_SEC },
        { "hours", 3600 * USEC_PER_SEC },
        { "weeks", 604800 * USEC_PER_SEC },
        { "years", 31557600 * USEC_PER_SEC },
        { "msec", USEC_PER_MSEC },
        { "usec", 1 },
        { "hour", 3600 * USEC_PER_SEC },
        { "days", 86400 * USEC_PER_SEC },
        { "week", 604800 * USEC_PER_SEC },
        { "year", 31557600 * USEC_PER_SEC },
        { "sec", USEC_PER_SEC },
        { "min", 60 * USEC_PER_SEC },
        { "day", 86400 * USEC_PER_SEC },
        { "ms", USEC_PER_MSEC },
        { "us", 1 },
        { "hr", 3600 * USEC_PER_SEC },
        { "s", USEC_PER_SEC },
        { "m", 60 * USEC_PER_SEC },
        { "h", 3600 * USEC_PER_SEC },
        { "d", 86400 * USEC_PER_SEC },
        { "w", 604800 * USEC_PER_SEC },
        { "M", 2629800 * USEC_PER_SEC },
        { "y", 31557600 * USEC_PER_SEC },
};

static const struct span_unit *unit_at(const char *p, size_t *len)
{
        for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
                size_t n = strlen(units[i].name);
                if (strncmp(p, units[i].name, n) == 0 && !isalpha((unsigned char)p[n])) {
                        *len = n;
                        return &units[i];
                }
        }
        return NULL;
}

int timespan_parse(const char *text, uint64_t *out_usec)
{
        const char *p = text;
        uint64_t total = 0;
        bool any = false;

        for (;;) {
                while (isspace((unsigned char)*p))
                        p++;
                if (!*p)
                        break;
                if (!isdigit((unsigned char)*p))
                        return -EINVAL;
                uint64_t whole = 0;
                while (isdigit((unsigned char)*p)) {
                        if (whole > (UINT64_MAX - 9) / 10)
                                return -ERANGE;
                        whole = whole * 10 + (uint64_t)(*p++ - '0');
                }
                /* A fraction ("1.5h") is allowed, as systemd does. */
                uint64_t frac = 0, frac_div = 1;
                if (*p == '.') {
                        p++;
                        if (!isdigit((unsigned char)*p))
                                return -EINVAL;
                        while (isdigit((unsigned char)*p)) {
                                if (frac_div < UINT64_C(1000000000)) {
                                        frac = frac * 10 + (uint64_t)(*p - '0');
                                        frac_div *= 10;
                                }
                                p++;
                        }
                }
                while (isspace((unsigned char)*p))
                        p++;
                uint64_t multiplier = USEC_PER_SEC;
                size_t len = 0;
                if (isalpha((unsigned char)*p)) {
                        const struct span_unit *u = unit_at(p, &len);
                        if (!u)
                                return -EINVAL;
                        multiplier = u->usec;
                        p += len;
                }
                if (whole > UINT64_MAX / multiplier)
                        return -ERANGE;
                uint64_t part = whole * multiplier + frac * multiplier / frac_div;
                if (total > UINT64_MAX - part)
                        return -ERANGE;
                total += part;
                any = true;
        }
        if (!any)
                return -EINVAL;
        if (total > TIMESPAN_MAX_USEC)
                return -ERANGE;
        *out_usec = total;
        return 0;
}

char *timespan_format(uint64_t usec, char *buf, size_t size)
{
        static const struct span_unit shown[] = {
                { "d", 86400 * USEC_PER_SEC }, { "h", 3600 * USEC_PER_SEC }, { "min", 60 * USEC_PER_SEC },
                { "s", USEC_PER_SEC },         { "ms", USEC_PER_MSEC },      { "us", 1 },
        };
        size_t used = 0;

        if (size == 0)
                return buf;
        buf[0] = '\0';
        if (usec == 0) {
                snprintf(buf, size, "0");
                return buf;
        }
        for (size_t i = 0; i < sizeof(shown) / sizeof(shown[0]) && usec > 0; i++) {
                uint64_t n = usec / shown[i].usec;
                if (n == 0)
                        continue;
                usec -= n * shown[i].usec;
                int w = snprintf(buf + used, size - used, "%s%llu%s", used ? " " : "", (unsigned long long)n,
                                 shown[i].name);
                if (w < 0 || (size_t)w >= size - used)
                        break;
                used += (size_t)w;
        }
        return buf;
}
