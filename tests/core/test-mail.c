/* test-mail.c — the mail cron users expect, as data: which runs mail,
 * which mail_to values are addresses (and the crontab errors naming
 * FILE:LINE for the others), mail_to and mail_on in [defaults] and jobs,
 * tickd.conf's sendmail, and the header block: cron's headers, nothing
 * injectable through a command, a long command cut, a Subject that is not
 * ASCII as RFC 2047 encoded words. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/base64.h"
#include "core/conf.h"
#include "core/crontab.h"
#include "core/mail.h"
#include "harness/harness.h"

START_TEST(mail_on_output_failure_always)
{
        /* (output, succeeded) → wanted, for output, failure, always */
        ck_assert(!mail_wanted(MAIL_ON_OUTPUT, false, true));
        ck_assert(!mail_wanted(MAIL_ON_OUTPUT, false, false)); /* cron: a silent failure sends nothing */
        ck_assert(mail_wanted(MAIL_ON_OUTPUT, true, true));
        ck_assert(!mail_wanted(MAIL_ON_FAILURE, true, true));
        ck_assert(mail_wanted(MAIL_ON_FAILURE, false, false));
        ck_assert(mail_wanted(MAIL_ON_ALWAYS, false, true));
        for (int on = MAIL_ON_OUTPUT; on <= MAIL_ON_ALWAYS; on++)
                ck_assert_int_eq(mail_on_from_name(mail_on_name((enum mail_on)on)), on);
        ck_assert_int_eq(mail_on_from_name("never"), -EINVAL);
}
END_TEST

static const char *const good_addresses[] = {
        "root",
        "ops@example.com",
        "a.b+cron@mail.example.org",
        "root, ops@example.com",
        "root,ops@example.com,x@y",
        "o'brien@example.com",
};

START_TEST(addresses_are_accepted)
{
        const char *why = mail_address_problem(good_addresses[_i]);
        ck_assert_msg(!why, "'%s': %s", good_addresses[_i], why);
}
END_TEST

static const struct {
        const char *value, *why;
} bad_addresses[] = {
        { "root\tops", "control character" },       { "root\r", "control character" },
        { "root,,ops", "empty address" },           { "root,", "empty address" },
        { "@example.com", "without a local part" }, { "-oQ/tmp", "starts with '-'" },
        { "a b@example.com", "local part" },        { "<root>", "local part" },
        { "root@", "nothing after '@'" },           { "root@exa mple.com", "domain" },
        { "root@example..com", "domain" },          { "a..b@example.com", "local part" },
        { "root@example.com\"", "domain" },
};

START_TEST(non_addresses_are_refused_with_why)
{
        const char *why = mail_address_problem(bad_addresses[_i].value);
        ck_assert_msg(why && strstr(why, bad_addresses[_i].why), "'%s': %s", bad_addresses[_i].value,
                      why ? why : "accepted");
}
END_TEST

START_TEST(over_long_mail_to_is_refused)
{
        char v[MAIL_TO_MAX + 2];
        memset(v, 'a', sizeof(v) - 1);
        v[sizeof(v) - 1] = '\0';
        ck_assert_ptr_nonnull(mail_address_problem(v));
        v[MAIL_TO_MAX] = '\0';
        ck_assert_ptr_null(mail_address_problem(v));
}
END_TEST

static struct tz_cache *zones;

static void zones_setup(void)
{
        zones = tz_cache_new(NULL);
        ck_assert_ptr_nonnull(zones);
}

static void zones_teardown(void)
{
        tz_cache_free(zones);
        zones = NULL;
}

static int load(const char *text, struct crontab_file **f, struct diagnostics *d)
{
        struct crontab_options o = { .system_mode = true, .zones = zones };
        return crontab_load_buffer("t.ini", text, strlen(text), &o, f, d);
}

