/* control-daemon.h — the daemon's side of the control socket.
 *
 * Implements struct control_ops (control.h) on top of the scheduler and
 * the batch manager through their public headers only, and keeps what
 * neither of them keeps: each job's last outcome (kept in the state
 * directory across restarts, control-last.h) and, per crontab, why it was
 * rejected (worked out again when asked: a file whose identity on disk is
 * not the loaded one is loaded again to find its first error).
 *
 * It is the scheduler's listener (scheduler_set_listener()) from
 * control_daemon_new() to control_daemon_free(): every finished run
 * becomes its job's last outcome and answers its RunJob(wait) callers;
 * every dropped run answers them too. */
#ifndef TICKD_CONTROL_DAEMON_H
#define TICKD_CONTROL_DAEMON_H

#include <systemd/sd-event.h>

#include "tickd/batch.h"
#include "tickd/control.h"
#include "core/crontab.h"
#include "tickd/scheduler.h"

struct control_daemon;

struct control_daemon_options {
        sd_event *event;
        struct scheduler *scheduler;
        const char *jobs_dir;                          /* borrowed, lives as long as the bridge */
        const struct crontab_options *crontab_options; /* borrowed */
        void (*reload)(void *userdata);                /* the daemon's own reload */
        void *userdata;
        struct control_options control; /* the socket (control_new) */
};

/* Creates the socket and starts serving. */
int control_daemon_new(const struct control_daemon_options *options, struct control_daemon **out);
struct control_daemon *control_daemon_free(struct control_daemon *cd);

#endif
