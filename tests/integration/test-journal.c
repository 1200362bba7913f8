/* test-journal.c — tickd's records, job output and tickctl history/logs
 * against a real systemd-journald in a private mount namespace. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <systemd/sd-journal.h>
#include <termios.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "harness/harness-journald.h"
#include "harness/harness.h"
#include "shared/log.h"
#include "shared/message-ids.h"
#include "tickd/output.h"

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
/* Entries matching MATCH, polled until there are WANT or 10 s have passed
 * (a loaded machine may take seconds to relay 20,000 lines; the wait ends
 * as soon as they are there). */
static int count_entries(const char *match, int want)
{
        int n = 0;
        for (int attempt = 0; attempt < 500; attempt++) {
                sd_journal *j = NULL;
                int r = sd_journal_open_directory(&j, jd.journal_dir, 0);
                ck_assert_msg(r == 0 || r == -ENOENT, "sd_journal_open_directory: %s", strerror(-r));
                if (r < 0) {
                        usleep(20 * 1000);
                        continue;
                }
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
static char *tickctl(int want_status, const char *const *args)
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
        snprintf(value, sizeof(value), "%llu:%llu", (unsigned long long)other.st_dev, (unsigned long long)other.st_ino);
        setenv("JOURNAL_STREAM", value, 1);
        log_setup(LOG_TARGET_AUTO, LOG_INFO);
        if (log_current_target() != LOG_TARGET_STDERR)
                return 3;
        snprintf(value, sizeof(value), "%llu:%llu", (unsigned long long)st.st_dev, (unsigned long long)st.st_ino);
        setenv("JOURNAL_STREAM", value, 1);
        log_setup(LOG_TARGET_AUTO, LOG_INFO);
        return log_current_target() == LOG_TARGET_JOURNAL ? 0 : 1;
}

/* Relays TEXT_OUT and TEXT_ERR as job JOB's run RUN_ID would: written into
 * the job's ends of the pipes, then read, cut and sent by output.c. */
static int relay_output(const char *job, const char *run_id, bool to_journal, const char *text_out, size_t out_len,
                        const char *text_err, bool *ret_journal)
{
        struct output *o = NULL;
        int out, err;
        if (output_open(job, run_id, to_journal, &o, &out, &err) < 0)
                return 1;
        *ret_journal = output_to_journal(o);
        bool ok = write(out, text_out, out_len) == (ssize_t)out_len &&
                  write(err, text_err, strlen(text_err)) == (ssize_t)strlen(text_err);
        close(out);
        if (err != out)
                close(err);
        output_drain(o);
        output_free(o, true);
        return ok ? 0 : 2;
}

static int output_falls_back_without_journald(void)
{
        /* Where sd_journal_send would drop lines silently, output.c finds no
         * journald and relays to stderr instead, one pipe for both streams
         * so their order stays; nothing leaks. */
        int before = open("/dev/null", O_RDONLY | O_CLOEXEC); /* lowest free slot */
        close(before);
        int capture = memfd_create("stderr", MFD_CLOEXEC);
        if (capture < 0 || dup2(capture, STDERR_FILENO) < 0)
                return 1;
        bool journal = true;
        if (relay_output("x", "r", true, "hello\n", 6, "oops\ntail", &journal) != 0 || journal)
                return 2;
        char text[256] = "";
        ssize_t n = pread(capture, text, sizeof(text) - 1, 0);
        text[n > 0 ? n : 0] = '\0';
        if (strcmp(text, "x: hello\nx: oops\nx: tail\n") != 0)
                return 3;
        close(capture);
        int after = open("/dev/null", O_RDONLY | O_CLOEXEC);
        close(after);
        return after == before ? 0 : 4;
}

START_TEST(auto_target_is_stderr_without_journald) { ck_assert_int_eq(without_journald(auto_without_anything), 0); }
END_TEST

START_TEST(auto_target_follows_journal_stream_on_stderr)
{
        ck_assert_int_eq(without_journald(auto_with_journal_stream), 0);
}
END_TEST

START_TEST(output_falls_back_to_stderr_without_journald)
{
        ck_assert_int_eq(without_journald(output_falls_back_without_journald), 0);
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
        log_emit(&(struct log_record){ .event = LOG_EVENT_STARTED,
                                       .job = "rec-job",
                                       .run_id = "run-1",
                                       .user = "backup",
                                       .scheduled_usec = SCHEDULED },
                 "Started %s.", "rec-job");
        log_emit(&(struct log_record){ .event = LOG_EVENT_FAILED,
                                       .job = "rec-job",
                                       .run_id = "run-1",
                                       .user = "backup",
                                       .scheduled_usec = SCHEDULED,
                                       .has_exit_status = true,
                                       .exit_status = 3,
                                       .has_resources = true,
                                       .duration_usec = 1204000,
                                       .cpu_usec = 812000,
                                       .maxrss_kb = 2048 },
                 "Job %s failed with exit status %d.", "rec-job", 3);
        log_emit(&(struct log_record){ .event = LOG_EVENT_TIMED_OUT,
                                       .job = "rec-job",
                                       .run_id = "run-2",
                                       .scheduled_usec = SCHEDULED + 60000000,
                                       .signal = SIGKILL,
                                       .has_resources = true,
                                       .duration_usec = 5000000,
                                       .cpu_usec = 100,
                                       .maxrss_kb = 1000 },
                 "Job rec-job timed out.");
        log_emit(&(struct log_record){ .event = LOG_EVENT_CONFIG_REJECTED,
                                       .file = "/etc/tickd/jobs.d/x.ini",
                                       .line = 7,
                                       .errno_value = EINVAL },
                 "x.ini:7: bad schedule.");
        log_emit(&(struct log_record){ .event = LOG_EVENT_SUCCEEDED,
                                       .job = "rec-job",
                                       .run_id = "run-3",
                                       .priority = LOG_NOTICE,
                                       .has_exit_status = true,
                                       .has_resources = true },
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
        assert_field(j, "CODE_FILE", "tests/integration/test-journal.c");
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
        char *argv[] = { "/usr/bin/journalctl",
                         "-D",
                         jd.journal_dir,
                         "-o",
                         "json",
                         "--no-pager",
                         "MESSAGE_ID=" TICKD_MESSAGE_FAILED,
                         NULL };
        char *out = NULL;
        int status = harness_run(argv, NULL, &out, NULL);
        ck_assert_int_eq(status, 0);
        const char *want[] = {
                "\"MESSAGE_ID\":\"" TICKD_MESSAGE_FAILED "\"",
                "\"PRIORITY\":\"3\"",
                "\"TICKD_JOB\":\"rec-job\"",
                "\"TICKD_RUN_ID\":\"run-1\"",
                "\"TICKD_SCHEDULED_USEC\":\"1764370800000000\"",
                "\"TICKD_EXIT_STATUS\":\"3\"",
                "\"TICKD_DURATION_USEC\":\"1204000\"",
                "\"TICKD_CPU_USEC\":\"812000\"",
                "\"TICKD_MAXRSS_KB\":\"2048\"",
                "\"TICKD_USER\":\"backup\"",
                "\"MESSAGE\":\"Job rec-job failed with exit status 3.\"",
                "\"CODE_FUNC\":\"emit_records\"",
        };
        for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
                ck_assert_msg(strstr(out, want[i]), "journalctl -o json lacks %s:\n%s", want[i], out);
        ck_assert_ptr_null(strchr(strchr(out, '\n') + 1, '{')); /* exactly one entry */
        free(out);
        stop_journald();
}
END_TEST

/* ---- job output ------------------------------------------------------- */

/* Lines as a job writes them: a priority prefix that must stay text, a NUL
 * (journald's other line end), a line longer than OUTPUT_LINE_MAX, and a
 * last line without its newline. */
static int write_job_output(void)
{
        static char text[OUTPUT_LINE_MAX + 200];
        int n = snprintf(text, sizeof(text), "hello from stdout\n<3>not a priority\na");
        text[n++] = '\0';
        text[n++] = 'b';
        text[n++] = '\n';
        memset(text + n, 'x', OUTPUT_LINE_MAX + 10);
        n += OUTPUT_LINE_MAX + 10;
        n += snprintf(text + n, sizeof(text) - (size_t)n, "\nlast words");
        bool journal = false;
        int r = relay_output("out-job", "run-1", true, text, (size_t)n, "oops from stderr\n", &journal);
        return r != 0 ? r : journal ? 0 : 3;
}

/* journald goes away in the middle of a run: the line before that is in
 * the journal, the line after it on stderr as "JOB: line", none lost. */
START_TEST(output_falls_back_when_journald_goes_away)
{
        start_journald();
        int go[2], done[2];
        ck_assert_int_eq(pipe2(go, O_CLOEXEC), 0);
        ck_assert_int_eq(pipe2(done, O_CLOEXEC), 0);
        int capture = memfd_create("stderr", MFD_CLOEXEC);
        ck_assert_int_ge(capture, 0);
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
                struct output *o = NULL;
                int out, err;
                char c = 'x';
                if (journald_enter(&jd) < 0 || dup2(capture, STDERR_FILENO) < 0)
                        _exit(90);
                if (output_open("gone", "g1", true, &o, &out, &err) < 0 || !output_to_journal(o))
                        _exit(91);
                if (write(out, "before\n", 7) != 7)
                        _exit(92);
                output_pump(o); /* sent now: the pipe held the whole line */
                if (write(go[1], &c, 1) != 1 || read(done[0], &c, 1) != 1)
                        _exit(93);
                if (write(out, "after\n", 6) != 6)
                        _exit(94);
                close(out);
                if (err != out)
                        close(err);
                output_drain(o);
                bool still_journal = output_to_journal(o);
                output_free(o, true);
                _exit(still_journal ? 95 : 0);
        }
        close(go[1]);
        close(done[0]);
        char c;
        ck_assert_int_eq(read(go[0], &c, 1), 1);
        ck_assert_int_eq(journald_sync(&jd), 0);
        ck_assert_int_eq(count_entries("MESSAGE=before", 1), 1);
        stop_journald();
        ck_assert_int_eq(write(done[1], &c, 1), 1);
        int status;
        ck_assert_int_eq(waitpid(pid, &status, 0), pid);
        close(go[0]);
        close(done[1]);
        char text[256] = "";
        ssize_t n = pread(capture, text, sizeof(text) - 1, 0);
        text[n > 0 ? n : 0] = '\0';
        close(capture);
        ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %d", status);
        ck_assert_str_eq(text, "gone: after\n");
}
END_TEST

static const struct {
        const char *message; /* NULL: the long line's pieces */
        const char *priority, *stream;
} want_lines[] = {
        { "hello from stdout", "6", "stdout" },
        { "<3>not a priority", "6", "stdout" },
        { "a", "6", "stdout" },
        { "b", "6", "stdout" },
        { NULL, "6", "stdout" },
        { NULL, "6", "stdout" },
        { "last words", "6", "stdout" },
        { "oops from stderr", "4", "stderr" },
};

/* Which of want_lines MESSAGE is; fails the test for a line not there. */
static size_t want_line_index(const char *message)
{
        if (strspn(message, "x") == strlen(message))
                return 4;
        for (size_t i = 0; i < ELEMENTSOF(want_lines); i++)
                if (want_lines[i].message && strcmp(want_lines[i].message, message) == 0)
                        return i;
        ck_abort_msg("unexpected line '%.80s'", message);
        return 0;
}

START_TEST(job_output_lines_carry_identifier_priority_and_run)
{
        start_journald();
        in_journal(write_job_output);
        ck_assert_int_eq(count_entries("SYSLOG_IDENTIFIER=out-job", 8), 8);
        sd_journal *j = NULL;
        ck_assert_int_eq(sd_journal_open_directory(&j, jd.journal_dir, 0), 0);
        ck_assert_int_eq(sd_journal_set_data_threshold(j, 0), 0);
        ck_assert_int_eq(sd_journal_add_match(j, "SYSLOG_IDENTIFIER=out-job", 0), 0);
        bool seen[ELEMENTSOF(want_lines)] = { false };
        size_t long_pieces = 0, entries = 0;
        while (sd_journal_next(j) > 0) {
                char *message = field(j, "MESSAGE");
                ck_assert_ptr_nonnull(message);
                size_t i = want_line_index(message);
                if (!want_lines[i].message) {
                        /* cut at the limit, the rest its own line: nothing lost */
                        ck_assert_uint_eq(strlen(message), long_pieces++ == 0 ? OUTPUT_LINE_MAX : 10);
                } else {
                        ck_assert_msg(!seen[i], "line '%s' twice", message);
                        seen[i] = true;
                }
                assert_field(j, "PRIORITY", want_lines[i].priority);
                assert_field(j, "TICKD_OUTPUT", want_lines[i].stream);
                assert_field(j, "TICKD_RUN_ID", "run-1");
                assert_field(j, "_TRANSPORT", "journal");
                assert_no_field(j, "TICKD_JOB"); /* `journalctl TICKD_JOB=` lists runs, not lines */
                free(message);
                entries++;
        }
        ck_assert_uint_eq(entries, 8);
        ck_assert_uint_eq(long_pieces, 2);
        sd_journal_close(j);
        stop_journald();
}
END_TEST

/* ---- tickctl history and logs ------------------------------------- */

#define T0 1764370800000000LL /* 2025-11-28 23:00:00 UTC */

static void emit_run(enum log_event event, const char *job, const char *run_id, int64_t scheduled, int exit_status,
                     int sig)
{
        struct log_record r = { .event = event,
                                .job = job,
                                .run_id = run_id,
                                .scheduled_usec = scheduled,
                                .has_resources = event != LOG_EVENT_SKIPPED && event != LOG_EVENT_LOST,
                                .duration_usec = 1204000,
                                .cpu_usec = 31400,
                                .maxrss_kb = 999 };
        if (sig)
                r.signal = sig;
        else if (exit_status >= 0)
                r.has_exit_status = true, r.exit_status = exit_status;
        log_emit(&r, "run %s of %s: %s", run_id, job, log_event_name(event));
}

static int emit_history(void)
{
        emit_run(LOG_EVENT_STARTED, "hist", "h1", T0, -1, 0);
        emit_run(LOG_EVENT_SUCCEEDED, "hist", "h1", T0, 0, 0);
        emit_run(LOG_EVENT_FAILED, "hist", "h2", T0 + 60000000, 3, 0);
        /* h2's on_failure command: a record with h2's id, but not a run */
        log_emit(&(struct log_record){ .event = LOG_EVENT_SUCCEEDED,
                                       .job = "hist",
                                       .run_id = "h2",
                                       .scheduled_usec = T0 + 60000000,
                                       .on_failure = true,
                                       .has_exit_status = true },
                 "on_failure command of hist succeeded");
        emit_run(LOG_EVENT_SUCCEEDED, "other", "o1", T0 + 90000000, 0, 0);
        emit_run(LOG_EVENT_TIMED_OUT, "hist", "h3", T0 + 120000000, -1, SIGKILL);
        emit_run(LOG_EVENT_SKIPPED, "hist", "h4", T0 + 180000000, -1, 0);
        emit_run(LOG_EVENT_LOST, "hist", "h5", T0 + 240000000, -1, 0);
        log_msg(LOG_INFO, "not a run");
        return 0;
}

static int count_lines(const char *text)
{
        int n = 0;
        for (; *text; text++)
                n += *text == '\n';
        return n;
}

START_TEST(history_lists_runs_oldest_first_in_columns)
{
        setenv("TZ", "UTC", 1);
        start_journald();
        in_journal(emit_history);
        ck_assert_int_eq(count_entries("TICKD_JOB=hist", 7), 7);

        char *out = tickctl(0, (const char *[]){ "history", "hist", NULL });
        /* header, 5 runs (not the started record, not on_failure's, not
         * "other"), blank, footer */
        ck_assert_int_eq(count_lines(out), 8);
        ck_assert_msg(strncmp(out, "SCHEDULED", 9) == 0, "%s", out);
        const char *rows[] = { "succeeded", "failed", "timed-out", "skipped", "lost" };
        const char *p = out;
        for (size_t i = 0; i < 5; i++) {
                p = strstr(p, rows[i]);
                ck_assert_msg(p, "row %s missing or out of order:\n%s", rows[i], out);
        }
        ck_assert_ptr_nonnull(strstr(out, "Fri 2025-11-28 23:00:00 UTC  hist  succeeded  0 "));
        ck_assert_msg(strstr(out, "failed     3        1.204s    31.4ms"), "%s", out);
        ck_assert_ptr_nonnull(strstr(out, "timed-out  SIGKILL"));
        ck_assert_ptr_nonnull(strstr(out, "5 runs listed."));
        ck_assert_ptr_null(strstr(out, "other"));
        free(out);

        out = tickctl(0, (const char *[]){ "history", "-n", "2", NULL });
        ck_assert_int_eq(count_lines(out), 5);
        ck_assert_ptr_nonnull(strstr(out, "skipped"));
        ck_assert_ptr_nonnull(strstr(out, "lost"));
        free(out);

        out = tickctl(0, (const char *[]){ "history", "--failed", NULL });
        ck_assert_ptr_nonnull(strstr(out, "3 runs listed."));
        ck_assert_ptr_null(strstr(out, "succeeded"));
        ck_assert_ptr_null(strstr(out, "skipped"));
        free(out);

        out = tickctl(0, (const char *[]){ "history", "--since", "2000-01-01", NULL });
        ck_assert_ptr_nonnull(strstr(out, "6 runs listed."));
        free(out);
        out = tickctl(0, (const char *[]){ "history", "--since", "+1h", NULL });
        ck_assert_ptr_nonnull(strstr(out, "0 runs listed."));
        free(out);
        out = tickctl(0, (const char *[]){ "history", "--since", "-1h", NULL }); /* emitted just now */
        ck_assert_ptr_nonnull(strstr(out, "6 runs listed."));
        free(out);
        free(tickctl(2, (const char *[]){ "history", "--since", "someday", NULL }));
        out = tickctl(0, (const char *[]){ "history", "--since", "tomorrow", NULL });
        ck_assert_ptr_nonnull(strstr(out, "0 runs listed."));
        free(out);
        out = tickctl(0, (const char *[]){ "history", "--user", NULL }); /* we are uid 0, as was the sender */
        ck_assert_ptr_nonnull(strstr(out, "6 runs listed."));
        free(out);
        stop_journald();
}
END_TEST

static int emit_dropped(void)
{
        emit_run(LOG_EVENT_SUCCEEDED, "drop", "d1", T0, 0, 0);
        log_emit(
                &(struct log_record){
                        .event = LOG_EVENT_DROPPED, .job = "drop", .run_id = "d2", .scheduled_usec = T0 + 60000000 },
                "run of drop dropped before it started: tickd is stopping");
        return 0;
}

START_TEST(history_shows_a_dropped_run_as_a_failure)
{
        setenv("TZ", "UTC", 1);
        start_journald();
        in_journal(emit_dropped);
        ck_assert_int_eq(count_entries("TICKD_JOB=drop", 2), 2);
        char *out = tickctl(0, (const char *[]){ "history", "drop", NULL });
        ck_assert_msg(strstr(out, "Fri 2025-11-28 23:01:00 UTC  drop  dropped"), "%s", out);
        ck_assert_ptr_nonnull(strstr(out, "2 runs listed."));
        free(out);
        out = tickctl(0, (const char *[]){ "history", "drop", "--failed", NULL });
        ck_assert_msg(strstr(out, "dropped") && strstr(out, "1 run listed."), "%s", out);
        free(out);
        stop_journald();
}
END_TEST

/* Written in the order tickd writes them when the run of 23:00 lasts past
 * 23:01: the skipped instant of 23:01 first, then the run of 23:00 and a
 * second run of the same instant; then a run of 23:02 and a run started by
 * hand, which has no scheduled instant. */
static int emit_out_of_order(void)
{
        emit_run(LOG_EVENT_SKIPPED, "ord", "o2", T0 + 60000000, -1, 0);
        emit_run(LOG_EVENT_SUCCEEDED, "ord", "o1", T0, 0, 0);
        emit_run(LOG_EVENT_CANCELLED, "ord", "o1b", T0, -1, SIGTERM);
        emit_run(LOG_EVENT_FAILED, "ord", "o3", T0 + 120000000, 1, 0);
        emit_run(LOG_EVENT_SUCCEEDED, "ord", "manual", 0, 0, 0);
        return 0;
}

/* The run ids of `tickctl history ord --json ARGS`, space-separated. */
static char *history_run_ids(const char *limit)
{
        char *out = tickctl(0, limit ? (const char *[]){ "history", "ord", "--json", "-n", limit, NULL }
                                     : (const char *[]){ "history", "ord", "--json", NULL });
        char *ids = calloc(1, strlen(out) + 1);
        ck_assert_ptr_nonnull(ids);
        for (const char *p = out; (p = strstr(p, "\"run_id\":\"")); p++) {
                p += strlen("\"run_id\":\"");
                strncat(ids, p, strcspn(p, "\""));
                strcat(ids, " ");
        }
        free(out);
        return ids;
}

START_TEST(history_lists_runs_by_scheduled_instant_not_by_record_time)
{
        setenv("TZ", "UTC", 1);
        start_journald();
        in_journal(emit_out_of_order);
        ck_assert_int_eq(count_entries("TICKD_JOB=ord", 5), 5);
        char *ids = history_run_ids(NULL);
        ck_assert_str_eq(ids, "o1 o1b o2 o3 manual ");
        free(ids);
        ids = history_run_ids("3"); /* the last three in that order */
        ck_assert_str_eq(ids, "o2 o3 manual ");
        free(ids);
        ids = history_run_ids("1");
        ck_assert_str_eq(ids, "manual ");
        free(ids);
        char *out = tickctl(0, (const char *[]){ "history", "ord", NULL });
        const char *succeeded = strstr(out, "23:00:00 UTC  ord  succeeded"),
                   *skipped = strstr(out, "23:01:00 UTC  ord  skipped");
        ck_assert_msg(succeeded && skipped && succeeded < skipped, "%s", out);
        free(out);
        stop_journald();
}
END_TEST

START_TEST(history_json_is_one_object_per_run)
{
        start_journald();
        in_journal(emit_history);
        ck_assert_int_eq(count_entries("TICKD_JOB=hist", 7), 7);
        char *out = tickctl(0, (const char *[]){ "history", "hist", "--json", "-n", "3", NULL });
        ck_assert_int_eq(count_lines(out), 3);
        char *first = out, *second = strchr(first, '\n') + 1, *third = strchr(second, '\n') + 1;
        ck_assert_msg(strstr(first, "\"scheduled_usec\":1764370920000000,\"job\":\"hist\",\"run_id\":\"h3\","
                                    "\"result\":\"timed-out\",\"exit_status\":null,\"duration_usec\":1204000,"
                                    "\"cpu_usec\":31400,\"maxrss_kb\":999,\"signal\":\"SIGKILL\",\"user\":null}\n"),
                      "%s", out);
        ck_assert_ptr_nonnull(strstr(second, "\"result\":\"skipped\",\"exit_status\":null,\"duration_usec\":null"));
        ck_assert_ptr_nonnull(strstr(third, "\"run_id\":\"h5\",\"result\":\"lost\""));
        ck_assert_int_eq(strncmp(first, "{\"time_usec\":", 13), 0);
        free(out);
        stop_journald();
}
END_TEST

/* The system instance's runs (as root) and a user instance's (as nobody),
 * each with output of a job both call "shared". */
static int emit_as_two_users(void)
{
        bool journal = false;
        emit_run(LOG_EVENT_SUCCEEDED, "u-root", "u1", T0, 0, 0);
        if (relay_output("shared", "s1", true, "from root\n", 10, "", &journal) || !journal)
                return 1;
        pid_t pid = fork();
        if (pid == 0) {
                if (setgid(65534) < 0 || setuid(65534) < 0)
                        _exit(1);
                emit_run(LOG_EVENT_SUCCEEDED, "u-nobody", "u2", T0, 0, 0);
                _exit(relay_output("shared", "s2", true, "from nobody\n", 12, "", &journal) || !journal);
        }
        int status;
        waitpid(pid, &status, 0);
        return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

START_TEST(history_and_logs_user_read_only_the_callers_entries)
{
        start_journald();
        in_journal(emit_as_two_users);
        ck_assert_int_eq(count_entries("TICKD_RUN_ID=u2", 1), 1);
        char *out = tickctl(0, (const char *[]){ "history", NULL });
        ck_assert_msg(strstr(out, "u-root") && strstr(out, "u-nobody"), "%s", out);
        free(out);
        out = tickctl(0, (const char *[]){ "history", "--user", NULL }); /* as root: uid 0's entries */
        ck_assert_msg(strstr(out, "u-root") && !strstr(out, "u-nobody"), "%s", out);
        free(out);
        ck_assert_int_eq(count_entries("SYSLOG_IDENTIFIER=shared", 2), 2);
        out = tickctl(0, (const char *[]){ "logs", "shared", NULL });
        ck_assert_msg(strstr(out, "from root") && strstr(out, "from nobody"), "%s", out);
        free(out);
        out = tickctl(0, (const char *[]){ "logs", "shared", "--user", NULL });
        ck_assert_msg(count_lines(out) == 1 && strstr(out, "shared: from root\n"), "logs --user:\n%s", out);
        free(out);
        stop_journald();
}
END_TEST

/* Two runs of "lg" with their output, as runners relay it; then a line
 * another program logs under the identifier "lg", which is not the job's. */
static int emit_run_with_output(const char *run_id, const char *text)
{
        char out[64], err[64];
        snprintf(out, sizeof(out), "%s stdout\n", text);
        snprintf(err, sizeof(err), "%s stderr\n", text);
        struct log_record started = { .event = LOG_EVENT_STARTED, .job = "lg", .run_id = run_id };
        log_emit(&started, "started %s", run_id);
        bool journal = false;
        if (relay_output("lg", run_id, true, out, strlen(out), err, &journal) != 0 || !journal)
                return 1;
        emit_run(LOG_EVENT_SUCCEEDED, "lg", run_id, 0, 0, 0);
        return 0;
}

static int emit_logs(void)
{
        if (emit_run_with_output("r1", "first") || emit_run_with_output("r2", "second"))
                return 1;
        return sd_journal_send("MESSAGE=not the job's", "SYSLOG_IDENTIFIER=lg", "TICKD_RUN_ID=r1", NULL) < 0;
}

START_TEST(logs_show_a_jobs_output_and_one_run)
{
        start_journald();
        in_journal(emit_logs);
        ck_assert_int_eq(count_entries("SYSLOG_IDENTIFIER=lg", 5), 5);
        char *out = tickctl(0, (const char *[]){ "logs", "lg", NULL });
        ck_assert_msg(count_lines(out) == 4 && !strstr(out, "not the job's"), "logs lg:\n%s", out);
        ck_assert_ptr_nonnull(strstr(out, " lg: first stdout\n"));
        ck_assert(strstr(out, "first stderr") && strstr(out, "second stdout") &&
                  strstr(out, "first stderr") < strstr(out, "second stdout"));
        free(out);

        out = tickctl(0, (const char *[]){ "logs", "lg", "-n", "2", NULL });
        ck_assert_msg(count_lines(out) == 2 && strstr(out, "second stdout") && strstr(out, "second stderr"),
                      "logs lg -n 2:\n%s", out);
        free(out);

        out = tickctl(0, (const char *[]){ "logs", "lg", "--run", "r1", NULL });
        ck_assert_msg(count_lines(out) == 2 && strstr(out, "first stdout") && strstr(out, "first stderr"),
                      "run r1:\n%s", out);
        free(out);
        out = tickctl(0, (const char *[]){ "logs", "lg", "--run", "r2", NULL });
        ck_assert_msg(count_lines(out) == 2 && strstr(out, "second stdout") && strstr(out, "second stderr"),
                      "run r2:\n%s", out);
        free(out);

        free(tickctl(1, (const char *[]){ "logs", "lg", "--run", "nope", NULL }));
        free(tickctl(1, (const char *[]){ "logs", "other", "--run", "r1", NULL }));
        free(tickctl(2, (const char *[]){ "logs", NULL }));
        stop_journald();
}
END_TEST

/* Two runs of "fl" print; the follower must see run f1's lines as they
 * come, and with --run f1 none of run f2's. f2's lines go first, so by the
 * time f1's late line shows, a leaked f2 line would have shown too. */
static int emit_follow_line(void)
{
        bool journal = false;
        return relay_output("fl", "f2", true, "other run late\n", 15, "", &journal) || !journal ||
               relay_output("fl", "f1", true, "late line\n", 10, "", &journal) || !journal;
}

static int emit_first_line(void)
{
        bool journal = false;
        return relay_output("fl", "f2", true, "other run early\n", 16, "", &journal) || !journal ||
               relay_output("fl", "f1", true, "early line\n", 11, "", &journal) || !journal;
}

START_TEST(logs_follow_prints_new_lines)
{
        bool one_run = _i == 1;
        start_journald();
        in_journal(emit_first_line);
        ck_assert_int_eq(count_entries("SYSLOG_IDENTIFIER=fl", 2), 2);
        int p[2];
        ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
        pid_t pid = fork();
        if (pid == 0) {
                dup2(p[1], STDOUT_FILENO);
                execl(harness_binary("tickctl"), "tickctl", "logs", "fl", "-f", "--directory", jd.journal_dir,
                      one_run ? "--run" : (char *)NULL, "f1", (char *)NULL);
                _exit(127);
        }
        close(p[1]);
        char buf[4096] = "";
        size_t len = 0;
        bool added = false;
        long long deadline = harness_now_ms() + 8000;
        while (!strstr(buf, "late line") && harness_now_ms() < deadline) {
                struct pollfd pfd = { .fd = p[0], .events = POLLIN };
                if (poll(&pfd, 1, 100) > 0) {
                        ssize_t n = read(p[0], buf + len, sizeof(buf) - 1 - len);
                        if (n <= 0)
                                break;
                        len += (size_t)n;
                        buf[len] = '\0';
                }
                if (!added && strstr(buf, "early line")) {
                        in_journal(emit_follow_line);
                        added = true;
                }
        }
        kill(pid, SIGTERM);
        waitpid(pid, NULL, 0);
        close(p[0]);
        ck_assert_msg(strstr(buf, "early line") && strstr(buf, "late line"), "tickctl logs -f printed:\n%s", buf);
        if (one_run)
                ck_assert_msg(!strstr(buf, "other run"), "tickctl logs -f --run f1 printed:\n%s", buf);
        else
                ck_assert_msg(strstr(buf, "other run early") && strstr(buf, "other run late"),
                              "tickctl logs -f printed:\n%s", buf);
        stop_journald();
}
END_TEST

/* A job's output and a job's name with terminal escapes in them: clear
 * the screen, set the window title, ring the bell, a C1 CSI (UTF-8). */
#define HOSTILE_OUTPUT                          \
        "a\tb \x1b[2J\x1b]0;owned\x07 \xc2\x9b" \
        "31m\n"
#define HOSTILE_JOB "evil\x1b[31m"

static int emit_hostile(void)
{
        bool journal = false;
        if (relay_output("esc", "e1", true, HOSTILE_OUTPUT, strlen(HOSTILE_OUTPUT), "", &journal) || !journal)
                return 1;
        emit_run(LOG_EVENT_SUCCEEDED, HOSTILE_JOB, "e2", T0, 0, 0);
        return 0;
}

/* Runs tickctl ARGS... --directory <journal> with a pseudo-terminal (raw
 * mode, so no CR is added) as its stdout, and returns what it wrote there. */
static char *tickctl_on_terminal(const char *const *args)
{
        int master, slave;
        ck_assert_int_eq(openpty(&master, &slave, NULL, NULL, NULL), 0);
        struct termios raw;
        ck_assert_int_eq(tcgetattr(slave, &raw), 0);
        cfmakeraw(&raw);
        ck_assert_int_eq(tcsetattr(slave, TCSANOW, &raw), 0);
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
                char *argv[32];
                int n = 0;
                argv[n++] = (char *)harness_binary("tickctl");
                for (; *args; args++)
                        argv[n++] = (char *)*args;
                argv[n++] = "--directory";
                argv[n++] = jd.journal_dir;
                argv[n] = NULL;
                dup2(slave, STDOUT_FILENO);
                execv(argv[0], argv);
                _exit(127);
        }
        close(slave);
        char *out = calloc(1, 65536);
        ck_assert_ptr_nonnull(out);
        size_t len = 0;
        ssize_t n;
        /* read() fails with EIO once the child, the last holder of the slave, exits. */
        while (len < 65535 && (n = read(master, out + len, 65535 - len)) > 0)
                len += (size_t)n;
        close(master);
        int status;
        ck_assert_int_eq(waitpid(pid, &status, 0), pid);
        ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "tickctl %s: status %d", args[0], status);
        return out;
}

