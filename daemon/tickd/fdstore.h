/* fdstore.h — the service manager's file descriptor store, and what kind
 * of stop a SIGTERM means.
 *
 * Owns tickd's side of two systemd protocols that let running jobs outlive
 * the daemon process that started them:
 *  - The fd store (sd_pid_notify_with_fds(3), FDSTORE=1): systemd keeps
 *    descriptors for a service across restarts (manual, automatic after a
 *    crash or the watchdog) and passes them to the next instance like
 *    socket activation does ($LISTEN_FDS, $LISTEN_FDNAMES). tickd stores
 *    each open batch there (batch.h), so a restarted daemon adopts the
 *    batches of the one before and still records every outcome. Entries
 *    are stored with FDPOLL=0: a batch pipe whose runners have all exited
 *    hangs up, and systemd would otherwise drop it with the outcome records
 *    still unread in it.
 *  - The store is used only when the manager offers one: $NOTIFY_SOCKET is
 *    set and $FDSTORE (the store's size; systemd 254 sets it from
 *    FileDescriptorStoreMax=, tickd.service sets it for older versions) is
 *    positive.
 *  - Restart or stop: on SIGTERM, the job the manager runs on tickd's unit
 *    says which (systemctl restart: "restart"; systemctl stop: "stop"),
 *    asked over systemd's private bus socket (the system bus as fallback).
 *    The kinds are the answer; FDSTORE_STOP_UNKNOWN when there is no
 *    manager to ask. */
#ifndef TICKD_FDSTORE_H
#define TICKD_FDSTORE_H

#include <stdbool.h>
#include <stddef.h>

/* How many descriptors the manager's store holds for us; 0 = no store. */
unsigned fdstore_size(void);
/* Stores FD under NAME (a copy: the caller keeps and closes its own).
 * Returns > 0 when sent, 0 when there is no store, negative errno. */
int fdstore_put(int fd, const char *name);
/* Drops every stored descriptor named NAME. Same returns. */
int fdstore_remove(const char *name);
/* Waits (up to 5 s) until the manager has processed every message sent so
 * far, so the store is current before the process exits. */
int fdstore_sync(void);

/* The descriptors passed to this process ($LISTEN_FDS, $LISTEN_FDNAMES;
 * the variables are unset). FDS[i] is named NAMES[i]; both are to free()
 * with fdstore_passed_free(). Returns the count (0 when none). */
struct fdstore_passed {
        size_t n;
        int *fds;
        char **names;
};
int fdstore_passed_take(struct fdstore_passed *out);
/* Closes the descriptors still >= 0 and frees everything. */
void fdstore_passed_free(struct fdstore_passed *p);

enum fdstore_stop_kind {
        FDSTORE_STOP_UNKNOWN, /* no service manager could be asked */
        FDSTORE_STOP_NONE,    /* asked: no job on the unit (a plain kill, e.g. `kill` or `systemctl kill`) */
        FDSTORE_STOP_STOP,    /* asked: the unit is being stopped */
        FDSTORE_STOP_RESTART, /* asked: the unit is being restarted */
};
/* Asks the service manager (the user's with USER_MANAGER) what the job on
 * this process's unit is. Blocks up to 2 s: call it at shutdown only. */
enum fdstore_stop_kind fdstore_stop_kind(bool user_manager);
const char *fdstore_stop_kind_to_string(enum fdstore_stop_kind kind);

#endif
