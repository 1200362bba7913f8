/* fdstore.c — the service manager's fd store and stop kind; see fdstore.h. */
#include "tickd/fdstore.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "core/strv.h"

#define SYSTEMD_SERVICE      "org.freedesktop.systemd1"
#define BUS_TIMEOUT_USEC     (2 * 1000000)
#define BARRIER_TIMEOUT_USEC (5 * 1000000)

unsigned fdstore_size(void)
{
        const char *socket = getenv("NOTIFY_SOCKET"), *size = getenv("FDSTORE");
        if (!socket || !*socket || !size)
                return 0;
        char *end;
        errno = 0;
        unsigned long n = strtoul(size, &end, 10);
        if (errno || end == size || *end || n > UINT32_MAX)
                return 0;
        return (unsigned)n;
}

int fdstore_put(int fd, const char *name)
{
        if (fdstore_size() == 0)
                return 0;
        char state[300];
        snprintf(state, sizeof(state), "FDSTORE=1\nFDPOLL=0\nFDNAME=%s", name);
        return sd_pid_notify_with_fds(0, 0, state, &fd, 1);
}

int fdstore_remove(const char *name)
{
        if (fdstore_size() == 0)
                return 0;
        return sd_notifyf(0, "FDSTOREREMOVE=1\nFDNAME=%s", name);
}

int fdstore_sync(void)
{
        if (fdstore_size() == 0)
                return 0;
        return sd_notify_barrier(0, BARRIER_TIMEOUT_USEC);
}

int fdstore_passed_take(struct fdstore_passed *out)
{
        *out = (struct fdstore_passed){ 0 };
        char **names = NULL;
        int n = sd_listen_fds_with_names(1, &names);
        if (n <= 0) {
                strv_free(names);
                return n;
        }
        out->fds = calloc((size_t)n, sizeof(int));
        if (!out->fds) {
                for (int i = 0; i < n; i++)
                        close(SD_LISTEN_FDS_START + i);
                strv_free(names);
                return -ENOMEM;
        }
        out->n = (size_t)n;
        out->names = names; /* sd_listen_fds_with_names gives one name per fd ("unknown" when unnamed) */
        for (int i = 0; i < n; i++)
                out->fds[i] = SD_LISTEN_FDS_START + i; /* already FD_CLOEXEC */
        return n;
}

void fdstore_passed_free(struct fdstore_passed *p)
{
        for (size_t i = 0; i < p->n; i++)
                if (p->fds[i] >= 0)
                        close(p->fds[i]);
        free(p->fds);
        strv_free(p->names);
        *p = (struct fdstore_passed){ 0 };
}

/* systemctl's way in: the manager's private socket needs no dbus-daemon
 * (which a minimal system may not run); the bus is the fallback. */
static int manager_bus_open(bool user_manager, sd_bus **out)
{
        _cleanup_free_ char *address = NULL;
        const char *runtime = getenv("XDG_RUNTIME_DIR");
        if (!user_manager)
                address = strdup("unix:path=/run/systemd/private");
        else if (runtime && *runtime == '/' && asprintf(&address, "unix:path=%s/systemd/private", runtime) < 0)
                address = NULL;
        sd_bus *bus = NULL;
        int r = -ENOENT;
        if (address && sd_bus_new(&bus) >= 0) {
                if (sd_bus_set_address(bus, address) >= 0 && sd_bus_start(bus) >= 0)
                        r = 0;
                else
                        bus = sd_bus_flush_close_unref(bus);
        }
        if (r < 0)
                r = user_manager ? sd_bus_open_user(&bus) : sd_bus_open_system(&bus);
        if (r < 0)
                return r;
        sd_bus_set_method_call_timeout(bus, BUS_TIMEOUT_USEC);
        *out = bus;
        return 0;
}

static enum fdstore_stop_kind stop_kind_from_job_type(const char *type)
{
        /* try-restart and reload-or-restart collapse into restart on an
         * active unit; "restart" covers them all. */
        if (strstr(type, "restart"))
                return FDSTORE_STOP_RESTART;
        if (strcmp(type, "stop") == 0)
                return FDSTORE_STOP_STOP;
        return FDSTORE_STOP_NONE;
}

enum fdstore_stop_kind fdstore_stop_kind(bool user_manager)
{
        /* systemd sets $INVOCATION_ID for every unit it starts; without it
         * nobody on the bus knows this process as a unit. */
        if (!getenv("INVOCATION_ID"))
                return FDSTORE_STOP_UNKNOWN;
        sd_bus *bus = NULL;
        if (manager_bus_open(user_manager, &bus) < 0)
                return FDSTORE_STOP_UNKNOWN;
        enum fdstore_stop_kind kind = FDSTORE_STOP_UNKNOWN;
        sd_bus_error error = SD_BUS_ERROR_NULL;
        sd_bus_message *reply = NULL;
        const char *unit_path = NULL, *job_path = NULL;
        _cleanup_free_ char *unit = NULL, *type = NULL;
        uint32_t job_id = 0;
        if (sd_bus_call_method(bus, SYSTEMD_SERVICE, "/org/freedesktop/systemd1", SYSTEMD_SERVICE ".Manager",
                               "GetUnitByPID", &error, &reply, "u", (uint32_t)getpid()) < 0 ||
            sd_bus_message_read(reply, "o", &unit_path) < 0 || !(unit = strdup(unit_path)))
                goto done;
        reply = sd_bus_message_unref(reply);
        if (sd_bus_get_property(bus, SYSTEMD_SERVICE, unit, SYSTEMD_SERVICE ".Unit", "Job", &error, &reply, "(uo)") <
                    0 ||
            sd_bus_message_read(reply, "(uo)", &job_id, &job_path) < 0)
                goto done;
        if (job_id == 0) {
                kind = FDSTORE_STOP_NONE;
                goto done;
        }
        if (sd_bus_get_property_string(bus, SYSTEMD_SERVICE, job_path, SYSTEMD_SERVICE ".Job", "JobType", &error,
                                       &type) >= 0)
                kind = stop_kind_from_job_type(type);
done:
        sd_bus_message_unref(reply);
        sd_bus_error_free(&error);
        sd_bus_flush_close_unref(bus);
        return kind;
}

const char *fdstore_stop_kind_to_string(enum fdstore_stop_kind kind)
{
        switch (kind) {
        case FDSTORE_STOP_NONE: return "no job on the unit";
        case FDSTORE_STOP_STOP: return "stop";
        case FDSTORE_STOP_RESTART: return "restart";
        default: return "unknown";
        }
}
