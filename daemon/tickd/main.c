/* main.c — tickd: options, paths, the sd-event loop, signals,
 * reloads and shutdown. The work is done by scheduler, batch and runner;
 * this file only wires them together. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <systemd/sd-event.h>
#include <time.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "shared/clock.h"
#include "tickd/cgroup.h"
#include "tickd/control-daemon.h"
#include "core/conf.h"
#include "core/crontab.h"
#include "core/diag.h"
#include "tickd/fdstore.h"
#include "tickd/fleet.h"
#include "shared/log.h"
#include "tickd/metrics.h"
#include "tickd/notify.h"
#include "tickd/orphans.h"
#include "tickd/reload.h"
#include "tickd/scheduler.h"
#include "core/timespan.h"
#include "core/tz.h"

/* Changes in the jobs directory come in bursts (an editor writes, renames,
 * chmods): one reload this long after the last of them. */
#define RELOAD_DEBOUNCE_USEC (100 * 1000)
/* After the shutdown timeout's SIGKILL, how long to wait for the runners'
 * last records before giving up on them (they are then reported lost). */
#define SHUTDOWN_KILL_WAIT_USEC (5 * 1000000)

struct options {
        bool user;
        bool check;
        char *config_dir;
        char *state_dir;
        char *runtime_dir;
        enum log_target log_target;
        int log_level;
};

struct daemon {
        struct options *options;
        char *jobs_dir;
        char *runtime_dir; /* RUNTIME_DIR/tickd */
        sd_event *event;
        struct scheduler *scheduler;
        struct fleet *fleet;            /* [fleet] in tickd.conf; NULL = host jobs only */
        struct control_daemon *control; /* the control socket; NULL until it is up */
        struct metrics *metrics;        /* counting from daemon_setup() on; file and endpoint as tickd.conf says */
        struct daemon_config config;
        struct tz_cache *zones;
        struct crontab_options crontab_options;
        struct reload_memory *rejected; /* crontabs rejected as they are now: not logged again */
        sd_event_source *reload_timer;
        const char *reload_reason;    /* why the armed reload_timer will reload */
        struct reload_pass *reload;   /* the reload in progress: one file per loop iteration */
        sd_event_source *reload_step; /* loads its next file when nothing else is due */
        const char *reload_why;       /* its reason and tickd.conf's note, for the "reloaded" record */
        const char *reload_note;
        bool reload_all;               /* it reads every file again (tickd.conf's settings changed) */
        sd_event_source *inotify;      /* the jobs directory */
        sd_event_source *conf_inotify; /* the configuration directory, for tickd.conf */
        sd_event_source *shutdown_timer;
        sd_event_source *shutdown_check;
        sd_event_source *status_post;
        char status[256]; /* the last STATUS= sent to the service manager */
        bool stopping;
        bool killed;
        struct cgroup_setup *cgroup; /* per-run cgroups (cgroup.h); NULL = process groups */
};

static void usage(FILE *out)
{
        fprintf(out,
                "Usage: tickd [OPTIONS]\n\n"
                "Runs the jobs of the INI crontabs in CONFIG_DIR/jobs.d at their instants.\n\n"
                "  --user               run as a user instance (XDG directories, jobs as this user)\n"
                "  --config-dir DIR     configuration (default /etc/tickd, user: $XDG_CONFIG_HOME/tickd)\n"
                "  --state-dir DIR      state (default /var/lib/tickd, user: $XDG_STATE_HOME/tickd)\n"
                "  --runtime-dir DIR    runtime base; tickd uses DIR/tickd (default /run, user: $XDG_RUNTIME_DIR)\n"
                "  --log-target TARGET  auto, journal or stderr (default auto)\n"
                "  --log-level LEVEL    err, warning, notice, info or debug (default info)\n"
                "  --check              load the configuration, print diagnostics and exit\n"
                "  --cgroup-release     clear the unit's cgroup controllers (ExecStartPre=) and exit\n"
                "  --help               show this help\n"
                "  --version            show the version\n\n"
                "See tickd(8).\n");
}

static char *path_join(const char *a, const char *b)
{
        char *p;
        return asprintf(&p, "%s/%s", a, b) < 0 ? NULL : p;
}

static char *xdg_dir(const char *variable, const char *fallback)
{
        const char *v = getenv(variable);
        if (v && v[0] == '/')
                return path_join(v, "tickd");
        const char *home = getenv("HOME");
        struct passwd *pw = (!home || home[0] != '/') ? getpwuid(getuid()) : NULL;
        if (pw)
                home = pw->pw_dir;
        if (!home)
                return NULL;
        char *p;
        return asprintf(&p, "%s/%s/tickd", home, fallback) < 0 ? NULL : p;
}

/* The directories not given on the command line: the system's, or with
 * --user the XDG ones. Returns -1 to go on, or the exit status. */
static int default_directories(struct options *o)
{
        if (!o->config_dir)
                o->config_dir = o->user ? xdg_dir("XDG_CONFIG_HOME", ".config") : strdup("/etc/tickd");
        if (!o->state_dir)
                o->state_dir = o->user ? xdg_dir("XDG_STATE_HOME", ".local/state") : strdup("/var/lib/tickd");
        if (!o->runtime_dir) {
                const char *xdg = getenv("XDG_RUNTIME_DIR");
                if (o->user && !(xdg && xdg[0] == '/')) {
                        fprintf(stderr, "tickd: --user needs $XDG_RUNTIME_DIR or --runtime-dir\n");
                        return 2;
                }
                o->runtime_dir = strdup(o->user ? xdg : "/run");
        }
        if (!o->config_dir || !o->state_dir || !o->runtime_dir) {
                fprintf(stderr, "tickd: cannot determine the directories (set HOME or use --config-dir etc.)\n");
                return 2;
        }
        return -1; /* go on */
}

