/* reload.c — per-file reload of the jobs directory; see reload.h. */
#include "tickd/reload.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/cleanup.h"
#include "core/fileio.h"
#include "core/strv.h"
#include "shared/log.h"

void reload_log_diagnostics(const struct diagnostics *diags)
{
        for (size_t i = 0; i < diags->count; i++) {
                const struct diagnostic *d = &diags->items[i];
                struct log_record rec = { .file = d->file, .line = d->line };
                if (d->severity == DIAG_ERROR) {
                        rec.event = LOG_EVENT_CONFIG_REJECTED;
                        rec.priority = LOG_ERR;
                } else {
                        rec.priority = d->severity == DIAG_WARNING ? LOG_WARNING : LOG_DEBUG;
                }
                log_emit(&rec, "%s", d->message); /* the loader's messages name their key */
        }
}

static void load_one(struct scheduler *s, const char *path, const struct crontab_options *options, bool all,
                     struct reload_result *result)
{
        const struct crontab_file *old = scheduler_get_file(s, path);
        if (!all && old && file_identity_unchanged(&old->identity, path)) {
                result->unchanged++;
                return;
        }
        struct diagnostics diags = { 0 };
        struct crontab_file *file = NULL;
        int r = crontab_load_file(path, options, &file, &diags);
        reload_log_diagnostics(&diags);
        diag_free(&diags);
        if (r < 0) {
                result->rejected++;
                log_emit(&(struct log_record){ .event = LOG_EVENT_CONFIG_REJECTED,
                                               .priority = LOG_ERR,
                                               .file = path,
                                               .errno_value = r == -EINVAL ? 0 : -r },
                         "%s rejected%s", path, old ? "; its previous version stays in force" : "");
                return;
        }
        const char *conflict = NULL;
        r = scheduler_set_file(s, path, file, &conflict);
        if (r == -EEXIST) {
                result->rejected++;
                log_emit(&(struct log_record){ .event = LOG_EVENT_CONFIG_REJECTED,
                                               .priority = LOG_ERR,
                                               .file = path,
                                               .job = conflict },
                         "%s rejected: job %s is already defined in another file%s", path, conflict,
                         old ? "; its previous version stays in force" : "");
                crontab_file_free(file);
                return;
        }
        if (r < 0) {
                result->rejected++;
                log_msg(LOG_ERR, "%s not loaded: %s", path, strerror(-r));
                crontab_file_free(file);
                return;
        }
        result->loaded++;
}

static int reload_dir(struct scheduler *s, const char *jobs_dir, const struct crontab_options *options, bool all,
                      struct reload_result *result)
{
        *result = (struct reload_result){ 0 };
        struct diagnostics diags = { 0 };
        char **paths = NULL;
        int r = crontab_list_dir(jobs_dir, options, &paths, &diags);
        reload_log_diagnostics(&diags);
        diag_free(&diags);
        if (r < 0 && r != -ENOENT)
                return r;
        for (char **p = paths; p && *p; p++)
                load_one(s, *p, options, all, result);
        /* Files gone from the directory. */
        _cleanup_free_ const char **loaded = scheduler_file_paths(s);
        for (const char **l = loaded; l && *l; l++) {
                bool present = false;
                for (char **p = paths; p && *p && !present; p++)
                        present = strcmp(*p, *l) == 0;
                if (!present) {
                        _cleanup_free_ char *gone = strdup(*l);
                        const char *unused;
                        if (gone && scheduler_set_file(s, gone, NULL, &unused) == 0)
                                result->removed++;
                }
        }
        strv_free(paths);
        return 0;
}

int reload_jobs(struct scheduler *s, const char *jobs_dir, const struct crontab_options *options,
                struct reload_result *result)
{
        return reload_dir(s, jobs_dir, options, false, result);
}

int reload_jobs_all(struct scheduler *s, const char *jobs_dir, const struct crontab_options *options,
                    struct reload_result *result)
{
        return reload_dir(s, jobs_dir, options, true, result);
}
