/* test-journal.c — tickd's records, job output and tickctl history/logs
 * against a real systemd-journald in a private mount namespace. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <systemd/sd-journal.h>
#include <unistd.h>

#include "harness-journald.h"
#include "harness.h"
#include "log.h"
#include "message-ids.h"
#include "output.h"

static struct journald jd;

static void start_journald(void) { ck_assert_msg(journald_start(&jd) == 0, "journald did not start"); }
static void stop_journald(void) { ck_assert_int_eq(journald_stop(&jd), 0); }

/* Runs FN in a child inside journald's namespace with the AUTO target, and
 * fails unless AUTO chose the journal and FN returned 0. */
static void in_journal(int (*fn)(void))
{
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
                if (journald_enter(&jd) < 0)
                        _exit(90);
                log_setup(LOG_TARGET_AUTO, LOG_DEBUG);
                if (log_current_target() != LOG_TARGET_JOURNAL)
                        _exit(91);
                _exit(fn() == 0 ? 0 : 92);
        }
        int status;
        ck_assert_int_eq(waitpid(pid, &status, 0), pid);
        ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child in journal failed: status %d", status);
        ck_assert_int_eq(journald_sync(&jd), 0);
}

/* Entries matching MATCH (NULL = all) once at least WANT are there (journald
 * takes stream lines asynchronously), up to 3 s. */
static int count_entries(const char *match, int want)
{
        int n = 0;
        for (int attempt = 0; attempt < 150; attempt++) {
                sd_journal *j = NULL;
                ck_assert_int_eq(sd_journal_open_directory(&j, jd.journal_dir, 0), 0);
                if (match)
                        ck_assert_int_eq(sd_journal_add_match(j, match, 0), 0);
                n = 0;
                while (sd_journal_next(j) > 0)
                        n++;
                sd_journal_close(j);
                if (n >= want)
                        break;
                usleep(20 * 1000);
        }
        return n;
}

static char *field(sd_journal *j, const char *name)
{
        const void *data;
        size_t len;
        if (sd_journal_get_data(j, name, &data, &len) < 0)
                return NULL;
        size_t skip = strlen(name) + 1;
        return strndup((const char *)data + skip, len - skip);
}

static void assert_field(sd_journal *j, const char *name, const char *want)
{
        char *got = field(j, name);
        ck_assert_msg(got != NULL, "field %s missing", name);
        ck_assert_msg(strcmp(got, want) == 0, "%s=%s, want %s", name, got, want);
        free(got);
}

static void assert_no_field(sd_journal *j, const char *name)
{
        char *got = field(j, name);
        ck_assert_msg(got == NULL, "field %s=%s present, want none", name, got ? got : "");
        free(got);
}

/* Runs tickctl ARGS... --directory <journal> and returns its stdout. */
__attribute__((unused)) static char *tickctl(int want_status, const char *const *args)
{
        char *argv[32];
        int n = 0;
        argv[n++] = (char *)harness_binary("tickctl");
        for (; *args; args++)
                argv[n++] = (char *)*args;
        argv[n++] = "--directory";
        argv[n++] = jd.journal_dir;
        argv[n] = NULL;
        char *out = NULL, *err = NULL;
        int status = harness_run(argv, NULL, &out, &err);
        ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == want_status,
                      "tickctl %s: status %d, want exit %d; stderr: %s", argv[1], status, want_status, err);
        free(err);
        return out;
}

/* ---- target detection ---------------------------------------------- */

/* In a child with an empty /run/systemd (no journald whatever the host
 * runs), returns the exit status of FN. */
static int without_journald(int (*fn)(void))
{
        pid_t pid = fork();
        if (pid == 0) {
                if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
                    mount("tmpfs", "/run/systemd", "tmpfs", 0, "mode=0755") < 0)
                        _exit(90);
                _exit(fn());
        }
        int status;
        waitpid(pid, &status, 0);
        return WIFEXITED(status) ? WEXITSTATUS(status) : 99;
}

static int auto_without_anything(void)
{
        unsetenv("JOURNAL_STREAM");
        log_setup(LOG_TARGET_AUTO, LOG_INFO);
        return log_current_target() == LOG_TARGET_STDERR ? 0 : 1;
}