static int parse_options(int argc, char **argv, struct options *o)
{
        enum {
                OPT_USER = 256,
                OPT_CONFIG,
                OPT_STATE,
                OPT_RUNTIME,
                OPT_TARGET,
                OPT_LEVEL,
                OPT_CHECK,
                OPT_CGROUP_RELEASE,
                OPT_HELP,
                OPT_VERSION
        };
        static const struct option long_options[] = {
                { "user", no_argument, NULL, OPT_USER },
                { "config-dir", required_argument, NULL, OPT_CONFIG },
                { "state-dir", required_argument, NULL, OPT_STATE },
                { "runtime-dir", required_argument, NULL, OPT_RUNTIME },
                { "log-target", required_argument, NULL, OPT_TARGET },
                { "log-level", required_argument, NULL, OPT_LEVEL },
                { "check", no_argument, NULL, OPT_CHECK },
                { "cgroup-release", no_argument, NULL, OPT_CGROUP_RELEASE },
                { "help", no_argument, NULL, OPT_HELP },
                { "version", no_argument, NULL, OPT_VERSION },
                {},
        };
        *o = (struct options){ .log_target = LOG_TARGET_AUTO, .log_level = -1 };
        int c;
        while ((c = getopt_long(argc, argv, "h", long_options, NULL)) >= 0) {
                switch (c) {
                case OPT_USER: o->user = true; break;
                case OPT_CONFIG:
                        free(o->config_dir);
                        o->config_dir = strdup(optarg);
                        break;
                case OPT_STATE:
                        free(o->state_dir);
                        o->state_dir = strdup(optarg);
                        break;
                case OPT_RUNTIME:
                        free(o->runtime_dir);
                        o->runtime_dir = strdup(optarg);
                        break;
                case OPT_TARGET:
                        if (log_target_from_string(optarg, &o->log_target) < 0) {
                                fprintf(stderr, "tickd: --log-target: '%s' is not auto, journal or stderr\n", optarg);
                                return 2;
                        }
                        break;
                case OPT_LEVEL:
                        o->log_level = log_level_from_string(optarg);
                        if (o->log_level < 0) {
                                fprintf(stderr, "tickd: --log-level: unknown level '%s'\n", optarg);
                                return 2;
                        }
                        break;
                case OPT_CHECK: o->check = true; break;
                case OPT_CGROUP_RELEASE: {
                        int r = cgroup_release();
                        if (r < 0)
                                fprintf(stderr, "tickd: --cgroup-release: %s\n", strerror(-r));
                        return r < 0 ? 1 : 0;
                }
                case 'h':
                case OPT_HELP: usage(stdout); return 0;
                case OPT_VERSION: printf("tickd %s\n", TICKD_VERSION); return 0;
                default: usage(stderr); return 2;
                }
        }
        if (optind < argc) {
                fprintf(stderr, "tickd: unexpected argument '%s' (see tickd --help)\n", argv[optind]);
                return 2;
        }
        return default_directories(o);
}

/* PATH with MODE, and its missing parents with 0755. */
static int mkdir_parents(const char *path, mode_t mode)
{
        _cleanup_free_ char *p = strdup(path);
        if (!p)
                return -ENOMEM;
        for (char *s = p + 1; *s; s++)
                if (*s == '/') {
                        *s = '\0';
                        if (mkdir(p, 0755) < 0 && errno != EEXIST)
                                return -errno;
                        *s = '/';
                }
        if (mkdir(p, mode) < 0 && errno != EEXIST)
                return -errno;
        return 0;
}

/* The state or runtime directory PATH, made with MODE when missing. One
 * that exists must pass the crontabs' owner rule (ours, writable by us
 * alone): a stamp or marker planted in it would steer which jobs run, and
 * a FIFO hang us. Access beyond MODE is taken away (the state directory
 * holds every job's outcomes). Logs why it refuses. */
