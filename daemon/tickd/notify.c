/* notify.c — sd_notify wrappers and the STATUS= sentence; see notify.h. */
#include "tickd/notify.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <systemd/sd-daemon.h>
#include <time.h>

#include "shared/clock.h"

int notify_ready(void) { return sd_notify(0, "READY=1"); }
int notify_stopping(void) { return sd_notify(0, "STOPPING=1"); }

int notify_status(const char *text) { return sd_notifyf(0, "STATUS=%s", text); }

int notify_ready_status(const char *text) { return sd_notifyf(0, "READY=1\nSTATUS=%s", text); }

int notify_reloading(void)
{
        return sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu", (unsigned long long)clock_now_usec(CLOCK_MONOTONIC));
}

int notify_errno(int error, const char *text)
{
        if (text)
                return sd_notifyf(0, "ERRNO=%d\nSTATUS=%s", abs(error), text);
        return sd_notifyf(0, "ERRNO=%d", abs(error));
}

int notify_watchdog_setup(sd_event *event) { return sd_event_set_watchdog(event, 1); }

char *notify_format_status(char *buf, size_t size, unsigned jobs, unsigned running, const char *next_job,
                           uint64_t next_realtime_usec, uint64_t now_realtime_usec)
{
        char when[64] = "";
        if (next_job) {
                time_t next = (time_t)(next_realtime_usec / 1000000), now = (time_t)(now_realtime_usec / 1000000);
                struct tm next_tm, now_tm;
                localtime_r(&next, &next_tm);
                localtime_r(&now, &now_tm);
                bool today = next_tm.tm_year == now_tm.tm_year && next_tm.tm_yday == now_tm.tm_yday;
                strftime(when, sizeof(when), today ? "%H:%M:%S" : "%Y-%m-%d %H:%M:%S", &next_tm);
        }
        if (next_job)
                snprintf(buf, size, "%u job%s, %u running; next: %s at %s", jobs, jobs == 1 ? "" : "s", running,
                         next_job, when);
        else
                snprintf(buf, size, "%u job%s, %u running; no job scheduled", jobs, jobs == 1 ? "" : "s", running);
        return buf;
}
