/* fuzz-schedule.c — schedule_parse() on arbitrary text, then a few
 * schedule_next() calls in UTC and Europe/Berlin: no crash, no endless
 * search, every fire strictly after the previous one. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/schedule.h"
#include "core/tz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static struct tz_cache *cache;
        if (!cache)
                cache = tz_cache_new(NULL);
        if (size > 2048)
                return 0;
        char *text = malloc(size + 1);
        if (!text)
                return 0;
        memcpy(text, data, size);
        text[size] = '\0';

        struct schedule *s = NULL;
        char err[256];
        if (schedule_parse(text, cache, &s, err, sizeof(err)) == 0) {
                const struct tz *berlin = NULL;
                tz_cache_get(cache, "Europe/Berlin", &berlin);
                const struct tz *zones[] = { NULL, berlin };
                for (int z = 0; z < 2; z++) {
                        int64_t after = INT64_C(1774742400), at;
                        for (int i = 0; i < 8 && schedule_next(s, zones[z], after, &at) == 0; i++) {
                                if (at <= after)
                                        abort();
                                after = at;
                        }
                }
                schedule_free(s);
        } else if (strlen(err) == 0) {
                abort(); /* every error has a message */
        }
        free(text);
        return 0;
}
