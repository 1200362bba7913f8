/* cron-import.c — crontab(5) lines into tickd jobs; see cron-import.h.
 *
 * The reading follows Vixie cron as Debian ships it (cron 3.0pl1) where
 * crons differ: an environment line is a word, optional blanks and '='
 * (else the line is an entry); the '%' rules are Debian's do_command.c's,
 * byte for byte. */
#include "core/cron-import.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cleanup.h"
#include "core/inifile.h"
#include "core/mail.h"
#include "core/schedule.h"
#include "core/strv.h"

/* RANDOM_DELAY above a year is surely a mistake (cronie caps nothing). */
#define RANDOM_DELAY_MAX_MINUTES (366 * 24 * 60)

/* What the lines above the current one have set. */
struct import_parse {
        const char *source;
        bool system_format;
        struct tz_cache *zones;
        struct diagnostics *diags;
        struct cron_import *out;
        size_t jobs_cap;
        char **env; /* every NAME=value so far, cron's own variables included */
        size_t n_env;
        size_t n_errors;
        int error; /* -ENOMEM */
};

#define IMPORT_ERROR(ip, line, ...)                                                           \
        do {                                                                                  \
                (ip)->n_errors++;                                                             \
                if (diag_add((ip)->diags, DIAG_ERROR, (ip)->source, (line), __VA_ARGS__) < 0) \
                        (ip)->error = -ENOMEM;                                                \
        } while (0)

static bool is_blank(char c) { return c == ' ' || c == '\t'; }

static const char *skip_blanks(const char *s)
{
        while (is_blank(*s))
                s++;
        return s;
}

static bool valid_env_name(const char *v)
{
        if (!*v || isdigit((unsigned char)*v))
                return false;
        for (; *v; v++)
                if (!isalnum((unsigned char)*v) && *v != '_')
                        return false;
        return true;
}

/* The first control character of S other than a tab, or 0. */
static unsigned char control_char(const char *s)
{
        for (; *s; s++)
                if ((unsigned char)*s < 0x20 && *s != '\t')
                        return (unsigned char)*s;
                else if (*s == 0x7f)
                        return 0x7f;
        return 0;
}

static bool valid_utf8(const char *s)
{
        const unsigned char *p = (const unsigned char *)s;
        while (*p) {
                int n = *p < 0x80             ? 0
                        : (*p & 0xe0) == 0xc0 ? 1
                        : (*p & 0xf0) == 0xe0 ? 2
                        : (*p & 0xf8) == 0xf0 ? 3
                                              : -1;
                if (n < 0 || (n == 1 && *p < 0xc2) || (n == 3 && *p > 0xf4))
                        return false;
                for (int i = 1; i <= n; i++)
                        if ((p[i] & 0xc0) != 0x80)
                                return false;
                /* overlong forms, surrogates, past U+10FFFF: the loader refuses them too */
                if ((p[0] == 0xe0 && p[1] < 0xa0) || (p[0] == 0xed && p[1] >= 0xa0) || (p[0] == 0xf0 && p[1] < 0x90) ||
                    (p[0] == 0xf4 && p[1] >= 0x90))
                        return false;
                p += n + 1;
        }
        return true;
}

/* "NAME = value" as Vixie's load_env() reads it: the name is a quoted
 * string or runs to '=' or a blank; blanks around '='; trailing blanks go;
 * one pair of matching quotes around the value goes. Returns 1 with the
 * parts, 0 when LINE is not an assignment (it is an entry), -ENOMEM. */
static int env_line_parse(const char *line, char **name, char **value)
{
        const char *s = skip_blanks(line), *start = s, *end;
        if (*s == '"' || *s == '\'') {
                end = strchr(s + 1, *s);
                if (!end)
                        return 0;
                start = s + 1;
                s = end + 1;
        } else {
                while (*s && *s != '=' && !is_blank(*s))
                        s++;
                end = s;
        }
        if (end == start)
                return 0;
        s = skip_blanks(s);
        if (*s != '=')
                return 0;
        s = skip_blanks(s + 1);
        size_t len = strlen(s);
        while (len > 0 && is_blank(s[len - 1]))
                len--;
        if (len >= 2 && (s[0] == '"' || s[0] == '\'') && s[len - 1] == s[0])
                s++, len -= 2;
        _cleanup_free_ char *n = strndup(start, (size_t)(end - start)), *v = strndup(s, len);
        if (!n || !v)
                return -ENOMEM;
        *name = TAKE_PTR(n);
        *value = TAKE_PTR(v);
        return 1;
}

