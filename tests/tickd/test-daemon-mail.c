/* test-daemon-mail.c — end to end: a job's mail goes through a real MTA
 * into root's mailbox. The MTA is Debian's dma (the DragonFly Mail Agent,
 * TICKD_DMA: unpacked into the build tree by the Makefile, never
 * installed): no daemon, local delivery into /var/mail. Each test that
 * delivers first takes a mount namespace of its own (Check forks each
 * test) with empty tmpfs over /var/mail and /var/spool, so dma's spool
 * and root's mailbox are the test's alone and nothing of the host's mail
 * is read or written. dma runs as root here and switches itself to the
 * "mail" user, as installed; its delivery goes on in the background after
 * sendmail returns, so the tests wait for the mailbox, bounded. */
#include <errno.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "harness/harness-ctl.h"
#include "harness/harness-daemon.h"
#include "harness/harness.h"

#define MAILBOX "/var/mail/root"

/* dma's spool and mailboxes, as its Debian package sets them up, on tmpfs
 * in a mount namespace of this test's own. */
static void private_mail_dirs(void)
{
        ck_assert_msg(unshare(CLONE_NEWNS) == 0, "unshare(CLONE_NEWNS): %s (the test needs root)", strerror(errno));
        ck_assert_int_eq(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0);
        ck_assert_msg(mount("tmpfs", "/var/mail", "tmpfs", 0, "mode=2775") == 0, "tmpfs on /var/mail: %s",
                      strerror(errno));
        ck_assert_msg(mount("tmpfs", "/var/spool", "tmpfs", 0, "mode=0755") == 0, "tmpfs on /var/spool: %s",
                      strerror(errno));
        struct group *mail = getgrnam("mail");
        ck_assert_msg(mail, "no group 'mail' (base-passwd has one)");
        ck_assert_int_eq(mkdir("/var/spool/dma", 02775), 0);
        ck_assert_int_eq(chown("/var/spool/dma", 0, mail->gr_gid), 0);
        ck_assert_int_eq(chmod("/var/spool/dma", 02775), 0);
        ck_assert_int_eq(chown("/var/mail", 0, mail->gr_gid), 0);
        ck_assert_int_eq(chmod("/var/mail", 02775), 0);
        /* What dma-mbox-create (a setuid helper at a fixed path) would make. */
        FILE *f = fopen(MAILBOX, "we");
        ck_assert_ptr_nonnull(f);
        fclose(f);
        ck_assert_int_eq(chown(MAILBOX, 0, mail->gr_gid), 0);
        ck_assert_int_eq(chmod(MAILBOX, 0660), 0);
}

static const char *dma_path(void)
{
        const char *dma = getenv("TICKD_DMA");
        ck_assert_msg(dma && access(dma, X_OK) == 0, "TICKD_DMA (%s) is not dma: run through make (it fetches dma)",
                      dma ? dma : "unset");
        return dma;
}

/* dma delivers after sendmail has exited and holds flock(LOCK_EX) on
 * the mailbox while it appends: a read under LOCK_SH never sees half a
 * message (CI once read 183,980 bytes of a 262 KiB mail). */
static char *mailbox_read(void)
{
        FILE *f = fopen(MAILBOX, "re");
        ck_assert_ptr_nonnull(f);
        ck_assert_int_eq(flock(fileno(f), LOCK_SH), 0);
        char *text = calloc(1, 1 << 20);
        ck_assert_ptr_nonnull(text);
        size_t n = fread(text, 1, (1 << 20) - 1, f);
        text[n] = '\0';
        fclose(f);
        return text;
}

static int count(const char *haystack, const char *needle)
{
        int n = 0;
        for (const char *p = haystack; (p = strstr(p, needle)); p += strlen(needle))
                n++;
        return n;
}

/* Waits (bounded) until the mailbox holds N messages; returns its text. */
static char *mailbox_wait(int n, int timeout_ms)
{
        long long end = harness_now_ms() + timeout_ms;
        for (;;) {
                char *text = mailbox_read();
                if (count(text, "X-Tickd-Run-Id: ") >= n || harness_now_ms() >= end)
                        return text;
                free(text);
                usleep(50 * 1000);
        }
}

static struct tickd *start_with_sendmail(const char *sendmail)
{
        char conf[4200];
        snprintf(conf, sizeof(conf), "[daemon]\nsendmail = %s\n", sendmail);
        return tickd_start(conf, NULL);
}

static void write_job(struct tickd *t, const char *ini)
{
        int before = tickd_count(t, "event=reloaded");
        tickd_write_job(t, "mail.ini", ini);
        ck_assert(tickd_wait_for(t, "event=reloaded", before + 1, 10000));
}

