/* test-journal-empty.c — tickctl history and logs say why they show
 * nothing when the reason is not the query: a journal with no entries (no
 * journald, or a tickd that logs to stderr as `make run` starts it). They
 * then exit 1 and print no empty table. */
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "harness/harness.h"

struct ctl_output {
        int status;
        char *out, *err;
};

/* Runs tickctl ARGS... --directory <an empty directory>. */
static struct ctl_output ctl_on_empty_journal(const char *const *args)
{
        char *dir = harness_tmpdir();
        char *argv[8];
        size_t n = 0;
        argv[n++] = (char *)harness_binary("tickctl");
        for (; *args; args++)
                argv[n++] = (char *)*args;
        argv[n++] = "--directory";
        argv[n++] = dir;
        argv[n] = NULL;
        struct ctl_output r = { 0 };
        int status = harness_run(argv, NULL, &r.out, &r.err);
        r.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        harness_tmpdir_remove(dir);
        return r;
}

static void ctl_output_free(struct ctl_output *r)
{
        free(r->out);
        free(r->err);
}

START_TEST(history_says_the_journal_is_empty)
{
        struct ctl_output r = ctl_on_empty_journal((const char *const[]){ "history", NULL });
        ck_assert_int_eq(r.status, 1);
        ck_assert_msg(strstr(r.err, "tickctl history: the journal in ") && strstr(r.err, "has no entries"), "%s",
                      r.err);
        ck_assert_msg(strstr(r.err, "standard error"), "%s", r.err);
        ck_assert_ptr_null(strstr(r.out, "runs listed"));
        ctl_output_free(&r);
}
END_TEST

START_TEST(logs_says_the_journal_is_empty)
{
        struct ctl_output r = ctl_on_empty_journal((const char *const[]){ "logs", "hello", NULL });
        ck_assert_int_eq(r.status, 1);
        ck_assert_msg(strstr(r.err, "tickctl logs: the journal in ") && strstr(r.err, "has no entries"), "%s", r.err);
        ck_assert_str_eq(r.out, "");
        ctl_output_free(&r);
}
END_TEST

static Suite *journal_empty_suite(void)
{
        Suite *s = suite_create("journal-empty");
        TCase *tc = tcase_create("empty");
        tcase_add_test(tc, history_says_the_journal_is_empty);
        tcase_add_test(tc, logs_says_the_journal_is_empty);
        suite_add_tcase(s, tc);
        return s;
}

TEST_MAIN(journal_empty_suite)
