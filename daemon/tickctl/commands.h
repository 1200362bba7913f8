/* commands.h — tickctl's commands. Each lives in its own daemon/tickctl/NAME.c and
 * is listed in main.c's table. A command gets argv with argv[0] =
 * its name, prints its own output and errors, and returns the process exit
 * status (0 ok, 1 a finding such as a failed check, 2 usage or I/O error). */
#ifndef TICKD_CTL_H
#define TICKD_CTL_H

int ctl_check(int argc, char **argv);
int ctl_next(int argc, char **argv);
int ctl_list(int argc, char **argv);
int ctl_status(int argc, char **argv);
int ctl_run(int argc, char **argv);
int ctl_cancel(int argc, char **argv);
int ctl_reload(int argc, char **argv);
int ctl_edit(int argc, char **argv);
int ctl_history(int argc, char **argv);
int ctl_logs(int argc, char **argv);
int ctl_fleet(int argc, char **argv);
int ctl_import(int argc, char **argv);
int ctl_export(int argc, char **argv);

#endif
