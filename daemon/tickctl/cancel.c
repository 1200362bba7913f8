/* cancel.c — tickctl cancel JOB: stop a job's running runs (SIGTERM,
 * SIGKILL after its grace); each outcome records the cancellation. */
#include <errno.h>
#include <string.h>

#include "shared/control-protocol.h"
#include "tickctl/common.h"
#include "tickctl/commands.h"

int ctl_cancel(int argc, char **argv)
{
        struct ctl_options o;
        int r = ctl_parse_args(argc, argv, 0, "cancel JOB [OPTIONS...]", 1, 1, "one job name", &o);
        if (r >= 0)
                return r;
        sd_bus *bus = NULL;
        __attribute__((cleanup(sd_bus_message_unrefp))) sd_bus_message *reply = NULL;
        int status;
        r = ctl_connect(&o, false, &bus);
        if (r >= 0) /* "not running" is a finding (exit 1); ctl_call prints it */
                r = ctl_call(&o, bus, "CancelJob", 0, &reply, "s", o.args[0]);
        unsigned n = 0;
        if (r >= 0 && (r = sd_bus_message_read(reply, "u", &n)) >= 0) {
                printf("Cancelled %u run%s of %s.\n", n, n == 1 ? "" : "s", o.args[0]);
                status = 0;
        } else {
                status = ctl_exit_status(r);
        }
        sd_bus_flush_close_unref(bus);
        ctl_options_free(&o);
        return status;
}
