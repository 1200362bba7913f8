/* check.c — tickctl check: validate crontabs before tickd sees them.
 *
 *   tickctl check [--quiet] [--list] [--verbose] [--user] [--config-dir DIR] [PATH...]
 *
 * PATHs are crontab files or jobs directories (default: the configured jobs
 * directory together with tickd.conf beside it), held to the daemon's owner
 * and mode rules; a PATH ending in ".conf" is checked as tickd.conf.
 * Crontabs are judged with the settings of the configuration directory's
 * tickd.conf (default zone, PATH, whether it has a [fleet] section).
 * Prints "FILE:LINE: error: MESSAGE" and "warning:" lines; exits 0 without
 * errors, 1 with, 2 on usage errors. Works offline. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "core/conf.h"
#include "core/crontab.h"
#include "core/strv.h"
#include "tickctl/commands.h"
#include "tickctl/common.h"

struct check {
        struct crontab_options options;
        struct crontab_set set; /* accepted files, for duplicates across them */
        struct diagnostics diags;
        bool list;
        int64_t now;
        size_t n_files;
        int error;     /* -ENOMEM and the like */
        bool io_error; /* a file or directory could not be read: exit 2, as tickctl.1 says */
};

static void usage(FILE *out)
{
        fprintf(out, "Usage: tickctl check [--quiet] [--list] [--verbose] [--user] [--config-dir DIR] [PATH...]\n"
                     "\n"
                     "Checks crontab files or jobs directories (default: the configured jobs\n"
                     "directory and tickd.conf). Prints FILE:LINE: error|warning: MESSAGE.\n"
                     "\n"
                     "  -q, --quiet           print nothing; only the exit status tells\n"
                     "  -l, --list            also print each job that would load and its next run\n"
                     "  -v, --verbose         also say which files were ignored\n"
                     "      --user            the user instance's directory ($XDG_CONFIG_HOME/tickd)\n"
                     "      --config-dir DIR  the configuration directory (DIR/jobs.d, DIR/tickd.conf)\n"
                     "\n"
                     "Exit status: 0 no errors, 1 errors found, 2 usage or I/O error.\n");
}

static bool has_suffix(const char *s, const char *suffix)
{
        size_t n = strlen(s), m = strlen(suffix);
        return n >= m && strcmp(s + n - m, suffix) == 0;
}

static void print_job(const struct job *job, int64_t now)
{
        const struct tz *zone = schedule_zone(job->schedule) ? schedule_zone(job->schedule) : job->zone;
        char when[80] = "never";
        int64_t next;
        if (schedule_kind(job->schedule) == SCHEDULE_REBOOT)
                snprintf(when, sizeof(when), "at start-up");
        else if (schedule_next(job->schedule, zone, now, &next) == 0) {
                struct tz_civil c;
                tz_to_civil(zone, next, &c);
                int off = c.offset < 0 ? -c.offset : c.offset;
                snprintf(when, sizeof(when), "%04" PRId64 "-%02d-%02d %02d:%02d:%02d %c%02d:%02d", c.year, c.month,
                         c.day, c.hour, c.minute, c.second, c.offset < 0 ? '-' : '+', off / 3600, off / 60 % 60);
        }
        printf("%s\t%s\t%s\t%s%s\n", job->name, when, tz_name(zone), job_schedule_text(job),
               job->enabled ? "" : "\t(disabled)");
}

/* A run starts in its user's home unless working_directory= says
 * otherwise, and fails when it cannot enter it (as cron's do): said once
 * here, naming the directory, rather than at every run. */
