/* test-ctl-next.c — `tickctl next` as its man page promises: output
 * format, --after forms, --tz and $TZ, errors and exit codes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "harness/harness.h"

struct cli_case {
        const char *name;
        const char *env_tz; /* NULL: TZ unset */
        const char *args[10];
        int exit_code;
        const char *out; /* exact stdout, or NULL to ignore */
        const char *err; /* exact stderr, or NULL to ignore */
};

static const struct cli_case cases[] = {
        { "default count is one", "UTC", { "--after", "@0", "*/15 * * * *" }, 0, "1970-01-01T00:15:00+00:00\n", "" },
        { "count",
          "UTC",
          { "--after", "@0", "--count", "3", "*/15 * * * *" },
          0,
          "1970-01-01T00:15:00+00:00\n1970-01-01T00:30:00+00:00\n1970-01-01T00:45:00+00:00\n",
          "" },
        { "expression as several words",
          "UTC",
          { "--after", "@0", "0", "0", "1", "1", "*" },
          0,
          "1971-01-01T00:00:00+00:00\n",
          "" },
        { "options after the expression",
          "UTC",
          { "0 0 1 1 *", "--after", "@0" },
          0,
          "1971-01-01T00:00:00+00:00\n",
          "" },
        { "option=value forms",
          NULL,
          { "--tz=Europe/Berlin", "--after=@0", "--count=1", "0 0 1 1 *" },
          0,
          "1971-01-01T00:00:00+01:00\n",
          "" },
        { "gap fires at its end",
          NULL,
          { "--tz", "Europe/Berlin", "--after", "2026-03-29T01:59:00+01:00", "--count", "2", "30 2 * * *" },
          0,
          "2026-03-29T03:00:00+02:00\n2026-03-30T02:30:00+02:00\n",
          "" },
        { "overlap fires once",
          NULL,
          { "--tz", "Europe/Berlin", "--after", "2026-10-24T12:00:00+02:00", "--count", "2", "30 2 * * *" },
          0,
          "2026-10-25T02:30:00+02:00\n2026-10-26T02:30:00+01:00\n",
          "" },
        { "wildcard hour keeps cadence",
          NULL,
          { "--tz", "Europe/Berlin", "--after", "2026-10-25T01:45:00+02:00", "--count", "4", "*/30 * * * *" },
          0,
          "2026-10-25T02:00:00+02:00\n2026-10-25T02:30:00+02:00\n2026-10-25T02:00:00+01:00\n"
          "2026-10-25T02:30:00+01:00\n",
          "" },
        { "after in UTC with Z",
          NULL,
          { "--tz", "Asia/Kathmandu", "--after", "2026-01-01T00:00:00Z", "0 6 * * *" },
          0,
          "2026-01-01T06:00:00+05:45\n",
          "" },
        { "after with compact offset",
          NULL,
          { "--tz", "America/New_York", "--after", "2026-01-01T12:00:00-0500", "0 12 * * *" },
          0,
          "2026-01-02T12:00:00-05:00\n",
          "" },
        { "local after is in the zone",
          NULL,
          { "--tz", "America/New_York", "--after", "2026-01-01 11:59:59", "0 12 * * *" },
          0,
          "2026-01-01T12:00:00-05:00\n",
          "" },
        { "local after without seconds",
          NULL,
          { "--tz", "America/New_York", "--after", "2026-01-01T12:00", "0 12 * * *" },
          0,
          "2026-01-02T12:00:00-05:00\n",
          "" },
        { "local after in a gap",
          NULL,
          { "--tz", "Europe/Berlin", "--after", "2026-03-29 02:30:00", "30 2 * * *" },
          0,
          "2026-03-29T03:00:00+02:00\n",
          "" },
        { "local after in an overlap is its first occurrence",
          NULL,
          { "--tz", "Europe/Berlin", "--after", "2026-10-25 02:30:00", "*/30 * * * *" },
          0,
          "2026-10-25T02:00:00+01:00\n",
          "" },
        { "TZ names the default zone",
          "Australia/Lord_Howe",
          { "--after", "2026-10-03T12:00:00+10:30", "15 2 * * *" },
          0,
          "2026-10-04T02:30:00+11:00\n",
          "" },
        { "TZ with a leading colon",
          ":Asia/Tokyo",
          { "--after", "@0", "0 0 * * *" },
          0,
          "1970-01-02T00:00:00+09:00\n",
          "" },
        { "TZ as a zoneinfo path",
          ":/usr/share/zoneinfo/Asia/Tokyo",
          { "--after", "@0", "0 0 * * *" },
          0,
          "1970-01-02T00:00:00+09:00\n",
          "" },
        { "--tz wins over TZ",
          "Asia/Tokyo",
          { "--tz", "UTC", "--after", "@0", "0 0 * * *" },
          0,
          "1970-01-02T00:00:00+00:00\n",
          "" },
        { "zone in the expression wins",
          "Asia/Tokyo",
          { "--tz", "UTC", "--after", "@0", "*-*-* 00:00 Europe/Berlin" },
          0,
          "1970-01-02T00:00:00+01:00\n",
          "" },
        { "@every",
          "UTC",
          { "--after", "@100", "--count", "2", "@every 1min" },
          0,
          "1970-01-01T00:02:00+00:00\n1970-01-01T00:03:00+00:00\n",
          "" },
        { "calendar shorthand", "UTC", { "--after", "@0", "quarterly" }, 0, "1970-04-01T00:00:00+00:00\n", "" },
        { "fewer than count when the schedule ends",
          "UTC",
          { "--after", "@0", "--count", "5", "1970-01-01 12:00" },
          0,
          "1970-01-01T12:00:00+00:00\n",
          "" },
        { "bad expression", "UTC", { "61 0 * * *" }, 1, "", "tickctl next: minute: 61 is out of range 0-59\n" },
        { "never fires", "UTC", { "0 0 30 2 *" }, 1, "", "tickctl next: '0 0 30 2 *' never fires\n" },
        { "no fire after the time",
          "UTC",
          { "--after", "@1767225600", "2003-03-05" },
          1,
          "",
          "tickctl next: '2003-03-05' never fires after the given time\n" },
        { "@reboot", "UTC", { "@reboot" }, 1, "", "tickctl next: @reboot fires only when tickd starts\n" },
        { "unknown zone in --tz",
          NULL,
          { "--tz", "Mars/Olympus", "@daily" },
          2,
          "",
          "tickctl next: --tz: unknown time zone 'Mars/Olympus'\n" },
        { "unknown zone in TZ",
          "Mars/Olympus",
          { "@daily" },
          2,
          "",
          "tickctl next: TZ: unknown time zone 'Mars/Olympus'\n" },
        { "invalid zone name",
          NULL,
          { "--tz", "../../etc/passwd", "@daily" },
          2,
          "",
          "tickctl next: --tz: '../../etc/passwd' is not a valid time zone\n" },
        { "unknown zone in the expression",
          "UTC",
          { "daily Mars/Olympus" },
          1,
          "",
          "tickctl next: zone: unknown time zone 'Mars/Olympus'\n" },
        { "bad --after",
          "UTC",
          { "--after", "yesterday", "@daily" },
          2,
          "",
          "tickctl next: --after: 'yesterday' is not @EPOCH or an ISO 8601 time (YYYY-MM-DD HH:MM[:SS][+HH:MM])\n" },
        { "impossible --after date", "UTC", { "--after", "2026-02-30 00:00", "@daily" }, 2, "", NULL },
        { "bad --after offset", "UTC", { "--after", "2026-02-01T00:00:00+25:00", "@daily" }, 2, "", NULL },
        { "bad --after epoch", "UTC", { "--after", "@12x", "@daily" }, 2, "", NULL },
        { "bad --count",
          "UTC",
          { "--count", "0", "@daily" },
          2,
          "",
          "tickctl next: --count: '0' is not a number from 1 to 100000\n" },
        { "non-numeric --count", "UTC", { "--count", "lots", "@daily" }, 2, "", NULL },
        { "missing expression",
          "UTC",
          { "--after", "@0" },
          2,
          "",
          "tickctl next: missing EXPRESSION (see tickctl(1))\n" },
        { "unknown option",
          "UTC",
          { "--frobnicate", "@daily" },
          2,
          "",
          "tickctl next: unknown option '--frobnicate'; to pass an expression that starts with '-', put -- "
          "before it\n" },
        /* getopt reads "-1 * * * *" as a cluster of short options */
        { "expression starting with '-'",
          "UTC",
          { "-1 * * * *" },
          2,
          "",
          "tickctl next: unknown option '-1'; to pass an expression that starts with '-', put -- before it\n" },
        { "-- ends the options", "UTC", { "--after", "@0", "--", "--count", "@daily" }, 1, "", NULL },
        { "expression after --",
          "UTC",
          { "--after", "@0", "--", "*/15", "*", "*", "*", "*" },
          0,
          "1970-01-01T00:15:00+00:00\n",
          "" },
        { "missing option value", "UTC", { "@daily", "--tz" }, 2, "", NULL },
};