/* tickctl run JOB; the run id it printed into ID. */
static void ctl_run(const struct tickd *t, const char *job, char id[static 33])
{
        char runtime[512], state[512];
        snprintf(runtime, sizeof(runtime), "%s/runtime", t->dir);
        snprintf(state, sizeof(state), "%s/state", t->dir);
        struct ctl_result r = harness_ctl(
                &(struct ctl_target){ .runtime_base = runtime, .config_dir = t->config_dir, .state_dir = state }, NULL,
                (const char *const[]){ "run", job, NULL });
        ck_assert_msg(r.status == 0, "tickctl run %s: %d: %s", job, r.status, r.err);
        const char *run = strstr(r.out, ", run ");
        ck_assert_msg(run && sscanf(run, ", run %32[0-9a-f]", id) == 1, "no run id in: %s", r.out);
        ctl_result_free(&r);
}

static void stop(struct tickd *t)
{
        int status = tickd_stop(t, SIGTERM, 20000);
        ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "tickd exit status %d; log:\n%s", status,
                      tickd_log_tail(t));
        harness_reap_children(5000); /* dma's delivery, in the background, is reparented to us */
}

/* The one outcome record of run ID, for its fields. */
static const char *record_of(const struct tickd *t, const char *event, const char *id, char *buf, size_t size)
{
        char needle[128];
        snprintf(needle, sizeof(needle), "event=%s job=", event);
        for (const char *p = t->log; (p = strstr(p, needle)); p++) {
                const char *eol = strchrnul(p, '\n');
                const char *run = strstr(p, id);
                if (run && run < eol) {
                        snprintf(buf, size, "%.*s", (int)(eol - p), p);
                        return buf;
                }
        }
        ck_abort_msg("no %s record of run %s in:\n%s", event, id, tickd_log_tail(t));
        return NULL;
}

START_TEST(failing_job_mails_root_once_with_its_output_and_headers)
{
        private_mail_dirs();
        struct tickd *t = start_with_sendmail(dma_path());
        write_job(t, "[fail]\nschedule = @yearly\n"
                     "command = echo the-out-line; echo the-err-line >&2; exit 3\nmail_to = root\n");
        char id[33], rec[4096], want[256];
        ctl_run(t, "fail", id);
        ck_assert(tickd_wait_for(t, "event=failed job=fail ", 1, 20000));
        ck_assert_msg(strstr(record_of(t, "failed", id, rec, sizeof(rec)), " mail=sent "), "record: %s", rec);
        _cleanup_free_ char *box = mailbox_wait(1, 20000);
        stop(t);
        ck_assert_msg(count(box, "X-Tickd-Run-Id: ") == 1, "one mail expected in the mailbox:\n%s", box);
        ck_assert_msg(count(box, "\nFrom ") + (strncmp(box, "From ", 5) == 0) == 1, "mbox:\n%s", box);
        snprintf(want, sizeof(want), "X-Tickd-Run-Id: %s\n", id);
        char host[256] = "";
        gethostname(host, sizeof(host) - 1);
        char subject[512], from[512];
        snprintf(subject, sizeof(subject),
                 "Subject: tickd <root@%s> fail: echo the-out-line; echo the-err-line >&2; exit 3\n", host);
        snprintf(from, sizeof(from), "From: tickd <root@%s>\n", host);
        const char *const expected[] = { "To: root\n",
                                         subject,
                                         from,
                                         want,
                                         "X-Tickd-Job: fail\n",
                                         "X-Tickd-Result: failed\n",
                                         "X-Tickd-Exit-Status: 3\n",
                                         "Auto-Submitted: auto-generated\n",
                                         "\nthe-out-line\n",
                                         "the-err-line\n" };
        for (size_t i = 0; i < sizeof(expected) / sizeof(expected[0]); i++)
                ck_assert_msg(strstr(box, expected[i]), "no '%s' in the mail:\n%s", expected[i], box);
        /* The body comes after the headers: the output is not a header. */
        ck_assert(strstr(box, "X-Tickd-Job: ") < strstr(box, "\nthe-out-line\n"));
        tickd_free(t);
}
END_TEST

/* sendmail runs as the job's user, as cron runs it: dma, setgid mail
 * as packaged, records the real uid it was called by in its Received
 * line, and From names the user. */
