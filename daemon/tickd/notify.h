/* notify.h — tickd's side of the systemd service-manager protocol.
 *
 * Thin wrappers over sd_notify(3) for the states a Type=notify service
 * reports: READY=1 once crontabs are loaded and the timer armed, STATUS=
 * kept current, RELOADING=1 (with MONOTONIC_USEC=) then READY=1 around a
 * reload, STOPPING=1 on shutdown, ERRNO= on a failed start-up; and the
 * watchdog, which sd-event drives itself once enabled on the loop.
 * Outside systemd ($NOTIFY_SOCKET unset) every call is a no-op that
 * returns 0: nothing changes and nothing fails. Each call returns > 0 when
 * a message was sent, 0 when there is no manager, or a negative errno. */
#ifndef TICKD_NOTIFY_H
#define TICKD_NOTIFY_H

#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-event.h>

int notify_ready(void);
/* STATUS=TEXT (sent as is; use notify_format_status() for the usual one). */
int notify_status(const char *text);
/* READY=1 and STATUS=TEXT in one message (start-up, end of a reload). */
int notify_ready_status(const char *text);
/* RELOADING=1 and MONOTONIC_USEC=now, as systemd's reload protocol wants. */
int notify_reloading(void);
int notify_stopping(void);
/* ERRNO=ERROR (positive or negative errno accepted) and STATUS=TEXT (NULL = none). */
int notify_errno(int error, const char *text);

/* Asks EVENT to send WATCHDOG=1 on its own when the manager set
 * $WATCHDOG_USEC for this process (WatchdogSec=). Returns > 0 when the
 * watchdog is on, 0 when no watchdog is wanted, negative errno. */
int notify_watchdog_setup(sd_event *event);

/* "42 jobs, 1 running; next: backup at 02:30" into BUF (always terminated).
 * NEXT_JOB NULL = "no job scheduled"; NEXT_REALTIME_USEC is shown in local
 * time, with the date when it is not today relative to NOW_REALTIME_USEC.
 * Returns BUF. */
char *notify_format_status(char *buf, size_t size, unsigned jobs, unsigned running, const char *next_job,
                           uint64_t next_realtime_usec, uint64_t now_realtime_usec);

#endif
