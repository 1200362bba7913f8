/* strv.h — NULL-terminated arrays of strings.
 *
 * Several modules hand out a malloc'd array of malloc'd strings ended by a
 * NULL entry (a directory's crontab paths, a command's words, a job's
 * environment, the fd store's names); each such array, and every string
 * in it, has one owner, who releases them all with strv_free(). */
#ifndef TICKD_STRV_H
#define TICKD_STRV_H

/* Frees every string of V and then V; accepts NULL. */
void strv_free(char **v);

#endif
