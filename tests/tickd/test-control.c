/* test-control.c — the control server against a fake daemon (struct
 * control_ops in this process), driven by the real tickctl binary: output,
 * exit statuses, socket life cycle, authorisation from peer credentials,
 * and no descriptor left behind by a peer. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <systemd/sd-bus.h>

#include "tickd/control.h"
#include "harness/harness-ctl.h"
#include "harness/harness.h"
#include "core/schedule.h"

/* ---- the fake daemon ---- */

#define N_JOBS 4

struct fake {
        struct job jobs[N_JOBS];
        struct job_extra extras[N_JOBS];
        struct control_job views[N_JOBS];
        struct control_outcome last_backup;
        struct control *control;
        sd_event *event;
        sd_event_source *stop_source;
        sd_event_source *finish_timer;
        int stop_fd;
        pthread_t thread;
        char *dir;         /* temporary directory; the runtime base is DIR/run */
        char *runtime_dir; /* DIR/run/tickd */
        char pending_run[CONTROL_RUN_ID_MAX];
        char pending_job[32];
        int pending_exit;
        int runs_started;
        int cancels;
        int reloads;
        unsigned run_serial;
        unsigned big_files; /* files listed with BIG_ERROR as their error, past the list bound */
        const char *big_error;
};

static char test_user[32]; /* the unprivileged user, created once per suite */
static uid_t test_uid;
static gid_t test_gid;

static int fake_for_each_job(void *userdata, control_job_fn each, void *ctx)
{
        struct fake *f = userdata;
        for (int i = 0; i < N_JOBS; i++) {
                int r = each(&f->views[i], ctx);
                if (r != 0)
                        return r < 0 ? r : 0;
        }
        return 0;
}

static int fake_for_each_file(void *userdata, control_file_fn each, void *ctx)
{
        const struct control_file files[] = {
                { .path = "/etc/tickd/jobs.d/a.ini", .loaded = true, .n_jobs = 3 },
                { .path = "/etc/tickd/jobs.d/b.ini",
                  .loaded = false,
                  .error = "/etc/tickd/jobs.d/b.ini:3: schedule: minute: 61 is out of range 0-59" },
        };
        for (size_t i = 0; i < 2; i++) {
                int r = each(&files[i], ctx);
                if (r != 0)
                        return r < 0 ? r : 0;
        }
        struct fake *f = userdata;
        for (unsigned i = 0; i < f->big_files; i++) {
                char path[64];
                snprintf(path, sizeof(path), "/etc/tickd/jobs.d/big%03u.ini", i);
                int r = each(&(struct control_file){ .path = path, .error = f->big_error }, ctx);
                if (r != 0)
                        return r < 0 ? r : 0;
        }
        return 0;
}

static int fake_for_each_run(void *userdata, control_run_fn each, void *ctx)
{
        const struct fake *f = userdata;
        struct control_run run = { .job = f->big_error ? f->big_error : "backup",
                                   .run_id = "run-backup-1",
                                   .pid = 4242,
                                   .start_usec = UINT64_C(1700000000000000),
                                   .uid = (uid_t)-1 };
        struct control_run other = { .job = "report",
                                     .user = test_user,
                                     .run_id = "run-report-1",
                                     .pid = 4343,
                                     .start_usec = UINT64_C(1700000000000000),
                                     .uid = test_uid };
        int r = each(&run, ctx);
        if (r == 0)
                r = each(&other, ctx);
        return r < 0 ? r : 0;
}

static int fake_for_each_batch(void *userdata, control_batch_fn each, void *ctx)
{
        const struct fake *f = userdata;
        const char *const missing[] = { f->big_error ? f->big_error : "backup", "sync" };
        struct control_batch b = {
                .id = 7, .created_usec = UINT64_C(1700000000000000), .n_jobs = 3, .missing = missing, .n_missing = 2
        };
        int r = each(&b, ctx);
        return r < 0 ? r : 0;
}

static int on_finish(sd_event_source *s, uint64_t usec, void *userdata)
{
        struct fake *f = userdata;
        struct control_outcome o = { .run_id = f->pending_run,
                                     .result = f->pending_exit == 0 ? "succeeded" : "failed",
                                     .exit_status = f->pending_exit,
                                     .start_usec = UINT64_C(1700000000000000),
                                     .end_usec = UINT64_C(1700000001500000) };
        control_run_finished(f->control, f->pending_job, &o);
        f->finish_timer = sd_event_source_disable_unref(f->finish_timer);
        return 0;
}

static int fake_run_job(void *userdata, const char *name, char run_id[CONTROL_RUN_ID_MAX])
{
        struct fake *f = userdata;
        if (strcmp(name, "busy") == 0)
                return -EBUSY;
        int exit_status;
        if (strcmp(name, "backup") == 0)
                exit_status = 0;
        else if (strcmp(name, "fails") == 0)
                exit_status = 3;
        else
                return -ENOENT;
        f->runs_started++;
        snprintf(run_id, CONTROL_RUN_ID_MAX, "run-%s-%u", name, ++f->run_serial);
        /* The outcome comes later, from the loop, as a collector's would. */
        snprintf(f->pending_run, sizeof(f->pending_run), "%s", run_id);
        snprintf(f->pending_job, sizeof(f->pending_job), "%s", name);
        f->pending_exit = exit_status;
        sd_event_source_disable_unref(f->finish_timer);
        f->finish_timer = NULL;
        uint64_t now;
        sd_event_now(f->event, CLOCK_MONOTONIC, &now);
        return sd_event_add_time(f->event, &f->finish_timer, CLOCK_MONOTONIC, now + 200 * 1000, 0, on_finish, f);
}

static int fake_cancel_job(void *userdata, const char *name)
{
        struct fake *f = userdata;
        if (strcmp(name, "backup") == 0) {
                f->cancels++;
                return 1;
        }
        return strcmp(name, "fails") == 0 || strcmp(name, "busy") == 0 ? -ESRCH : -ENOENT;
}

static int fake_reload(void *userdata)
{
        struct fake *f = userdata;
        f->reloads++;
        return 0;
}

static const struct control_ops fake_ops = {
        .for_each_job = fake_for_each_job,
        .for_each_file = fake_for_each_file,
        .for_each_run = fake_for_each_run,
        .for_each_batch = fake_for_each_batch,
        .run_job = fake_run_job,
        .cancel_job = fake_cancel_job,
        .reload = fake_reload,
};

