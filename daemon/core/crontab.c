/* crontab.c — one INI crontab into validated jobs; see crontab.h.
 *
 * Lines come from inifile (our reader in front of inih); this file gives
 * the keys their meaning. [defaults] must come first: it is parsed into a
 * template job that every job of the file starts as. */
#include "core/crontab.h"

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "core/crontab-internal.h"
#include "core/fileio.h"
#include "core/fnv.h"
#include "core/inifile.h"
#include "core/strv.h"
#include "core/timespan.h"
#include "core/unquote.h"

enum key_id {
        KEY_SCHEDULE,
        KEY_COMMAND,
        KEY_DESCRIPTION,
        KEY_USER,
        KEY_GROUP,
        KEY_TIMEZONE,
        KEY_TIMEOUT,
        KEY_KILL_GRACE,
        KEY_OVERLAP,
        KEY_RANDOM_DELAY,
        KEY_PERSISTENT,
        KEY_ENVIRONMENT,
        KEY_WORKING_DIRECTORY,
        KEY_UMASK,
        KEY_NICE,
        KEY_ON_FAILURE,
        KEY_ENABLED,
        KEY_SCOPE,
        KEY_MAIL_TO,
        KEY_MAIL_ON,
        KEY_STDIN,
        KEY_MEMORY_MAX,
        KEY_CPU_QUOTA,
        KEY_TASKS_MAX,
        KEY_IO_WEIGHT,
        KEY_KILL_LEFTOVERS,
        KEY_PAM,
        _KEY_MAX,
};

static const struct key_info {
        const char *name;
        bool repeatable;   /* environment= adds one variable per line */
        bool continuable;  /* indented lines continue the value */
        bool per_job_only; /* not allowed in [defaults] */
} keys[_KEY_MAX] = {
        [KEY_SCHEDULE] = { .name = "schedule", .per_job_only = true },
        [KEY_COMMAND] = { .name = "command", .continuable = true, .per_job_only = true },
        [KEY_DESCRIPTION] = { .name = "description", .continuable = true, .per_job_only = true },
        [KEY_USER] = { .name = "user" },
        [KEY_GROUP] = { .name = "group" },
        [KEY_TIMEZONE] = { .name = "timezone" },
        [KEY_TIMEOUT] = { .name = "timeout" },
        [KEY_KILL_GRACE] = { .name = "kill_grace" },
        [KEY_OVERLAP] = { .name = "overlap" },
        [KEY_RANDOM_DELAY] = { .name = "random_delay" },
        [KEY_PERSISTENT] = { .name = "persistent" },
        [KEY_ENVIRONMENT] = { .name = "environment", .repeatable = true },
        [KEY_WORKING_DIRECTORY] = { .name = "working_directory" },
        [KEY_UMASK] = { .name = "umask" },
        [KEY_NICE] = { .name = "nice" },
        [KEY_ON_FAILURE] = { .name = "on_failure", .continuable = true },
        [KEY_ENABLED] = { .name = "enabled" },
        [KEY_SCOPE] = { .name = "scope" },
        [KEY_MAIL_TO] = { .name = "mail_to" },
        [KEY_MAIL_ON] = { .name = "mail_on" },
        [KEY_STDIN] = { .name = "stdin", .per_job_only = true },
        [KEY_MEMORY_MAX] = { .name = "memory_max" },
        [KEY_CPU_QUOTA] = { .name = "cpu_quota" },
        [KEY_TASKS_MAX] = { .name = "tasks_max" },
        [KEY_IO_WEIGHT] = { .name = "io_weight" },
        [KEY_KILL_LEFTOVERS] = { .name = "kill_leftovers" },
        [KEY_PAM] = { .name = "pam" },
};

const char *crontab_key_name(size_t i) { return i < _KEY_MAX ? keys[i].name : NULL; }

/* Names people reach for from other schedulers. */
static const struct {
        const char *alias;
        enum key_id key;
} aliases[] = {
        { "cmd", KEY_COMMAND },
        { "exec", KEY_COMMAND },
        { "execstart", KEY_COMMAND },
        { "run", KEY_COMMAND },
        { "tz", KEY_TIMEZONE },
        { "time_zone", KEY_TIMEZONE },
        { "env", KEY_ENVIRONMENT },
        { "cwd", KEY_WORKING_DIRECTORY },
        { "workdir", KEY_WORKING_DIRECTORY },
        { "directory", KEY_WORKING_DIRECTORY },
        { "when", KEY_SCHEDULE },
        { "cron", KEY_SCHEDULE },
        { "oncalendar", KEY_SCHEDULE },
        { "onfailure", KEY_ON_FAILURE },
        { "randomizeddelaysec", KEY_RANDOM_DELAY },
        { "timeoutsec", KEY_TIMEOUT },
        { "mailto", KEY_MAIL_TO },
        { "memorymax", KEY_MEMORY_MAX },
        { "cpuquota", KEY_CPU_QUOTA },
        { "tasksmax", KEY_TASKS_MAX },
        { "ioweight", KEY_IO_WEIGHT },
};

static int key_lookup(const char *name)
{
        for (int i = 0; i < _KEY_MAX; i++)
                if (strcmp(keys[i].name, name) == 0)
                        return i;
        return -1;
}

size_t crontab_edit_distance(const char *a, const char *b, size_t max)
{
        size_t la = strlen(a), lb = strlen(b);
        if (la > 64 || lb > 64)
                return SIZE_MAX;
        if (max > 64)
                max = 64; /* no distance between such words is larger */
        const size_t over = max + 1;
        if ((la > lb ? la - lb : lb - la) > max)
                return over;
        /* Only cells within MAX of the diagonal can lead to a distance of
         * at most MAX (Ukkonen): the rest count as OVER, and a row with
         * nothing at most MAX ends the search. */
        size_t rows[2][65];
        size_t *prev = rows[0], *row = rows[1];
        for (size_t j = 0; j <= lb; j++)
                prev[j] = j <= max ? j : over;
        for (size_t i = 1; i <= la; i++) {
                size_t lo = i > max ? i - max : 1, hi = i + max < lb ? i + max : lb;
                row[lo - 1] = lo == 1 && i <= max ? i : over;
                size_t least = row[lo - 1];
                for (size_t j = lo; j <= hi; j++) {
                        size_t cost = tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]);
                        size_t best = prev[j - 1] + cost;
                        if (prev[j] + 1 < best)
                                best = prev[j] + 1;
                        if (row[j - 1] + 1 < best)
                                best = row[j - 1] + 1;
                        row[j] = best < over ? best : over;
                        if (row[j] < least)
                                least = row[j];
                }
                if (hi < lb)
                        row[hi + 1] = over;
                if (least > max)
                        return over;
                size_t *t = prev;
                prev = row, row = t;
        }
        return prev[lb];
}

/* The letters of S as a set (folded into 64 bits; a fold only makes two
 * letters look alike). */
static uint64_t letter_set(const char *s)
{
        uint64_t set = 0;
        for (; *s; s++)
                set |= UINT64_C(1) << (tolower((unsigned char)*s) & 63);
        return set;
}

