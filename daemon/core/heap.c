/* heap.c — min-heap on (due, seq); see heap.h. */
#include "core/heap.h"

#include <errno.h>
#include <stdlib.h>

static bool before(const struct heap_node *a, const struct heap_node *b)
{
        return a->due < b->due || (a->due == b->due && a->seq < b->seq);
}

static void place(struct heap *h, size_t i, struct heap_node *node)
{
        h->nodes[i] = node;
        node->index = (uint32_t)i;
}

static void sift_up(struct heap *h, size_t i)
{
        struct heap_node *node = h->nodes[i];
        while (i > 0) {
                size_t parent = (i - 1) / 2;
                if (!before(node, h->nodes[parent]))
                        break;
                place(h, i, h->nodes[parent]);
                i = parent;
        }
        place(h, i, node);
}

static void sift_down(struct heap *h, size_t i)
{
        struct heap_node *node = h->nodes[i];
        for (;;) {
                size_t child = 2 * i + 1;
                if (child >= h->len)
                        break;
                if (child + 1 < h->len && before(h->nodes[child + 1], h->nodes[child]))
                        child++;
                if (!before(h->nodes[child], node))
                        break;
                place(h, i, h->nodes[child]);
                i = child;
        }
        place(h, i, node);
}

/* NODE's key changed in place: one of the two sifts moves it, the other
 * finds nothing to do. */
static void fix(struct heap *h, struct heap_node *node)
{
        sift_up(h, node->index);
        sift_down(h, node->index);
}

static int by_due_then_seq(const void *a, const void *b)
{
        const struct heap_node *x = *(const struct heap_node *const *)a, *y = *(const struct heap_node *const *)b;
        return before(x, y) ? -1 : before(y, x);
}

/* The sequence ran out: number the nodes 0, 1, ... in their (due, seq)
 * order. A sorted array is a valid heap, so no node changes its place
 * relative to the others, and nothing here can fail. */
static void renumber(struct heap *h)
{
        qsort(h->nodes, h->len, sizeof(*h->nodes), by_due_then_seq);
        for (size_t i = 0; i < h->len; i++) {
                h->nodes[i]->seq = (uint32_t)i;
                place(h, i, h->nodes[i]);
        }
        h->next_seq = (uint32_t)h->len;
}

int heap_reserve(struct heap *h, size_t n)
{
        if (n <= h->cap)
                return 0;
        if (n >= HEAP_NONE)
                return -ENOMEM;
        struct heap_node **nodes = realloc(h->nodes, n * sizeof(*nodes));
        if (!nodes)
                return -ENOMEM;
        h->nodes = nodes;
        h->cap = n;
        return 0;
}

int heap_set(struct heap *h, struct heap_node *node, int64_t due)
{
        if (node->index != HEAP_NONE) {
                node->due = due;
                fix(h, node);
                return 0;
        }
        if (h->len >= HEAP_NONE - 1)
                return -ENOMEM;
        if (h->len == h->cap) {
                size_t cap = h->cap ? h->cap * 2 : 64;
                struct heap_node **nodes = realloc(h->nodes, cap * sizeof(*nodes));
                if (!nodes)
                        return -ENOMEM;
                h->nodes = nodes;
                h->cap = cap;
        }
        if (h->next_seq == UINT32_MAX)
                renumber(h);
        node->due = due;
        node->seq = h->next_seq++;
        place(h, h->len++, node);
        sift_up(h, node->index);
        return 0;
}

void heap_remove(struct heap *h, struct heap_node *node)
{
        size_t i = node->index;
        if (i == HEAP_NONE)
                return;
        node->index = HEAP_NONE;
        struct heap_node *last = h->nodes[--h->len];
        if (last == node)
                return;
        place(h, i, last);
        fix(h, last);
}

struct heap_node *heap_top(const struct heap *h) { return h->len ? h->nodes[0] : NULL; }

void heap_done(struct heap *h)
{
        free(h->nodes);
        *h = (struct heap)HEAP_INIT;
}
