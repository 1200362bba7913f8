/* edit.c — tickctl edit [FILE]: the visudo / crontab -e workflow.
 *
 * The crontab is copied to a private temporary file and edited there, so
 * the daemon never sees a half-written file; the result is validated with
 * the loader (and against the job names of the other files) until it is
 * right or abandoned (the rejected text then stays in that copy, whose
 * path is printed); then it is installed atomically (temp file in the
 * same directory, fsync, rename) and the daemon reloads. Two edits at once
 * are kept apart by an flock on the jobs directory, and a file changed
 * underneath by anyone else (another editor, a package) is noticed before
 * the rename instead of being silently overwritten. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "shared/clock.h"
#include "shared/control-protocol.h"
#include "core/crontab.h"
#include "core/fileio.h"
#include "tickctl/common.h"
#include "tickctl/commands.h"
#include "core/schedule.h"
#include "core/strv.h"
#include "core/timespan.h"
#include "core/tz.h"

#define MAX_CRONTAB_SIZE (4u << 20)

static const char new_file_template[] = "# tickd crontab: one job per [section]; see tickd.crontab(5).\n"
                                        "#\n"
                                        "# [backup]\n"
                                        "# schedule = 30 2 * * *\n"
                                        "# command  = /usr/local/bin/backup\n";

struct snapshot {
        bool exists;
        char *data;
        size_t size;
        struct stat st;
};

static void snapshot_free(struct snapshot *s)
{
        free(s->data);
        *s = (struct snapshot){};
}

static int snapshot_take(const char *path, struct snapshot *s)
{
        *s = (struct snapshot){};
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return errno == ENOENT ? 0 : -errno;
        if (fstat(fd, &s->st) < 0)
                return -errno;
        if (!S_ISREG(s->st.st_mode))
                return -EISDIR;
        s->exists = true;
        return fileio_read_all(fd, MAX_CRONTAB_SIZE, &s->data, &s->size);
}

/* Same file, same content: nobody changed it while we edited. */
static bool snapshot_same(const struct snapshot *a, const struct snapshot *b)
{
        if (a->exists != b->exists)
                return false;
        if (!a->exists)
                return true;
        struct file_identity x = file_identity_of(&a->st), y = file_identity_of(&b->st);
        return file_identity_equal(&x, &y) && a->size == b->size && memcmp(a->data, b->data, a->size) == 0;
}

static int write_all(int fd, const char *data, size_t size)
{
        while (size > 0) {
                ssize_t n = write(fd, data, size);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                data += n;
                size -= (size_t)n;
        }
        return 0;
}

/* $VISUAL, $EDITOR or vi, through the shell so "code --wait" works. */
static int run_editor(const char *path)
{
        const char *editor = getenv("VISUAL");
        if (!editor || !*editor)
                editor = getenv("EDITOR");
        if (!editor || !*editor)
                editor = "vi";
        /* As git does: the variable is shell text, the file its argument. */
        _cleanup_free_ char *command = NULL;
        if (asprintf(&command, "%s \"$1\"", editor) < 0)
                return -ENOMEM;
        fflush(stdout);
        pid_t pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0) {
                execl("/bin/sh", "sh", "-c", command, "sh", path, (char *)NULL);
                _exit(127);
        }
        int status;
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return -errno;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* 'e' edit again, 'a' abandon; EOF abandons. Read from stdin, so a test
 * (or a script) can answer with lines. */
static char ask(void)
{
        char line[64];
        for (;;) {
                printf("What now? (e)dit again, (a)bandon: ");
                fflush(stdout);
                if (!fgets(line, sizeof(line), stdin)) {
                        printf("\n");
                        return 'a';
                }
                char c = line[0];
                if (c == 'e' || c == 'E')
                        return 'e';
                if (c == 'a' || c == 'A' || c == 'q' || c == 'Q')
                        return 'a';
        }
}

struct validation {
        struct tz_cache *zones;
        struct crontab_options options;
        struct crontab_file *file;
};

static void print_diags(const struct diagnostics *d, const char *temp, const char *target)
{
        for (size_t i = 0; i < d->count; i++) {
                struct diagnostic item = d->items[i];
                if (item.severity == DIAG_DEBUG)
                        continue;
                /* Name the file the person is editing, not our temporary copy. */
                if (!item.file || strcmp(item.file, temp) == 0)
                        item.file = (char *)target;
                diag_fprint(stderr, &item);
        }
}

/* Loads TEMP as if it were TARGET; also refuses job names that another
 * crontab of the directory already uses. Returns the number of errors. */