START_TEST(mail_keys_are_read_and_inherited_from_defaults)
{
        struct crontab_file *f = NULL;
        struct diagnostics d = { 0 };
        ck_assert_int_eq(load("[defaults]\nmail_to = ops@example.com\nmail_on = failure\n\n"
                              "[a]\nschedule = @daily\ncommand = true\n\n"
                              "[b]\nschedule = @daily\ncommand = true\nmail_to =\n\n"
                              "[c]\nschedule = @daily\ncommand = true\nmail_to = root\nmail_on = always\n",
                              &f, &d),
                         0);
        ck_assert_uint_eq(d.count, 0);
        ck_assert_uint_eq(f->n_jobs, 3);
        ck_assert_str_eq(job_extra(f->jobs[0])->mail_to, "ops@example.com");
        ck_assert_int_eq(job_extra(f->jobs[0])->mail_on, MAIL_ON_FAILURE);
        ck_assert_ptr_null(job_extra(f->jobs[1])->mail_to); /* empty: no mail, whatever [defaults] says */
        ck_assert_str_eq(job_extra(f->jobs[2])->mail_to, "root");
        ck_assert_int_eq(job_extra(f->jobs[2])->mail_on, MAIL_ON_ALWAYS);
        crontab_file_free(f);
        ck_assert_int_eq(load("[j]\nschedule = @daily\ncommand = true\n", &f, &d), 0);
        ck_assert_ptr_null(job_extra(f->jobs[0])->mail_to);
        ck_assert_int_eq(job_extra(f->jobs[0])->mail_on, MAIL_ON_OUTPUT); /* cron's default */
        crontab_file_free(f);
}
END_TEST

static const struct {
        const char *text;
        unsigned line;
        const char *message;
} key_errors[] = {
        { "[j]\nschedule = @daily\ncommand = true\nmail_to = root ops\n", 4,
          "mail_to: 'root ops' is not a mail address or a list of them separated by commas: a character" },
        { "[defaults]\nmail_to = -froot\n", 2, "starts with '-'" },
        { "[j]\nschedule = @daily\ncommand = true\nmail_on = falure\n", 4,
          "mail_on: 'falure' is not one of output, failure, always (did you mean 'failure'?)" },
        { "[j]\nschedule = @daily\ncommand = true\nmailto = root\n", 4,
          "unknown key 'mailto' (did you mean 'mail_to'?)" },
};

START_TEST(bad_mail_keys_are_errors_at_their_line)
{
        struct crontab_file *f = (void *)1;
        struct diagnostics d = { 0 };
        ck_assert_int_eq(load(key_errors[_i].text, &f, &d), -EINVAL);
        ck_assert_ptr_null(f);
        bool found = false;
        for (size_t i = 0; i < d.count; i++)
                found = found || (d.items[i].severity == DIAG_ERROR && d.items[i].line == key_errors[_i].line &&
                                  strstr(d.items[i].message, key_errors[_i].message));
        if (!found)
                for (size_t i = 0; i < d.count; i++)
                        diag_fprint(stderr, &d.items[i]);
        ck_assert_msg(found, "no error at line %u: %s", key_errors[_i].line, key_errors[_i].message);
        diag_free(&d);
}
END_TEST

/* tickctl check (check_commands) warns at the mail_to line, or at the
 * job's header when [defaults] gave it, while sendmail cannot be run. */
START_TEST(check_warns_when_sendmail_is_missing)
{
        const char *text = "[defaults]\nmail_to = root\n\n[a]\nschedule = @daily\ncommand = true\n\n"
                           "[b]\nschedule = @daily\ncommand = true\nmail_to = ops@example.com\n";
        const char *const mailers[] = { "/nonexistent/sendmail", "/bin/sh" };
        for (size_t m = 0; m < 2; m++) {
                struct crontab_options o = {
                        .system_mode = true, .zones = zones, .check_commands = true, .sendmail = mailers[m]
                };
                struct crontab_file *f = NULL;
                struct diagnostics d = { 0 };
                ck_assert_int_eq(crontab_load_buffer("t.ini", text, strlen(text), &o, &f, &d), 0);
                ck_assert_uint_eq(d.count, m == 0 ? 2 : 0);
                for (size_t i = 0; i < d.count; i++) {
                        ck_assert_int_eq(d.items[i].severity, DIAG_WARNING);
                        ck_assert_str_eq(d.items[i].message, "mail_to: no sendmail at /nonexistent/sendmail (No such "
                                                             "file or directory): this job's mail will not be sent");
                }
                if (m == 0) {
                        ck_assert_uint_eq(d.items[0].line, 4); /* [a], from [defaults] */
                        ck_assert_uint_eq(d.items[1].line, 11);
                }
                crontab_file_free(f);
                diag_free(&d);
        }
}
END_TEST