const char *crontab_suggest(const char *word, const char *const *candidates, size_t n)
{
        const char *best = NULL;
        size_t len = strlen(word);
        size_t limit = len <= 4 ? 1 : len <= 8 ? 2 : 3;
        size_t best_distance = limit + 1;
        uint64_t letters = letter_set(word);
        for (size_t i = 0; i < n; i++) {
                /* The distance is at least the difference in length, and
                 * each letter one word has and the other lacks costs an
                 * edit: most unknown words (garbled, a fuzzer's) are
                 * dismissed without a table. */
                size_t max = best_distance - 1, clen = strlen(candidates[i]);
                if ((len > clen ? len - clen : clen - len) > max)
                        continue;
                uint64_t other = letter_set(candidates[i]);
                if ((size_t)__builtin_popcountll(letters & ~other) > max ||
                    (size_t)__builtin_popcountll(other & ~letters) > max)
                        continue;
                size_t d = crontab_edit_distance(word, candidates[i], max);
                if (d < best_distance)
                        best = candidates[i], best_distance = d;
                if (d == 0)
                        break;
        }
        return best;
}

static const char *key_suggestion(const char *name)
{
        char folded[64];
        size_t n = 0;
        for (const char *c = name; *c && n < sizeof(folded) - 1; c++)
                if (*c != '-' && *c != '_')
                        folded[n++] = (char)tolower((unsigned char)*c);
        folded[n] = '\0';
        for (size_t i = 0; i < ELEMENTSOF(aliases); i++)
                if (strcmp(folded, aliases[i].alias) == 0)
                        return keys[aliases[i].key].name;
        const char *names[_KEY_MAX];
        for (int i = 0; i < _KEY_MAX; i++)
                names[i] = keys[i].name;
        /* "Working-Directory" is one edit per '-' away; compare with it replaced. */
        char underscored[64];
        snprintf(underscored, sizeof(underscored), "%s", name);
        for (char *c = underscored; *c; c++)
                if (*c == '-')
                        *c = '_';
        return crontab_suggest(underscored, names, _KEY_MAX);
}

/* ---- jobs ---- */

const struct job_extra job_extra_defaults = {
        .kill_grace_usec = JOB_DEFAULT_KILL_GRACE_USEC,
        .umask = -1,
        .pam = -1,
};

_Static_assert(sizeof(struct job) == 88, "struct job is 88 bytes (issue 16)");
_Static_assert(CRONTAB_MAX_FILE_SIZE <= (1 << 24), "a line with a key on it fits struct job's 24 bits");

/* Frees what JOB owns, not JOB itself (nor its extra or its name, which
 * live in its own allocation or its parse's, nor its file, its
 * crontab_file's). A packed job owns nothing apart: its schedule is its
 * file's. */
static void job_release(struct job *job)
{
        if (job->packed)
                return;
        schedule_free(job->schedule);
        free(job->command);
        free(job->user);
        strv_free(job->environment);
        struct job_extra *x = job->extra;
        free(x->description);
        free(x->group);
        free(x->timezone);
        free(x->working_directory);
        free(x->on_failure);
        free(x->mail_to);
        free(x->stdin_text);
}

void job_free(struct job *job)
{
        /* A packed job lives in its file's blocks, freed with them. */
        if (!job || job->packed)
                return;
        job_release(job);
        free(job);
}

/* While a job is read its extra is always there (EXTRA, which the caller
 * provides); job_pack() leaves it out when it holds only defaults. */
static void job_init_defaults(struct job *job, struct job_extra *extra, const struct tz *zone)
{
        *extra = job_extra_defaults;
        *job = (struct job){
                .zone = zone,
                .extra = extra,
                .overlap = OVERLAP_SKIP,
                .enabled = true,
                .kill_leftovers = true,
        };
}

static int dup_string(char **to, const char *from)
{
        if (!from) {
                *to = NULL;
                return 0;
        }
        return (*to = strdup(from)) ? 0 : -ENOMEM;
}

/* A new job NAME of FILE (its crontab_file's path, which outlives the
 * job) that starts as TEMPLATE (the file's [defaults]). The job, its
 * extra and its name are one allocation (a file is mostly headers: three
 * allocations per job were most of what loading one cost). The plain
 * fields are copied; every other string field is cleared before any copy
 * is made, so that a job_free() on the way out frees only the job's own
 * copies, never the template's strings (which the template still owns). */
static struct job *job_from_template(const struct job *template, const char *name, const char *file)
{
        size_t name_size = strlen(name) + 1;
        struct job *job = malloc(sizeof(*job) + sizeof(struct job_extra) + name_size);
        if (!job)
                return NULL;
        struct job_extra *x = (struct job_extra *)(job + 1);
        const struct job_extra *tx = template->extra;
        *job = *template;
        *x = *tx;
        job->extra = x;
        job->name = memcpy((char *)(x + 1), name, name_size);
        job->file = file;
        job->command = job->user = NULL;
        job->environment = NULL;
        job->schedule = NULL;
        x->description = x->group = x->timezone = x->working_directory = x->on_failure = x->mail_to = NULL;
        x->stdin_text = NULL;
        if (dup_string(&job->user, template->user) < 0 || dup_string(&x->group, tx->group) < 0 ||
            dup_string(&x->timezone, tx->timezone) < 0 ||
            dup_string(&x->working_directory, tx->working_directory) < 0 ||
            dup_string(&x->on_failure, tx->on_failure) < 0 || dup_string(&x->mail_to, tx->mail_to) < 0)
                goto fail;
        if (template->environment) {
                size_t n = 0;
                while (template->environment[n])
                        n++;
                job->environment = calloc(n + 1, sizeof(char *));
                if (!job->environment)
                        goto fail;
                for (size_t i = 0; i < n; i++)
                        if (!(job->environment[i] = strdup(template->environment[i])))
                                goto fail;
        }
        return job;
fail:
        job_free(job);
        return NULL;
}

/* A file's packed jobs, and its schedules each followed by its text, at
 * 8-byte boundaries one after another, in two chains of blocks; blocks
 * double from CRONTAB_BLOCK_FIRST up to CRONTAB_BLOCK_MAX bytes, so a
 * small file pays a small block and a large one leaves at most part of
 * its last unused. No malloc header and rounding per job or schedule
 * (issue 16). */
struct crontab_block {
        struct crontab_block *next; /* the one filled before */
        size_t used, size;
        _Alignas(8) char data[];
};

static void blocks_free(struct crontab_block *b)
{
        while (b) {
                struct crontab_block *next = b->next;
                free(b);
                b = next;
        }
}

#define CRONTAB_BLOCK_FIRST 256
#define CRONTAB_BLOCK_MAX   (64 * 1024)

static size_t align8(size_t n) { return (n + 7) & ~(size_t)7; }

/* SIZE bytes, 8-aligned, from the newest block of *CHAIN, or from a new
 * one; NULL when out of memory. */
static void *block_alloc(struct crontab_block **chain, size_t size)
{
        struct crontab_block *b = *chain;
        size = align8(size);
        if (!b || b->size - b->used < size) {
                size_t cap = !b                                ? CRONTAB_BLOCK_FIRST
                             : b->size * 2 > CRONTAB_BLOCK_MAX ? CRONTAB_BLOCK_MAX
                                                               : b->size * 2;
                if (cap < size)
                        cap = size;
                struct crontab_block *fresh = malloc(sizeof(*fresh) + cap);
                if (!fresh)
                        return NULL;
                *fresh = (struct crontab_block){ .next = b, .size = cap };
                *chain = b = fresh;
        }
        void *at = b->data + b->used;
        b->used += size;
        return at;
}

/* The string fields of a job and of its extra, for job_pack(); a job's
 * schedule text is its shared schedule's (schedules_intern()). */