START_TEST(cli)
{
        const struct cli_case *c = &cases[_i];
        char *argv[16] = { (char *)harness_binary("tickctl"), "next" };
        int n = 2;
        for (int i = 0; i < 10 && c->args[i]; i++)
                argv[n++] = (char *)c->args[i];
        argv[n] = NULL;

        char tz_env[128];
        char *envp[4] = { "LC_ALL=C", NULL, NULL, NULL };
        int e = 1;
        if (c->env_tz) {
                snprintf(tz_env, sizeof(tz_env), "TZ=%s", c->env_tz);
                envp[e++] = tz_env;
        }
        const char *asan = getenv("ASAN_OPTIONS");
        char asan_env[256];
        if (asan) {
                snprintf(asan_env, sizeof(asan_env), "ASAN_OPTIONS=%s", asan);
                envp[e++] = asan_env;
        }

        char *out = NULL, *err = NULL;
        int status = harness_run(argv, envp, &out, &err);
        ck_assert_msg(WIFEXITED(status), "%s: did not exit", c->name);
        ck_assert_msg(WEXITSTATUS(status) == c->exit_code, "%s: exit %d, expected %d (stderr: %s)", c->name,
                      WEXITSTATUS(status), c->exit_code, err);
        if (c->out)
                ck_assert_msg(strcmp(out, c->out) == 0, "%s: stdout\n%s\nexpected\n%s", c->name, out, c->out);
        if (c->err)
                ck_assert_msg(strcmp(err, c->err) == 0, "%s: stderr\n%s\nexpected\n%s", c->name, err, c->err);
        /* every error is exactly one line */
        if (c->exit_code != 0) {
                ck_assert_msg(strlen(err) > 0 && strchr(err, '\n') == err + strlen(err) - 1, "%s: stderr '%s'", c->name,
                              err);
                ck_assert_msg(strncmp(err, "tickctl next: ", 14) == 0, "%s: stderr '%s'", c->name, err);
        }
        free(out);
        free(err);
}
END_TEST