static size_t validate(struct validation *v, const char *dir, const char *temp, const char *target)
{
        struct diagnostics d = {};
        crontab_file_free(v->file);
        v->file = NULL;
        int r = crontab_load_file(temp, &v->options, &v->file, &d);
        if (r < 0 && diag_count(&d, DIAG_ERROR) == 0)
                diag_add(&d, DIAG_ERROR, target, 0, "cannot load: %s", strerror(-r));
        char **paths = NULL;
        struct diagnostics ignored = {};
        if (v->file && crontab_list_dir(dir, &v->options, &paths, &ignored) >= 0) {
                for (char **p = paths; *p; p++) {
                        if (strcmp(*p, target) == 0)
                                continue;
                        struct crontab_file *other = NULL;
                        struct diagnostics other_diags = {};
                        if (crontab_load_file(*p, &v->options, &other, &other_diags) >= 0) {
                                for (size_t i = 0; i < v->file->n_jobs; i++)
                                        for (size_t k = 0; k < other->n_jobs; k++)
                                                if (strcmp(v->file->jobs[i]->name, other->jobs[k]->name) == 0)
                                                        diag_add(&d, DIAG_ERROR, target, v->file->jobs[i]->line,
                                                                 "job '%s' is already defined in %s",
                                                                 v->file->jobs[i]->name, *p);
                        }
                        crontab_file_free(other);
                        diag_free(&other_diags);
                }
                strv_free(paths);
        }
        diag_free(&ignored);
        print_diags(&d, temp, target);
        size_t errors = diag_count(&d, DIAG_ERROR);
        diag_free(&d);
        if (errors) {
                crontab_file_free(v->file);
                v->file = NULL;
        }
        return errors;
}

/* Temp file in the target's directory, fsync, owner and mode, rename,
 * fsync of the directory: the daemon sees the old file or the new one. */
static int install(const struct ctl_options *o, int dir_fd, const char *dir, const char *name, const char *data,
                   size_t size, const struct snapshot *original)
{
        _cleanup_free_ char *temp = NULL;
        if (asprintf(&temp, "%s/.%s.tickctl-XXXXXX", dir, name) < 0)
                return -ENOMEM;
        int fd = mkostemp(temp, O_CLOEXEC);
        if (fd < 0)
                return -errno;
        mode_t mode = original->exists ? (original->st.st_mode & 0755) : (o->user_mode ? 0600 : 0644);
        int r = write_all(fd, data, size);
        if (r == 0 && !o->user_mode && fchown(fd, 0, 0) < 0)
                r = -errno;
        if (r == 0 && fchmod(fd, mode) < 0)
                r = -errno;
        if (r == 0 && fsync(fd) < 0)
                r = -errno;
        if (close(fd) < 0 && r == 0)
                r = -errno;
        _cleanup_free_ char *target = NULL;
        if (r == 0 && asprintf(&target, "%s/%s", dir, name) < 0)
                r = -ENOMEM;
        if (r == 0 && rename(temp, target) < 0)
                r = -errno;
        if (r < 0) {
                unlink(temp);
                return r;
        }
        fsync(dir_fd);
        return 0;
}

static void print_next_runs(const struct crontab_file *file)
{
        if (!file || file->n_jobs == 0) {
                printf("No jobs in this file.\n");
                return;
        }
        uint64_t now = clock_now_usec(CLOCK_REALTIME);
        printf("Next runs:\n");
        for (size_t i = 0; i < file->n_jobs; i++) {
                const struct job *j = file->jobs[i];
                int64_t next = 0;
                char when[64], rel[64];
                if (!j->enabled) {
                        printf("  %-20s disabled\n", j->name);
                } else if (schedule_next(j->schedule, j->zone, (int64_t)(now / USEC_PER_SEC), &next) < 0) {
                        printf("  %-20s never (%s)\n", j->name, job_schedule_text(j));
                } else {
                        uint64_t at = (uint64_t)next * USEC_PER_SEC;
                        printf("  %-20s %s (%s)\n", j->name, ctl_format_time(at, when, sizeof(when)),
                               ctl_format_relative(at, now, rel, sizeof(rel)));
                }
        }
}

/* FILE: a path when it has a '/', else a name in the jobs directory
 * (".ini" added when missing). */
