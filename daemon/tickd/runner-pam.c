/* runner-pam.c — PAM account and session for a run; see runner-pam.h. */
#include "tickd/runner-pam.h"

#include <errno.h>
#include <stdbool.h>
#include <security/pam_appl.h>
#include <stdio.h>
#include <stdlib.h>

#define TICKD_PAM_SERVICE "tickd"

struct runner_pam {
        pam_handle_t *handle;
        char **environment;
        int status;
        bool session_open;
        bool credentials;
};

/* No one to ask: a module that prompts (a password, a new one) fails. */
static int conversation(int n, const struct pam_message **messages, struct pam_response **responses, void *data)
{
        (void)n;
        (void)messages;
        (void)data;
        *responses = NULL;
        return PAM_CONV_ERR;
}

static int fail(struct runner_pam *p, const char *stage_name, const char *what, const char *user, int status,
                const char **stage, char *detail, size_t size)
{
        *stage = stage_name;
        snprintf(detail, size, "PAM (service %s) refused %s of user '%s': %s", TICKD_PAM_SERVICE, what, user,
                 pam_strerror(p->handle, status));
        p->status = status;
        runner_pam_close(p);
        return status == PAM_ACCT_EXPIRED || status == PAM_NEW_AUTHTOK_REQD || status == PAM_PERM_DENIED ||
                               status == PAM_AUTH_ERR || status == PAM_USER_UNKNOWN
                       ? -EACCES
                       : -EIO;
}

int runner_pam_open(const char *user, struct runner_pam **out, const char **stage, char *detail, size_t detail_size)
{
        struct runner_pam *p = calloc(1, sizeof(*p));
        if (!p) {
                *stage = "pam";
                return -ENOMEM;
        }
        const struct pam_conv conv = { .conv = conversation };
        int status = pam_start(TICKD_PAM_SERVICE, user, &conv, &p->handle);
        if (status != PAM_SUCCESS) {
                *stage = "pam";
                snprintf(detail, detail_size, "PAM (service %s) could not start for user '%s'", TICKD_PAM_SERVICE,
                         user);
                free(p);
                return -EIO;
        }
        status = pam_acct_mgmt(p->handle, PAM_SILENT);
        if (status != PAM_SUCCESS)
                return fail(p, "pam-account", "the account", user, status, stage, detail, detail_size);
        status = pam_setcred(p->handle, PAM_ESTABLISH_CRED | PAM_SILENT);
        if (status != PAM_SUCCESS)
                return fail(p, "pam-credentials", "the credentials", user, status, stage, detail, detail_size);
        p->credentials = true;
        status = pam_open_session(p->handle, PAM_SILENT);
        if (status != PAM_SUCCESS)
                return fail(p, "pam-session", "a session", user, status, stage, detail, detail_size);
        p->session_open = true;
        p->environment = pam_getenvlist(p->handle);
        *out = p;
        return 0;
}

char **runner_pam_environment(struct runner_pam *p) { return p ? p->environment : NULL; }

void runner_pam_close(struct runner_pam *p)
{
        if (!p)
                return;
        if (p->session_open)
                (void)pam_close_session(p->handle, PAM_SILENT);
        if (p->credentials)
                (void)pam_setcred(p->handle, PAM_DELETE_CRED | PAM_SILENT);
        for (char **e = p->environment; e && *e; e++)
                free(*e);
        free(p->environment);
        (void)pam_end(p->handle, p->status);
        free(p);
}
