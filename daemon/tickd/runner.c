/* runner.c — the runner process: credentials, environment, exec, timeouts,
 * outcome records, for one run or for a batch's runs; see runner.h.
 * Everything here runs in a child of the daemon, so it may block, look up
 * users and wait — but a runner of several runs never waits for one of
 * them where the others could be kept waiting (runner.h lists the steps
 * that go to a child of their own instead). */
#include "tickd/runner.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
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
#include "shared/proc-stat.h"
#include "tickd/collector.h"
#include "tickd/mailer.h"
#include "tickd/cgroup.h"
#include "tickd/orphans.h"
#include "tickd/output.h"
#include "tickd/runner-pam.h"

#define BATCH_FD          3
#define GO_FD             4 /* a prepared runner's go channel (runner_main_prepared()) */
#define DEFAULT_PATH_ROOT "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define DEFAULT_PATH_USER "/usr/local/bin:/usr/bin:/bin"
#define ENV_OWN_MAX       8 /* the variables tickd sets itself (environment_build()) */

_Static_assert(sizeof(struct outcome) < 512, "outcome records must stay well below PIPE_BUF");

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

/* One user= and group= pair as resolved for a run of this runner: the
 * other runs of a batch with the same pair (most of them, usually) take
 * it as it is instead of asking the name service again. */
struct credentials_entry {
        struct credentials_entry *next;
        const char *user, *group; /* the job's user= and group=; NULL: not set */
        struct credentials cred;
};

struct exec_error {
        char stage[16];
        int error;
};

/* Everything the job process needs, looked up and built before vfork(). */
struct launch {
        const struct credentials *cred; /* the runner's (credentials_entry) */
        char **env;
        char *env_own[ENV_OWN_MAX]; /* the strings of ENV that are ours to free */
        size_t n_env_own;
        char **direct_argv; /* NULL: through the shell */
        struct output *out;
        int stdin_fd;             /* the job's stdin= text; -1: /dev/null (the runner's own 0) */
        int output_fd, stderr_fd; /* the job's ends of the output pipes; -1 once it has them */
        struct exec_error *exec_error;
        struct mail_capture *mail; /* NULL: no mail, or mail_error says why not */
        int mail_error;
        struct cgroup_run cgroup; /* dir_fd < 0: no cgroup (process-group mode) */
        struct runner_pam *pam;   /* NULL: no PAM for this run */
};

/* A running job as the runner watches it: its deadlines and the events
 * that end it. */
struct watch {
        pid_t pid;
        int64_t timeout_at; /* CLOCK_MONOTONIC; 0: none */
        int64_t kill_at;    /* SIGTERM sent, SIGKILL due; INT64_MAX: sent; 0: neither */
        uint64_t grace;
        const struct cgroup_run *cgroup; /* dir_fd < 0: none */
};

enum run_state {
        RUN_PENDING, /* its job is not started yet */
        RUN_RUNNING, /* its job's main process runs */
        RUN_DONE,    /* reported, or handed to a finisher child */
};

/* One run of this runner. */
struct runner_run {
        const struct runner_request *req;
        enum run_state state;
        bool cancel;         /* cancelled before its job was started */
        bool prepare_failed; /* prepared ahead and failed: prepared again at its go, to report it */
        struct outcome o;
        int64_t start_mono;
        struct launch launch;
        struct watch w;
        int wstatus;
        struct rusage ru;
        int watch_error; /* errno of a failed poll(): the runner did not see the job end */
        pid_t finisher;  /* the child that finishes the run (shared runner); 0: none */
};

/* The process group of a stopped run (timeout, cancel) whose main
 * process exited within the stop's grace, with members left: they had
 * SIGTERM with it, and get their SIGKILL at the stop's deadline as the
 * main process would have (process-group mode: a cgroup's leftovers are
 * cgroup_finish()'s). The group's number cannot be reused while a member
 * is left; the runner checks at every pass that one is. */
struct group_kill {
        pid_t pgid;
        int64_t kill_at; /* CLOCK_MONOTONIC */
};

/* The runner process: its runs and what it watches them with. */
struct runner {
        struct runner_run *runs;
        size_t n;
        size_t n_open;      /* runs not DONE */
        size_t n_finishers; /* finisher children not reaped yet */
        bool shared;        /* more than one run: nothing may wait for one run */
        bool cancel_all;    /* SIGTERM or SIGINT: every run, started or not */
        bool preparing;     /* ahead of the go: a failed preparation is not reported yet */
        int watch_error;    /* a poll() failed: no run can be watched any more */
        int sig_fd;
        sigset_t mask;
        struct rlimit nofile; /* the limit the jobs get back when the runner raised its own */
        bool nofile_raised;
        struct credentials_entry *creds;
        struct group_kill *kills; /* one per run at most */
        size_t n_kills;
        struct pollfd *fds;
        size_t *fd_run; /* the run of each entry of FDS after the signalfd */
};

/* Default dispositions for every signal, and a mask of exactly MASK. The
 * runner keeps its signals blocked from the daemon's mask on (it reads
 * them through a signalfd): unblocking them even briefly would let a
 * cancel that arrives early kill the runner and orphan its jobs. The job
 * itself gets an empty mask. */
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
                                     .job_pid = o->pid,
                                     .slot = req->slot };
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

