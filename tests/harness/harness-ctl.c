/* harness-ctl.c — tickctl from the tests; see harness-ctl.h. */
#include "harness/harness-ctl.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness/harness.h"

#define ARGS_MAX 48

void ctl_result_free(struct ctl_result *r)
{
        free(r->out);
        free(r->err);
        r->out = r->err = NULL;
}

/* PREFIX... tickctl ARGS... --runtime-dir ... [--config-dir ...] [--state-dir ...]
 * --no-pager into ARGV. */
static void build_argv(const struct ctl_target *target, const char *const *prefix, const char *const *args,
                       const char *argv[ARGS_MAX])
{
        int n = 0;
        for (; prefix && *prefix; prefix++)
                argv[n++] = *prefix;
        argv[n++] = harness_binary("tickctl");
        for (; *args; args++) {
                ck_assert_int_lt(n, ARGS_MAX - 9);
                argv[n++] = *args;
        }
        if (target->config_dir) {
                argv[n++] = "--config-dir";
                argv[n++] = target->config_dir;
        }
        if (target->state_dir) {
                argv[n++] = "--state-dir";
                argv[n++] = target->state_dir;
        }
        argv[n++] = "--runtime-dir";
        argv[n++] = target->runtime_base;
        argv[n++] = "--no-pager";
        argv[n] = NULL;
}

static int exit_status(int ws) { return WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws); }

struct ctl_result harness_ctl(const struct ctl_target *target, const char *const *prefix, const char *const *args)
{
        const char *argv[ARGS_MAX];
        build_argv(target, prefix, args, argv);
        struct ctl_result r = {};
        r.status = exit_status(harness_run((char *const *)argv, NULL, &r.out, &r.err));
        return r;
}

const char *const *harness_ctl_as(uid_t uid, gid_t gid)
{
        static char uid_text[16], gid_text[16];
        static const char *prefix[] = { "/usr/bin/setpriv", "--reuid",        uid_text, "--regid",
                                        gid_text,           "--clear-groups", NULL };
        snprintf(uid_text, sizeof(uid_text), "%u", (unsigned)uid);
        snprintf(gid_text, sizeof(gid_text), "%u", (unsigned)gid);
        return prefix;
}

void harness_ctl_spawn(const struct ctl_target *target, const char *dir, struct ctl_job *job, const char *const *args)
{
        static unsigned serial;
        const char *argv[ARGS_MAX];
        build_argv(target, NULL, args, argv);
        serial++;
        snprintf(job->out_path, sizeof(job->out_path), "%s/ctl-%u.out", dir, serial);
        snprintf(job->err_path, sizeof(job->err_path), "%s/ctl-%u.err", dir, serial);
        job->done = false;
        job->pid = fork();
        ck_assert_int_ge(job->pid, 0);
        if (job->pid == 0) {
                int in = open("/dev/null", O_RDONLY | O_CLOEXEC);
                int out = open(job->out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
                int err = open(job->err_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
                if (in < 0 || out < 0 || err < 0 || dup2(in, STDIN_FILENO) < 0 || dup2(out, STDOUT_FILENO) < 0 ||
                    dup2(err, STDERR_FILENO) < 0)
                        _exit(126);
                execv(argv[0], (char *const *)argv);
                _exit(127);
        }
}

bool harness_ctl_running(struct ctl_job *job)
{
        if (!job->done && waitpid(job->pid, &job->wait_status, WNOHANG) == job->pid)
                job->done = true;
        return !job->done;
}

static char *slurp(const char *path)
{
        FILE *f = fopen(path, "re");
        char *buf = calloc(1, 65537);
        ck_assert_ptr_nonnull(buf);
        if (f) {
                size_t n = fread(buf, 1, 65536, f);
                buf[n] = '\0';
                fclose(f);
        }
        unlink(path);
        return buf;
}

struct ctl_result harness_ctl_finish(struct ctl_job *job, int timeout_ms)
{
        long long deadline = harness_now_ms() + timeout_ms;
        while (harness_ctl_running(job) && harness_now_ms() < deadline)
                usleep(10 * 1000);
        if (!job->done) {
                kill(job->pid, SIGKILL);
                waitpid(job->pid, &job->wait_status, 0);
                job->done = true;
        }
        struct ctl_result result = { .status = exit_status(job->wait_status) };
        result.out = slurp(job->out_path);
        result.err = slurp(job->err_path);
        return result;
}
