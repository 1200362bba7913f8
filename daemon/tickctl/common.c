/* common.c — options, connection, calls and formatting shared by the
 * tickctl commands that talk to tickd; see common.h. */
#include "tickctl/common.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "core/conf.h"
#include "core/json.h"
#include "shared/control-protocol.h"
#include "shared/log.h"
#include "core/timespan.h"

enum {
        ARG_CONFIG_DIR = 0x100,
        ARG_RUNTIME_DIR,
        ARG_STATE_DIR,
        ARG_USER,
        ARG_JSON,
        ARG_ALL,
        ARG_WAIT,
        ARG_FOLLOW,
        ARG_NO_PAGER,
        ARG_HELP,
};

/* $VARIABLE/tickd, else ~/FALLBACK_HOME_REL/tickd. */
static char *xdg_dir(const char *variable, const char *fallback_home_rel)
{
        const char *base = getenv(variable);
        char *out = NULL;
        if (base && base[0] == '/') {
                if (asprintf(&out, "%s/tickd", base) < 0)
                        return NULL;
                return out;
        }
        const char *home = getenv("HOME");
        if (!home || home[0] != '/') {
                struct passwd *pw = getpwuid(getuid());
                home = pw ? pw->pw_dir : "/";
        }
        if (asprintf(&out, "%s/%s/tickd", home, fallback_home_rel) < 0)
                return NULL;
        return out;
}

static void print_usage(FILE *out, const char *usage, unsigned extra)
{
        fprintf(out, "Usage: tickctl %s\n\nOptions:\n", usage);
        if (extra & CTL_OPT_ALL)
                fprintf(out, "  --all               include disabled jobs and rejected files\n");
        if (extra & CTL_OPT_WAIT)
                fprintf(out, "  --wait              wait for the outcome; exit with the job's status\n");
        if (extra & CTL_OPT_FOLLOW)
                fprintf(out, "  -f, --follow        --wait, showing the job's output (from the journal)\n");
        if (extra & CTL_OPT_JSON)
                fprintf(out, "  --json              print JSON\n");
        fprintf(out, "  --user              talk to the user instance\n"
                     "  --config-dir DIR    configuration directory (as tickd's)\n"
                     "  --runtime-dir DIR   runtime base: the socket is DIR/tickd/control (as tickd's)\n"
                     "  --state-dir DIR     tickd's state directory, read when it is not running\n"
                     "  --no-pager          do not pipe the output into a pager\n"
                     "  -h, --help          show this help\n");
}

/* GIVEN (an option's value), else the user's or the system's directory,
 * as tickd chooses them; malloc'd. */
static char *choose_dir(const char *given, bool user, const char *xdg_variable, const char *home_rel,
                        const char *system_dir)
{
        if (given)
                return strdup(given);
        return user ? xdg_dir(xdg_variable, home_rel) : strdup(system_dir);
}

char *ctl_config_dir(const char *given, bool user)
{
        return choose_dir(given, user, "XDG_CONFIG_HOME", ".config", "/etc/tickd");
}

const char *ctl_refused_option(char **argv, char *buf, size_t size)
{
        if (optopt > 0 && optopt < 256 && optopt != '?') {
                snprintf(buf, size, "-%c", optopt);
                return buf;
        }
        return argv[optind - 1];
}

/* The directories of O (the options given, else the instance's
 * defaults) and how output is shown: -1 to go on, or 2. */
static int ctl_dirs_choose(struct ctl_options *o, const char *config_dir, const char *runtime_dir,
                           const char *state_dir)
{
        o->config_dir = ctl_config_dir(config_dir, o->user_mode);
        o->state_dir = choose_dir(state_dir, o->user_mode, "XDG_STATE_HOME", ".local/state", "/var/lib/tickd");
        /* As tickd: --runtime-dir names the base, tickd's files are in BASE/tickd. */
        if (!runtime_dir && o->user_mode) {
                runtime_dir = getenv("XDG_RUNTIME_DIR");
                if (!runtime_dir || runtime_dir[0] != '/') {
                        fprintf(stderr, "tickctl %s: --user needs $XDG_RUNTIME_DIR or --runtime-dir\n", o->command);
                        return 2;
                }
        }
        if (asprintf(&o->runtime_dir, "%s/tickd", runtime_dir ? runtime_dir : "/run") < 0)
                o->runtime_dir = NULL;
        if (!o->config_dir || !o->runtime_dir || !o->state_dir) {
                fprintf(stderr, "tickctl %s: out of memory\n", o->command);
                return 2;
        }
        o->terminal = isatty(STDOUT_FILENO);
        o->color = o->terminal && !getenv("NO_COLOR") && !o->json;
        return -1;
}

