/* job-hash.c — FNV-1a over a job's definition; see job-hash.h. */
#include "core/job-hash.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "core/fnv.h"

/* Each field with a tag before it, and NULL apart from "": moving text
 * from one field to the next, or unsetting one, changes the hash. */
static uint64_t mix_string(uint64_t h, char tag, const char *s)
{
        h = fnv1a(h, &tag, 1);
        if (!s)
                return fnv1a(h, "\xff", 1);
        return fnv1a(h, s, strlen(s) + 1);
}

static uint64_t mix_number(uint64_t h, char tag, int64_t v)
{
        h = fnv1a(h, &tag, 1);
        return fnv1a(h, &v, sizeof(v));
}

void job_hash(const struct job *job, char out[static JOB_HASH_LEN])
{
        uint64_t h = FNV1A_OFFSET;
        h = mix_string(h, 's', job_schedule_text(job));
        h = mix_string(h, 'c', job->command);
        h = mix_string(h, 'u', job->user);
        h = mix_string(h, 'g', job_extra(job)->group);
        h = mix_string(h, 'z', job_extra(job)->timezone);
        h = mix_string(h, 'w', job_extra(job)->working_directory);
        h = mix_string(h, 'f', job_extra(job)->on_failure);
        /* Only when set: the jobs without one keep the hash they had. */
        if (job_extra(job)->stdin_text)
                h = mix_string(h, 'i', job_extra(job)->stdin_text);
        for (char **e = job->environment; e && *e; e++)
                h = mix_string(h, 'e', *e);
        h = mix_number(h, 't', (int64_t)job->timeout_usec);
        h = mix_number(h, 'k', (int64_t)job_extra(job)->kill_grace_usec);
        h = mix_number(h, 'o', job->overlap);
        h = mix_number(h, 'r', (int64_t)job_extra(job)->random_delay_usec);
        h = mix_number(h, 'p', job->persistent);
        h = mix_number(h, 'm', job_extra(job)->umask);
        h = mix_number(h, 'n', job_extra(job)->has_nice ? job_extra(job)->nice : INT64_MIN);
        h = mix_number(h, 'E', job->enabled);
        h = mix_number(h, 'S', job->scope);
        snprintf(out, JOB_HASH_LEN, "%016" PRIx64, h);
}