static int resolve_target(const struct ctl_options *o, const char *arg, char **dir, char **name)
{
        if (strchr(arg, '/')) {
                const char *slash = strrchr(arg, '/');
                *dir = slash == arg ? strdup("/") : strndup(arg, (size_t)(slash - arg));
                *name = strdup(slash + 1);
        } else {
                *dir = ctl_jobs_dir(o);
                size_t len = strlen(arg);
                bool has_ext = len > 4 && strcmp(arg + len - 4, ".ini") == 0;
                if (asprintf(name, has_ext ? "%s" : "%s.ini", arg) < 0)
                        *name = NULL;
        }
        if (!*dir || !*name)
                return -ENOMEM;
        if (!**name || (*name)[0] == '.' || strlen(*name) < 5 || strcmp(*name + strlen(*name) - 4, ".ini") != 0) {
                fprintf(stderr, "tickctl edit: '%s': a crontab is a *.ini file that does not start with '.'\n", arg);
                return -EINVAL;
        }
        return 0;
}

static int reload_daemon(const struct ctl_options *o, const char *target)
{
        sd_bus *bus = NULL;
        int r = ctl_connect(o, true, &bus);
        if (r == -ENOENT || r == -ECONNREFUSED) {
                printf("tickd is not running; the change takes effect when it starts.\n");
                return 0;
        }
        if (r < 0)
                return 0; /* installed; ctl_connect said why the daemon was not told */
        printf("Reloading tickd: ");
        r = ctl_reload_report(o, bus, target);
        sd_bus_flush_close_unref(bus);
        return r < 0 ? 0 : r;
}

/* DIR, created when missing, open and locked: one tickctl edit per
 * directory at a time (the lock goes with the descriptor, which the editor
 * does not inherit). Returns the descriptor, or -1 having said why. */
static int open_locked_dir(const struct ctl_options *o, const char *dir)
{
        if (mkdir(dir, o->user_mode ? 0700 : 0755) < 0 && errno != EEXIST) {
                fprintf(stderr, "tickctl edit: cannot create %s: %m\n", dir);
                return -1;
        }
        _cleanup_close_ int dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dir_fd < 0) {
                fprintf(stderr, "tickctl edit: cannot open %s: %m\n", dir);
                return -1;
        }
        if (flock(dir_fd, LOCK_EX | LOCK_NB) < 0) {
                if (errno == EWOULDBLOCK)
                        fprintf(stderr, "tickctl edit: %s is being edited by another tickctl edit; try again later\n",
                                dir);
                else
                        fprintf(stderr, "tickctl edit: cannot lock %s: %m\n", dir);
                return -1;
        }
        return TAKE_FD(dir_fd);
}

/* A private copy (mode 0600) of DATA under $TMPDIR, for the editor: its
 * path, or NULL having said why. */
static char *write_temp_copy(const char *data, size_t size)
{
        const char *tmpdir = getenv("TMPDIR");
        char *temp = NULL;
        if (asprintf(&temp, "%s/tickctl-edit-XXXXXX.ini", tmpdir && *tmpdir ? tmpdir : "/tmp") < 0)
                return NULL;
        int temp_fd = mkostemps(temp, 4, O_CLOEXEC);
        if (temp_fd < 0 || write_all(temp_fd, data, size) < 0 || close(temp_fd) < 0) {
                fprintf(stderr, "tickctl edit: cannot write a temporary copy %s: %m\n", temp);
                if (temp_fd >= 0)
                        unlink(temp);
                free(temp);
                return NULL;
        }
        return temp;
}

/* Loads as the daemon would, in the system zone (or UTC). */
static void validation_init(struct validation *v, const struct ctl_options *o)
{
        *v = (struct validation){ .zones = tz_cache_new(NULL) };
        const struct tz *system_zone = NULL;
        if (v->zones && tz_cache_get_system(v->zones, &system_zone) < 0)
                tz_cache_get(v->zones, "UTC", &system_zone);
        v->options = (struct crontab_options){
                .system_mode = !o->user_mode,
                .owner_uid = getuid(),
                .zones = v->zones,
                .default_zone = system_zone,
                .fleet_configured = ctl_fleet_configured(o->config_dir),
        };
}

/* One edit of TARGET (NAME in DIR) through the private copy TEMP. */
struct edit_session {
        const struct ctl_options *o;
        const char *dir, *name, *target, *temp;
        int dir_fd;               /* DIR, locked */
        struct snapshot original; /* TARGET when the edit began */
        const char *initial;      /* what the editor was first given */
        size_t initial_size;
        struct validation v;
        char *data; /* TEMP as last read back */
        size_t size;
        bool keep_temp; /* TEMP holds the person's only copy of their work */
};

