/* tz.h — IANA time zones: UTC <-> local civil time, DST gaps and overlaps.
 *
 * Reads TZif files (versions 1-4) from a zoneinfo directory, including the
 * POSIX TZ footer that extends the rules past the last listed transition,
 * so far-future years are right (from the last transition on the footer
 * rules, as in glibc; a footer whose years would interleave is refused).
 * Fat and slim files read alike. A zone is immutable once loaded; a
 * struct tz_cache owns every zone it loaded and loads each name once.
 * Nothing here reads or changes the process's TZ, calls localtime() or
 * keeps globals: two zones can be used side by side from any thread.
 *
 * Times are seconds since the Unix epoch (int64_t, UTC). A "local seconds"
 * value is the civil time read as if it were UTC: utc + offset. */
#ifndef TICKD_TZ_H
#define TICKD_TZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tz;
struct tz_cache;

/* ZONEINFO_DIR NULL means "/usr/share/zoneinfo". Returns NULL on ENOMEM. */
struct tz_cache *tz_cache_new(const char *zoneinfo_dir);
void tz_cache_free(struct tz_cache *cache);

/* Finds or loads zone NAME ("Europe/Berlin", "UTC"). "UTC" always works,
 * even without tzdata. Returns 0, -EINVAL for a name that is not a zone
 * name (empty, absolute, "..", bad characters), -ENOENT for a zone that is
 * not installed, or -EBADMSG for a file that is not valid TZif (or is a
 * leap-second "right/" zone, which counts time unlike the system clock).
 * The zone lives as long as the cache. A cache is not locked: use one per
 * thread, or load under a lock; the zones themselves are immutable. */
int tz_cache_get(struct tz_cache *cache, const char *name, const struct tz **out);

/* The zone of the system: the name in /etc/localtime's link target
 * (".../zoneinfo/NAME"), else the name in /etc/timezone, else the content
 * of /etc/localtime (a copied zone file; named "localtime"), else UTC when
 * none is configured. Same errors as tz_cache_get(). */
int tz_cache_get_system(struct tz_cache *cache, const struct tz **out);

/* The same, with /etc/localtime and /etc/timezone read under ROOT (NULL or
 * "" = "/"), for tests. */
int tz_cache_get_system_in(struct tz_cache *cache, const char *root, const struct tz **out);

/* Whether NAME is shaped like a zone name: non-empty, relative, made of
 * [A-Za-z0-9_+-/] without empty components (so never "." or ".."). Says
 * nothing about whether the zone is installed. */
bool tz_name_is_valid(const char *name);

const char *tz_name(const struct tz *zone);

/* Parses the TZif image DATA (SIZE bytes) into a zone named NAME that the
 * caller owns and frees with tz_free(); for tools and fuzzers. Returns 0,
 * -EBADMSG or -ENOMEM. */
int tz_new_from_tzif(const char *name, const void *data, size_t size, struct tz **out);
void tz_free(struct tz *zone);

/* A span of time in which the zone's UTC offset (and DST flag) is constant;
 * neighbouring spans differ in one of them (changes of abbreviation only
 * are folded away):
 * [start, end), start may be INT64_MIN and end INT64_MAX. prev_offset is
 * the offset in force just before START (equal to offset when there is no
 * earlier span). Offsets are seconds east of UTC. */
struct tz_span {
        int64_t start;
        int64_t end;
        int32_t offset;
        int32_t prev_offset;
        int32_t next_offset; /* offset from END on (equal to offset when END is INT64_MAX) */
        bool is_dst;
};

/* The span that contains instant T. Fast: O(log n) in the transition table,
 * O(1) past it (POSIX footer rules). */
void tz_span_at(const struct tz *zone, int64_t t, struct tz_span *out);

/* UTC offset in seconds at T. */
int32_t tz_offset_at(const struct tz *zone, int64_t t);

/* Civil time, as struct tm would hold it but with full-range fields. */
struct tz_civil {
        int64_t year;   /* e.g. 2026 */
        int month;      /* 1-12 */
        int day;        /* 1-31 */
        int hour;       /* 0-23 */
        int minute;     /* 0-59 */
        int second;     /* 0-59 */
        int weekday;    /* 0 = Sunday .. 6 = Saturday */
        int32_t offset; /* seconds east of UTC in force */
        bool is_dst;
};

/* The civil time in ZONE at instant T. */
void tz_to_civil(const struct tz *zone, int64_t t, struct tz_civil *out);

/* Resolves a civil local time (year..second of CIVIL; other fields ignored)
 * to UTC instants. Returns how many instants carry that local time:
 *   1 — normal: *first is it;
 *   2 — DST overlap (fall back): *first is the earlier, *second the later;
 *   0 — DST gap (spring forward): the local time does not exist; *first is
 *       the first instant after the gap (the transition instant).
 * SECOND may be NULL; when the answer is not 2 it is set equal to *first.
 * The instants of answers 1 and 2 always carry CIVIL's time; the count is complete when
 * each span lasts longer than the offset changes at its ends, as in every
 * real zone (the tests walk all installed ones). The fields may be out of
 * range (hour 24, day 32);
 * they are read as the local seconds they add up to. */
int tz_from_civil(const struct tz *zone, const struct tz_civil *civil, int64_t *first, int64_t *second);

/* Pure calendar helpers shared by tz and schedule (proleptic Gregorian).
 * Days are counted from 1970-01-01 (day 0). tz_days_from_civil() accepts
 * any month (it carries into the year) and any day (it is added), and
 * saturates at INT64_MIN/INT64_MAX where the count would not fit. */
int64_t tz_days_from_civil(int64_t year, int month, int day);
void tz_civil_from_days(int64_t days, int64_t *year, int *month, int *day);
int tz_days_in_month(int64_t year, int month);
bool tz_is_leap_year(int64_t year);

/* Dates named in a message ("2026-03-29, 2026-10-25"): as many as fit,
 * N counts them all. */
struct tz_dates {
        char text[256];
        size_t n;
};

/* Appends the local date of T in ZONE to D. */
void tz_dates_add(struct tz_dates *d, const struct tz *zone, int64_t t);

#endif
