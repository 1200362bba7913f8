/* limits.c — resource limit values and cgroup names; see limits.h. */
#include "core/limits.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LIMIT_MAX (UINT64_C(1) << 62)

/* A whole decimal number without sign or spaces, ≤ LIMIT_MAX. */
static int parse_count(const char *text, uint64_t *out)
{
        if (!isdigit((unsigned char)text[0]))
                return -EINVAL;
        char *end;
        errno = 0;
        unsigned long long n = strtoull(text, &end, 10);
        if (*end)
                return -EINVAL;
        if (errno || n > LIMIT_MAX)
                return -ERANGE;
        *out = n;
        return 0;
}

int limits_parse_bytes(const char *text, uint64_t *out)
{
        if (strcmp(text, "infinity") == 0) {
                *out = LIMIT_INFINITY;
                return 0;
        }
        if (!isdigit((unsigned char)text[0]))
                return -EINVAL;
        char *end;
        errno = 0;
        double n = strtod(text, &end);
        if (errno)
                return -ERANGE;
        static const char suffixes[] = "KMGT";
        double factor = 1;
        if (*end) {
                const char *s = strchr(suffixes, *end);
                if (!s || end[1])
                        return -EINVAL;
                for (const char *p = suffixes; p <= s; p++)
                        factor *= 1024;
        } else if (strchr(text, '.'))
                return -EINVAL; /* a fraction of a byte */
        double bytes = n * factor;
        if (bytes < 1 || bytes > (double)LIMIT_MAX)
                return -ERANGE;
        *out = (uint64_t)bytes;
        return 0;
}

int limits_parse_cpu_quota(const char *text, uint32_t *out)
{
        size_t len = strlen(text);
        if (len < 2 || text[len - 1] != '%' || len > 16)
                return -EINVAL;
        char number[16];
        memcpy(number, text, len - 1);
        number[len - 1] = '\0';
        uint64_t n;
        int r = parse_count(number, &n);
        if (r < 0)
                return r;
        if (n < 1 || n > 100000)
                return -ERANGE;
        *out = (uint32_t)n;
        return 0;
}

int limits_parse_tasks(const char *text, uint64_t *out)
{
        if (strcmp(text, "infinity") == 0) {
                *out = LIMIT_INFINITY;
                return 0;
        }
        uint64_t n;
        int r = parse_count(text, &n);
        if (r < 0)
                return r;
        if (n < 1)
                return -ERANGE;
        *out = n;
        return 0;
}

int limits_parse_io_weight(const char *text, uint32_t *out)
{
        uint64_t n;
        int r = parse_count(text, &n);
        if (r < 0)
                return r;
        if (n < 1 || n > 10000)
                return -ERANGE;
        *out = (uint32_t)n;
        return 0;
}

bool limits_any(const struct job_limits *l) { return l->memory_max || l->cpu_quota || l->tasks_max || l->io_weight; }

static void format_max(char *buf, size_t size, uint64_t v)
{
        if (v == LIMIT_INFINITY)
                snprintf(buf, size, "max");
        else
                snprintf(buf, size, "%" PRIu64, v);
}

size_t limits_attributes(const struct job_limits *l, struct limit_attribute out[static 4])
{
        size_t n = 0;
        if (l->memory_max) {
                out[n] = (struct limit_attribute){ .file = "memory.max", .controller = "memory" };
                format_max(out[n++].value, sizeof(out[0].value), l->memory_max);
        }
        if (l->cpu_quota) {
                /* systemd's period: 100 ms; the quota is that share of it. */
                out[n] = (struct limit_attribute){ .file = "cpu.max", .controller = "cpu" };
                snprintf(out[n++].value, sizeof(out[0].value), "%" PRIu32 "000 100000", l->cpu_quota);
        }
        if (l->tasks_max) {
                out[n] = (struct limit_attribute){ .file = "pids.max", .controller = "pids" };
                format_max(out[n++].value, sizeof(out[0].value), l->tasks_max);
        }
        if (l->io_weight) {
                out[n] = (struct limit_attribute){ .file = "io.weight", .controller = "io" };
                snprintf(out[n++].value, sizeof(out[0].value), "default %" PRIu32, l->io_weight);
        }
        return n;
}

int limits_cgroup_name(const char *job, const char *run_id, char *buf, size_t size)
{
        if (size > NAME_MAX + 1)
                size = NAME_MAX + 1;
        size_t n = 0;
        int w = snprintf(buf, size, "run-");
        n = (size_t)w;
        for (const unsigned char *c = (const unsigned char *)job; *c; c++) {
                bool plain = isalnum(*c) || strchr("-_.@:", *c);
                if (n + (plain ? 1 : 4) >= size)
                        return -ENAMETOOLONG;
                if (plain)
                        buf[n++] = (char)*c;
                else
                        n += (size_t)snprintf(buf + n, size - n, "\\x%02x", *c);
        }
        w = snprintf(buf + n, size - n, "-%s", run_id);
        if (w < 0 || (size_t)w >= size - n)
                return -ENAMETOOLONG;
        return 0;
}