int ctl_parse(int argc, char **argv, unsigned extra, const char *usage, struct ctl_options *o)
{
        static const struct option long_options[] = {
                { "config-dir", required_argument, NULL, ARG_CONFIG_DIR },
                { "runtime-dir", required_argument, NULL, ARG_RUNTIME_DIR },
                { "state-dir", required_argument, NULL, ARG_STATE_DIR },
                { "user", no_argument, NULL, ARG_USER },
                { "json", no_argument, NULL, ARG_JSON },
                { "all", no_argument, NULL, ARG_ALL },
                { "wait", no_argument, NULL, ARG_WAIT },
                { "follow", no_argument, NULL, ARG_FOLLOW },
                { "no-pager", no_argument, NULL, ARG_NO_PAGER },
                { "help", no_argument, NULL, ARG_HELP },
                {},
        };
        const char *command = argv[0];
        *o = (struct ctl_options){ .command = command };
        const char *config_dir = NULL, *runtime_dir = NULL, *state_dir = NULL;
        optind = 0; /* reset, and let getopt permute: options may follow arguments */
        int c;
        opterr = 0;
        while ((c = getopt_long(argc, argv, "afh", long_options, NULL)) >= 0) {
                bool allowed = true;
                switch (c) {
                case ARG_CONFIG_DIR: config_dir = optarg; break;
                case ARG_RUNTIME_DIR: runtime_dir = optarg; break;
                case ARG_STATE_DIR: state_dir = optarg; break;
                case ARG_USER: o->user_mode = true; break;
                case ARG_JSON:
                        o->json = true;
                        allowed = extra & CTL_OPT_JSON;
                        break;
                case 'a':
                case ARG_ALL:
                        o->all = true;
                        allowed = extra & CTL_OPT_ALL;
                        break;
                case ARG_WAIT:
                        o->wait = true;
                        allowed = extra & CTL_OPT_WAIT;
                        break;
                case 'f':
                case ARG_FOLLOW:
                        o->follow = o->wait = true;
                        allowed = extra & CTL_OPT_FOLLOW;
                        break;
                case ARG_NO_PAGER: o->no_pager = true; break;
                case 'h':
                case ARG_HELP: print_usage(stdout, usage, extra); return 0;
                default: allowed = false; break;
                }
                if (!allowed) {
                        char buf[8];
                        const char *bad = c == '?' ? ctl_refused_option(argv, buf, sizeof(buf)) : argv[optind - 1];
                        fprintf(stderr,
                                "tickctl %s: unknown option '%s'; to pass an argument that starts with "
                                "'-', put -- before it\n",
                                command, bad);
                        print_usage(stderr, usage, extra);
                        return 2;
                }
        }
        o->args = argv + optind;
        o->n_args = argc - optind;
        return ctl_dirs_choose(o, config_dir, runtime_dir, state_dir);
}

void ctl_options_free(struct ctl_options *o)
{
        free(o->config_dir);
        free(o->runtime_dir);
        free(o->state_dir);
        o->config_dir = o->runtime_dir = o->state_dir = NULL;
}

char *ctl_jobs_dir(const struct ctl_options *o)
{
        char *dir;
        return asprintf(&dir, "%s/jobs.d", o->config_dir) < 0 ? NULL : dir;
}

bool ctl_fleet_configured(const char *config_dir)
{
        _cleanup_free_ char *path = NULL;
        if (!config_dir || asprintf(&path, "%s/tickd.conf", config_dir) < 0)
                return false;
        struct daemon_config config;
        struct diagnostics ignored = { 0 };
        daemon_config_load(path, NULL, &config, &ignored);
        bool configured = config.fleet != NULL;
        daemon_config_free(&config);
        diag_free(&ignored);
        return configured;
}