static int directory_prepare(const struct daemon *d, const char *path, mode_t mode)
{
        _cleanup_close_ int fd = -EBADF;
        struct stat st;
        int r = mkdir_parents(path, mode);
        if (r >= 0 && (fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
                r = -errno;
        if (r >= 0 && fstat(fd, &st) < 0)
                r = -errno;
        if (r < 0) {
                log_msg(LOG_ERR, "cannot create or open %s: %s", path, strerror(-r));
                return r;
        }
        struct diagnostics diags = { 0 };
        r = crontab_check_owner(path, &st, &d->crontab_options, true, &diags);
        if (r < 0)
                log_msg(LOG_ERR, "%s: %s", path, diags.count ? diags.items[0].message : "refused");
        diag_free(&diags);
        if (r < 0)
                return r;
        if ((st.st_mode & 0777 & ~mode) && fchmod(fd, st.st_mode & 07777 & mode) < 0) {
                r = -errno;
                log_msg(LOG_ERR, "cannot make %s mode %04o: %s", path, (unsigned)(st.st_mode & 07777 & mode),
                        strerror(-r));
                return r;
        }
        return 0;
}

/* tickd.conf into NEXT, with its default zone resolved into *ZONE. Errors
 * are logged with file:line, an unknown default_timezone among them: at
 * start-up the daemon then refuses to start, on a reload the file is
 * rejected and the settings in force stay. Only an unusable zone of the
 * system (none configured) falls back to UTC. */
static int settings_read(struct daemon *d, bool starting, struct daemon_config *next, const struct tz **zone)
{
        _cleanup_free_ char *conf = path_join(d->options->config_dir, "tickd.conf");
        struct diagnostics diags = { 0 };
        int r = conf ? daemon_config_load(conf, &d->crontab_options, next, &diags) : -ENOMEM;
        if (r >= 0 && !d->zones && !(d->zones = tz_cache_new(NULL)))
                r = -ENOMEM;
        if (r >= 0)
                r = daemon_config_zone(next, conf, d->zones, zone, &diags);
        reload_log_diagnostics(&diags);
        diag_free(&diags);
        if (r >= 0 && !*zone && (r = tz_cache_get_system(d->zones, zone)) < 0) {
                log_msg(LOG_WARNING, "the system's time zone is unusable (%s); using UTC", strerror(-r));
                r = tz_cache_get(d->zones, "UTC", zone);
        }
        if (r < 0) {
                if (starting && r == -EINVAL)
                        log_msg(LOG_ERR, "%s has errors: not starting (fix them, or remove the file for the defaults)",
                                conf);
                else if (starting)
                        log_msg(LOG_ERR, "%s: cannot be used: %s", conf ? conf : "tickd.conf", strerror(-r));
                else
                        log_emit(&(struct log_record){ .event = LOG_EVENT_CONFIG_REJECTED, .file = conf },
                                 "%s rejected; the previous settings stay in force", conf ? conf : "tickd.conf");
                daemon_config_free(next);
        }
        return r;
}

/* Another node replaces this node's run of JOB (overlap = replace). */
static void on_fleet_cancel(void *userdata, const char *job)
{
        struct daemon *d = userdata;
        batch_cancel_job(scheduler_batches(d->scheduler), job);
}

static int fleet_setup(struct daemon *d)
{
        const char *path = NULL;
        int r = fleet_new_from_config(d->config.fleet, d->event, on_fleet_cancel, d, &d->fleet, &path);
        if (r < 0 && path)
                log_msg(LOG_ERR, "fleet: cannot read password_file %s: %s", path, strerror(-r));
        else if (r == -EINVAL)
                log_msg(LOG_ERR, "fleet: the host name is not a valid node name: set node = in [fleet]");
        else if (r < 0)
                log_msg(LOG_ERR, "fleet: cannot set up: %s", strerror(-r));
        return r;
}

/* tickd.conf reloaded: a [fleet] section that appears is joined at once;
 * any other change to it (or its removal; UNCHANGED false) takes effect
 * at restart, and until then the node stays in the fleet it is in. */
static void fleet_reconfigure(struct daemon *d, bool unchanged)
{
        if (!d->fleet && d->config.fleet) {
                if (fleet_setup(d) >= 0) {
                        scheduler_set_fleet(d->scheduler, d->fleet);
                        log_msg(LOG_INFO, "tickd.conf: [fleet] added: joining fleet %s", d->config.fleet->name);
                }
                return;
        }
        if (d->fleet && !unchanged)
                log_msg(LOG_WARNING,
                        "tickd.conf: changes to [fleet]%s take effect when tickd restarts; until then "
                        "this node stays in the fleet it joined",
                        d->config.fleet ? "" : " (its removal)");
}

/* tickd.conf's metrics_file and metrics_listen, and the fleet node the
 * series of fleet jobs name. An endpoint that cannot be opened is
 * logged, and the one open (if any) stays: metrics never stop tickd. */
static void metrics_apply(struct daemon *d)
{
        if (!d->metrics)
                return;
        int r = metrics_set_node(d->metrics, d->fleet ? fleet_node(d->fleet) : NULL);
        if (r >= 0)
                r = metrics_set_file(d->metrics, d->config.metrics_file);
        if (r < 0)
                log_msg(LOG_ERR, "metrics: cannot apply tickd.conf's settings: %s", strerror(-r));
        r = metrics_set_listen(d->metrics, d->config.metrics_listen);
        if (r < 0)
                log_msg(LOG_ERR, "metrics: cannot listen on %s: %s", d->config.metrics_listen, strerror(-r));
}

/* Puts NEXT (taken) in force. The scheduler keeps its own copy of the
 * PATH; making it is the one step that can fail, so it comes first: on
 * failure NEXT is released and the settings in force stay. Returns 1 when
 * jobs must be read again (their default zone changed, or a [fleet]
 * section came or went: scope = fleet is valid only with one), 0 when
 * not, or a negative errno. */
static int settings_apply(struct daemon *d, struct daemon_config *next, const struct tz *zone)
{
        if (d->scheduler) {
                int r = scheduler_set_sendmail(d->scheduler, next->sendmail);
                if (r >= 0 && (r = scheduler_set_default_path(d->scheduler, next->default_path)) < 0)
                        (void)scheduler_set_sendmail(d->scheduler, d->config.sendmail); /* the old one back */
                if (r < 0) {
                        daemon_config_free(next);
                        return r;
                }
                scheduler_set_pam(d->scheduler, next->pam);
                if (next->max_concurrent != d->config.max_concurrent ||
                    strcmp(next->default_path, d->config.default_path) != 0 ||
                    zone != d->crontab_options.default_zone || next->log_level != d->config.log_level ||
                    next->shutdown_timeout_usec != d->config.shutdown_timeout_usec ||
                    strcmp(next->sendmail, d->config.sendmail) != 0)
                        log_msg(LOG_INFO,
                                "tickd.conf: settings in force: max_concurrent=%u path=%s default_timezone=%s "
                                "log_level=%d shutdown_timeout=%.3fs sendmail=%s",
                                next->max_concurrent, next->default_path, tz_name(zone), next->log_level,
                                (double)next->shutdown_timeout_usec / 1e6, next->sendmail);
        }
        bool zone_changed = d->crontab_options.default_zone && zone != d->crontab_options.default_zone;
        bool was_fleet = d->crontab_options.fleet_configured;
        bool fleet_unchanged = fleet_config_equal(d->config.fleet, next->fleet);
        daemon_config_free(&d->config);
        d->config = *next;
        *next = (struct daemon_config){ 0 };
        d->crontab_options.default_zone = zone;
        if (d->scheduler)
                fleet_reconfigure(d, fleet_unchanged);
        /* A fleet tickd is in stays until it restarts: its jobs stay valid. */
        d->crontab_options.fleet_configured = d->config.fleet != NULL || d->fleet != NULL;
        bool fleet_changed = was_fleet != d->crontab_options.fleet_configured;
        if (d->scheduler) {
                scheduler_set_max_concurrent(d->scheduler, d->config.max_concurrent);
                if (d->options->log_level < 0) /* --log-level wins over tickd.conf */
                        log_setup(log_current_target(), d->config.log_level);
        }
        metrics_apply(d);
        return zone_changed || fleet_changed;
}

static int load_settings(struct daemon *d)
{
        /* The owner rule first: tickd.conf is held to it as the crontabs are. */
        d->crontab_options = (struct crontab_options){
                /* A daemon that is not root cannot run jobs as anyone else:
                 * its crontabs must then be its own, as in user mode. */
                .system_mode = !d->options->user && geteuid() == 0,
                .owner_uid = geteuid(),
                .resolve_users = false, /* look-ups happen in runners, never in the daemon */
        };
        struct daemon_config next = { 0 };
        const struct tz *zone = NULL;
        int r = settings_read(d, true, &next, &zone);
        if (r < 0)
                return r;
        r = settings_apply(d, &next, zone); /* no scheduler yet: nothing to copy, cannot fail */
        if (r < 0)
                return r;
        d->crontab_options.zones = d->zones;
        return 0;
}

static int check_configuration(struct daemon *d)
{
        struct diagnostics diags = { 0 };
        struct crontab_set set = { 0 };
        d->crontab_options.resolve_users = true;
        d->crontab_options.check_commands = true;
        d->crontab_options.default_path = d->config.default_path;
        d->crontab_options.sendmail = d->config.sendmail;
        int r = crontab_load_dir(d->jobs_dir, &d->crontab_options, &set, &diags);
        size_t n_jobs = 0;
        for (size_t i = 0; i < set.n_files; i++)
                n_jobs += set.files[i]->n_jobs;
        for (size_t i = 0; i < diags.count; i++)
                if (diags.items[i].severity != DIAG_DEBUG)
                        diag_fprint(stderr, &diags.items[i]);
        size_t errors = diag_count(&diags, DIAG_ERROR);
        diag_free(&diags);
        size_t n_files = set.n_files;
        crontab_set_free(&set);
        if (r < 0) {
                fprintf(stderr, "%s: %s\n", d->jobs_dir, strerror(-r));
                return 1;
        }
        printf("%zu job%s in %zu file%s loaded from %s%s\n", n_jobs, n_jobs == 1 ? "" : "s", n_files,
               n_files == 1 ? "" : "s", d->jobs_dir, errors ? "; some files have errors and would be rejected" : "");
        return errors ? 1 : 0;
}

/* Jobs with mail_to= need tickd.conf's sendmail: while it cannot be run,
 * every load says so once, naming the jobs (their runs' records say that
 * their mail was not sent). */
static void reload_check_sendmail(struct daemon *d)
{
        if (access(d->config.sendmail, X_OK) == 0)
                return;
        int error = errno;
        _cleanup_free_ const char **paths = scheduler_file_paths(d->scheduler);
        size_t n = 0, shown = 0;
        char names[200] = "";
        for (const char **p = paths; p && *p; p++) {
                const struct crontab_file *f = scheduler_get_file(d->scheduler, *p);
                for (size_t i = 0; f && i < f->n_jobs; i++) {
                        if (!job_extra(f->jobs[i])->mail_to)
                                continue;
                        size_t used = strlen(names);
                        if (++n <= 5 && used + strlen(f->jobs[i]->name) + 3 < sizeof(names)) {
                                snprintf(names + used, sizeof(names) - used, "%s%s", used ? ", " : "",
                                         f->jobs[i]->name);
                                shown++;
                        }
                }
        }
        if (n > 0)
                log_msg(LOG_WARNING, "no sendmail at %s (%s): %zu job%s with mail_to= will send no mail: %s%s",
                        d->config.sendmail, strerror(error), n, n == 1 ? "" : "s", names, n > shown ? ", ..." : "");
}

/* The end of a reload: the files left, the ones gone, the record. */
static void reload_end(struct daemon *d)
{
        struct reload_result res;
        reload_pass_finish(d->reload, &res);
        d->reload = reload_pass_free(d->reload);
        sd_event_source_set_enabled(d->reload_step, SD_EVENT_OFF);
        log_emit(&(struct log_record){ .event = LOG_EVENT_RELOADED, .priority = LOG_INFO },
                 "reloaded (%s): %zu job%s; %u file%s loaded, %u unchanged, %u rejected, %u removed%s", d->reload_why,
                 scheduler_job_count(d->scheduler), scheduler_job_count(d->scheduler) == 1 ? "" : "s", res.loaded,
                 res.loaded == 1 ? "" : "s", res.unchanged, res.rejected, res.removed, d->reload_note);
        reload_check_sendmail(d);
        if (strcmp(d->reload_why, "start-up") != 0)
                metrics_reloaded(d->metrics, res.rejected > 0 || d->reload_note[0]);
}

/* Jobs (and, after start-up, tickd.conf first: its settings apply to the
 * jobs read after it) from disk: starts a pass, which the loop carries
 * on file by file (on_reload_step). A pass in progress starts again from
 * the first file: what it loaded stays, and is only looked at again.
 * False when the directory cannot be listed (nothing changes). */
static bool reload_begin(struct daemon *d, const char *why, bool settings)
{
        bool reread = false;
        const char *settings_note = "";
        if (settings) {
                struct daemon_config next = { 0 };
                const struct tz *zone = NULL;
                int k = settings_read(d, false, &next, &zone);
                if (k >= 0 && (k = settings_apply(d, &next, zone)) < 0)
                        log_msg(LOG_ERR, "tickd.conf: cannot put its settings in force: %s", strerror(-k));
                if (k < 0)
                        settings_note = "; tickd.conf rejected";
                else
                        reread = k > 0;
        }
        /* A restarted pass still owes the files it had not reached a
         * reading with the new settings. */
        d->reload_all = reread || (d->reload && d->reload_all);
        d->reload = reload_pass_free(d->reload);
        sd_event_source_set_enabled(d->reload_step, SD_EVENT_OFF);
        int r = reload_pass_new(d->scheduler, d->jobs_dir, &d->crontab_options, d->reload_all, d->rejected, &d->reload);
        if (r < 0) {
                log_msg(LOG_ERR, "reload (%s): cannot read %s: %s; keeping every job", why, d->jobs_dir, strerror(-r));
                return false;
        }
        d->reload_why = why;
        d->reload_note = settings_note;
        return true;
}

/* A reload after start-up, framed for the service manager: READY=1
 * follows when the pass ends (reload_end() via on_reload_step). */
static void reload_notified(struct daemon *d, const char *why)
{
        notify_reloading();
        if (!reload_begin(d, why, true)) {
                notify_ready();
                return;
        }
        sd_event_source_set_enabled(d->reload_step, SD_EVENT_ON);
}

static int on_reload_step(sd_event_source *s, void *userdata)
{
        struct daemon *d = userdata;
        if (d->stopping) { /* what is loaded stays; nothing is removed */
                d->reload = reload_pass_free(d->reload);
                sd_event_source_set_enabled(s, SD_EVENT_OFF);
                return 0;
        }
        if (!reload_pass_step(d->reload)) {
                reload_end(d);
                notify_ready();
        }
        return 0;
}

/* tickctl reload answers with the files as they are after it: the pass
 * runs to its end here. */
static void reload_for_control(void *userdata)
{
        struct daemon *d = userdata;
        reload_notified(d, "tickctl reload");
        if (d->reload) {
                reload_end(d);
                notify_ready();
        }
}

static int on_reload_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
        struct daemon *d = userdata;
        const char *reason = d->reload_reason ? d->reload_reason : "jobs directory changed";
        d->reload_reason = NULL;
        if (!d->stopping)
                reload_notified(d, reason);
        return 0;
}

/* A change seen: reload once things have been quiet for a moment (an
 * editor's save, a package's unpack are several events). */
static void reload_soon(struct daemon *d, const char *reason)
{
        d->reload_reason = d->reload_reason && strcmp(d->reload_reason, reason) != 0 ? "configuration changed" : reason;
        uint64_t now;
        sd_event_now(d->event, CLOCK_MONOTONIC, &now);
        sd_event_source_set_time(d->reload_timer, now + RELOAD_DEBOUNCE_USEC);
        sd_event_source_set_enabled(d->reload_timer, SD_EVENT_ONESHOT);
}

static int on_inotify(sd_event_source *s, const struct inotify_event *event, void *userdata)
{
        reload_soon(userdata, "jobs directory changed");
        return 0;
}

static int on_conf_inotify(sd_event_source *s, const struct inotify_event *event, void *userdata)
{
        /* The directory also holds jobs.d and editors' temporary files. */
        if (event->len > 0 && strcmp(event->name, "tickd.conf") == 0)
                reload_soon(userdata, "tickd.conf changed");
        return 0;
}

static int on_sighup(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
        struct daemon *d = userdata;
        if (!d->stopping)
                reload_notified(d, "SIGHUP");
        return 0;
}

/* After every dispatch while stopping: done when the last batch is. */
static int on_shutdown_check(sd_event_source *s, void *userdata)
{
        struct daemon *d = userdata;
        if (batch_open_count(scheduler_batches(d->scheduler)) > 0)
                return 0;
        /* The fleet then writes its last records and leaves (revokes the
         * node's lease), bounded by the shutdown timer. */
        if (d->fleet)
                fleet_stop(d->fleet);
        if (!d->fleet || fleet_idle(d->fleet))
                sd_event_exit(d->event, 0);
        return 0;
}

static int on_shutdown_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
        struct daemon *d = userdata;
        if (!d->killed) {
                d->killed = true;
                log_msg(LOG_WARNING, "shutdown timeout: killing %zu running run(s)",
                        batch_running_count(scheduler_batches(d->scheduler)));
                batch_kill_all(scheduler_batches(d->scheduler));
                sd_event_source_set_time_relative(s, SHUTDOWN_KILL_WAIT_USEC);
                sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
                return 0;
        }
        sd_event_exit(d->event, 0); /* scheduler_free() records what is left as lost */
        return 0;
}

