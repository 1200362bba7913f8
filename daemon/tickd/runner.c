/* runner.c — the runner process: credentials, environment, exec, timeout,
 * one outcome record; see runner.h. Everything here runs in a child of the
 * daemon, so it may block, look up users and wait. */
#include "tickd/runner.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/command.h"
#include "core/strv.h"
#include "shared/clock.h"
#include "shared/log.h"
#include "tickd/collector.h"
#include "tickd/mailer.h"
#include "tickd/cgroup.h"
#include "tickd/orphans.h"
#include "tickd/output.h"
#include "tickd/runner-pam.h"

#define BATCH_FD          3
#define DEFAULT_PATH_ROOT "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define DEFAULT_PATH_USER "/usr/local/bin:/usr/bin:/bin"

_Static_assert(sizeof(struct outcome) < 512, "outcome records must stay well below PIPE_BUF");

/* Default dispositions for every signal, and a mask of exactly MASK. The
 * runner keeps SIGCHLD, SIGTERM and SIGINT blocked from the daemon's mask
 * on (it reads them through a signalfd): unblocking them even briefly
 * would let a cancel that arrives early kill the runner and orphan its job.
 * The job itself gets an empty mask. */
static void reset_signals(const sigset_t *mask)
{
        struct sigaction dfl = { .sa_handler = SIG_DFL };
        for (int sig = 1; sig < NSIG; sig++)
                if (sig != SIGKILL && sig != SIGSTOP)
                        (void)sigaction(sig, &dfl, NULL); /* fails harmlessly for reserved RT signals */
        sigprocmask(SIG_SETMASK, mask, NULL);
}

/* Returns 0 or the negative errno of the write. */
static int write_record(const struct outcome *o)
{
        /* One write() of less than PIPE_BUF: atomic; EINTR cannot split it. */
        while (write(BATCH_FD, o, sizeof(*o)) < 0)
                if (errno != EINTR)
                        return -errno;
        return 0;
}

/* The run's record in the state directory (orphans.h), with the outcome
 * when FINISHED is not NULL. Best effort: without it the run is recorded
 * as always, only not after a SIGKILL of the daemon. Returns 0 or the
 * negative errno of the write. */
static int run_record_write(const struct runner_request *req, const struct outcome *o, const struct outcome *finished)
{
        if (!req->runs_dir)
                return 0;
        struct orphan_record rec = { .on_failure = req->command != NULL,
                                     .scheduled_usec = req->scheduled_usec,
                                     .start_usec = o->start_usec,
                                     .job_pid = o->pid };
        snprintf(rec.job_name, sizeof(rec.job_name), "%s", req->job->name);
        snprintf(rec.run_id, sizeof(rec.run_id), "%s", req->run_id);
        snprintf(rec.user, sizeof(rec.user), "%s", req->user ? req->user : "");
        if (finished) {
                rec.has_outcome = true;
                rec.outcome = *finished;
        }
        return orphans_record_write(req->runs_dir, &rec);
}

/* No reader on the pipe (EPIPE) means the daemon is gone and no service
 * manager keeps the pipe for the next one: the record in the state
 * directory carries the outcome instead. */
static void write_finished(const struct runner_request *req, const struct outcome *o)
{
        if (write_record(o) == -EPIPE)
                (void)run_record_write(req, o, o);
}

static _Noreturn void report_setup_failure(const struct runner_request *req, struct outcome *o, const char *stage,
                                           int error)
{
        o->kind = OUTCOME_FINISHED;
        o->status = OUTCOME_SETUP_FAILED;
        o->error = error;
        snprintf(o->stage, sizeof(o->stage), "%s", stage);
        o->end_usec = (int64_t)clock_now_usec(CLOCK_REALTIME);
        write_finished(req, o);
        _exit(0);
}

/* The job's user and group, resolved here in the runner: NSS may block or
 * load modules, which the daemon must never do. */
struct credentials {
        uid_t uid;
        gid_t gid;
        char *name;
        char *home;
        char *shell;
        bool change;   /* the job must switch to them (or is root: its groups are set anyway) */
        gid_t *groups; /* with CHANGE: the supplementary groups, as initgroups() would set them */
        int n_groups;
};

/* initgroups() in two halves: the look-up (NSS: may block or load modules)
 * here in the runner, setgroups() in the job process, which must do
 * nothing but system calls (see job_exec()). */
