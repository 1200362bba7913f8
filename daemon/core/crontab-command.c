/* crontab-command.c — does a job's command name a program its user can
 * run? Used for warnings only: the shell has the last word. */
#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "core/crontab-internal.h"

/* Words the shell handles itself: nothing to look up in PATH. */
static const char *const shell_words[] = {
        "!",        ".",      ":",    "[",     "[[",       "alias",   "bg",     "break",  "case",  "cd",
        "continue", "do",     "done", "echo",  "elif",     "else",    "esac",   "eval",   "exit",  "export",
        "false",    "fg",     "fi",   "for",   "function", "getopts", "hash",   "if",     "jobs",  "kill",
        "local",    "printf", "pwd",  "read",  "readonly", "return",  "select", "set",    "shift", "source",
        "test",     "then",   "time", "times", "trap",     "true",    "type",   "ulimit", "umask", "unalias",
        "unset",    "until",  "wait", "while", "{",        "}",
};

static bool is_shell_word(const char *w)
{
        for (size_t i = 0; i < ELEMENTSOF(shell_words); i++)
                if (strcmp(w, shell_words[i]) == 0)
                        return true;
        return false;
}

static bool is_assignment(const char *w)
{
        const char *eq = strchr(w, '=');
        if (!eq || eq == w || isdigit((unsigned char)*w))
                return false;
        for (const char *c = w; c < eq; c++)
                if (!isalnum((unsigned char)*c) && *c != '_')
                        return false;
        return true;
}

bool crontab_command_program(const char *command, char *out, size_t size)
{
        const char *p = command;
        for (;;) {
                while (*p == ' ' || *p == '\t')
                        p++;
                size_t n = strcspn(p, " \t\n");
                if (n == 0 || n >= size)
                        return false;
                char word[4096];
                if (n >= sizeof(word))
                        return false;
                memcpy(word, p, n);
                word[n] = '\0';
                p += n;
                if (is_assignment(word)) {
                        /* A quoted or expanded value could hide anything. */
                        if (strpbrk(word, "'\"\\$`"))
                                return false;
                        continue;
                }
                if (strpbrk(word, "'\"\\$`*?[]{}()<>|&;~#"))
                        return false;
                if (strcmp(word, "exec") == 0 || strcmp(word, "command") == 0) {
                        /* "command -v x" asks whether x exists; "exec -a NAME"
                         * renames it: no program to look for. */
                        const char *next = p + strspn(p, " \t");
                        if (*next == '-')
                                return false;
                        continue;
                }
                if (is_shell_word(word))
                        return false;
                memcpy(out, word, n + 1);
                return true;
        }
}

struct credentials {
        uid_t uid;
        gid_t groups[256];
        int n_groups;
};

static bool can_execute(const struct stat *st, const struct credentials *c)
{
        if (!S_ISREG(st->st_mode))
                return false;
        if (c->uid == 0)
                return st->st_mode & 0111;
        if (st->st_uid == c->uid)
                return st->st_mode & S_IXUSR;
        for (int i = 0; i < c->n_groups; i++)
                if (c->groups[i] == st->st_gid)
                        return st->st_mode & S_IXGRP;
        return st->st_mode & S_IXOTH;
}

/* The job's user and its groups; false when they cannot be told. */
static bool job_credentials(const struct job *job, const struct crontab_options *o, struct credentials *c, char *name,
                            size_t size)
{
        char buf[16384];
        struct passwd pw, *res = NULL;
        if (job->user)
                getpwnam_r(job->user, &pw, buf, sizeof(buf), &res);
        else
                getpwuid_r(o->system_mode ? 0 : o->owner_uid, &pw, buf, sizeof(buf), &res);
        if (!res)
                return false;
        c->uid = pw.pw_uid;
        c->n_groups = ELEMENTSOF(c->groups);
        if (getgrouplist(pw.pw_name, pw.pw_gid, c->groups, &c->n_groups) < 0)
                c->n_groups = 0;
        if (job_extra(job)->group) {
                struct group gr, *gres = NULL;
                if (getgrnam_r(job_extra(job)->group, &gr, buf, sizeof(buf), &gres) == 0 && gres &&
                    c->n_groups < (int)ELEMENTSOF(c->groups))
                        c->groups[c->n_groups++] = gr.gr_gid;
        }
        snprintf(name, size, "%s", pw.pw_name);
        return true;
}

static const char *job_path(const struct job *job, const struct crontab_options *o)
{
        if (job->environment)
                for (char **e = job->environment; *e; e++)
                        if (strncmp(*e, "PATH=", 5) == 0)
                                return *e + 5;
        return o->default_path ? o->default_path : CRONTAB_DEFAULT_PATH;
}

int crontab_command_problem(const struct job *job, const struct crontab_options *options, char *why, size_t size)
{
        char program[4096], user[256], path[8192];
        struct credentials c;
        struct stat st;

        if (!crontab_command_program(job->command, program, sizeof(program)))
                return 0;
        if (!job_credentials(job, options, &c, user, sizeof(user)))
                return 0;
        if (strchr(program, '/')) {
                if (program[0] != '/') {
                        /* Relative to the working directory, which defaults to a home we do not know. */
                        if (!job_extra(job)->working_directory)
                                return 0;
                        snprintf(path, sizeof(path), "%s/%s", job_extra(job)->working_directory, program);
                } else
                        snprintf(path, sizeof(path), "%s", program);
                if (stat(path, &st) < 0) {
                        snprintf(why, size, "program '%s' not found (%s)", path, strerror(errno));
                        return 1;
                }
                if (!can_execute(&st, &c)) {
                        snprintf(why, size, "program '%s' is not executable by user %s", path, user);
                        return 1;
                }
                return 0;
        }
        const char *search = job_path(job, options);
        bool seen = false;
        for (const char *d = search; *d;) {
                size_t n = strcspn(d, ":");
                if (n > 0 && d[0] == '/' && n < sizeof(path) - strlen(program) - 2) {
                        snprintf(path, sizeof(path), "%.*s/%s", (int)n, d, program);
                        if (stat(path, &st) == 0) {
                                if (can_execute(&st, &c))
                                        return 0;
                                seen = true;
                        }
                }
                d += n;
                if (*d == ':')
                        d++;
        }
        if (seen)
                snprintf(why, size, "program '%s' is in PATH but not executable by user %s", program, user);
        else
                snprintf(why, size, "program '%s' not found in PATH (%s)", program, search);
        return 1;
}
