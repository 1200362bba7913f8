/* common.h — what tickctl's daemon commands share: the common options
 * (--config-dir, --runtime-dir, --state-dir, --user, --json, --no-pager), connecting to
 * the control socket, calling a method with a readable error, and
 * formatting times for people (JSON strings are core/json.h's). */
#ifndef TICKD_CTL_COMMON_H
#define TICKD_CTL_COMMON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <systemd/sd-bus.h>

/* Exit statuses beyond ctl.h's 0 (ok), 1 (a finding) and 2 (usage or error). */
#define CTL_EXIT_NOT_RUNNING 3 /* no daemon on the control socket */
#define CTL_EXIT_DENIED      4 /* permission denied */
/* run --wait: the run was refused or dropped before it started (overlap =
 * skip, the job removed by a reload, tickd stopping). EX_TEMPFAIL of
 * sysexits.h: try again later. */
#define CTL_EXIT_DROPPED 75

/* The exit status for a negative errno from ctl_connect()/ctl_call(). */
int ctl_exit_status(int r);

/* Options a command accepts beyond the common ones. */
enum {
        CTL_OPT_JSON = 1 << 0,
        CTL_OPT_ALL = 1 << 1,
        CTL_OPT_WAIT = 1 << 2,
        CTL_OPT_FOLLOW = 1 << 3, /* -f, --follow: sets wait too */
};

struct ctl_options {
        const char *command; /* "list", ... for messages */
        bool user_mode;
        char *config_dir;  /* /etc/tickd, $XDG_CONFIG_HOME/tickd or --config-dir */
        char *runtime_dir; /* tickd's own: /run/tickd, $XDG_RUNTIME_DIR/tickd or --runtime-dir DIR/tickd */
        char *state_dir;   /* /var/lib/tickd, $XDG_STATE_HOME/tickd or --state-dir (offline list) */
        bool json, all, wait, follow, no_pager;
        bool color;    /* stdout is a terminal and NO_COLOR is unset */
        bool terminal; /* stdout was a terminal (before any pager): see ctl_text() */
        char **args;   /* positional arguments (into argv) */
        int n_args;
};

/* The option getopt_long() just refused, as written: "-x" for a short
 * option (inside a cluster such as "-1 * * * *" getopt has not moved past
 * the word yet, so argv[optind - 1] would name the word before), else the
 * whole word. BUF holds the short form. */
const char *ctl_refused_option(char **argv, char *buf, size_t size);

/* Parses ARGV (argv[0] = the command). Returns -1 to go on, else the exit
 * status to return at once (0 after --help, 2 after a usage error).
 * USAGE is the command's synopsis line after "tickctl". */
int ctl_parse(int argc, char **argv, unsigned extra, const char *usage, struct ctl_options *o);
void ctl_options_free(struct ctl_options *o);
/* ctl_parse(), then checks that MIN_ARGS to MAX_ARGS positional arguments
 * were given (ARGS says which, for the message: "one job name"). Returns
 * -1 to go on, else the exit status to return at once (O is then freed). */
int ctl_parse_args(int argc, char **argv, unsigned extra, const char *usage, int min_args, int max_args,
                   const char *args, struct ctl_options *o);

/* GIVEN (--config-dir), else the user's or the system's configuration
 * directory, as tickd chooses it; malloc'd (NULL: no memory). */
char *ctl_config_dir(const char *given, bool user);

/* DIR/jobs.d; malloc'd. */
char *ctl_jobs_dir(const struct ctl_options *o);

/* Whether DIR/tickd.conf has a valid [fleet] section (read quietly: tickctl
 * check is where its errors are shown), for crontab_options. */
bool ctl_fleet_configured(const char *config_dir);

/* Connects to the daemon. Returns 0, or -ENOENT / -ECONNREFUSED when no
 * daemon listens (with QUIET, nothing is printed), or another negative
 * errno after printing why. */
int ctl_connect(const struct ctl_options *o, bool quiet, sd_bus **out);

/* Calls METHOD on the manager; on error prints "tickctl CMD: MESSAGE" and
 * returns a negative errno (-EACCES for permission denied). TIMEOUT_USEC 0
 * = sd-bus's default, UINT64_MAX = none. */
int ctl_call(const struct ctl_options *o, sd_bus *bus, const char *method, uint64_t timeout_usec,
             sd_bus_message **reply, const char *types, ...);
/* What ctl_call() does with a failed call R (ERROR may be unset): prints it
 * and maps the daemon's errors to -EACCES, -ENXIO (no such job), -ESRCH
 * (not running), -EBUSY (skipped) and -ECANCELED (a queued run dropped). */
int ctl_call_failed(const struct ctl_options *o, const char *method, int r, const sd_bus_error *error);

/* Asks the daemon to reload and prints its per-file report (with
 * ONLY_PATH, that file's line only). Returns 0, 1 when a shown file was
 * rejected, or a negative errno (printed). In reload.c. */
int ctl_reload_report(const struct ctl_options *o, sd_bus *bus, const char *only_path);

/* One crontab's state as reload and status show it, after PREFIX (JSON:
 * the separator; text: the indentation): a JSON object, or
 * "loaded    PATH (N jobs)" / "rejected  PATH: ERROR" and a newline. */
void ctl_print_file(const struct ctl_options *o, const char *prefix, const char *path, bool loaded, const char *error,
                    unsigned jobs);
/* Every crontab of REPLY's array of CONTROL_FILE_SIG (ListFiles, Reload,
 * GetStatus), each with ctl_print_file() after FIRST (the first printed)
 * or NEXT; with ONLY_PATH, that file alone. Returns how many printed were
 * rejected, or a negative errno. */
int ctl_print_files(const struct ctl_options *o, sd_bus_message *reply, const char *only_path, const char *first,
                    const char *next);

/* Starts $PAGER (default "less", with LESS=FRSXMK) when stdout is a
 * terminal and --no-pager was not given; ctl_pager_close() waits for it. */
void ctl_pager_open(const struct ctl_options *o);
void ctl_pager_close(void);

/* "Sun 2026-11-29 02:30:00 CET" in the local zone; "-" for 0. */
char *ctl_format_time(uint64_t usec, char *buf, size_t size);
/* "in 2h 3min", "5min 2s ago", "now"; "-" for 0. */
char *ctl_format_relative(uint64_t usec, uint64_t now_usec, char *buf, size_t size);

/* Text from the journal or the daemon (job names, job output) for a
 * terminal: with TERMINAL, each control character but tab (C0, DEL, and
 * C1 as UTF-8) is written as \xNN, so none reaches the terminal as an
 * escape sequence; without it the bytes go out as they are, for pipes.
 * ctl_put_text() writes TEXT to OUT; ctl_text() returns TEXT itself, or
 * its escaped form in BUF (cut to SIZE). */
void ctl_put_text(FILE *out, const char *text, bool terminal);
const char *ctl_text(const char *text, bool terminal, char *buf, size_t size);

/* Colour escapes, empty when colour is off: green for an outcome that
 * succeeded (log.h) and a loaded file, blue for a run started or running,
 * red for anything else. */
const char *ctl_color(const struct ctl_options *o, const char *result);
const char *ctl_color_off(const struct ctl_options *o);

#endif
