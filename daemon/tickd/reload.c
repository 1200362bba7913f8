/* reload.c — per-file reload of the jobs directory; see reload.h. */
#include "tickd/reload.h"

#include <errno.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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

/* A file as it was when it was rejected. The ctime is kept beside the
 * identity because a rejection for owner or mode is mended by chmod or
 * chown, which change neither the size nor the mtime. */
struct rejected_file {
        char *path;
        struct file_identity identity;
        struct timespec ctime;
};

struct reload_memory {
        struct rejected_file *files;
        size_t n, cap;
};

struct reload_memory *reload_memory_new(void) { return calloc(1, sizeof(struct reload_memory)); }
size_t reload_memory_count(const struct reload_memory *m) { return m ? m->n : 0; }

struct reload_memory *reload_memory_free(struct reload_memory *m)
{
        for (size_t i = 0; m && i < m->n; i++)
                free(m->files[i].path);
        if (m)
                free(m->files);
        free(m);
        return NULL;
}

static struct rejected_file *memory_find(struct reload_memory *m, const char *path)
{
        for (size_t i = 0; m && i < m->n; i++)
                if (strcmp(m->files[i].path, path) == 0)
                        return &m->files[i];
        return NULL;
}

static void memory_forget(struct reload_memory *m, const char *path)
{
        struct rejected_file *f = memory_find(m, path);
        if (!f)
                return;
        free(f->path);
        *f = m->files[--m->n];
}

/* Without memory (ENOMEM) the file is only read and logged again. */
static void memory_remember(struct reload_memory *m, const char *path, const struct stat *st)
{
        struct rejected_file *f = memory_find(m, path);
        if (!f && m) {
                if (m->n == m->cap) {
                        size_t cap = m->cap ? m->cap * 2 : 8;
                        struct rejected_file *files = realloc(m->files, cap * sizeof(*files));
                        if (!files)
                                return;
                        m->files = files;
                        m->cap = cap;
                }
                char *copy = strdup(path);
                if (!copy)
                        return;
                f = &m->files[m->n++];
                f->path = copy;
        }
        if (f) {
                f->identity = file_identity_of(st);
                f->ctime = st->st_ctim;
        }
}

static bool still_rejected(struct reload_memory *m, const char *path, const struct stat *st)
{
        const struct rejected_file *f = memory_find(m, path);
        if (!f)
                return false;
        struct file_identity now = file_identity_of(st);
        return file_identity_equal(&f->identity, &now) && f->ctime.tv_sec == st->st_ctim.tv_sec &&
               f->ctime.tv_nsec == st->st_ctim.tv_nsec;
}

/* Forgets the rejected files no longer in PATHS. */
static void memory_prune(struct reload_memory *m, char **paths)
{
        for (size_t i = 0; m && i < m->n;) {
                bool present = false;
                for (char **p = paths; p && *p && !present; p++)
                        present = strcmp(*p, m->files[i].path) == 0;
                if (present)
                        i++;
                else
                        memory_forget(m, m->files[i].path);
        }
}

static void load_one(struct scheduler *s, const char *path, const struct crontab_options *options, bool all,
                     struct reload_memory *memory, struct reload_result *result)
{
        const struct crontab_file *old = scheduler_get_file(s, path);
        if (!all && old && file_identity_unchanged(&old->identity, path)) {
                result->unchanged++;
                return;
        }
        /* Taken before the file is read: if it changes in between, the
         * next reload reads it again, which is the safe side. */
        struct stat st;
        bool have_stat = stat(path, &st) == 0;
        if (!all && have_stat && still_rejected(memory, path, &st)) {
                result->rejected++;
                return;
        }
        struct diagnostics diags = { 0 };
        struct crontab_file *file = NULL;
        int r = crontab_load_file(path, options, &file, &diags);
        reload_log_diagnostics(&diags);
        diag_free(&diags);
        /* What the file says, its owner or its mode or its size decided
         * the rejection: unchanged, it would be rejected again. Other
         * errors (no memory, an I/O error) may pass: those are retried. */
        if ((r == -EINVAL || r == -EPERM || r == -EFBIG) && have_stat)
                memory_remember(memory, path, &st);
        else
                memory_forget(memory, path);
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

struct reload_pass {
        struct scheduler *scheduler;
        const struct crontab_options *options;
        struct reload_memory *memory;
        bool all;
        char **paths;
        size_t next; /* index in PATHS of the next file to load */
        struct reload_result result;
};

struct reload_pass *reload_pass_free(struct reload_pass *pass)
{
        if (pass)
                strv_free(pass->paths);
        free(pass);
        return NULL;
}

int reload_pass_new(struct scheduler *s, const char *jobs_dir, const struct crontab_options *options, bool all,
                    struct reload_memory *memory, struct reload_pass **ret)
{
        struct reload_pass *pass = calloc(1, sizeof(*pass));
        if (!pass)
                return -ENOMEM;
        *pass = (struct reload_pass){ .scheduler = s, .options = options, .memory = memory, .all = all };
        struct diagnostics diags = { 0 };
        int r = crontab_list_dir(jobs_dir, options, &pass->paths, &diags);
        reload_log_diagnostics(&diags);
        diag_free(&diags);
        if (r < 0 && r != -ENOENT) {
                reload_pass_free(pass);
                return r;
        }
        *ret = pass;
        return 0;
}

bool reload_pass_step(struct reload_pass *pass)
{
        if (!pass->paths || !pass->paths[pass->next])
                return false;
        load_one(pass->scheduler, pass->paths[pass->next++], pass->options, pass->all, pass->memory, &pass->result);
        return pass->paths[pass->next] != NULL;
}

void reload_pass_finish(struct reload_pass *pass, struct reload_result *result)
{
        while (reload_pass_step(pass))
                ;
        memory_prune(pass->memory, pass->paths);
        /* Files gone from the directory. */
        _cleanup_free_ const char **loaded = scheduler_file_paths(pass->scheduler);
        for (const char **l = loaded; l && *l; l++) {
                bool present = false;
                for (char **p = pass->paths; p && *p && !present; p++)
                        present = strcmp(*p, *l) == 0;
                if (!present) {
                        _cleanup_free_ char *gone = strdup(*l);
                        const char *unused;
                        if (gone && scheduler_set_file(pass->scheduler, gone, NULL, &unused) == 0)
                                pass->result.removed++;
                }
        }
        *result = pass->result;
        /* A load's parse leaves freed pieces between what it kept (its
         * file buffer, each job's and schedule's parse copies): give their
         * whole pages back, or the daemon's RSS keeps them for as long as
         * it runs (issue 16). Reloads are rare; this is one heap walk. */
        malloc_trim(0);
}

static int reload_dir(struct scheduler *s, const char *jobs_dir, const struct crontab_options *options, bool all,
                      struct reload_memory *memory, struct reload_result *result)
{
        *result = (struct reload_result){ 0 };
        struct reload_pass *pass = NULL;
        int r = reload_pass_new(s, jobs_dir, options, all, memory, &pass);
        if (r < 0)
                return r;
        reload_pass_finish(pass, result);
        reload_pass_free(pass);
        return 0;
}

int reload_jobs(struct scheduler *s, const char *jobs_dir, const struct crontab_options *options,
                struct reload_memory *memory, struct reload_result *result)
{
        return reload_dir(s, jobs_dir, options, false, memory, result);
}

int reload_jobs_all(struct scheduler *s, const char *jobs_dir, const struct crontab_options *options,
                    struct reload_memory *memory, struct reload_result *result)
{
        return reload_dir(s, jobs_dir, options, true, memory, result);
}
