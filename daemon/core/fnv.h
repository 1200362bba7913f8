/* fnv.h — FNV-1a, the one hash of names and texts the project uses: the
 * daemon's tables (jobs, metrics, schedule texts), a job's definition hash
 * and the fleet's rendezvous order. Not for anything an adversary may
 * choose to collide against a secret. */
#ifndef TICKD_CORE_FNV_H
#define TICKD_CORE_FNV_H

#include <stddef.h>
#include <stdint.h>

#define FNV1A_OFFSET UINT64_C(0xcbf29ce484222325)

/* H with LEN bytes of DATA mixed in; start from FNV1A_OFFSET. */
static inline uint64_t fnv1a(uint64_t h, const void *data, size_t len)
{
        const unsigned char *p = data;
        for (size_t i = 0; i < len; i++)
                h = (h ^ p[i]) * UINT64_C(0x100000001b3);
        return h;
}

/* H with the bytes of S (its NUL not included) mixed in. */
static inline uint64_t fnv1a_string(uint64_t h, const char *s)
{
        for (; *s; s++)
                h = (h ^ (unsigned char)*s) * UINT64_C(0x100000001b3);
        return h;
}

#endif
