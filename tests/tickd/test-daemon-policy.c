/* test-daemon-policy.c — end to end: overlap policies, max_concurrent,
 * on_failure, and jobs run as another user. */
#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "harness/harness-daemon.h"
#include "harness/harness.h"

/* The most runs of JOB (NULL = any job) running at once, from the log. */
static int max_running(const char *log, const char *job)
{
        int running = 0, max = 0;
        static const char *const ends[] = { "succeeded", "failed", "cancelled", "timed-out", "lost" };
        for (const char *line = log; line && *line;) {
                const char *nl = strchr(line, '\n');
                size_t len = nl ? (size_t)(nl - line) : strlen(line);
                char want[128];
                const char *job_field = strstr(line, " job=");
                bool ours = job_field && job_field < line + len &&
                            (!job || (snprintf(want, sizeof(want), " job=%s ", job),
                                      strncmp(job_field, want, strlen(want)) == 0));
                if (ours && strncmp(line, "event=started ", 14) == 0 && ++running > max)
                        max = running;
                for (size_t i = 0; ours && i < ELEMENTSOF(ends); i++) {
                        char prefix[32];
                        snprintf(prefix, sizeof(prefix), "event=%s ", ends[i]);
                        if (strncmp(line, prefix, strlen(prefix)) == 0)
                                running--;
                }
                line = nl ? nl + 1 : NULL;
        }
        return max;
}

static struct tickd *start_with_job(const char *conf, const char *ini)
{
        struct tickd *t = tickd_start(conf, NULL);
        tickd_write_job(t, "job.ini", ini);
        return t;
}

static void stop(struct tickd *t)
{
        int status = tickd_stop(t, SIGTERM, 20000);
        if (!(WIFEXITED(status) && WEXITSTATUS(status) == 0))
                fprintf(stderr, "tickd log:\n%s\n", t->log);
        ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "tickd exit status %d", status);
        harness_reap_children(3000);
}

/* A process running as UID (its name in COMM), or 0. */
static pid_t process_of(uid_t uid, char comm[static 64])
{
        DIR *proc = opendir("/proc");
        ck_assert_ptr_nonnull(proc);
        pid_t found = 0;
        for (struct dirent *e; !found && (e = readdir(proc));) {
                char path[300], line[256];
                unsigned real = 0;
                if (atoi(e->d_name) <= 0)
                        continue;
                snprintf(path, sizeof(path), "/proc/%s/status", e->d_name);
                _cleanup_fclose_ FILE *f = fopen(path, "re");
                while (f && fgets(line, sizeof(line), f) && !sscanf(line, "Uid: %u", &real))
                        sscanf(line, "Name: %63s", comm);
                if (real == uid)
                        found = (pid_t)atoi(e->d_name);
        }
        closedir(proc);
        return found;
}

/* The job's processes of UID end with their runs once tickd stopped
 * (as the kernel tears them down, a moment after they were reaped):
 * waits for that, so the user can be deleted, and fails naming one that
 * stays. */
static void wait_no_process_of(uid_t uid)
{
        char comm[64];
        pid_t pid;
        long long end = harness_now_ms() + 5000;
        while ((pid = process_of(uid, comm)) && harness_now_ms() < end) {
                harness_reap_children(0); /* an orphan of the job comes to us, the subreaper */
                usleep(20 * 1000);        /* another process's exit: nothing to wait on but /proc */
        }
        ck_assert_msg(!pid, "process %d (%s) of uid %u outlived tickd", (int)pid, comm, (unsigned)uid);
}

START_TEST(overlap_skip_skips_while_running)
{
        struct tickd *t = start_with_job(NULL, "[s]\nschedule = * * * * * *\ncommand = sleep 2.5\n");
        ck_assert(tickd_wait_for(t, "event=skipped job=s ", 2, 10000));
        ck_assert(tickd_wait_for(t, "event=succeeded job=s ", 1, 10000));
        stop(t);
        ck_assert_int_eq(max_running(t->log, "s"), 1);
        ck_assert_ptr_nonnull(strstr(t->log, "skipped: the previous run still runs"));
        tickd_free(t);
}
END_TEST

