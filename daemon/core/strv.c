/* strv.c — NULL-terminated arrays of strings; see strv.h. */
#include "core/strv.h"

#include <stdlib.h>

void strv_free(char **v)
{
        for (char **p = v; p && *p; p++)
                free(*p);
        free(v);
}