static const char *env_get(const struct import_parse *ip, const char *name)
{
        size_t n = strlen(name);
        for (size_t i = 0; i < ip->n_env; i++)
                if (strncmp(ip->env[i], name, n) == 0 && ip->env[i][n] == '=')
                        return ip->env[i] + n + 1;
        return NULL;
}

/* "value" with systemd's escapes, as unquote_value() reads it back. */
static char *quote_value(const char *v)
{
        char *out = malloc(2 * strlen(v) + 3), *p = out;
        if (!out)
                return NULL;
        *p++ = '"';
        for (; *v; v++) {
                if (*v == '\n' || *v == '\t' || *v == '"' || *v == '\\') {
                        *p++ = '\\';
                        *p++ = *v == '\n' ? 'n' : *v == '\t' ? 't' : *v;
                } else
                        *p++ = *v;
        }
        strcpy(p, "\"");
        return out;
}

/* NAME=VALUE as environment= must be written to give it back: verbatim,
 * unless a quote would start quoting or blanks at the end would be cut. */
static char *environment_value(const char *entry)
{
        const char *eq = strchr(entry, '='), *value = eq + 1;
        size_t len = strlen(value);
        if (!strpbrk(value, "\"'\t") && (len == 0 || !is_blank(value[len - 1])))
                return strdup(entry);
        _cleanup_free_ char *quoted = quote_value(value);
        char *out;
        if (!quoted || asprintf(&out, "%.*s=%s", (int)(eq - entry), entry, quoted) < 0)
                return NULL;
        return out;
}

/* Whether NAME=VALUE is one tickd can hold, as the variable it is for
 * cron; reports why not at LINE. */
static bool env_check(struct import_parse *ip, unsigned line, const char *name, const char *value)
{
        if (!valid_env_name(name)) {
                IMPORT_ERROR(ip, line,
                             "'%s' is not a variable name tickd accepts (letters, digits and '_', not "
                             "starting with a digit)",
                             name);
                return false;
        }
        _cleanup_free_ char *entry = NULL, *written = NULL;
        if (asprintf(&entry, "%s=%s", name, value) < 0 || !(written = environment_value(entry))) {
                ip->error = -ENOMEM;
                return false;
        }
        /* The longest line it makes; mail_to, timezone and the like are shorter. */
        size_t longest = strlen(written) + strlen("environment = ");
        if (longest > INIFILE_MAX_LINE) {
                IMPORT_ERROR(ip, line, "%s: the value makes a line of %zu bytes, longer than tickd's %d", name, longest,
                             INIFILE_MAX_LINE);
                return false;
        }
        if (strcmp(name, "SHELL") == 0 && (value[0] != '/' || strpbrk(value, " \t'\"\\$`;&|<>()*?[]~"))) {
                IMPORT_ERROR(ip, line, "SHELL: '%s' is not an absolute path to a shell", value);
                return false;
        }
        /* mail_to takes what cron's MAILTO does, but no blank-separated list. */
        const char *why = strcmp(name, "MAILTO") == 0 && *value ? mail_address_problem(value) : NULL;
        if (why) {
                IMPORT_ERROR(ip, line, "MAILTO: '%s' is not a mail address or a list of them separated by commas: %s",
                             value, why);
                return false;
        }
        if (strcmp(name, "RANDOM_DELAY") == 0) {
                char *end;
                unsigned long v = strtoul(value, &end, 10);
                if (!isdigit((unsigned char)value[0]) || *end || v > RANDOM_DELAY_MAX_MINUTES) {
                        IMPORT_ERROR(ip, line, "RANDOM_DELAY: '%s' is not a number of minutes (0 to %d)", value,
                                     RANDOM_DELAY_MAX_MINUTES);
                        return false;
                }
        }
        /* TZ is the commands' alone: cron reads the times in its own zone. */
        if (strcmp(name, "CRON_TZ") == 0 && *value && ip->zones) {
                const struct tz *zone;
                int r = tz_cache_get(ip->zones, value[0] == ':' ? value + 1 : value, &zone);
                if (r == -ENOMEM) {
                        ip->error = r;
                        return false;
                }
                if (r < 0) {
                        IMPORT_ERROR(ip, line, "%s: unknown time zone '%s'", name, value);
                        return false;
                }
        }
        return true;
}