static void fake_job(struct job *j, struct job_extra *x, const char *name, const char *schedule, const char *user,
                     bool enabled)
{
        char err[256];
        *x = job_extra_defaults;
        x->timezone = "UTC";
        *j = (struct job){ .name = (char *)name,
                           .file = "/etc/tickd/jobs.d/a.ini",
                           .line = 1,
                           .command = "/bin/true",
                           .user = (char *)user,
                           .extra = x,
                           .enabled = enabled };
        ck_assert_int_eq(schedule_parse(schedule, NULL, &j->schedule, err, sizeof(err)), 0);
}

static int on_stop(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        return sd_event_exit(sd_event_source_get_event(s), 0);
}

static void *serve(void *userdata)
{
        struct fake *f = userdata;
        sd_event_loop(f->event);
        return NULL;
}

static struct fake *fake_start(bool user_mode)
{
        struct fake *f = calloc(1, sizeof(*f));
        ck_assert_ptr_nonnull(f);
        fake_job(&f->jobs[0], &f->extras[0], "backup", "30 2 * * *", NULL, true);
        fake_job(&f->jobs[1], &f->extras[1], "report", "*/5 * * * *", test_user, true);
        fake_job(&f->jobs[2], &f->extras[2], "fails", "@hourly", NULL, true);
        fake_job(&f->jobs[3], &f->extras[3], "old", "@daily", NULL, false);
        f->extras[0].description = "Nightly database backup";
        f->last_backup = (struct control_outcome){ .run_id = "run-backup-0",
                                                   .result = "failed",
                                                   .exit_status = 3,
                                                   .start_usec = UINT64_C(1700000000000000),
                                                   .end_usec = UINT64_C(1700000002000000) };
        for (int i = 0; i < N_JOBS; i++)
                f->views[i] = (struct control_job){ .job = &f->jobs[i],
                                                    .uid = (uid_t)-1,
                                                    .next_usec = UINT64_C(4000000000000000) + (uint64_t)i };
        f->views[1].uid = test_uid; /* resolved by the daemon, as control-daemon.c does */
        f->views[0].last = &f->last_backup;
        f->views[0].running = 1;

        f->dir = harness_tmpdir();
        ck_assert_ptr_nonnull(f->dir);
        char base[512];
        snprintf(base, sizeof(base), "%s/run", f->dir);
        ck_assert_int_eq(mkdir(base, 0755), 0);
        ck_assert_int_ge(asprintf(&f->runtime_dir, "%s/tickd", base), 0);

        ck_assert_int_ge(sd_event_new(&f->event), 0);
        f->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        ck_assert_int_ge(f->stop_fd, 0);
        ck_assert_int_ge(sd_event_add_io(f->event, &f->stop_source, f->stop_fd, EPOLLIN, on_stop, f), 0);
        struct control_options options = { .runtime_dir = f->runtime_dir,
                                           .user_mode = user_mode,
                                           .owner_uid = user_mode ? test_uid : 0,
                                           .started_usec = UINT64_C(1700000000000000) };
        ck_assert_int_eq(control_new(f->event, &options, &fake_ops, f, &f->control), 0);
        ck_assert_int_eq(pthread_create(&f->thread, NULL, serve, f), 0);
        return f;
}

static void fake_stop(struct fake *f)
{
        uint64_t one = 1;
        ck_assert_int_eq(write(f->stop_fd, &one, sizeof(one)), sizeof(one));
        ck_assert_int_eq(pthread_join(f->thread, NULL), 0);
        f->control = control_free(f->control);
        sd_event_source_disable_unref(f->finish_timer);
        sd_event_source_disable_unref(f->stop_source);
        close(f->stop_fd);
        sd_event_unref(f->event);
        for (int i = 0; i < N_JOBS; i++)
                schedule_free(f->jobs[i].schedule);
        free(f->runtime_dir);
        harness_tmpdir_remove(f->dir);
        free(f);
}

/* ---- running tickctl ---- */

/* tickctl ARGS... --runtime-dir DIR/run --no-pager, as the test user when AS_USER. */
static struct ctl_result ctl_as(const struct fake *f, bool as_user, const char *const *args)
{
        char base[512];
        snprintf(base, sizeof(base), "%s/run", f->dir);
        return harness_ctl(&(struct ctl_target){ .runtime_base = base },
                           as_user ? harness_ctl_as(test_uid, test_gid) : NULL, args);
}

#define CTL(f, ...)         ctl_as((f), false, (const char *const[]){ __VA_ARGS__, NULL })
#define CTL_AS_USER(f, ...) ctl_as((f), true, (const char *const[]){ __VA_ARGS__, NULL })

/* ---- socket life cycle ---- */

START_TEST(socket_is_world_accessible_on_the_system_instance)
{
        struct fake *f = fake_start(false);
        char *path = control_socket_path(f->runtime_dir);
        struct stat st;
        ck_assert_int_eq(lstat(path, &st), 0);
        ck_assert(S_ISSOCK(st.st_mode));
        ck_assert_int_eq(st.st_mode & 07777, 0666);
        fake_stop(f);
        free(path);
}
END_TEST

START_TEST(socket_is_private_on_a_user_instance)
{
        struct fake *f = fake_start(true);
        char *path = control_socket_path(f->runtime_dir);
        struct stat st;
        ck_assert_int_eq(lstat(path, &st), 0);
        ck_assert_int_eq(st.st_mode & 07777, 0600);
        fake_stop(f);
        free(path);
}
END_TEST

START_TEST(socket_is_removed_on_exit)
{
        struct fake *f = fake_start(false);
        char *path = control_socket_path(f->runtime_dir);
        ck_assert_int_eq(access(path, F_OK), 0);
        f->control = control_free(f->control);
        ck_assert_int_eq(access(path, F_OK), -1);
        ck_assert_int_eq(errno, ENOENT);
        fake_stop(f);
        free(path);
}
END_TEST

START_TEST(stale_socket_from_a_crash_is_replaced)
{
        char *dir = harness_tmpdir();
        char *path = control_socket_path(dir);
        /* A crashed daemon leaves a bound socket nobody listens on. */
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
        ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
        close(fd);
        sd_event *e;
        ck_assert_int_ge(sd_event_new(&e), 0);
        struct control *c = NULL;
        struct control_options options = { .runtime_dir = dir };
        ck_assert_int_eq(control_new(e, &options, &fake_ops, NULL, &c), 0);
        /* ... but a live one is not taken over. */
        struct control *second = NULL;
        ck_assert_int_eq(control_new(e, &options, &fake_ops, NULL, &second), -EADDRINUSE);
        ck_assert_ptr_null(second);
        control_free(c);
        sd_event_unref(e);
        free(path);
        harness_tmpdir_remove(dir);
}
END_TEST

