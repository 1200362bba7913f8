/* journal-query.c — reading tickd's records with sd-journal; see
 * journal-query.h. */
#include "tickctl/journal-query.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "core/timespan.h"

int journal_query_open(sd_journal **ret, const char *directory, bool user)
{
        sd_journal *j = NULL;
        int r = directory ? sd_journal_open_directory(&j, directory, 0) : sd_journal_open(&j, SD_JOURNAL_LOCAL_ONLY);
        if (r < 0)
                return r;
        if (user) {
                char uid[32];
                snprintf(uid, sizeof(uid), "%u", (unsigned)getuid());
                r = journal_query_match(j, "_UID", uid);
                if (r < 0) {
                        sd_journal_close(j);
                        return r;
                }
        }
        *ret = j;
        return 0;
}

int journal_query_match(sd_journal *j, const char *field, const char *value)
{
        _cleanup_free_ char *match = NULL;
        if (asprintf(&match, "%s=%s", field, value) < 0)
                return -ENOMEM;
        return sd_journal_add_match(j, match, 0);
}

static const enum log_event finished_events[] = {
        LOG_EVENT_SUCCEEDED, LOG_EVENT_FAILED,    LOG_EVENT_TIMED_OUT, LOG_EVENT_SKIPPED,
        LOG_EVENT_LOST,      LOG_EVENT_CANCELLED, LOG_EVENT_DROPPED,
};

int journal_query_match_finished(sd_journal *j)
{
        /* Matches on one field are OR'ed by sd-journal. */
        for (size_t i = 0; i < ELEMENTSOF(finished_events); i++) {
                int r = journal_query_match(j, "MESSAGE_ID", log_event_message_id(finished_events[i]));
                if (r < 0)
                        return r;
        }
        return 0;
}

/* 1 when J (with its matches) has an entry, 0 when not, or a negative errno. */
static int journal_has_entry(sd_journal *j)
{
        int r = sd_journal_seek_head(j);
        return r < 0 ? r : sd_journal_next(j);
}

bool journal_query_explain_empty(const char *command, const char *directory, bool user)
{
        sd_journal *j = NULL;
        if (journal_query_open(&j, directory, user) < 0)
                return false;
        int any = journal_has_entry(j), tickd = 0;
        if (any > 0) {
                tickd = journal_query_match_finished(j);
                if (tickd >= 0)
                        tickd = journal_query_match(j, "MESSAGE_ID", log_event_message_id(LOG_EVENT_DAEMON_STARTED));
                if (tickd >= 0)
                        tickd = journal_has_entry(j);
        }
        sd_journal_close(j);
        if (any < 0 || tickd < 0 || tickd > 0)
                return false;
        if (any == 0)
                fprintf(stderr,
                        "tickctl %s: the journal%s%s has no entries that you can read (no systemd-journald, or "
                        "not in its group?); a tickd that logs to its standard error, as make run starts it, "
                        "writes its runs there\n",
                        command, directory ? " in " : "", directory ? directory : "");
        else
                fprintf(stderr,
                        "tickctl %s: the journal has no records from tickd at all; a tickd that logs to its "
                        "standard error (--log-target stderr, as make run starts it) writes its runs there, not "
                        "to the journal\n",
                        command);
        return true;
}

int journal_query_field(sd_journal *j, const char *field, char **ret)
{
        const void *data;
        size_t len, field_len = strlen(field);
        int r = sd_journal_get_data(j, field, &data, &len);
        if (r < 0)
                return r;
        if (len <= field_len || ((const char *)data)[field_len] != '=')
                return -EBADMSG;
        *ret = strndup((const char *)data + field_len + 1, len - field_len - 1);
        return *ret ? 0 : -ENOMEM;
}

static int64_t field_number(sd_journal *j, const char *field)
{
        _cleanup_free_ char *value = NULL;
        if (journal_query_field(j, field, &value) < 0)
                return -1;
        char *end;
        errno = 0;
        long long n = strtoll(value, &end, 10);
        return errno || end == value || *end ? -1 : n;
}

int run_record_read(sd_journal *j, struct run_record *ret)
{
        _cleanup_free_ char *id = NULL;
        int r = journal_query_field(j, "MESSAGE_ID", &id);
        if (r < 0)
                return r;
        int event = log_event_from_message_id(id);
        bool finished = false;
        for (size_t i = 0; i < ELEMENTSOF(finished_events); i++)
                finished |= event == (int)finished_events[i];
        /* An on_failure command's record shares its run's id, but it is not
         * a run of the job: history and the last outcome skip it. */
        _cleanup_free_ char *handler = NULL;
        if (!finished || journal_query_field(j, "TICKD_ON_FAILURE", &handler) >= 0)
                return -ENOENT;
        struct run_record rec = {
                .event = (enum log_event)event,
                .scheduled_usec = field_number(j, "TICKD_SCHEDULED_USEC"),
                .exit_status = field_number(j, "TICKD_EXIT_STATUS"),
                .duration_usec = field_number(j, "TICKD_DURATION_USEC"),
                .cpu_usec = field_number(j, "TICKD_CPU_USEC"),
                .maxrss_kb = field_number(j, "TICKD_MAXRSS_KB"),
        };
        r = sd_journal_get_realtime_usec(j, &rec.realtime_usec);
        if (r < 0)
                return r;
        (void)journal_query_field(j, "TICKD_JOB", &rec.job);
        (void)journal_query_field(j, "TICKD_RUN_ID", &rec.run_id);
        (void)journal_query_field(j, "TICKD_USER", &rec.user);
        (void)journal_query_field(j, "TICKD_SIGNAL", &rec.signal);
        *ret = rec;
        return 0;
}

