/* next.c — tickctl next: print the next fire times of a schedule.
 *
 *   tickctl next [--tz ZONE] [--after TIME] [--count N] EXPRESSION...
 *
 * Works offline: parses the expression, resolves the zone and prints ISO
 * 8601 instants with their numeric offset, one per line. */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/cleanup.h"
#include "tickctl/commands.h"
#include "tickctl/common.h"
#include "core/schedule.h"
#include "core/tz.h"

#define MAX_COUNT 100000

static void cleanup_tz_cache(struct tz_cache **c)
{
        if (*c)
                tz_cache_free(*c);
}
static void cleanup_schedule(struct schedule **s)
{
        if (*s)
                schedule_free(*s);
}

__attribute__((format(printf, 1, 2))) static int usage_error(const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        fputs("tickctl next: ", stderr);
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
        va_end(ap);
        return 2;
}

/* Reads exactly N digits. */
static bool digits(const char **s, int n, int *out)
{
        int v = 0;
        for (int i = 0; i < n; i++) {
                if (!isdigit((unsigned char)(*s)[i]))
                        return false;
                v = v * 10 + ((*s)[i] - '0');
        }
        *s += n;
        *out = v;
        return true;
}

/* "@EPOCH", "YYYY-MM-DD[T ]HH:MM[:SS]" with an optional "Z" or "+HH:MM",
 * "-HH:MM", "+HHMM". Without an offset the time is local in ZONE: a time in
 * a DST overlap is its first occurrence, a time in a gap is the instant
 * just before the gap ends. */
static int parse_time(const char *text, const struct tz *zone, int64_t *out)
{
        if (text[0] == '@') {
                char *end;
                errno = 0;
                long long v = strtoll(text + 1, &end, 10);
                if (errno || end == text + 1 || *end)
                        return -EINVAL;
                *out = v;
                return 0;
        }
        struct tz_civil c = { 0 };
        const char *s = text;
        int year, month, day, hour, minute, second = 0;
        if (!digits(&s, 4, &year) || *s++ != '-' || !digits(&s, 2, &month) || *s++ != '-' || !digits(&s, 2, &day) ||
            (*s != 'T' && *s != ' ') || !++s || !digits(&s, 2, &hour) || *s++ != ':' || !digits(&s, 2, &minute))
                return -EINVAL;
        if (*s == ':' && (++s, !digits(&s, 2, &second)))
                return -EINVAL;
        if (month < 1 || month > 12 || day < 1 || day > tz_days_in_month(year, month) || hour > 23 || minute > 59 ||
            second > 59)
                return -EINVAL;
        c = (struct tz_civil){
                .year = year, .month = month, .day = day, .hour = hour, .minute = minute, .second = second
        };
        int64_t local = tz_days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second;
        if (*s == '\0') {
                int64_t first;
                /* In a gap, the last instant before the gap ends: a job the
                 * gap moves to its end is still "after" this local time. */
                if (tz_from_civil(zone, &c, &first, NULL) == 0)
                        first--;
                *out = first;
                return 0;
        }
        if ((s[0] == 'Z' || s[0] == 'z') && s[1] == '\0') {
                *out = local;
                return 0;
        }
        int sign = *s == '+' ? 1 : *s == '-' ? -1 : 0, oh, om = 0;
        if (!sign)
                return -EINVAL;
        s++;
        if (!digits(&s, 2, &oh))
                return -EINVAL;
        if (*s == ':')
                s++;
        if (*s && !digits(&s, 2, &om))
                return -EINVAL;
        if (*s || oh > 23 || om > 59)
                return -EINVAL;
        *out = local - sign * (oh * 3600 + om * 60);
        return 0;
}

static void print_instant(const struct tz *zone, int64_t t)
{
        struct tz_civil c;
        tz_to_civil(zone, t, &c);
        int32_t off = c.offset < 0 ? -c.offset : c.offset;
        printf("%04" PRId64 "-%02d-%02dT%02d:%02d:%02d%c%02d:%02d", c.year, c.month, c.day, c.hour, c.minute, c.second,
               c.offset < 0 ? '-' : '+', off / 3600, off / 60 % 60);
        if (off % 60)
                printf(":%02d", off % 60);
        putchar('\n');
}

/* --tz, else $TZ (an IANA name, a leading ':' allowed, or a path to it under
 * /usr/share/zoneinfo), else the system zone. */
static int resolve_zone(struct tz_cache *cache, const char *name, const struct tz **zone)
{
        const char *what = "--tz";
        if (!name) {
                name = getenv("TZ");
                what = "TZ";
                if (name && name[0] == ':')
                        name++;
                /* TZ=:/etc/localtime is a common way of saying "the system zone" */
                if (name && strncmp(name, "/usr/share/zoneinfo/", 20) == 0)
                        name += 20;
                if (!name || !name[0] || strcmp(name, "/etc/localtime") == 0)
                        return tz_cache_get_system(cache, zone) < 0
                                       ? usage_error("%s", "cannot load the system time zone")
                                       : 0;
        }
        int r = tz_cache_get(cache, name, zone);
        if (r == -ENOENT)
                return fprintf(stderr, "tickctl next: %s: unknown time zone '%s'\n", what, name), 2;
        if (r < 0)
                return fprintf(stderr, "tickctl next: %s: '%s' is not a valid time zone\n", what, name), 2;
        return 0;
}