static const size_t job_strings[] = {
        offsetof(struct job, name),
        offsetof(struct job, command),
        offsetof(struct job, user),
};
static const size_t extra_strings[] = {
        offsetof(struct job_extra, description), offsetof(struct job_extra, group),
        offsetof(struct job_extra, timezone),    offsetof(struct job_extra, working_directory),
        offsetof(struct job_extra, on_failure),  offsetof(struct job_extra, stdin_text),
        offsetof(struct job_extra, mail_to),
};

static char **field_at(void *base, size_t offset) { return (char **)((char *)base + offset); }

static bool extra_is_default(const struct job_extra *x)
{
        const struct job_extra *d = &job_extra_defaults;
        for (size_t i = 0; i < ELEMENTSOF(extra_strings); i++)
                if (*field_at((void *)x, extra_strings[i]))
                        return false;
        return x->kill_grace_usec == d->kill_grace_usec && x->random_delay_usec == d->random_delay_usec &&
               x->limits.memory_max == d->limits.memory_max && x->limits.tasks_max == d->limits.tasks_max &&
               x->limits.cpu_quota == d->limits.cpu_quota && x->limits.io_weight == d->limits.io_weight &&
               x->umask == d->umask && x->nice == d->nice && x->pam == d->pam && x->mail_on == d->mail_on &&
               x->has_nice == d->has_nice;
}

/* Appends SRC (with its NUL) at *AT; returns the copy. */
static char *pack_string(char **at, const char *src)
{
        size_t size = strlen(src) + 1;
        char *copy = memcpy(*at, src, size);
        *at += size;
        return copy;
}

static size_t strings_size(void *base, const size_t *offsets, size_t n)
{
        size_t size = 0;
        for (size_t i = 0; i < n; i++)
                if (*field_at(base, offsets[i]))
                        size += strlen(*field_at(base, offsets[i])) + 1;
        return size;
}

static void strings_pack(void *to, const void *from, const size_t *offsets, size_t n, char **at)
{
        for (size_t i = 0; i < n; i++)
                if (*field_at((void *)from, offsets[i]))
                        *field_at(to, offsets[i]) = pack_string(at, *field_at((void *)from, offsets[i]));
}

/* A loaded job in one piece of FILE's job blocks (issue 16: memory per loaded job): the
 * job, its extra unless every field there is a default, its
 * environment's pointers, then every string; SCHEDULE (with its text) is
 * the file's, shared by the jobs with the same schedule text. Each
 * separate allocation cost its malloc header and rounding, and a job had
 * up to a dozen. Returns the packed copy and frees JOB, or returns NULL
 * (JOB untouched) when out of memory. A packed job is never changed: the
 * loader packs it once its section has ended. */
static struct job *job_pack(struct crontab_file *file, struct job *job, struct schedule *schedule)
{
        bool extra = !extra_is_default(job->extra);
        size_t n_env = 0;
        size_t strings = strings_size(job, job_strings, ELEMENTSOF(job_strings));
        if (extra)
                strings += strings_size(job->extra, extra_strings, ELEMENTSOF(extra_strings));
        for (; job->environment && job->environment[n_env]; n_env++)
                strings += strlen(job->environment[n_env]) + 1;
        /* Pointer-aligned: both structs are multiples of 8 bytes. */
        size_t head = sizeof(*job) + (extra ? sizeof(struct job_extra) : 0);
        size_t env = job->environment ? (n_env + 1) * sizeof(char *) : 0;
        struct job *p = block_alloc(&file->job_blocks, head + env + strings);
        if (!p)
                return NULL;
        *p = *job;
        p->packed = true;
        p->schedule = schedule;
        p->extra = extra ? memcpy(p + 1, job->extra, sizeof(struct job_extra)) : NULL;
        char *at = (char *)p + head + env;
        if (job->environment) {
                p->environment = (char **)((char *)p + head);
                for (size_t i = 0; i < n_env; i++)
                        p->environment[i] = pack_string(&at, job->environment[i]);
                p->environment[n_env] = NULL;
        }
        strings_pack(p, job, job_strings, ELEMENTSOF(job_strings), &at);
        if (extra)
                strings_pack(p->extra, job->extra, extra_strings, ELEMENTSOF(extra_strings), &at);
        job_free(job);
        return p;
}

void crontab_file_free(struct crontab_file *file)
{
        if (!file)
                return;
        free(file->jobs);
        blocks_free(file->schedule_blocks);
        blocks_free(file->job_blocks);
        free(file->path);
        free(file);
}

/* ---- the parse ---- */

/* A small memo of name-service answers: a file tends to name the same
 * user on every job, and 10,000 look-ups would dominate the load. */
struct nss_memo {
        char *name;
        bool is_group;
        bool found;
        uid_t uid;
};

struct parse {
        const char *file;
        const struct crontab_options *options;
        struct diagnostics *diags;
        struct crontab_file *out;
        size_t jobs_cap;
        struct job defaults; /* the template; owns its strings */
        struct job_extra defaults_extra;
        /* out's schedules by text: open addressing (NULL = empty). */
        struct schedule **schedule_slots;
        size_t n_slots;
        bool defaults_seen;
        unsigned defaults_line;
        bool job_seen;
        /* The section being read. */
        bool in_section;
        bool section_broken; /* bad header: keys are checked, no job is made */
        struct job *job;     /* NULL in [defaults] or a broken section */
        unsigned section_line;
        unsigned seen[_KEY_MAX];              /* line where each key was set, 0 = not yet */
        bool environment_full;                /* the section's "too many variables" is reported */
        size_t section_errors;                /* errors found before the section began (lint_at) */
        size_t items_counted, errors_counted; /* errors_so_far() */
        bool defaults_broken;                 /* [defaults] had an error: no job is linted */
        size_t n_entries;                     /* headers and entries so far (CRONTAB_MAX_ENTRIES) */
        unsigned n_suggestions;               /* "did you mean" offered so far (CRONTAB_MAX_SUGGESTIONS) */
        struct nss_memo memo[8];
        size_t n_memo;
        int error; /* -ENOMEM and the like */
};

#define PARSE_DIAG(ps, severity, at, key, ...)                                                       \
        do {                                                                                         \
                if (diag_add_key((ps)->diags, (severity), (ps)->file, (at), (key), __VA_ARGS__) < 0) \
                        (ps)->error = -ENOMEM;                                                       \
        } while (0)
#define PARSE_ERROR(ps, at, key, ...) PARSE_DIAG(ps, DIAG_ERROR, at, key, __VA_ARGS__)

/* Whether an unknown word may get a "did you mean": not past the caps,
 * where its message would only be counted or the file is not typos. */
static bool may_suggest(struct parse *ps)
{
        return !diag_full(ps->diags) && ps->n_suggestions++ < CRONTAB_MAX_SUGGESTIONS;
}

static bool parse_boolean(const char *v, bool *out)
{
        static const char *const yes[] = { "yes", "true", "on", "1" }, *const no[] = { "no", "false", "off", "0" };
        for (size_t i = 0; i < ELEMENTSOF(yes); i++) {
                if (strcasecmp(v, yes[i]) == 0)
                        return *out = true, true;
                if (strcasecmp(v, no[i]) == 0)
                        return *out = false, true;
        }
        return false;
}