START_TEST(commands_say_when_tickd_is_not_running)
{
        struct fake *f = fake_start(false);
        f->control = control_free(f->control);
        struct ctl_result r = CTL(f, "status");
        ck_assert_int_eq(r.status, 3);
        ck_assert_contains(r.err, "tickd is not running (no socket at ");
        ck_assert_contains(r.err, "/run/tickd/control");
        ctl_result_free(&r);
        r = CTL(f, "run", "backup");
        ck_assert_int_eq(r.status, 3);
        ctl_result_free(&r);
        fake_stop(f);
}
END_TEST

/* ---- commands, as root ---- */

START_TEST(list_shows_every_enabled_job_with_next_and_last_runs)
{
        struct fake *f = fake_start(false);
        struct ctl_result r = CTL(f, "list");
        ck_assert_int_eq(r.status, 0);
        ck_assert_contains(r.out, "NEXT");
        ck_assert_contains(r.out, "LEFT");
        ck_assert_contains(r.out, "backup");
        ck_assert_contains(r.out, "30 2 * * *");
        ck_assert_contains(r.out, "report");
        ck_assert_contains(r.out, "failed (3)");
        ck_assert_contains(r.out, " ago");
        ck_assert_contains(r.out, "in ");
        ck_assert_not_contains(r.out, "old");
        ck_assert_contains(r.out, "3 jobs listed.");
        ctl_result_free(&r);
        fake_stop(f);
}
END_TEST

START_TEST(list_all_adds_disabled_jobs_and_rejected_files)
{
        struct fake *f = fake_start(false);
        struct ctl_result r = CTL(f, "list", "--all");
        ck_assert_int_eq(r.status, 0);
        ck_assert_contains(r.out, "old (disabled)");
        /* The file is named once, though the error names it too. */
        ck_assert_contains(r.out, "rejected /etc/tickd/jobs.d/b.ini:3: schedule: minute: 61 is out of range");
        ck_assert_not_contains(r.out, "b.ini: /etc/tickd");
        ctl_result_free(&r);
        fake_stop(f);
}
END_TEST

/* The scope travels in the JOB struct: list marks a fleet job, and
 * status --json says which. */
START_TEST(list_and_status_show_a_fleet_jobs_scope)
{
        struct fake *f = fake_start(false);
        f->jobs[2].scope = JOB_SCOPE_FLEET; /* before any request: the server reads it on the next */
        struct ctl_result r = CTL(f, "list");
        ck_assert_int_eq(r.status, 0);
        ck_assert_contains(r.out, "  NAME    SCOPE  ");
        ck_assert_contains(r.out, "  fails   fleet  ");
        ck_assert_contains(r.out, "  backup  host   ");
        ctl_result_free(&r);
        r = CTL(f, "list", "--json");
        ck_assert_contains(r.out, "\"name\": \"fails\"");
        ck_assert_contains(r.out, "\"scope\": \"fleet\", \"last_node\": null}");
        ctl_result_free(&r);
        r = CTL(f, "status", "fails", "--json");
        ck_assert_int_eq(r.status, 0);
        ck_assert_contains(r.out, "\"scope\": \"fleet\"");
        ctl_result_free(&r);
        fake_stop(f);
}
END_TEST

START_TEST(list_json_is_one_array_of_jobs)
{
        struct fake *f = fake_start(false);
        struct ctl_result r = CTL(f, "list", "--json");
        ck_assert_int_eq(r.status, 0);
        ck_assert_msg(r.out[0] == '[', "%s", r.out);
        ck_assert_contains(r.out, "{\"name\": \"backup\", \"schedule\": \"30 2 * * *\"");
        ck_assert_contains(r.out, "\"last_result\": \"failed\", \"last_exit_status\": 3");
        ck_assert_contains(r.out, "\"running\": 1, \"scope\": \"host\", \"last_node\": null}");
        ctl_result_free(&r);
        fake_stop(f);
}
END_TEST

START_TEST(status_shows_files_runs_batches_and_resources)
{
        struct fake *f = fake_start(false);
        struct ctl_result r = CTL(f, "status");
        ck_assert_int_eq(r.status, 0);
        ck_assert_contains(r.out, "tickd " TICKD_VERSION " (system instance)");
        ck_assert_contains(r.out, "Up: ");
        ck_assert_contains(r.out, "Jobs: 4");
        ck_assert_contains(r.out, "loaded    /etc/tickd/jobs.d/a.ini (3 jobs)");
        ck_assert_contains(r.out, "rejected  /etc/tickd/jobs.d/b.ini:3: schedule:");
        ck_assert_contains(r.out, "backup  run run-backup-1  pid 4242");
        ck_assert_contains(r.out, "#7 opened ");
        ck_assert_contains(r.out, "waiting for: backup, sync");
        ck_assert_contains(r.out, "Open descriptors: ");
        ck_assert_contains(r.out, "Memory (RSS): ");
        ctl_result_free(&r);
        fake_stop(f);
}
END_TEST

/* 70 files with 1 MiB errors: 70 MiB, past the 64 MiB array sd-bus reads. */
#define BIG_FILES     70
#define BIG_ERROR_LEN (1024 * 1024)

static struct fake *fake_start_big(char **error)
{
        struct fake *f = fake_start(false);
        *error = malloc(BIG_ERROR_LEN + 1);
        ck_assert_ptr_nonnull(*error);
        memset(*error, 'e', BIG_ERROR_LEN);
        (*error)[BIG_ERROR_LEN] = '\0';
        f->big_error = *error;
        f->big_files = BIG_FILES; /* read by the server only while it answers a call made after this */
        return f;
}

/* The files that fit in 32 MiB are listed and a line says how many were
 * left out; a run and a batch of 1 MiB each, past what is left of the
 * bound, are left out and counted the same way. */