START_TEST(logs_and_history_escape_control_characters_on_a_terminal_only)
{
        start_journald();
        in_journal(emit_hostile);
        ck_assert_int_eq(count_entries("SYSLOG_IDENTIFIER=esc", 1), 1);
        ck_assert_int_eq(count_entries("TICKD_RUN_ID=e2", 1), 1);

        char *out = tickctl_on_terminal((const char *[]){ "logs", "esc", NULL });
        ck_assert_msg(!strchr(out, '\x1b') && !strchr(out, '\x07') && !strstr(out, "\xc2\x9b"), "logs:\n%s", out);
        ck_assert_msg(strstr(out, " esc: a\tb \\x1b[2J\\x1b]0;owned\\x07 \\xc2\\x9b31m\n"), "logs:\n%s", out);
        free(out);
        out = tickctl_on_terminal((const char *[]){ "history", NULL });
        ck_assert_msg(!strchr(out, '\x1b') && strstr(out, "evil\\x1b[31m"), "history:\n%s", out);
        free(out);

        /* Into a pipe the bytes are the job's own. */
        out = tickctl(0, (const char *[]){ "logs", "esc", NULL });
        ck_assert_msg(strstr(out, " esc: a\tb \x1b[2J\x1b]0;owned\x07 \xc2\x9b"
                                  "31m\n"),
                      "logs:\n%s", out);
        free(out);
        out = tickctl(0, (const char *[]){ "history", NULL });
        ck_assert_msg(strstr(out, HOSTILE_JOB), "history:\n%s", out);
        free(out);
        stop_journald();
}
END_TEST

