/* batch.c — batches: spawning, reaping runners, the fd store, adoption
 * after a restart; their collectors are collector.c's. See batch.h. */
#include "tickd/batch.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <systemd/sd-id128.h>
#include <time.h>
#include <unistd.h>

#include "shared/clock.h"
#include "core/inifile.h"
#include "shared/log.h"
#include "tickd/batch-internal.h"
#include "tickd/cgroup.h"
#include "tickd/collector.h"
#include "tickd/fdstore.h"
#include "tickd/mailer.h"
#include "tickd/orphans.h"

/* Slack on top of timeout + kill_grace before a batch is called stuck: the
 * runner needs a moment to reap, report and exit. */
#define STUCK_SLACK_USEC (UINT64_C(3) * 1000000)

/* A batch's image: what the next instance needs to adopt the batch after a
 * restart (fdstore.h). It lives in a memfd that the fd store holds next to
 * the batch pipe; the daemon writes through a shared mapping as runs start
 * and finish, so the stored copy is current even when the daemon dies
 * without a word. The magic names the format of the image and of the
 * records on the pipe (struct outcome): v2 added the mail fields, so an
 * instance never reads the records of another format's runners. */
#define IMAGE_MAGIC UINT64_C(0x3276746162646b74) /* "tkdbatv2" */

struct image_run {
        int32_t runner_pid;
        int32_t job_pid;
        int64_t scheduled_usec;
        uint8_t on_failure;
        uint8_t finished;
        uint8_t cancel_requested;
        uint8_t unused;
        char run_id[CONTROL_RUN_ID_MAX];
        char job_name[INIFILE_MAX_SECTION + 1];
        char user[72];
};

_Static_assert(CONTROL_RUN_ID_MAX == SD_ID128_STRING_MAX, "a run id in the image is one sd_id128 string");

struct image {
        uint64_t magic;
        uint64_t id;
        uint64_t created_usec; /* CLOCK_MONOTONIC: one clock for every process of a boot */
        uint32_t n_runs;
        uint32_t run_size; /* sizeof(struct image_run), checked on adoption */
        struct image_run runs[];
};

static void store_names(uint64_t id, char pipe_name[static 48], char runs_name[static 48])
{
        snprintf(pipe_name, 48, "tickd-pipe-%llu", (unsigned long long)id);
        snprintf(runs_name, 48, "tickd-runs-%llu", (unsigned long long)id);
}

void batch_image_sync(const struct run *run)
{
        const struct batch *b = run->batch;
        if (!b->image)
                return;
        struct image_run *ir = &b->image->runs[run->slot];
        ir->runner_pid = run->runner_pid;
        ir->job_pid = run->job_pid;
        ir->cancel_requested = run->cancel_requested;
        ir->finished = run->finished;
}

/* Puts a freshly dispatched batch in the fd store: its image (a memfd)
 * and its pipe's read end. Without a store, or when the store is full,
 * the batch simply does not survive a restart. */