/* SIGTERM under a service manager that keeps our batches (fdstore.h):
 * for a restart (systemctl restart, a package upgrade) running jobs go on
 * and the next instance records their outcomes; for a stop they are
 * cancelled as everywhere else. A manager that cannot be asked is taken
 * to restart us: the jobs then go on rather than being killed. */
static bool stop_is_restart(struct daemon *d, struct batch_manager *m)
{
        if (fdstore_size() == 0 || batch_running_count(m) == 0)
                return false;
        if (!batch_all_stored(m)) {
                log_msg(LOG_WARNING, "some open batches are not in the fd store: stopping their jobs");
                return false;
        }
        enum fdstore_stop_kind kind = fdstore_stop_kind(d->options->user);
        log_msg(LOG_DEBUG, "the service manager's job on this unit: %s", fdstore_stop_kind_to_string(kind));
        return kind == FDSTORE_STOP_RESTART || kind == FDSTORE_STOP_UNKNOWN;
}

static int on_terminate(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
        struct daemon *d = userdata;
        if (d->stopping) {
                if (!d->killed)
                        on_shutdown_timer(d->shutdown_timer, 0, d);
                return 0;
        }
        d->stopping = true;
        notify_stopping();
        struct batch_manager *m = scheduler_batches(d->scheduler);
        scheduler_stop(d->scheduler);
        sd_event_source_set_enabled(d->inotify, SD_EVENT_OFF);
        sd_event_source_set_enabled(d->conf_inotify, SD_EVENT_OFF);
        sd_event_source_set_enabled(d->reload_timer, SD_EVENT_OFF);
        if (stop_is_restart(d, m)) {
                log_emit(&(struct log_record){ .event = LOG_EVENT_DAEMON_STOPPING, .priority = LOG_INFO },
                         "stopping for a restart on %s: %zu run(s) go on, for the next instance to take over",
                         strsignal((int)si->ssi_signo), batch_running_count(m));
                batch_manager_detach(m);
                int r = fdstore_sync();
                if (r < 0)
                        log_msg(LOG_WARNING, "the service manager did not confirm the fd store: %s", strerror(-r));
                sd_event_exit(d->event, 0);
                return 0;
        }
        log_emit(&(struct log_record){ .event = LOG_EVENT_DAEMON_STOPPING, .priority = LOG_INFO },
                 "stopping on %s: %zu run(s) still running", strsignal((int)si->ssi_signo), batch_running_count(m));
        batch_cancel_all(m);
        int r = sd_event_add_time_relative(d->event, &d->shutdown_timer, CLOCK_MONOTONIC,
                                           d->config.shutdown_timeout_usec, 0, on_shutdown_timer, d);
        if (r >= 0)
                r = sd_event_add_post(d->event, &d->shutdown_check, on_shutdown_check, d);
        if (r < 0)
                sd_event_exit(d->event, 0);
        else /* nothing running: the fleet still leaves (revokes its lease) before the loop ends */
                on_shutdown_check(d->shutdown_check, d);
        return 0;
}