/* ---- the real tickd --------------------------------------------------- */

static pid_t tickd_in_journal(const char *root, const char *target)
{
        char config[4096], state[4096], runtime[4096];
        snprintf(config, sizeof(config), "%s/config", root);
        snprintf(state, sizeof(state), "%s/state", root);
        snprintf(runtime, sizeof(runtime), "%s/runtime", root);
        pid_t pid = fork();
        if (pid == 0) {
                if (journald_enter(&jd) < 0)
                        _exit(126);
                int null = open("/dev/null", O_RDWR | O_CLOEXEC);
                dup2(null, STDIN_FILENO);
                dup2(null, STDOUT_FILENO);
                dup2(null, STDERR_FILENO);
                execl(harness_binary("tickd"), "tickd", "--config-dir", config, "--state-dir", state, "--runtime-dir",
                      runtime, "--log-target", target, (char *)NULL);
                _exit(127);
        }
        return pid;
}

/* A temporary tree (*ROOT) with jobs.d/NAME = INI, and tickd on it with
 * --log-target TARGET, logging to our journald. */
static pid_t tickd_with_job(char **root, const char *target, const char *name, const char *ini)
{
        *root = harness_tmpdir();
        char jobs[4096];
        snprintf(jobs, sizeof(jobs), "%s/config", *root);
        mkdir(jobs, 0755);
        snprintf(jobs, sizeof(jobs), "%s/config/jobs.d", *root);
        mkdir(jobs, 0755);
        free(harness_write_file(jobs, name, ini));
        return tickd_in_journal(*root, target);
}