START_TEST(status_cuts_its_lists_at_the_bound_and_counts_what_it_left_out)
{
        char *error;
        struct fake *f = fake_start_big(&error);
        struct ctl_result r = CTL(f, "status");
        ck_assert_msg(r.status == 0, "status %d: %s", r.status, r.err);
        unsigned omitted = 0;
        const char *cut = strstr(r.err, "tickctl status: ");
        ck_assert_msg(cut && sscanf(cut, "tickctl status: %u more files not listed: the list is cut at 32 MiB",
                                    &omitted) == 1,
                      "stderr: %.300s", r.err);
        /* 31 of ~1 MiB fit in 32 MiB (after a.ini and b.ini); the output
         * is only captured in part, so the count is what can be checked. */
        ck_assert_uint_eq(omitted, BIG_FILES - 31);
        ck_assert_contains(r.err, "tickctl status: 2 more runs not listed: the list is cut at 32 MiB");
        ck_assert_contains(r.err, "tickctl status: 1 more batch not listed: the list is cut at 32 MiB");
        ck_assert_contains(r.out, "loaded    /etc/tickd/jobs.d/a.ini (3 jobs)");
        ctl_result_free(&r);
        fake_stop(f);
        free(error);
}
END_TEST

START_TEST(list_all_cuts_the_file_list_at_the_bound_and_counts_what_it_left_out)
{
        char *error;
        struct fake *f = fake_start_big(&error);
        struct ctl_result r = CTL(f, "list", "--all");
        unsigned omitted = 0;
        const char *cut = strstr(r.err, "tickctl list: ");
        ck_assert_msg(
                cut && sscanf(cut, "tickctl list: %u more files not listed: the list is cut at 32 MiB", &omitted) == 1,
                "status %d, stderr: %.300s", r.status, r.err);
        ck_assert_uint_eq(omitted, BIG_FILES - 31);
        ck_assert_contains(r.out, "backup");
        ctl_result_free(&r);
        fake_stop(f);
        free(error);
}
END_TEST

START_TEST(status_of_a_job_shows_definition_next_runs_and_last_outcome)
{
        struct fake *f = fake_start(false);
        struct ctl_result r = CTL(f, "status", "backup");
        ck_assert_int_eq(r.status, 0);
        ck_assert_contains(r.out, "backup - Nightly database backup");
        ck_assert_contains(r.out, "schedule: 30 2 * * *");
        ck_assert_contains(r.out, "overlap: skip");
        ck_assert_contains(r.out, "Next runs:");
        ck_assert_contains(r.out, "02:30:00");
        ck_assert_contains(r.out, "Last run: ");
        ck_assert_contains(r.out, "failed, exit status 3, took 2s");
        ctl_result_free(&r);
        r = CTL(f, "status", "nosuch");
        ck_assert_int_eq(r.status, 2);
        ck_assert_contains(r.err, "no such job 'nosuch'");
        ctl_result_free(&r);
        fake_stop(f);
}
END_TEST

START_TEST(run_starts_a_run_and_prints_its_id)
{
        struct fake *f = fake_start(false);
        struct ctl_result r = CTL(f, "run", "backup");
        ck_assert_int_eq(r.status, 0);
        ck_assert_contains(r.out, "Started backup, run run-backup-1.");
        ctl_result_free(&r);
        fake_stop(f);
}
END_TEST

START_TEST(run_wait_exits_with_the_jobs_exit_status)
{
        struct fake *f = fake_start(false);
        struct ctl_result r = CTL(f, "run", "fails", "--wait");
        ck_assert_int_eq(r.status, 3);
        ck_assert_contains(r.out, "fails run run-fails-1: failed (exit status 3) after 1s 500ms");
        ctl_result_free(&r);
        r = CTL(f, "run", "--wait", "backup");
        ck_assert_int_eq(r.status, 0);
        ck_assert_contains(r.out, "backup run run-backup-2: succeeded (exit status 0)");
        ctl_result_free(&r);
        fake_stop(f);
}
END_TEST

START_TEST(run_of_an_unknown_or_busy_job_fails_clearly)
{
        struct fake *f = fake_start(false);
        struct ctl_result r = CTL(f, "run", "nosuch");
        ck_assert_int_eq(r.status, 2);
        ck_assert_contains(r.err, "no such job 'nosuch'");
        ctl_result_free(&r);
        r = CTL(f, "run", "busy");
        ck_assert_int_eq(r.status, 1);
        ck_assert_contains(r.err, "already running");
        ctl_result_free(&r);
        fake_stop(f);
}
END_TEST

START_TEST(a_waiter_that_hangs_up_is_dropped)
{
        struct fake *f = fake_start(false);
        /* tickctl run --wait killed before the outcome: the server must drop
         * the waiter and the connection when the outcome comes. */
        char base[512];
        snprintf(base, sizeof(base), "%s/run", f->dir);
        pid_t pid = fork();
        if (pid == 0) {
                int null = open("/dev/null", O_WRONLY);
                dup2(null, STDOUT_FILENO);
                execl(harness_binary("tickctl"), "tickctl", "run", "fails", "--wait", "--runtime-dir", base,
                      (char *)NULL);
                _exit(127);
        }
        usleep(100 * 1000);
        kill(pid, SIGKILL);
        ck_assert_int_eq(waitpid(pid, NULL, 0), pid);
        usleep(300 * 1000); /* the outcome arrives (200 ms after the start) */
        for (int i = 0; i < 100 && control_connections(f->control) > 0; i++)
                usleep(10 * 1000);
        ck_assert_int_eq(control_connections(f->control), 0);
        fake_stop(f);
}
END_TEST

START_TEST(cancel_reports_runs_or_not_running)
{
        struct fake *f = fake_start(false);
        struct ctl_result r = CTL(f, "cancel", "backup");
        ck_assert_int_eq(r.status, 0);
        ck_assert_contains(r.out, "Cancelled 1 run of backup.");
        ctl_result_free(&r);
        r = CTL(f, "cancel", "fails");
        ck_assert_int_eq(r.status, 1);
        ck_assert_contains(r.err, "job 'fails' is not running");
        ctl_result_free(&r);
        fake_stop(f);
}
END_TEST

START_TEST(reload_reports_each_file_and_fails_on_a_rejected_one)
{
        struct fake *f = fake_start(false);
        struct ctl_result r = CTL(f, "reload");
        ck_assert_int_eq(r.status, 1);
        ck_assert_contains(r.out, "loaded    /etc/tickd/jobs.d/a.ini (3 jobs)");
        ck_assert_contains(r.out, "rejected  /etc/tickd/jobs.d/b.ini:3: schedule:");
        ctl_result_free(&r);
        ck_assert_int_eq(f->reloads, 1);
        fake_stop(f);
}
END_TEST