static bool valid_account_name(const char *v)
{
        if (!*v || *v == '-' || strlen(v) > 64)
                return false;
        for (const char *c = v; *c; c++)
                if (!isalnum((unsigned char)*c) && *c != '_' && *c != '-' && *c != '.' && !(*c == '$' && !c[1]))
                        return false;
        return true;
}

static bool valid_env_name(const char *v, size_t n)
{
        if (n == 0 || isdigit((unsigned char)v[0]))
                return false;
        for (size_t i = 0; i < n; i++)
                if (!isalnum((unsigned char)v[i]) && v[i] != '_')
                        return false;
        return true;
}

/* Name-service look-up with the memo: returns 1 found, 0 not found, <0 error. */
static int nss_lookup(struct parse *ps, const char *name, bool is_group, uid_t *uid)
{
        for (size_t i = 0; i < ps->n_memo; i++)
                if (ps->memo[i].is_group == is_group && strcmp(ps->memo[i].name, name) == 0) {
                        *uid = ps->memo[i].uid;
                        return ps->memo[i].found;
                }
        char buf[16384];
        int r;
        bool found;
        uid_t id = 0;
        if (is_group) {
                struct group gr, *res = NULL;
                r = getgrnam_r(name, &gr, buf, sizeof(buf), &res);
                found = res != NULL;
                if (found)
                        id = gr.gr_gid;
        } else {
                struct passwd pw, *res = NULL;
                r = getpwnam_r(name, &pw, buf, sizeof(buf), &res);
                found = res != NULL;
                if (found)
                        id = pw.pw_uid;
        }
        if (!found && r != 0 && r != ENOENT && r != ESRCH && r != EBADF && r != EPERM)
                return -r;
        if (ps->n_memo < ELEMENTSOF(ps->memo)) {
                char *copy = strdup(name);
                if (copy)
                        ps->memo[ps->n_memo++] = (struct nss_memo){ copy, is_group, found, id };
        }
        *uid = id;
        return found;
}

static int set_string(struct parse *ps, char **field, const char *value)
{
        char *copy = strdup(value);
        if (!copy)
                return ps->error = -ENOMEM;
        free(*field);
        *field = copy;
        return 0;
}

static void set_span(struct parse *ps, unsigned line, const char *key, const char *v, uint64_t *out,
                     bool infinity_is_zero)
{
        if (infinity_is_zero && (strcmp(v, "infinity") == 0 || strcmp(v, "none") == 0)) {
                *out = 0;
                return;
        }
        int r = timespan_parse(v, out);
        if (r == -ERANGE)
                PARSE_ERROR(ps, line, key, "%s: '%s' is too long a time span", key, v);
        else if (r < 0)
                PARSE_ERROR(ps, line, key, "%s: '%s' is not a time span (examples: 90s, 15m, 2h 30min, 1d)", key, v);
}

/* TEXT of KEY without its quotes (core/unquote.h); NULL after reporting
 * why not. */
static char *unquoted(struct parse *ps, unsigned line, const char *key, const char *text)
{
        char *v = NULL, err[128] = "";
        int r = unquote_value(text, &v, err, sizeof(err));
        if (r == -ENOMEM)
                ps->error = r;
        else if (r < 0)
                PARSE_ERROR(ps, line, key, "%s: '%s': %s", key, text, err);
        if (r < 0) {
                free(v);
                return NULL;
        }
        return v;
}

static void set_environment(struct parse *ps, struct job *job, unsigned line, const char *text)
{
        _cleanup_free_ char *v = unquoted(ps, line, "environment", text);
        if (!v)
                return;
        const char *eq = strchr(v, '=');
        if (!eq || !valid_env_name(v, (size_t)(eq - v))) {
                PARSE_ERROR(ps, line, "environment",
                            "environment: '%s' is not NAME=value (NAME: letters, digits and '_', "
                            "not starting with a digit)",
                            text);
                return;
        }
        if (ps->environment_full)
                return; /* reported once; the rest need no scan */
        size_t name_len = (size_t)(eq - v) + 1, n = 0;
        char *copy = TAKE_PTR(v);
        /* Linear in the file: CRONTAB_MAX_ENVIRONMENT bounds this scan. */
        if (job->environment)
                for (; job->environment[n]; n++)
                        if (strncmp(job->environment[n], copy, name_len) == 0) {
                                /* A later setting of a variable replaces the earlier one. */
                                free(job->environment[n]);
                                job->environment[n] = copy;
                                return;
                        }
        if (n >= CRONTAB_MAX_ENVIRONMENT) {
                free(copy);
                if (!ps->environment_full)
                        PARSE_ERROR(ps, line, "environment",
                                    "environment: more than %d variables (the limit per job, [defaults] "
                                    "included)",
                                    CRONTAB_MAX_ENVIRONMENT);
                ps->environment_full = true;
                return;
        }
        char **env = realloc(job->environment, (n + 2) * sizeof(char *));
        if (!env) {
                free(copy);
                ps->error = -ENOMEM;
                return;
        }
        env[n] = copy;
        env[n + 1] = NULL;
        job->environment = env;
}

/* The zone in "CRON_TZ=Europe/Berlin 0 9 * * *" or "0 9 * * 1-5
 * Europe/Berlin" (a word with a '/' first or last, or a CRON_TZ= prefix),
 * as people write them for other crons, into ZONE; false when there is
 * none. */
static bool schedule_zone_suffix(const char *v, char *zone, size_t size)
{
        const char *z = NULL;
        size_t len = 0;
        if (strncmp(v, "CRON_TZ=", 8) == 0 || strncmp(v, "TZ=", 3) == 0) {
                z = strchr(v, '=') + 1;
                len = strcspn(z, " \t");
        } else {
                const char *last = strrchr(v, ' ');
                size_t first = strcspn(v, " \t");
                if (last && strchr(last + 1, '/') && isalpha((unsigned char)last[1]))
                        z = last + 1, len = strlen(z);
                else if (memchr(v, '/', first) && isalpha((unsigned char)v[0]))
                        z = v, len = first;
        }
        if (!z || len == 0 || len >= size)
                return false;
        memcpy(zone, z, len);
        zone[len] = '\0';
        return true;
}

static void set_schedule(struct parse *ps, struct job *job, unsigned line, const char *v)
{
        const char *key = keys[KEY_SCHEDULE].name;
        struct schedule *s = NULL;
        char err[256] = "";
        if (!*v) {
                PARSE_ERROR(ps, line, key,
                            "schedule: empty (examples: '30 2 * * *', "
                            "'Mon..Fri *-*-* 09:00', '@every 15m')");
                return;
        }
        int r = schedule_parse(v, ps->options->zones, &s, err, sizeof(err));
        if (r == -ENOMEM) {
                ps->error = r;
                return;
        }
        char zone[128];
        if (r < 0 && schedule_zone_suffix(v, zone, sizeof(zone))) {
                PARSE_ERROR(ps, line, key,
                            "schedule: '%s': a time zone is not part of a schedule: write it as timezone = %s", v,
                            zone);
                return;
        }
        /* "'EXPR' never fires" names the expression already. */
        size_t n = strlen(v);
        if (r < 0 && err[0] == '\'' && strncmp(err + 1, v, n) == 0 && strncmp(err + 1 + n, "' ", 2) == 0) {
                PARSE_ERROR(ps, line, key, "schedule: %s", err);
                return;
        }
        if (r < 0) {
                PARSE_ERROR(ps, line, key, "schedule: '%s': %s", v, err[0] ? err : "invalid expression");
                return;
        }
        schedule_free(job->schedule);
        job->schedule = s;
        job->schedule_line = line;
}