START_TEST(mail_goes_out_as_the_job_s_user)
{
        private_mail_dirs();
        char name[64], ini[512], received[128], from[512], host[256] = "";
        uid_t uid;
        harness_user_add("tkml", name, sizeof(name), &uid, NULL);
        gethostname(host, sizeof(host) - 1);
        struct tickd *t = start_with_sendmail(dma_path());
        snprintf(ini, sizeof(ini),
                 "[asuser]\nschedule = @yearly\ncommand = id -un\nuser = %s\nworking_directory = /tmp\n"
                 "mail_to = root\n",
                 name);
        write_job(t, ini);
        char id[33], rec[4096];
        ctl_run(t, "asuser", id);
        ck_assert(tickd_wait_for(t, "event=succeeded job=asuser ", 1, 20000));
        ck_assert_msg(strstr(record_of(t, "succeeded", id, rec, sizeof(rec)), " mail=sent "), "record: %s", rec);
        _cleanup_free_ char *box = mailbox_wait(1, 20000);
        stop(t);
        snprintf(received, sizeof(received), "Received: from %s (uid %u)", name, (unsigned)uid);
        snprintf(from, sizeof(from), "From: tickd <%s@%s>\n", name, host);
        ck_assert_msg(strstr(box, received), "no '%s' in:\n%s", received, box);
        ck_assert_msg(strstr(box, from), "no '%s' in:\n%s", from, box);
        tickd_free(t);
        harness_user_del(name);
}
END_TEST

/* A chatty job's mail is cut at MAIL_BODY_MAX (256 KiB), and says so
 * and where the rest is; lines longer than mail allows (998 bytes) go on
 * on the next line; mail_on = always mails a success too. Of 400 lines
 * of 1000 bytes, each becomes two mail lines (1002 bytes with the
 * newlines): 261 whole lines fit (261,522 bytes), then 622 bytes of
 * the next; that is 261 * 1001 + 622 = 261,883 bytes of output. */
START_TEST(long_output_is_cut_with_a_trailer)
{
        private_mail_dirs();
        struct tickd *t = start_with_sendmail(dma_path());
        /* 400 lines of 1000 bytes and a newline: 400,400 bytes. */
        write_job(t, "[chatty]\nschedule = @yearly\ncommand = head -c 400000 /dev/zero | tr '\\0' x | fold -w 1000\n"
                     "mail_to = root\nmail_on = always\n");
        char id[33], rec[4096], trailer[256];
        ctl_run(t, "chatty", id);
        ck_assert(tickd_wait_for(t, "event=succeeded job=chatty ", 1, 20000));
        ck_assert_msg(strstr(record_of(t, "succeeded", id, rec, sizeof(rec)), " mail=sent "), "record: %s", rec);
        _cleanup_free_ char *box = mailbox_wait(1, 20000);
        stop(t);
        snprintf(trailer, sizeof(trailer),
                 "\n[tickd: output cut after 261883 of 400400 bytes; all of it: tickctl logs chatty --run %s]\n", id);
        const char *at = strstr(box, trailer);
        ck_assert_msg(at, "no trailer '%s' in a mail of %zu bytes", trailer, strlen(box));
        const char *body = strstr(box, "\n\nxxxx");
        ck_assert_msg(body, "no body");
        ck_assert_int_eq(at - (body + 2), 262144);
        for (const char *line = body + 2; line < at;) {
                const char *eol = strchr(line, '\n');
                ck_assert_int_le(eol - line, 998);
                line = eol + 1;
        }
        ck_assert(strstr(box, "X-Tickd-Result: succeeded\n"));
        tickd_free(t);
}
END_TEST

/* mail_on = failure: a run that succeeds sends nothing, though it printed
 * (no sendmail ran: its record has no mail field), while a failing one
 * in the same file does mail: the path works, the success chose not to. */
START_TEST(mail_on_failure_sends_nothing_for_a_success)
{
        private_mail_dirs();
        struct tickd *t = start_with_sendmail(dma_path());
        write_job(t, "[defaults]\nmail_to = root\nmail_on = failure\n\n"
                     "[ok]\nschedule = @yearly\ncommand = echo printed-but-fine\n\n"
                     "[bad]\nschedule = @yearly\ncommand = false\n");
        char ok_id[33], bad_id[33], rec[4096];
        ctl_run(t, "ok", ok_id);
        ck_assert(tickd_wait_for(t, "event=succeeded job=ok ", 1, 20000));
        ctl_run(t, "bad", bad_id);
        ck_assert(tickd_wait_for(t, "event=failed job=bad ", 1, 20000));
        ck_assert_msg(!strstr(record_of(t, "succeeded", ok_id, rec, sizeof(rec)), " mail="), "record: %s", rec);
        ck_assert_msg(strstr(record_of(t, "failed", bad_id, rec, sizeof(rec)), " mail=sent "), "record: %s", rec);
        _cleanup_free_ char *box = mailbox_wait(1, 20000);
        stop(t);
        ck_assert_msg(count(box, "X-Tickd-Run-Id: ") == 1, "exactly bad's mail expected:\n%s", box);
        ck_assert_msg(strstr(box, "X-Tickd-Job: bad\n"), "mail:\n%s", box);
        ck_assert_msg(strstr(box, "[tickd: the run printed nothing]"), "mail:\n%s", box);
        ck_assert_msg(!strstr(box, "printed-but-fine"), "mail:\n%s", box);
        tickd_free(t);
}
END_TEST

