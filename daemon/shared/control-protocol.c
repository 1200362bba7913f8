/* control-protocol.c — the functions of the control protocol: the
 * socket's path (both ends) and run ids (the daemon). */
#include "shared/control-protocol.h"

#include <stdio.h>
#include <stdlib.h>
#include <systemd/sd-id128.h>

char *control_socket_path(const char *runtime_dir)
{
        char *path;
        if (asprintf(&path, "%s/%s", runtime_dir, CONTROL_SOCKET_NAME) < 0)
                return NULL;
        return path;
}

int control_run_id_new(char out[static CONTROL_RUN_ID_MAX])
{
        sd_id128_t id;
        int r = sd_id128_randomize(&id);
        if (r < 0) {
                out[0] = '\0';
                return r;
        }
        sd_id128_to_string(id, out);
        return 0;
}
