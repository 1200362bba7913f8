/* main-tickd.c — tickd: placeholder until the daemon lands. */
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
        if (argc > 1 && strcmp(argv[1], "--version") == 0) {
                printf("tickd %s\n", TICKD_VERSION);
                return 0;
        }
        fprintf(stderr, "tickd: not implemented yet\n");
        return 1;
}
