/* journal-query.h — what `tickctl history` and `tickctl logs` share to
 * read tickd's records back with sd-journal.
 *
 * Opening: the local journal (system files and the caller's own) or one
 * directory (--directory, e.g. a copied /var/log/journal); with --user,
 * only entries sent by the caller's uid (_UID=), which is where a user
 * instance (`tickd --user`) and its jobs' output land, whether the journal
 * splits files per user or not.
 *
 * Reading: field values as C strings, and the run records (the finished
 * events: succeeded, failed, timed out, skipped, lost, cancelled, dropped) decoded
 * into struct run_record.
 *
 * Time: --since takes "now", "today", "yesterday", "YYYY-MM-DD[ HH:MM[:SS]]",
 * "HH:MM[:SS]" (today), "@UNIX_SECONDS", "-SPAN" or "SPAN ago", "+SPAN"
 * (SPAN as in timespan.h), in local time. */
#ifndef TICKD_JOURNAL_QUERY_H
#define TICKD_JOURNAL_QUERY_H

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-journal.h>

#include "shared/log.h"

/* DIRECTORY NULL = the local journal. Returns 0 or a negative errno. */
int journal_query_open(sd_journal **ret, const char *directory, bool user);
/* Adds FIELD=VALUE as a match. */
int journal_query_match(sd_journal *j, const char *field, const char *value);
/* Matches the MESSAGE_ID of every finished-run event. */
int journal_query_match_finished(sd_journal *j);

/* Why a query found nothing, when the reason is not the query: says on
 * stderr, after "tickctl COMMAND: ", that the journal (DIRECTORY, NULL =
 * the local one) has no entries at all, or none from tickd (a tickd that
 * logs to its standard error, as `make run` starts it, writes nothing
 * there). Returns true when it said so, false when tickd's records are
 * there and the query simply matched none of them. */
bool journal_query_explain_empty(const char *command, const char *directory, bool user);

/* The current entry's FIELD, malloc'd and NUL-terminated; -ENOENT when the
 * entry has no such field. */
int journal_query_field(sd_journal *j, const char *field, char **ret);

/* One finished run, as `tickctl history` shows it. Absent numbers are -1. */
struct run_record {
        uint64_t realtime_usec; /* when the record was written */
        int64_t scheduled_usec; /* TICKD_SCHEDULED_USEC */
        enum log_event event;
        char *job, *run_id, *user, *signal;
        int64_t exit_status, duration_usec, cpu_usec, maxrss_kb;
};

/* Decodes the current entry. Returns 0, -ENOENT when it is not a finished
 * run, or a negative errno. */
int run_record_read(sd_journal *j, struct run_record *ret);
void run_record_free(struct run_record *r);
/* "succeeded", "failed", ... (the RESULT column). */
const char *run_record_result(const struct run_record *r);
/* Whether it counts for --failed: failed, timed out, lost, dropped. */
bool run_record_is_failure(const struct run_record *r);

int journal_query_parse_time(const char *text, uint64_t now_usec, uint64_t *ret_usec);
/* "2026-11-28 23:50:01" in local time into BUF; "-" for 0. Returns BUF. */
char *journal_query_format_time(uint64_t realtime_usec, bool with_zone, char *buf, size_t size);
/* "812us", "31.4ms", "1.204s", "2min 5s", "-" for a negative span. Returns BUF. */
char *journal_query_format_span(int64_t usec, char *buf, size_t size);

#endif
