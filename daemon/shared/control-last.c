/* control-last.c — last outcomes per job, on disk in the state directory;
 * see control-last.h. */
#include "shared/control-last.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "shared/log.h"
#include "shared/state.h"

struct last {
        char *job;
        char run_id[CONTROL_RUN_ID_MAX];
        char result[24];
        struct control_outcome outcome; /* run_id and result point into this struct */
};

struct control_last {
        sd_event_source *save_timer;
        const char *state_dir;
        struct last *items;
        size_t n, cap;
        bool dirty;
        struct state_writes writes;
};

static struct last *find(const struct control_last *l, const char *job)
{
        for (size_t i = 0; i < l->n; i++)
                if (strcmp(l->items[i].job, job) == 0)
                        return &l->items[i];
        return NULL;
}

static struct last *find_or_add(struct control_last *l, const char *job)
{
        struct last *it = find(l, job);
        if (it)
                return it;
        if (l->n == l->cap) {
                size_t cap = l->cap ? l->cap * 2 : 16;
                struct last *a = realloc(l->items, cap * sizeof(*a));
                if (!a)
                        return NULL;
                l->items = a;
                l->cap = cap;
                /* Each outcome points into its own item, which has moved. */
                for (size_t i = 0; i < l->n; i++) {
                        a[i].outcome.run_id = a[i].run_id;
                        a[i].outcome.result = a[i].result;
                }
        }
        char *name = strdup(job);
        if (!name)
                return NULL;
        it = &l->items[l->n++];
        *it = (struct last){ .job = name };
        return it;
}

static void store(struct last *it, const struct control_outcome *o)
{
        snprintf(it->run_id, sizeof(it->run_id), "%s", o->run_id ? o->run_id : "");
        snprintf(it->result, sizeof(it->result), "%s", o->result ? o->result : "");
        it->outcome = *o;
        it->outcome.run_id = it->run_id;
        it->outcome.result = it->result;
}

/* Before the outcome words were the journal's event names, this file held
 * other words for the same outcomes; a file written then still reads. */
static const struct {
        const char *word;
        enum log_event event;
} earlier_words[] = {
        { "success", LOG_EVENT_SUCCEEDED },
        { "timeout", LOG_EVENT_TIMED_OUT },
        { "exec-failed", LOG_EVENT_FAILED },
        { "setup-failed", LOG_EVENT_FAILED },
};

/* The outcome word WORD stands for, NULL when it is none. */
static const char *outcome_word(const char *word)
{
        for (size_t i = 0; i < ELEMENTSOF(earlier_words); i++)
                if (strcmp(earlier_words[i].word, word) == 0)
                        return log_event_name(earlier_words[i].event);
        int event = log_event_from_name(word);
        return event >= 0 && log_event_is_outcome(event) ? log_event_name(event) : NULL;
}

/* One line of the file; false when it is damaged. */
static bool parse_line(struct control_last *l, char *line)
{
        char word[24], run_id[CONTROL_RUN_ID_MAX];
        int exit_status, sig, job_at = -1;
        uint64_t start, end;
        line[strcspn(line, "\n")] = '\0';
        if (sscanf(line, "%23s %d %d %" SCNu64 " %" SCNu64 " %32s %n", word, &exit_status, &sig, &start, &end, run_id,
                   &job_at) != 6 ||
            job_at < 0 || !line[job_at])
                return false;
        const char *result = outcome_word(word);
        if (!result)
                return false;
        struct last *it = find_or_add(l, line + job_at);
        if (!it)
                return false;
        store(it, &(struct control_outcome){ .run_id = run_id,
                                             .result = result,
                                             .exit_status = exit_status,
                                             .signal = sig,
                                             .start_usec = start,
                                             .end_usec = end });
        return true;
}

static int load(struct control_last *l)
{
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", l->state_dir, CONTROL_LAST_FILE);
        int fd = state_open_file(l->state_dir, CONTROL_LAST_FILE);
        if (fd < 0)
                return fd == -ENOENT ? 0 : fd;
        FILE *f = fdopen(fd, "r");
        if (!f) {
                int r = -errno;
                close(fd);
                return r;
        }
        char *line = NULL;
        size_t size = 0;
        unsigned damaged = 0;
        while (getline(&line, &size, f) > 0)
                damaged += !parse_line(l, line);
        free(line);
        fclose(f);
        if (damaged)
                log_msg(LOG_WARNING, "%s: %u damaged line(s) skipped", path, damaged);
        return 0;
}