START_TEST(sendmail_is_configurable_and_must_be_absolute)
{
        struct daemon_config c;
        struct diagnostics d = { 0 };
        ck_assert_int_eq(daemon_config_load_buffer("tickd.conf", "", 0, &c, &d), 0);
        ck_assert_str_eq(c.sendmail, "/usr/sbin/sendmail");
        daemon_config_free(&c);
        const char *set = "[daemon]\nsendmail = /opt/mta/bin/sendmail\n";
        ck_assert_int_eq(daemon_config_load_buffer("tickd.conf", set, strlen(set), &c, &d), 0);
        ck_assert_str_eq(c.sendmail, "/opt/mta/bin/sendmail");
        daemon_config_free(&c);
        const char *bad = "[daemon]\nsendmail = sendmail\n";
        ck_assert_int_eq(daemon_config_load_buffer("tickd.conf", bad, strlen(bad), &c, &d), -EINVAL);
        ck_assert_uint_eq(d.count, 1);
        ck_assert_uint_eq(d.items[0].line, 2);
        ck_assert_msg(strstr(d.items[0].message, "sendmail: 'sendmail' is not an absolute path"), "%s",
                      d.items[0].message);
        daemon_config_free(&c);
        diag_free(&d);
}
END_TEST

static char *headers_of(const struct mail_message *m)
{
        char *text = NULL;
        size_t len = 0;
        ck_assert_int_eq(mail_format_headers(m, &text, &len), 0);
        ck_assert_uint_eq(len, strlen(text));
        return text;
}

static struct mail_message message(const char *command)
{
        return (struct mail_message){ .user = "alice",
                                      .host = "web1",
                                      .to = "ops@example.com",
                                      .job = "backup",
                                      .command = command,
                                      .run_id = "0123456789abcdef0123456789abcdef",
                                      .result = "failed",
                                      .has_exit_status = true,
                                      .exit_status = 2 };
}

START_TEST(headers_are_cron_s_with_tickd_fields)
{
        struct mail_message m = message("/usr/local/bin/backup --all");
        char *h = headers_of(&m);
        ck_assert_str_eq(h, "From: tickd <alice@web1>\n"
                            "To: ops@example.com\n"
                            "Subject: tickd <alice@web1> backup: /usr/local/bin/backup --all\n"
                            "MIME-Version: 1.0\n"
                            "Content-Type: text/plain; charset=UTF-8\n"
                            "Content-Transfer-Encoding: 8bit\n"
                            "Auto-Submitted: auto-generated\n"
                            "Precedence: bulk\n"
                            "X-Tickd-Job: backup\n"
                            "X-Tickd-Run-Id: 0123456789abcdef0123456789abcdef\n"
                            "X-Tickd-Result: failed\n"
                            "X-Tickd-Exit-Status: 2\n"
                            "\n");
        free(h);
        m.has_exit_status = false;
        m.signal = 9;
        h = headers_of(&m);
        ck_assert(strstr(h, "X-Tickd-Signal: 9\n") && !strstr(h, "Exit-Status"));
        free(h);
}
END_TEST

/* A command is the user's text: a newline in it (a continued command=)
 * or any control character must not start a header of its own. */