START_TEST(busctl_can_call_the_interface)
{
        /* busctl --address= says Hello first, as to a bus daemon. */
        if (access("/usr/bin/busctl", X_OK) < 0)
                return; /* systemd's busctl is in DEPS; nothing to prove without it */
        struct fake *f = fake_start(false);
        char *path = control_socket_path(f->runtime_dir);
        char address[600];
        snprintf(address, sizeof(address), "--address=unix:path=%s", path);
        char *argv[] = { "/usr/bin/busctl",
                         address,
                         "call",
                         "org.tickd.Manager1",
                         CONTROL_PATH,
                         CONTROL_INTERFACE,
                         "ListJobs",
                         "b",
                         "true",
                         NULL };
        char *out = NULL, *err = NULL;
        int ws = harness_run(argv, NULL, &out, &err);
        ck_assert_msg(WIFEXITED(ws) && WEXITSTATUS(ws) == 0, "busctl: %s", err);
        ck_assert_contains(out, "a" CONTROL_JOB_SIG " 4 \"backup\" \"Nightly database backup\"");
        free(out);
        free(err);
        free(path);
        fake_stop(f);
}
END_TEST

START_TEST(dbus_send_that_pipelines_its_call_after_begin_is_answered)
{
        /* libdbus sends its first call right behind BEGIN, often in the same
         * read as it; several calls make the race near certain to happen. */
        if (access("/usr/bin/dbus-send", X_OK) < 0)
                return; /* dbus-bin is in DEPS; nothing to prove without it */
        struct fake *f = fake_start(false);
        char *path = control_socket_path(f->runtime_dir);
        char address[600];
        snprintf(address, sizeof(address), "--peer=unix:path=%s", path);
        char *argv[] = { "/usr/bin/dbus-send",   address,      "--print-reply",
                         "--reply-timeout=2000", CONTROL_PATH, CONTROL_INTERFACE ".ListJobs",
                         "boolean:true",         NULL };
        for (int i = 0; i < 5; i++) {
                char *out = NULL, *err = NULL;
                int ws = harness_run(argv, NULL, &out, &err);
                ck_assert_msg(WIFEXITED(ws) && WEXITSTATUS(ws) == 0, "dbus-send, call %d: %s", i + 1, err);
                ck_assert_contains(out, "string \"Nightly database backup\"");
                free(out);
                free(err);
        }
        free(path);
        fake_stop(f);
}
END_TEST

START_TEST(peers_leave_no_descriptor_behind)
{
        struct fake *f = fake_start(false);
        char *path = control_socket_path(f->runtime_dir);
        struct leak_counts before, after;
        /* The first peer makes sd-event create its monotonic timerfd (for
         * sd-bus's timeouts), which lives as long as the loop: count after it. */
        struct ctl_result warm = CTL(f, "list");
        ck_assert_int_eq(warm.status, 0);
        ctl_result_free(&warm);
        leak_counts_read(&before);
        for (int i = 0; i < 50; i++) {
                struct ctl_result r = CTL(f, "list", "--json");
                ck_assert_int_eq(r.status, 0);
                ctl_result_free(&r);
        }
        /* peers that connect and hang up without a word */
        for (int i = 0; i < 50; i++) {
                int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
                struct sockaddr_un sa = { .sun_family = AF_UNIX };
                snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
                ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
                if (i % 2)
                        (void)!write(fd, "\0AUTH EXTERNAL 30\r\n", 19);
                close(fd);
        }
        /* The server accepts and notices hang-ups asynchronously: give it
         * up to 2 s to settle, then there must be nothing left. */
        for (int i = 0; i < 200; i++) {
                leak_counts_read(&after);
                if (control_connections(f->control) == 0 && after.fds == before.fds)
                        break;
                usleep(10 * 1000);
        }
        ck_assert_int_eq(control_connections(f->control), 0);
        ck_assert_int_eq(after.fds, before.fds);
        free(path);
        fake_stop(f);
}
END_TEST

/* ---- authorisation, as an unprivileged user ---- */

static void user_setup(void)
{
        if (test_user[0])
                return;
        harness_user_add("tkctl", test_user, sizeof(test_user), &test_uid, &test_gid);
}

static void user_teardown(void)
{
        if (!test_user[0])
                return;
        harness_user_del(test_user);
        test_user[0] = '\0';
}

START_TEST(a_user_lists_only_the_jobs_that_run_as_them)
{
        struct fake *f = fake_start(false);
        struct ctl_result r = CTL_AS_USER(f, "list", "--all");
        ck_assert_msg(r.status == 0, "status %d: %s", r.status, r.err);
        ck_assert_contains(r.out, "report");
        ck_assert_not_contains(r.out, "backup");
        ck_assert_not_contains(r.out, "rejected");
        ck_assert_contains(r.out, "1 job listed.");
        ctl_result_free(&r);
        r = CTL_AS_USER(f, "status");
        ck_assert_int_eq(r.status, 0);
        ck_assert_contains(r.out, "report  run run-report-1");
        ck_assert_not_contains(r.out, "run-backup-1");
        ck_assert_not_contains(r.out, "b.ini");
        ctl_result_free(&r);
        fake_stop(f);
}
END_TEST

START_TEST(a_user_may_not_see_run_cancel_or_reload_others_jobs)
{
        struct fake *f = fake_start(false);
        struct ctl_result r = CTL_AS_USER(f, "status", "backup");
        ck_assert_int_eq(r.status, 2);
        ck_assert_contains(r.err, "no such job 'backup'");
        ctl_result_free(&r);
        r = CTL_AS_USER(f, "run", "backup");
        ck_assert_int_eq(r.status, 4);
        ck_assert_contains(r.err, "permission denied: run job 'backup' needs root");
        ctl_result_free(&r);
        r = CTL_AS_USER(f, "cancel", "backup");
        ck_assert_int_eq(r.status, 4);
        ck_assert_contains(r.err, "permission denied");
        ctl_result_free(&r);
        r = CTL_AS_USER(f, "reload");
        ck_assert_int_eq(r.status, 4);
        ck_assert_contains(r.err, "permission denied: reload needs root");
        ctl_result_free(&r);
        ck_assert_int_eq(f->runs_started, 0);
        ck_assert_int_eq(f->cancels, 0);
        ck_assert_int_eq(f->reloads, 0);
        fake_stop(f);
}
END_TEST

