/* main.c — tickctl: one binary, one sub-command per file of daemon/tickctl/. */
#include <stdio.h>
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
};

static void usage(FILE *out)
{
        fprintf(out, "Usage: tickctl COMMAND [OPTIONS...]\n\nCommands:\n");
        for (size_t i = 0; i < ELEMENTSOF(commands); i++)
                fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
        fprintf(out, "\nSee tickctl(1).\n");
}

int main(int argc, char **argv)
{
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
