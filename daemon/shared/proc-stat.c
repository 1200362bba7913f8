/* proc-stat.c — /proc/PID/stat, parsed once; see proc-stat.h. */
#include "shared/proc-stat.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int proc_stat_read(pid_t pid, struct proc_stat *out)
{
        char path[64], buf[1024];
        snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOENT ? -ESRCH : -errno;
        ssize_t n = read(fd, buf, sizeof(buf) - 1);
        int e = errno;
        close(fd);
        if (n < 0)
                return -e;
        buf[n] = '\0';
        char *open_ = strchr(buf, '('), *close_ = strrchr(buf, ')');
        if (!open_ || !close_ || close_ < open_)
                return -EBADMSG;
        *out = (struct proc_stat){ .pid = pid };
        snprintf(out->comm, sizeof(out->comm), "%.*s", (int)(close_ - open_ - 1), open_ + 1);
        int ppid, pgrp;
        if (sscanf(close_ + 1, " %c %d %d", &out->state, &ppid, &pgrp) != 3)
                return -EBADMSG;
        out->ppid = ppid;
        out->pgrp = pgrp;
        /* Field 3 follows the name; field 22 is 19 fields on. */
        const char *p = close_ + 1;
        for (int field = 3; field < 22; field++) {
                p += strspn(p, " ");
                p += strcspn(p, " ");
        }
        unsigned long long start;
        if (sscanf(p, " %llu", &start) != 1)
                return -EBADMSG;
        out->start_ticks = start;
        return 0;
}

bool proc_stat_find(proc_stat_fn fn, void *userdata, int *error)
{
        if (error)
                *error = 0;
        DIR *d = opendir("/proc");
        if (!d) {
                if (error)
                        *error = -errno;
                return false;
        }
        bool found = false;
        struct dirent *e;
        while (!found && (e = readdir(d))) {
                struct proc_stat st;
                if (e->d_name[0] >= '1' && e->d_name[0] <= '9' && proc_stat_read((pid_t)atoi(e->d_name), &st) == 0)
                        found = fn(userdata, &st);
        }
        closedir(d);
        return found;
}
