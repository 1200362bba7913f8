/* fuzz-command.c — command_split_simple() (command.h) on arbitrary text:
 * no crash, and whenever it says no shell is needed, its words joined by
 * single spaces are the command with its blanks collapsed, every word is
 * made of plain characters only, and the first is a path, never an
 * assignment. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/command.h"
#include "core/strv.h"

#define PLAIN "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./,:+=@%"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size > 4096)
                return 0;
        char *text = malloc(size + 1);
        if (!text)
                return 0;
        memcpy(text, data, size);
        text[size] = '\0';
        char **argv = NULL;
        int r = command_split_simple(text, &argv);
        if (r < 0 || (r == 0) != (argv == NULL))
                abort();
        if (r == 1) {
                if (!argv[0] || !strchr(argv[0], '/') || strchr(argv[0], '='))
                        abort();
                /* the command, blanks collapsed and trimmed */
                char *normal = malloc(size + 1), *joined = malloc(size + 2);
                if (!normal || !joined)
                        abort();
                char *w = normal;
                for (const char *p = text; *p; p++) {
                        if (*p == ' ' || *p == '\t') {
                                if (w > normal && w[-1] != ' ')
                                        *w++ = ' ';
                        } else
                                *w++ = *p;
                }
                if (w > normal && w[-1] == ' ')
                        w--;
                *w = '\0';
                char *j = joined;
                for (char **a = argv; *a; a++) {
                        if (!**a || strspn(*a, PLAIN) != strlen(*a))
                                abort();
                        if (a != argv)
                                *j++ = ' ';
                        j = stpcpy(j, *a);
                }
                *j = '\0';
                if (strcmp(normal, joined) != 0)
                        abort();
                free(normal);
                free(joined);
        }
        strv_free(argv);
        free(text);
        return 0;
}