int ctl_connect(const struct ctl_options *o, bool quiet, sd_bus **out)
{
        _cleanup_free_ char *path = control_socket_path(o->runtime_dir);
        if (!path)
                return -ENOMEM;
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        if (strlen(path) >= sizeof(sa.sun_path)) {
                fprintf(stderr, "tickctl %s: socket path too long: %s\n", o->command, path);
                return -ENAMETOOLONG;
        }
        strcpy(sa.sun_path, path);
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
                int r = -errno;
                close(fd);
                if (r == -ENOENT || r == -ECONNREFUSED) {
                        if (!quiet)
                                fprintf(stderr, "tickctl %s: tickd is not running (%s at %s)\n", o->command,
                                        r == -ENOENT ? "no socket" : "nobody listens", path);
                } else if (r == -EACCES) {
                        fprintf(stderr, "tickctl %s: permission denied: cannot connect to %s\n", o->command, path);
                } else {
                        fprintf(stderr, "tickctl %s: cannot connect to %s: %s\n", o->command, path, strerror(-r));
                }
                return r;
        }
        sd_bus *bus = NULL;
        int r = sd_bus_new(&bus);
        if (r < 0) {
                close(fd);
                return r;
        }
        if ((r = sd_bus_set_fd(bus, fd, fd)) < 0) {
                close(fd);
                sd_bus_unref(bus);
                return r;
        }
        if ((r = sd_bus_start(bus)) < 0) {
                fprintf(stderr, "tickctl %s: cannot talk to tickd at %s: %s\n", o->command, path, strerror(-r));
                sd_bus_flush_close_unref(bus);
                return r;
        }
        *out = bus;
        return 0;
}

int ctl_call_failed(const struct ctl_options *o, const char *method, int r, const sd_bus_error *error)
{
        if (!sd_bus_error_is_set(error)) {
                fprintf(stderr, "tickctl %s: %s failed: %s\n", o->command, method, strerror(-r));
                return r;
        }
        fprintf(stderr, "tickctl %s: %s\n", o->command, error->message ? error->message : error->name);
        static const struct {
                const char *name;
                int errno_value;
        } map[] = {
                { SD_BUS_ERROR_ACCESS_DENIED, -EACCES }, { CONTROL_ERROR_NO_SUCH_JOB, -ENXIO },
                { CONTROL_ERROR_NOT_RUNNING, -ESRCH },   { CONTROL_ERROR_BUSY, -EBUSY },
                { CONTROL_ERROR_DROPPED, -ECANCELED },
        };
        for (size_t i = 0; i < ELEMENTSOF(map); i++)
                if (sd_bus_error_has_name(error, map[i].name))
                        return map[i].errno_value;
        return r;
}

int ctl_call(const struct ctl_options *o, sd_bus *bus, const char *method, uint64_t timeout_usec,
             sd_bus_message **reply, const char *types, ...)
{
        __attribute__((cleanup(sd_bus_message_unrefp))) sd_bus_message *m = NULL;
        sd_bus_error error = SD_BUS_ERROR_NULL;
        int r = sd_bus_message_new_method_call(bus, &m, NULL, CONTROL_PATH, CONTROL_INTERFACE, method);
        if (r >= 0 && types && *types) {
                va_list ap;
                va_start(ap, types);
                r = sd_bus_message_appendv(m, types, ap);
                va_end(ap);
        }
        if (r >= 0)
                r = sd_bus_call(bus, m, timeout_usec, &error, reply);
        if (r < 0)
                r = ctl_call_failed(o, method, r, &error);
        sd_bus_error_free(&error);
        return r;
}

int ctl_parse_args(int argc, char **argv, unsigned extra, const char *usage, int min_args, int max_args,
                   const char *args, struct ctl_options *o)
{
        int r = ctl_parse(argc, argv, extra, usage, o);
        if (r < 0 && o->n_args >= min_args && o->n_args <= max_args)
                return -1;
        if (r < 0) {
                if (max_args == 0)
                        fprintf(stderr, "tickctl %s: unexpected argument '%s'\n", o->command, o->args[0]);
                else
                        fprintf(stderr, "tickctl %s: expected %s (see tickctl %s --help)\n", o->command, args,
                                o->command);
                r = 2;
        }
        ctl_options_free(o);
        return r;
}