static void batch_store(struct batch *b)
{
        struct batch_manager *m = b->manager;
        unsigned size = fdstore_size();
        if (size == 0)
                return;
        if ((m->n_stored + 1) * 2 > size) {
                if (!m->store_full_logged)
                        log_msg(LOG_WARNING,
                                "the fd store is full (%u descriptors, %zu open batches): new batches would not "
                                "survive a restart of tickd until older ones complete",
                                size, m->n_stored);
                m->store_full_logged = true;
                return;
        }
        size_t image_size = sizeof(struct image) + b->n_runs * sizeof(struct image_run);
        int fd = memfd_create("tickd-batch", MFD_CLOEXEC);
        if (fd < 0 || ftruncate(fd, (off_t)image_size) < 0) {
                log_msg(LOG_WARNING, "batch %llu cannot be stored for a restart: %s", (unsigned long long)b->id,
                        strerror(errno));
                if (fd >= 0)
                        close(fd);
                return;
        }
        struct image *image = mmap(NULL, image_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (image == MAP_FAILED) {
                log_msg(LOG_WARNING, "batch %llu cannot be stored for a restart: %s", (unsigned long long)b->id,
                        strerror(errno));
                close(fd);
                return;
        }
        *image = (struct image){ .magic = IMAGE_MAGIC,
                                 .id = b->id,
                                 .created_usec = b->created_usec,
                                 .n_runs = (uint32_t)b->n_runs,
                                 .run_size = sizeof(struct image_run) };
        for (size_t i = 0; i < b->n_runs; i++) {
                const struct run *run = &b->runs[i];
                struct image_run *ir = &image->runs[i];
                ir->scheduled_usec = run->scheduled_usec;
                ir->on_failure = run->on_failure;
                snprintf(ir->run_id, sizeof(ir->run_id), "%s", run->run_id);
                snprintf(ir->job_name, sizeof(ir->job_name), "%s", run->job_name ? run->job_name : "?");
                snprintf(ir->user, sizeof(ir->user), "%s", run->user ? run->user : "");
        }
        b->image = image;
        b->image_size = image_size;
        for (size_t i = 0; i < b->n_runs; i++)
                batch_image_sync(&b->runs[i]);
        char pipe_name[48], runs_name[48];
        store_names(b->id, pipe_name, runs_name);
        int r = fdstore_put(fd, runs_name);
        if (r > 0)
                r = fdstore_put(b->fd, pipe_name);
        close(fd);
        if (r <= 0) {
                log_msg(LOG_WARNING, "batch %llu cannot be stored for a restart: %s", (unsigned long long)b->id,
                        r < 0 ? strerror(-r) : "no fd store");
                fdstore_remove(runs_name);
                munmap(image, image_size);
                b->image = NULL;
                return;
        }
        m->n_stored++;
        m->store_full_logged = false;
}

/* Frees B. KEEP_STORED (a restart): its fd store entries stay for the
 * next instance; otherwise they are dropped. */
static void batch_release(struct batch *b, bool keep_stored)
{
        if (!b)
                return;
        struct batch_manager *m = b->manager;
        if (b->image) {
                if (!keep_stored) {
                        char pipe_name[48], runs_name[48];
                        store_names(b->id, pipe_name, runs_name);
                        fdstore_remove(pipe_name);
                        fdstore_remove(runs_name);
                }
                munmap(b->image, b->image_size);
                m->n_stored--;
        }
        if (b->prev)
                b->prev->next = b->next;
        else
                m->first = b->next;
        if (b->next)
                b->next->prev = b->prev;
        m->n_open--;
        sd_event_source_disable_unref(b->io);
        sd_event_source_disable_unref(b->stuck);
        if (b->fd >= 0)
                close(b->fd);
        for (size_t i = 0; i < b->n_runs; i++) {
                free(b->runs[i].job_name);
                free(b->runs[i].user);
        }
        free(b);
}

void batch_free(struct batch *b) { batch_release(b, false); }

void batch_link(struct batch *b)
{
        struct batch_manager *m = b->manager;
        b->next = m->first;
        if (b->next)
                b->next->prev = b;
        m->first = b;
        m->n_open++;
}

static int batch_on_stuck(sd_event_source *s, uint64_t usec, void *userdata)
{
        struct batch *b = userdata;
        char names[512] = "";
        size_t len = 0;
        for (size_t i = 0; i < b->n_runs && len < sizeof(names) - 1; i++)
                if (!b->runs[i].finished)
                        len += (size_t)snprintf(names + len, sizeof(names) - len, "%s%s", len ? "," : "",
                                                b->runs[i].job_name);
        log_emit(&(struct log_record){ .event = LOG_EVENT_BATCH_STUCK, .priority = LOG_WARNING },
                 "batch %llu has been open %llus, past its jobs' deadlines; waiting for: %s", (unsigned long long)b->id,
                 (unsigned long long)((clock_now_usec(CLOCK_MONOTONIC) - b->created_usec) / 1000000), names);
        return 0;
}

/* Runner PID is forked: remembered until it is reaped. Without memory it
 * is still reaped, only not waited for at shutdown. */
static void children_add(struct batch_manager *m, pid_t pid)
{
        if (m->n_children == m->children_size) {
                size_t size = m->children_size ? 2 * m->children_size : 16;
                pid_t *grown = realloc(m->children, size * sizeof(pid_t));
                if (!grown)
                        return;
                m->children = grown;
                m->children_size = size;
        }
        m->children[m->n_children++] = pid;
}

static bool children_remove(struct batch_manager *m, pid_t pid)
{
        for (size_t i = 0; i < m->n_children; i++)
                if (m->children[i] == pid) {
                        m->children[i] = m->children[--m->n_children];
                        return true;
                }
        return false;
}

/* Child PID is reaped. A runner: every run it served (one, or a batch's
 * shared runs) has no runner any more. Anything else is an orphan that
 * came to a daemon that is a subreaper (as the tests' processes are): it
 * is not a runner, and must not make one seem reaped. */
static void runner_reaped(struct batch_manager *m, pid_t pid)
{
        if (!children_remove(m, pid))
                return;
        batch_prepared_reaped(m, pid);
        for (struct batch *b = m->first; b; b = b->next)
                for (size_t i = 0; !b->adopted && i < b->n_runs; i++)
                        if (b->runs[i].runner_pid == pid) {
                                b->runs[i].runner_pid = 0;
                                batch_image_sync(&b->runs[i]);
                        }
}

/* Every child of the daemon is a runner: reap them all, so no zombie is
 * ever left, whatever state their batch is in. */
static int manager_on_sigchld(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
        struct batch_manager *m = userdata;
        for (;;) {
                int status;
                pid_t pid = waitpid(-1, &status, WNOHANG);
                if (pid <= 0)
                        break;
                runner_reaped(m, pid);
        }
        return 0;
}

/* Where runners keep their run records (orphans.h). Without it runs are
 * still run; they just cannot outlive a killed daemon on the record. */
static void manager_open_runs_dir(struct batch_manager *m, const char *dir)
{
        if (!dir)
                return;
        int fd = -1;
        if (mkdir(dir, 0700) < 0 && errno != EEXIST)
                fd = -errno;
        else if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
                fd = -errno;
        if (fd >= 0 && (m->runs_dir = strdup(dir))) {
                m->runs_fd = fd;
                return;
        }
        log_msg(LOG_WARNING,
                "cannot keep run records in %s: %s; runs will not be recorded if tickd is killed "
                "while they run",
                dir, strerror(fd < 0 ? -fd : ENOMEM));
        if (fd >= 0)
                close(fd);
}

static void manager_free_fields(struct batch_manager *m)
{
        orphans_forget_pending(m);
        if (m->runs_fd >= 0)
                close(m->runs_fd);
        free(m->runs_dir);
        sd_event_unref(m->event);
        free(m->own_user);
        free(m->default_path);
        free(m->sendmail);
        free(m->children);
        free(m);
}

const char *batch_manager_own_user_name(const struct batch_manager *m)
{
        return m->own_user_is_name ? m->own_user : NULL;
}

int batch_manager_new(const struct batch_manager_options *options, struct batch_manager **out)
{
        struct batch_manager *m = calloc(1, sizeof(*m));
        if (!m)
                return -ENOMEM;
        m->options = *options;
        m->options.default_path = NULL;
        m->options.runs_dir = NULL; /* see runs_dir */
        if (options->default_path && !(m->default_path = strdup(options->default_path))) {
                free(m);
                return -ENOMEM;
        }
        m->event = sd_event_ref(options->event);
        m->next_id = 1;
        m->runs_fd = -1;
        manager_open_runs_dir(m, options->runs_dir);
        /* The two name-service calls the daemon itself makes (runner.h:
         * every per-run look-up happens in the runner), once, at start-up,
         * before the loop runs: the NSS modules are loaded here so that
         * runners, forked from us, do not map them per run; and our own
         * user's name, for the records of jobs without user=. */
        runner_preload_nss("/etc/nsswitch.conf");
        struct passwd *pw = getpwuid(geteuid());
        if (pw)
                m->own_user_is_name = (m->own_user = strdup(pw->pw_name)) != NULL;
        else if (asprintf(&m->own_user, "%u", (unsigned)geteuid()) < 0)
                m->own_user = NULL;
        int r = sd_event_add_signal(m->event, &m->sigchld, SIGCHLD, manager_on_sigchld, m);
        if (r < 0) {
                manager_free_fields(m);
                return r;
        }
        *out = m;
        return 0;
}

void batch_manager_free(struct batch_manager *m)
{
        if (!m)
                return;
        batch_prepare_drop(m); /* it exits on its own, and is waited for below */
        while (m->first) {
                struct batch *b = m->first;
                /* Shutdown's last word: runners still alive are killed and
                 * reaped here, and their runs recorded as lost. */
                for (size_t i = 0; i < b->n_runs; i++) {
                        struct run *run = &b->runs[i];
                        pid_t pid = run->runner_pid;
                        if (pid > 0 && !run->finished) {
                                kill(pid, SIGKILL);
                                /* An adopted runner is not our child: the
                                 * blocking read below waits for its end. */
                                while (!b->adopted && waitpid(pid, NULL, 0) < 0 && errno == EINTR)
                                        ;
                                if (!b->adopted)
                                        runner_reaped(m, pid); /* and its other runs' */
                                run->runner_pid = 0;
                        }
                }
                if (b->orphan)
                        orphans_finish(b); /* its runner was not ours: its record says */
                else
                        collector_drain(b); /* reads what is left, then EOF frees it */
        }
        /* Runners of batches already complete may still be exiting, or
         * waiting for a stopped run's leftovers to be due for SIGKILL
         * (runner.h): SIGTERM has those killed now. Then wait for them,
         * so the daemon leaves no child behind. */
        for (size_t i = 0; i < m->n_children; i++)
                (void)kill(m->children[i], SIGTERM);
        log_msg(LOG_DEBUG, "waiting for %zu exiting runner(s)", m->n_children);
        while (m->n_children > 0) {
                pid_t pid = m->children[m->n_children - 1];
                if (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
                        continue;
                m->n_children--;
        }
        sd_event_source_disable_unref(m->sigchld);
        manager_free_fields(m);
}

/* Runners forked ahead have the settings of their fork: a change drops them. */
void batch_manager_set_pam(struct batch_manager *m, bool pam)
{
        batch_prepare_drop(m);
        m->options.pam = pam;
}

int batch_manager_set_default_path(struct batch_manager *m, const char *path)
{
        char *copy = NULL;
        if (path && !(copy = strdup(path)))
                return -ENOMEM;
        batch_prepare_drop(m);
        free(m->default_path);
        m->default_path = copy;
        return 0;
}

int batch_manager_set_sendmail(struct batch_manager *m, const char *path)
{
        char *copy = NULL;
        if (path && !(copy = strdup(path)))
                return -ENOMEM;
        batch_prepare_drop(m);
        free(m->sendmail);
        m->sendmail = copy;
        return 0;
}

static void request_deadline(const struct job *job, uint64_t *deadline, bool *bounded)
{
        if (!job->timeout_usec) {
                *bounded = false;
                return;
        }
        uint64_t d = job->timeout_usec + job_extra(job)->kill_grace_usec;
        if (job_extra(job)->mail_to)
                d += MAIL_SEND_TIMEOUT_USEC; /* the runner mails after the job, within this */
        if (d > *deadline)
                *deadline = d;
}

const char *batch_run_user(const struct batch_manager *m, const struct job *job)
{
        return job->user ? job->user : m->own_user ? m->own_user : "?";
}

/* Fills run I of B from REQ; a run without its name (no memory) gets no
 * runner (fork_error). */
static void run_fill(struct batch *b, size_t i, const struct run_request *req)
{
        struct batch_manager *m = b->manager;
        struct run *run = &b->runs[i];
        run->batch = b;
        run->slot = run->runner_slot = (uint32_t)i;
        run->scheduled_usec = req->scheduled_usec;
        run->on_failure = req->command != NULL;
        run->job_name = strdup(req->job->name);
        run->user = strdup(batch_run_user(m, req->job)); /* NULL on ENOMEM: only a field lost */
        if (req->run_id)
                snprintf(run->run_id, sizeof(run->run_id), "%s", req->run_id);
        else
                (void)control_run_id_new(run->run_id); /* none: recorded without one */
        m->n_running++;
        if (!run->job_name)
                run->fork_error = ENOMEM;
}

struct runner_request batch_runner_request(const struct batch_manager *m, const struct run_request *req, uint32_t slot,
                                           int write_fd, const char *run_id, const char *user)
{
        return (struct runner_request){
                .job = req->job,
                .slot = slot,
                .batch_fd = write_fd,
                .run_id = run_id,
                .command = req->command,
                .default_path = m->default_path,
                .failed_exit_status = req->failed_exit_status,
                .relay_output = m->options.relay_output,
                .runs_dir = m->runs_dir,
                .sendmail = m->sendmail,
                .user = user,
                .scheduled_usec = req->scheduled_usec,
                .cgroup_dir = m->options.cgroup_dir,
                .pam = m->options.pam,
        };
}

bool batch_request_needs_own_runner(const struct batch_manager *m, const struct run_request *req)
{
        bool pam = job_extra(req->job)->pam >= 0 ? job_extra(req->job)->pam : m->options.pam;
        return (pam && geteuid() == 0) || (job_extra(req->job)->mail_to && !req->command);
}

pid_t batch_runner_fork(struct batch_manager *m, struct runner_request *runner_requests, size_t n, int go_fd)
{
        /* Every signal blocked across fork(): until the runner has reset its
         * dispositions (runner.c), a signal must not run one of the daemon's
         * handlers in it; one that arrives stays pending for the runner. */
        sigset_t all, old;
        sigfillset(&all);
        sigprocmask(SIG_SETMASK, &all, &old);
        pid_t pid = fork();
        if (pid == 0) {
                if (go_fd >= 0)
                        runner_main_prepared(runner_requests, n, go_fd);
                runner_main(runner_requests, n);
        }
        int fork_errno = errno;
        sigprocmask(SIG_SETMASK, &old, NULL);
        if (pid < 0)
                return -fork_errno;
        children_add(m, pid);
        return pid;
}

/* Forks one runner for the N runs of B whose requests are RUNNER_REQUESTS
 * (their slots say which). On failure every one of them has the fork's
 * errno and no runner. */
static void runner_fork(struct batch *b, struct runner_request *runner_requests, size_t n)
{
        pid_t pid = batch_runner_fork(b->manager, runner_requests, n, -1);
        for (size_t k = 0; k < n; k++) {
                struct run *run = &b->runs[runner_requests[k].slot];
                if (pid < 0)
                        run->fork_error = -pid;
                else
                        run->runner_pid = pid;
        }
}

/* The runners of B: one for every run that can share it, one each for the
 * others (batch_request_needs_own_runner()), but for runs that have one
 * already (a prepared runner's). Returns how many runs have no runner
 * (fork_error). */
static size_t batch_fork_runners(struct batch *b, const struct run_request *requests, int write_fd)
{
        struct batch_manager *m = b->manager;
        struct runner_request *shared = calloc(b->n_runs, sizeof(*shared));
        size_t n_shared = 0, failed = 0;
        for (size_t i = 0; i < b->n_runs; i++) {
                const struct run *run = &b->runs[i];
                if (run->fork_error || run->runner_pid > 0)
                        continue;
                struct runner_request one =
                        batch_runner_request(m, &requests[i], (uint32_t)i, write_fd, run->run_id, run->user);
                if (shared && !batch_request_needs_own_runner(m, &requests[i]))
                        shared[n_shared++] = one;
                else
                        runner_fork(b, &one, 1);
        }
        if (n_shared > 0)
                runner_fork(b, shared, n_shared);
        free(shared);
        for (size_t i = 0; i < b->n_runs; i++)
                failed += b->runs[i].runner_pid == 0;
        return failed;
}

/* Room in the pipe for every record of the batch (a STARTED and a
 * FINISHED per run), up to 1 MiB (the default pipe-max-size). Forking a
 * batch keeps the loop from reading it; with the default 64 KiB (143
 * records) a runner of a batch of more than 71 runs would block in its
 * STARTED write until the last runner is forked, unable to reap its job
 * meanwhile, and the batch would then finish in a queue behind the
 * collector (issue 16: the reap lag). A pipe that cannot grow
 * (pipe-user-pages-soft reached) only costs that lag. */
static void batch_pipe_size(int fd, size_t n)
{
        const size_t max = 1024 * 1024;
        size_t want = n < max / (2 * sizeof(struct outcome)) ? 2 * n * sizeof(struct outcome) : max;
        if (want > 65536)
                (void)fcntl(fd, F_SETPIPE_SZ, (int)want);
}

int batch_spawn(struct batch_manager *m, const struct run_request *requests, size_t n)
{
        if (n == 0)
                return 0;
        struct batch *b = calloc(1, sizeof(*b) + n * sizeof(struct run));
        if (!b)
                return -ENOMEM;
        b->manager = m;
        b->n_runs = n;
        b->fd = -1;
        /* The runs the runner forked ahead for them prepared (MATCH[i]: its
         * index there), and its pipe; or a pipe of its own. */
        size_t *match = NULL;
        struct batch_prepared *prepared = batch_prepared_take(m, requests, n, &match);
        int p[2];
        if (prepared)
                batch_prepared_pipe(prepared, p);
        else if (pipe2(p, O_CLOEXEC) < 0) {
                free(b);
                return -errno;
        }
        b->id = m->next_id++;
        b->created_usec = clock_now_usec(CLOCK_MONOTONIC);
        batch_link(b);
        b->fd = p[0];
        batch_pipe_size(p[0], n);

        uint64_t deadline = 0;
        bool bounded = true;
        for (size_t i = 0; i < n; i++) {
                request_deadline(requests[i].job, &deadline, &bounded);
                run_fill(b, i, &requests[i]);
        }
        if (prepared)
                batch_prepared_go(b, prepared, match); /* before anything else: the first start waits on it */
        free(match);
        size_t fork_failed = batch_fork_runners(b, requests, p[1]);
        /* The daemon must not keep a write end: the collector sees EOF only
         * when every holder has closed it, so from here on the pipe's life
         * is exactly the runners' lives, and the batch always completes. */
        close(p[1]);

        int r = collector_watch(b);
        if (r < 0) {
                /* Without a collector, read synchronously: the daemon blocks
                 * for this batch, but never leaks it. */
                log_msg(LOG_ERR, "cannot watch batch %llu: %s; collecting it synchronously", (unsigned long long)b->id,
                        strerror(-r));
                collector_drain(b);
                return (int)n;
        }
        if (bounded && deadline)
                (void)sd_event_add_time_relative(m->event, &b->stuck, CLOCK_MONOTONIC, deadline + STUCK_SLACK_USEC, 0,
                                                 batch_on_stuck, b);
        if (fork_failed) {
                for (size_t i = 0; i < n; i++) {
                        struct run *run = &b->runs[i];
                        if (run->runner_pid == 0 && !run->finished) {
                                struct outcome o = { .kind = OUTCOME_FINISHED,
                                                     .slot = (uint32_t)i,
                                                     .status = OUTCOME_SETUP_FAILED,
                                                     .error = run->fork_error };
                                strcpy(o.stage, "fork");
                                if (!run->job_name)
                                        run->job_name = strdup("?");
                                collector_run_finished(b, run, &o);
                        }
                }
        }
        batch_store(b);
        return (int)n;
}

/* Whether RUN's runner serves other runs too (a shared runner, runner.h).
 * Its runs are one batch's, or, after a killed instance, one orphan batch
 * each: every open batch is looked at. */
static bool runner_is_shared(const struct batch_manager *m, const struct run *run)
{
        for (const struct batch *b = m->first; b; b = b->next)
                for (size_t i = 0; i < b->n_runs; i++)
                        if (&b->runs[i] != run && b->runs[i].runner_pid == run->runner_pid)
                                return true;
        return false;
}

void batch_signal_cancel(const struct run *run)
{
        const struct batch_manager *m = run->batch->manager;
        if (run->runner_pid <= 0)
                return;
        /* SIGTERM would cancel every run of a shared runner; a runner of
         * one run takes SIGTERM, as every runner before issue 16 did (an
         * adopted one may be one of those, which SIGRTMIN would kill). */
        if (runner_is_shared(m, run))
                (void)sigqueue(run->runner_pid, SIGRTMIN, (union sigval){ .sival_int = (int)run->runner_slot });
        else
                kill(run->runner_pid, SIGTERM);
}

size_t batch_cancel_job(struct batch_manager *m, const char *job_name)
{
        size_t count = 0;
        for (struct batch *b = m->first; b; b = b->next)
                for (size_t i = 0; i < b->n_runs; i++) {
                        struct run *run = &b->runs[i];
                        if (run->finished || run->on_failure || strcmp(run->job_name, job_name) != 0)
                                continue;
                        run->cancel_requested = true;
                        batch_image_sync(run);
                        batch_signal_cancel(run);
                        count++;
                }
        return count;
}

void batch_cancel_all(struct batch_manager *m)
{
        for (struct batch *b = m->first; b; b = b->next)
                for (size_t i = 0; i < b->n_runs; i++) {
                        struct run *run = &b->runs[i];
                        if (run->finished)
                                continue;
                        run->cancel_requested = true;
                        batch_image_sync(run);
                        if (run->runner_pid > 0)
                                kill(run->runner_pid, SIGTERM);
                }
}

void batch_kill_all(struct batch_manager *m)
{
        for (struct batch *b = m->first; b; b = b->next)
                for (size_t i = 0; i < b->n_runs; i++) {
                        struct run *run = &b->runs[i];
                        if (run->finished)
                                continue;
                        if (m->options.cgroup_dir)
                                (void)cgroup_kill_run(m->options.cgroup_dir, run->job_name, run->run_id);
                        if (run->job_pid > 0)
                                kill(-run->job_pid, SIGKILL);
                        else if (run->runner_pid > 0)
                                kill(run->runner_pid, SIGKILL);
                }
}

void batch_manager_detach(struct batch_manager *m)
{
        batch_prepare_drop(m); /* no run of it was announced: it exits */
        while (m->first)
                batch_release(m->first, true);
        m->n_running = 0;
        m->n_children = 0; /* orphans now: the service manager reaps them */
}

/* Run I of the adopted batch B, from its image IR; an unfinished one is
 * logged as taken over when its pipe came with it. */
static void adopt_run(struct batch *b, size_t i, const struct image_run *ir, bool have_pipe)
{
        struct batch_manager *m = b->manager;
        struct run *run = &b->runs[i];
        run->batch = b;
        run->slot = run->runner_slot = (uint32_t)i;
        run->job_name = strndup(ir->job_name, sizeof(ir->job_name));
        run->user = ir->user[0] ? strndup(ir->user, sizeof(ir->user)) : NULL;
        memcpy(run->run_id, ir->run_id, sizeof(run->run_id) - 1);
        run->scheduled_usec = ir->scheduled_usec;
        run->on_failure = ir->on_failure;
        run->runner_pid = ir->runner_pid;
        run->job_pid = ir->job_pid;
        run->cancel_requested = ir->cancel_requested;
        run->finished = ir->finished;
        if (!run->job_name)
                run->job_name = strdup("?"); /* only the name is lost, never the batch */
        if (run->finished) {
                b->n_finished++;
                return;
        }
        m->n_running++;
        if (have_pipe)
                log_emit(&(struct log_record){ .event = LOG_EVENT_ADOPTED,
                                               .priority = LOG_INFO,
                                               .job = run->job_name,
                                               .run_id = run->run_id,
                                               .user = run->user,
                                               .job_pid = run->job_pid,
                                               .scheduled_usec = run->scheduled_usec },
                         "%s of %s (pid %d) taken over from the previous instance of tickd",
                         run->on_failure ? "on_failure command" : "run", run->job_name, run->job_pid);
}

/* Rebuilds one batch of the previous instance from its image; PIPE_FD < 0
 * when the pipe did not come with it (every unfinished run is then lost).
 * Takes both descriptors. */
static void batch_adopt(struct batch_manager *m, uint64_t id, int image_fd, int pipe_fd)
{
        char pipe_name[48], runs_name[48];
        store_names(id, pipe_name, runs_name);
        struct stat st;
        struct image *image = MAP_FAILED;
        if (fstat(image_fd, &st) == 0 && (size_t)st.st_size >= sizeof(struct image))
                image = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, image_fd, 0);
        close(image_fd);
        if (image == MAP_FAILED || image->magic != IMAGE_MAGIC || image->id != id ||
            image->run_size != sizeof(struct image_run) || image->n_runs == 0 ||
            sizeof(struct image) + (size_t)image->n_runs * sizeof(struct image_run) > (size_t)st.st_size) {
                log_msg(LOG_ERR,
                        "stored batch %llu from the previous instance is unreadable; the outcomes of its "
                        "runs cannot be recorded",
                        (unsigned long long)id);
                if (image != MAP_FAILED)
                        munmap(image, (size_t)st.st_size);
                if (pipe_fd >= 0)
                        close(pipe_fd);
                fdstore_remove(pipe_name);
                fdstore_remove(runs_name);
                return;
        }
        size_t n = image->n_runs;
        struct batch *b = calloc(1, sizeof(*b) + n * sizeof(struct run));
        if (!b) {
                log_msg(LOG_ERR, "cannot adopt batch %llu: %s", (unsigned long long)id, strerror(ENOMEM));
                munmap(image, (size_t)st.st_size);
                if (pipe_fd >= 0)
                        close(pipe_fd);
                return; /* left in the store: a later instance may have the memory */
        }
        *b = (struct batch){ .manager = m,
                             .id = id,
                             .fd = pipe_fd,
                             .created_usec = image->created_usec,
                             .image = image,
                             .image_size = (size_t)st.st_size,
                             .adopted = true,
                             .n_runs = n };
        batch_link(b);
        m->n_stored++;
        if (id >= m->next_id)
                m->next_id = id + 1;
        for (size_t i = 0; i < n; i++)
                adopt_run(b, i, &image->runs[i], pipe_fd >= 0);
        int r = pipe_fd < 0 ? -EBADF : collector_watch(b);
        if (r < 0) {
                if (pipe_fd >= 0)
                        log_msg(LOG_ERR, "cannot watch adopted batch %llu: %s", (unsigned long long)id, strerror(-r));
                for (size_t i = 0; i < n; i++)
                        collector_run_finished(b, &b->runs[i], NULL); /* lost, by name */
                batch_free(b);
        }
}

size_t batch_manager_adopt(struct batch_manager *m, struct fdstore_passed *passed)
{
        size_t before = m->n_running;
        for (size_t i = 0; i < passed->n; i++) {
                unsigned long long id;
                char tail;
                if (passed->fds[i] < 0 || sscanf(passed->names[i], "tickd-runs-%llu%c", &id, &tail) != 1)
                        continue;
                char pipe_name[48], runs_name[48];
                store_names(id, pipe_name, runs_name);
                int pipe_fd = -1;
                for (size_t j = 0; j < passed->n; j++)
                        if (passed->fds[j] >= 0 && strcmp(passed->names[j], pipe_name) == 0) {
                                pipe_fd = passed->fds[j];
                                passed->fds[j] = -1;
                        }
                int image_fd = passed->fds[i];
                passed->fds[i] = -1;
                batch_adopt(m, id, image_fd, pipe_fd);
        }
        for (size_t i = 0; i < passed->n; i++) {
                if (passed->fds[i] < 0)
                        continue;
                if (strncmp(passed->names[i], "tickd-", 6) == 0) {
                        log_msg(LOG_WARNING, "stored descriptor %s has no batch image; dropping it", passed->names[i]);
                        fdstore_remove(passed->names[i]);
                } else {
                        log_msg(LOG_WARNING, "ignoring passed descriptor %d named %s", passed->fds[i],
                                passed->names[i]);
                }
                close(passed->fds[i]);
                passed->fds[i] = -1;
        }
        return m->n_running - before;
}

/* An orphan batch keeps its record in the state directory: it survives. */
bool batch_all_stored(const struct batch_manager *m)
{
        size_t n_orphans = 0;
        for (const struct batch *b = m->first; b; b = b->next)
                n_orphans += b->orphan;
        return m->n_stored + n_orphans == m->n_open;
}
size_t batch_open_count(const struct batch_manager *m) { return m->n_open; }
size_t batch_running_count(const struct batch_manager *m) { return m->n_running; }

size_t batch_running_count_job(const struct batch_manager *m, const char *job_name)
{
        size_t count = 0;
        for (const struct batch *b = m->first; b; b = b->next)
                for (size_t i = 0; i < b->n_runs; i++)
                        if (!b->runs[i].finished && !b->runs[i].on_failure &&
                            strcmp(b->runs[i].job_name, job_name) == 0)
                                count++;
        return count;
}

void batch_foreach(const struct batch_manager *m, batch_visit_fn fn, void *userdata)
{
        uint64_t now = clock_now_usec(CLOCK_MONOTONIC);
        for (const struct batch *b = m->first; b; b = b->next) {
                const struct run *missing[b->n_runs - b->n_finished + 1];
                size_t k = 0;
                for (size_t i = 0; i < b->n_runs; i++)
                        if (!b->runs[i].finished)
                                missing[k++] = &b->runs[i];
                fn(userdata, b->id, now - b->created_usec, missing, k);
        }
}