START_TEST(tickd_runs_reach_the_journal_with_their_output)
{
        start_journald();
        char *root = NULL;
        pid_t pid = tickd_with_job(&root, "auto", "e2e.ini",
                                   "[e2e]\nschedule = * * * * * *\n"
                                   "command = echo \"out $TICKD_RUN_ID\"; echo \"err $TICKD_RUN_ID\" >&2; exit 3\n"
                                   "on_failure = echo \"handled $TICKD_EXIT_STATUS\"\n");
        bool enough = count_entries("MESSAGE_ID=" TICKD_MESSAGE_FAILED, 2) >= 2 ||
                      count_entries("MESSAGE_ID=" TICKD_MESSAGE_FAILED, 2) >= 2;
        kill(pid, SIGTERM);
        int status;
        ck_assert_int_eq(waitpid(pid, &status, 0), pid);
        /* A job's children killed with its group at shutdown outlive their
         * parent shell by a moment: as our orphans (subreaper) they are ours
         * to reap. */
        ck_assert_int_eq(harness_reap_children(500), 1); /* only journald still alive */
        ck_assert_msg(enough, "tickd logged fewer than 2 failed runs to the journal");
        ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "tickd exit status %d", status);
        ck_assert_int_eq(journald_sync(&jd), 0);

        sd_journal *j = NULL;
        ck_assert_int_eq(sd_journal_open_directory(&j, jd.journal_dir, 0), 0);
        ck_assert_int_eq(sd_journal_add_match(j, "MESSAGE_ID=" TICKD_MESSAGE_FAILED, 0), 0);
        ck_assert_int_eq(sd_journal_next(j), 1);
        assert_field(j, "PRIORITY", "3");
        assert_field(j, "TICKD_JOB", "e2e");
        assert_field(j, "TICKD_EXIT_STATUS", "3");
        assert_field(j, "SYSLOG_IDENTIFIER", "tickd");
        char *run_id = field(j, "TICKD_RUN_ID"), *scheduled = field(j, "TICKD_SCHEDULED_USEC");
        ck_assert_ptr_nonnull(run_id);
        ck_assert_int_eq(strlen(run_id), 32);
        ck_assert_ptr_nonnull(scheduled);
        ck_assert_msg(atoll(scheduled) % 1000000 == 0, "scheduled %s is not a whole second", scheduled);
        for (const char *name = "TICKD_DURATION_USEC\0TICKD_CPU_USEC\0TICKD_MAXRSS_KB\0CODE_FILE\0"; *name;
             name += strlen(name) + 1) {
                char *v = field(j, name);
                ck_assert_msg(v != NULL, "%s missing", name);
                free(v);
        }
        sd_journal_flush_matches(j);
        ck_assert_int_eq(sd_journal_add_match(j, "MESSAGE_ID=" TICKD_MESSAGE_STARTED, 0), 0);
        ck_assert_int_eq(sd_journal_seek_head(j), 0);
        ck_assert_int_eq(sd_journal_next(j), 1);
        assert_field(j, "PRIORITY", "6");
        char *runner = field(j, "TICKD_PID");
        ck_assert_ptr_nonnull(runner);
        free(runner);
        sd_journal_flush_matches(j);
        ck_assert_int_eq(sd_journal_add_match(j, "MESSAGE_ID=" TICKD_MESSAGE_DAEMON_STARTED, 0), 0);
        ck_assert_int_eq(sd_journal_seek_head(j), 0);
        ck_assert_int_eq(sd_journal_next(j), 1);
        sd_journal_close(j);

        /* The job's own lines: identifier = job name, stderr at warning. */
        char match[128];
        snprintf(match, sizeof(match), "MESSAGE=out %s", run_id);
        ck_assert_int_eq(count_entries(match, 1), 1);
        ck_assert_int_eq(sd_journal_open_directory(&j, jd.journal_dir, 0), 0);
        ck_assert_int_eq(sd_journal_add_match(j, match, 0), 0);
        ck_assert_int_eq(sd_journal_next(j), 1);
        assert_field(j, "SYSLOG_IDENTIFIER", "e2e");
        assert_field(j, "PRIORITY", "6");
        assert_field(j, "TICKD_RUN_ID", run_id);
        assert_field(j, "TICKD_OUTPUT", "stdout");
        sd_journal_flush_matches(j);
        snprintf(match, sizeof(match), "MESSAGE=err %s", run_id);
        ck_assert_int_eq(sd_journal_add_match(j, match, 0), 0);
        ck_assert_int_eq(sd_journal_seek_head(j), 0);
        ck_assert_int_eq(sd_journal_next(j), 1);
        assert_field(j, "SYSLOG_IDENTIFIER", "e2e");
        assert_field(j, "PRIORITY", "4");
        assert_field(j, "TICKD_RUN_ID", run_id);
        assert_field(j, "TICKD_OUTPUT", "stderr");
        sd_journal_close(j);

        char *out = tickctl(0, (const char *[]){ "history", "e2e", NULL });
        ck_assert_msg(strstr(out, "  e2e  failed  3  "), "history:\n%s", out);
        free(out);
        out = tickctl(0, (const char *[]){ "logs", "e2e", "--run", run_id, NULL });
        char want_out[128], want_err[128];
        snprintf(want_out, sizeof(want_out), "e2e: out %s\n", run_id);
        snprintf(want_err, sizeof(want_err), "e2e: err %s\n", run_id);
        /* on_failure's output belongs to the run it handled */
        ck_assert_msg(count_lines(out) == 3 && strstr(out, want_out) && strstr(out, want_err) &&
                              strstr(out, "e2e: handled 3\n"),
                      "logs --run %s:\n%s", run_id, out);
        free(out);
        free(run_id);
        free(scheduled);
        harness_tmpdir_remove(root);
        stop_journald();
}
END_TEST