/* How many bytes at P make a control character to escape: C0 but tab,
 * DEL, or a C1 control in UTF-8 (U+0080..U+009F, which some terminals
 * take as CSI and the like); 0 for any other character. */
static size_t control_length(const unsigned char *p)
{
        if ((*p < ' ' && *p != '\t') || *p == 0x7f)
                return 1;
        if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
                return 2;
        return 0;
}

void ctl_put_text(FILE *out, const char *text, bool terminal)
{
        if (!terminal) {
                fputs(text, out);
                return;
        }
        for (const unsigned char *p = (const unsigned char *)text; *p;) {
                size_t n = control_length(p);
                if (n == 0)
                        fputc(*p++, out);
                for (; n > 0; n--)
                        fprintf(out, "\\x%02x", *p++);
        }
}

const char *ctl_text(const char *text, bool terminal, char *buf, size_t size)
{
        if (!terminal || !text)
                return text;
        size_t len = 0;
        for (const unsigned char *p = (const unsigned char *)text; *p;) {
                char piece[9];
                size_t n = control_length(p), m = 0;
                if (n == 0)
                        piece[m++] = (char)*p++;
                for (; n > 0; n--)
                        m += (size_t)snprintf(piece + m, sizeof(piece) - m, "\\x%02x", *p++);
                if (len + m >= size)
                        break;
                memcpy(buf + len, piece, m);
                len += m;
        }
        buf[len] = '\0';
        return buf;
}

void ctl_print_file(const struct ctl_options *o, const char *prefix, const char *path, bool loaded, const char *error,
                    unsigned jobs)
{
        if (o->json) {
                printf("%s{\"path\": ", prefix);
                json_write_string(stdout, path);
                printf(", \"loaded\": %s, \"jobs\": %u, \"error\": ", loaded ? "true" : "false", jobs);
                json_write_string(stdout, error);
                printf("}");
        } else if (loaded) {
                printf("%s%sloaded%s    ", prefix, ctl_color(o, "loaded"), ctl_color_off(o));
                ctl_put_text(stdout, path, o->terminal);
                printf(" (%u job%s)\n", jobs, jobs == 1 ? "" : "s");
        } else {
                printf("%s%srejected%s  ", prefix, ctl_color(o, "rejected"), ctl_color_off(o));
                ctl_put_text(stdout, path, o->terminal);
                /* The error names the file too ("PATH:3: ..."): once is enough. */
                size_t n = strlen(path);
                if (error && strncmp(error, path, n) == 0 && error[n] == ':')
                        error += n + (error[n + 1] == ' ' ? 2 : 0);
                if (error && *error != ':')
                        fputs(": ", stdout);
                ctl_put_text(stdout, error, o->terminal);
                fputc('\n', stdout);
        }
}

int ctl_print_files(const struct ctl_options *o, sd_bus_message *reply, const char *only_path, const char *first,
                    const char *next)
{
        int r = sd_bus_message_enter_container(reply, 'a', CONTROL_FILE_SIG);
        if (r < 0)
                return r;
        int rejected = 0;
        for (unsigned printed = 0;;) {
                const char *path, *error;
                int loaded;
                unsigned jobs;
                if ((r = sd_bus_message_read(reply, CONTROL_FILE_SIG, &path, &loaded, &error, &jobs)) < 0)
                        return r;
                if (r == 0)
                        break;
                if (!*path) { /* the marker of a cut list (control-protocol.h): not a file */
                        fprintf(stderr, "tickctl %s: %s\n", o->command, error);
                        continue;
                }
                if (only_path && strcmp(only_path, path) != 0)
                        continue;
                rejected += !loaded;
                ctl_print_file(o, printed++ ? next : first, path, loaded, error, jobs);
        }
        r = sd_bus_message_exit_container(reply);
        return r < 0 ? r : rejected;
}

