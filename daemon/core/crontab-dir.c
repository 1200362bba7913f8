/* crontab-dir.c — which files of a jobs directory are crontabs, who may
 * own them, and loading a whole directory; see crontab.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "core/crontab-internal.h"
#include "core/strv.h"

int crontab_check_owner(const char *path, const struct stat *st, const struct crontab_options *o, bool is_dir,
                        struct diagnostics *diags)
{
        const char *what = is_dir ? "directory" : "file";
        if (o->system_mode && st->st_uid != 0) {
                diag_add(diags, DIAG_ERROR, path, 0, "refused: %s is owned by uid %u, not root", what,
                         (unsigned)st->st_uid);
                return -EPERM;
        }
        if (!o->system_mode && st->st_uid != o->owner_uid) {
                diag_add(diags, DIAG_ERROR, path, 0,
                         "refused: %s is owned by uid %u, not by uid %u (this instance's user)", what,
                         (unsigned)st->st_uid, (unsigned)o->owner_uid);
                return -EPERM;
        }
        /* Whoever may write it decides what runs as its owner: a group is
         * trusted no more than others, in either mode. */
        if (st->st_mode & (S_IWGRP | S_IWOTH)) {
                const char *who = !(st->st_mode & S_IWOTH)   ? "group"
                                  : !(st->st_mode & S_IWGRP) ? "others"
                                                             : "group and others";
                diag_add(diags, DIAG_ERROR, path, 0, "refused: %s is writable by %s (mode %04o); run chmod go-w", what,
                         who, (unsigned)(st->st_mode & 07777));
                return -EPERM;
        }
        return 0;
}

