/* command.c — when a job's command needs no shell; see command.h. */
#include "core/command.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/strv.h"

#define PLAIN "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./,:+=@%"
#define BLANK " \t"

/* Counts COMMAND's words, or returns 0 when the shell is needed. */
static size_t count_plain_words(const char *command)
{
        size_t words = 0;
        for (const char *p = command + strspn(command, BLANK); *p; p += strspn(p, BLANK)) {
                size_t len = strspn(p, PLAIN);
                if (len == 0 || (p[len] && !strchr(BLANK, p[len])))
                        return 0; /* a character the shell gives a meaning */
                if (words++ == 0 && (!memchr(p, '/', len) || memchr(p, '=', len)))
                        return 0; /* not a path, or an assignment */
                p += len;
        }
        return words;
}

int command_split_simple(const char *command, char ***ret_argv)
{
        *ret_argv = NULL;
        size_t words = count_plain_words(command);
        if (words == 0)
                return 0;
        char **argv = calloc(words + 1, sizeof(char *));
        if (!argv)
                return -ENOMEM;
        size_t n = 0;
        for (const char *p = command + strspn(command, BLANK); *p; p += strspn(p, BLANK)) {
                size_t len = strspn(p, PLAIN);
                argv[n] = strndup(p, len);
                if (!argv[n++]) {
                        strv_free(argv);
                        return -ENOMEM;
                }
                p += len;
        }
        *ret_argv = argv;
        return 1;
}
