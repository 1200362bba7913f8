/* cleanup.h — scope-bound release of memory, descriptors and streams.
 *
 * A resource's release is written next to its acquisition, so an early
 * return cannot leak it: `_cleanup_free_ char *s = strdup(x);`. To hand a
 * resource on, take it out with TAKE_PTR()/TAKE_FD(). */
#ifndef TICKD_CLEANUP_H
#define TICKD_CLEANUP_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static inline void cleanup_free(void *p) { free(*(void **)p); }
static inline void cleanup_close(const int *fd)
{
        if (*fd >= 0) {
                int saved = errno;
                close(*fd);
                errno = saved;
        }
}
static inline void cleanup_fclose(FILE **f)
{
        if (*f)
                fclose(*f);
}

#define _cleanup_free_   __attribute__((cleanup(cleanup_free)))
#define _cleanup_close_  __attribute__((cleanup(cleanup_close)))
#define _cleanup_fclose_ __attribute__((cleanup(cleanup_fclose)))

#define TAKE_PTR(p)                         \
        ({                                  \
                __typeof__(p) taken_ = (p); \
                (p) = NULL;                 \
                taken_;                     \
        })
#define TAKE_FD(fd)                \
        ({                         \
                int taken_ = (fd); \
                (fd) = -1;         \
                taken_;            \
        })

#define ELEMENTSOF(a) (sizeof(a) / sizeof((a)[0]))

#endif
