/* runner-pam.h — a run's PAM transaction (pam = yes), inside its runner.
 *
 * Service "tickd" (/etc/pam.d/tickd, packaged as cron's /etc/pam.d/cron
 * is): the account check (an expired or locked account does not run),
 * credentials, and a session (pam_limits' limits.conf, pam_env,
 * pam_loginuid) opened in the runner before it forks the job, so the job
 * inherits its limits, login uid and environment. The runner stays the
 * job's parent and closes the session once the job's main process has
 * exited, as cron does. The calls may block (NSS, a remote account
 * service): they happen in the runner, never in the daemon. */
#ifndef TICKD_RUNNER_PAM_H
#define TICKD_RUNNER_PAM_H

#include <stddef.h>

struct runner_pam;

/* Starts a transaction for USER and runs the account check and the
 * session. Returns 0 with *OUT set, or a negative errno with *STAGE
 * ("pam-account", "pam-session", ...) and DETAIL saying what PAM refused. */
int runner_pam_open(const char *user, struct runner_pam **out, const char **stage, char *detail, size_t detail_size);
/* The environment the session set (pam_env), "NAME=value" entries in a
 * NULL-terminated array the transaction owns; NULL when none. */
char **runner_pam_environment(struct runner_pam *pam);
/* Closes the session, deletes the credentials, ends the transaction. */
void runner_pam_close(struct runner_pam *pam);

#endif