int ctl_exit_status(int r)
{
        if (r >= 0)
                return 0;
        if (r == -ENOENT || r == -ECONNREFUSED)
                return CTL_EXIT_NOT_RUNNING;
        if (r == -EACCES || r == -EPERM)
                return CTL_EXIT_DENIED;
        if (r == -ESRCH || r == -EBUSY) /* not running / already running: a finding */
                return 1;
        return 2;
}

static pid_t pager_pid;

void ctl_pager_open(const struct ctl_options *o)
{
        if (o->no_pager || o->json || !isatty(STDOUT_FILENO))
                return;
        const char *pager = getenv("PAGER");
        if (pager && (!*pager || strcmp(pager, "cat") == 0))
                return;
        int fds[2];
        if (pipe2(fds, O_CLOEXEC) < 0)
                return;
        fflush(stdout);
        pid_t pid = fork();
        if (pid < 0) {
                close(fds[0]);
                close(fds[1]);
                return;
        }
        if (pid == 0) {
                dup2(fds[0], STDIN_FILENO);
                setenv("LESS", "FRSXMK", 0);
                if (pager)
                        execl("/bin/sh", "sh", "-c", pager, (char *)NULL);
                execlp("less", "less", (char *)NULL);
                execlp("more", "more", (char *)NULL);
                _exit(127);
        }
        dup2(fds[1], STDOUT_FILENO);
        close(fds[0]);
        close(fds[1]);
        pager_pid = pid;
}

void ctl_pager_close(void)
{
        if (pager_pid <= 0)
                return;
        fflush(stdout);
        fclose(stdout);
        while (waitpid(pager_pid, NULL, 0) < 0 && errno == EINTR)
                ;
        pager_pid = 0;
}

char *ctl_format_time(uint64_t usec, char *buf, size_t size)
{
        if (usec == 0) {
                snprintf(buf, size, "-");
                return buf;
        }
        time_t t = (time_t)(usec / USEC_PER_SEC);
        struct tm tm;
        if (!localtime_r(&t, &tm) || strftime(buf, size, "%a %Y-%m-%d %H:%M:%S %Z", &tm) == 0)
                snprintf(buf, size, "@%llu", (unsigned long long)t);
        return buf;
}

char *ctl_format_relative(uint64_t usec, uint64_t now_usec, char *buf, size_t size)
{
        if (usec == 0) {
                snprintf(buf, size, "-");
                return buf;
        }
        bool future = usec >= now_usec;
        uint64_t d = future ? usec - now_usec : now_usec - usec;
        d -= d % USEC_PER_SEC; /* whole seconds are enough for people */
        if (d == 0) {
                snprintf(buf, size, "now");
                return buf;
        }
        /* At most two units: "2h 3min", not "2h 3min 12s". */
        static const struct {
                uint64_t usec;
                const char *name;
        } units[] = {
                { 86400 * USEC_PER_SEC, "d" },
                { 3600 * USEC_PER_SEC, "h" },
                { 60 * USEC_PER_SEC, "min" },
                { USEC_PER_SEC, "s" },
        };
        char span[64] = "";
        size_t len = 0;
        int shown = 0;
        for (size_t i = 0; i < ELEMENTSOF(units) && shown < 2; i++) {
                if (d < units[i].usec) {
                        if (shown)
                                break;
                        continue;
                }
                uint64_t n = d / units[i].usec;
                d %= units[i].usec;
                len += (size_t)snprintf(span + len, sizeof(span) - len, "%s%llu%s", shown ? " " : "",
                                        (unsigned long long)n, units[i].name);
                shown++;
        }
        snprintf(buf, size, future ? "in %s" : "%s ago", span);
        return buf;
}

const char *ctl_color(const struct ctl_options *o, const char *result)
{
        if (!o->color || !result || !*result)
                return "";
        if (log_event_from_name(result) == LOG_EVENT_SUCCEEDED || strcmp(result, "loaded") == 0)
                return "\033[0;32m";
        if (strcmp(result, "started") == 0 || strcmp(result, "running") == 0)
                return "\033[0;34m";
        return "\033[0;31m";
}

const char *ctl_color_off(const struct ctl_options *o) { return o->color ? "\033[0m" : ""; }