/* user= and group=: a valid name and, when the options ask for it, one
 * the name service knows (a user instance's jobs: its owner only). */
static void set_account(struct parse *ps, struct job *job, unsigned line, enum key_id id, const char *v)
{
        const char *key = keys[id].name;
        const struct crontab_options *o = ps->options;
        bool is_group = id == KEY_GROUP;
        if (!valid_account_name(v)) {
                PARSE_ERROR(ps, line, key, "%s: '%s' is not a valid %s name", key, v, key);
                return;
        }
        /* Without a look-up (the daemon makes none) a user instance still
         * knows root is never its own user, and its own name when given. */
        if (!is_group && !o->system_mode &&
            ((strcmp(v, "root") == 0 && o->owner_uid != 0) || (o->owner_name && strcmp(v, o->owner_name) != 0))) {
                PARSE_ERROR(ps, line, key,
                            "user mode: jobs run as the instance's user only; user = %s is not "
                            "allowed",
                            v);
                return;
        }
        if (o->resolve_users) {
                uid_t uid;
                int r = nss_lookup(ps, v, is_group, &uid);
                if (r < 0)
                        PARSE_ERROR(ps, line, key, "%s: cannot look up '%s': %s", key, v, strerror(-r));
                else if (r == 0)
                        PARSE_ERROR(ps, line, key, "%s: %s '%s' does not exist", key, key, v);
                else if (!is_group && !o->system_mode && uid != o->owner_uid) {
                        PARSE_ERROR(ps, line, key,
                                    "user mode: jobs run as the instance's user only; user = %s "
                                    "is not allowed (the instance's uid is %u)",
                                    v, (unsigned)o->owner_uid);
                        return;
                }
                if (r <= 0)
                        return;
        }
        set_string(ps, is_group ? &job->extra->group : &job->user, v);
}

static void set_timezone(struct parse *ps, struct job *job, unsigned line, const char *v)
{
        const char *key = keys[KEY_TIMEZONE].name;
        const struct tz *zone;
        int r = tz_cache_get(ps->options->zones, v, &zone);
        if (r == -ENOMEM)
                ps->error = r;
        else if (r == -EINVAL)
                PARSE_ERROR(ps, line, key,
                            "timezone: '%s' is not a time zone name "
                            "(like Europe/Berlin or UTC)",
                            v);
        else if (r == -ENOENT)
                PARSE_ERROR(ps, line, key,
                            "timezone: unknown time zone '%s' (not in the zoneinfo "
                            "database)",
                            v);
        else if (r < 0)
                PARSE_ERROR(ps, line, key, "timezone: cannot load '%s': %s", v, strerror(-r));
        else {
                job->zone = zone;
                set_string(ps, &job->extra->timezone, v);
        }
}

static void set_overlap(struct parse *ps, struct job *job, unsigned line, const char *v)
{
        static const char *const names[] = { [OVERLAP_SKIP] = "skip",
                                             [OVERLAP_ALLOW] = "allow",
                                             [OVERLAP_QUEUE] = "queue",
                                             [OVERLAP_REPLACE] = "replace" };
        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                if (strcmp(v, names[i]) == 0) {
                        job->overlap = (enum overlap_policy)i;
                        return;
                }
        const char *s = may_suggest(ps) ? crontab_suggest(v, names, ELEMENTSOF(names)) : NULL;
        PARSE_ERROR(ps, line, keys[KEY_OVERLAP].name, "overlap: '%s' is not one of skip, allow, queue, replace%s%s%s",
                    v, s ? " (did you mean '" : "", s ? s : "", s ? "'?)" : "");
}

static void set_umask(struct parse *ps, struct job *job, unsigned line, const char *v)
{
        char *end;
        errno = 0;
        long m = strtol(v, &end, 8);
        if (!*v || *end || errno || m < 0 || m > 0777 || !isdigit((unsigned char)v[0]))
                PARSE_ERROR(ps, line, keys[KEY_UMASK].name, "umask: '%s' is not an octal mode from 0000 to 0777", v);
        else
                job->extra->umask = (int16_t)m;
}

static void set_nice(struct parse *ps, struct job *job, unsigned line, const char *v)
{
        char *end;
        errno = 0;
        long n = strtol(v, &end, 10);
        if (!*v || *end || errno || n < -20 || n > 19)
                PARSE_ERROR(ps, line, keys[KEY_NICE].name, "nice: '%s' is not a number from -20 to 19", v);
        else
                job->extra->nice = (int8_t)n, job->extra->has_nice = true;
}

/* memory_max=, cpu_quota=, tasks_max=, io_weight=: systemd's syntax,
 * checked here; what they become is limits.h's. */
static void set_limit(struct parse *ps, struct job *job, unsigned line, enum key_id id, const char *v)
{
        const char *key = keys[id].name;
        struct job_limits *l = &job->extra->limits;
        int r;
        const char *want;
        switch (id) {
        case KEY_MEMORY_MAX:
                r = limits_parse_bytes(v, &l->memory_max);
                want = "a size in bytes with K, M, G or T (base 1024), or infinity";
                break;
        case KEY_CPU_QUOTA:
                r = limits_parse_cpu_quota(v, &l->cpu_quota);
                want = "a percentage of one CPU, 1% to 100000%";
                break;
        case KEY_TASKS_MAX:
                r = limits_parse_tasks(v, &l->tasks_max);
                want = "a number of processes from 1, or infinity";
                break;
        default:
                r = limits_parse_io_weight(v, &l->io_weight);
                want = "a number from 1 to 10000";
                break;
        }
        if (r < 0)
                PARSE_ERROR(ps, line, key, "%s: '%s' is not %s", key, v, want);
}

static void set_scope(struct parse *ps, struct job *job, unsigned line, const char *v)
{
        static const char *const names[] = { [JOB_SCOPE_HOST] = "host", [JOB_SCOPE_FLEET] = "fleet" };
        const char *key = keys[KEY_SCOPE].name;
        size_t i;
        for (i = 0; i < ELEMENTSOF(names); i++)
                if (strcmp(v, names[i]) == 0)
                        break;
        if (i == ELEMENTSOF(names)) {
                const char *s = may_suggest(ps) ? crontab_suggest(v, names, ELEMENTSOF(names)) : NULL;
                PARSE_ERROR(ps, line, key, "scope: '%s' is not one of host, fleet%s%s%s", v,
                            s ? " (did you mean '" : "", s ? s : "", s ? "'?)" : "");
                return;
        }
        if (i == JOB_SCOPE_FLEET && !ps->options->fleet_configured) {
                PARSE_ERROR(ps, line, key, "scope = fleet needs a [fleet] section in tickd.conf");
                return;
        }
        job->scope = (enum job_scope)i;
}

/* Empty: no mail (a job may turn off the mail [defaults] asks for). */
static void set_mail_to(struct parse *ps, struct job *job, unsigned line, const char *v)
{
        free(job->extra->mail_to);
        job->extra->mail_to = NULL;
        const char *why = *v ? mail_address_problem(v) : NULL;
        if (why)
                PARSE_ERROR(ps, line, keys[KEY_MAIL_TO].name,
                            "mail_to: '%.80s' is not a mail address or a list of them separated by commas: %s", v, why);
        else if (*v)
                set_string(ps, &job->extra->mail_to, v);
}