void run_record_free(struct run_record *r)
{
        free(r->job);
        free(r->run_id);
        free(r->user);
        free(r->signal);
        *r = (struct run_record){ 0 };
}

const char *run_record_result(const struct run_record *r) { return log_event_name(r->event); }

bool run_record_is_failure(const struct run_record *r)
{
        return r->event == LOG_EVENT_FAILED || r->event == LOG_EVENT_TIMED_OUT || r->event == LOG_EVENT_LOST ||
               r->event == LOG_EVENT_DROPPED;
}

static int parse_clock(const char *p, struct tm *tm)
{
        int h, m, s = 0, n = 0;
        if (sscanf(p, "%d:%d%n", &h, &m, &n) != 2)
                return -EINVAL;
        p += n;
        if (*p == ':') {
                if (sscanf(p, ":%d%n", &s, &n) != 1)
                        return -EINVAL;
                p += n;
        }
        if (*p || h < 0 || h > 23 || m < 0 || m > 59 || s < 0 || s > 60)
                return -EINVAL;
        tm->tm_hour = h;
        tm->tm_min = m;
        tm->tm_sec = s;
        return 0;
}

int journal_query_parse_time(const char *text, uint64_t now_usec, uint64_t *ret_usec)
{
        uint64_t span;
        size_t len = strlen(text);
        if (strcmp(text, "now") == 0) {
                *ret_usec = now_usec;
                return 0;
        }
        if (text[0] == '@') {
                char *end;
                errno = 0;
                unsigned long long s = strtoull(text + 1, &end, 10);
                if (errno || end == text + 1 || *end)
                        return -EINVAL;
                *ret_usec = s * USEC_PER_SEC;
                return 0;
        }
        if (text[0] == '+') {
                int r = timespan_parse(text + 1, &span);
                if (r < 0)
                        return r;
                *ret_usec = now_usec + span;
                return 0;
        }
        if (text[0] == '-' || (len > 4 && strcmp(text + len - 4, " ago") == 0)) {
                _cleanup_free_ char *s = text[0] == '-' ? strdup(text + 1) : strndup(text, len - 4);
                if (!s)
                        return -ENOMEM;
                int r = timespan_parse(s, &span);
                if (r < 0)
                        return r;
                *ret_usec = span > now_usec ? 0 : now_usec - span;
                return 0;
        }

        time_t now = (time_t)(now_usec / USEC_PER_SEC);
        struct tm tm;
        localtime_r(&now, &tm);
        tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
        if (strcmp(text, "today") == 0)
                ;
        else if (strcmp(text, "yesterday") == 0)
                tm.tm_mday--;
        else if (strcmp(text, "tomorrow") == 0)
                tm.tm_mday++;
        else if (isdigit((unsigned char)text[0]) && strchr(text, '-')) {
                int y, mo, d, n = 0;
                if (sscanf(text, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3 || mo < 1 || mo > 12 || d < 1 || d > 31)
                        return -EINVAL;
                tm.tm_year = y - 1900;
                tm.tm_mon = mo - 1;
                tm.tm_mday = d;
                if (text[n] == ' ' || text[n] == 'T') {
                        if (parse_clock(text + n + 1, &tm) < 0)
                                return -EINVAL;
                } else if (text[n])
                        return -EINVAL;
        } else if (parse_clock(text, &tm) < 0)
                return -EINVAL;
        tm.tm_isdst = -1;
        time_t t = mktime(&tm);
        if (t == (time_t)-1)
                return -EINVAL;
        *ret_usec = (uint64_t)t * USEC_PER_SEC;
        return 0;
}

char *journal_query_format_time(uint64_t realtime_usec, bool with_zone, char *buf, size_t size)
{
        if (realtime_usec == 0) {
                snprintf(buf, size, "-");
                return buf;
        }
        time_t t = (time_t)(realtime_usec / USEC_PER_SEC);
        struct tm tm;
        localtime_r(&t, &tm);
        if (strftime(buf, size, with_zone ? "%a %Y-%m-%d %H:%M:%S %Z" : "%Y-%m-%d %H:%M:%S", &tm) == 0)
                snprintf(buf, size, "-");
        return buf;
}

char *journal_query_format_span(int64_t usec, char *buf, size_t size)
{
        if (usec < 0)
                snprintf(buf, size, "-");
        else if (usec < 1000)
                snprintf(buf, size, "%lldus", (long long)usec);
        else if (usec < 1000000)
                snprintf(buf, size, "%.1fms", (double)usec / 1000.0);
        else if (usec < 60 * 1000000LL)
                snprintf(buf, size, "%.3fs", (double)usec / 1e6);
        else
                timespan_format((uint64_t)(usec / 1000000) * USEC_PER_SEC, buf, size);
        return buf;
}
