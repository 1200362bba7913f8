/* limits.h — a job's resource limits (memory_max=, cpu_quota=, tasks_max=,
 * io_weight=, named as systemd.resource-control(5) names them) and how
 * they become attributes of the run's cgroup; the run's cgroup name.
 *
 * Pure: parses text and formats attribute values and names, no I/O.
 * tickd/cgroup.c writes what these functions format. */
#ifndef TICKD_LIMITS_H
#define TICKD_LIMITS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LIMIT_INFINITY UINT64_MAX

/* 0 in a field means "not set": the cgroup keeps the kernel's default. */
struct job_limits {
        uint64_t memory_max; /* bytes, or LIMIT_INFINITY → memory.max */
        uint64_t tasks_max;  /* processes and threads, or LIMIT_INFINITY → pids.max */
        uint32_t cpu_quota;  /* percent of one CPU (200 = two CPUs) → cpu.max */
        uint32_t io_weight;  /* 1..10000 → io.weight */
};

/* "50M", "1.5G", "512K", "1048576", "infinity": a size with systemd's
 * base-1024 suffixes K, M, G, T. Returns 0, -EINVAL or -ERANGE (zero, or
 * more than 2^62 bytes). */
int limits_parse_bytes(const char *text, uint64_t *out);
/* "50%", "250%" (more than one CPU): 1..100000. 0, -EINVAL or -ERANGE. */
int limits_parse_cpu_quota(const char *text, uint32_t *out);
/* "20", "infinity": 1..2^62. 0, -EINVAL or -ERANGE. */
int limits_parse_tasks(const char *text, uint64_t *out);
/* "100": 1..10000. 0, -EINVAL or -ERANGE. */
int limits_parse_io_weight(const char *text, uint32_t *out);

bool limits_any(const struct job_limits *limits);

/* One cgroup attribute a limit sets. */
struct limit_attribute {
        const char *file;       /* "memory.max", "cpu.max", "pids.max", "io.weight" */
        const char *controller; /* the controller that file belongs to */
        char value[48];         /* what to write */
};

/* The attributes LIMITS set, in a fixed order, into OUT (room for 4).
 * Returns how many. */
size_t limits_attributes(const struct job_limits *limits, struct limit_attribute out[static 4]);

/* The run's cgroup directory name: "run-JOB-RUNID", with every byte of JOB
 * that is not a letter, digit or one of "-_.@:" written as \xNN (a job name
 * may hold '/'; systemd escapes unit names the same way), so the name is
 * one path component that shows job and run. Returns 0, or -ENAMETOOLONG
 * when it does not fit SIZE (or NAME_MAX). */
int limits_cgroup_name(const char *job, const char *run_id, char *buf, size_t size);

#endif
