/* ctl-run.c — tickctl run JOB [--wait]: run a job now, outside its
 * schedule, with its runner and overlap policy; with --wait, exit as the
 * job did. */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>

#include "control.h"
#include "ctl-common.h"
#include "ctl.h"
#include "timespan.h"

/* The job's own exit status; 128+N for a signal, as a shell reports it. */
static int outcome_status(const char *result, int exit_status, int sig)
{
        if (sig > 0)
                return 128 + sig;
        if (exit_status >= 0)
                return exit_status;
        return strcmp(result, "success") == 0 ? 0 : 1;
}

int ctl_run(int argc, char **argv)
{
        struct ctl_options o;
        int r = ctl_parse(argc, argv, CTL_OPT_WAIT | CTL_OPT_JSON, "run JOB [--wait] [OPTIONS...]", &o);
        if (r >= 0) {
                ctl_options_free(&o);
                return r;
        }
        if (o.n_args != 1) {
                fprintf(stderr, "tickctl run: expected one job name (see tickctl run --help)\n");
                ctl_options_free(&o);
                return 2;
        }
        const char *name = o.args[0];
        sd_bus *bus = NULL;
        __attribute__((cleanup(sd_bus_message_unrefp))) sd_bus_message *reply = NULL;
        int status = 0;
        r = ctl_connect(&o, false, &bus);
        if (r >= 0)
                r = ctl_call(&o, bus, "RunJob", o.wait ? UINT64_MAX : 0, &reply, "sb", name, (int)o.wait);
        const char *run_id, *result;
        int exit_status, sig;
        uint64_t duration;
        if (r >= 0 && (r = sd_bus_message_read(reply, "ssiit", &run_id, &result, &exit_status, &sig, &duration)) < 0)
                fprintf(stderr, "tickctl run: bad reply: %s\n", strerror(-r));
        if (r < 0) {
                status = ctl_exit_status(r);
        } else if (strcmp(result, "queued") == 0) {
                printf("Queued %s: it starts when its running run finishes or a slot is free%s.\n", name,
                       o.wait ? " (not waited for)" : "");
        } else if (!o.wait) {
                if (o.json) {
                        printf("{\"job\": ");
                        ctl_json_string(stdout, name);
                        printf(", \"run_id\": ");
                        ctl_json_string(stdout, run_id);
                        printf("}\n");
                } else {
                        printf("Started %s, run %s.\n", name, run_id);
                }
        } else {
                status = outcome_status(result, exit_status, sig);
                char span[64];
                timespan_format(duration / 1000 * 1000, span, sizeof(span));
                if (o.json) {
                        printf("{\"job\": ");
                        ctl_json_string(stdout, name);
                        printf(", \"run_id\": ");
                        ctl_json_string(stdout, run_id);
                        printf(", \"result\": ");
                        ctl_json_string(stdout, result);
                        printf(", \"exit_status\": %d, \"signal\": %d, \"duration_usec\": %llu}\n", exit_status, sig,
                               (unsigned long long)duration);
                } else if (sig > 0) {
                        printf("%s run %s: %s%s%s (signal SIG%s) after %s\n", name, run_id, ctl_color(&o, result),
                               result, ctl_color_off(&o), sigabbrev_np(sig) ? sigabbrev_np(sig) : "?", span);
                } else {
                        printf("%s run %s: %s%s%s (exit status %d) after %s\n", name, run_id, ctl_color(&o, result),
                               result, ctl_color_off(&o), exit_status, span);
                }
        }
        sd_bus_flush_close_unref(bus);
        ctl_options_free(&o);
        return status;
}