START_TEST(overlap_allow_runs_side_by_side)
{
        struct tickd *t = start_with_job(NULL, "[a]\nschedule = * * * * * *\ncommand = sleep 2.5\noverlap = allow\n");
        ck_assert(tickd_wait_for(t, "event=started job=a ", 3, 10000));
        ck_assert(tickd_wait_for(t, "event=succeeded job=a ", 1, 10000));
        stop(t);
        ck_assert_int_ge(max_running(t->log, "a"), 2);
        ck_assert_int_eq(tickd_count(t, "event=skipped job=a "), 0);
        tickd_free(t);
}
END_TEST

START_TEST(overlap_queue_runs_once_after)
{
        struct tickd *t = start_with_job(NULL, "[q]\nschedule = * * * * * *\ncommand = sleep 2.2\noverlap = queue\n");
        ck_assert(tickd_wait_for(t, "event=delayed job=q ", 1, 10000));
        ck_assert(tickd_wait_for(t, "one is already queued", 1, 10000));
        ck_assert(tickd_wait_for(t, "event=succeeded job=q ", 2, 12000));
        stop(t);
        ck_assert_int_eq(max_running(t->log, "q"), 1);
        /* The queued run starts right when the first one finishes. */
        const char *first_end = strstr(t->log, "event=succeeded job=q ");
        ck_assert_ptr_nonnull(strstr(first_end, "event=started job=q "));
        tickd_free(t);
}
END_TEST

START_TEST(overlap_replace_cancels_the_running_one)
{
        struct tickd *t =
                start_with_job(NULL, "[r]\nschedule = */2 * * * * *\ncommand = sleep 30\noverlap = replace\n");
        ck_assert(tickd_wait_for(t, "event=cancelled job=r ", 1, 12000));
        ck_assert(tickd_wait_for(t, "event=started job=r ", 2, 5000));
        stop(t);
        ck_assert_int_eq(max_running(t->log, "r"), 1);
        ck_assert_ptr_nonnull(strstr(t->log, "replacing the running run of r"));
        tickd_free(t);
}
END_TEST

START_TEST(max_concurrent_delays_in_order)
{
        char *at = harness_cron_in(3);
        char ini[1024];
        snprintf(ini, sizeof(ini),
                 "[m1]\nschedule = %s\ncommand = sleep 1\n\n[m2]\nschedule = %s\ncommand = sleep 1\n\n"
                 "[m3]\nschedule = %s\ncommand = sleep 1\n\n[m4]\nschedule = %s\ncommand = sleep 1\n",
                 at, at, at, at);
        struct tickd *t = start_with_job("[daemon]\nmax_concurrent = 2\n", ini);
        ck_assert(tickd_wait_for(t, "event=succeeded job=m", 4, 15000));
        stop(t);
        ck_assert_int_eq(tickd_count(t, "event=delayed "), 2);
        ck_assert_ptr_nonnull(strstr(t->log, "max_concurrent=2"));
        ck_assert_int_eq(max_running(t->log, NULL), 2);
        free(at);
        tickd_free(t);
}
END_TEST

START_TEST(on_failure_runs_with_the_status)
{
        struct tickd *t =
                start_with_job(NULL, "[f]\nschedule = */2 * * * * *\ncommand = exit 4\n"
                                     "on_failure = echo \"failed $TICKD_JOB $TICKD_EXIT_STATUS $TICKD_RUN_ID\"\n");
        ck_assert(tickd_wait_for(t, "f: failed f 4 ", 1, 10000));
        stop(t);
        /* Its run id is the failed run's. */
        const char *rec = strstr(t->log, "event=failed job=f run=");
        ck_assert_ptr_nonnull(rec);
        char id[33];
        ck_assert_int_eq(sscanf(rec, "event=failed job=f run=%32s", id), 1);
        char want[64];
        snprintf(want, sizeof(want), "f: failed f 4 %s\n", id);
        ck_assert_ptr_nonnull(strstr(t->log, want));
        tickd_free(t);
}
END_TEST