/* The server logs to this process's stderr: a pipe stands in for it
 * between stderr_capture_begin() and stderr_capture_end(). */
static int stderr_capture_begin(int *saved)
{
        int fds[2];
        ck_assert_int_eq(pipe2(fds, O_CLOEXEC | O_NONBLOCK), 0);
        fflush(stderr);
        *saved = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
        ck_assert_int_ge(*saved, 0);
        ck_assert_int_ge(dup2(fds[1], STDERR_FILENO), 0);
        close(fds[1]);
        return fds[0];
}

static char *stderr_capture_end(int fd, int saved)
{
        fflush(stderr);
        ck_assert_int_ge(dup2(saved, STDERR_FILENO), 0);
        close(saved);
        char *text = calloc(1, 65536);
        ck_assert_ptr_nonnull(text);
        size_t len = 0;
        ssize_t n;
        while ((n = read(fd, text + len, 65535 - len)) > 0)
                len += (size_t)n;
        close(fd);
        return text;
}

START_TEST(a_users_hostile_job_name_is_logged_as_one_escaped_line)
{
        /* An unprivileged peer must not be able to forge a record (a newline
         * and a new event) or send terminal escapes to the log's reader. */
        struct fake *f = fake_start(false);
        int saved;
        int fd = stderr_capture_begin(&saved);
        struct ctl_result r = CTL_AS_USER(f, "run", "backup\n event=succeeded job=backup \"\\\x1b[2J");
        char *log = stderr_capture_end(fd, saved);
        ck_assert_int_eq(r.status, 4);
        ctl_result_free(&r);
        ck_assert_msg(strchr(log, '\n') == log + strlen(log) - 1, "not one line: %s", log);
        ck_assert_ptr_null(strchr(log, '\x1b'));
        ck_assert_contains(log, "may not run job 'backup\\n event=succeeded job=backup \\\"\\\\\\x1b[2J'\"\n");
        free(log);
        fake_stop(f);
}
END_TEST

START_TEST(a_user_instance_serves_only_its_owner)
{
        struct fake *f = fake_start(true);
        /* The socket is 0600 and owned by root here; open it up so the
         * check that answers is the daemon's, not the file mode's. */
        char *path = control_socket_path(f->runtime_dir);
        ck_assert_int_eq(chmod(path, 0666), 0);
        ck_assert_int_eq(chmod(f->runtime_dir, 0755), 0);
        struct ctl_result r = CTL(f, "list"); /* root is not the owner */
        ck_assert_int_eq(r.status, 4);
        ck_assert_contains(r.err, "permission denied");
        ctl_result_free(&r);
        r = CTL_AS_USER(f, "list", "--all");
        ck_assert_msg(r.status == 0, "status %d: %s", r.status, r.err);
        ck_assert_contains(r.out, "backup"); /* the owner sees every job */
        ck_assert_contains(r.out, "rejected");
        ctl_result_free(&r);
        r = CTL_AS_USER(f, "run", "backup");
        ck_assert_int_eq(r.status, 0);
        ctl_result_free(&r);
        free(path);
        fake_stop(f);
}
END_TEST

START_TEST(one_user_cannot_hold_every_connection)
{
        struct fake *f = fake_start(false);
        char *path = control_socket_path(f->runtime_dir);
        int ready[2], done[2];
        ck_assert_int_eq(pipe2(ready, O_CLOEXEC), 0);
        ck_assert_int_eq(pipe2(done, O_CLOEXEC), 0);
        pid_t pid = fork();
        if (pid == 0) {
                /* As the unprivileged user: hold CONTROL_MAX_PER_USER idle peers. */
                close(done[1]);
                close(ready[0]);
                if (setgid(test_gid) < 0 || setuid(test_uid) < 0)
                        _exit(1);
                for (int i = 0; i < CONTROL_MAX_PER_USER; i++) {
                        int fd = socket(AF_UNIX, SOCK_STREAM, 0);
                        struct sockaddr_un sa = { .sun_family = AF_UNIX };
                        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
                        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
                                _exit(2);
                }
                char c = 'r';
                (void)!write(ready[1], &c, 1);
                (void)!read(done[0], &c, 1);
                _exit(0);
        }
        close(ready[1]);
        close(done[0]);
        char c;
        ck_assert_int_eq(read(ready[0], &c, 1), 1);
        for (int i = 0; i < 200 && control_connections(f->control) < CONTROL_MAX_PER_USER; i++)
                usleep(10 * 1000);
        ck_assert_int_eq(control_connections(f->control), CONTROL_MAX_PER_USER);
        struct ctl_result r = CTL_AS_USER(f, "list");
        ck_assert_int_ne(r.status, 0); /* closed at once */
        ctl_result_free(&r);
        r = CTL(f, "list"); /* root still gets in */
        ck_assert_int_eq(r.status, 0);
        ctl_result_free(&r);
        close(done[1]);
        close(ready[0]);
        int ws;
        ck_assert_int_eq(waitpid(pid, &ws, 0), pid);
        ck_assert_int_eq(WEXITSTATUS(ws), 0);
        for (int i = 0; i < 200 && control_connections(f->control) > 0; i++)
                usleep(10 * 1000);
        ck_assert_int_eq(control_connections(f->control), 0);
        free(path);
        fake_stop(f);
}
END_TEST

START_TEST(a_user_cannot_tell_whether_a_hidden_job_exists)
{
        struct fake *f = fake_start(false);
        struct ctl_result hidden = CTL_AS_USER(f, "status", "backup"); /* root's job */
        struct ctl_result missing = CTL_AS_USER(f, "status", "nosuch");
        ck_assert_int_eq(hidden.status, missing.status);
        ck_assert_contains(hidden.err, "no such job 'backup'");
        ck_assert_contains(missing.err, "no such job 'nosuch'");
        ck_assert_not_contains(hidden.err, "permission");
        ctl_result_free(&hidden);
        ctl_result_free(&missing);
        fake_stop(f);
}
END_TEST

START_TEST(a_job_whose_user_the_daemon_could_not_resolve_is_shown_to_root_only)
{
        /* user= names the test user, but the daemon found no uid for it
         * without the name service: the server must not ask NSS itself. */
        struct fake *f = fake_start(false);
        f->views[1].uid = (uid_t)-1;
        struct ctl_result r = CTL_AS_USER(f, "list", "--all");
        ck_assert_msg(r.status == 0, "status %d: %s", r.status, r.err);
        ck_assert_not_contains(r.out, "report");
        ctl_result_free(&r);
        r = CTL(f, "list");
        ck_assert_int_eq(r.status, 0);
        ck_assert_contains(r.out, "report");
        ctl_result_free(&r);
        fake_stop(f);
}
END_TEST