/* A later setting of a variable replaces the earlier one in place, as in
 * cron's env_set(). */
static int env_set(struct import_parse *ip, const char *name, const char *value)
{
        char *entry;
        if (asprintf(&entry, "%s=%s", name, value) < 0)
                return -ENOMEM;
        size_t n = strlen(name) + 1;
        for (size_t i = 0; i < ip->n_env; i++)
                if (strncmp(ip->env[i], entry, n) == 0) {
                        free(ip->env[i]);
                        ip->env[i] = entry;
                        return 0;
                }
        char **env = realloc(ip->env, (ip->n_env + 2) * sizeof(char *));
        if (!env) {
                free(entry);
                return -ENOMEM;
        }
        env[ip->n_env++] = entry;
        env[ip->n_env] = NULL;
        ip->env = env;
        return 0;
}

/* The command part of TEXT into *COMMAND and the input after its first
 * unescaped '%' into *INPUT (NULL when there is none or it is empty), as
 * Debian's do_command.c reads them: in the command "\%" is '%' and "\\"
 * is one backslash (cronie keeps "\\" as it is), other backslashes stay;
 * in the input '%' is a newline, "\%" is '%', other backslashes stay, and
 * a newline ends it when the last byte written was not one. */
static int percent_split(const char *text, char **command, char **input)
{
        size_t len = strlen(text);
        _cleanup_free_ char *cmd = malloc(len + 1), *in = NULL;
        if (!cmd)
                return -ENOMEM;
        size_t n = 0;
        bool escaped = false;
        const char *rest = NULL;
        for (const char *s = text; *s; s++) {
                if (escaped) {
                        escaped = false;
                        if (*s == '%' || *s == '\\')
                                n--; /* the escaping backslash gives way */
                } else if (*s == '\\')
                        escaped = true;
                else if (*s == '%') {
                        rest = s + 1;
                        break;
                }
                cmd[n++] = *s;
        }
        cmd[n] = '\0';
        if (rest && *rest) {
                in = malloc(2 * strlen(rest) + 3);
                if (!in)
                        return -ENOMEM;
                n = 0;
                escaped = false;
                bool need_newline = false;
                for (const char *s = rest; *s; s++) {
                        char c = *s;
                        if (escaped) {
                                if (c != '%')
                                        in[n++] = '\\';
                        } else if (c == '%')
                                c = '\n';
                        if (!(escaped = c == '\\')) {
                                in[n++] = c;
                                need_newline = c != '\n';
                        }
                }
                if (escaped)
                        in[n++] = '\\';
                if (need_newline)
                        in[n++] = '\n';
                in[n] = '\0';
        }
        *command = TAKE_PTR(cmd);
        *input = TAKE_PTR(in);
        return 0;
}

/* "SHELL -c 'COMMAND'": /bin/sh takes the quotes off and hands SHELL the
 * command exactly; a "'" inside becomes "'\''". */
static char *shell_wrap(const char *shell, const char *command)
{
        size_t quotes = 0;
        for (const char *s = command; *s; s++)
                quotes += *s == '\'';
        size_t len = strlen(shell) + strlen(command) + 3 * quotes + 8;
        char *out = malloc(len);
        if (!out)
                return NULL;
        char *p = out + sprintf(out, "%s -c '", shell);
        for (const char *s = command; *s; s++) {
                if (*s == '\'')
                        p = stpcpy(p, "'\\''");
                else
                        *p++ = *s;
        }
        strcpy(p, "'");
        return out;
}

static void cron_import_job_free(struct cron_import_job *job)
{
        if (!job)
                return;
        free(job->schedule);
        free(job->user);
        free(job->command);
        free(job->stdin_text);
        strv_free(job->environment);
        free(job->timezone);
        free(job->mail_to);
        free(job->working_directory);
        free(job);
}

void cron_import_free(struct cron_import *imp)
{
        if (!imp)
                return;
        for (size_t i = 0; i < imp->n_jobs; i++)
                cron_import_job_free(imp->jobs[i]);
        free(imp->jobs);
        free(imp->source);
        *imp = (struct cron_import){ 0 };
}

static const char *const keywords[] = { "@reboot", "@yearly", "@annually", "@monthly",
                                        "@weekly", "@daily",  "@midnight", "@hourly" };