static void check_job_home(struct check *c, const struct job *job)
{
        char buf[16384];
        struct passwd pw, *found = NULL;
        if (job_extra(job)->working_directory)
                return;
        if (job->user)
                getpwnam_r(job->user, &pw, buf, sizeof(buf), &found);
        else
                getpwuid_r(c->options.system_mode ? 0 : c->options.owner_uid, &pw, buf, sizeof(buf), &found);
        if (!found) /* an unknown user= is the loader's error */
                return;
        const char *home = pw.pw_dir && *pw.pw_dir ? pw.pw_dir : "/";
        struct stat st;
        int error = stat(home, &st) < 0 ? errno : S_ISDIR(st.st_mode) ? 0 : ENOTDIR;
        if (error == 0)
                return;
        if (diag_add(&c->diags, DIAG_WARNING, job->file, job->line,
                     "job '%s' would run in %s, the home directory of user '%s', which %s: every run would fail; "
                     "set working_directory = (for example /)",
                     job->name, home, pw.pw_name, error == ENOENT ? "does not exist" : "is not a usable directory") < 0)
                c->error = -ENOMEM;
}

/* A path named on the command line may be installed already or be a draft
 * about to be: the daemon's verdict is what matters either way. The mode
 * rule applies as it is; the owner rule is the instance's (root's, the
 * caller's with --user), with the command that fixes it, as one who checks
 * a draft cannot tell the daemon's owner from the message alone. Both are
 * said (the daemon stops at the first), and the content is checked too. */
static void check_named_rule(struct check *c, const char *path, bool is_dir)
{
        struct stat st, as_owner;
        if (stat(path, &st) < 0)
                return; /* the load says why */
        struct diagnostics found = { 0 };
        as_owner = st;
        as_owner.st_mode &= ~(mode_t)(S_IWGRP | S_IWOTH);
        if (crontab_check_owner(path, &as_owner, &c->options, is_dir, &found) < 0 && found.count == 1) {
                struct diagnostic *d = &found.items[0];
                char user[32];
                snprintf(user, sizeof(user), "%u", (unsigned)c->options.owner_uid);
                struct passwd pw, *owner = NULL;
                char buf[16384];
                if (!c->options.system_mode)
                        getpwuid_r(c->options.owner_uid, &pw, buf, sizeof(buf), &owner);
                if (diag_add(&c->diags, DIAG_ERROR, path, 0, "%s; run chown %s %s", d->message,
                             c->options.system_mode ? "root:root"
                             : owner                ? owner->pw_name
                                                    : user,
                             path) < 0)
                        c->error = -ENOMEM;
                diag_free(&found);
        }
        as_owner = st;
        as_owner.st_uid = c->options.system_mode ? 0 : c->options.owner_uid;
        (void)crontab_check_owner(path, &as_owner, &c->options, is_dir, &found);
        if (diag_move(&c->diags, &found) < 0)
                c->error = -ENOMEM;
        diag_free(&found);
}

static void check_file(struct check *c, const char *path)
{
        c->n_files++;
        /* The configured directory's files are held to the rule by the
         * loader, as the daemon's are. */
        if (c->options.ignore_ownership)
                check_named_rule(c, path, false);
        if (has_suffix(path, ".conf")) {
                struct daemon_config config;
                int r = daemon_config_load(path, c->options.ignore_ownership ? NULL : &c->options, &config, &c->diags);
                const struct tz *zone;
                if (r >= 0)
                        r = daemon_config_zone(&config, path, c->options.zones, &zone, &c->diags);
                daemon_config_free(&config);
                if (r == -ENOMEM)
                        c->error = r;
                return;
        }
        struct crontab_file *file;
        int r = crontab_load_file(path, &c->options, &file, &c->diags);
        if (r == -ENOMEM)
                c->error = r;
        else if (r < 0 && r != -EINVAL && r != -EPERM && r != -EFBIG)
                c->io_error = true;
        if (r < 0)
                return;
        r = crontab_check_duplicates(&c->set, file, &c->diags);
        if (r != 0) {
                if (r < 0)
                        c->error = r;
                crontab_file_free(file);
                return;
        }
        for (size_t i = 0; i < file->n_jobs; i++)
                check_job_home(c, file->jobs[i]);
        struct crontab_file **files = realloc(c->set.files, (c->set.n_files + 1) * sizeof(*files));
        if (!files) {
                crontab_file_free(file);
                c->error = -ENOMEM;
                return;
        }
        c->set.files = files;
        c->set.files[c->set.n_files++] = file;
}