/* noinline: its locals must not become a vfork()ing caller's (-Wclobbered). */
__attribute__((noinline)) static int credentials_groups(struct credentials *c)
{
        int n = 32;
        for (;;) {
                gid_t *groups = realloc(c->groups, (size_t)n * sizeof(gid_t));
                if (!groups)
                        return ENOMEM;
                c->groups = groups;
                int want = n;
                if (getgrouplist(c->name, c->gid, groups, &want) >= 0) {
                        c->n_groups = want;
                        return 0;
                }
                if (want <= n) /* no growth asked for: a failure, not a short buffer */
                        return errno ? errno : EIO;
                n = want;
        }
}

static int credentials_resolve(const struct job *job, struct credentials *out, const char **stage)
{
        errno = 0;
        struct passwd *pw = job->user ? getpwnam(job->user) : getpwuid(geteuid());
        if (!pw) {
                *stage = "user";
                return errno ? errno : ENOENT;
        }
        *out = (struct credentials){ .uid = pw->pw_uid, .gid = pw->pw_gid };
        out->name = strdup(pw->pw_name);
        out->home = strdup(pw->pw_dir && *pw->pw_dir ? pw->pw_dir : "/");
        out->shell = strdup("/bin/sh");
        if (!out->name || !out->home || !out->shell) {
                *stage = "user";
                return ENOMEM;
        }
        if (job_extra(job)->group) {
                errno = 0;
                struct group *gr = getgrnam(job_extra(job)->group);
                if (!gr) {
                        *stage = "group";
                        return errno ? errno : ENOENT;
                }
                out->gid = gr->gr_gid;
        }
        out->change = out->uid != geteuid() || out->gid != getegid() || geteuid() == 0;
        if (out->change) {
                int r = credentials_groups(out);
                if (r != 0) {
                        *stage = "initgroups";
                        return r;
                }
        }
        return 0;
}

/* Sets or replaces ENTRY ("NAME=value") in ENV (N entries so far). */
static void environment_put(char **env, size_t *n, char *entry)
{
        size_t key_len = strcspn(entry, "=");
        size_t i;
        for (i = 0; i < *n; i++)
                if (strncmp(env[i], entry, key_len) == 0 && env[i][key_len] == '=')
                        break;
        env[i] = entry;
        if (i == *n)
                (*n)++;
}

/* The environment, from scratch: nothing of the daemon's leaks into jobs.
 * PAM_ENV (pam_env's, may be NULL) comes after tickd's own variables and
 * before the job's environment=, which has the last word. */
static char **environment_build(const struct runner_request *req, const struct credentials *cred, char **pam_env)
{
        size_t extra = 0;
        for (char **e = req->job->environment; e && *e; e++)
                extra++;
        for (char **e = pam_env; e && *e; e++)
                extra++;
        char **env = calloc(10 + extra, sizeof(char *));
        if (!env)
                return NULL;
        size_t n = 0;
        const char *path = req->default_path ? req->default_path
                           : cred->uid == 0  ? DEFAULT_PATH_ROOT
                                             : DEFAULT_PATH_USER;
        if (asprintf(&env[n++], "HOME=%s", cred->home) < 0 || asprintf(&env[n++], "USER=%s", cred->name) < 0 ||
            asprintf(&env[n++], "LOGNAME=%s", cred->name) < 0 || asprintf(&env[n++], "SHELL=%s", cred->shell) < 0 ||
            asprintf(&env[n++], "PATH=%s", path) < 0 || asprintf(&env[n++], "TICKD_JOB=%s", req->job->name) < 0 ||
            asprintf(&env[n++], "TICKD_RUN_ID=%s", req->run_id) < 0)
                return NULL;
        if (req->failed_exit_status >= 0 && asprintf(&env[n++], "TICKD_EXIT_STATUS=%d", req->failed_exit_status) < 0)
                return NULL;
        for (char **e = pam_env; e && *e; e++)
                environment_put(env, &n, *e);
        /* environment= entries come last and override what came before. */
        for (char **e = req->job->environment; e && *e; e++)
                environment_put(env, &n, *e);
        env[n] = NULL;
        return env;
}

static const char *command_of(const struct runner_request *req)
{
        return req->command ? req->command : req->job->command;
}

struct exec_error {
        char stage[16];
        int error;
};

/* In the vfork() child: ERROR is the runner's memory, read once the child
 * has exited. */
static _Noreturn void job_fail(struct exec_error *error, const char *stage, int error_number)
{
        snprintf(error->stage, sizeof(error->stage), "%s", stage);
        error->error = error_number;
        _exit(127);
}