/* The value of "KEY": "VALUE" (or "KEY":"VALUE") in the JSON object of OUT
 * that starts at AT, as a static copy. */
static const char *json_value(const char *at, const char *key)
{
        static char value[64];
        char needle[64];
        snprintf(needle, sizeof(needle), "\"%s\":", key);
        const char *p = strstr(at, needle);
        ck_assert_msg(p != NULL, "no %s in:\n%s", key, at);
        p += strlen(needle);
        p += strspn(p, " \"");
        snprintf(value, sizeof(value), "%.*s", (int)strcspn(p, "\""), p);
        return value;
}

/* The outcome word of JOB's newest run in `tickctl history --json`. */
static char *history_last_word(const char *job)
{
        char *out = tickctl(0, (const char *[]){ "history", job, "--json", "-n", "1", NULL });
        char *word = strdup(json_value(out, "result"));
        free(out);
        return word;
}

/* The last outcome of JOB in `tickctl list --json` with no daemon running
 * (from the state directory's last-outcomes). */
static char *list_last_word(const char *root, const char *job)
{
        char config[4096], state[4096], runtime[4096];
        snprintf(config, sizeof(config), "%s/config", root);
        snprintf(state, sizeof(state), "%s/state", root);
        snprintf(runtime, sizeof(runtime), "%s/runtime", root);
        char *argv[] = { (char *)harness_binary("tickctl"),
                         "list",
                         "--json",
                         "--config-dir",
                         config,
                         "--state-dir",
                         state,
                         "--runtime-dir",
                         runtime,
                         NULL };
        char *out = NULL, *err = NULL;
        int status = harness_run(argv, NULL, &out, &err);
        ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "tickctl list: %d: %s", status, err);
        char name[64];
        snprintf(name, sizeof(name), "\"name\": \"%s\"", job);
        const char *obj = strstr(out, name);
        ck_assert_msg(obj != NULL, "no %s in:\n%s", job, out);
        char *word = strdup(json_value(obj, "last_result"));
        free(out);
        free(err);
        return word;
}

