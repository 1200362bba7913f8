/* test-command.c — which commands run without a shell (command.h), directly. */
#include <stdlib.h>
#include <string.h>

#include "core/cleanup.h"
#include "core/command.h"
#include "core/strv.h"
#include "harness/harness.h"

static const struct {
        const char *command;
        const char *words; /* NULL: needs the shell; else the words joined by '|' */
} cases[] = {
        { "/bin/true", "/bin/true" },
        { "  /usr/local/bin/backup --full\t/srv  ", "/usr/local/bin/backup|--full|/srv" },
        { "./run.sh a=b --x=1,2 user@host:/p 50% +1", "./run.sh|a=b|--x=1,2|user@host:/p|50%|+1" },
        /* the shell finds these: builtins, functions, PATH */
        { "true", NULL },
        { "echo hi", NULL },
        { "exit 3", NULL },
        /* the shell gives these characters a meaning */
        { "/bin/echo $HOME", NULL },
        { "/bin/echo ~", NULL },
        { "/bin/ls *.txt", NULL },
        { "/bin/ls file?", NULL },
        { "/bin/ls [ab]", NULL },
        { "/bin/echo 'quoted'", NULL },
        { "/bin/echo \"quoted\"", NULL },
        { "/bin/echo back\\slash", NULL },
        { "/bin/true; /bin/false", NULL },
        { "/bin/true && /bin/false", NULL },
        { "/bin/true | /bin/cat", NULL },
        { "/bin/true > /tmp/x", NULL },
        { "/bin/true < /tmp/x", NULL },
        { "/bin/sleep 300 &", NULL },
        { "/bin/echo `id`", NULL },
        { "(/bin/true)", NULL },
        { "/bin/true # comment", NULL },
        { "/bin/echo a\nb", NULL },
        { "/bin/echo {a,b}", NULL },
        { "/bin/echo !x", NULL },
        /* an assignment before the command */
        { "A=/x /bin/true", NULL },
        { "PATH=/bin/x", NULL },
        /* nothing to run */
        { "", NULL },
        { "   ", NULL },
};

START_TEST(splits_only_what_needs_no_shell)
{
        char **argv = (char **)&argv; /* must be reset */
        int r = command_split_simple(cases[_i].command, &argv);
        if (!cases[_i].words) {
                ck_assert_msg(r == 0 && argv == NULL, "'%s' should need the shell", cases[_i].command);
                return;
        }
        ck_assert_msg(r == 1 && argv, "'%s' should need no shell", cases[_i].command);
        char joined[256] = "";
        for (char **a = argv; *a; a++) {
                if (a != argv)
                        strcat(joined, "|");
                strcat(joined, *a);
        }
        ck_assert_str_eq(joined, cases[_i].words);
        strv_free(argv);
}
END_TEST

static Suite *command_suite(void)
{
        Suite *s = suite_create("command");
        TCase *tc = tcase_create("split");
        tcase_add_loop_test(tc, splits_only_what_needs_no_shell, 0, (int)ELEMENTSOF(cases));
        suite_add_tcase(s, tc);
        return s;
}

TEST_MAIN(command_suite)