static void set_mail_on(struct parse *ps, struct job *job, unsigned line, const char *v)
{
        static const char *const names[] = { "output", "failure", "always" };
        int on = mail_on_from_name(v);
        if (on >= 0) {
                job->extra->mail_on = (enum mail_on)on;
                return;
        }
        const char *s = may_suggest(ps) ? crontab_suggest(v, names, ELEMENTSOF(names)) : NULL;
        PARSE_ERROR(ps, line, keys[KEY_MAIL_ON].name, "mail_on: '%s' is not one of output, failure, always%s%s%s", v,
                    s ? " (did you mean '" : "", s ? s : "", s ? "'?)" : "");
}

/* Quoted as environment= is, so that a value can hold newlines ("a\nb")
 * and blanks at its ends. */
static void set_stdin(struct parse *ps, struct job *job, unsigned line, const char *text)
{
        _cleanup_free_ char *v = unquoted(ps, line, "stdin", text);
        if (!v)
                return;
        free(job->extra->stdin_text);
        /* An empty input is what /dev/null gives: nothing to keep. */
        job->extra->stdin_text = *v ? TAKE_PTR(v) : NULL;
}

static void set_flag(struct parse *ps, struct job *job, unsigned line, enum key_id id, const char *v)
{
        bool b;
        if (!parse_boolean(v, &b)) {
                PARSE_ERROR(ps, line, keys[id].name, "%s: '%s' is not a boolean (yes/no, true/false, on/off, 1/0)",
                            keys[id].name, v);
                return;
        }
        if (id == KEY_PAM)
                job->extra->pam = b;
        else
                job->kill_leftovers = b;
}

static void set_value(struct parse *ps, struct job *job, enum key_id id, const char *v, unsigned line)
{
        const char *key = keys[id].name;

        switch (id) {
        case KEY_SCHEDULE: set_schedule(ps, job, line, v); return;
        case KEY_COMMAND:
                if (!*v)
                        PARSE_ERROR(ps, line, key, "command: empty");
                else {
                        set_string(ps, &job->command, v);
                        job->command_line = line;
                }
                return;
        case KEY_DESCRIPTION:
                if (*v)
                        set_string(ps, &job->extra->description, v);
                return;
        case KEY_ON_FAILURE:
                if (*v)
                        set_string(ps, &job->extra->on_failure, v);
                else {
                        free(job->extra->on_failure);
                        job->extra->on_failure = NULL;
                }
                return;
        case KEY_USER:
        case KEY_GROUP: set_account(ps, job, line, id, v); return;
        case KEY_TIMEZONE: set_timezone(ps, job, line, v); return;
        case KEY_TIMEOUT:
                job->timeout_line = line;
                set_span(ps, line, key, v, &job->timeout_usec, true);
                return;
        case KEY_KILL_GRACE: set_span(ps, line, key, v, &job->extra->kill_grace_usec, false); return;
        case KEY_RANDOM_DELAY: set_span(ps, line, key, v, &job->extra->random_delay_usec, false); return;
        case KEY_OVERLAP: set_overlap(ps, job, line, v); return;
        case KEY_PERSISTENT:
        case KEY_ENABLED: {
                bool b; /* enabled and persistent are bit-fields */
                if (!parse_boolean(v, &b))
                        PARSE_ERROR(ps, line, key, "%s: '%s' is not a boolean (yes/no, true/false, on/off, 1/0)", key,
                                    v);
                else if (id == KEY_ENABLED)
                        job->enabled = b;
                else
                        job->persistent = b;
                return;
        }
        case KEY_ENVIRONMENT: set_environment(ps, job, line, v); return;
        case KEY_WORKING_DIRECTORY:
                if (v[0] != '/')
                        PARSE_ERROR(ps, line, key, "working_directory: '%s' is not an absolute path", v);
                else
                        set_string(ps, &job->extra->working_directory, v);
                return;
        case KEY_UMASK: set_umask(ps, job, line, v); return;
        case KEY_SCOPE: set_scope(ps, job, line, v); return;
        case KEY_NICE: set_nice(ps, job, line, v); return;
        case KEY_MAIL_TO: set_mail_to(ps, job, line, v); return;
        case KEY_MAIL_ON: set_mail_on(ps, job, line, v); return;
        case KEY_STDIN: set_stdin(ps, job, line, v); return;
        case KEY_MEMORY_MAX:
        case KEY_CPU_QUOTA:
        case KEY_TASKS_MAX:
        case KEY_IO_WEIGHT: set_limit(ps, job, line, id, v); return;
        case KEY_KILL_LEFTOVERS:
        case KEY_PAM: set_flag(ps, job, line, id, v); return;
        case _KEY_MAX: break;
        }
        assert(!"unreachable");
}

static void section_end(struct parse *ps);

/* Counts one header or entry; past CRONTAB_MAX_ENTRIES reports the file
 * and returns 1 (stop reading: what follows is not worth reading). */
static int count_entry(struct parse *ps, unsigned line)
{
        if (++ps->n_entries <= CRONTAB_MAX_ENTRIES)
                return 0;
        PARSE_ERROR(ps, line, NULL,
                    "more than %d sections and keys in one file (the limit): split it into "
                    "several files",
                    CRONTAB_MAX_ENTRIES);
        return ps->error ? ps->error : 1;
}

/* The byte offset (from 1) of the first byte of S that is not valid
 * UTF-8, or 0: sd-bus refuses such strings, so tickctl list would fail
 * for every job. Overlong forms, surrogates and code points past
 * U+10FFFF are invalid. */
static size_t utf8_invalid_at(const char *s)
{
        const unsigned char *p = (const unsigned char *)s;
        for (size_t i = 0; p[i];) {
                unsigned c = p[i];
                size_t n = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
                if (n == 0 || (n == 2 && c < 0xc2) || (n == 4 && c > 0xf4))
                        return i + 1;
                for (size_t k = 1; k < n; k++)
                        if ((p[i + k] & 0xc0) != 0x80)
                                return i + 1;
                if ((c == 0xe0 && p[i + 1] < 0xa0) || (c == 0xed && p[i + 1] >= 0xa0) ||
                    (c == 0xf0 && p[i + 1] < 0x90) || (c == 0xf4 && p[i + 1] >= 0x90))
                        return i + 1;
                i += n;
        }
        return 0;
}

/* Errors found so far, the ones past the diagnostics' limit included.
 * Items are only appended during a parse: only the new ones are counted
 * (a recount per section was quadratic in the kept diagnostics). */
static size_t errors_so_far(struct parse *ps)
{
        for (; ps->items_counted < ps->diags->count; ps->items_counted++)
                ps->errors_counted += ps->diags->items[ps->items_counted].severity == DIAG_ERROR;
        return ps->errors_counted + ps->diags->dropped_errors;
}

