/* main.c — tickctl: one binary, one sub-command per file of daemon/tickctl/. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cleanup.h"
#include "tickctl/commands.h"

struct ctl_command {
        const char *name;
        int (*run)(int argc, char **argv);
        const char *summary;
};

static const struct ctl_command commands[] = {
        { "check", ctl_check, "validate crontabs and tickd.conf (errors with FILE:LINE)" },
        { "next", ctl_next, "print the next fire times of a schedule expression" },
        { "list", ctl_list, "list jobs with their next and last runs" },
        { "status", ctl_status, "show the daemon's state, or one job's" },
        { "run", ctl_run, "run a job now (--wait: exit with its status)" },
        { "cancel", ctl_cancel, "stop a job's running runs" },
        { "reload", ctl_reload, "reload the crontabs and report per file" },
        { "edit", ctl_edit, "edit a crontab safely, validate, install, reload" },
        { "history", ctl_history, "list finished runs from the journal" },
        { "logs", ctl_logs, "show a job's own output from the journal" },
        { "fleet", ctl_fleet, "show the fleet's nodes and its jobs' last runs, from etcd" },
        { "import", ctl_import, "translate a crontab(5) file into an INI crontab" },
        { "export", ctl_export, "write jobs as systemd timers or Kubernetes CronJobs" },
};

static void usage(FILE *out)
{
        fprintf(out,
                "Usage: tickctl [--user] [--config-dir DIR] [--runtime-dir DIR] COMMAND [OPTIONS...]\n\nCommands:\n");
        for (size_t i = 0; i < ELEMENTSOF(commands); i++)
                fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
        fprintf(out, "\nSee tickctl(1).\n");
}

/* How many words of ARGV, from the first, are global options (as
 * systemctl and git take them: "tickctl --user list"), a value included:
 * "--runtime-dir DIR" is two, "--runtime-dir=DIR" one. 0 for anything else. */
static int global_option_words(int argc, char **argv)
{
        static const struct {
                const char *name;
                bool has_value;
        } options[] = {
                { "--user", false },      { "--json", false },     { "--no-pager", false },
                { "--config-dir", true }, { "--state-dir", true }, { "--runtime-dir", true },
        };
        for (size_t i = 0; i < ELEMENTSOF(options); i++) {
                size_t n = strlen(options[i].name);
                if (strncmp(argv[0], options[i].name, n) != 0)
                        continue;
                if (argv[0][n] == '\0')
                        return options[i].has_value ? (argc > 1 ? 2 : 0) : 1;
                if (argv[0][n] == '=' && options[i].has_value)
                        return 1;
        }
        return 0;
}

/* ARGV with the global options written before the command moved after it,
 * where each command's own parser reads them (and refuses those it does
 * not take). Returns the new argv, as long as ARGV (the caller frees the
 * array, not the strings), or NULL when no command follows them. */
static char **hoist_global_options(int argc, char **argv)
{
        int first = 1, n;
        while (first < argc && (n = global_option_words(argc - first, argv + first)) > 0)
                first += n;
        if (first >= argc)
                return NULL;
        char **out = calloc((size_t)argc + 1, sizeof(*out));
        if (!out)
                return NULL;
        int k = 0;
        out[k++] = argv[0];
        out[k++] = argv[first];
        for (int i = 1; i < first; i++)
                out[k++] = argv[i];
        for (int i = first + 1; i < argc; i++)
                out[k++] = argv[i];
        return out;
}

int main(int argc, char **argv)
{
        _cleanup_free_ char **moved = NULL;
        if (argc > 1 && global_option_words(argc - 1, argv + 1) > 0) {
                /* As if written "tickctl COMMAND --user ...". */
                moved = hoist_global_options(argc, argv);
                if (!moved) {
                        usage(stderr);
                        return 2;
                }
                argv = moved;
        }
        if (argc < 2) {
                usage(stderr);
                return 2;
        }
        if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
                usage(stdout);
                return 0;
        }
        if (strcmp(argv[1], "--version") == 0) {
                printf("tickctl %s\n", TICKD_VERSION);
                return 0;
        }
        for (size_t i = 0; i < ELEMENTSOF(commands); i++)
                if (strcmp(argv[1], commands[i].name) == 0)
                        return commands[i].run(argc - 1, argv + 1);
        fprintf(stderr, "tickctl: unknown command '%s' (see tickctl --help)\n", argv[1]);
        return 2;
}
