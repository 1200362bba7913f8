/* stamp — the job of the start-latency benchmarks (issue 16): a static
 * program, so that nothing (no ld.so, no libraries) runs between its exec
 * and its stamp.
 *
 *   stamp FILE              appends "REALTIME_NS MONOTONIC_NS\n" to FILE
 *   stamp --floor N FILE    the floor beside tickd: N times, sleeps until
 *                           the next whole second (CLOCK_REALTIME, absolute)
 *                           and fork()s and exec()s itself as "stamp FILE",
 *                           then waits for it: what a scheduler that did
 *                           nothing but start one program on time would get
 *   stamp --wake N FILE     the same loop stamping FILE itself at each
 *                           wake-up: the timer alone, without the start
 *
 * One write with O_APPEND per stamp: concurrent stamps never interleave. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(clockid_t clock)
{
        struct timespec ts;
        clock_gettime(clock, &ts);
        return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int stamp(const char *file)
{
        long long real = now_ns(CLOCK_REALTIME), mono = now_ns(CLOCK_MONOTONIC);
        char line[64];
        int len = snprintf(line, sizeof(line), "%lld %lld\n", real, mono);
        int fd = open(file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
        return fd >= 0 && write(fd, line, (size_t)len) == len ? 0 : 1;
}

/* N whole seconds: wakes at each and starts `stamp FILE` (fork, exec),
 * or, without START, stamps itself: the wake-up alone. */
static int floor_loop(int n, const char *file, int start)
{
        for (int i = 0; i < n; i++) {
                struct timespec next = { .tv_sec = (time_t)(now_ns(CLOCK_REALTIME) / 1000000000LL) + 1 };
                while (clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &next, NULL) != 0)
                        ;
                if (!start) {
                        if (stamp(file) != 0)
                                return 1;
                        continue;
                }
                pid_t pid = fork();
                if (pid < 0)
                        return 1;
                if (pid == 0) {
                        execl("/proc/self/exe", "stamp", file, (char *)NULL);
                        _exit(127);
                }
                int status;
                if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
                        return 1;
        }
        return 0;
}

int main(int argc, char **argv)
{
        if (argc == 2)
                return stamp(argv[1]);
        if (argc == 4 && strcmp(argv[1], "--floor") == 0)
                return floor_loop(atoi(argv[2]), argv[3], 1);
        if (argc == 4 && strcmp(argv[1], "--wake") == 0)
                return floor_loop(atoi(argv[2]), argv[3], 0);
        fprintf(stderr, "usage: stamp FILE | stamp --floor N FILE | stamp --wake N FILE\n");
        return 2;
}
