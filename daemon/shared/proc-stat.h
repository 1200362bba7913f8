/* proc-stat.h — processes as /proc/PID/stat shows them: the one parser of
 * that line (its name, field 2, may hold spaces and parentheses, so the
 * fields are counted from its last ')').
 *
 * The daemon uses it to tell a process's start time (orphans.h: that a
 * recorded pid is still the runner it was) and whether a process group
 * has a member that is not a zombie (runner.c); the tests, to find their
 * children and count leaks. */
#ifndef TICKD_PROC_STAT_H
#define TICKD_PROC_STAT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct proc_stat {
        pid_t pid;
        char comm[16]; /* the kernel's name: at most 15 bytes */
        char state;    /* R, S, D, Z, T, ... */
        pid_t ppid;
        pid_t pgrp;
        uint64_t start_ticks; /* field 22: clock ticks after boot */
};

/* PID's line; 0, -ESRCH (no such process), -EBADMSG or another -errno. */
int proc_stat_read(pid_t pid, struct proc_stat *out);

/* Calls FN for every process /proc lists (one that ends meanwhile is
 * skipped) until FN returns true; returns whether one did. Without /proc,
 * returns false having called nothing, and sets *ERROR (may be NULL) to
 * the -errno of opening it, 0 otherwise. */
typedef bool (*proc_stat_fn)(void *userdata, const struct proc_stat *p);
bool proc_stat_find(proc_stat_fn fn, void *userdata, int *error);

#endif
