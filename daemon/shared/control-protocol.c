/* control-protocol.c — the one function of the control protocol both ends call. */
#include "shared/control-protocol.h"

#include <stdio.h>
#include <stdlib.h>

char *control_socket_path(const char *runtime_dir)
{
        char *path;
        if (asprintf(&path, "%s/%s", runtime_dir, CONTROL_SOCKET_NAME) < 0)
                return NULL;
        return path;
}
