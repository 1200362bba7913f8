/* history.c — tickctl history: one line per finished run, read from the
 * journal with sd-journal, in scheduled order, newest last. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "shared/clock.h"
#include "core/json.h"
#include "tickctl/commands.h"
#include "tickctl/common.h"
#include "tickctl/fleet-query.h"
#include "tickctl/journal-query.h"

struct history_options {
        const char *job;
        const char *directory;
        const char *config_dir; /* --config-dir, for --fleet */
        long limit;             /* -1 = all */
        uint64_t since_usec;
        bool failed_only, json, user, fleet;
        bool terminal; /* stdout is one: control characters in names are escaped */
};

static void history_usage(FILE *out)
{
        fprintf(out, "Usage: tickctl history [JOB] [-n N] [--since TIME] [--failed] [--json]\n"
                     "                       [--user] [--directory DIR]\n"
                     "       tickctl history --fleet [JOB] [-n N] [--since TIME] [--failed] [--json]\n"
                     "                       [--user] [--config-dir DIR]\n");
}

static int history_parse(int argc, char **argv, struct history_options *o)
{
        static const struct option longopts[] = {
                { "lines", required_argument, NULL, 'n' },
                { "since", required_argument, NULL, 'S' },
                { "failed", no_argument, NULL, 'F' },
                { "json", no_argument, NULL, 'J' },
                { "user", no_argument, NULL, 'U' },
                { "directory", required_argument, NULL, 'D' },
                { "fleet", no_argument, NULL, 'L' },
                { "config-dir", required_argument, NULL, 'C' },
                /* The other common options, for scripts that pass them to
                 * every command; the journal has no use for them. */
                { "runtime-dir", required_argument, NULL, 'P' },
                { "state-dir", required_argument, NULL, 'P' },
                { "no-pager", no_argument, NULL, 'P' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        *o = (struct history_options){ .limit = -1, .terminal = isatty(STDOUT_FILENO) };
        int c;
        while ((c = getopt_long(argc, argv, "n:D:h", longopts, NULL)) >= 0) {
                char *end;
                switch (c) {
                case 'n':
                        o->limit = strtol(optarg, &end, 10);
                        if (end == optarg || *end || o->limit < 0) {
                                fprintf(stderr, "tickctl history: -n wants a count, not '%s'\n", optarg);
                                return -EINVAL;
                        }
                        break;
                case 'S': {
                        if (journal_query_parse_time(optarg, clock_now_usec(CLOCK_REALTIME), &o->since_usec) < 0) {
                                fprintf(stderr, "tickctl history: --since: cannot parse time '%s'\n", optarg);
                                return -EINVAL;
                        }
                        break;
                }
                case 'F': o->failed_only = true; break;
                case 'J': o->json = true; break;
                case 'U': o->user = true; break;
                case 'D': o->directory = optarg; break;
                case 'L': o->fleet = true; break;
                case 'C': o->config_dir = optarg; break;
                case 'P': break; /* never paged; taken as every command takes it, as the dirs above */
                case 'h': history_usage(stdout); return 1;
                default: history_usage(stderr); return -EINVAL;
                }
        }
        if (optind < argc)
                o->job = argv[optind++];
        if (optind < argc || (o->fleet && o->directory)) {
                if (o->fleet && o->directory)
                        fprintf(stderr, "tickctl history: --fleet reads etcd, not a journal: no --directory\n");
                history_usage(stderr);
                return -EINVAL;
        }
        return 0;
}

static void print_json(const struct run_record *r)
{
        printf("{\"time_usec\":%llu,\"scheduled_usec\":", (unsigned long long)r->realtime_usec);
        if (r->scheduled_usec >= 0)
                printf("%lld", (long long)r->scheduled_usec);
        else
                fputs("null", stdout);
        fputs(",\"job\":", stdout);
        json_write_string(stdout, r->job);
        fputs(",\"run_id\":", stdout);
        json_write_string(stdout, r->run_id);
        fputs(",\"result\":", stdout);
        json_write_string(stdout, run_record_result(r));
        const struct {
                const char *key;
                int64_t value;
        } numbers[] = {
                { "exit_status", r->exit_status },
                { "duration_usec", r->duration_usec },
                { "cpu_usec", r->cpu_usec },
                { "maxrss_kb", r->maxrss_kb },
        };
        for (size_t i = 0; i < ELEMENTSOF(numbers); i++) {
                if (numbers[i].value >= 0)
                        printf(",\"%s\":%lld", numbers[i].key, (long long)numbers[i].value);
                else
                        printf(",\"%s\":null", numbers[i].key);
        }
        fputs(",\"signal\":", stdout);
        json_write_string(stdout, r->signal);
        fputs(",\"user\":", stdout);
        json_write_string(stdout, r->user);
        fputs("}\n", stdout);
}

/* The instant a run is listed and sorted by: its scheduled one, or for a
 * run started by hand (none), when its record was written. */
static uint64_t record_when(const struct run_record *r)
{
        return r->scheduled_usec > 0 ? (uint64_t)r->scheduled_usec : r->realtime_usec;
}

#define COLUMNS 6

static void row_cells(const struct run_record *r, bool terminal, char cells[COLUMNS][64])
{
        journal_query_format_time(record_when(r), true, cells[0], 64);
        char text[64];
        snprintf(cells[1], 64, "%s", r->job ? ctl_text(r->job, terminal, text, sizeof(text)) : "-");
        snprintf(cells[2], 64, "%s", run_record_result(r));
        if (r->signal)
                snprintf(cells[3], 64, "%s", ctl_text(r->signal, terminal, text, sizeof(text)));
        else if (r->exit_status >= 0)
                snprintf(cells[3], 64, "%lld", (long long)r->exit_status);
        else
                snprintf(cells[3], 64, "-");
        journal_query_format_span(r->duration_usec, cells[4], 64);
        journal_query_format_span(r->cpu_usec, cells[5], 64);
}

static void print_cell(const char *text, size_t width, bool last)
{
        if (last)
                printf("%s\n", text);
        else
                printf("%-*s  ", (int)width, text);
}

static void print_table(const struct run_record *runs, size_t count, bool terminal)
{
        static const char *const headers[COLUMNS] = { "SCHEDULED", "JOB", "RESULT", "EXIT", "DURATION", "CPU" };
        size_t width[COLUMNS];
        char cells[COLUMNS][64];
        for (int c = 0; c < COLUMNS; c++)
                width[c] = strlen(headers[c]);
        for (size_t i = 0; i < count; i++) {
                row_cells(&runs[i], terminal, cells);
                for (int c = 0; c < COLUMNS; c++)
                        if (strlen(cells[c]) > width[c])
                                width[c] = strlen(cells[c]);
        }
        for (int c = 0; c < COLUMNS; c++)
                print_cell(headers[c], width[c], c == COLUMNS - 1);
        for (size_t i = 0; i < count; i++) {
                row_cells(&runs[i], terminal, cells);
                for (int c = 0; c < COLUMNS; c++)
                        print_cell(cells[c], width[c], c == COLUMNS - 1);
        }
        printf("\n%zu run%s listed.\n", count, count == 1 ? "" : "s");
}

/* The runs kept so far, in listing order, in a ring of CAPACITY slots. */
struct run_ring {
        struct run_record *slot;
        size_t capacity, first, count;
};

static struct run_record *ring_at(struct run_ring *ring, size_t i)
{
        return &ring->slot[(ring->first + i) % ring->capacity];
}

static int ring_grow(struct run_ring *ring)
{
        struct run_record *bigger = calloc(2 * ring->capacity, sizeof(*bigger));
        if (!bigger)
                return -ENOMEM;
        for (size_t i = 0; i < ring->count; i++)
                bigger[i] = *ring_at(ring, i);
        free(ring->slot);
        *ring = (struct run_ring){ .slot = bigger, .capacity = 2 * ring->capacity, .count = ring->count };
        return 0;
}

/* Inserts REC (taking it) in scheduled order after every run of the same
 * instant, so equal instants keep the journal's order; with a LIMIT, the
 * earliest run goes when the ring is full. A skipped instant is written
 * when it is found, which may be after a later instant's run ended: the
 * journal's order is nearly this one, so the walk back is short. */
static int ring_insert(struct run_ring *ring, long limit, struct run_record *rec)
{
        uint64_t when = record_when(rec);
        if (limit >= 0 && ring->count == (size_t)limit) {
                if (limit == 0 || when < record_when(ring_at(ring, 0))) {
                        run_record_free(rec);
                        return 0;
                }
                run_record_free(ring_at(ring, 0));
                ring->first = (ring->first + 1) % ring->capacity;
                ring->count--;
        } else if (ring->count == ring->capacity) {
                int r = ring_grow(ring);
                if (r < 0) {
                        run_record_free(rec);
                        return r;
                }
        }
        size_t i = ring->count++;
        for (; i > 0 && record_when(ring_at(ring, i - 1)) > when; i--)
                *ring_at(ring, i) = *ring_at(ring, i - 1);
        *ring_at(ring, i) = *rec;
        return 0;
}

/* Reads the matching runs and keeps only the last LIMIT in scheduled
 * order, so memory stays bounded by -n however long the journal is. */
static int history_collect(sd_journal *j, const struct history_options *o, struct run_record **ret, size_t *ret_count)
{
        struct run_ring ring = { .capacity = o->limit > 0 ? (size_t)o->limit : 64 };
        ring.slot = calloc(ring.capacity, sizeof(*ring.slot));
        if (!ring.slot)
                return -ENOMEM;
        int r = o->since_usec ? sd_journal_seek_realtime_usec(j, o->since_usec) : sd_journal_seek_head(j);
        while (r >= 0 && (r = sd_journal_next(j)) > 0) {
                struct run_record rec;
                if (run_record_read(j, &rec) < 0)
                        continue;
                if (o->failed_only && !run_record_is_failure(&rec))
                        run_record_free(&rec);
                else
                        r = ring_insert(&ring, o->limit, &rec);
        }
        /* Unroll the ring into listing order. */
        struct run_record *out = r >= 0 ? calloc(ring.count ? ring.count : 1, sizeof(*out)) : NULL;
        for (size_t i = 0; i < ring.count; i++) {
                if (out)
                        out[i] = *ring_at(&ring, i);
                else
                        run_record_free(ring_at(&ring, i));
        }
        free(ring.slot);
        if (r < 0)
                return r;
        if (!out)
                return -ENOMEM;
        *ret = out;
        *ret_count = ring.count;
        return 0;
}

static int history_fleet(const struct history_options *o)
{
        _cleanup_free_ char *config_dir = ctl_config_dir(o->config_dir, o->user);
        if (!config_dir) {
                fprintf(stderr, "tickctl history: out of memory\n");
                return 2;
        }
        return ctl_history_fleet(&(struct fleet_history_options){ .config_dir = config_dir,
                                                                  .job = o->job,
                                                                  .limit = o->limit,
                                                                  .since_usec = o->since_usec,
                                                                  .failed_only = o->failed_only,
                                                                  .json = o->json,
                                                                  .terminal = o->terminal });
}

int ctl_history(int argc, char **argv)
{
        struct history_options o;
        int r = history_parse(argc, argv, &o);
        if (r != 0)
                return r > 0 ? 0 : 2;
        if (o.fleet)
                return history_fleet(&o);
        sd_journal *j = NULL;
        r = journal_query_open(&j, o.directory, o.user);
        if (r < 0) {
                fprintf(stderr, "tickctl history: cannot open the journal%s%s: %s\n", o.directory ? " in " : "",
                        o.directory ? o.directory : "", strerror(-r));
                return 2;
        }
        r = journal_query_match_finished(j);
        if (r >= 0 && o.job)
                r = journal_query_match(j, "TICKD_JOB", o.job);
        struct run_record *runs = NULL;
        size_t count = 0;
        if (r >= 0)
                r = history_collect(j, &o, &runs, &count);
        sd_journal_close(j);
        if (r < 0) {
                fprintf(stderr, "tickctl history: reading the journal: %s\n", strerror(-r));
                return 2;
        }
        if (count == 0 && journal_query_explain_empty("history", o.directory, o.user)) {
                free(runs);
                return 1;
        }
        if (o.json)
                for (size_t i = 0; i < count; i++)
                        print_json(&runs[i]);
        else
                print_table(runs, count, o.terminal);
        for (size_t i = 0; i < count; i++)
                run_record_free(&runs[i]);
        free(runs);
        return 0;
}