/* The schedule at the start of *S ("m h dom mon dow" or an @keyword),
 * checked by schedule_parse(); *S moves past it. NULL after an error. */
static char *entry_schedule(struct import_parse *ip, unsigned line, const char **s)
{
        char text[1024] = "";
        size_t n = 0;
        const char *p = *s;
        int words = p[0] == '@' ? 1 : 5;
        for (int i = 0; i < words; i++) {
                p = skip_blanks(p);
                size_t len = strcspn(p, " \t");
                if (len == 0 || n + len + 2 > sizeof(text)) {
                        IMPORT_ERROR(ip, line, "expected five time fields%s and a command",
                                     ip->system_format ? ", a user" : "");
                        return NULL;
                }
                n += (size_t)snprintf(text + n, sizeof(text) - n, "%s%.*s", i ? " " : "", (int)len, p);
                p += len;
        }
        if (words == 1) {
                size_t i = 0;
                while (i < ELEMENTSOF(keywords) && strcasecmp(text, keywords[i]) != 0)
                        i++;
                if (i == ELEMENTSOF(keywords)) {
                        IMPORT_ERROR(ip, line,
                                     "'%s' is not a cron keyword (@reboot, @yearly, @annually, "
                                     "@monthly, @weekly, @daily, @midnight, @hourly)",
                                     text);
                        return NULL;
                }
        }
        char err[256];
        struct schedule *sched = NULL;
        int r = schedule_parse(text, NULL, &sched, err, sizeof(err));
        if (r == -ENOMEM) {
                ip->error = r;
                return NULL;
        }
        if (r < 0) {
                if (strstr(err, text)) /* "'0 0 30 2 *' never fires" */
                        IMPORT_ERROR(ip, line, "schedule %s", err);
                else
                        IMPORT_ERROR(ip, line, "schedule '%s': %s", text, err);
                return NULL;
        }
        schedule_free(sched);
        *s = p;
        char *out = strdup(text);
        if (!out)
                ip->error = -ENOMEM;
        return out;
}

/* The user field of the system format at *S; NULL after an error. */
static char *entry_user(struct import_parse *ip, unsigned line, const char **s)
{
        const char *p = skip_blanks(*s);
        size_t len = strcspn(p, " \t");
        bool valid = len > 0 && len <= 64 && p[0] != '-';
        for (size_t i = 0; valid && i < len; i++)
                valid = isalnum((unsigned char)p[i]) || strchr("_-.", p[i]) || (p[i] == '$' && i == len - 1);
        bool has_command = *skip_blanks(p + len) != '\0';
        const char *format = "(system crontab: m h dom mon dow USER command)";
        if (len == 0)
                IMPORT_ERROR(ip, line, "expected a user and a command after the schedule %s", format);
        else if (!valid)
                IMPORT_ERROR(ip, line, "'%.*s' after the schedule is not a user name %s", (int)len, p, format);
        else if (!has_command)
                IMPORT_ERROR(ip, line, "no command after the user '%.*s' %s", (int)len, p, format);
        if (len == 0 || !valid || !has_command)
                return NULL;
        *s = p + len;
        char *out = strndup(p, len);
        if (!out)
                ip->error = -ENOMEM;
        return out;
}

/* The variables of the lines above that reach the job's environment:
 * all but cron's own instructions, which become keys. */
static int job_environment(const struct import_parse *ip, struct cron_import_job *job)
{
        static const char *const own[] = { "CRON_TZ=", "RANDOM_DELAY=", "MAILTO=" };
        size_t n = 0;
        job->environment = calloc(ip->n_env + 1, sizeof(char *));
        if (!job->environment)
                return -ENOMEM;
        for (size_t i = 0; i < ip->n_env; i++) {
                bool skip = false;
                for (size_t k = 0; k < ELEMENTSOF(own); k++)
                        skip = skip || strncmp(ip->env[i], own[k], strlen(own[k])) == 0;
                if (!skip && !(job->environment[n++] = strdup(ip->env[i])))
                        return -ENOMEM;
        }
        if (n == 0)
                job->environment = (strv_free(job->environment), NULL);
        return 0;
}

static int dup_nonempty(char **to, const char *from)
{
        if (!from || !*from)
                return 0;
        return (*to = strdup(from)) ? 0 : -ENOMEM;
}

