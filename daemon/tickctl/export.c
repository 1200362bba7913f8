/* export.c — tickctl export: jobs as systemd timers or Kubernetes CronJobs.
 *
 *   tickctl export --format systemd|kubernetes [--output-dir DIR] [--image IMAGE]
 *                  [--user] [--config-dir DIR] [FILE|JOB...]
 *
 * FILE is a crontab (a word with a '/' or ending in ".ini"); JOB the name
 * of a job in the configured jobs directory; none: every job there. Read
 * from the files, not the daemon, with tickd.conf's default zone. The
 * translation is core/export.h's; this prints or writes its files. A job
 * the format cannot express is reported (FILE:LINE: error: ...) and left
 * out; the others are still exported, and the exit status is 1. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "core/conf.h"
#include "core/crontab.h"
#include "core/export.h"
#include "tickctl/commands.h"
#include "tickctl/common.h"

struct export_args {
        struct export_options options;
        bool format_given;
        const char *output_dir;
        const char *config_dir;
        bool user;
};

static void usage(FILE *out)
{
        fprintf(out, "Usage: tickctl export --format systemd|kubernetes [--output-dir DIR] [--image IMAGE]\n"
                     "                      [--user] [--config-dir DIR] [FILE|JOB...]\n"
                     "\n"
                     "Writes jobs as systemd units (NAME.service + NAME.timer) or Kubernetes\n"
                     "CronJobs (one YAML document each). FILE: a crontab; JOB: a job of the\n"
                     "jobs directory; none: every job there.\n"
                     "\n"
                     "  -f, --format FORMAT   systemd or kubernetes\n"
                     "  -o, --output-dir DIR  write one file per unit or manifest into DIR (else stdout)\n"
                     "      --image IMAGE     the container image of CronJobs (default " EXPORT_DEFAULT_IMAGE ")\n"
                     "      --user            the user instance's directory ($XDG_CONFIG_HOME/tickd)\n"
                     "      --config-dir DIR  the configuration directory (DIR/jobs.d, DIR/tickd.conf)\n"
                     "\n"
                     "Exit status: 0 all exported, 1 a job refused or a crontab with errors, 2 usage or I/O error.\n");
}

static int parse_options(int argc, char **argv, struct export_args *a)
{
        static const struct option options[] = {
                { "format", required_argument, NULL, 'f' },
                { "output-dir", required_argument, NULL, 'o' },
                { "image", required_argument, NULL, 'i' },
                { "user", no_argument, NULL, 'u' },
                { "config-dir", required_argument, NULL, 'c' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        *a = (struct export_args){ .options = { .now = (int64_t)time(NULL) } };
        int c;
        optind = 0;
        opterr = 0;
        while ((c = getopt_long(argc, argv, ":hf:o:", options, NULL)) >= 0)
                switch (c) {
                case 'f':
                        a->format_given = true;
                        if (strcmp(optarg, "systemd") == 0)
                                a->options.format = EXPORT_SYSTEMD;
                        else if (strcmp(optarg, "kubernetes") == 0 || strcmp(optarg, "k8s") == 0)
                                a->options.format = EXPORT_KUBERNETES;
                        else {
                                fprintf(stderr, "tickctl export: --format: '%s' is not systemd or kubernetes\n",
                                        optarg);
                                return 2;
                        }
                        break;
                case 'o': a->output_dir = optarg; break;
                case 'i': a->options.image = optarg; break;
                case 'u': a->user = true; break;
                case 'c': a->config_dir = optarg; break;
                case 'h': usage(stdout); return 0;
                case ':': fprintf(stderr, "tickctl export: option '%s' needs a value\n", argv[optind - 1]); return 2;
                default: {
                        char buf[8];
                        fprintf(stderr, "tickctl export: unknown option '%s'\n",
                                ctl_refused_option(argv, buf, sizeof(buf)));
                        return 2;
                }
                }
        if (!a->format_given) {
                fprintf(stderr, "tickctl export: --format systemd or --format kubernetes is needed\n");
                return 2;
        }
        return -1;
}

/* What export reads: crontabs named on the command line, the jobs
 * directory's set (loaded when a JOB or nothing is named). */