START_TEST(command_cannot_inject_a_header)
{
        struct mail_message m = message("echo a\nBcc: victim@example.com\r\nX: y");
        m.host = "evil\nhost";
        char *h = headers_of(&m);
        ck_assert_ptr_null(strstr(h, "\nBcc:"));
        ck_assert_ptr_null(strstr(h, "\nX: y"));
        ck_assert_ptr_null(strstr(h, "\nhost"));
        ck_assert_ptr_nonnull(
                strstr(h, "Subject: tickd <alice@evil host> backup: echo a Bcc: victim@example.com  X: y\n"));
        free(h);
}
END_TEST

START_TEST(long_command_is_cut_in_the_subject)
{
        char cmd[400];
        memset(cmd, 'c', sizeof(cmd) - 1);
        cmd[sizeof(cmd) - 1] = '\0';
        struct mail_message m = message(cmd);
        char *h = headers_of(&m);
        char want[300];
        snprintf(want, sizeof(want), "backup: %.*s...\n", MAIL_SUBJECT_COMMAND_MAX, cmd);
        ck_assert_msg(strstr(h, want), "%s", h);
        free(h);
}
END_TEST

/* Non-ASCII: encoded words of whole characters, each line within 76
 * (RFC 2047). */
START_TEST(non_ascii_subject_is_encoded_words)
{
        struct mail_message m = message("echo 'Grüße aus Köln — ünïcödé everywhere, more than forty-five bytes'");
        char *h = headers_of(&m);
        const char *s = strstr(h, "Subject: =?UTF-8?B?");
        ck_assert_msg(s, "%s", h);
        const char *end = strstr(s, "\nMIME-Version:");
        ck_assert_ptr_nonnull(end);
        /* Decode every word back and join: the subject text exactly. */
        char joined[512] = "";
        int words = 0;
        for (const char *w = s; (w = strstr(w, "=?UTF-8?B?")) && w < end; words++) {
                w += 10;
                const char *q = strstr(w, "?=");
                char *raw;
                size_t n;
                ck_assert_int_eq(base64_decode(w, (size_t)(q - w), &raw, &n), 0);
                strncat(joined, raw, n);
                free(raw);
                w = q;
        }
        ck_assert_int_ge(words, 2);
        ck_assert_str_eq(joined, "tickd <alice@web1> backup: echo 'Grüße aus Köln — ünïcödé everywhere, more than "
                                 "forty-five bytes'");
        for (const char *line = s; line < end;) {
                const char *eol = strchr(line, '\n');
                ck_assert_int_le(eol - line, 76);
                line = eol + 1;
                ck_assert(line >= end || *line == ' '); /* folded: a continuation */
        }
        free(h);
}
END_TEST

static Suite *mail_suite(void)
{
        Suite *s = suite_create("mail");
        TCase *tc = tcase_create("mail");
        tcase_add_checked_fixture(tc, zones_setup, zones_teardown);
        tcase_add_test(tc, mail_on_output_failure_always);
        tcase_add_loop_test(tc, addresses_are_accepted, 0, sizeof(good_addresses) / sizeof(good_addresses[0]));
        tcase_add_loop_test(tc, non_addresses_are_refused_with_why, 0,
                            sizeof(bad_addresses) / sizeof(bad_addresses[0]));
        tcase_add_test(tc, over_long_mail_to_is_refused);
        tcase_add_test(tc, mail_keys_are_read_and_inherited_from_defaults);
        tcase_add_loop_test(tc, bad_mail_keys_are_errors_at_their_line, 0, sizeof(key_errors) / sizeof(key_errors[0]));
        tcase_add_test(tc, sendmail_is_configurable_and_must_be_absolute);
        tcase_add_test(tc, check_warns_when_sendmail_is_missing);
        tcase_add_test(tc, headers_are_cron_s_with_tickd_fields);
        tcase_add_test(tc, command_cannot_inject_a_header);
        tcase_add_test(tc, long_command_is_cut_in_the_subject);
        tcase_add_test(tc, non_ascii_subject_is_encoded_words);
        suite_add_tcase(s, tc);
        return s;
}

TEST_MAIN(mail_suite)