/* The job process: its own session, then credentials, then exec. It runs
 * in a vfork() child, sharing the runner's memory until it execs or exits,
 * so it only makes system calls and writes to its own stack and to ERROR:
 * everything it needs (user, groups, environment, argv) was looked up and
 * built beforehand. A failure is reported in ERROR, which the runner reads
 * once vfork() returns (the child has exec'd or exited by then). */
static _Noreturn void job_exec(const struct runner_request *req, const struct credentials *cred, char **env,
                               char **direct_argv, const int fds[static 3], int cgroup_procs_fd,
                               struct exec_error *error)
{
        /* First into the run's cgroup: from here on everything the job
         * starts is inside it, and the runner, outside, survives its kill. */
        if (cgroup_procs_fd >= 0 && write(cgroup_procs_fd, "0", 1) != 1)
                job_fail(error, "cgroup", errno);
        if (setsid() < 0)
                job_fail(error, "setsid", errno);
        if ((fds[0] >= 0 && dup2(fds[0], STDIN_FILENO) < 0) || dup2(fds[1], STDOUT_FILENO) < 0 ||
            dup2(fds[2], STDERR_FILENO) < 0)
                job_fail(error, "stdio", errno);
        /* Only stdin/stdout/stderr reach the job. */
        close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
        if (job_extra(req->job)->has_nice && setpriority(PRIO_PROCESS, 0, job_extra(req->job)->nice) < 0)
                job_fail(error, "nice", errno);
        if (cred->change) {
                if (setgroups((size_t)cred->n_groups, cred->groups) < 0)
                        job_fail(error, "initgroups", errno);
                if (setgid(cred->gid) < 0)
                        job_fail(error, "setgid", errno);
                if (setuid(cred->uid) < 0)
                        job_fail(error, "setuid", errno);
        }
        if (getuid() != cred->uid || geteuid() != cred->uid || getgid() != cred->gid || getegid() != cred->gid)
                job_fail(error, "credentials", EPERM);
        const char *dir = job_extra(req->job)->working_directory ? job_extra(req->job)->working_directory : cred->home;
        if (chdir(dir) < 0)
                job_fail(error, "chdir", errno);
        umask(job_extra(req->job)->umask >= 0 ? (mode_t)job_extra(req->job)->umask : 022);
        /* A path and plain words: what the shell would exec (command.h).
         * If that fails, the shell runs the command and reports why, with
         * its usual message and exit status. */
        if (direct_argv)
                execve(direct_argv[0], direct_argv, env);
        char *argv[] = { "sh", "-c", (char *)command_of(req), NULL };
        execve("/bin/sh", argv, env);
        job_fail(error, "exec", errno);
}

/* The job's main process is gone, but something it started still holds
 * its output pipes: a child of the runner relays what they still carry
 * until they close, so the run's outcome goes out now and no line is lost.
 * It holds nothing of the batch's: the batch completes without it.
 * SIG_FD and SIG_MASK are the runner's signalfd and the signals it takes
 * through it, which the relay takes the default way again (SIGPIPE stays
 * blocked, as in the runner). */
static void output_hand_off(struct output *out, int sig_fd, const sigset_t *sig_mask, const char *job,
                            struct mail_capture *mail)
{
        /* The mail holds what the job wrote until its main process ended:
         * the relay's lines go to the log only, never into the runner's
         * capture (a memfd whose offset the two would share). */
        output_set_tee(out, NULL, NULL);
        pid_t pid = fork();
        if (pid == 0) {
                close(BATCH_FD);
                close(sig_fd);
                mail_capture_free(mail); /* the runner's: the relay holds nothing it does not use */
                sigprocmask(SIG_UNBLOCK, sig_mask, NULL);
                char title[16];
                snprintf(title, sizeof(title), "tickd-out:%s", job);
                prctl(PR_SET_NAME, title);
                output_drain(out);
                output_free(out, true);
                _exit(0);
        }
        /* Without a relay (fork failed) the rest is lost; what is read goes out. */
        output_free(out, pid < 0);
}

