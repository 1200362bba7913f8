/* import.c — tickctl import: a crontab(5) file as an INI crontab.
 *
 *   tickctl import [--system] [--user NAME] [FILE|-]
 *
 * Works offline: reads FILE (standard input for "-" or none), translates
 * it with core/cron-import.c and prints the INI crontab on standard output
 * — all of it, or, when any line cannot be imported, nothing: the errors
 * go to standard error as FILE:LINE: error: ..., and the exit status is 1. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "core/cron-import.h"
#include "core/crontab.h"
#include "core/fileio.h"
#include "tickctl/commands.h"
#include "tickctl/common.h"

#define USAGE "Usage: tickctl import [--system] [--user NAME] [FILE|-]\n"

struct import_args {
        bool system_format;
        const char *user; /* --user: user = NAME in [defaults] */
        const char *file; /* "-" = standard input */
};

static bool valid_user_name(const char *v)
{
        if (!*v || *v == '-' || strlen(v) > 64)
                return false;
        for (const char *c = v; *c; c++)
                if (!(*c >= 'a' && *c <= 'z') && !(*c >= 'A' && *c <= 'Z') && !(*c >= '0' && *c <= '9') &&
                    !strchr("_-.", *c) && !(*c == '$' && !c[1]))
                        return false;
        return true;
}

/* Returns -1 to go on, else the exit status (--help, a usage error). */
static int import_parse_options(int argc, char **argv, struct import_args *args)
{
        static const struct option options[] = {
                { "system", no_argument, NULL, 's' },
                { "user", required_argument, NULL, 'u' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        *args = (struct import_args){ .file = "-" };
        optind = 0;
        opterr = 0;
        for (int c; (c = getopt_long(argc, argv, ":h", options, NULL)) >= 0;) {
                char buf[8];
                switch (c) {
                case 's': args->system_format = true; break;
                case 'u': args->user = optarg; break;
                case 'h': fputs(USAGE, stdout); return 0;
                case ':': fprintf(stderr, "tickctl import: option '%s' needs a value\n", argv[optind - 1]); return 2;
                default:
                        fprintf(stderr, "tickctl import: unknown option '%s' (see tickctl(1))\n",
                                ctl_refused_option(argv, buf, sizeof(buf)));
                        return 2;
                }
        }
        if (argc - optind > 1) {
                fprintf(stderr, "tickctl import: one FILE at a time (see tickctl(1))\n");
                return 2;
        }
        if (optind < argc)
                args->file = argv[optind];
        if (args->system_format && args->user) {
                fprintf(stderr, "tickctl import: --user is for a user's crontab; a system crontab names the user "
                                "on every line\n");
                return 2;
        }
        /* "tickctl --user import FILE" reads as --user FILE: rather than
         * wait for a crontab typed at the terminal, say what happened. */
        if (strcmp(args->file, "-") == 0 && isatty(STDIN_FILENO)) {
                fprintf(stderr, "tickctl import: no FILE, and standard input is a terminal%s%s%s\n",
                        args->user ? " (--user takes a NAME: was '" : "", args->user ? args->user : "",
                        args->user ? "' meant as the FILE?)" : "");
                return 2;
        }
        if (args->user && !valid_user_name(args->user)) {
                fprintf(stderr, "tickctl import: --user: '%s' is not a user name\n", args->user);
                return 2;
        }
        return -1;
}

/* FILE's bytes, or standard input's for "-". Prints why not. */
static int read_input(const char *file, char **data, size_t *size)
{
        _cleanup_close_ int fd = -1;
        if (strcmp(file, "-") != 0 && (fd = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0) {
                fprintf(stderr, "tickctl import: %s: %s\n", file, strerror(errno));
                return -errno;
        }
        int r = fileio_read_all(fd >= 0 ? fd : STDIN_FILENO, CRONTAB_MAX_FILE_SIZE, data, size);
        if (r < 0)
                fprintf(stderr, "tickctl import: %s: %s\n", strcmp(file, "-") == 0 ? "standard input" : file,
                        r == -EFBIG ? "file too large" : strerror(-r));
        return r;
}

static void cleanup_tz_cache(struct tz_cache **c)
{
        if (*c)
                tz_cache_free(*c);
}

int ctl_import(int argc, char **argv)
{
        struct import_args args;
        int r = import_parse_options(argc, argv, &args);
        if (r >= 0)
                return r;
        _cleanup_free_ char *data = NULL;
        size_t size = 0;
        if (read_input(args.file, &data, &size) < 0)
                return 2;

        __attribute__((cleanup(cleanup_tz_cache))) struct tz_cache *zones = tz_cache_new(NULL);
        if (!zones)
                return fprintf(stderr, "tickctl import: out of memory\n"), 2;
        struct diagnostics diags = { 0 };
        struct cron_import imp;
        r = cron_import_parse(args.file, data, size, args.system_format, zones, &imp, &diags);
        for (size_t i = 0; i < diags.count; i++)
                diag_fprint(stderr, &diags.items[i]);
        diag_free(&diags);
        if (r == -EINVAL)
                return 1;
        _cleanup_free_ char *text = NULL;
        if (r == 0)
                r = cron_import_format(&imp, args.user, &text);
        cron_import_free(&imp);
        if (r < 0)
                return fprintf(stderr, "tickctl import: %s\n", strerror(-r)), 2;
        if (fputs(text, stdout) < 0 || fflush(stdout) != 0)
                return fprintf(stderr, "tickctl import: cannot write the result: %s\n", strerror(errno)), 2;
        return 0;
}