static void status_format(struct daemon *d, char *buf, size_t size)
{
        size_t running = batch_running_count(scheduler_batches(d->scheduler));
        if (d->stopping) {
                snprintf(buf, size, "stopping: %zu run(s) still running", running);
                return;
        }
        int64_t due = 0;
        const char *job = NULL;
        if (!scheduler_next_due(d->scheduler, &due, &job))
                job = NULL;
        notify_format_status(buf, size, (unsigned)scheduler_job_count(d->scheduler), (unsigned)running, job,
                             (uint64_t)due, clock_now_usec(CLOCK_REALTIME));
}

/* After every dispatch: keeps STATUS= current, sending only changes. */
static int on_status_post(sd_event_source *s, void *userdata)
{
        struct daemon *d = userdata;
        char status[sizeof(d->status)];
        status_format(d, status, sizeof(status));
        if (strcmp(status, d->status) != 0) {
                memcpy(d->status, status, sizeof(status));
                notify_status(status);
        }
        return 0;
}

static int daemon_setup(struct daemon *d)
{
        int r = sd_event_new(&d->event);
        if (r < 0)
                return r;
        if (d->config.fleet && (r = fleet_setup(d)) < 0)
                return r;
        struct scheduler_options so = {
                .event = d->event,
                .state_dir = d->options->state_dir,
                .runtime_dir = d->runtime_dir,
                .default_path = d->config.default_path,
                .max_concurrent = d->config.max_concurrent,
                .relay_output = log_current_target() == LOG_TARGET_STDERR,
                .cgroup_dir = d->cgroup ? d->cgroup->dir : NULL,
                .pam = d->config.pam,
                .fleet = d->fleet,
        };
        r = scheduler_new(&so, &d->scheduler);
        if (r >= 0)
                r = scheduler_set_sendmail(d->scheduler, d->config.sendmail);
        if (r < 0)
                return r;
        /* A user instance runs jobs as itself only: user= may name only
         * it. Its name is the one the batch manager has just looked up
         * (the daemon makes no other name-service call). */
        d->crontab_options.owner_name = batch_manager_own_user_name(scheduler_batches(d->scheduler));
        if (!(d->rejected = reload_memory_new()))
                return -ENOMEM;
        if ((r = metrics_new(d->event, (int64_t)clock_now_usec(CLOCK_REALTIME), &d->metrics)) < 0)
                return r;
        metrics_set_sources(d->metrics, d->scheduler, d->rejected);
        metrics_apply(d);
        if ((r = sd_event_add_signal(d->event, NULL, SIGTERM, on_terminate, d)) < 0 ||
            (r = sd_event_add_signal(d->event, NULL, SIGINT, on_terminate, d)) < 0 ||
            (r = sd_event_add_signal(d->event, NULL, SIGHUP, on_sighup, d)) < 0)
                return r;
        r = sd_event_add_time(d->event, &d->reload_timer, CLOCK_MONOTONIC, UINT64_MAX, 10 * 1000, on_reload_timer, d);
        if (r < 0)
                return r;
        sd_event_source_set_enabled(d->reload_timer, SD_EVENT_OFF);
        /* Below every other source: timers, the control socket, child
         * exits and the watchdog are served between two files. */
        if ((r = sd_event_add_defer(d->event, &d->reload_step, on_reload_step, d)) < 0 ||
            (r = sd_event_source_set_priority(d->reload_step, SD_EVENT_PRIORITY_IDLE)) < 0 ||
            (r = sd_event_source_set_enabled(d->reload_step, SD_EVENT_OFF)) < 0)
                return r;
        r = sd_event_add_post(d->event, &d->status_post, on_status_post, d);
        if (r < 0)
                return r;
        r = sd_event_add_inotify(d->event, &d->inotify, d->jobs_dir,
                                 IN_CREATE | IN_DELETE | IN_MOVED_TO | IN_MOVED_FROM | IN_CLOSE_WRITE | IN_ATTRIB |
                                         IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR,
                                 on_inotify, d);
        if (r < 0)
                log_msg(LOG_WARNING, "cannot watch %s (%s): changes take effect on SIGHUP only", d->jobs_dir,
                        strerror(-r));
        r = sd_event_add_inotify(d->event, &d->conf_inotify, d->options->config_dir,
                                 IN_CREATE | IN_DELETE | IN_MOVED_TO | IN_MOVED_FROM | IN_CLOSE_WRITE | IN_ATTRIB |
                                         IN_ONLYDIR,
                                 on_conf_inotify, d);
        if (r < 0)
                log_msg(LOG_WARNING, "cannot watch %s (%s): tickd.conf changes take effect on SIGHUP only",
                        d->options->config_dir, strerror(-r));
        return 0;
}