void runner_preload_nss(const char *nsswitch_conf)
{
        FILE *f = fopen(nsswitch_conf, "re");
        if (!f)
                return;
        char *line = NULL;
        size_t size = 0;
        while (getline(&line, &size, f) > 0) {
                char *rest = line;
                char *database = strsep(&rest, ":");
                if (!rest || (strcmp(database, "passwd") != 0 && strcmp(database, "group") != 0 &&
                              strcmp(database, "initgroups") != 0))
                        continue;
                for (char *word; (word = strsep(&rest, " \t\n"));) {
                        /* "[NOTFOUND=return]" actions, comments and built-in modules */
                        if (*word == '#')
                                break;
                        if (!*word || *word == '[' || strchr(word, '/') || strcmp(word, "files") == 0 ||
                            strcmp(word, "dns") == 0)
                                continue; /* a '/' would make dlopen() take a path */
                        char soname[128];
                        snprintf(soname, sizeof(soname), "libnss_%s.so.2", word);
                        (void)dlopen(soname, RTLD_LAZY | RTLD_NODELETE); /* kept for the daemon's life */
                }
        }
        free(line);
        fclose(f);
}

/* The runner's signals: SIGCHLD, SIGTERM and SIGINT into *MASK, blocked,
 * to be read through a signalfd; SIGPIPE blocked too. */
static void runner_take_signals(sigset_t *mask)
{
        sigemptyset(mask);
        sigaddset(mask, SIGCHLD);
        sigaddset(mask, SIGTERM);
        sigaddset(mask, SIGINT);
        reset_signals(mask);
        /* A closed stderr (the daemon's) must cost relayed lines, never the
         * runner and with it the run's outcome: EPIPE, not SIGPIPE. Blocked,
         * not ignored, so the job (empty mask, default dispositions) gets
         * SIGPIPE as usual. */
        sigset_t pipe_mask;
        sigemptyset(&pipe_mask);
        sigaddset(&pipe_mask, SIGPIPE);
        sigprocmask(SIG_BLOCK, &pipe_mask, NULL);
}

/* Descriptors: 0 /dev/null, 1 /dev/null, 2 the daemon's stderr, 3 the
 * batch pipe; nothing else survives. */
static void runner_take_descriptors(int batch_fd)
{
        if (batch_fd != BATCH_FD) {
                if (dup3(batch_fd, BATCH_FD, O_CLOEXEC) < 0)
                        _exit(1);
        }
        close_range(BATCH_FD + 1, ~0U, 0);
        int null = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (null >= 0) {
                dup2(null, STDIN_FILENO);
                dup2(null, STDOUT_FILENO);
                if (null > BATCH_FD)
                        close(null);
        }
}

/* Everything the job process needs, looked up and built before vfork(). */
struct launch {
        struct credentials cred;
        char **env;
        char **direct_argv; /* NULL: through the shell */
        struct output *out;
        int stdin_fd;             /* the job's stdin= text; -1: /dev/null (the runner's own 0) */
        int output_fd, stderr_fd; /* the job's ends of the output pipes */
        struct exec_error *exec_error;
        struct mail_capture *mail; /* NULL: no mail, or mail_error says why not */
        int mail_error;
        struct cgroup_run cgroup; /* dir_fd < 0: no cgroup (process-group mode) */
        struct runner_pam *pam;   /* NULL: no PAM for this run */
};

static void mail_tee(void *userdata, const char *line, size_t len) { mail_capture_line(userdata, line, len); }

/* A job that mails keeps a copy of its output (mailer.h); on_failure
 * commands do not mail. Without a copy, the run still runs: its record
 * says why no mail was sent. */
static void launch_mail(const struct runner_request *req, struct launch *l)
{
        l->mail = NULL;
        l->mail_error = 0;
        if (!job_extra(req->job)->mail_to || req->command)
                return;
        l->mail = mail_capture_new();
        if (l->mail)
                output_set_tee(l->out, mail_tee, l->mail);
        else
                l->mail_error = errno;
}

/* The job's stdin= text in a memfd, read from its start. Not a pipe: a
 * pipe holds 64 KiB at most, and the runner would have to write it while
 * the job reads; a file is complete before the job starts, and reads the
 * same (EOF at its end). Returns the descriptor or a negative errno. */
static int stdin_open(const char *text)
{
        int fd = memfd_create("tickd-stdin", MFD_CLOEXEC);
        if (fd < 0)
                return -errno;
        size_t len = strlen(text);
        for (size_t done = 0; done < len;) {
                ssize_t n = write(fd, text + done, len - done);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0) {
                        int r = n < 0 ? -errno : -EIO;
                        close(fd);
                        return r;
                }
                done += (size_t)n;
        }
        if (lseek(fd, 0, SEEK_SET) < 0) {
                int r = -errno;
                close(fd);
                return r;
        }
        return fd;
}