static void credentials_clear(struct credentials *c)
{
        free(c->name);
        free(c->home);
        free(c->shell);
        free(c->groups);
        *c = (struct credentials){ 0 };
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

static bool same_name(const char *a, const char *b) { return a == b || (a && b && strcmp(a, b) == 0); }

/* JOB's credentials, resolved once per user= and group= in this runner
 * (a failure is not kept: the next run asks again). Returns 0 or an errno
 * with *STAGE. */
static int credentials_get(struct runner *r, const struct job *job, const struct credentials **out, const char **stage)
{
        for (struct credentials_entry *e = r->creds; e; e = e->next)
                if (same_name(e->user, job->user) && same_name(e->group, job_extra(job)->group)) {
                        *out = &e->cred;
                        return 0;
                }
        struct credentials_entry *e = calloc(1, sizeof(*e));
        if (!e) {
                *stage = "user";
                return ENOMEM;
        }
        int error = credentials_resolve(job, &e->cred, stage);
        if (error != 0) {
                credentials_clear(&e->cred);
                free(e);
                return error;
        }
        e->user = job->user;
        e->group = job_extra(job)->group;
        e->next = r->creds;
        r->creds = e;
        *out = &e->cred;
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

__attribute__((format(printf, 2, 3))) static bool environment_own(struct launch *l, const char *format, ...)
{
        va_list ap;
        va_start(ap, format);
        int r = vasprintf(&l->env_own[l->n_env_own], format, ap);
        va_end(ap);
        if (r < 0)
                return false;
        l->n_env_own++;
        return true;
}

/* The environment, from scratch: nothing of the daemon's leaks into jobs.
 * PAM_ENV (pam_env's, may be NULL) comes after tickd's own variables and
 * before the job's environment=, which has the last word. L->env_own
 * keeps the strings built here (the others are the job's or PAM's). */
static char **environment_build(const struct runner_request *req, struct launch *l, char **pam_env)
{
        const struct credentials *cred = l->cred;
        const char *path = req->default_path ? req->default_path
                           : cred->uid == 0  ? DEFAULT_PATH_ROOT
                                             : DEFAULT_PATH_USER;
        if (!environment_own(l, "HOME=%s", cred->home) || !environment_own(l, "USER=%s", cred->name) ||
            !environment_own(l, "LOGNAME=%s", cred->name) || !environment_own(l, "SHELL=%s", cred->shell) ||
            !environment_own(l, "PATH=%s", path) || !environment_own(l, "TICKD_JOB=%s", req->job->name) ||
            !environment_own(l, "TICKD_RUN_ID=%s", req->run_id))
                return NULL;
        if (req->failed_exit_status >= 0 && !environment_own(l, "TICKD_EXIT_STATUS=%d", req->failed_exit_status))
                return NULL;
        size_t extra = 0;
        for (char **e = req->job->environment; e && *e; e++)
                extra++;
        for (char **e = pam_env; e && *e; e++)
                extra++;
        char **env = calloc(ENV_OWN_MAX + 1 + extra, sizeof(char *));
        if (!env)
                return NULL;
        size_t n = l->n_env_own;
        memcpy(env, l->env_own, n * sizeof(char *));
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

/* In the vfork() child: ERROR is the runner's memory, read once the child
 * has exited. */
static _Noreturn void job_fail(struct exec_error *error, const char *stage, int error_number)
{
        snprintf(error->stage, sizeof(error->stage), "%s", stage);
        error->error = error_number;
        _exit(127);
}

/* What job_exec() needs besides the request: built beforehand. */
struct exec_plan {
        const struct credentials *cred;
        char **env;
        char **direct_argv;
        int fds[3];
        int cgroup_procs_fd;
        const struct rlimit *nofile; /* the descriptor limit to give back; NULL: the runner's is the daemon's */
        struct exec_error *error;
};

/* The job process: its own session, then credentials, then exec. It runs
 * in a vfork() child, sharing the runner's memory until it execs or exits,
 * so it only makes system calls and writes to its own stack and to ERROR:
 * everything it needs (user, groups, environment, argv) was looked up and
 * built beforehand. A failure is reported in ERROR, which the runner reads
 * once vfork() returns (the child has exec'd or exited by then). */
static _Noreturn void job_exec(const struct runner_request *req, const struct exec_plan *p)
{
        const struct credentials *cred = p->cred;
        /* First into the run's cgroup: from here on everything the job
         * starts is inside it, and the runner, outside, survives its kill. */
        if (p->cgroup_procs_fd >= 0 && write(p->cgroup_procs_fd, "0", 1) != 1)
                job_fail(p->error, "cgroup", errno);
        if (setsid() < 0)
                job_fail(p->error, "setsid", errno);
        if ((p->fds[0] >= 0 && dup2(p->fds[0], STDIN_FILENO) < 0) || dup2(p->fds[1], STDOUT_FILENO) < 0 ||
            dup2(p->fds[2], STDERR_FILENO) < 0)
                job_fail(p->error, "stdio", errno);
        /* Only stdin/stdout/stderr reach the job. */
        close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
        if (p->nofile && setrlimit(RLIMIT_NOFILE, p->nofile) < 0)
                job_fail(p->error, "rlimit", errno);
        if (job_extra(req->job)->has_nice && setpriority(PRIO_PROCESS, 0, job_extra(req->job)->nice) < 0)
                job_fail(p->error, "nice", errno);
        if (cred->change) {
                if (setgroups((size_t)cred->n_groups, cred->groups) < 0)
                        job_fail(p->error, "initgroups", errno);
                if (setgid(cred->gid) < 0)
                        job_fail(p->error, "setgid", errno);
                if (setuid(cred->uid) < 0)
                        job_fail(p->error, "setuid", errno);
        }
        if (getuid() != cred->uid || geteuid() != cred->uid || getgid() != cred->gid || getegid() != cred->gid)
                job_fail(p->error, "credentials", EPERM);
        const char *dir = job_extra(req->job)->working_directory ? job_extra(req->job)->working_directory : cred->home;
        if (chdir(dir) < 0)
                job_fail(p->error, "chdir", errno);
        umask(job_extra(req->job)->umask >= 0 ? (mode_t)job_extra(req->job)->umask : 022);
        /* A path and plain words: what the shell would exec (command.h).
         * If that fails, the shell runs the command and reports why, with
         * its usual message and exit status. */
        if (p->direct_argv)
                execve(p->direct_argv[0], p->direct_argv, p->env);
        char *argv[] = { "sh", "-c", (char *)command_of(req), NULL };
        execve("/bin/sh", argv, p->env);
        job_fail(p->error, "exec", errno);
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

/* The runner's signals: SIGCHLD, SIGTERM, SIGINT and SIGRTMIN (cancel of
 * one run) into *MASK, blocked, to be read through a signalfd; SIGPIPE
 * blocked too. */
static void runner_take_signals(sigset_t *mask)
{
        sigemptyset(mask);
        sigaddset(mask, SIGCHLD);
        sigaddset(mask, SIGTERM);
        sigaddset(mask, SIGINT);
        sigaddset(mask, SIGRTMIN);
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
 * batch pipe, 4 a prepared runner's go channel (GO_FD >= 0); nothing else
 * survives. */
static void runner_take_descriptors(int batch_fd, int go_fd)
{
        /* Out of the way first: either may be the other's number. */
        if (go_fd >= 0 && (go_fd = fcntl(go_fd, F_DUPFD_CLOEXEC, GO_FD + 1)) < 0)
                _exit(1);
        if (batch_fd != BATCH_FD) {
                if (dup3(batch_fd, BATCH_FD, O_CLOEXEC) < 0)
                        _exit(1);
        }
        if (go_fd >= 0 && dup3(go_fd, GO_FD, O_CLOEXEC) < 0)
                _exit(1);
        close_range(go_fd >= 0 ? GO_FD + 1 : BATCH_FD + 1, ~0U, 0);
        int null = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (null >= 0) {
                dup2(null, STDIN_FILENO);
                dup2(null, STDOUT_FILENO);
                if (null > BATCH_FD)
                        close(null);
        }
}

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

static void close_fd(int *fd)
{
        if (*fd >= 0)
                close(*fd);
        *fd = -1;
}

/* Everything L still holds, closed and freed; its cgroup is closed, not
 * removed (cgroup_finish() removes it), and a PAM session is the
 * caller's to close. A shared runner's other runs go on: nothing of a run
 * may stay open after it. */
static void launch_release(struct launch *l)
{
        output_free(l->out, false);
        l->out = NULL;
        close_fd(&l->stdin_fd);
        if (l->stderr_fd == l->output_fd)
                l->stderr_fd = -1;
        close_fd(&l->output_fd);
        close_fd(&l->stderr_fd);
        cgroup_run_close(&l->cgroup);
        free(l->env);
        l->env = NULL;
        for (size_t i = 0; i < l->n_env_own; i++)
                free(l->env_own[i]);
        l->n_env_own = 0;
        strv_free(l->direct_argv);
        l->direct_argv = NULL;
        free(l->exec_error);
        l->exec_error = NULL;
        l->mail = mail_capture_free(l->mail);
}

/* L's PAM session, if any, ends (in the runner only: a child that
 * releases another run's launch must not end that run's session). */
static void launch_session_end(struct launch *l)
{
        runner_pam_close(l->pam);
        l->pam = NULL;
}

/* RUN failed before its job ran (or could not be watched): its FINISHED
 * record says where, and the run is done. */
static void run_fail(struct runner *r, struct runner_run *run, const char *stage, int error)
{
        launch_session_end(&run->launch); /* opened before the step that failed */
        if (r->preparing) {
                /* No slot yet, and the daemon may never start it: the
                 * failure is reported if its go comes (run_go()). */
                launch_release(&run->launch);
                run->prepare_failed = true;
                return;
        }
        struct outcome *o = &run->o;
        o->kind = OUTCOME_FINISHED;
        o->status = OUTCOME_SETUP_FAILED;
        o->error = error;
        snprintf(o->stage, sizeof(o->stage), "%s", stage);
        o->end_usec = (int64_t)clock_now_usec(CLOCK_REALTIME);
        write_finished(run->req, o);
        launch_release(&run->launch);
        run->state = RUN_DONE;
        r->n_open--;
}

/* pam = yes (the job's, else tickd.conf's) in a daemon that can switch
 * users: the PAM account check and session, before anything is forked.
 * batch.c gives such a run a runner of its own (runner.h). */
static int launch_pam(struct runner *r, struct runner_run *run)
{
        const struct runner_request *req = run->req;
        struct launch *l = &run->launch;
        bool wanted = job_extra(req->job)->pam >= 0 ? job_extra(req->job)->pam : req->pam;
        if (!wanted || geteuid() != 0)
                return 0;
        const char *stage = "pam";
        int e = runner_pam_open(l->cred->name, &l->pam, &stage, run->o.detail, sizeof(run->o.detail));
        if (e < 0) {
                run_fail(r, run, stage, -e);
                return e;
        }
        return 0;
}

/* The user, PAM, the environment and the output pipes; 0, or the stage
 * that failed is reported and the run is done (negative). */
static int launch_identity(struct runner *r, struct runner_run *run)
{
        const struct runner_request *req = run->req;
        struct launch *l = &run->launch;
        const char *stage = NULL;
        int e = credentials_get(r, req->job, &l->cred, &stage);
        /* A user deleted since the file was loaded: the daemon never looks
         * users up, so this is where it shows. */
        if (e == ENOENT && strcmp(stage, "user") == 0 && req->job->user)
                snprintf(run->o.detail, sizeof(run->o.detail), "user '%s' does not exist (deleted since?)",
                         req->job->user);
        if (e != 0) {
                run_fail(r, run, stage, e);
                return -e;
        }
        if (launch_pam(r, run) < 0)
                return -EPERM;
        l->env = environment_build(req, l, runner_pam_environment(l->pam));
        if (!l->env) {
                run_fail(r, run, "environment", ENOMEM);
                return -ENOMEM;
        }
        e = output_open(req->job->name, req->run_id, !req->relay_output, &l->out, &l->output_fd, &l->stderr_fd);
        if (e < 0) {
                run_fail(r, run, "output", -e);
                return e;
        }
        return 0;
}

/* Fills the run's launch; 0, or the stage that failed is reported and the
 * run is done (negative). */
static int launch_prepare(struct runner *r, struct runner_run *run)
{
        const struct runner_request *req = run->req;
        struct launch *l = &run->launch;
        int e = launch_identity(r, run);
        if (e < 0)
                return e;
        launch_mail(req, l);
        /* stdin= belongs to the command; an on_failure command reads /dev/null. */
        if (job_extra(req->job)->stdin_text && !req->command) {
                l->stdin_fd = stdin_open(job_extra(req->job)->stdin_text);
                if (l->stdin_fd < 0) {
                        run_fail(r, run, "stdin", -l->stdin_fd);
                        return -EIO;
                }
        }
        l->exec_error = calloc(1, sizeof(*l->exec_error));
        if (!l->exec_error) {
                run_fail(r, run, "exec", ENOMEM);
                return -ENOMEM;
        }
        (void)command_split_simple(command_of(req), &l->direct_argv); /* -ENOMEM: the shell it is */
        return 0;
}

/* The run's cgroup, last before the job: nothing that can fail after it
 * may leave the cgroup behind, and a prepared run that is never started
 * leaves none (runner_main_prepared()). 0, or the failure is reported. */
static int launch_cgroup(struct runner *r, struct runner_run *run)
{
        const struct runner_request *req = run->req;
        if (!req->cgroup_dir)
                return 0;
        int e = cgroup_run_create(req->cgroup_dir, req->job->name, req->run_id, &job_extra(req->job)->limits,
                                  &run->launch.cgroup, run->o.detail, sizeof(run->o.detail));
        if (e < 0)
                run_fail(r, run, "cgroup", -e);
        return e;
}

/* Starts the job; returns its pid, which is also its process group (the
 * job makes itself a session and group leader with setsid(); the runner
 * must not setpgid() it, or setsid() fails with EPERM), or -1 when the run
 * failed (reported). vfork: no copy of the runner's page tables (a copy
 * of the daemon's) for a process that is about to exec; the runner waits
 * the few system calls until it has. */
static pid_t job_spawn(struct runner *r, struct runner_run *run)
{
        struct launch *l = &run->launch;
        const struct exec_plan plan = { .cred = l->cred,
                                        .env = l->env,
                                        .direct_argv = l->direct_argv,
                                        .fds = { l->stdin_fd, l->output_fd, l->stderr_fd },
                                        .cgroup_procs_fd = l->cgroup.procs_fd,
                                        .nofile = r->nofile_raised ? &r->nofile : NULL,
                                        .error = l->exec_error };
        pid_t pid = vfork();
        if (pid == 0) {
                sigset_t empty;
                sigemptyset(&empty);
                sigprocmask(SIG_SETMASK, &empty, NULL);
                job_exec(run->req, &plan);
        }
        if (pid < 0) {
                int e = errno;
                (void)cgroup_run_remove(&l->cgroup);
                run_fail(r, run, "fork", e);
                return -1;
        }
        /* The job has what it needs: its descriptors and strings go. */
        close_fd(&l->cgroup.procs_fd);
        close_fd(&l->stdin_fd);
        if (l->stderr_fd == l->output_fd)
                l->stderr_fd = -1;
        close_fd(&l->output_fd);
        close_fd(&l->stderr_fd);
        strv_free(l->direct_argv);
        l->direct_argv = NULL;
        free(l->env);
        l->env = NULL;
        for (size_t i = 0; i < l->n_env_own; i++)
                free(l->env_own[i]);
        l->n_env_own = 0;
        return pid;
}

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
static int watch_deadlines(struct watch *w, struct outcome *o, int64_t now)
{
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

/* The runner cannot watch the job any more: it could neither enforce a
 * timeout nor relay output, and the job's status is not known yet. The job
 * must not outlive its run unwatched, so its group is killed and reaped. */
static void watch_abandon(struct watch *w, int *wstatus, struct rusage *ru)
{
        watch_signal(w, SIGKILL);
        while (wait4(w->pid, wstatus, 0, ru) < 0 && errno == EINTR)
                ;
}

/* In a child of the runner that serves one run (KEEP, or none): what the
 * others hold is theirs, and the runner's (the batch pipe is the caller's
 * to keep or close). */
static void runner_child_setup(struct runner *r, const struct runner_run *keep, const char *prefix)
{
        for (size_t i = 0; i < r->n; i++)
                if (&r->runs[i] != keep)
                        launch_release(&r->runs[i].launch);
        close_fd(&r->sig_fd);
        sigprocmask(SIG_UNBLOCK, &r->mask, NULL);
        char title[16];
        snprintf(title, sizeof(title), "%s:%s", prefix, keep ? keep->req->job->name : "batch");
        prctl(PR_SET_NAME, title);
}

/* The job's main process is gone, but something it started still holds
 * its output pipes: a child of the runner relays what they still carry
 * until they close, so the run's outcome goes out now and no line is lost.
 * It holds nothing of the batch's: the batch completes without it. The
 * relay takes the runner's signals the default way again (SIGPIPE stays
 * blocked, as in the runner). */
static void output_hand_off(struct runner *r, struct runner_run *run)
{
        struct launch *l = &run->launch;
        /* The mail holds what the job wrote until its main process ended:
         * the relay's lines go to the log only, never into the runner's
         * capture (a memfd whose offset the two would share). */
        output_set_tee(l->out, NULL, NULL);
        pid_t pid = fork();
        if (pid == 0) {
                close(BATCH_FD);
                l->mail = mail_capture_free(l->mail); /* the runner's: the relay holds nothing it does not use */
                runner_child_setup(r, run, "tickd-out");
                output_drain(l->out);
                output_free(l->out, true);
                _exit(0);
        }
        /* Without a relay (fork failed) the rest is lost; what is read goes out. */
        output_free(l->out, pid < 0);
        l->out = NULL;
}

/* kill_leftovers = no: what the main process left behind goes on in the
 * run's cgroup, and a child of the runner removes the cgroup once it is
 * empty, so that none outlives its processes. Like the output relay, it
 * holds nothing of the batch's. */
static void cgroup_hand_off(struct runner *r, struct runner_run *run)
{
        struct cgroup_run *cg = &run->launch.cgroup;
        pid_t pid = fork();
        if (pid == 0) {
                close(BATCH_FD);
                output_free(run->launch.out, false);
                run->launch.out = NULL;
                runner_child_setup(r, run, "tickd-left");
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
 * cgroup goes. May wait: a shared runner calls it in a finisher child. */
static void cgroup_finish(struct runner *r, struct runner_run *run)
{
        struct cgroup_run *cg = &run->launch.cgroup;
        struct outcome *o = &run->o;
        const struct watch *w = &run->w;
        o->in_cgroup = 1;
        int n = cgroup_run_count(cg);
        o->leftovers = n > 0 ? n : 0;
        bool stopping = w->kill_at != 0;
        if (n > 0 && stopping && w->kill_at != INT64_MAX) {
                int64_t left_ms = (w->kill_at - (int64_t)clock_now_usec(CLOCK_MONOTONIC)) / 1000;
                (void)cgroup_run_wait_empty(cg, left_ms > 0 ? (int)left_ms : 0);
        }
        if (n > 0 && (stopping || run->req->job->kill_leftovers)) {
                (void)cgroup_run_signal(cg, SIGKILL);
                o->leftovers_killed = cgroup_run_wait_empty(cg, 10000) == 0;
        }
        struct cgroup_stats st;
        cgroup_run_stats(cg, &st);
        o->cgroup_cpu_usec = st.cpu_usec;
        o->memory_peak = st.memory_peak;
        o->oom_kills = st.oom_kills;
        if (cgroup_run_count(cg) > 0)
                cgroup_hand_off(r, run);
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
 * (the mail says how the run ended), before it is reported. Only in a
 * runner of one run: sending waits up to MAIL_SEND_TIMEOUT_USEC. */
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
        struct mail_message m = { .user = l->cred->name,
                                  .host = host,
                                  .to = job_extra(req->job)->mail_to,
                                  .job = req->job->name,
                                  .command = command_of(req),
                                  .run_id = req->run_id,
                                  .result = log_event_name(event),
                                  .has_exit_status = o->status == OUTCOME_EXITED,
                                  .exit_status = o->code,
                                  .signal = o->status == OUTCOME_SIGNALED ? o->signal : 0 };
        struct mail_identity id = { .uid = l->cred->uid,
                                    .gid = l->cred->gid,
                                    .groups = l->cred->groups,
                                    .n_groups = l->cred->n_groups,
                                    .change = l->cred->change,
                                    .name = l->cred->name,
                                    .home = l->cred->home };
        struct mail_delivery d = { .sendmail = req->sendmail, .message = &m, .identity = &id, .sig_fd = sig_fd };
        o->mail = (uint8_t)mail_send(l->mail, &d, o->mail_detail, sizeof(o->mail_detail));
        l->mail = mail_capture_free(l->mail);
}

/* The job's main process has ended (or was abandoned): its cgroup, its
 * PAM session, its output, its mail, then the FINISHED record. */
static void run_complete(struct runner *r, struct runner_run *run)
{
        const struct runner_request *req = run->req;
        struct launch *l = &run->launch;
        /* Before the output: killed leftovers close the pipes they held. */
        if (l->cgroup.dir_fd >= 0)
                cgroup_finish(r, run);
        launch_session_end(l); /* with the job's main process, as cron's does */
        /* The main process is gone: what it wrote is in the pipes. Background
         * processes that still hold them must not hold the run open. */
        if (output_pump(l->out))
                output_hand_off(r, run);
        else
                output_free(l->out, true);
        l->out = NULL;
        outcome_finish(&run->o, run->start_mono, &run->ru, run->wstatus, l->exec_error, run->watch_error);
        if (run->o.status == OUTCOME_SETUP_FAILED && strcmp(run->o.stage, "chdir") == 0)
                chdir_detail(&run->o, req, l->cred);
        if (!r->shared)
                run_mail(req, l, &run->o, r->sig_fd);
        write_finished(req, &run->o);
        launch_release(l);
}

/* A shared runner must not wait for one run's leftovers (cgroup_finish():
 * up to kill_grace, then up to 10 s for the SIGKILL to land): a child
 * finishes that run — cgroup, output, FINISHED record — while the runner
 * goes on. Returns false when no child could be forked. */
static bool run_finish_in_child(struct runner *r, struct runner_run *run)
{
        pid_t pid = fork();
        if (pid < 0)
                return false;
        if (pid == 0) {
                runner_child_setup(r, run, "tickd-fin");
                run_complete(r, run);
                _exit(0);
        }
        run->finisher = pid;
        r->n_finishers++;
        launch_release(&run->launch); /* the child's now */
        return true;
}

/* Whether process group PGID has a member that is not a zombie: one
 * that died of the stop's SIGTERM stays in the group until whoever
 * inherited it reaps it, and is no reason to wait. */
static bool live_member_of(void *userdata, const struct proc_stat *p)
{
        return p->pgrp == *(const pid_t *)userdata && p->state != 'Z';
}

static bool group_has_live_member(pid_t pgid)
{
        int error;
        if (kill(-pgid, 0) < 0)
                return false;
        return proc_stat_find(live_member_of, &pgid, &error) || error < 0; /* without /proc: there may be */
}

/* RUN's main process exited (WSTATUS) while its stop was under way:
 * members of its group left behind still get their SIGKILL at the stop's
 * deadline; at once when the main process had one itself (the daemon's
 * shutdown_timeout kills job groups directly) or the runner is told to
 * stop everything. */
static void group_kill_keep(struct runner *r, const struct runner_run *run, int wstatus)
{
        const struct watch *w = &run->w;
        if (run->launch.cgroup.dir_fd >= 0 || !w->kill_at || w->kill_at == INT64_MAX || !group_has_live_member(w->pid))
                return;
        if ((WIFSIGNALED(wstatus) && WTERMSIG(wstatus) == SIGKILL) || r->cancel_all) {
                (void)kill(-w->pid, SIGKILL);
                return;
        }
        r->kills[r->n_kills++] = (struct group_kill){ .pgid = w->pid, .kill_at = w->kill_at };
}

/* The groups whose SIGKILL is due get it (all of them once the runner
 * is told to stop everything: tickd stops), those left empty are
 * forgotten; returns the milliseconds until the next one is due (-1:
 * none left). */
static int group_kills_due(struct runner *r, int64_t now)
{
        int wait_ms = -1;
        for (size_t i = 0; i < r->n_kills;) {
                struct group_kill *k = &r->kills[i];
                bool due = now >= k->kill_at || r->cancel_all;
                if (kill(-k->pgid, 0) < 0 || due) {
                        if (due)
                                (void)kill(-k->pgid, SIGKILL);
                        *k = r->kills[--r->n_kills];
                        continue;
                }
                int64_t ms = (k->kill_at - now + 999) / 1000;
                if (wait_ms < 0 || ms < wait_ms)
                        wait_ms = ms > 60000 ? 60000 : (int)ms;
                i++;
        }
        return wait_ms;
}

static void run_exited(struct runner *r, struct runner_run *run, int wstatus, const struct rusage *ru, int watch_error)
{
        group_kill_keep(r, run, wstatus);
        run->wstatus = wstatus;
        run->ru = *ru;
        run->watch_error = watch_error;
        run->state = RUN_DONE;
        r->n_open--;
        const struct cgroup_run *cg = &run->launch.cgroup;
        if (r->shared && cg->dir_fd >= 0 && cgroup_run_count(cg) > 0 && run_finish_in_child(r, run))
                return;
        run_complete(r, run);
}

/* Cancel: SIGTERM to the job's group, SIGKILL after kill_grace; a run
 * whose job is not started yet is stopped as soon as it is. */
static void run_cancel(struct runner_run *run)
{
        if (run->state == RUN_PENDING)
                run->cancel = true;
        if (run->state != RUN_RUNNING || run->w.kill_at)
                return;
        run->o.cancelled = 1;
        watch_stop_job(&run->w, (int64_t)clock_now_usec(CLOCK_MONOTONIC));
}

/* SIGTERM or SIGINT: the daemon cancels every run (shutdown); SIGRTMIN
 * with the slot of one run in its value: that run (batch_cancel_job()). */
static void runner_read_signals(struct runner *r)
{
        struct signalfd_siginfo si;
        while (read(r->sig_fd, &si, sizeof(si)) == sizeof(si)) {
                bool all = si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT;
                if (all)
                        r->cancel_all = true;
                else if ((int)si.ssi_signo != SIGRTMIN)
                        continue;
                for (size_t i = 0; i < r->n; i++)
                        if (all || r->runs[i].req->slot == (uint32_t)si.ssi_int)
                                run_cancel(&r->runs[i]);
        }
}

/* Every child that has ended: a job (its run is finished), a finisher, or
 * an output relay or cgroup keeper, which only need reaping. */
static void runner_reap(struct runner *r)
{
        int wstatus;
        struct rusage ru;
        pid_t pid;
        while ((pid = wait4(-1, &wstatus, WNOHANG, &ru)) > 0)
                for (size_t i = 0; i < r->n; i++) {
                        struct runner_run *run = &r->runs[i];
                        if (run->state == RUN_RUNNING && run->w.pid == pid) {
                                run_exited(r, run, wstatus, &ru, 0);
                                break;
                        }
                        if (run->finisher == pid) {
                                run->finisher = 0;
                                r->n_finishers--;
                                break;
                        }
                }
}

/* poll() failed: no timeout, cancel or output can be seen any more, so
 * every job is killed and reaped, and reported at stage "poll"; runs not
 * started yet fail there too. */
static void runner_abandon(struct runner *r, int error)
{
        r->watch_error = error;
        for (size_t i = 0; i < r->n; i++) {
                struct runner_run *run = &r->runs[i];
                if (run->state != RUN_RUNNING)
                        continue;
                int wstatus = 0;
                struct rusage ru = { 0 };
                watch_abandon(&run->w, &wstatus, &ru);
                run_exited(r, run, wstatus, &ru, error);
        }
        /* Their deadlines can no longer be waited for: due now. */
        for (size_t i = 0; i < r->n_kills; i++)
                (void)kill(-r->kills[i].pgid, SIGKILL);
        r->n_kills = 0;
}

/* One round: reaps, acts on deadlines, waits for a signal, output or the
 * next deadline (not at all without BLOCK), and handles what came. */
static void runner_watch_once(struct runner *r, bool block)
{
        runner_reap(r);
        int64_t now = (int64_t)clock_now_usec(CLOCK_MONOTONIC);
        int kill_ms = group_kills_due(r, now);
        if (r->n_open == 0 && r->n_kills == 0)
                return; /* the last run ended: nothing left to wait for */
        int wait_ms = block ? kill_ms : 0;
        size_t n_fds = 1;
        r->fds[0] = (struct pollfd){ .fd = r->sig_fd, .events = POLLIN };
        for (size_t i = 0; i < r->n; i++) {
                struct runner_run *run = &r->runs[i];
                if (run->state != RUN_RUNNING)
                        continue;
                int ms = watch_deadlines(&run->w, &run->o, now);
                if (block && ms >= 0 && (wait_ms < 0 || ms < wait_ms))
                        wait_ms = ms;
                size_t k = output_pollfds(run->launch.out, r->fds + n_fds);
                for (size_t j = 0; j < k; j++)
                        r->fd_run[n_fds + j] = i;
                n_fds += k;
        }
        if (poll(r->fds, n_fds, wait_ms) < 0) {
                if (errno != EINTR)
                        runner_abandon(r, errno);
                return;
        }
        if (r->fds[0].revents & POLLIN) {
                runner_read_signals(r);
                runner_reap(r);
        }
        size_t last = SIZE_MAX;
        for (size_t j = 1; j < n_fds; j++) {
                size_t i = r->fd_run[j];
                if (i == last || !(r->fds[j].revents & (POLLIN | POLLHUP | POLLERR)))
                        continue;
                last = i;
                if (r->runs[i].state == RUN_RUNNING) /* not finished by the reaping above */
                        output_pump(r->runs[i].launch.out);
        }
}

/* Prepares (unless PREPARED: done ahead) and starts RUN's job, and
 * reports it started. */
static void run_start(struct runner *r, struct runner_run *run, bool prepared)
{
        const struct runner_request *req = run->req;
        run->o = (struct outcome){ .kind = OUTCOME_STARTED,
                                   .slot = req->slot,
                                   .start_usec = (int64_t)clock_now_usec(CLOCK_REALTIME) };
        run->start_mono = (int64_t)clock_now_usec(CLOCK_MONOTONIC);
        if (r->watch_error) {
                run_fail(r, run, "poll", r->watch_error);
                return;
        }
        if (r->sig_fd < 0) {
                run_fail(r, run, "signalfd", -r->sig_fd);
                return;
        }
        if ((!prepared && launch_prepare(r, run) < 0) || launch_cgroup(r, run) < 0)
                return;
        pid_t pid = job_spawn(r, run);
        if (pid < 0)
                return;
        run->o.pid = pid;
        /* The daemon logs a record that cannot be written (a full disk),
         * once for all runs: it learns of it from the STARTED record. */
        run->o.error = -run_record_write(req, &run->o, NULL);
        (void)write_record(&run->o); /* a STARTED record nobody reads costs nothing */
        run->o.error = 0;
        run->w =
                (struct watch){ .pid = pid,
                                .grace = job_extra(req->job)->kill_grace_usec,
                                .cgroup = &run->launch.cgroup,
                                .timeout_at = req->job->timeout_usec ? run->start_mono + (int64_t)req->job->timeout_usec
                                                                     : 0 };
        run->state = RUN_RUNNING;
        if (run->cancel || r->cancel_all)
                run_cancel(run);
}

/* A shared runner holds three descriptors or so per running job: it may
 * go up to the hard limit, and gives each job the daemon's limit back
 * (job_exec()). */
static void runner_raise_nofile(struct runner *r)
{
        if (getrlimit(RLIMIT_NOFILE, &r->nofile) < 0 || r->nofile.rlim_cur >= r->nofile.rlim_max)
                return;
        struct rlimit raised = { .rlim_cur = r->nofile.rlim_max, .rlim_max = r->nofile.rlim_max };
        r->nofile_raised = setrlimit(RLIMIT_NOFILE, &raised) == 0;
}

/* Nothing left to watch: only the finishers, which write their runs'
 * FINISHED records. The runner outlives them, so that a run record's
 * runner (orphans.h) never exits before its outcome is written. */
static void runner_wait_finishers(struct runner *r)
{
        for (size_t i = 0; i < r->n; i++)
                if (r->runs[i].finisher > 0)
                        while (waitpid(r->runs[i].finisher, NULL, 0) < 0 && errno == EINTR)
                                ;
}

/* Not even the runner's own state could be allocated: every run reports it. */
static _Noreturn void runner_fail_all(const struct runner_request *requests, size_t n, int error)
{
        for (size_t i = 0; i < n; i++) {
                if (requests[i].slot == RUNNER_SLOT_NONE)
                        continue; /* prepared, never announced: the daemon forks it anew */
                struct outcome o = { .kind = OUTCOME_FINISHED,
                                     .slot = requests[i].slot,
                                     .status = OUTCOME_SETUP_FAILED,
                                     .error = error,
                                     .start_usec = (int64_t)clock_now_usec(CLOCK_REALTIME) };
                o.end_usec = o.start_usec;
                snprintf(o.stage, sizeof(o.stage), "runner");
                write_finished(&requests[i], &o);
        }
        _exit(0);
}

/* Everything a runner sets up before its first run: signals, descriptors
 * (GO_FD: a prepared runner's go channel, or -1), title, its runs. */
static void runner_init(struct runner *r, const struct runner_request *requests, size_t n, int go_fd)
{
        log_set_observer(NULL, NULL); /* the daemon's metrics are the daemon's: not counted twice here */
        *r = (struct runner){ .n = n, .n_open = n, .shared = n > 1 };
        runner_take_signals(&r->mask);
        runner_take_descriptors(requests[0].batch_fd, go_fd);
        char title[16];
        snprintf(title, sizeof(title), "tickd:%s", n == 1 ? requests[0].job->name : "batch");
        prctl(PR_SET_NAME, title);
        r->runs = calloc(n, sizeof(*r->runs));
        r->fds = calloc(1 + n * OUTPUT_POLLFDS_MAX, sizeof(*r->fds));
        r->fd_run = calloc(1 + n * OUTPUT_POLLFDS_MAX, sizeof(*r->fd_run));
        r->kills = calloc(n, sizeof(*r->kills));
        if (!r->runs || !r->fds || !r->fd_run || !r->kills)
                runner_fail_all(requests, n, ENOMEM);
        for (size_t i = 0; i < n; i++) {
                r->runs[i].req = &requests[i];
                /* Holding nothing: a child forked for another run releases
                 * what every run holds (runner_child_setup()). */
                r->runs[i].launch = (struct launch){ .stdin_fd = -1,
                                                     .output_fd = -1,
                                                     .stderr_fd = -1,
                                                     .cgroup = { .dir_fd = -1, .procs_fd = -1, .parent_fd = -1 } };
        }

        /* SIGCHLD (a job ended) and the cancels as readable events; the
         * job gets an empty mask back before exec. */
        r->sig_fd = signalfd(-1, &r->mask, SFD_CLOEXEC | SFD_NONBLOCK);
        if (r->sig_fd < 0)
                r->sig_fd = -errno;
        if (r->shared)
                runner_raise_nofile(r);
}

/* Watches every started run to its end, then the finishers. Groups
 * left by stopped runs get their SIGKILL on time; the batch pipe is
 * closed meanwhile, so that the batch completes with its last run. */
static _Noreturn void runner_finish(struct runner *r)
{
        while (r->n_open > 0)
                runner_watch_once(r, true);
        if (r->n_kills > 0)
                close(BATCH_FD);
        while (r->n_kills > 0 && !r->watch_error)
                runner_watch_once(r, true);
        runner_wait_finishers(r);
        _exit(0);
}

_Noreturn void runner_main(const struct runner_request *requests, size_t n)
{
        struct runner r;
        runner_init(&r, requests, n, -1);
        for (size_t i = 0; i < n; i++) {
                run_start(&r, &r.runs[i], false);
                /* Jobs that end while later ones start are reaped and
                 * reported now, not after the last start. */
                if (r.shared && r.sig_fd >= 0 && !r.watch_error && i + 1 < n)
                        runner_watch_once(&r, false);
        }
        runner_finish(&r);
}

/* The go record for run INDEX: its slot in the batch, then its job. A
 * run that failed its preparation is prepared again, to be reported
 * where it fails, with its slot. */
static void run_go(struct runner *r, const struct runner_go *go)
{
        if (go->index >= r->n || r->runs[go->index].state != RUN_PENDING ||
            r->runs[go->index].req->slot != RUNNER_SLOT_NONE)
                return; /* not the daemon's word: nothing to start */
        struct runner_run *run = &r->runs[go->index];
        ((struct runner_request *)run->req)->slot = go->slot;
        run_start(r, run, !run->prepare_failed);
}

/* Until the daemon has had its say (EOF on GO_FD): each go record starts
 * its run as soon as it is read; cancels are taken meanwhile (SIGTERM:
 * every run, also those started later; SIGRTMIN: only a run that has
 * its slot). Runs without a go are dropped: released, without a record. */
static void runner_await_go(struct runner *r)
{
        struct runner_go buf[64]; /* a packet: whole records */
        for (;;) {
                struct pollfd p[2] = { { .fd = GO_FD, .events = POLLIN }, { .fd = r->sig_fd, .events = POLLIN } };
                if (poll(p, r->sig_fd >= 0 ? 2 : 1, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        break; /* cannot wait for the word: every run not started is dropped */
                }
                if (p[0].revents) {
                        ssize_t k = read(GO_FD, buf, sizeof(buf));
                        if (k < 0 && (errno == EINTR || errno == EAGAIN))
                                continue;
                        if (k <= 0)
                                break;
                        for (size_t i = 0; i < (size_t)k / sizeof(*buf); i++)
                                run_go(r, &buf[i]);
                }
                if (r->sig_fd >= 0 && (p[1].revents & POLLIN))
                        runner_read_signals(r);
        }
        close(GO_FD);
        for (size_t i = 0; i < r->n; i++) {
                struct runner_run *run = &r->runs[i];
                if (run->state != RUN_PENDING)
                        continue;
                launch_session_end(&run->launch);
                launch_release(&run->launch);
                run->state = RUN_DONE;
                r->n_open--;
        }
}

_Noreturn void runner_main_prepared(struct runner_request *requests, size_t n, int go_fd)
{
        struct runner r;
        for (size_t i = 0; i < n; i++)
                requests[i].slot = RUNNER_SLOT_NONE; /* until its go: no cancel can name it */
        runner_init(&r, requests, n, go_fd);
        r.preparing = true;
        for (size_t i = 0; i < n; i++)
                (void)launch_prepare(&r, &r.runs[i]);
        r.preparing = false;
        runner_await_go(&r);
        runner_finish(&r);
}
