/* run.c — tickctl run JOB [--wait | --follow]: run a job now, outside
 * its schedule, with its runner and overlap policy; with --wait, exit as
 * the job did; with --follow, show its output meanwhile (run-follow.h). */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "shared/control-protocol.h"
#include "shared/log.h"
#include "tickctl/common.h"
#include "tickctl/commands.h"
#include "tickctl/run-follow.h"
#include "core/timespan.h"
#include "core/json.h"

/* The job's own exit status; 128+N for a signal, as a shell reports it. */
static int outcome_status(const char *result, int exit_status, int sig)
{
        if (sig > 0)
                return 128 + sig;
        if (exit_status >= 0)
                return exit_status;
        return log_event_from_name(result) == LOG_EVENT_SUCCEEDED ? 0 : 1;
}

struct wait_state {
        const char *name;
        bool done;
        sd_bus_message *reply;
        sd_bus_error error;
        struct run_follow *follow; /* --follow, else NULL */
        uint64_t since_usec;       /* CLOCK_REALTIME before the call, for FOLLOW */
};

/* The daemon names the run (RunStarted), or says why it does not start at
 * once (RunWaiting), before its outcome. */
static int on_run_signal(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        struct wait_state *st = userdata;
        bool started = sd_bus_message_is_signal(m, CONTROL_INTERFACE, "RunStarted");
        if (!started && !sd_bus_message_is_signal(m, CONTROL_INTERFACE, "RunWaiting"))
                return 0;
        const char *job, *run_id, *state = "started";
        if (sd_bus_message_read(m, started ? "ss" : "sss", &job, &run_id, &state) < 0)
                return 0;
        if (st->follow && run_follow_track(st->follow, run_id, st->since_usec) < 0)
                fprintf(stderr, "tickctl run: cannot follow run %s in the journal\n", run_id);
        if (!started)
                fprintf(stderr, "%s run %s is %s: %s; waiting for it.\n", job, run_id, state,
                        strcmp(state, "queued") == 0 ? "it starts when the job's running run finishes"
                                                     : "it starts when a max_concurrent slot is free");
        return 1;
}

static int on_run_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        struct wait_state *st = userdata;
        st->done = true;
        if (sd_bus_message_is_method_error(m, NULL))
                sd_bus_error_copy(&st->error, sd_bus_message_get_error(m));
        else
                st->reply = sd_bus_message_ref(m);
        return 1;
}

