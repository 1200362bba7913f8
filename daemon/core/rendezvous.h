/* rendezvous.h — which node of a fleet goes first for an instant of a
 * fleet job, so that a healthy fleet asks etcd once per instant instead
 * of once per node (tickd/fleet-claim.c).
 *
 * Rendezvous (highest-random-weight) hashing: every node scores
 * hash(job, instant, node) for each node it knows to be alive and sorts
 * by score; nodes that know the same list agree on the order without a
 * word, and a node that joins or leaves moves only the instants it heads.
 * Pure: the order is advice, never the guarantee (etcd's create-if-absent
 * claim is), so nodes whose lists differ for a moment cost a spare claim,
 * not a double run. */
#ifndef TICKD_RENDEZVOUS_H
#define TICKD_RENDEZVOUS_H

#include <stddef.h>
#include <stdint.h>

/* SELF's place among NODES (N names; SELF counts whether or not it is
 * among them, once) for JOB's INSTANT: 0 = first. Ties of score (not
 * seen in practice) go by name, so the order is total. */
unsigned rendezvous_rank(const char *job, int64_t instant, const char *const *nodes, size_t n, const char *self);

#endif