/* pam = yes (the job's, else tickd.conf's) in a daemon that can switch
 * users: the PAM account check and session, before anything is forked. */
static void launch_pam(const struct runner_request *req, struct launch *l, struct outcome *o)
{
        l->pam = NULL;
        bool wanted = job_extra(req->job)->pam >= 0 ? job_extra(req->job)->pam : req->pam;
        if (!wanted || geteuid() != 0)
                return;
        const char *stage = "pam";
        int r = runner_pam_open(l->cred.name, &l->pam, &stage, o->detail, sizeof(o->detail));
        if (r < 0)
                report_setup_failure(req, o, stage, -r);
}

/* Fills L, or reports the stage that failed and exits. */
static void launch_prepare(const struct runner_request *req, struct launch *l, struct outcome *o)
{
        const char *stage = NULL;
        int r = credentials_resolve(req->job, &l->cred, &stage);
        /* A user deleted since the file was loaded: the daemon never looks
         * users up, so this is where it shows. */
        if (r == ENOENT && strcmp(stage, "user") == 0 && req->job->user)
                snprintf(o->detail, sizeof(o->detail), "user '%s' does not exist (deleted since?)", req->job->user);
        if (r != 0)
                report_setup_failure(req, o, stage, r);
        launch_pam(req, l, o);
        l->env = environment_build(req, &l->cred, runner_pam_environment(l->pam));
        if (!l->env)
                report_setup_failure(req, o, "environment", ENOMEM);
        r = output_open(req->job->name, req->run_id, !req->relay_output, &l->out, &l->output_fd, &l->stderr_fd);
        if (r < 0)
                report_setup_failure(req, o, "output", -r);
        launch_mail(req, l);
        /* stdin= belongs to the command; an on_failure command reads /dev/null. */
        l->stdin_fd = -1;
        if (job_extra(req->job)->stdin_text && !req->command) {
                l->stdin_fd = stdin_open(job_extra(req->job)->stdin_text);
                if (l->stdin_fd < 0)
                        report_setup_failure(req, o, "stdin", -l->stdin_fd);
        }
        l->exec_error = calloc(1, sizeof(*l->exec_error));
        if (!l->exec_error)
                report_setup_failure(req, o, "exec", ENOMEM);
        l->direct_argv = NULL;
        (void)command_split_simple(command_of(req), &l->direct_argv); /* -ENOMEM: the shell it is */
        l->cgroup = (struct cgroup_run){ .dir_fd = -1, .procs_fd = -1, .parent_fd = -1 };
        /* Last: nothing that can fail after it may leave the cgroup behind. */
        if (req->cgroup_dir) {
                r = cgroup_run_create(req->cgroup_dir, req->job->name, req->run_id, &job_extra(req->job)->limits,
                                      &l->cgroup, o->detail, sizeof(o->detail));
                if (r < 0)
                        report_setup_failure(req, o, "cgroup", -r);
        }
}

/* Starts the job; returns its pid, which is also its process group (the
 * job makes itself a session and group leader with setsid(); the runner
 * must not setpgid() it, or setsid() fails with EPERM). vfork: no copy of
 * the runner's page tables (a copy of the daemon's) for a process that is
 * about to exec; the runner waits the few system calls until it has. */
static pid_t job_spawn(const struct runner_request *req, struct launch *l, struct outcome *o)
{
        pid_t pid = vfork();
        if (pid < 0) {
                int e = errno;
                (void)cgroup_run_remove(&l->cgroup);
                report_setup_failure(req, o, "fork", e);
        }
        if (pid == 0) {
                sigset_t empty;
                sigemptyset(&empty);
                sigprocmask(SIG_SETMASK, &empty, NULL);
                const int fds[3] = { l->stdin_fd, l->output_fd, l->stderr_fd };
                job_exec(req, &l->cred, l->env, l->direct_argv, fds, l->cgroup.procs_fd, l->exec_error);
        }
        if (l->cgroup.procs_fd >= 0) {
                close(l->cgroup.procs_fd);
                l->cgroup.procs_fd = -1;
        }
        if (l->stdin_fd >= 0)
                close(l->stdin_fd);
        close(l->output_fd);
        if (l->stderr_fd != l->output_fd)
                close(l->stderr_fd);
        strv_free(l->direct_argv);
        l->direct_argv = NULL;
        return pid;
}

/* A running job as the runner watches it: its deadlines and the events
 * that end it. */