struct sources {
        struct crontab_options crontab;
        struct tz_cache *zones;
        char *jobs_dir;
        struct crontab_set dir_set;
        bool dir_loaded;
        struct diagnostics diags;
        struct export_files files;
        int status; /* the worst so far: 0, 1, 2 */
};

static void status_at_least(struct sources *s, int status)
{
        if (status > s->status)
                s->status = status;
}

static void print_diags(struct sources *s)
{
        for (size_t i = 0; i < s->diags.count; i++)
                diag_fprint(stderr, &s->diags.items[i]);
        if (diag_count(&s->diags, DIAG_ERROR))
                status_at_least(s, 1);
        diag_free(&s->diags);
}

/* The name of a file in FILES[0..END) that FILE's name repeats, or NULL. */
static const char *clash(const struct export_files *files, size_t end, const struct export_file *file)
{
        for (size_t i = 0; i < end; i++)
                if (strcmp(files->items[i].name, file->name) == 0)
                        return file->name;
        return NULL;
}

/* Two jobs may not write one file (a job named twice, or two names that
 * Kubernetes' lower case makes equal): the later one is refused. */
static int refuse_clashes(struct sources *s, const struct job *job, size_t before)
{
        const char *name = NULL;
        for (size_t i = before; i < s->files.count && !name; i++)
                name = clash(&s->files, before, &s->files.items[i]);
        if (!name)
                return 0;
        if (diag_add(&s->diags, DIAG_ERROR, job->file, job->line,
                     "job '%s': its file %s is already written by a job exported before it", job->name, name) < 0)
                return -ENOMEM;
        while (s->files.count > before) {
                struct export_file *f = &s->files.items[--s->files.count];
                free(f->name), free(f->text);
        }
        return -EEXIST;
}

static int export_one(struct sources *s, const struct export_options *options, const struct job *job)
{
        size_t before = s->files.count;
        int r = export_job(job, options, &s->files, &s->diags);
        if (r == 0)
                r = refuse_clashes(s, job, before);
        if (r == -ENOMEM) {
                fprintf(stderr, "tickctl export: out of memory\n");
                status_at_least(s, 2);
        }
        print_diags(s);
        return r;
}

static void export_file_jobs(struct sources *s, const struct export_options *options, const struct crontab_file *f)
{
        for (size_t i = 0; i < f->n_jobs; i++)
                export_one(s, options, f->jobs[i]);
}

static int load_dir(struct sources *s)
{
        if (s->dir_loaded)
                return 0;
        int r = crontab_load_dir(s->jobs_dir, &s->crontab, &s->dir_set, &s->diags);
        print_diags(s);
        if (r < 0) {
                fprintf(stderr, "tickctl export: cannot read %s: %s\n", s->jobs_dir, strerror(-r));
                status_at_least(s, 2);
                return r;
        }
        s->dir_loaded = true;
        return 0;
}

static void export_arg(struct sources *s, const struct export_options *options, const char *arg)
{
        size_t n = strlen(arg);
        if (strchr(arg, '/') || (n > 4 && strcmp(arg + n - 4, ".ini") == 0)) {
                struct crontab_options named = s->crontab;
                named.ignore_ownership = true; /* only read, as tickctl check does */
                struct crontab_file *file = NULL;
                int r = crontab_load_file(arg, &named, &file, &s->diags);
                print_diags(s);
                if (r < 0) {
                        if (r != -EINVAL)
                                fprintf(stderr, "tickctl export: cannot read %s: %s\n", arg, strerror(-r));
                        status_at_least(s, r == -EINVAL ? 1 : 2);
                        return;
                }
                export_file_jobs(s, options, file);
                crontab_file_free(file);
                return;
        }
        if (load_dir(s) < 0)
                return;
        const struct job *job = crontab_set_find(&s->dir_set, arg);
        if (!job) {
                fprintf(stderr, "tickctl export: no job '%s' in %s\n", arg, s->jobs_dir);
                status_at_least(s, 2);
                return;
        }
        export_one(s, options, job);
}