/* The keys that come from the environment lines above the job. */
static int job_settings(const struct import_parse *ip, struct cron_import_job *job)
{
        const char *zone = env_get(ip, "CRON_TZ");
        if (zone && zone[0] == ':')
                zone++;
        const char *delay = env_get(ip, "RANDOM_DELAY"), *home = env_get(ip, "HOME");
        if (delay)
                job->random_delay_minutes = (unsigned)strtoul(delay, NULL, 10);
        if (dup_nonempty(&job->timezone, zone) < 0 || dup_nonempty(&job->mail_to, env_get(ip, "MAILTO")) < 0 ||
            dup_nonempty(&job->working_directory, home && home[0] == '/' ? home : NULL) < 0)
                return -ENOMEM;
        return job_environment(ip, job);
}

/* Whether every line the job makes fits tickd's line length. */
static bool job_fits(struct import_parse *ip, const struct cron_import_job *job)
{
        size_t longest = strlen(job->command) + sizeof("command = ");
        if (job->stdin_text) {
                _cleanup_free_ char *q = quote_value(job->stdin_text);
                if (!q)
                        return ip->error = -ENOMEM, false;
                if (strlen(q) + sizeof("stdin = ") > longest)
                        longest = strlen(q) + sizeof("stdin = ");
        }
        if (longest <= INIFILE_MAX_LINE)
                return true;
        IMPORT_ERROR(ip, job->line, "the command makes a line of %zu bytes, longer than tickd's %d", longest,
                     INIFILE_MAX_LINE);
        return false;
}

static int jobs_append(struct import_parse *ip, struct cron_import_job *job)
{
        struct cron_import *out = ip->out;
        if (out->n_jobs == ip->jobs_cap) {
                size_t cap = ip->jobs_cap ? 2 * ip->jobs_cap : 16;
                struct cron_import_job **jobs = realloc(out->jobs, cap * sizeof(*jobs));
                if (!jobs)
                        return -ENOMEM;
                out->jobs = jobs;
                ip->jobs_cap = cap;
        }
        out->jobs[out->n_jobs++] = job;
        return 0;
}

/* One entry line, schedule, [user,] command, into JOB; false after an
 * error (reported, or ip->error set). */
static bool entry_fill(struct import_parse *ip, unsigned line, const char *text, struct cron_import_job *job)
{
        const char *s = skip_blanks(text);
        if (!(job->schedule = entry_schedule(ip, line, &s)))
                return false;
        if (ip->system_format && !(job->user = entry_user(ip, line, &s)))
                return false;
        _cleanup_free_ char *command = NULL;
        if (percent_split(skip_blanks(s), &command, &job->stdin_text) < 0)
                return ip->error = -ENOMEM, false;
        size_t len = strlen(command);
        while (len > 0 && is_blank(command[len - 1]))
                command[--len] = '\0';
        if (len == 0) {
                IMPORT_ERROR(ip, line, "no command after the %s", ip->system_format ? "user" : "schedule");
                return false;
        }
        const char *shell = env_get(ip, "SHELL");
        if (shell && *shell && strcmp(shell, "/bin/sh") != 0)
                job->command = shell_wrap(shell, command);
        else
                job->command = TAKE_PTR(command);
        if (!job->command || job_settings(ip, job) < 0)
                return ip->error = -ENOMEM, false;
        return job_fits(ip, job);
}

static void entry_parse(struct import_parse *ip, unsigned line, const char *text)
{
        struct cron_import_job *job = calloc(1, sizeof(*job));
        if (!job) {
                ip->error = -ENOMEM;
                return;
        }
        job->line = line;
        if (!entry_fill(ip, line, text, job)) {
                cron_import_job_free(job);
                return;
        }
        if (jobs_append(ip, job) < 0) {
                ip->error = -ENOMEM;
                cron_import_job_free(job);
        }
}

static void line_parse(struct import_parse *ip, unsigned line, const char *text)
{
        const char *s = skip_blanks(text);
        if (!*s || *s == '#')
                return;
        unsigned char c = control_char(text);
        if (c) {
                IMPORT_ERROR(ip, line, "control character 0x%02x%s", c, c == '\r' ? " (a CRLF line end?)" : "");
                return;
        }
        if (!valid_utf8(text)) {
                IMPORT_ERROR(ip, line, "not valid UTF-8");
                return;
        }
        _cleanup_free_ char *name = NULL, *value = NULL;
        int r = env_line_parse(text, &name, &value);
        if (r < 0) {
                ip->error = r;
                return;
        }
        if (r == 0) {
                entry_parse(ip, line, text);
                return;
        }
        if (env_check(ip, line, name, value) && env_set(ip, name, value) < 0)
                ip->error = -ENOMEM;
}