static bool has_suffix(const char *s, const char *suffix)
{
        size_t n = strlen(s), m = strlen(suffix);
        return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Why NAME is not a crontab, or NULL when it is one. */
static const char *ignore_reason(const char *name)
{
        if (name[0] == '.')
                return "hidden file";
        if (has_suffix(name, "~") || has_suffix(name, ".swp") || has_suffix(name, ".swo") || has_suffix(name, ".swx") ||
            (name[0] == '#' && has_suffix(name, "#")))
                return "editor backup";
        if (strstr(name, ".dpkg-") || strstr(name, ".rpm") || has_suffix(name, ".ucf-dist") ||
            has_suffix(name, ".ucf-old") || has_suffix(name, ".ucf-new"))
                return "package-manager leftover";
        if (!has_suffix(name, ".ini") || strlen(name) == 4)
                return "not a *.ini file";
        return NULL;
}

static int compare_strings(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int crontab_list_dir(const char *dir, const struct crontab_options *options, char ***out, struct diagnostics *diags)
{
        *out = NULL;
        int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0) {
                int r = -errno;
                diag_add(diags, DIAG_ERROR, dir, 0, "cannot open directory: %s", strerror(errno));
                return r;
        }
        struct stat st;
        if (fstat(fd, &st) < 0) {
                int r = -errno;
                close(fd);
                return r;
        }
        if (!options->ignore_ownership && crontab_check_owner(dir, &st, options, true, diags) < 0) {
                close(fd);
                return -EPERM;
        }
        DIR *d = fdopendir(fd);
        if (!d) {
                int r = -errno;
                close(fd);
                return r;
        }
        char **paths = NULL;
        size_t n = 0, cap = 0;
        int r = 0;
        struct dirent *e;
        while ((errno = 0, e = readdir(d))) {
                if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                        continue;
                /* A file left out must say so: a lost diagnostic is -ENOMEM. */
                const char *why = ignore_reason(e->d_name);
                if (why) {
                        if ((r = diag_add(diags, DIAG_DEBUG, dir, 0, "ignored %s: %s", e->d_name, why)) < 0)
                                break;
                        continue;
                }
                if (fstatat(dirfd(d), e->d_name, &st, 0) < 0) {
                        if ((r = diag_add(diags, DIAG_ERROR, dir, 0, "cannot read %s: %s", e->d_name,
                                          strerror(errno))) < 0)
                                break;
                        continue;
                }
                if (!S_ISREG(st.st_mode)) {
                        if ((r = diag_add(diags, DIAG_WARNING, dir, 0, "ignored %s: not a regular file", e->d_name)) <
                            0)
                                break;
                        continue;
                }
                if (n + 1 >= cap) {
                        cap = cap ? cap * 2 : 16;
                        char **bigger = realloc(paths, cap * sizeof(char *));
                        if (!bigger) {
                                r = -ENOMEM;
                                break;
                        }
                        paths = bigger;
                }
                if (asprintf(&paths[n], "%s/%s", dir, e->d_name) < 0) {
                        r = -ENOMEM;
                        break;
                }
                paths[++n] = NULL;
        }
        if (!r && errno)
                r = -errno;
        closedir(d);
        if (r < 0) {
                if (paths)
                        paths[n] = NULL;
                strv_free(paths);
                return r;
        }
        if (!paths && !(paths = calloc(1, sizeof(char *))))
                return -ENOMEM;
        qsort(paths, n, sizeof(char *), compare_strings);
        *out = paths;
        return 0;
}

void crontab_set_free(struct crontab_set *set)
{
        for (size_t i = 0; i < set->n_files; i++)
                crontab_file_free(set->files[i]);
        free(set->files);
        *set = (struct crontab_set){ 0 };
}

const struct job *crontab_set_find(const struct crontab_set *set, const char *name)
{
        for (size_t i = 0; i < set->n_files; i++)
                for (size_t j = 0; j < set->files[i]->n_jobs; j++)
                        if (strcmp(set->files[i]->jobs[j]->name, name) == 0)
                                return set->files[i]->jobs[j];
        return NULL;
}

static int compare_job_names(const void *a, const void *b)
{
        return strcmp((*(const struct job *const *)a)->name, (*(const struct job *const *)b)->name);
}

int crontab_check_duplicates(const struct crontab_set *set, const struct crontab_file *file, struct diagnostics *diags)
{
        size_t total = 0;
        for (size_t i = 0; i < set->n_files; i++)
                total += set->files[i]->n_jobs;
        if (total == 0)
                return 0;
        const struct job **known = malloc(total * sizeof(*known));
        if (!known)
                return -ENOMEM;
        size_t n = 0;
        for (size_t i = 0; i < set->n_files; i++)
                for (size_t j = 0; j < set->files[i]->n_jobs; j++)
                        known[n++] = set->files[i]->jobs[j];
        qsort(known, n, sizeof(*known), compare_job_names);
        int found = 0;
        for (size_t j = 0; j < file->n_jobs; j++) {
                const struct job *key = file->jobs[j];
                const struct job **hit = bsearch(&key, known, n, sizeof(*known), compare_job_names);
                if (!hit)
                        continue;
                if (diag_add_key(diags, DIAG_ERROR, file->path, key->line, NULL, "job '%s' already defined at %s:%u",
                                 key->name, (*hit)->file, (*hit)->line) < 0) {
                        found = -ENOMEM; /* a rejection that could not say why */
                        break;
                }
                found++;
        }
        free(known);
        return found;
}

int crontab_load_dir(const char *dir, const struct crontab_options *options, struct crontab_set *out,
                     struct diagnostics *diags)
{
        *out = (struct crontab_set){ 0 };
        char **paths;
        int r = crontab_list_dir(dir, options, &paths, diags);
        if (r < 0)
                return r;
        size_t n = 0;
        while (paths[n])
                n++;
        if (n && !(out->files = calloc(n, sizeof(*out->files)))) {
                strv_free(paths);
                return -ENOMEM;
        }
        for (size_t i = 0; i < n; i++) {
                struct crontab_file *file;
                r = crontab_load_file(paths[i], options, &file, diags);
                if (r == -ENOMEM)
                        break;
                if (r < 0)
                        continue;
                r = crontab_check_duplicates(out, file, diags);
                if (r < 0) {
                        crontab_file_free(file);
                        break;
                }
                if (r > 0) {
                        crontab_file_free(file);
                        continue;
                }
                out->files[out->n_files++] = file;
        }
        strv_free(paths);
        if (r == -ENOMEM) {
                crontab_set_free(out);
                return r;
        }
        return 0;
}