/* The journal's record of a run and the last outcome tickd kept for
 * `list` and `status` name it with the same word. */
START_TEST(tickd_history_and_list_name_an_outcome_alike)
{
        start_journald();
        char *root = NULL;
        pid_t pid = tickd_with_job(&root, "journal", "words.ini",
                                   "[ok]\nschedule = * * * * * *\ncommand = true\n\n"
                                   "[slow]\nschedule = * * * * * *\ncommand = sleep 10\noverlap = allow\n"
                                   "timeout = 1s\nkill_grace = 1s\n");
        bool enough = count_entries("MESSAGE_ID=" TICKD_MESSAGE_TIMED_OUT, 1) >= 1 ||
                      count_entries("MESSAGE_ID=" TICKD_MESSAGE_TIMED_OUT, 1) >= 1;
        kill(pid, SIGTERM);
        int status;
        ck_assert_int_eq(waitpid(pid, &status, 0), pid);
        ck_assert_int_eq(harness_reap_children(2000), 1); /* only journald still alive */
        ck_assert_msg(enough, "tickd logged no timed-out run to the journal");
        ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "tickd exit status %d", status);
        ck_assert_int_eq(journald_sync(&jd), 0);

        char *out = tickctl(0, (const char *[]){ "history", "--json", NULL });
        ck_assert_msg(strstr(out, "\"job\":\"ok\",\"run_id\":") && strstr(out, "\"result\":\"succeeded\""), "%s", out);
        ck_assert_msg(strstr(out, "\"result\":\"timed-out\""), "%s", out);
        free(out);
        out = tickctl(0, (const char *[]){ "history", "slow", NULL });
        ck_assert_msg(strstr(out, "  slow  timed-out  SIGTERM  "), "%s", out);
        free(out);
        for (const char *job = "ok\0slow\0"; *job; job += strlen(job) + 1) {
                char *journal = history_last_word(job), *kept = list_last_word(root, job);
                ck_assert_msg(strcmp(journal, kept) == 0, "%s: history says %s, list says %s", job, journal, kept);
                free(journal);
                free(kept);
        }
        harness_tmpdir_remove(root);
        stop_journald();
}
END_TEST

/* Lines of OUT that contain NEEDLE. */
static int lines_with(const char *out, const char *needle)
{
        int n = 0;
        for (const char *line = out; *line;) {
                size_t len = strcspn(line, "\n");
                char *copy = strndup(line, len);
                n += strstr(copy, needle) != NULL;
                free(copy);
                line += len + (line[len] == '\n');
        }
        return n;
}

/* Runs of one job that overlap (overlap = allow, one a second, each
 * printing for 1.6 s, then leaving a background child that prints after
 * the run has ended): their output interleaves in the journal, and
 * `logs --run` shows each run its own lines only, the child's included. */