static int on_section(void *user, const char *name, unsigned line)
{
        struct parse *ps = user;
        int k = count_entry(ps, line);
        if (k != 0)
                return k;
        if (ps->in_section && !ps->job && !ps->section_broken && errors_so_far(ps) > ps->section_errors)
                ps->defaults_broken = true; /* the section ending is [defaults] */
        section_end(ps);
        ps->section_errors = errors_so_far(ps);
        ps->in_section = true;
        ps->section_broken = false;
        ps->section_line = line;
        ps->environment_full = false;
        memset(ps->seen, 0, sizeof(ps->seen));

        if (!name) {
                ps->section_broken = true;
                return 0;
        }
        if (strcmp(name, "defaults") == 0) {
                if (ps->defaults_seen)
                        PARSE_ERROR(ps, line, NULL, "[defaults] already given at line %u", ps->defaults_line);
                else if (ps->job_seen)
                        PARSE_ERROR(ps, line, NULL, "[defaults] must come before the first job");
                ps->defaults_seen = true;
                ps->defaults_line = line;
                return ps->error;
        }
        if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
                PARSE_ERROR(ps, line, NULL, "invalid job name '%s'", name);
                ps->section_broken = true;
                return ps->error;
        }
        ps->job_seen = true;
        struct job *job = job_from_template(&ps->defaults, name, ps->out->path);
        if (!job)
                return ps->error = -ENOMEM;
        job->line = line;
        ps->job = job;
        return 0;
}

static int on_entry(void *user, const char *key, const char *value, unsigned line)
{
        struct parse *ps = user;
        int k = count_entry(ps, line);
        if (k != 0)
                return k;
        int id = key_lookup(key);

        if (id < 0) {
                const char *s = may_suggest(ps) ? key_suggestion(key) : NULL;
                if (s)
                        PARSE_ERROR(ps, line, key, "unknown key '%s' (did you mean '%s'?)", key, s);
                else
                        PARSE_ERROR(ps, line, key, "unknown key '%s'", key);
                return ps->error;
        }
        if (!ps->in_section) {
                PARSE_ERROR(ps, line, key, "'%s' is outside any section: start a job with a [NAME] line", key);
                return ps->error;
        }
        bool in_defaults = !ps->job && !ps->section_broken;
        if (in_defaults && keys[id].per_job_only) {
                PARSE_ERROR(ps, line, key, "'%s' cannot be set in [defaults]: it belongs to each job", key);
                return ps->error;
        }
        if (ps->seen[id] && !keys[id].repeatable) {
                PARSE_ERROR(ps, line, key, "'%s' already set at line %u", key, ps->seen[id]);
                return ps->error;
        }
        ps->seen[id] = line;
        size_t bad = utf8_invalid_at(value);
        if (bad) {
                PARSE_ERROR(ps, line, key, "%s: not valid UTF-8 at byte %zu of the value", key, bad);
                return ps->error;
        }
        struct job scratch;
        struct job_extra scratch_extra;
        struct job *target = ps->job ? ps->job : in_defaults ? &ps->defaults : NULL;
        if (!target) {
                /* A broken section: still check the value, then drop it. */
                job_init_defaults(&scratch, &scratch_extra, ps->defaults.zone);
                target = &scratch;
        }
        set_value(ps, target, (enum key_id)id, value, line);
        if (target == &scratch)
                job_release(&scratch);
        return ps->error;
}

static bool on_continuable(void *user, const char *key)
{
        int id = key_lookup(key);
        return id >= 0 && keys[id].continuable;
}

static bool on_known_key(void *user, const char *key) { return key_lookup(key) >= 0; }

static void on_dropped(void *user, const char *key, unsigned line)
{
        struct parse *ps = user;
        int id = key ? key_lookup(key) : -1;
        if (id >= 0 && !ps->seen[id])
                ps->seen[id] = line;
}

static size_t text_hash(const char *text) { return (size_t)fnv1a_string(FNV1A_OFFSET, text); }

static size_t schedule_entry_size(const struct schedule *s)
{
        return align8(schedule_size(s) + strlen(schedule_text(s)) + 1);
}

/* The slot of TEXT in the table: its schedule's, or the empty one where
 * it would go. */
static struct schedule **schedule_slot(struct parse *ps, const char *text)
{
        size_t mask = ps->n_slots - 1;
        for (size_t i = text_hash(text) & mask;; i = (i + 1) & mask) {
                struct schedule **slot = &ps->schedule_slots[i];
                if (!*slot || strcmp(schedule_text(*slot), text) == 0)
                        return slot;
        }
}

/* Room for one more schedule in the table (kept at most half full); a
 * larger table is filled by walking the blocks. */
static int schedules_reserve(struct parse *ps)
{
        struct crontab_file *f = ps->out;
        if (2 * (f->n_schedules + 1) <= ps->n_slots)
                return 0;
        size_t n = ps->n_slots ? ps->n_slots * 2 : 16;
        struct schedule **slots = calloc(n, sizeof(*slots));
        if (!slots)
                return -ENOMEM;
        free(ps->schedule_slots);
        ps->schedule_slots = slots;
        ps->n_slots = n;
        for (struct crontab_block *b = f->schedule_blocks; b; b = b->next)
                for (size_t at = 0; at < b->used;) {
                        struct schedule *s = (struct schedule *)(b->data + at);
                        *schedule_slot(ps, schedule_text(s)) = s;
                        at += schedule_entry_size(s);
                }
        return 0;
}

/* JOB's schedule as the file keeps it: one copy per schedule text, the
 * text right after the schedule's bytes, shared by every job of the file
 * that has that text (the same text always parses to the same schedule).
 * Sets *SCHEDULE (NULL when JOB has none); -ENOMEM. */
static int schedules_intern(struct parse *ps, const struct job *job, struct schedule **schedule)
{
        if (!job->schedule)
                return 0;
        int r = schedules_reserve(ps);
        if (r < 0)
                return r;
        struct schedule **slot = schedule_slot(ps, schedule_text(job->schedule));
        if (!*slot) {
                size_t size = schedule_size(job->schedule) + strlen(schedule_text(job->schedule)) + 1;
                struct schedule *copy = block_alloc(&ps->out->schedule_blocks, size);
                if (!copy)
                        return -ENOMEM;
                memcpy(copy, job->schedule, size);
                ps->out->n_schedules++;
                *slot = copy;
        }
        *schedule = *slot;
        return 0;
}