/* DIR/NAME, replaced whole: written beside it, then renamed over it. */
static int write_file(const char *dir, const struct export_file *file)
{
        _cleanup_free_ char *path = NULL, *tmp = NULL;
        if (asprintf(&path, "%s/%s", dir, file->name) < 0 || asprintf(&tmp, "%s/.%s.tmp", dir, file->name) < 0)
                return -ENOMEM;
        _cleanup_close_ int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd < 0)
                return -errno;
        size_t len = strlen(file->text);
        for (size_t done = 0; done < len;) {
                ssize_t n = write(fd, file->text + done, len - done);
                if (n < 0) {
                        int r = -errno;
                        (void)unlink(tmp);
                        return r;
                }
                done += (size_t)n;
        }
        if (close(TAKE_FD(fd)) < 0 || rename(tmp, path) < 0) {
                int r = -errno;
                (void)unlink(tmp);
                return r;
        }
        return 0;
}

static void write_output(struct sources *s, const struct export_args *a)
{
        if (a->output_dir && mkdir(a->output_dir, 0755) < 0 && errno != EEXIST) {
                fprintf(stderr, "tickctl export: cannot create %s: %m\n", a->output_dir);
                status_at_least(s, 2);
                return;
        }
        for (size_t i = 0; i < s->files.count; i++) {
                const struct export_file *f = &s->files.items[i];
                if (!a->output_dir) {
                        /* systemctl cat's separator; a YAML comment too */
                        printf("%s# %s\n%s", i ? "\n" : "", f->name, f->text);
                        continue;
                }
                int r = write_file(a->output_dir, f);
                if (r < 0) {
                        fprintf(stderr, "tickctl export: cannot write %s/%s: %s\n", a->output_dir, f->name,
                                strerror(-r));
                        status_at_least(s, 2);
                }
        }
        if (fflush(stdout) != 0)
                status_at_least(s, 2);
}

/* tickd.conf's default zone (else the system's, else UTC) and the PATH
 * it gives jobs (*PATH, malloc'd; NULL: the default). Read quietly:
 * tickctl check is where its errors are shown. */
static const struct tz *read_config(struct tz_cache *zones, const char *config_dir, char **path)
{
        _cleanup_free_ char *conf_path = NULL;
        const struct tz *zone = NULL;
        *path = NULL;
        if (asprintf(&conf_path, "%s/tickd.conf", config_dir) >= 0) {
                struct daemon_config config;
                struct diagnostics quiet = { 0 };
                daemon_config_load(conf_path, NULL, &config, &quiet);
                daemon_config_zone(&config, conf_path, zones, &zone, &quiet);
                *path = TAKE_PTR(config.default_path);
                daemon_config_free(&config);
                diag_free(&quiet);
        }
        if (!zone && tz_cache_get_system(zones, &zone) < 0)
                tz_cache_get(zones, "UTC", &zone);
        return zone;
}

int ctl_export(int argc, char **argv)
{
        struct export_args a;
        int r = parse_options(argc, argv, &a);
        if (r >= 0)
                return r;
        _cleanup_free_ char *config_dir = ctl_config_dir(a.config_dir, a.user);
        struct sources s = { .zones = tz_cache_new(NULL) };
        if (!config_dir || !s.zones || asprintf(&s.jobs_dir, "%s/jobs.d", config_dir) < 0) {
                fprintf(stderr, "tickctl export: cannot tell the configuration directory (set HOME or use "
                                "--config-dir)\n");
                tz_cache_free(s.zones);
                return 2;
        }
        _cleanup_free_ char *path = NULL;
        s.crontab = (struct crontab_options){
                .system_mode = !a.user,
                .owner_uid = getuid(),
                .zones = s.zones,
                .default_zone = read_config(s.zones, config_dir, &path),
                .fleet_configured = ctl_fleet_configured(config_dir),
        };
        a.options.path = path;
        a.options.user_units = a.user;
        if (optind == argc) {
                if (load_dir(&s) == 0)
                        for (size_t i = 0; i < s.dir_set.n_files; i++)
                                export_file_jobs(&s, &a.options, s.dir_set.files[i]);
        }
        for (int i = optind; i < argc; i++)
                export_arg(&s, &a.options, argv[i]);
        write_output(&s, &a);
        export_files_free(&s.files);
        crontab_set_free(&s.dir_set);
        free(s.jobs_dir);
        tz_cache_free(s.zones);
        return s.status;
}