static void daemon_done(struct daemon *d)
{
        d->control = control_daemon_free(d->control); /* before the scheduler: it reports to it */
        d->metrics = metrics_free(d->metrics);        /* its last file: the table and batches are still there */
        fleet_free(d->fleet);                         /* claims still pending end here (the scheduler hears of them) */
        if (d->scheduler)
                scheduler_set_fleet(d->scheduler, NULL);
        scheduler_free(d->scheduler);
        cgroup_setup_free(d->cgroup); /* after the scheduler: it borrows the path */
        d->rejected = reload_memory_free(d->rejected);
        sd_event_source_disable_unref(d->reload_timer);
        sd_event_source_disable_unref(d->reload_step);
        d->reload = reload_pass_free(d->reload);
        sd_event_source_disable_unref(d->inotify);
        sd_event_source_disable_unref(d->conf_inotify);
        sd_event_source_disable_unref(d->shutdown_timer);
        sd_event_source_disable_unref(d->shutdown_check);
        sd_event_source_disable_unref(d->status_post);
        sd_event_unref(d->event);
        tz_cache_free(d->zones);
        daemon_config_free(&d->config);
        free(d->jobs_dir);
        free(d->runtime_dir);
}

static void options_free(struct options *o)
{
        free(o->config_dir);
        free(o->state_dir);
        free(o->runtime_dir);
}