static void section_end(struct parse *ps)
{
        struct job *job = TAKE_PTR(ps->job);
        if (!job)
                return;
        if (!ps->seen[KEY_SCHEDULE])
                PARSE_ERROR(ps, job->line, "schedule", "job '%s' has no schedule", job->name);
        if (!ps->seen[KEY_COMMAND])
                PARSE_ERROR(ps, job->line, "command", "job '%s' has no command", job->name);
        /* Each host boots on its own: there is no one instant to claim. */
        if (job->scope == JOB_SCOPE_FLEET && job->schedule && schedule_kind(job->schedule) == SCHEDULE_REBOOT)
                PARSE_ERROR(ps, ps->seen[KEY_SCOPE] ? ps->seen[KEY_SCOPE] : job->schedule_line, "scope",
                            "@reboot runs once per boot of each host; scope = fleet cannot apply");
        if (job->command && ps->options->check_commands) {
                char why[512];
                if (crontab_command_problem(job, ps->options, why, sizeof(why)) > 0)
                        PARSE_DIAG(ps, DIAG_WARNING, ps->seen[KEY_COMMAND], "command", "command: %s", why);
        }
        if (job->extra->mail_to && ps->options->check_commands && ps->options->sendmail &&
            access(ps->options->sendmail, X_OK) < 0)
                PARSE_DIAG(ps, DIAG_WARNING, ps->seen[KEY_MAIL_TO] ? ps->seen[KEY_MAIL_TO] : job->line, "mail_to",
                           "mail_to: no sendmail at %s (%s): this job's mail will not be sent", ps->options->sendmail,
                           strerror(errno));
        if (ps->options->limits_unenforced && limits_any(&job->extra->limits)) {
                static const enum key_id limit_keys[] = { KEY_MEMORY_MAX, KEY_CPU_QUOTA, KEY_TASKS_MAX, KEY_IO_WEIGHT };
                unsigned at = job->line;
                for (size_t i = 0; i < ELEMENTSOF(limit_keys); i++)
                        if (ps->seen[limit_keys[i]]) {
                                at = ps->seen[limit_keys[i]];
                                break;
                        }
                PARSE_DIAG(ps, DIAG_WARNING, at, NULL, "job '%s': its resource limits are not enforced: %s", job->name,
                           ps->options->limits_unenforced);
        }
        if (ps->options->lint_at && !ps->defaults_broken && errors_so_far(ps) == ps->section_errors &&
            crontab_lint_job(job, ps->options->lint_at, ps->diags) < 0)
                ps->error = -ENOMEM;
        if (ps->out->n_jobs == ps->jobs_cap) {
                size_t cap = ps->jobs_cap ? ps->jobs_cap * 2 : 16;
                struct job **jobs = realloc(ps->out->jobs, cap * sizeof(*jobs));
                if (!jobs) {
                        job_free(job);
                        ps->error = -ENOMEM;
                        return;
                }
                ps->out->jobs = jobs;
                ps->jobs_cap = cap;
        }
        struct schedule *schedule = NULL;
        struct job *packed = NULL;
        if (schedules_intern(ps, job, &schedule) >= 0)
                packed = job_pack(ps->out, job, schedule);
        if (!packed) {
                job_free(job);
                ps->error = -ENOMEM;
                return;
        }
        ps->out->jobs[ps->out->n_jobs++] = packed;
}

static int compare_jobs_by_name(const void *a, const void *b)
{
        const struct job *x = *(const struct job *const *)a, *y = *(const struct job *const *)b;
        int c = strcmp(x->name, y->name);
        return c ? c : (x->line > y->line) - (x->line < y->line);
}

/* Each repeated [NAME] is an error at its later header, naming the first. */
static void check_duplicate_names(struct parse *ps)
{
        size_t n = ps->out->n_jobs;
        if (n < 2)
                return;
        struct job **sorted = malloc(n * sizeof(*sorted));
        if (!sorted) {
                ps->error = -ENOMEM;
                return;
        }
        memcpy(sorted, ps->out->jobs, n * sizeof(*sorted));
        qsort(sorted, n, sizeof(*sorted), compare_jobs_by_name);
        for (size_t i = 1, first = 0; i < n; i++) {
                if (strcmp(sorted[i]->name, sorted[first]->name) != 0) {
                        first = i;
                        continue;
                }
                PARSE_ERROR(ps, sorted[i]->line, NULL, "job '%s' already defined at %s:%u", sorted[i]->name, ps->file,
                            sorted[first]->line);
        }
        free(sorted);
}

static void parse_free(struct parse *ps)
{
        free(ps->schedule_slots);
        job_release(&ps->defaults);
        job_free(ps->job);
        for (size_t i = 0; i < ps->n_memo; i++)
                free(ps->memo[i].name);
}

int crontab_load_buffer(const char *name, const char *buf, size_t len, const struct crontab_options *options,
                        struct crontab_file **out, struct diagnostics *diags)
{
        assert(options && options->zones && out && diags);
        *out = NULL;
        /* As for a file: and struct job's 24-bit line numbers rest on it. */
        if (len > CRONTAB_MAX_FILE_SIZE) {
                diag_add(diags, DIAG_ERROR, name, 0, "file is %zu bytes; the limit is %d", len, CRONTAB_MAX_FILE_SIZE);
                return -EFBIG;
        }

        const struct tz *zone = options->default_zone;
        if (!zone) {
                int r = tz_cache_get(options->zones, "UTC", &zone);
                if (r < 0)
                        return r;
        }
        struct crontab_file *file = calloc(1, sizeof(*file));
        if (!file || !(file->path = strdup(name))) {
                free(file);
                return -ENOMEM;
        }
        struct diagnostics found = { .limit = CRONTAB_MAX_DIAGNOSTICS };
        struct parse ps = { .file = name, .options = options, .diags = &found, .out = file };
        job_init_defaults(&ps.defaults, &ps.defaults_extra, zone);

        static const struct inifile_ops ops = {
                .section = on_section,
                .entry = on_entry,
                .continuable = on_continuable,
                .known_key = on_known_key,
                .dropped = on_dropped,
        };
        int r = inifile_parse(name, buf, len, &ops, &ps, &found);
        if (r >= 0 && !ps.error) {
                section_end(&ps);
                check_duplicate_names(&ps);
        }
        /* The list grew by doubling: up to half of it unused for as long
         * as the file is loaded. */
        if (file->n_jobs && file->n_jobs < ps.jobs_cap) {
                struct job **fit = realloc(file->jobs, file->n_jobs * sizeof(*fit));
                if (fit)
                        file->jobs = fit;
        }
        if (r >= 0 && ps.error)
                r = ps.error;
        parse_free(&ps);
        if (r >= 0 && diag_add_dropped_summary(&found, name) < 0)
                r = -ENOMEM;
        if (r >= 0 && diag_count(&found, DIAG_ERROR) > 0)
                r = -EINVAL;
        /* Diagnostics that cannot be handed over are lost: then the
         * answer is -ENOMEM, not a rejection that cannot say why. */
        int k = diag_move(diags, &found);
        diag_free(&found);
        if (k < 0)
                r = k;
        if (r < 0) {
                crontab_file_free(file);
                return r;
        }
        *out = file;
        return 0;
}

int crontab_load_file(const char *path, const struct crontab_options *options, struct crontab_file **out,
                      struct diagnostics *diags)
{
        *out = NULL;
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0) {
                int r = -errno;
                diag_add(diags, DIAG_ERROR, path, 0, "cannot open: %s", strerror(errno));
                return r;
        }
        struct stat st;
        if (fstat(fd, &st) < 0) {
                int r = -errno;
                diag_add(diags, DIAG_ERROR, path, 0, "cannot stat: %s", strerror(errno));
                return r;
        }
        if (!S_ISREG(st.st_mode)) {
                diag_add(diags, DIAG_ERROR, path, 0, "not a regular file");
                return -EINVAL;
        }
        /* The checks look at what was opened (a symlink's target), not at the name. */
        if (!options->ignore_ownership && crontab_check_owner(path, &st, options, false, diags) < 0)
                return -EPERM;
        if (st.st_size > CRONTAB_MAX_FILE_SIZE) {
                diag_add(diags, DIAG_ERROR, path, 0, "file is %lld bytes; the limit is %d", (long long)st.st_size,
                         CRONTAB_MAX_FILE_SIZE);
                return -EFBIG;
        }
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        int r = fileio_read_all(fd, CRONTAB_MAX_FILE_SIZE, &buf, &len);
        if (r == -EFBIG)
                diag_add(diags, DIAG_ERROR, path, 0, "file grew past %d bytes while read", CRONTAB_MAX_FILE_SIZE);
        else if (r < 0 && r != -ENOMEM)
                diag_add(diags, DIAG_ERROR, path, 0, "cannot read: %s", strerror(-r));
        if (r < 0)
                return r;
        r = crontab_load_buffer(path, buf, len, options, out, diags);
        if (r < 0)
                return r;
        (*out)->identity = file_identity_of(&st);
        return 0;
}