int cron_import_parse(const char *source, const char *buf, size_t len, bool system_format, struct tz_cache *zones,
                      struct cron_import *out, struct diagnostics *diags)
{
        *out = (struct cron_import){ .source = strdup(source) };
        if (!out->source)
                return -ENOMEM;
        /* The name goes into the INI text: a control character there would
         * end a line or a description early. */
        for (char *c = out->source; *c; c++)
                if ((unsigned char)*c < 0x20 || *c == 0x7f)
                        *c = '?';
        /* Errors name standard input as descriptions do. */
        struct import_parse ip = { .source = strcmp(source, "-") == 0 ? "stdin" : source,
                                   .system_format = system_format,
                                   .zones = zones,
                                   .diags = diags,
                                   .out = out };
        unsigned line = 0;
        for (size_t at = 0; at < len && !ip.error;) {
                const char *start = buf + at, *nl = memchr(start, '\n', len - at);
                size_t n = nl ? (size_t)(nl - start) : len - at;
                at += n + 1;
                line++;
                if (memchr(start, '\0', n)) {
                        IMPORT_ERROR(&ip, line, "NUL byte");
                        continue;
                }
                _cleanup_free_ char *text = strndup(start, n);
                if (!text) {
                        ip.error = -ENOMEM;
                        break;
                }
                line_parse(&ip, line, text);
        }
        strv_free(ip.env);
        if (ip.error || ip.n_errors) {
                cron_import_free(out);
                return ip.error ? ip.error : -EINVAL;
        }
        return 0;
}

void cron_import_job_name(const char *source, const char *prefix, unsigned line, char *buf, size_t size)
{
        const char *base = strrchr(source, '/');
        base = base && base[1] ? base + 1 : source;
        if (strcmp(source, "-") == 0)
                base = prefix ? prefix : "stdin";
        /* Room for "-LINE" within a section name's 200 bytes. */
        char name[128];
        size_t n = 0;
        for (; *base && n < sizeof(name) - 1; base++)
                name[n++] = isalnum((unsigned char)*base) || strchr("_.-", *base) ? *base : '-';
        name[n] = '\0';
        snprintf(buf, size, "%s-%u", n ? name : "crontab", line);
}

/* ---- the INI text ---- */

/* A growing string; a failed allocation leaves it failed, and later
 * appends do nothing. (Not open_memstream(): its buffer is libc's, which
 * the allocation-failure sweep cannot fail or count.) */
struct text {
        char *s;
        size_t len, cap;
        bool failed;
};

__attribute__((format(printf, 2, 3))) static void text_put(struct text *t, const char *fmt, ...)
{
        if (t->failed)
                return;
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(t->s ? t->s + t->len : NULL, t->s ? t->cap - t->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
                t->failed = true;
                return;
        }
        if (!t->s || t->len + (size_t)n >= t->cap) {
                size_t cap = t->cap ? t->cap : 1024;
                while (cap <= t->len + (size_t)n)
                        cap *= 2;
                char *grown = realloc(t->s, cap);
                if (!grown) {
                        t->failed = true;
                        return;
                }
                t->s = grown, t->cap = cap;
                va_start(ap, fmt);
                vsnprintf(t->s + t->len, t->cap - t->len, fmt, ap);
                va_end(ap);
        }
        t->len += (size_t)n;
}

/* The settings that may be shared by all jobs in [defaults]. */
enum shared_setting {
        SHARED_ENVIRONMENT,
        SHARED_TIMEZONE,
        SHARED_RANDOM_DELAY,
        SHARED_MAIL_TO,
        SHARED_WORKING_DIRECTORY,
        _SHARED_MAX,
};

static bool strv_equal(char **a, char **b)
{
        for (; a && b && *a && *b; a++, b++)
                if (strcmp(*a, *b) != 0)
                        return false;
        return (!a || !*a) && (!b || !*b);
}

static bool string_equal(const char *a, const char *b) { return a == b || (a && b && strcmp(a, b) == 0); }