static uint64_t monotonic_usec(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* Until the reply, and with --follow until the run's final record has
 * been read too (or RUN_FOLLOW_GRACE_USEC after the reply). */
static int wait_loop(sd_bus *bus, struct wait_state *st)
{
        uint64_t deadline = UINT64_MAX;
        bool followed = !st->follow;
        for (;;) {
                int r = sd_bus_process(bus, NULL);
                if (r < 0)
                        return r;
                if (r > 0)
                        continue;
                if (!followed && (r = run_follow_pump(st->follow)) != 0)
                        followed = true; /* the final record, or a journal error: nothing more to show */
                if (st->done && (followed || sd_bus_error_is_set(&st->error)))
                        return 0;
                if (st->done && deadline == UINT64_MAX)
                        deadline = monotonic_usec() + RUN_FOLLOW_GRACE_USEC;
                uint64_t now = monotonic_usec(), until = deadline, bus_usec = UINT64_MAX;
                if (now >= until) {
                        run_follow_explain_missing(st->follow);
                        return 0;
                }
                if (sd_bus_get_timeout(bus, &bus_usec) >= 0 && bus_usec < until)
                        until = bus_usec;
                if (st->follow && run_follow_timeout(st->follow) < until)
                        until = run_follow_timeout(st->follow);
                int events = sd_bus_get_events(bus);
                if (events < 0)
                        return events;
                struct pollfd fds[2] = { { .fd = sd_bus_get_fd(bus), .events = (short)events } };
                if (st->follow)
                        fds[1] = run_follow_pollfd(st->follow);
                int timeout = until == UINT64_MAX ? -1 : until <= now ? 0 : (int)((until - now + 999) / 1000);
                if (poll(fds, st->follow ? 2 : 1, timeout) < 0 && errno != EINTR)
                        return -errno;
                if (st->follow && fds[1].revents)
                        run_follow_process(st->follow);
        }
}

/* RunJob(name, wait = true): the reply may come hours later, and signals
 * before it, which sd_bus_call() would hold back. */
static int call_and_wait(const struct ctl_options *o, sd_bus *bus, const char *name, struct run_follow *follow,
                         sd_bus_message **reply)
{
        __attribute__((cleanup(sd_bus_message_unrefp))) sd_bus_message *m = NULL;
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        struct wait_state st = { .name = name,
                                 .error = SD_BUS_ERROR_NULL,
                                 .follow = follow,
                                 .since_usec = (uint64_t)now.tv_sec * 1000000 + (uint64_t)now.tv_nsec / 1000 };
        int r = sd_bus_message_new_method_call(bus, &m, NULL, CONTROL_PATH, CONTROL_INTERFACE, "RunJob");
        if (r >= 0)
                r = sd_bus_message_append(m, "sb", name, 1);
        if (r >= 0)
                r = sd_bus_add_filter(bus, NULL, on_run_signal, &st);
        if (r >= 0)
                r = sd_bus_call_async(bus, NULL, m, on_run_reply, &st, UINT64_MAX);
        if (r >= 0)
                r = wait_loop(bus, &st);
        if (r >= 0 && sd_bus_error_is_set(&st.error))
                r = sd_bus_error_get_errno(&st.error) ? -sd_bus_error_get_errno(&st.error) : -EIO;
        if (r < 0)
                r = ctl_call_failed(o, "RunJob", r, &st.error);
        else
                *reply = st.reply, st.reply = NULL;
        sd_bus_message_unref(st.reply);
        sd_bus_error_free(&st.error);
        return r;
}

/* The JSON object's first members, for started and finished runs alike. */
static void print_json_run(const char *name, const char *run_id, const char *result)
{
        printf("{\"job\": ");
        json_write_string(stdout, name);
        printf(", \"run_id\": ");
        json_write_string(stdout, run_id);
        printf(", \"result\": ");
        json_write_string(stdout, result);
}

static void print_started(const struct ctl_options *o, const char *name, const char *run_id, const char *result)
{
        if (o->json) {
                print_json_run(name, run_id, result);
                printf("}\n");
        } else if (strcmp(result, "queued") == 0) {
                printf("Queued %s, run %s: it starts when the job's running run finishes.\n", name, run_id);
        } else if (strcmp(result, "waiting") == 0) {
                printf("Queued %s, run %s: it starts when a max_concurrent slot is free.\n", name, run_id);
        } else {
                printf("Started %s, run %s.\n", name, run_id);
        }
}

static int print_outcome(const struct ctl_options *o, const char *name, const char *run_id, const char *result,
                         int exit_status, int sig, uint64_t duration)
{
        char span[64];
        timespan_format(duration / 1000 * 1000, span, sizeof(span));
        if (o->json) {
                print_json_run(name, run_id, result);
                printf(", \"exit_status\": %d, \"signal\": %d, \"duration_usec\": %llu}\n", exit_status, sig,
                       (unsigned long long)duration);
        } else if (sig > 0) {
                printf("%s run %s: %s%s%s (signal SIG%s) after %s\n", name, run_id, ctl_color(o, result), result,
                       ctl_color_off(o), sigabbrev_np(sig) ? sigabbrev_np(sig) : "?", span);
        } else if (exit_status >= 0) {
                printf("%s run %s: %s%s%s (exit status %d) after %s\n", name, run_id, ctl_color(o, result), result,
                       ctl_color_off(o), exit_status, span);
        } else { /* it never ran (setup or exec failed), or it was lost */
                printf("%s run %s: %s%s%s after %s\n", name, run_id, ctl_color(o, result), result, ctl_color_off(o),
                       span);
        }
        return outcome_status(result, exit_status, sig);
}

int ctl_run(int argc, char **argv)
{
        struct ctl_options o;
        int r = ctl_parse_args(argc, argv, CTL_OPT_WAIT | CTL_OPT_FOLLOW | CTL_OPT_JSON,
                               "run JOB [--wait | --follow] [OPTIONS...]", 1, 1, "one job name", &o);
        if (r >= 0)
                return r;
        if (o.follow && o.json) {
                fprintf(stderr, "tickctl run: --follow shows the job's output, which is not JSON; "
                                "use --wait with --json\n");
                ctl_options_free(&o);
                return 2;
        }
        const char *name = o.args[0];
        sd_bus *bus = NULL;
        __attribute__((cleanup(sd_bus_message_unrefp))) sd_bus_message *reply = NULL;
        struct run_follow *follow = NULL;
        int status = 0;
        r = ctl_connect(&o, false, &bus);
        if (r >= 0 && o.follow)
                r = run_follow_open(o.user_mode, o.terminal, &follow);
        if (r >= 0)
                r = o.wait ? call_and_wait(&o, bus, name, follow, &reply)
                           : ctl_call(&o, bus, "RunJob", 0, &reply, "sb", name, 0);
        run_follow_free(follow);
        const char *run_id, *result;
        int exit_status, sig;
        uint64_t duration;
        if (r >= 0 && (r = sd_bus_message_read(reply, "ssiit", &run_id, &result, &exit_status, &sig, &duration)) < 0)
                fprintf(stderr, "tickctl run: bad reply: %s\n", strerror(-r));
        if (r < 0)
                /* With --wait, a run that never started is neither a job's
                 * status nor a tickctl error. */
                status = o.wait && (r == -EBUSY || r == -ECANCELED) ? CTL_EXIT_DROPPED : ctl_exit_status(r);
        else if (!o.wait)
                print_started(&o, name, run_id, result);
        else
                status = print_outcome(&o, name, run_id, result, exit_status, sig, duration);
        sd_bus_flush_close_unref(bus);
        ctl_options_free(&o);
        return status;
}