static int auto_with_journal_stream(void)
{
        /* stderr "is" the stream systemd connected: its dev:ino are in
         * $JOURNAL_STREAM. A stale value (another file) does not count. */
        int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
        struct stat st, other;
        char value[64];
        if (fd < 0 || dup2(fd, STDERR_FILENO) < 0 || fstat(STDERR_FILENO, &st) < 0 || stat("/", &other) < 0)
                return 2;
        snprintf(value, sizeof(value), "%llu:%llu", (unsigned long long)other.st_dev,
                 (unsigned long long)other.st_ino);
        setenv("JOURNAL_STREAM", value, 1);
        log_setup(LOG_TARGET_AUTO, LOG_INFO);
        if (log_current_target() != LOG_TARGET_STDERR)
                return 3;
        snprintf(value, sizeof(value), "%llu:%llu", (unsigned long long)st.st_dev, (unsigned long long)st.st_ino);
        setenv("JOURNAL_STREAM", value, 1);
        log_setup(LOG_TARGET_AUTO, LOG_INFO);
        return log_current_target() == LOG_TARGET_JOURNAL ? 0 : 1;
}

static int stream_fails_so_output_relays(void)
{
        /* Forced journal target, no journald: sd_journal_stream_fd fails
         * with -ENOENT and the job's output goes to the relay pipe. */
        log_setup(LOG_TARGET_JOURNAL, LOG_INFO);
        if (sd_journal_stream_fd("x", LOG_INFO, 0) != -ENOENT)
                return 3;
        sd_event *e = NULL;
        if (sd_event_new(&e) < 0)
                return 2;
        int fd = output_open(e, "x", LOG_INFO);
        struct stat st;
        int ok = fd >= 0 && fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode) && output_relays_open() == 1 &&
                 (fcntl(fd, F_GETFD) & FD_CLOEXEC);
        close(fd);
        sd_event_unref(e); /* frees the relay with the loop */
        return ok && output_relays_open() == 0 ? 0 : 1;
}

START_TEST(auto_target_is_stderr_without_journald)
{
        ck_assert_int_eq(without_journald(auto_without_anything), 0);
}
END_TEST

START_TEST(auto_target_follows_journal_stream_on_stderr)
{
        ck_assert_int_eq(without_journald(auto_with_journal_stream), 0);
}
END_TEST

START_TEST(output_relays_when_journald_refuses_the_stream)
{
        ck_assert_int_eq(without_journald(stream_fails_so_output_relays), 0);
}
END_TEST

static int nothing(void) { return 0; }

START_TEST(auto_target_is_journal_with_journald)
{
        start_journald();
        in_journal(nothing); /* asserts AUTO chose the journal */
        stop_journald();
}
END_TEST

/* ---- records ---------------------------------------------------------- */

#define SCHEDULED 1764370800000000LL /* 2025-11-28 23:00:00 UTC */

static int emit_records(void)
{
        log_emit(&(struct log_record){ .event = LOG_EVENT_STARTED, .job = "rec-job", .run_id = "run-1",
                                       .user = "backup", .scheduled_usec = SCHEDULED },
                 "Started %s.", "rec-job");
        log_emit(&(struct log_record){ .event = LOG_EVENT_FAILED, .job = "rec-job", .run_id = "run-1",
                                       .user = "backup", .scheduled_usec = SCHEDULED, .has_exit_status = true,
                                       .exit_status = 3, .has_resources = true, .duration_usec = 1204000,
                                       .cpu_usec = 812000, .maxrss_kb = 2048 },
                 "Job %s failed with exit status %d.", "rec-job", 3);
        log_emit(&(struct log_record){ .event = LOG_EVENT_TIMED_OUT, .job = "rec-job", .run_id = "run-2",
                                       .scheduled_usec = SCHEDULED + 60000000, .signal = SIGKILL,
                                       .has_resources = true, .duration_usec = 5000000, .cpu_usec = 100,
                                       .maxrss_kb = 1000 },
                 "Job rec-job timed out.");
        log_emit(&(struct log_record){ .event = LOG_EVENT_CONFIG_REJECTED, .file = "/etc/tickd/jobs.d/x.ini",
                                       .line = 7, .errno_value = EINVAL },
                 "x.ini:7: bad schedule.");
        log_emit(&(struct log_record){ .event = LOG_EVENT_SUCCEEDED, .job = "rec-job", .run_id = "run-3",
                                       .priority = LOG_NOTICE, .has_exit_status = true, .has_resources = true },
                 "explicit priority wins");
        log_msg(LOG_DEBUG, "plain %s", "message");
        return 0;
}

