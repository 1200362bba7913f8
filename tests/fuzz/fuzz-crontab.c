/* fuzz-crontab.c — the crontab loader and tickd.conf on arbitrary bytes.
 *
 * Loads the input as a crontab (no user look-ups, no PATH search: those
 * touch the system, not the parser) and as tickd.conf, then lints every
 * job it accepted at a fixed instant, which drives the schedule engine
 * through DST transitions. Any crash, leak or sanitizer report is a bug. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "core/conf.h"
#include "core/crontab.h"

static struct tz_cache *zones;

/* Every allocation of an input is freed by that input, so a use after
 * free shows within a few MiB of frees: ASan's default 256 MiB quarantine
 * only kept each input's allocations on fresh pages (a page fault per
 * few allocations, a quarter of the time). */
const char *__asan_default_options(void);
const char *__asan_default_options(void) { return "quarantine_size_mb=16"; }

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
        zones = tz_cache_new(NULL);
        return zones ? 0 : -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size > 256 * 1024)
                return 0;
        struct crontab_options options = { .system_mode = true, .zones = zones };
        struct diagnostics diags = { 0 };
        struct crontab_file *file = NULL;
        if (crontab_load_buffer("fuzz.ini", (const char *)data, size, &options, &file, &diags) == 0) {
                for (size_t i = 0; i < file->n_jobs; i++)
                        crontab_lint_job(file->jobs[i], INT64_C(1767225600), &diags);
                crontab_file_free(file);
        }
        struct daemon_config config;
        daemon_config_load_buffer("fuzz.conf", (const char *)data, size, &config, &diags);
        daemon_config_free(&config);
        diag_free(&diags);
        return 0;
}
