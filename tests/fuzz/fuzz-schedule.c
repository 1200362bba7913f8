/* fuzz-schedule.c — schedule_parse() on arbitrary text, then a few
 * next-fire computations in UTC and in a zone with DST. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "schedule.h"
#include "tz.h"

static struct tz_cache *zones;
static const struct tz *berlin;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
        zones = tz_cache_new(NULL);
        if (!zones || tz_cache_get(zones, "Europe/Berlin", &berlin) < 0)
                berlin = NULL;
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size > 512)
                return 0;
        char text[513];
        memcpy(text, data, size);
        text[size] = '\0';
        struct schedule *s = NULL;
        char err[256];
        if (schedule_parse(text, zones, &s, err, sizeof(err)) < 0)
                return 0;
        static const int64_t starts[] = { 0, INT64_C(1774745999), INT64_C(1792889999), INT64_C(4102444800) };
        for (size_t i = 0; i < sizeof(starts) / sizeof(starts[0]); i++) {
                int64_t t = starts[i];
                struct schedule_fire fire;
                for (int n = 0; n < 3; n++) {
                        if (schedule_next_fire(s, i % 2 ? berlin : NULL, t, &fire) < 0)
                                break;
                        if (fire.at <= t)
                                abort(); /* "strictly after" broken */
                        t = fire.at;
                }
        }
        schedule_free(s);
        return 0;
}