/* A p2p sd-bus client on F's socket. */
static sd_bus *client_connect(const struct fake *f)
{
        char *path = control_socket_path(f->runtime_dir);
        char *address = NULL;
        sd_bus *bus = NULL;
        if (path && asprintf(&address, "unix:path=%s", path) >= 0 && sd_bus_new(&bus) >= 0 &&
            (sd_bus_set_address(bus, address) < 0 || sd_bus_start(bus) < 0))
                bus = sd_bus_flush_close_unref(bus);
        free(address);
        free(path);
        return bus;
}

START_TEST(a_long_job_name_is_refused_without_being_echoed)
{
        struct fake *f = fake_start(false);
        sd_bus *bus = client_connect(f);
        ck_assert_ptr_nonnull(bus);
        size_t len = 1024 * 1024;
        char *name = malloc(len + 1);
        ck_assert_ptr_nonnull(name);
        memset(name, 'a', len);
        name[len] = '\0';
        const char *const methods[] = { "GetJob", "RunJob", "CancelJob" };
        for (size_t i = 0; i < 3; i++) {
                sd_bus_error error = SD_BUS_ERROR_NULL;
                sd_bus_message *reply = NULL;
                int r = i == 1 ? sd_bus_call_method(bus, NULL, CONTROL_PATH, CONTROL_INTERFACE, methods[i], &error,
                                                    &reply, "sb", name, 0)
                               : sd_bus_call_method(bus, NULL, CONTROL_PATH, CONTROL_INTERFACE, methods[i], &error,
                                                    &reply, "s", name);
                ck_assert_int_lt(r, 0);
                ck_assert_msg(sd_bus_error_has_name(&error, SD_BUS_ERROR_INVALID_ARGS), "%s: %s", methods[i],
                              error.name);
                ck_assert_msg(strlen(error.message) < 100, "%s: %zu bytes", methods[i], strlen(error.message));
                ck_assert_contains(error.message, "longer than 200 bytes");
                sd_bus_error_free(&error);
                sd_bus_message_unref(reply);
        }
        ck_assert_int_eq(f->runs_started, 0);
        ck_assert_int_eq(f->cancels, 0);
        name[300] = '\0';
        struct ctl_result r = CTL(f, "status", name);
        ck_assert_int_eq(r.status, 2);
        ck_assert_contains(r.err, "invalid job name: longer than 200 bytes");
        ck_assert_ptr_null(strstr(r.err, name + 100)); /* not echoed, not even in part */
        ctl_result_free(&r);
        free(name);
        sd_bus_flush_close_unref(bus);
        fake_stop(f);
}
END_TEST

static long vm_rss_kb(void)
{
        FILE *f = fopen("/proc/self/status", "re");
        char line[256];
        long kb = -1;
        while (f && fgets(line, sizeof(line), f))
                if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
                        break;
        if (f)
                fclose(f);
        return kb;
}

/* These tests measure the resident size: ASan's quarantine would keep up
 * to 256 MB of freed memory resident and hide whether it was freed. */
const char *__asan_default_options(void);
const char *__asan_default_options(void) { return "quarantine_size_mb=4"; }

#define FLOOD_CALLS     200000
#define FLOOD_GROWTH_KB (64 * 1024)

/* In a child, as the test user: sends FLOOD_CALLS ListJobs calls and never
 * reads a reply. Exits 0 when the server hung up on it, 3 when it could
 * send them all, 4 when it could not connect; SIGALRM bounds it. */
static void flood(const struct fake *f)
{
        alarm(60);
        if (setgid(test_gid) < 0 || setuid(test_uid) < 0)
                _exit(1);
        sd_bus *bus = client_connect(f);
        if (!bus)
                _exit(4);
        for (int i = 0; i < FLOOD_CALLS; i++) {
                sd_bus_message *m = NULL;
                uint64_t cookie;
                if (sd_bus_message_new_method_call(bus, &m, NULL, CONTROL_PATH, CONTROL_INTERFACE, "ListJobs") < 0 ||
                    sd_bus_message_append(m, "b", 1) < 0)
                        _exit(5);
                int r = sd_bus_send(bus, m, &cookie); /* a cookie: a reply is expected */
                sd_bus_message_unref(m);
                if (r >= 0 && i % 1000 == 999)
                        r = sd_bus_flush(bus);
                if (r < 0)
                        _exit(0);
        }
        _exit(sd_bus_flush(bus) < 0 ? 0 : 3);
}

START_TEST(a_peer_that_never_reads_its_replies_is_dropped_and_its_memory_freed)
{
        struct fake *f = fake_start(false);
        struct ctl_result r = CTL(f, "list"); /* the server's own allocations, before measuring */
        ck_assert_int_eq(r.status, 0);
        ctl_result_free(&r);
        long start = vm_rss_kb(), peak = start;
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0)
                flood(f);
        int ws = 0;
        bool served = false;
        long long deadline = harness_now_ms() + 60000;
        while (waitpid(pid, &ws, WNOHANG) == 0 && harness_now_ms() < deadline) {
                long now = vm_rss_kb();
                peak = now > peak ? now : peak;
                if (peak - start > FLOOD_GROWTH_KB) {
                        kill(pid, SIGKILL);
                        waitpid(pid, &ws, 0);
                        break;
                }
                if (!served) { /* another client is served while the flood goes on */
                        r = CTL(f, "list");
                        ck_assert_int_eq(r.status, 0);
                        ck_assert_contains(r.out, "backup");
                        ctl_result_free(&r);
                        served = true;
                }
                usleep(20 * 1000);
        }
        ck_assert_msg(peak - start <= FLOOD_GROWTH_KB, "grew by %ld kB while flooded", peak - start);
        ck_assert_msg(WIFEXITED(ws) && WEXITSTATUS(ws) == 0, "flooder: wait status %#x (3: never dropped)", ws);
        for (int i = 0; i < 200 && control_connections(f->control) > 0; i++)
                usleep(10 * 1000);
        ck_assert_int_eq(control_connections(f->control), 0);
        r = CTL_AS_USER(f, "list"); /* the flooder's user is not shut out */
        ck_assert_msg(r.status == 0, "status %d: %s", r.status, r.err);
        ck_assert_contains(r.out, "report");
        ctl_result_free(&r);
        long after = vm_rss_kb();
        ck_assert_msg(after - start <= FLOOD_GROWTH_KB / 4, "still %ld kB above the start (peak %+ld kB)",
                      after - start, peak - start);
        fake_stop(f);
}
END_TEST