static void check_path(struct check *c, const char *path)
{
        struct stat st;
        if (stat(path, &st) < 0) {
                diag_add(&c->diags, DIAG_ERROR, path, 0, "cannot read: %s", strerror(errno));
                c->io_error = true;
                return;
        }
        if (!S_ISDIR(st.st_mode)) {
                check_file(c, path);
                return;
        }
        if (c->options.ignore_ownership)
                check_named_rule(c, path, true);
        char **paths;
        if (crontab_list_dir(path, &c->options, &paths, &c->diags) < 0) {
                c->io_error = true;
                return;
        }
        for (char **p = paths; *p; p++)
                check_file(c, *p);
        strv_free(paths);
}

/* The configuration directory: DIR, the user's, or /etc/tickd. */
static char *config_dir(const char *given, bool user)
{
        if (given)
                return strdup(given);
        if (!user)
                return strdup("/etc/tickd");
        const char *xdg = getenv("XDG_CONFIG_HOME");
        char *dir = NULL;
        if (xdg && xdg[0] == '/')
                return asprintf(&dir, "%s/tickd", xdg) < 0 ? NULL : dir;
        const char *home = getenv("HOME");
        if (!home || home[0] != '/')
                return NULL;
        return asprintf(&dir, "%s/.config/tickd", home) < 0 ? NULL : dir;
}

struct check_args {
        bool quiet, list, verbose, user;
        const char *given_dir; /* --config-dir */
};

/* The options into *ARGS, leaving optind at the first PATH. Returns -1 to
 * go on, else the command's exit status (--help, a usage error). */