/* No sendmail where tickd.conf says: a warning at load naming the job,
 * and the run's record says its mail was not sent, and why; a reloaded
 * tickd.conf puts another in force for the next runs. */
START_TEST(missing_sendmail_warns_at_load_and_records_not_sent)
{
        struct tickd *t = start_with_sendmail("/nonexistent/sendmail");
        write_job(t, "[quiet]\nschedule = @yearly\ncommand = true\n\n"
                     "[loud]\nschedule = @yearly\ncommand = echo hello; exit 1\nmail_to = root\n");
        ck_assert_msg(tickd_wait_for(t,
                                     "no sendmail at /nonexistent/sendmail (No such file or directory): 1 job with "
                                     "mail_to= will send no mail: loud",
                                     1, 10000),
                      "log:\n%s", tickd_log_tail(t));
        char id[33], rec[4096];
        ctl_run(t, "loud", id);
        ck_assert(tickd_wait_for(t, "event=failed job=loud ", 1, 20000));
        record_of(t, "failed", id, rec, sizeof(rec));
        ck_assert_msg(strstr(rec, " mail=not-sent "), "record: %s", rec);
        ck_assert_msg(strstr(rec, "mail_reason=\"no sendmail at /nonexistent/sendmail: No such file or directory\""),
                      "record: %s", rec);
        ck_assert_msg(strstr(rec, "; mail not sent: no sendmail at /nonexistent/sendmail"), "record: %s", rec);
        /* tickd.conf names one that exists: the next load is quiet, and the
         * next run's mail goes (to /bin/true, which takes it and says 0). */
        char tmp[4200], final[4200];
        snprintf(tmp, sizeof(tmp), "%s/tickd.conf.tmp", t->config_dir);
        snprintf(final, sizeof(final), "%s/tickd.conf", t->config_dir);
        free(harness_write_file(t->config_dir, "tickd.conf.tmp", "[daemon]\nsendmail = /bin/true\n"));
        int loads = tickd_count(t, "event=reloaded");
        ck_assert_int_eq(rename(tmp, final), 0);
        ck_assert(tickd_wait_for(t, "sendmail=/bin/true", 1, 10000));
        ck_assert(tickd_wait_for(t, "event=reloaded", loads + 1, 10000));
        ck_assert_int_eq(tickd_count(t, "will send no mail"), 1); /* the first load's warning only */
        ctl_run(t, "loud", id);
        ck_assert(tickd_wait_for(t, "event=failed job=loud ", 2, 20000));
        ck_assert_msg(strstr(record_of(t, "failed", id, rec, sizeof(rec)), " mail=sent "), "record: %s", rec);
        stop(t);
        tickd_free(t);
}
END_TEST

/* A mailer that fails is recorded on the run, whose own outcome stays
 * what the job made it; the daemon goes on (a second run mails again). */
START_TEST(failing_sendmail_is_recorded_and_the_run_keeps_its_outcome)
{
        struct tickd *t = start_with_sendmail("/bin/false");
        write_job(t, "[hello]\nschedule = @yearly\ncommand = echo hello\nmail_to = root\n");
        char first[33], second[33], rec[4096];
        ctl_run(t, "hello", first);
        ck_assert(tickd_wait_for(t, "event=succeeded job=hello ", 1, 20000));
        ctl_run(t, "hello", second);
        ck_assert(tickd_wait_for(t, "event=succeeded job=hello ", 2, 20000));
        const char *ids[] = { first, second };
        for (size_t i = 0; i < 2; i++) {
                record_of(t, "succeeded", ids[i], rec, sizeof(rec));
                ck_assert_msg(strstr(rec, " mail=failed mail_reason=\"/bin/false exited with status 1\" "),
                              "record: %s", rec);
                ck_assert_msg(
                        strstr(rec, "msg=\"run of hello succeeded; mail failed: /bin/false exited with status 1\""),
                        "record: %s", rec);
        }
        stop(t);
        tickd_free(t);
}
END_TEST

static Suite *mail_suite(void)
{
        Suite *s = suite_create("daemon-mail");
        TCase *tc = tcase_create("mail");
        tcase_add_leak_fixture(tc);
        tcase_set_timeout(tc, 90);
        tcase_add_test(tc, failing_job_mails_root_once_with_its_output_and_headers);
        tcase_add_test(tc, mail_on_failure_sends_nothing_for_a_success);
        tcase_add_test(tc, mail_goes_out_as_the_job_s_user);
        tcase_add_test(tc, long_output_is_cut_with_a_trailer);
        tcase_add_test(tc, missing_sendmail_warns_at_load_and_records_not_sent);
        tcase_add_test(tc, failing_sendmail_is_recorded_and_the_run_keeps_its_outcome);
        suite_add_tcase(s, tc);
        return s;
}

TEST_MAIN(mail_suite)
