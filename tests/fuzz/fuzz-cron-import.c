/* fuzz-cron-import.c — tickctl import's translation (core/cron-import.h)
 * on arbitrary bytes, in both formats. Whenever it accepts a crontab, the
 * INI text it prints must load without a single error, one job per
 * imported line, each with the command, input, user and environment the
 * import gave it: what the import says is what tickd runs. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/cron-import.h"
#include "core/crontab.h"

static struct tz_cache *zones;

const char *__asan_default_options(void);
const char *__asan_default_options(void) { return "quarantine_size_mb=16"; }

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
        zones = tz_cache_new(NULL);
        return zones ? 0 : -1;
}

static bool same(const char *a, const char *b) { return a == b || (a && b && strcmp(a, b) == 0); }

static void check_loads_as_imported(const struct cron_import *imp, char *ini)
{
        const struct tz *utc;
        if (tz_cache_get(zones, "UTC", &utc) < 0)
                abort();
        struct crontab_options options = { .system_mode = true, .zones = zones, .default_zone = utc };
        struct diagnostics diags = { 0 };
        struct crontab_file *file = NULL;
        if (crontab_load_buffer("fuzz.ini", ini, strlen(ini), &options, &file, &diags) != 0 ||
            file->n_jobs != imp->n_jobs)
                abort();
        for (size_t i = 0; i < imp->n_jobs; i++) {
                const struct cron_import_job *want = imp->jobs[i];
                const struct job *got = file->jobs[i];
                if (!same(got->command, want->command) || !same(job_extra(got)->stdin_text, want->stdin_text) ||
                    !same(got->user, want->user) || !same(job_schedule_text(got), want->schedule) ||
                    !same(job_extra(got)->mail_to, want->mail_to))
                        abort();
                size_t k = 0;
                for (; want->environment && want->environment[k]; k++)
                        if (!got->environment || !same(got->environment[k], want->environment[k]))
                                abort();
                if (got->environment && got->environment[k])
                        abort();
        }
        crontab_file_free(file);
        diag_free(&diags);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size > 64 * 1024)
                return 0;
        for (int system_format = 0; system_format < 2; system_format++) {
                struct cron_import imp;
                struct diagnostics diags = { 0 };
                if (cron_import_parse("fuzz", (const char *)data, size, system_format, zones, &imp, &diags) == 0) {
                        char *ini = NULL;
                        if (cron_import_format(&imp, NULL, &ini) == 0)
                                check_loads_as_imported(&imp, ini);
                        free(ini);
                        cron_import_free(&imp);
                }
                diag_free(&diags);
        }
        return 0;
}