struct next_args {
        const char *zone_name;  /* --tz; NULL: $TZ or the system zone */
        const char *after_text; /* --after; NULL: now */
        long count;
};

/* The options into *ARGS, leaving optind at EXPRESSION. Returns -1 to go
 * on, else the command's exit status (--help, a usage error). */
static int next_parse_options(int argc, char **argv, struct next_args *args)
{
        static const struct option options[] = {
                { "tz", required_argument, NULL, 'z' },
                { "after", required_argument, NULL, 'a' },
                { "count", required_argument, NULL, 'n' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        *args = (struct next_args){ .count = 1 };
        int c;

        optind = 0;
        opterr = 0;
        /* The leading ':' tells a missing value from an unknown option;
         * "--" ends the options (getopt), so an expression may start with '-'. */
        while ((c = getopt_long(argc, argv, ":hn:", options, NULL)) >= 0) {
                switch (c) {
                case 'z': args->zone_name = optarg; break;
                case 'a': args->after_text = optarg; break;
                case 'n': {
                        char *end;
                        errno = 0;
                        args->count = strtol(optarg, &end, 10);
                        if (errno || end == optarg || *end || args->count < 1 || args->count > MAX_COUNT) {
                                fprintf(stderr, "tickctl next: --count: '%s' is not a number from 1 to %d\n", optarg,
                                        MAX_COUNT);
                                return 2;
                        }
                        break;
                }
                case 'h': printf("Usage: tickctl next [--tz ZONE] [--after TIME] [--count N] EXPRESSION\n"); return 0;
                case ':': return usage_error("option '%s' needs a value (see tickctl(1))", argv[optind - 1]);
                default: {
                        char buf[8];
                        return usage_error("unknown option '%s'; to pass an expression that starts with '-', "
                                           "put -- before it",
                                           ctl_refused_option(argv, buf, sizeof(buf)));
                }
                }
        }
        if (optind >= argc)
                return usage_error("%s", "missing EXPRESSION (see tickctl(1))");
        return -1;
}

/* The expression may come as one quoted word or as several: N_WORDS
 * WORDS joined by spaces, or NULL when out of memory. */
static char *join_words(char **words, int n_words)
{
        size_t len = 1; /* the NUL; each word adds its length and a space */
        for (int i = 0; i < n_words; i++)
                len += strlen(words[i]) + 1;
        char *text = malloc(len);
        if (!text)
                return NULL;
        text[0] = '\0';
        for (int i = 0; i < n_words; i++) {
                if (i > 0)
                        strcat(text, " ");
                strcat(text, words[i]);
        }
        return text;
}

/* COUNT fire times of S after AFTER, in ZONE; fewer when S ends (but at
 * least one). TEXT is S as written, for the error. */
static int print_fire_times(const struct schedule *s, const struct tz *zone, int64_t after, long count,
                            const char *text)
{
        for (long i = 0; i < count; i++) {
                int64_t at;
                if (schedule_next(s, zone, after, &at) < 0) {
                        if (i > 0)
                                break;
                        fprintf(stderr, "tickctl next: '%s' never fires after the given time\n", text);
                        return 1;
                }
                print_instant(zone, at);
                after = at;
        }
        return fflush(stdout) == 0 ? 0 : 2;
}

int ctl_next(int argc, char **argv)
{
        struct next_args args;
        int r = next_parse_options(argc, argv, &args);
        if (r >= 0)
                return r;
        _cleanup_free_ char *text = join_words(argv + optind, argc - optind);
        if (!text)
                return usage_error("%s", "out of memory");

        __attribute__((cleanup(cleanup_tz_cache))) struct tz_cache *cache = tz_cache_new(NULL);
        if (!cache)
                return usage_error("%s", "out of memory");
        const struct tz *zone = NULL;
        r = resolve_zone(cache, args.zone_name, &zone);
        if (r)
                return r;

        char err[256];
        __attribute__((cleanup(cleanup_schedule))) struct schedule *s = NULL;
        r = schedule_parse(text, cache, &s, err, sizeof(err));
        if (r < 0) {
                fprintf(stderr, "tickctl next: %s\n", err);
                return 1;
        }
        if (schedule_kind(s) == SCHEDULE_REBOOT) {
                fprintf(stderr, "tickctl next: @reboot fires only when tickd starts\n");
                return 1;
        }
        if (schedule_zone(s))
                zone = schedule_zone(s);

        int64_t after = (int64_t)time(NULL);
        if (args.after_text && parse_time(args.after_text, zone, &after) < 0)
                return usage_error("--after: '%s' is not @EPOCH or an ISO 8601 time (YYYY-MM-DD HH:MM[:SS][+HH:MM])",
                                   args.after_text);
        return print_fire_times(s, zone, after, args.count, text);
}
