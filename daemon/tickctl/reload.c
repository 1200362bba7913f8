/* reload.c — tickctl reload: the daemon reloads its crontabs and says,
 * per file, whether it was loaded or rejected and why. Exit 1 when a file
 * was rejected. */
#include <errno.h>

#include "shared/control-protocol.h"
#include "tickctl/common.h"
#include "tickctl/commands.h"

int ctl_reload_report(const struct ctl_options *o, sd_bus *bus, const char *only_path)
{
        __attribute__((cleanup(sd_bus_message_unrefp))) sd_bus_message *reply = NULL;
        int r = ctl_call(o, bus, "Reload", 0, &reply, NULL);
        if (r < 0)
                return r;
        if (o->json)
                printf("[");
        int rejected = ctl_print_files(o, reply, only_path, o->json ? "\n  " : "", o->json ? ",\n  " : "");
        if (rejected < 0)
                return rejected;
        if (o->json)
                printf("\n]\n");
        return rejected > 0;
}

int ctl_reload(int argc, char **argv)
{
        struct ctl_options o;
        int r = ctl_parse_args(argc, argv, CTL_OPT_JSON, "reload [--json] [OPTIONS...]", 0, 0, NULL, &o);
        if (r >= 0)
                return r;
        sd_bus *bus = NULL;
        r = ctl_connect(&o, false, &bus);
        if (r >= 0)
                r = ctl_reload_report(&o, bus, NULL);
        sd_bus_flush_close_unref(bus);
        ctl_options_free(&o);
        return r >= 0 ? r : ctl_exit_status(r);
}
