/* rendezvous.c — highest-random-weight order of nodes; see rendezvous.h. */
#include "core/rendezvous.h"

#include <string.h>

#include "core/fnv.h"

/* FNV-1a alone leaves names that differ in their last byte with scores
 * that differ mostly in their low bits; splitmix64's finaliser spreads
 * them, so each node heads about its share of the instants. */
static uint64_t score(const char *job, int64_t instant, const char *node)
{
        uint64_t h = fnv1a(FNV1A_OFFSET, job, strlen(job) + 1);
        h = fnv1a(h, &instant, sizeof(instant));
        h = fnv1a(h, node, strlen(node) + 1);
        h ^= h >> 30;
        h *= UINT64_C(0xbf58476d1ce4e5b9);
        h ^= h >> 27;
        h *= UINT64_C(0x94d049bb133111eb);
        return h ^ (h >> 31);
}

unsigned rendezvous_rank(const char *job, int64_t instant, const char *const *nodes, size_t n, const char *self)
{
        uint64_t mine = score(job, instant, self);
        unsigned rank = 0;
        for (size_t i = 0; i < n; i++) {
                if (strcmp(nodes[i], self) == 0)
                        continue;
                uint64_t theirs = score(job, instant, nodes[i]);
                if (theirs > mine || (theirs == mine && strcmp(nodes[i], self) < 0))
                        rank++;
        }
        return rank;
}