/* sd-event's signal sources need the signals blocked; runners get an
 * empty mask back before anything else runs. */
static void block_daemon_signals(void)
{
        sigset_t mask;
        sigemptyset(&mask);
        sigaddset(&mask, SIGCHLD);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        signal(SIGPIPE, SIG_IGN);
}

/* Runs the previous instance left going (a restart, or a kill) count for
 * overlap from the first reload on. The fd store first: what it hands
 * over is recorded from its pipes, the run records cover the rest. */
static void adopt_previous_runs(struct daemon *d)
{
        struct fdstore_passed passed;
        if (fdstore_passed_take(&passed) > 0) {
                size_t adopted = batch_manager_adopt(scheduler_batches(d->scheduler), &passed);
                log_msg(LOG_INFO, "took over %zu running run(s) from the previous instance", adopted);
        }
        fdstore_passed_free(&passed);
        size_t orphans = orphans_adopt(scheduler_batches(d->scheduler));
        if (orphans > 0)
                log_msg(LOG_INFO, "watching %zu run(s) left by an instance of tickd that was killed", orphans);
}

static int open_control(struct daemon *d)
{
        int r = control_daemon_new(
                &(struct control_daemon_options){ .event = d->event,
                                                  .scheduler = d->scheduler,
                                                  .jobs_dir = d->jobs_dir,
                                                  .crontab_options = &d->crontab_options,
                                                  .reload = reload_for_control,
                                                  .userdata = d,
                                                  .control = { .runtime_dir = d->runtime_dir,
                                                               .user_mode = d->options->user,
                                                               .owner_uid = getuid(),
                                                               .started_usec = clock_now_usec(CLOCK_REALTIME) } },
                &d->control);
        if (r < 0)
                log_msg(LOG_ERR, "cannot create the control socket in %s: %s", d->runtime_dir, strerror(-r));
        return r;
}