START_TEST(records_carry_every_field_and_message_id)
{
        start_journald();
        in_journal(emit_records);
        ck_assert_int_eq(count_entries("TICKD_JOB=rec-job", 4), 4);

        sd_journal *j = NULL;
        ck_assert_int_eq(sd_journal_open_directory(&j, jd.journal_dir, 0), 0);
        ck_assert_int_eq(sd_journal_add_match(j, "MESSAGE_ID=" TICKD_MESSAGE_FAILED, 0), 0);
        ck_assert_int_eq(sd_journal_next(j), 1);
        assert_field(j, "MESSAGE", "Job rec-job failed with exit status 3.");
        assert_field(j, "PRIORITY", "3");
        assert_field(j, "TICKD_EVENT", "failed");
        assert_field(j, "TICKD_JOB", "rec-job");
        assert_field(j, "TICKD_RUN_ID", "run-1");
        assert_field(j, "TICKD_USER", "backup");
        assert_field(j, "TICKD_SCHEDULED_USEC", "1764370800000000");
        assert_field(j, "TICKD_EXIT_STATUS", "3");
        assert_field(j, "TICKD_DURATION_USEC", "1204000");
        assert_field(j, "TICKD_CPU_USEC", "812000");
        assert_field(j, "TICKD_MAXRSS_KB", "2048");
        assert_field(j, "CODE_FILE", "tests/test-journal.c");
        assert_field(j, "CODE_FUNC", "emit_records");
        assert_no_field(j, "TICKD_SIGNAL");
        assert_no_field(j, "TICKD_FILE");
        char *line = field(j, "CODE_LINE");
        ck_assert_ptr_nonnull(line);
        ck_assert_int_gt(atoi(line), 0);
        free(line);
        ck_assert_int_eq(sd_journal_next(j), 0);

        sd_journal_flush_matches(j);
        ck_assert_int_eq(sd_journal_add_match(j, "MESSAGE_ID=" TICKD_MESSAGE_TIMED_OUT, 0), 0);
        ck_assert_int_eq(sd_journal_seek_head(j), 0);
        ck_assert_int_eq(sd_journal_next(j), 1);
        assert_field(j, "PRIORITY", "4");
        assert_field(j, "TICKD_SIGNAL", "SIGKILL");
        assert_no_field(j, "TICKD_EXIT_STATUS");
        assert_no_field(j, "TICKD_USER");

        sd_journal_flush_matches(j);
        ck_assert_int_eq(sd_journal_add_match(j, "MESSAGE_ID=" TICKD_MESSAGE_STARTED, 0), 0);
        ck_assert_int_eq(sd_journal_seek_head(j), 0);
        ck_assert_int_eq(sd_journal_next(j), 1);
        assert_field(j, "PRIORITY", "6");
        assert_no_field(j, "TICKD_DURATION_USEC");

        sd_journal_flush_matches(j);
        ck_assert_int_eq(sd_journal_add_match(j, "MESSAGE_ID=" TICKD_MESSAGE_CONFIG_REJECTED, 0), 0);
        ck_assert_int_eq(sd_journal_seek_head(j), 0);
        ck_assert_int_eq(sd_journal_next(j), 1);
        assert_field(j, "PRIORITY", "3");
        assert_field(j, "TICKD_FILE", "/etc/tickd/jobs.d/x.ini");
        assert_field(j, "TICKD_LINE", "7");
        assert_field(j, "ERRNO", "22");
        assert_no_field(j, "TICKD_JOB");

        sd_journal_flush_matches(j);
        ck_assert_int_eq(sd_journal_add_match(j, "MESSAGE_ID=" TICKD_MESSAGE_SUCCEEDED, 0), 0);
        ck_assert_int_eq(sd_journal_seek_head(j), 0);
        ck_assert_int_eq(sd_journal_next(j), 1);
        assert_field(j, "PRIORITY", "5");
        assert_field(j, "TICKD_EXIT_STATUS", "0");

        sd_journal_flush_matches(j);
        ck_assert_int_eq(sd_journal_add_match(j, "MESSAGE=plain message", 0), 0);
        ck_assert_int_eq(sd_journal_seek_head(j), 0);
        ck_assert_int_eq(sd_journal_next(j), 1);
        assert_field(j, "PRIORITY", "7");
        assert_no_field(j, "MESSAGE_ID");
        sd_journal_close(j);
        stop_journald();
}
END_TEST