START_TEST(tickd_logs_run_separates_overlapping_runs)
{
        start_journald();
        char *root = NULL;
        pid_t pid = tickd_with_job(&root, "journal", "ov.ini",
                                   "[ov]\nschedule = * * * * * *\noverlap = allow\n"
                                   "command = for i in 1 2 3 4; do echo \"$TICKD_RUN_ID out $i\"; "
                                   "echo \"$TICKD_RUN_ID err $i\" >&2; sleep 0.4; done; "
                                   "(sleep 0.5; echo \"$TICKD_RUN_ID child\") &\n");
        int done = 0;
        for (long long deadline = harness_now_ms() + 20000; done < 3 && harness_now_ms() < deadline;)
                done = count_entries("MESSAGE_ID=" TICKD_MESSAGE_SUCCEEDED, 3);
        kill(pid, SIGTERM);
        int status;
        ck_assert_int_eq(waitpid(pid, &status, 0), pid);
        harness_reap_children(2000);
        ck_assert_msg(done >= 3, "only %d runs of ov succeeded", done);
        ck_assert_int_eq(journald_sync(&jd), 0);

        sd_journal *j = NULL;
        ck_assert_int_eq(sd_journal_open_directory(&j, jd.journal_dir, 0), 0);
        ck_assert_int_eq(sd_journal_add_match(j, "MESSAGE_ID=" TICKD_MESSAGE_SUCCEEDED, 0), 0);
        char *ids[3];
        for (int i = 0; i < 3; i++) {
                ck_assert_int_eq(sd_journal_next(j), 1);
                ids[i] = field(j, "TICKD_RUN_ID");
                ck_assert_ptr_nonnull(ids[i]);
        }
        sd_journal_close(j);

        /* The runs did interleave: another run's line between the first
         * and the last line of the first run. */
        char *all = tickctl(0, (const char *[]){ "logs", "ov", NULL });
        const char *first = strstr(all, ids[0]), *last = NULL;
        for (const char *p = first; p; p = strstr(p + 1, ids[0]))
                last = p;
        ck_assert_ptr_nonnull(first);
        ck_assert_msg(strstr(first, ids[1]) && strstr(first, ids[1]) < last, "runs did not overlap:\n%s", all);
        free(all);

        /* The child's line came after its run's outcome: the run did not
         * wait for it, and its output still reached the journal. */
        char match[128];
        snprintf(match, sizeof(match), "MESSAGE=%s child", ids[0]);
        ck_assert_int_eq(count_entries(match, 1), 1);
        uint64_t child_at = 0, finished_at = 0;
        ck_assert_int_eq(sd_journal_open_directory(&j, jd.journal_dir, 0), 0);
        ck_assert_int_eq(sd_journal_add_match(j, match, 0), 0);
        ck_assert_int_eq(sd_journal_next(j), 1);
        ck_assert_int_eq(sd_journal_get_realtime_usec(j, &child_at), 0);
        assert_field(j, "TICKD_RUN_ID", ids[0]);
        sd_journal_flush_matches(j);
        snprintf(match, sizeof(match), "TICKD_RUN_ID=%s", ids[0]);
        ck_assert_int_eq(sd_journal_add_match(j, "MESSAGE_ID=" TICKD_MESSAGE_SUCCEEDED, 0), 0);
        ck_assert_int_eq(sd_journal_add_match(j, match, 0), 0);
        ck_assert_int_eq(sd_journal_seek_head(j), 0);
        ck_assert_int_eq(sd_journal_next(j), 1);
        ck_assert_int_eq(sd_journal_get_realtime_usec(j, &finished_at), 0);
        sd_journal_close(j);
        ck_assert_msg(child_at > finished_at, "child line at %llu, run finished at %llu", (unsigned long long)child_at,
                      (unsigned long long)finished_at);

        for (int i = 0; i < 3; i++) {
                char *out = tickctl(0, (const char *[]){ "logs", "ov", "--run", ids[i], NULL });
                ck_assert_msg(count_lines(out) == 9 && lines_with(out, ids[i]) == 9 && strstr(out, " child\n"),
                              "logs --run %s:\n%s", ids[i], out);
                free(out);
                out = tickctl(0, (const char *[]){ "logs", "ov", "--run", ids[i], "-n", "2", NULL });
                ck_assert_msg(count_lines(out) == 2 && lines_with(out, ids[i]) == 2, "-n 2:\n%s", out);
                free(out);
                free(ids[i]);
        }
        harness_tmpdir_remove(root);
        stop_journald();
}
END_TEST

/* tickctl ARGS... inside journald's namespace (so its local journal is
 * journald's), against the tickd on ROOT; returns the wait status. */
static int tickctl_in_journal(const char *root, const char *const *args, char **out, char **err)
{
        char runtime[4096], config[4096];
        snprintf(runtime, sizeof(runtime), "%s/runtime", root);
        snprintf(config, sizeof(config), "%s/config", root);
        char *argv[32];
        int n = 0;
        /* nsenter -m starts in the namespace's root directory: a path
         * relative to ours would not be found there. */
        _cleanup_free_ char *binary = realpath(harness_binary("tickctl"), NULL);
        ck_assert_ptr_nonnull(binary);
        argv[n++] = binary;
        for (; *args; args++)
                argv[n++] = (char *)*args;
        argv[n++] = "--runtime-dir";
        argv[n++] = runtime;
        argv[n++] = "--config-dir";
        argv[n++] = config;
        argv[n] = NULL;
        char **in_ns = journald_argv(&jd, argv);
        ck_assert_ptr_nonnull(in_ns);
        int status = harness_run(in_ns, NULL, out, err);
        journald_argv_free(in_ns);
        return status;
}

/* Waits up to 10 s for ROOT's tickd to answer on its control socket. */
static void wait_for_control(const char *root)
{
        char path[4096];
        snprintf(path, sizeof(path), "%s/runtime/tickd/control", root);
        for (long long deadline = harness_now_ms() + 10000; access(path, F_OK) < 0;) {
                ck_assert_msg(harness_now_ms() < deadline, "no control socket %s", path);
                usleep(20 * 1000);
        }
}

static const char follow_ini[] = "[f]\nschedule = @daily\n"
                                 "command = echo one; echo two >&2; sleep 0.3; echo three; exit 3\n";

START_TEST(run_follow_shows_the_runs_output_then_its_outcome)
{
        start_journald();
        char *root = NULL;
        pid_t pid = tickd_with_job(&root, "journal", "f.ini", follow_ini);
        wait_for_control(root);
        char *out = NULL, *err = NULL;
        int status = tickctl_in_journal(root, (const char *[]){ "run", "f", "--follow", NULL }, &out, &err);
        ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 3, "status %d\nout:\n%s\nerr:\n%s", status, out, err);
        /* stdout's lines on stdout, in order, and the outcome after them. */
        const char *lines = strstr(out, "one\nthree\n");
        ck_assert_msg(lines == out, "stdout:\n%s", out);
        ck_assert_msg(strstr(lines, "f run ") && strstr(out, "failed (exit status 3)"), "stdout:\n%s", out);
        ck_assert_msg(strcmp(err, "two\n") == 0, "stderr:\n%s", err);
        free(out);
        free(err);
        kill(pid, SIGTERM);
        ck_assert_int_eq(waitpid(pid, &status, 0), pid);
        ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "tickd exit status %d", status);
        harness_reap_children(500);
        harness_tmpdir_remove(root);
        stop_journald();
}
END_TEST

/* A tickd that logs to its stderr relays job output there: --follow has
 * nothing to show, says so, and still exits as the job did. */
START_TEST(run_follow_says_where_the_output_of_a_stderr_daemon_went)
{
        start_journald();
        char *root = NULL;
        pid_t pid = tickd_with_job(&root, "stderr", "f.ini", follow_ini);
        wait_for_control(root);
        char *out = NULL, *err = NULL;
        int status = tickctl_in_journal(root, (const char *[]){ "run", "f", "-f", NULL }, &out, &err);
        ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 3, "status %d\nout:\n%s\nerr:\n%s", status, out, err);
        ck_assert_msg(strstr(out, "failed (exit status 3)") && !strstr(out, "one"), "stdout:\n%s", out);
        ck_assert_msg(strstr(err, "reached the journal") && strstr(err, "--log-target stderr"), "stderr:\n%s", err);
        free(out);
        free(err);
        kill(pid, SIGTERM);
        ck_assert_int_eq(waitpid(pid, &status, 0), pid);
        harness_reap_children(500);
        harness_tmpdir_remove(root);
        stop_journald();
}
END_TEST

/* A job that writes far more than a pipe holds, in the same batch as a
 * quick one: neither the daemon nor the batch waits for it, and every line
 * reaches the journal. */