struct watch {
        pid_t pid;
        int sig_fd;
        struct output *out;
        int64_t timeout_at; /* CLOCK_MONOTONIC; 0: none */
        int64_t kill_at;    /* SIGTERM sent, SIGKILL due; INT64_MAX: sent; 0: neither */
        uint64_t grace;
        const struct cgroup_run *cgroup; /* dir_fd < 0: none */
};

/* SIG to the job's group and, with a cgroup, to every process in it:
 * setsid()'d and daemonised descendants included. */
static void watch_signal(const struct watch *w, int sig)
{
        kill(-w->pid, sig);
        (void)cgroup_run_signal(w->cgroup, sig);
}

/* SIGTERM to the job now, SIGKILL after the grace period. */
static void watch_stop_job(struct watch *w, int64_t now)
{
        watch_signal(w, SIGTERM);
        w->kill_at = now + (int64_t)w->grace;
}

/* Acts on deadlines that have passed; returns how long poll() may wait
 * for the next one, in milliseconds (-1: none). */
static int watch_deadlines(struct watch *w, struct outcome *o)
{
        int64_t now = (int64_t)clock_now_usec(CLOCK_MONOTONIC);
        if (w->timeout_at && now >= w->timeout_at && !w->kill_at) {
                o->timed_out = 1;
                watch_stop_job(w, now);
        }
        if (w->kill_at && now >= w->kill_at) {
                watch_signal(w, SIGKILL);
                w->kill_at = INT64_MAX;
        }
        int64_t next = w->kill_at && w->kill_at != INT64_MAX ? w->kill_at : !w->kill_at ? w->timeout_at : 0;
        if (!next)
                return -1;
        int64_t ms = (next - now + 999) / 1000;
        return ms < 0 ? 0 : ms > 60000 ? 60000 : (int)ms;
}

/* SIGTERM or SIGINT to the runner: the daemon cancels the run. */
static void watch_read_signals(struct watch *w, struct outcome *o)
{
        struct signalfd_siginfo si;
        while (read(w->sig_fd, &si, sizeof(si)) == sizeof(si)) {
                if ((si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) && !w->kill_at) {
                        o->cancelled = 1;
                        watch_stop_job(w, (int64_t)clock_now_usec(CLOCK_MONOTONIC));
                }
        }
}

/* Waits until the job's main process has ended, enforcing its timeout and
 * cancels and relaying its output meanwhile; returns 0 with *WSTATUS and
 * *RU filled, or the negative errno of a poll() that failed. */