START_TEST(journalctl_reads_the_same_fields)
{
        start_journald();
        in_journal(emit_records);
        ck_assert_int_eq(count_entries("TICKD_JOB=rec-job", 4), 4);
        char *argv[] = { "/usr/bin/journalctl", "-D", jd.journal_dir, "-o", "json", "--no-pager",
                         "MESSAGE_ID=" TICKD_MESSAGE_FAILED, NULL };
        char *out = NULL;
        int status = harness_run(argv, NULL, &out, NULL);
        ck_assert_int_eq(status, 0);
        const char *want[] = {
                "\"MESSAGE_ID\":\"" TICKD_MESSAGE_FAILED "\"", "\"PRIORITY\":\"3\"",
                "\"TICKD_JOB\":\"rec-job\"", "\"TICKD_RUN_ID\":\"run-1\"",
                "\"TICKD_SCHEDULED_USEC\":\"1764370800000000\"", "\"TICKD_EXIT_STATUS\":\"3\"",
                "\"TICKD_DURATION_USEC\":\"1204000\"", "\"TICKD_CPU_USEC\":\"812000\"",
                "\"TICKD_MAXRSS_KB\":\"2048\"", "\"TICKD_USER\":\"backup\"",
                "\"MESSAGE\":\"Job rec-job failed with exit status 3.\"", "\"CODE_FUNC\":\"emit_records\"",
        };
        for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
                ck_assert_msg(strstr(out, want[i]), "journalctl -o json lacks %s:\n%s", want[i], out);
        ck_assert_ptr_null(strchr(strchr(out, '\n') + 1, '{')); /* exactly one entry */
        free(out);
        stop_journald();
}
END_TEST

/* ---- job output ------------------------------------------------------- */

static int write_job_output(void)
{
        int out, err;
        if (output_open_job(NULL, "out-job", &out, &err) < 0)
                return 1;
        struct stat st;
        if (fstat(out, &st) < 0 || !S_ISSOCK(st.st_mode) || !(fcntl(out, F_GETFD) & FD_CLOEXEC))
                return 2;
        dprintf(out, "hello from stdout\n<3>not a priority\n");
        dprintf(err, "oops from stderr\n");
        close(out);
        close(err);
        return 0;
}

START_TEST(job_output_streams_carry_identifier_and_priority)
{
        start_journald();
        in_journal(write_job_output);
        ck_assert_int_eq(count_entries("SYSLOG_IDENTIFIER=out-job", 3), 3);
        sd_journal *j = NULL;
        ck_assert_int_eq(sd_journal_open_directory(&j, jd.journal_dir, 0), 0);
        ck_assert_int_eq(sd_journal_add_match(j, "SYSLOG_IDENTIFIER=out-job", 0), 0);
        int seen = 0;
        while (sd_journal_next(j) > 0) {
                char *message = field(j, "MESSAGE"), *priority = field(j, "PRIORITY");
                ck_assert_ptr_nonnull(message);
                if (strcmp(message, "hello from stdout") == 0 || strcmp(message, "<3>not a priority") == 0) {
                        ck_assert_str_eq(priority, "6");
                        seen++;
                } else if (strcmp(message, "oops from stderr") == 0) {
                        ck_assert_str_eq(priority, "4");
                        seen++;
                } else
                        ck_abort_msg("unexpected line '%s'", message);
                assert_field(j, "_TRANSPORT", "stdout");
                free(message);
                free(priority);
        }
        ck_assert_int_eq(seen, 3);
        sd_journal_close(j);
        stop_journald();
}
END_TEST

/* A job that writes far more than a pipe holds, and keeps the pipe open:
 * the relay drains it one buffer per wake-up and the loop stays free. */