static int check_parse_options(int argc, char **argv, struct check_args *args)
{
        enum { OPT_USER = 256, OPT_CONFIG_DIR, OPT_IGNORED };
        static const struct option long_options[] = {
                { "quiet", no_argument, NULL, 'q' },
                { "list", no_argument, NULL, 'l' },
                { "verbose", no_argument, NULL, 'v' },
                { "user", no_argument, NULL, OPT_USER },
                { "config-dir", required_argument, NULL, OPT_CONFIG_DIR },
                /* Global options that do not apply to an offline check, taken
                 * so that "tickctl --runtime-dir DIR check" works as for
                 * every command. */
                { "runtime-dir", required_argument, NULL, OPT_IGNORED },
                { "state-dir", required_argument, NULL, OPT_IGNORED },
                { "no-pager", no_argument, NULL, OPT_IGNORED },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        *args = (struct check_args){ 0 };
        int opt;

        optind = 1;
        while ((opt = getopt_long(argc, argv, "+qlvh", long_options, NULL)) != -1)
                switch (opt) {
                case 'q': args->quiet = true; break;
                case 'l': args->list = true; break;
                case 'v': args->verbose = true; break;
                case OPT_USER: args->user = true; break;
                case OPT_CONFIG_DIR: args->given_dir = optarg; break;
                case OPT_IGNORED: break;
                case 'h': usage(stdout); return 0;
                default: usage(stderr); return 2;
                }
        return -1;
}

/* tickd.conf's default zone, else the system's, else UTC. An unknown
 * default_timezone is an error when tickd.conf is among what is checked
 * (STRICT), as the daemon refuses it; a warning otherwise. */
static const struct tz *check_default_zone(struct check *c, struct tz_cache *zones, const struct daemon_config *config,
                                           const char *conf_path, bool strict)
{
        const struct tz *zone = NULL;
        struct diagnostics found = { 0 };
        if (daemon_config_zone(config, conf_path, zones, &zone, &found) == -ENOMEM)
                c->error = -ENOMEM;
        for (size_t i = 0; i < found.count; i++)
                if (!strict)
                        found.items[i].severity = DIAG_WARNING;
        if (diag_move(&c->diags, &found) < 0)
                c->error = -ENOMEM;
        diag_free(&found);
        if (!zone && tz_cache_get_system(zones, &zone) < 0)
                tz_cache_get(zones, "UTC", &zone);
        return zone;
}

/* Where a diagnostic is printed: with its file's (in the order the files
 * were first named), errors before warnings before debug notes, each by
 * line, else as found. */
struct placed {
        size_t file, index;
        enum diag_severity severity;
        unsigned line;
};

static int compare_placed(const void *a, const void *b)
{
        const struct placed *x = a, *y = b;
        if (x->file != y->file)
                return x->file < y->file ? -1 : 1;
        if (x->severity != y->severity)
                return x->severity < y->severity ? -1 : 1;
        if (x->line != y->line)
                return x->line < y->line ? -1 : 1;
        return (x->index > y->index) - (x->index < y->index);
}

static bool same_file(const struct diagnostic *a, const struct diagnostic *b)
{
        return a->file == b->file || (a->file && b->file && strcmp(a->file, b->file) == 0);
}

/* The diagnostics in printing order; NULL on ENOMEM. */
static struct placed *check_place(const struct diagnostics *d)
{
        struct placed *p = calloc(d->count ? d->count : 1, sizeof(*p));
        if (!p)
                return NULL;
        size_t files = 0;
        for (size_t i = 0; i < d->count; i++) {
                /* A file's diagnostics mostly follow each other: look back
                 * at the previous one first. */
                size_t j = i;
                if (i > 0 && same_file(&d->items[i - 1], &d->items[i]))
                        j = i - 1;
                else
                        for (j = 0; j < i && !same_file(&d->items[j], &d->items[i]); j++)
                                ;
                p[i] = (struct placed){ .file = j < i ? p[j].file : files++,
                                        .index = i,
                                        .severity = d->items[i].severity,
                                        .line = d->items[i].line };
        }
        qsort(p, d->count, sizeof(*p), compare_placed);
        return p;
}

#define CHECK_MAX_ERRORS 10

/* One diagnostic line. A message quotes the file's own bytes (an unknown
 * key, a bad value): on a terminal its control characters are shown
 * escaped (\xNN), so a crafted crontab cannot drive the admin's terminal. */
static void print_diag(const struct diagnostic *item)
{
        if (!isatty(STDOUT_FILENO)) {
                diag_fprint(stdout, item);
                return;
        }
        char *line = NULL;
        size_t len = 0;
        FILE *out = open_memstream(&line, &len);
        if (!out)
                return;
        diag_fprint(out, item);
        fclose(out);
        if (len > 0 && line[len - 1] == '\n')
                line[len - 1] = '\0';
        ctl_put_text(stdout, line, true);
        fputc('\n', stdout);
        free(line);
}

static void print_more(const struct diagnostic *like, enum diag_severity severity, size_t n)
{
        char message[128];
        if (severity == DIAG_ERROR)
                snprintf(message, sizeof(message), "\u2026 %zu more error%s; is this a crontab?", n, n == 1 ? "" : "s");
        else
                snprintf(message, sizeof(message), "\u2026 and %zu more warning%s", n, n == 1 ? "" : "s");
        print_diag(&(struct diagnostic){ .severity = severity, .file = like->file, .message = message });
}

/* One file's diagnostics, P[0..N) in printing order: the first
 * CHECK_MAX_ERRORS errors and a count of the rest (a binary file has
 * hundreds, which say nothing more), then the warnings. */
static void report_file(const struct diagnostics *d, const struct placed *p, size_t n, bool verbose)
{
        size_t errors = 0, more_errors = 0, more_others = 0;
        bool summed = false;
        for (size_t i = 0; i < n; i++) {
                const struct diagnostic *item = &d->items[p[i].index];
                if (item->dropped_errors || item->dropped_others) {
                        more_errors += item->dropped_errors;
                        more_others += item->dropped_others;
                        continue;
                }
                if (item->severity == DIAG_ERROR && ++errors > CHECK_MAX_ERRORS) {
                        more_errors++;
                        continue;
                }
                if (item->severity != DIAG_ERROR && !summed && more_errors)
                        print_more(item, DIAG_ERROR, more_errors);
                summed |= item->severity != DIAG_ERROR;
                if (item->severity != DIAG_DEBUG || verbose)
                        print_diag(item);
        }
        if (n && !summed && more_errors)
                print_more(&d->items[p[0].index], DIAG_ERROR, more_errors);
        if (n && more_others)
                print_more(&d->items[p[0].index], DIAG_WARNING, more_others);
}

/* The diagnostics (debug ones with --verbose) and, with --list, each job
 * that would load; nothing with --quiet. */
static void check_report(struct check *c, const struct check_args *args)
{
        if (args->quiet)
                return;
        struct placed *p = check_place(&c->diags);
        if (!p)
                c->error = -ENOMEM;
        for (size_t i = 0, end; p && i < c->diags.count; i = end) {
                for (end = i + 1; end < c->diags.count && p[end].file == p[i].file; end++)
                        ;
                report_file(&c->diags, p + i, end - i, args->verbose);
        }
        free(p);
        if (args->list)
                for (size_t i = 0; i < c->set.n_files; i++)
                        for (size_t j = 0; j < c->set.files[i]->n_jobs; j++)
                                print_job(c->set.files[i]->jobs[j], c->now);
        if (c->error)
                fprintf(stderr, "tickctl check: %s\n", strerror(-c->error));
}

int ctl_check(int argc, char **argv)
{
        struct check_args args;
        int r = check_parse_options(argc, argv, &args);
        if (r >= 0)
                return r;

        _cleanup_free_ char *dir = config_dir(args.given_dir, args.user);
        if (!dir) {
                fprintf(stderr,
                        "tickctl check: cannot tell the configuration directory (set HOME or use --config-dir)\n");
                return 2;
        }
        _cleanup_free_ char *conf_path = NULL, *jobs_dir = NULL;
        if (asprintf(&conf_path, "%s/tickd.conf", dir) < 0 || asprintf(&jobs_dir, "%s/jobs.d", dir) < 0)
                return 2;

        struct check c = { .list = args.list, .now = (int64_t)time(NULL) };
        struct daemon_config config;
        /* tickd.conf gives the default zone and PATH; checked with the
         * configured directory, read quietly otherwise. */
        struct diagnostics conf_diags = { 0 };
        bool default_paths = optind == argc;
        /* The configured one is held to the daemon's owner and mode rule. */
        struct crontab_options rule = { .system_mode = !args.user, .owner_uid = getuid() };
        daemon_config_load(conf_path, default_paths ? &rule : NULL, &config, &conf_diags);
        if (default_paths)
                diag_move(&c.diags, &conf_diags);
        diag_free(&conf_diags);

        struct tz_cache *zones = tz_cache_new(NULL);
        if (!zones) {
                daemon_config_free(&config);
                return 2;
        }
        c.options = (struct crontab_options){
                .system_mode = !args.user,
                .owner_uid = getuid(),
                .zones = zones,
                .default_zone = check_default_zone(&c, zones, &config, conf_path, default_paths),
                .resolve_users = true,
                .check_commands = true,
                .lint_at = c.now,
                .default_path = config.default_path,
                .sendmail = config.sendmail,
                /* A path named on the command line: check_named_rule(). */
                .ignore_ownership = !default_paths,
                /* scope = fleet is judged against the tickd.conf beside the jobs. */
                .fleet_configured = config.fleet != NULL,
        };
        if (default_paths)
                check_path(&c, jobs_dir);
        for (int i = optind; i < argc; i++)
                check_path(&c, argv[i]);

        size_t errors = diag_count(&c.diags, DIAG_ERROR);
        check_report(&c, &args);
        crontab_set_free(&c.set);
        diag_free(&c.diags);
        tz_cache_free(zones);
        daemon_config_free(&config);
        return c.error || c.io_error ? 2 : errors ? 1 : 0;
}