START_TEST(job_runs_as_another_user)
{
        char user[32], cmd[256];
        snprintf(user, sizeof(user), "tickdt%d", (int)getpid() % 100000);
        snprintf(cmd, sizeof(cmd), "useradd -M -N -d /tmp -s /bin/sh %s", user);
        ck_assert_int_eq(system(cmd), 0);
        struct passwd *pw = getpwnam(user);
        ck_assert_ptr_nonnull(pw);
        uid_t uid = pw->pw_uid;
        char ini[512];
        snprintf(ini, sizeof(ini),
                 "[who]\nschedule = */2 * * * * *\ncommand = echo \"uid=$(id -u) user=$USER home=$HOME\"\nuser = %s\n\n"
                 "[nobody-here]\nschedule = */2 * * * * *\ncommand = true\nuser = tickd-no-such-user\n",
                 user);
        struct tickd *t = start_with_job(NULL, ini);
        char want[128];
        snprintf(want, sizeof(want), "who: uid=%u user=%s home=/tmp\n", (unsigned)uid, user);
        bool seen = tickd_wait_for(t, want, 1, 10000);
        bool refused = tickd_wait_for(t, "event=failed job=nobody-here ", 1, 5000);
        stop(t);
        wait_no_process_of(uid);
        snprintf(cmd, sizeof(cmd), "userdel %s", user);
        ck_assert_int_eq(system(cmd), 0);
        ck_assert_msg(seen, "no '%s' in the log", want);
        ck_assert(refused);
        ck_assert_ptr_nonnull(strstr(t->log, "failed: user 'tickd-no-such-user' does not exist"));
        tickd_free(t);
}
END_TEST

/* A user instance runs its jobs as its own user only: naming anyone else
 * rejects the file at load, at FILE:LINE, with no name-service call in
 * the daemon (it knows its own name from start-up). */
START_TEST(user_instance_refuses_another_user_at_load)
{
        char name[64];
        uid_t uid;
        gid_t gid;
        harness_user_add("tkdm", name, sizeof(name), &uid, &gid);
        char mine[256];
        snprintf(mine, sizeof(mine), "[mine]\nschedule = @hourly\ncommand = true\nuser = %s\n", name);
        const char *files[] = { "mine.ini", mine, "theirs.ini",
                                "[theirs]\nschedule = @hourly\ncommand = true\nuser = nobody\n", NULL };
        struct tickd *t = tickd_start_user(uid, gid, files);
        bool rejected = tickd_wait_for(t, "theirs.ini rejected", 1, 8000);
        stop(t);
        harness_user_del(name);
        ck_assert_msg(rejected, "theirs.ini was not rejected; log:\n%s", t->log);
        char want[4400];
        snprintf(want, sizeof(want), "%s/theirs.ini:4 ", t->jobs_dir);
        const char *at = strstr(t->log, want);
        ck_assert_msg(at, "no %s in the log:\n%s", want, t->log);
        ck_assert_ptr_nonnull(
                strstr(at, "user mode: jobs run as the instance's user only; user = nobody is not allowed"));
        /* Its own name is fine: that file loads. */
        ck_assert_ptr_null(strstr(t->log, "mine.ini rejected"));
        ck_assert_ptr_nonnull(strstr(t->log, "started: 1 job from"));
        tickd_free(t);
}
END_TEST

static Suite *policy_suite(void)
{
        Suite *s = suite_create("daemon-policy");
        TCase *tc = tcase_create("policies");
        tcase_add_leak_fixture(tc);
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, overlap_skip_skips_while_running);
        tcase_add_test(tc, overlap_allow_runs_side_by_side);
        tcase_add_test(tc, overlap_queue_runs_once_after);
        tcase_add_test(tc, overlap_replace_cancels_the_running_one);
        tcase_add_test(tc, max_concurrent_delays_in_order);
        tcase_add_test(tc, on_failure_runs_with_the_status);
        tcase_add_test(tc, job_runs_as_another_user);
        tcase_add_test(tc, user_instance_refuses_another_user_at_load);
        suite_add_tcase(s, tc);
        return s;
}

TEST_MAIN(policy_suite)