START_TEST(relay_prefixes_lines_and_never_blocks_the_loop)
{
        char *dir = harness_tmpdir();
        char path[4096];
        snprintf(path, sizeof(path), "%s/stderr", dir);
        int capture = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        ck_assert_int_ge(capture, 0);
        int saved_stderr = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
        ck_assert_int_eq(dup2(capture, STDERR_FILENO), STDERR_FILENO);

        sd_event *e = NULL;
        ck_assert_int_eq(sd_event_new(&e), 0);
        int fd = output_open_relay(e, "big");
        ck_assert_int_ge(fd, 0);
        int gate[2];
        ck_assert_int_eq(pipe2(gate, O_CLOEXEC), 0);
        pid_t pid = fork();
        if (pid == 0) {
                close(gate[1]);
                char line[100];
                memset(line, 'x', sizeof(line) - 1);
                line[sizeof(line) - 1] = '\n';
                for (int i = 0; i < 4000; i++) /* 400 kB, six pipes full */
                        if (write(fd, line, sizeof(line)) != sizeof(line))
                                _exit(1);
                char long_line[OUTPUT_LINE_MAX + 10];
                memset(long_line, 'y', sizeof(long_line));
                if (write(fd, long_line, sizeof(long_line)) != sizeof(long_line) || write(fd, "\ntail", 5) != 5)
                        _exit(1);
                char c;
                (void)!read(gate[0], &c, 1); /* hold the pipe open until told */
                _exit(0);
        }
        close(fd);
        close(gate[0]);
        /* Everything written is relayed while the writer still holds the
         * pipe: each sd_event_run() returns after one buffer. */
        /* "big: " + 99 x + newline, 4000 times; the long line split after
         * OUTPUT_LINE_MAX bytes; "tail" is unterminated: it waits for EOF. */
        off_t want = 4000 * (5 + 100) + (5 + OUTPUT_LINE_MAX + 1) + (5 + 10 + 1);
        for (int i = 0; i < 2000 && lseek(capture, 0, SEEK_END) < want; i++)
                ck_assert_int_ge(sd_event_run(e, 100000), 0);
        ck_assert_int_eq(lseek(capture, 0, SEEK_END), want);
        ck_assert_uint_eq(output_relays_open(), 1);
        close(gate[1]);
        for (int i = 0; i < 100 && output_relays_open() > 0; i++)
                ck_assert_int_ge(sd_event_run(e, 100000), 0);
        ck_assert_uint_eq(output_relays_open(), 0);
        ck_assert_int_eq(waitpid(pid, NULL, 0), pid);

        dup2(saved_stderr, STDERR_FILENO);
        close(saved_stderr);
        char *text = calloc(1, (size_t)want + 100);
        ck_assert_int_eq(pread(capture, text, (size_t)want + 50, 0), want + 10);
        close(capture);
        ck_assert_int_eq(strncmp(text, "big: xxx", 8), 0);
        ck_assert_ptr_nonnull(strstr(text, "x\nbig: yyy"));
        ck_assert_str_eq(text + want - 16, "big: yyyyyyyyyy\nbig: tail\n");
        free(text);
        sd_event_unref(e);
        harness_tmpdir_remove(dir);
}
END_TEST

static Suite *journal_suite(void)
{
        Suite *s = suite_create("journal");
        TCase *tc = tcase_create("target");
        tcase_add_leak_fixture(tc);
        tcase_add_test(tc, auto_target_is_stderr_without_journald);
        tcase_add_test(tc, auto_target_follows_journal_stream_on_stderr);
        tcase_add_test(tc, auto_target_is_journal_with_journald);
        tcase_add_test(tc, output_relays_when_journald_refuses_the_stream);
        suite_add_tcase(s, tc);

        tc = tcase_create("records");
        tcase_add_leak_fixture(tc);
        tcase_set_timeout(tc, 20);
        tcase_add_test(tc, records_carry_every_field_and_message_id);
        tcase_add_test(tc, journalctl_reads_the_same_fields);
        suite_add_tcase(s, tc);

        tc = tcase_create("output");
        tcase_add_leak_fixture(tc);
        tcase_set_timeout(tc, 20);
        tcase_add_test(tc, job_output_streams_carry_identifier_and_priority);
        tcase_add_test(tc, relay_prefixes_lines_and_never_blocks_the_loop);
        suite_add_tcase(s, tc);
        return s;
}

TEST_MAIN(journal_suite)