static bool setting_equal(const struct cron_import_job *a, const struct cron_import_job *b, enum shared_setting id)
{
        switch (id) {
        case SHARED_ENVIRONMENT: return strv_equal(a->environment, b->environment);
        case SHARED_TIMEZONE: return string_equal(a->timezone, b->timezone);
        case SHARED_RANDOM_DELAY: return a->random_delay_minutes == b->random_delay_minutes;
        case SHARED_MAIL_TO: return string_equal(a->mail_to, b->mail_to);
        case SHARED_WORKING_DIRECTORY: return string_equal(a->working_directory, b->working_directory);
        case _SHARED_MAX: break;
        }
        return false;
}

/* Writes the lines of setting ID of JOB (nothing when it is unset). */
static int setting_write(struct text *f, const struct cron_import_job *job, enum shared_setting id)
{
        switch (id) {
        case SHARED_ENVIRONMENT:
                for (char **e = job->environment; e && *e; e++) {
                        _cleanup_free_ char *v = environment_value(*e);
                        if (!v)
                                return -ENOMEM;
                        text_put(f, "environment = %s\n", v);
                }
                break;
        case SHARED_TIMEZONE:
                if (job->timezone)
                        text_put(f, "timezone = %s\n", job->timezone);
                break;
        case SHARED_RANDOM_DELAY:
                if (job->random_delay_minutes)
                        text_put(f, "random_delay = %umin\n", job->random_delay_minutes);
                break;
        case SHARED_MAIL_TO:
                if (job->mail_to)
                        text_put(f, "mail_to = %s\n", job->mail_to);
                break;
        case SHARED_WORKING_DIRECTORY:
                if (job->working_directory)
                        text_put(f, "working_directory = %s\n", job->working_directory);
                break;
        case _SHARED_MAX: break;
        }
        return 0;
}

static int job_write(struct text *f, const struct cron_import *imp, const char *display, const char *prefix,
                     const struct cron_import_job *job, const bool shared[static _SHARED_MAX])
{
        char name[INIFILE_MAX_SECTION + 1];
        cron_import_job_name(imp->source, prefix, job->line, name, sizeof(name));
        text_put(f, "\n[%s]\ndescription = %s:%u\nschedule = %s\n", name, display, job->line, job->schedule);
        if (job->user)
                text_put(f, "user = %s\n", job->user);
        text_put(f, "command = %s\n", job->command);
        if (job->stdin_text) {
                _cleanup_free_ char *q = quote_value(job->stdin_text);
                if (!q)
                        return -ENOMEM;
                text_put(f, "stdin = %s\n", q);
        }
        for (int id = 0; id < _SHARED_MAX; id++)
                if (!shared[id] && setting_write(f, job, (enum shared_setting)id) < 0)
                        return -ENOMEM;
        return 0;
}

int cron_import_format(const struct cron_import *imp, const char *user, char **out)
{
        struct text text = { 0 }, *f = &text;
        const char *display = strcmp(imp->source, "-") == 0 ? "stdin" : imp->source;
        /* A setting goes to [defaults] when every job has it the same. */
        bool shared[_SHARED_MAX], any_shared = user != NULL;
        for (int id = 0; id < _SHARED_MAX; id++) {
                shared[id] = imp->n_jobs > 0;
                for (size_t i = 1; shared[id] && i < imp->n_jobs; i++)
                        shared[id] = setting_equal(imp->jobs[0], imp->jobs[i], (enum shared_setting)id);
                if (shared[id] && !setting_equal(imp->jobs[0], &(struct cron_import_job){ 0 }, (enum shared_setting)id))
                        any_shared = true;
        }
        int r = 0;
        text_put(f, "# Imported from %s by tickctl import; each job's description names its line.\n", display);
        if (any_shared) {
                text_put(f, "\n[defaults]\n");
                if (user)
                        text_put(f, "user = %s\n", user);
                for (int id = 0; id < _SHARED_MAX && r == 0; id++)
                        if (shared[id])
                                r = setting_write(f, imp->jobs[0], (enum shared_setting)id);
        }
        for (size_t i = 0; i < imp->n_jobs && r == 0; i++)
                r = job_write(f, imp, display, user, imp->jobs[i], shared);
        if (r < 0 || text.failed) {
                free(text.s);
                return -ENOMEM;
        }
        *out = text.s;
        return 0;
}