/* Sums the counts of "suppressed N more messages" lines in LOG. */
static unsigned suppressed_total(const char *log)
{
        unsigned total = 0, n;
        for (const char *p = log; (p = strstr(p, "suppressed ")); p++)
                if (sscanf(p, "suppressed %u more messages", &n) == 1)
                        total += n;
        return total;
}

static unsigned count_lines(const char *log, const char *needle)
{
        unsigned n = 0;
        for (const char *p = log; (p = strstr(p, needle)); p++)
                n++;
        return n;
}

#define DENIED_CALLS 1000

START_TEST(a_burst_of_denied_calls_logs_a_bounded_number_of_lines)
{
        struct fake *f = fake_start(false);
        int saved;
        int fd = stderr_capture_begin(&saved);
        ck_assert_int_ge(fcntl(fd, F_SETPIPE_SZ, 1024 * 1024), 0); /* room for the unfixed server's lines */
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
                alarm(60);
                if (setgid(test_gid) < 0 || setuid(test_uid) < 0)
                        _exit(1);
                sd_bus *bus = client_connect(f);
                if (!bus)
                        _exit(4);
                for (int i = 0; i < DENIED_CALLS; i++) {
                        sd_bus_error error = SD_BUS_ERROR_NULL;
                        int r = sd_bus_call_method(bus, NULL, CONTROL_PATH, CONTROL_INTERFACE, "RunJob", &error, NULL,
                                                   "sb", "backup", 0);
                        bool denied = r < 0 && sd_bus_error_has_name(&error, SD_BUS_ERROR_ACCESS_DENIED);
                        sd_bus_error_free(&error);
                        if (!denied)
                                _exit(2);
                }
                _exit(0);
        }
        int ws;
        ck_assert_int_eq(waitpid(pid, &ws, 0), pid);
        /* The summary comes when the window ends. */
        sleep(CONTROL_LOG_INTERVAL_SEC + 1);
        char *log = stderr_capture_end(fd, saved);
        ck_assert_msg(WIFEXITED(ws) && WEXITSTATUS(ws) == 0, "client: wait status %#x", ws);
        unsigned written = count_lines(log, "permission denied"), suppressed = suppressed_total(log);
        ck_assert_msg(written <= 3 * CONTROL_LOG_BURST, "%u lines for %d denied calls", written, DENIED_CALLS);
        ck_assert_uint_eq(written + suppressed, DENIED_CALLS);
        free(log);
        ck_assert_int_eq(f->runs_started, 0);
        fake_stop(f);
}
END_TEST

static Suite *control_suite(void)
{
        Suite *s = suite_create("control");
        TCase *tc = tcase_create("socket");
        tcase_add_leak_fixture(tc);
        tcase_add_test(tc, socket_is_world_accessible_on_the_system_instance);
        tcase_add_test(tc, socket_is_private_on_a_user_instance);
        tcase_add_test(tc, socket_is_removed_on_exit);
        tcase_add_test(tc, stale_socket_from_a_crash_is_replaced);
        tcase_add_test(tc, commands_say_when_tickd_is_not_running);
        suite_add_tcase(s, tc);

        tc = tcase_create("commands");
        tcase_add_leak_fixture(tc);
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, list_shows_every_enabled_job_with_next_and_last_runs);
        tcase_add_test(tc, list_all_adds_disabled_jobs_and_rejected_files);
        tcase_add_test(tc, list_json_is_one_array_of_jobs);
        tcase_add_test(tc, list_and_status_show_a_fleet_jobs_scope);
        tcase_add_test(tc, status_shows_files_runs_batches_and_resources);
        tcase_add_test(tc, status_of_a_job_shows_definition_next_runs_and_last_outcome);
        tcase_add_test(tc, status_cuts_its_lists_at_the_bound_and_counts_what_it_left_out);
        tcase_add_test(tc, list_all_cuts_the_file_list_at_the_bound_and_counts_what_it_left_out);
        tcase_add_test(tc, run_starts_a_run_and_prints_its_id);
        tcase_add_test(tc, run_wait_exits_with_the_jobs_exit_status);
        tcase_add_test(tc, run_of_an_unknown_or_busy_job_fails_clearly);
        tcase_add_test(tc, a_waiter_that_hangs_up_is_dropped);
        tcase_add_test(tc, cancel_reports_runs_or_not_running);
        tcase_add_test(tc, reload_reports_each_file_and_fails_on_a_rejected_one);
        tcase_add_test(tc, peers_leave_no_descriptor_behind);
        tcase_add_test(tc, busctl_can_call_the_interface);
        tcase_add_test(tc, dbus_send_that_pipelines_its_call_after_begin_is_answered);
        suite_add_tcase(s, tc);

        tc = tcase_create("authorisation");
        tcase_add_unchecked_fixture(tc, user_setup, user_teardown);
        tcase_add_leak_fixture(tc);
        tcase_set_timeout(tc, 120);
        tcase_add_test(tc, a_user_lists_only_the_jobs_that_run_as_them);
        tcase_add_test(tc, a_user_may_not_see_run_cancel_or_reload_others_jobs);
        tcase_add_test(tc, a_users_hostile_job_name_is_logged_as_one_escaped_line);
        tcase_add_test(tc, a_user_instance_serves_only_its_owner);
        tcase_add_test(tc, one_user_cannot_hold_every_connection);
        tcase_add_test(tc, a_user_cannot_tell_whether_a_hidden_job_exists);
        tcase_add_test(tc, a_job_whose_user_the_daemon_could_not_resolve_is_shown_to_root_only);
        tcase_add_test(tc, a_long_job_name_is_refused_without_being_echoed);
        tcase_add_test(tc, a_peer_that_never_reads_its_replies_is_dropped_and_its_memory_freed);
        tcase_add_test(tc, a_burst_of_denied_calls_logs_a_bounded_number_of_lines);
        suite_add_tcase(s, tc);
        return s;
}

TEST_MAIN(control_suite)