START_TEST(tickd_big_output_blocks_neither_daemon_nor_batch)
{
        start_journald();
        char *root = NULL;
        pid_t pid = tickd_with_job(&root, "journal", "big.ini",
                                   "[big]\nschedule = */3 * * * * *\ncommand = seq 1 20000\n"
                                   "[quick]\nschedule = */3 * * * * *\ncommand = true\n");
        int quick = count_entries("MESSAGE_ID=" TICKD_MESSAGE_SUCCEEDED, 2);
        kill(pid, SIGTERM);
        int status;
        ck_assert_int_eq(waitpid(pid, &status, 0), pid);
        ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "tickd exit status %d", status);
        ck_assert_int_ge(quick, 2); /* both jobs of the batch succeeded */
        ck_assert_int_eq(journald_sync(&jd), 0);
        ck_assert_int_ge(count_entries("SYSLOG_IDENTIFIER=big", 20000), 20000);
        ck_assert_int_eq(count_entries("MESSAGE=20000", 1), 1);
        harness_tmpdir_remove(root);
        stop_journald();
}
END_TEST

/* With no journald, the job's output is not lost: the runner relays it to
 * tickd's stderr, line by line, prefixed with the job's name. */
START_TEST(tickd_relays_job_output_to_stderr_without_journald)
{
        char *root = harness_tmpdir(), path[4096], config[4096], state[4096], runtime[4096];
        snprintf(config, sizeof(config), "%s/config", root);
        mkdir(config, 0755);
        snprintf(path, sizeof(path), "%s/config/jobs.d", root);
        mkdir(path, 0755);
        free(harness_write_file(path, "relay.ini",
                                "[relayed]\nschedule = * * * * * *\ncommand = echo hello; echo oops >&2\n"));
        snprintf(state, sizeof(state), "%s/state", root);
        snprintf(runtime, sizeof(runtime), "%s/runtime", root);
        snprintf(path, sizeof(path), "%s/stderr", root);
        int err = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        ck_assert_int_ge(err, 0);
        pid_t pid = fork();
        if (pid == 0) {
                if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
                    mount("tmpfs", "/run/systemd", "tmpfs", 0, "mode=0755") < 0)
                        _exit(126);
                dup2(err, STDERR_FILENO);
                execl(harness_binary("tickd"), "tickd", "--config-dir", config, "--state-dir", state, "--runtime-dir",
                      runtime, "--log-target", "journal", (char *)NULL);
                _exit(127);
        }
        char text[8192] = "";
        long long deadline = harness_now_ms() + 10000;
        while (harness_now_ms() < deadline) {
                ssize_t n = pread(err, text, sizeof(text) - 1, 0);
                text[n > 0 ? n : 0] = '\0';
                if (strstr(text, "relayed: hello\n") && strstr(text, "relayed: oops\n"))
                        break;
                usleep(50 * 1000);
        }
        kill(pid, SIGTERM);
        int status;
        ck_assert_int_eq(waitpid(pid, &status, 0), pid);
        ck_assert_int_eq(harness_reap_children(2000), 0);
        close(err);
        ck_assert_msg(strstr(text, "relayed: hello\n") && strstr(text, "relayed: oops\n"), "stderr:\n%s", text);
        ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "tickd exit status %d", status);
        harness_tmpdir_remove(root);
}
END_TEST

/* ---- the catalog ----------------------------------------------------- */

START_TEST(catalog_explains_every_message_id)
{
        char *root = harness_tmpdir(), dir[4096], *catalog_text = NULL;
        snprintf(dir, sizeof(dir), "%s/usr", root);
        mkdir(dir, 0755);
        snprintf(dir, sizeof(dir), "%s/usr/lib", root);
        mkdir(dir, 0755);
        snprintf(dir, sizeof(dir), "%s/usr/lib/systemd", root);
        mkdir(dir, 0755);
        snprintf(dir, sizeof(dir), "%s/usr/lib/systemd/catalog", root);
        mkdir(dir, 0755);
        FILE *in = fopen(harness_source_path("packaging/tickd.catalog"), "re");
        ck_assert_ptr_nonnull(in);
        catalog_text = calloc(1, 65536);
        size_t n = fread(catalog_text, 1, 65535, in);
        fclose(in);
        ck_assert_int_gt(n, 0);
        free(harness_write_file(dir, "tickd.catalog", catalog_text));
        free(catalog_text);

        char *update[] = { "/usr/bin/journalctl", "--root", root, "--update-catalog", NULL };
        char *err = NULL;
        ck_assert_int_eq(harness_run(update, NULL, NULL, &err), 0);
        ck_assert_msg(err[0] == '\0', "journalctl --update-catalog: %s", err);
        free(err);
        char *list[] = { "/usr/bin/journalctl", "--root", root, "--list-catalog", NULL };
        char *out = NULL;
        ck_assert_int_eq(harness_run(list, NULL, &out, NULL), 0);
        int ids = 0;
        for (int e = 0; e < _LOG_EVENT_MAX; e++) {
                const char *id = log_event_message_id((enum log_event)e);
                if (!id)
                        continue;
                char want[64];
                snprintf(want, sizeof(want), "%s tickd: ", id);
                ck_assert_msg(strstr(out, want), "no catalog entry for %s (%s):\n%s", id,
                              log_event_name((enum log_event)e), out);
                ids++;
        }
        ck_assert_int_eq(count_lines(out), ids); /* and nothing else */
        free(out);
        harness_tmpdir_remove(root);
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
        tcase_add_test(tc, output_falls_back_to_stderr_without_journald);
        suite_add_tcase(s, tc);

        tc = tcase_create("records");
        tcase_add_leak_fixture(tc);
        tcase_set_timeout(tc, 20);
        tcase_add_test(tc, records_carry_every_field_and_message_id);
        tcase_add_test(tc, journalctl_reads_the_same_fields);
        suite_add_tcase(s, tc);

        tc = tcase_create("tickctl");
        tcase_add_leak_fixture(tc);
        tcase_set_timeout(tc, 30);
        tcase_add_test(tc, history_lists_runs_oldest_first_in_columns);
        tcase_add_test(tc, history_json_is_one_object_per_run);
        tcase_add_test(tc, history_shows_a_dropped_run_as_a_failure);
        tcase_add_test(tc, history_lists_runs_by_scheduled_instant_not_by_record_time);
        tcase_add_test(tc, history_and_logs_user_read_only_the_callers_entries);
        tcase_add_test(tc, logs_show_a_jobs_output_and_one_run);
        tcase_add_loop_test(tc, logs_follow_prints_new_lines, 0, 2); /* 1: with --run */
        tcase_add_test(tc, logs_and_history_escape_control_characters_on_a_terminal_only);
        suite_add_tcase(s, tc);

        tc = tcase_create("tickd");
        tcase_add_leak_fixture(tc);
        tcase_set_timeout(tc, 30);
        tcase_add_test(tc, tickd_runs_reach_the_journal_with_their_output);
        tcase_add_test(tc, tickd_history_and_list_name_an_outcome_alike);
        tcase_add_test(tc, tickd_big_output_blocks_neither_daemon_nor_batch);
        tcase_add_test(tc, tickd_logs_run_separates_overlapping_runs);
        tcase_add_test(tc, tickd_relays_job_output_to_stderr_without_journald);
        suite_add_tcase(s, tc);

        tc = tcase_create("run-follow");
        tcase_add_leak_fixture(tc);
        tcase_set_timeout(tc, 30);
        tcase_add_test(tc, run_follow_shows_the_runs_output_then_its_outcome);
        tcase_add_test(tc, run_follow_says_where_the_output_of_a_stderr_daemon_went);
        suite_add_tcase(s, tc);

        tc = tcase_create("catalog");
        tcase_add_leak_fixture(tc);
        tcase_add_test(tc, catalog_explains_every_message_id);
        suite_add_tcase(s, tc);

        tc = tcase_create("output");
        tcase_add_leak_fixture(tc);
        tcase_set_timeout(tc, 20);
        tcase_add_test(tc, job_output_lines_carry_identifier_priority_and_run);
        tcase_add_test(tc, output_falls_back_when_journald_goes_away);
        suite_add_tcase(s, tc);
        return s;
}

TEST_MAIN(journal_suite)
