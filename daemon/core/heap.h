/* heap.h — a binary min-heap of due instants with a stable tie-break.
 *
 * Nodes are embedded in their owner's struct (intrusive: the heap never
 * allocates a node, only its array of pointers) and ordered by (due,
 * seq). SEQ is the insertion sequence, given by heap_set() when a node
 * enters the heap and kept while it stays there, however often its due
 * instant moves: so nodes due at the same instant come out in the order
 * they first went in (libuv's timers do the same), and re-arming a node
 * does not send it to the back of its instant. Pure: no clock, no I/O. */
#ifndef TICKD_HEAP_H
#define TICKD_HEAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HEAP_NONE UINT32_MAX

/* 16 bytes: one per loaded job (issue 16: memory per loaded job). The
 * sequence is 32-bit: when it runs out, the nodes are numbered again from
 * 0 in their (due, seq) order, which keeps every tie as it was. */
struct heap_node {
        int64_t due;
        uint32_t seq;
        uint32_t index; /* HEAP_NONE when not in a heap */
};

struct heap {
        struct heap_node **nodes;
        size_t len, cap; /* len < HEAP_NONE */
        uint32_t next_seq;
};

#define HEAP_NODE_INIT             \
        {                          \
                .index = HEAP_NONE \
        }
#define HEAP_INIT \
        {         \
                0 \
        }

/* Frees the array and leaves H empty. The nodes are not touched: their
 * owners may already have freed them. */
void heap_done(struct heap *h);

/* Files NODE at DUE: inserted with the next sequence number when it is
 * not in H, moved (keeping its sequence) when it is. Returns -ENOMEM,
 * with NODE left out of H, only when inserting (no memory, or H holds
 * HEAP_NONE - 1 nodes already). */
int heap_set(struct heap *h, struct heap_node *node, int64_t due);
/* Room for N nodes in all, so that inserting up to N never allocates;
 * -ENOMEM. */
int heap_reserve(struct heap *h, size_t n);
/* Takes NODE out of H; a node not in a heap is left alone. */
void heap_remove(struct heap *h, struct heap_node *node);

/* The earliest node (lowest due, then lowest seq), or NULL when empty. */
struct heap_node *heap_top(const struct heap *h);
static inline size_t heap_size(const struct heap *h) { return h->len; }
static inline bool heap_node_queued(const struct heap_node *node) { return node->index != HEAP_NONE; }

#endif
