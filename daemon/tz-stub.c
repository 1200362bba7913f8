/* tz-stub.c — TEMPORARY: UTC-only stand-in for tz.c until branch tz lands.
 * Deleted when tz is merged. */
#include "tz.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct tz {
        int unused;
};
struct tz_cache {
        struct tz utc;
};

struct tz_cache *tz_cache_new(const char *zoneinfo_dir) { return calloc(1, sizeof(struct tz_cache)); }
void tz_cache_free(struct tz_cache *cache) { free(cache); }
int tz_cache_get(struct tz_cache *cache, const char *name, const struct tz **out)
{
        if (strcmp(name, "UTC") != 0)
                return -ENOENT;
        *out = &cache->utc;
        return 0;
}
int tz_cache_get_system(struct tz_cache *cache, const struct tz **out) { return tz_cache_get(cache, "UTC", out); }
const char *tz_name(const struct tz *zone) { return "UTC"; }
void tz_span_at(const struct tz *zone, int64_t t, struct tz_span *out)
{
        *out = (struct tz_span){ INT64_MIN, INT64_MAX, 0, 0, 0, false };
}
int32_t tz_offset_at(const struct tz *zone, int64_t t) { return 0; }
int64_t tz_days_from_civil(int64_t y, int m, int d)
{
        y -= m <= 2;
        int64_t era = (y >= 0 ? y : y - 399) / 400;
        int64_t yoe = y - era * 400;
        int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
        return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
}
void tz_civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
        z += 719468;
        int64_t era = (z >= 0 ? z : z - 146096) / 146097;
        int64_t doe = z - era * 146097;
        int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
        int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        int64_t mp = (5 * doy + 2) / 153;
        *d = (int)(doy - (153 * mp + 2) / 5 + 1);
        *m = (int)(mp < 10 ? mp + 3 : mp - 9);
        *y = yoe + era * 400 + (*m <= 2);
}
bool tz_is_leap_year(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }
int tz_days_in_month(int64_t y, int m)
{
        static const int days[] = { 0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
        return m == 2 && tz_is_leap_year(y) ? 29 : days[m];
}
void tz_to_civil(const struct tz *zone, int64_t t, struct tz_civil *out)
{
        int64_t days = t / 86400 - (t % 86400 < 0);
        int64_t sod = t - days * 86400;
        *out = (struct tz_civil){ 0 };
        tz_civil_from_days(days, &out->year, &out->month, &out->day);
        out->hour = (int)(sod / 3600);
        out->minute = (int)(sod / 60 % 60);
        out->second = (int)(sod % 60);
        out->weekday = (int)(((days % 7) + 11) % 7);
}
int tz_from_civil(const struct tz *zone, const struct tz_civil *c, int64_t *first, int64_t *second)
{
        *first = tz_days_from_civil(c->year, c->month, c->day) * 86400 + c->hour * 3600 + c->minute * 60 + c->second;
        return 1;
}