/* A cgroup per run when systemd delegated our unit's cgroup to us;
 * otherwise process groups, as before. Said once, either way. A set-up
 * that fails half way (the move into UNIT/daemon) is not fatal: runs are
 * process groups then, and the log says why. */
static void containment_setup(struct daemon *d)
{
        char why[512] = "";
        int r = cgroup_setup_detect(&d->cgroup, why, sizeof(why));
        if (r > 0)
                log_msg(LOG_INFO, "runs are contained: one cgroup per run under %s (controllers for limits: %s)",
                        d->cgroup->dir, d->cgroup->controllers[0] ? d->cgroup->controllers : "none");
        else {
                d->crontab_options.limits_unenforced = "tickd runs jobs as process groups here, not in cgroups of "
                                                       "their own (see tickd(8), CONTAINMENT)";
                log_msg(r < 0 ? LOG_WARNING : LOG_INFO,
                        "runs are process groups, not cgroups: %s; a process that leaves its group escapes "
                        "timeouts and cancels, and memory_max=, cpu_quota=, tasks_max=, io_weight= are not enforced",
                        why);
        }
}

/* From loaded settings to READY=1: directories, the event loop, runs a
 * previous instance left, the first load, the control socket (before
 * READY=1: tickctl may be run as soon as the unit is started), the
 * scheduler. Returns 0 or a negative errno, logged. */
static int daemon_start(struct daemon *d)
{
        block_daemon_signals();
        int r;
        if ((r = directory_prepare(d, d->options->state_dir, 0700)) < 0 ||
            (r = directory_prepare(d, d->runtime_dir, d->options->user ? 0700 : 0755)) < 0)
                return r;
        containment_setup(d);
        r = daemon_setup(d);
        if (r < 0) {
                log_msg(LOG_ERR, "cannot set up the event loop: %s", strerror(-r));
                return r;
        }
        adopt_previous_runs(d);
        if (reload_begin(d, "start-up", false))
                reload_end(d); /* at once: nothing else is served before the jobs are in */
        r = open_control(d);
        if (r < 0)
                return r;
        r = scheduler_start(d->scheduler);
        if (r < 0) {
                log_msg(LOG_ERR, "cannot start the scheduler: %s", strerror(-r));
                return r;
        }
        log_emit(&(struct log_record){ .event = LOG_EVENT_DAEMON_STARTED, .priority = LOG_INFO },
                 "tickd %s started: %zu job%s from %s, pid %d", TICKD_VERSION, scheduler_job_count(d->scheduler),
                 scheduler_job_count(d->scheduler) == 1 ? "" : "s", d->jobs_dir, (int)getpid());
        r = notify_watchdog_setup(d->event);
        if (r < 0)
                log_msg(LOG_WARNING, "cannot enable the watchdog: %s", strerror(-r));
        status_format(d, d->status, sizeof(d->status));
        notify_ready_status(d->status);
        return 0;
}

int main(int argc, char **argv)
{
        struct options options;
        int r = parse_options(argc, argv, &options);
        if (r >= 0) {
                options_free(&options);
                return r;
        }
        log_setup(options.log_target, options.log_level >= 0 ? options.log_level : LOG_INFO);
        struct daemon d = { .options = &options };
        d.jobs_dir = path_join(options.config_dir, "jobs.d");
        d.runtime_dir = path_join(options.runtime_dir, "tickd");
        int status = 1;
        r = !d.jobs_dir || !d.runtime_dir ? -ENOMEM : load_settings(&d);
        if (r < 0)
                goto out;
        if (options.log_level < 0)
                log_setup(options.log_target, d.config.log_level);
        if (options.check) {
                status = check_configuration(&d);
                goto out;
        }
        r = daemon_start(&d);
        if (r < 0)
                goto out;
        r = sd_event_loop(d.event);
        if (r < 0)
                log_msg(LOG_ERR, "event loop failed: %s", strerror(-r));
        status = 0;
out:
        if (status != 0 && !options.check)
                notify_errno(r < 0 ? r : -EIO, "start-up failed");
        daemon_done(&d);
        if (status == 0 && !options.check)
                log_msg(LOG_INFO, "tickd stopped");
        options_free(&options);
        return status;
}