static int watch_until_exit(struct watch *w, struct outcome *o, int *wstatus, struct rusage *ru)
{
        for (;;) {
                if (wait4(w->pid, wstatus, WNOHANG, ru) == w->pid)
                        return 0;
                int wait_ms = watch_deadlines(w, o);
                struct pollfd fds[1 + OUTPUT_POLLFDS_MAX] = { { .fd = w->sig_fd, .events = POLLIN } };
                size_t n_fds = 1 + output_pollfds(w->out, fds + 1);
                if (poll(fds, n_fds, wait_ms) < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (fds[0].revents & POLLIN)
                        watch_read_signals(w, o);
                for (size_t i = 1; i < n_fds; i++)
                        if (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) {
                                output_pump(w->out);
                                break;
                        }
        }
}

/* The runner cannot watch the job any more: it could neither enforce a
 * timeout nor relay output, and the job's status is not known yet. The job
 * must not outlive its run unwatched, so its group is killed and reaped. */
static void watch_abandon(struct watch *w, int *wstatus, struct rusage *ru)
{
        watch_signal(w, SIGKILL);
        while (wait4(w->pid, wstatus, 0, ru) < 0 && errno == EINTR)
                ;
}

/* kill_leftovers = no: what the main process left behind goes on in the
 * run's cgroup, and a child of the runner removes the cgroup once it is
 * empty, so that none outlives its processes. Like the output relay, it
 * holds nothing of the batch's. */
static void cgroup_hand_off(struct cgroup_run *cg, int sig_fd, const sigset_t *sig_mask, const char *job)
{
        pid_t pid = fork();
        if (pid == 0) {
                close(BATCH_FD);
                close(sig_fd);
                sigprocmask(SIG_UNBLOCK, sig_mask, NULL);
                char title[16];
                snprintf(title, sizeof(title), "tickd-left:%s", job);
                prctl(PR_SET_NAME, title);
                while (cgroup_run_wait_empty(cg, 60000) == -ETIMEDOUT)
                        ;
                (void)cgroup_run_remove(cg);
                _exit(0);
        }
        cgroup_run_close(cg);
}

/* The main process has exited: the rest of the run's cgroup. After a stop
 * (timeout, cancel) everything in it ends, SIGKILL at the stop's own
 * deadline; otherwise leftovers are counted and killed with
 * kill_leftovers = yes. Then the whole cgroup's accounting, and the
 * cgroup goes. */
static void cgroup_finish(const struct runner_request *req, struct watch *w, struct cgroup_run *cg, struct outcome *o,
                          const sigset_t *sig_mask)
{
        o->in_cgroup = 1;
        int n = cgroup_run_count(cg);
        o->leftovers = n > 0 ? n : 0;
        bool stopping = w->kill_at != 0;
        if (n > 0 && stopping && w->kill_at != INT64_MAX) {
                int64_t left_ms = (w->kill_at - (int64_t)clock_now_usec(CLOCK_MONOTONIC)) / 1000;
                (void)cgroup_run_wait_empty(cg, left_ms > 0 ? (int)left_ms : 0);
        }
        if (n > 0 && (stopping || req->job->kill_leftovers)) {
                (void)cgroup_run_signal(cg, SIGKILL);
                o->leftovers_killed = cgroup_run_wait_empty(cg, 10000) == 0;
        }
        struct cgroup_stats st;
        cgroup_run_stats(cg, &st);
        o->cgroup_cpu_usec = st.cpu_usec;
        o->memory_peak = st.memory_peak;
        o->oom_kills = st.oom_kills;
        if (cgroup_run_count(cg) > 0)
                cgroup_hand_off(cg, w->sig_fd, sig_mask, req->job->name);
        else
                (void)cgroup_run_remove(cg);
}

/* The chdir stage's failure in words: which directory, and why that one. */
static void chdir_detail(struct outcome *o, const struct runner_request *req, const struct credentials *cred)
{
        if (job_extra(req->job)->working_directory)
                snprintf(o->detail, sizeof(o->detail), "cannot enter working_directory %s: %s",
                         job_extra(req->job)->working_directory, strerror(o->error));
        else
                snprintf(o->detail, sizeof(o->detail),
                         "cannot enter %s, the home directory of user '%s' (set working_directory=): %s", cred->home,
                         cred->name, strerror(o->error));
}

/* The FINISHED record: resources, then why the job ended. WATCH_ERROR is
 * the errno of a failed poll() (0: the runner saw the job end). */
static void outcome_finish(struct outcome *o, int64_t start_mono, const struct rusage *ru, int wstatus,
                           const struct exec_error *exec_error, int watch_error)
{
        o->kind = OUTCOME_FINISHED;
        o->end_usec = (int64_t)clock_now_usec(CLOCK_REALTIME);
        o->duration_usec = (int64_t)clock_now_usec(CLOCK_MONOTONIC) - start_mono;
        o->user_usec = (int64_t)ru->ru_utime.tv_sec * 1000000 + ru->ru_utime.tv_usec;
        o->system_usec = (int64_t)ru->ru_stime.tv_sec * 1000000 + ru->ru_stime.tv_usec;
        o->maxrss_kb = ru->ru_maxrss;
        if (exec_error->error) {
                o->status = OUTCOME_SETUP_FAILED;
                o->error = exec_error->error;
                snprintf(o->stage, sizeof(o->stage), "%s", exec_error->stage);
        } else if (watch_error) {
                o->status = OUTCOME_SETUP_FAILED;
                o->error = watch_error;
                snprintf(o->stage, sizeof(o->stage), "poll");
        } else if (WIFSIGNALED(wstatus)) {
                o->status = OUTCOME_SIGNALED;
                o->signal = WTERMSIG(wstatus);
        } else {
                o->status = OUTCOME_EXITED;
                o->code = WEXITSTATUS(wstatus);
        }
}

/* The run's mail, when its job asks for one: after the outcome is known
 * (the mail says how the run ended), before it is reported. */
static void run_mail(const struct runner_request *req, struct launch *l, struct outcome *o, int sig_fd)
{
        if (!job_extra(req->job)->mail_to || req->command)
                return;
        enum log_event event = collector_outcome_event(o); /* the word the run's record will have */
        if (l->mail &&
            !mail_wanted(job_extra(req->job)->mail_on, mail_capture_any(l->mail), event == LOG_EVENT_SUCCEEDED)) {
                l->mail = mail_capture_free(l->mail);
                return;
        }
        if (!req->sendmail || !l->mail) {
                o->mail = MAIL_RESULT_NOT_SENT;
                snprintf(o->mail_detail, sizeof(o->mail_detail), "%s",
                         !req->sendmail ? "no sendmail configured" : "cannot keep the output for mail");
                if (l->mail_error)
                        snprintf(o->mail_detail, sizeof(o->mail_detail), "cannot keep the output for mail: %s",
                                 strerror(l->mail_error));
                return;
        }
        char host[256] = "localhost";
        (void)gethostname(host, sizeof(host) - 1);
        struct mail_message m = { .user = l->cred.name,
                                  .host = host,
                                  .to = job_extra(req->job)->mail_to,
                                  .job = req->job->name,
                                  .command = command_of(req),
                                  .run_id = req->run_id,
                                  .result = log_event_name(event),
                                  .has_exit_status = o->status == OUTCOME_EXITED,
                                  .exit_status = o->code,
                                  .signal = o->status == OUTCOME_SIGNALED ? o->signal : 0 };
        struct mail_identity id = { .uid = l->cred.uid,
                                    .gid = l->cred.gid,
                                    .groups = l->cred.groups,
                                    .n_groups = l->cred.n_groups,
                                    .change = l->cred.change,
                                    .name = l->cred.name,
                                    .home = l->cred.home };
        struct mail_delivery d = { .sendmail = req->sendmail, .message = &m, .identity = &id, .sig_fd = sig_fd };
        o->mail = (uint8_t)mail_send(l->mail, &d, o->mail_detail, sizeof(o->mail_detail));
        l->mail = mail_capture_free(l->mail);
}

_Noreturn void runner_main(const struct runner_request *req)
{
        log_set_observer(NULL, NULL); /* the daemon's metrics are the daemon's: not counted twice here */
        sigset_t mask;
        runner_take_signals(&mask);
        runner_take_descriptors(req->batch_fd);
        char title[16];
        snprintf(title, sizeof(title), "tickd:%s", req->job->name);
        prctl(PR_SET_NAME, title);

        struct outcome o = { .kind = OUTCOME_STARTED,
                             .slot = req->slot,
                             .start_usec = (int64_t)clock_now_usec(CLOCK_REALTIME) };
        int64_t start_mono = (int64_t)clock_now_usec(CLOCK_MONOTONIC);

        /* SIGCHLD (the job ended) and SIGTERM/SIGINT (cancel) as readable
         * events; the job gets an empty mask back before exec. */
        int sig_fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
        if (sig_fd < 0)
                report_setup_failure(req, &o, "signalfd", errno);

        struct launch launch;
        launch_prepare(req, &launch, &o);
        o.pid = job_spawn(req, &launch, &o);
        /* The daemon logs a record that cannot be written (a full disk),
         * once for all runs: it learns of it from the STARTED record. */
        o.error = -run_record_write(req, &o, NULL);
        (void)write_record(&o); /* a STARTED record nobody reads costs nothing */
        o.error = 0;

        struct watch w = { .pid = o.pid,
                           .sig_fd = sig_fd,
                           .out = launch.out,
                           .grace = job_extra(req->job)->kill_grace_usec,
                           .cgroup = &launch.cgroup,
                           .timeout_at = req->job->timeout_usec ? start_mono + (int64_t)req->job->timeout_usec : 0 };
        int wstatus = 0;
        struct rusage ru = { 0 };
        int r = watch_until_exit(&w, &o, &wstatus, &ru);
        if (r < 0)
                watch_abandon(&w, &wstatus, &ru);
        /* Before the output: killed leftovers close the pipes they held. */
        if (launch.cgroup.dir_fd >= 0)
                cgroup_finish(req, &w, &launch.cgroup, &o, &mask);
        runner_pam_close(launch.pam); /* the session ends with the job's main process, as cron's does */
        /* The main process is gone: what it wrote is in the pipes. Background
         * processes that still hold them must not hold the run open. */
        if (output_pump(launch.out))
                output_hand_off(launch.out, sig_fd, &mask, req->job->name, launch.mail);
        else
                output_free(launch.out, true);

        outcome_finish(&o, start_mono, &ru, wstatus, launch.exec_error, -r);
        if (o.status == OUTCOME_SETUP_FAILED && strcmp(o.stage, "chdir") == 0)
                chdir_detail(&o, req, &launch.cred);
        run_mail(req, &launch, &o, sig_fd);
        write_finished(req, &o);
        _exit(0);
}