/* Without --after, "now": the first fire is in the future and within the period. */
START_TEST(default_after_is_now)
{
        char *argv[] = {
                (char *)harness_binary("tickctl"), "next", "--tz", "UTC", "--count", "2", "* * * * * *", NULL
        };
        char *out = NULL, *err = NULL;
        time_t before = time(NULL);
        int status = harness_run(argv, NULL, &out, &err);
        ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        int y, mo, d, h, mi, s;
        ck_assert_int_eq(sscanf(out, "%d-%d-%dT%d:%d:%d+00:00", &y, &mo, &d, &h, &mi, &s), 6);
        struct tm tm = { .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi, .tm_sec = s };
        time_t first = timegm(&tm);
        ck_assert_int_gt(first, before);
        ck_assert_int_le(first, time(NULL) + 2);
        free(out);
        free(err);
}
END_TEST

static Suite *ctl_next_suite(void)
{
        Suite *s = suite_create("ctl-next");
        TCase *tc = tcase_create("cli");
        tcase_set_timeout(tc, 30);
        tcase_add_leak_fixture(tc);
        tcase_add_loop_test(tc, cli, 0, sizeof(cases) / sizeof(cases[0]));
        tcase_add_test(tc, default_after_is_now);
        suite_add_tcase(s, tc);
        return s;
}

TEST_MAIN(ctl_next_suite)
