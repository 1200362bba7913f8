/* ctl-next.c — tickctl next: placeholder until the schedule engine lands. */
#include <stdio.h>

#include "ctl.h"

int ctl_next(int argc, char **argv)
{
        fprintf(stderr, "tickctl next: not implemented yet\n");
        return 2;
}