static int on_save_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
        control_last_save(userdata);
        return 0;
}

int control_last_new(sd_event *event, const char *state_dir, struct control_last **out)
{
        struct control_last *l = calloc(1, sizeof(*l));
        if (!l)
                return -ENOMEM;
        l->state_dir = state_dir;
        int r = 0;
        if (state_dir) {
                r = sd_event_add_time_relative(event, &l->save_timer, CLOCK_MONOTONIC, CONTROL_LAST_SAVE_DELAY_USEC,
                                               CONTROL_LAST_SAVE_DELAY_USEC / 10, on_save_timer, l);
                if (r >= 0)
                        r = sd_event_source_set_enabled(l->save_timer, SD_EVENT_OFF);
                int lr = r >= 0 ? load(l) : 0;
                if (lr < 0) /* not fatal: the table starts empty */
                        log_msg(LOG_WARNING, "cannot read %s/%s: %s", state_dir, CONTROL_LAST_FILE,
                                control_last_strerror(lr));
        }
        if (r < 0) {
                control_last_free(l);
                return r;
        }
        *out = l;
        return 0;
}

const char *control_last_strerror(int r)
{
        if (r == -ELOOP)
                return "a symbolic link, not followed";
        if (r == -EBADFD)
                return "not a regular file";
        return strerror(-r);
}

int control_last_read(const char *state_dir, struct control_last **out)
{
        struct control_last *l = calloc(1, sizeof(*l));
        if (!l)
                return -ENOMEM;
        l->state_dir = state_dir;
        int r = load(l);
        if (r < 0) {
                control_last_free(l);
                return r;
        }
        *out = l;
        return 0;
}

struct control_last *control_last_free(struct control_last *l)
{
        if (!l)
                return NULL;
        control_last_save(l);
        sd_event_source_disable_unref(l->save_timer);
        for (size_t i = 0; i < l->n; i++)
                free(l->items[i].job);
        free(l->items);
        free(l);
        return NULL;
}

const struct control_outcome *control_last_get(const struct control_last *l, const char *job)
{
        const struct last *it = l ? find(l, job) : NULL;
        return it ? &it->outcome : NULL;
}

int control_last_set(struct control_last *l, const char *job, const struct control_outcome *o)
{
        struct last *it = find_or_add(l, job);
        if (!it)
                return -ENOMEM;
        store(it, o);
        l->dirty = true;
        int enabled = SD_EVENT_ON;
        if (l->save_timer && sd_event_source_get_enabled(l->save_timer, &enabled) >= 0 && enabled == SD_EVENT_OFF) {
                int r = sd_event_source_set_time_relative(l->save_timer, CONTROL_LAST_SAVE_DELAY_USEC);
                if (r >= 0)
                        r = sd_event_source_set_enabled(l->save_timer, SD_EVENT_ONESHOT);
                if (r < 0)
                        return r;
        }
        return 0;
}

int control_last_save(struct control_last *l)
{
        if (!l || !l->dirty || !l->state_dir)
                return 0;
        char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);
        if (!f)
                return -ENOMEM;
        for (size_t i = 0; i < l->n; i++) {
                const struct last *it = &l->items[i];
                const struct control_outcome *o = &it->outcome;
                /* Never write a line that would not read back. */
                if (strchr(it->job, '\n') || !*o->result || strpbrk(o->result, " \t\n") || !*o->run_id ||
                    strpbrk(o->run_id, " \t\n"))
                        continue;
                fprintf(f, "%s %d %d %" PRIu64 " %" PRIu64 " %s %s\n", o->result, o->exit_status, o->signal,
                        o->start_usec, o->end_usec, o->run_id, it->job);
        }
        if (fclose(f) != 0) {
                free(text);
                return -ENOMEM;
        }
        int r = state_write_atomic(l->state_dir, CONTROL_LAST_FILE, text);
        free(text);
        state_writes_report(&l->writes, "the last outcomes (" CONTROL_LAST_FILE ")", l->state_dir, r);
        if (r < 0)
                return r;
        l->dirty = false;
        sd_event_source_set_enabled(l->save_timer, SD_EVENT_OFF);
        return 0;
}