static int edit_read_back(struct edit_session *e)
{
        free(e->data);
        e->data = NULL;
        _cleanup_close_ int fd = open(e->temp, O_RDONLY | O_CLOEXEC);
        if (fd < 0 || fileio_read_all(fd, MAX_CRONTAB_SIZE, &e->data, &e->size) < 0) {
                fprintf(stderr, "tickctl edit: cannot read back %s\n", e->temp);
                return -1;
        }
        return 0;
}

/* The edited text is valid: installs it, unless TARGET changed since the
 * edit began, and has the daemon reload. Returns the exit status. */
static int edit_install(struct edit_session *e)
{
        struct snapshot now;
        int r = snapshot_take(e->target, &now);
        bool unchanged = r >= 0 && snapshot_same(&e->original, &now);
        snapshot_free(&now);
        if (!unchanged) {
                fprintf(stderr,
                        "tickctl edit: %s was changed by someone else while you edited it; "
                        "not overwriting it. Your version is in %s\n",
                        e->target, e->temp);
                e->keep_temp = true;
                return 1;
        }
        r = install(e->o, e->dir_fd, e->dir, e->name, e->data, e->size, &e->original);
        if (r < 0) {
                fprintf(stderr, "tickctl edit: cannot install %s: %s; your version is in %s\n", e->target, strerror(-r),
                        e->temp);
                e->keep_temp = true;
                return 2;
        }
        printf("Installed %s.\n", e->target);
        int status = reload_daemon(e->o, e->target);
        print_next_runs(e->v.file);
        return status;
}

/* Editor, check, editor again, until the text is valid, unchanged or
 * abandoned. Returns the exit status. */
static int edit_until_valid(struct edit_session *e)
{
        for (;;) {
                int r = run_editor(e->temp);
                if (r != 0) {
                        fprintf(stderr, "tickctl edit: the editor failed (status %d); %s left unchanged\n", r,
                                e->target);
                        return 1;
                }
                if (edit_read_back(e) < 0)
                        return 2;
                if (e->size == e->initial_size && memcmp(e->data, e->initial, e->size) == 0) {
                        printf("No changes; %s left as it was.\n", e->target);
                        return 0;
                }
                if (validate(&e->v, e->dir, e->temp, e->target) == 0)
                        return edit_install(e);
                if (ask() == 'a') {
                        /* The rejected text may be an hour's work: it stays,
                         * private (0600), where the person is told. */
                        e->keep_temp = true;
                        printf("Abandoned; %s left unchanged. Your edited text is in %s\n", e->target, e->temp);
                        return 1;
                }
        }
}

static int edit(const struct ctl_options *o, const char *dir, const char *name)
{
        _cleanup_free_ char *target = NULL;
        if (asprintf(&target, "%s/%s", dir, name) < 0)
                return 2;
        _cleanup_close_ int dir_fd = open_locked_dir(o, dir);
        if (dir_fd < 0)
                return 2;
        struct edit_session e = { .o = o, .dir = dir, .name = name, .target = target, .dir_fd = dir_fd };
        int r = snapshot_take(target, &e.original);
        if (r < 0) {
                fprintf(stderr, "tickctl edit: cannot read %s: %s\n", target, strerror(-r));
                return 2;
        }
        e.initial = e.original.exists ? e.original.data : new_file_template;
        e.initial_size = e.original.exists ? e.original.size : strlen(new_file_template);
        _cleanup_free_ char *temp = write_temp_copy(e.initial, e.initial_size);
        if (!temp) {
                snapshot_free(&e.original);
                return 2;
        }
        e.temp = temp;
        validation_init(&e.v, o);

        int status = edit_until_valid(&e);
        if (!e.keep_temp)
                unlink(temp);
        free(e.data);
        crontab_file_free(e.v.file);
        tz_cache_free(e.v.zones);
        snapshot_free(&e.original);
        return status;
}

int ctl_edit(int argc, char **argv)
{
        struct ctl_options o;
        int r = ctl_parse_args(argc, argv, 0, "edit [FILE] [OPTIONS...]", 0, 1, "at most one file", &o);
        if (r >= 0)
                return r;
        if (!o.user_mode && geteuid() != 0) {
                fprintf(stderr, "tickctl edit: permission denied: editing system crontabs needs root "
                                "(use --user for your own)\n");
                ctl_options_free(&o);
                return CTL_EXIT_DENIED;
        }
        _cleanup_free_ char *dir = NULL, *name = NULL;
        r = resolve_target(&o, o.n_args ? o.args[0] : "jobs.ini", &dir, &name);
        int status = r < 0 ? 2 : edit(&o, dir, name);
        ctl_options_free(&o);
        return status;
}
