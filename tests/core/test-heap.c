/* test-heap.c — the min-heap: order by due instant, ties in insertion
 * order (kept when a node moves), removal and moves of any node, and a
 * long random walk checked against a sorted reference. */
#include <stdlib.h>

#include "core/cleanup.h"
#include "core/heap.h"
#include "harness/harness.h"

#define N 64

struct item {
        struct heap_node node; /* first: a node pointer is its item */
        int id;
};

static void items_init(struct item *items, size_t n)
{
        for (size_t i = 0; i < n; i++)
                items[i] = (struct item){ .node = HEAP_NODE_INIT, .id = (int)i };
}

static int pop_id(struct heap *h)
{
        struct item *top = (struct item *)heap_top(h);
        ck_assert_ptr_nonnull(top);
        heap_remove(h, &top->node);
        ck_assert(!heap_node_queued(&top->node));
        return top->id;
}

START_TEST(comes_out_by_due_instant)
{
        static const int64_t dues[] = { 50, 10, 40, 30, 20, 60, 0, -5 };
        static const int order[] = { 7, 6, 1, 4, 3, 2, 0, 5 };
        struct item items[ELEMENTSOF(dues)];
        struct heap h = HEAP_INIT;
        items_init(items, ELEMENTSOF(dues));
        ck_assert_ptr_null(heap_top(&h));
        for (size_t i = 0; i < ELEMENTSOF(dues); i++)
                ck_assert_int_eq(heap_set(&h, &items[i].node, dues[i]), 0);
        ck_assert_uint_eq(heap_size(&h), ELEMENTSOF(dues));
        for (size_t i = 0; i < ELEMENTSOF(order); i++)
                ck_assert_int_eq(pop_id(&h), order[i]);
        ck_assert_ptr_null(heap_top(&h));
        heap_done(&h);
}
END_TEST

START_TEST(equal_instants_come_out_in_insertion_order)
{
        struct item items[N];
        struct heap h = HEAP_INIT;
        items_init(items, N);
        for (size_t i = 0; i < N; i++)
                ck_assert_int_eq(heap_set(&h, &items[i].node, i % 3 ? 100 : 200), 0);
        for (int i = 0; i < N; i++)
                if (i % 3)
                        ck_assert_int_eq(pop_id(&h), i);
        for (int i = 0; i < N; i++)
                if (i % 3 == 0)
                        ck_assert_int_eq(pop_id(&h), i);
        heap_done(&h);
}
END_TEST

/* A node moved to an instant others already hold keeps its first place
 * among them: re-arming a timer does not send it to the back. */
START_TEST(a_moved_node_keeps_its_place_among_equals)
{
        struct item items[8];
        struct heap h = HEAP_INIT;
        items_init(items, 8);
        for (size_t i = 0; i < 8; i++)
                ck_assert_int_eq(heap_set(&h, &items[i].node, 10), 0);
        /* Pop-and-re-arm every node, as the scheduler does each tick. */
        for (int round = 0; round < 3; round++)
                for (int i = 0; i < 8; i++) {
                        struct item *top = (struct item *)heap_top(&h);
                        ck_assert_int_eq(top->id, i);
                        ck_assert_int_eq(heap_set(&h, &top->node, 20 + 10 * round), 0);
                }
        /* A node moved later then back earlier: still by its sequence. */
        ck_assert_int_eq(heap_set(&h, &items[0].node, 1000), 0);
        ck_assert_int_eq(heap_set(&h, &items[0].node, 40), 0);
        for (int i = 0; i < 8; i++)
                ck_assert_int_eq(pop_id(&h), i);
        heap_done(&h);
}
END_TEST

START_TEST(a_node_removed_and_added_again_goes_behind_its_equals)
{
        struct item items[4];
        struct heap h = HEAP_INIT;
        items_init(items, 4);
        for (size_t i = 0; i < 4; i++)
                ck_assert_int_eq(heap_set(&h, &items[i].node, 5), 0);
        heap_remove(&h, &items[1].node);
        heap_remove(&h, &items[1].node); /* not in the heap: left alone */
        ck_assert_uint_eq(heap_size(&h), 3);
        ck_assert_int_eq(heap_set(&h, &items[1].node, 5), 0);
        static const int order[] = { 0, 2, 3, 1 };
        for (size_t i = 0; i < ELEMENTSOF(order); i++)
                ck_assert_int_eq(pop_id(&h), order[i]);
        heap_done(&h);
}
END_TEST

START_TEST(removes_and_moves_any_node)
{
        struct item items[N];
        struct heap h = HEAP_INIT;
        items_init(items, N);
        for (size_t i = 0; i < N; i++)
                ck_assert_int_eq(heap_set(&h, &items[i].node, (int64_t)(i * 7919 % N)), 0);
        /* Out from the middle, the end and the top; moves both ways. */
        heap_remove(&h, &items[N / 2].node);
        heap_remove(&h, &items[N - 1].node);
        heap_remove(&h, heap_top(&h));
        ck_assert_int_eq(heap_set(&h, &items[5].node, -1), 0);
        ck_assert_int_eq(heap_set(&h, &items[6].node, 10 * N), 0);
        ck_assert_int_eq(pop_id(&h), 5);
        int64_t last = INT64_MIN;
        int count = 0, final = -1;
        while (heap_top(&h)) {
                ck_assert_int_ge(heap_top(&h)->due, last);
                last = heap_top(&h)->due;
                final = pop_id(&h);
                count++;
        }
        ck_assert_int_eq(count, N - 4);
        ck_assert_int_eq(final, 6);
        heap_done(&h);
}
END_TEST

/* The reference: every queued item, sorted by (due, seq) on demand. */
static int by_due_then_seq(const void *a, const void *b)
{
        const struct item *x = *(const struct item *const *)a, *y = *(const struct item *const *)b;
        if (x->node.due != y->node.due)
                return x->node.due < y->node.due ? -1 : 1;
        return x->node.seq < y->node.seq ? -1 : x->node.seq > y->node.seq;
}

static struct item *reference_min(struct item *items, size_t n)
{
        struct item *queued[N];
        size_t k = 0;
        for (size_t i = 0; i < n; i++)
                if (heap_node_queued(&items[i].node))
                        queued[k++] = &items[i];
        if (k == 0)
                return NULL;
        qsort(queued, k, sizeof(queued[0]), by_due_then_seq);
        return queued[0];
}

/* The 32-bit sequence runs out on a daemon reloaded often enough: the
 * nodes are numbered again, and ties that were settled stay settled. */
START_TEST(ties_keep_their_order_when_the_sequence_runs_out)
{
        struct item items[8];
        struct heap h = HEAP_INIT;
        items_init(items, ELEMENTSOF(items));
        h.next_seq = UINT32_MAX - 4;
        /* Four in, at two instants; the fifth insertion renumbers. */
        for (size_t i = 0; i < 4; i++)
                ck_assert_int_eq(heap_set(&h, &items[i].node, i % 2 ? 10 : 20), 0);
        ck_assert_uint_eq(h.next_seq, UINT32_MAX);
        for (size_t i = 4; i < ELEMENTSOF(items); i++)
                ck_assert_int_eq(heap_set(&h, &items[i].node, i % 2 ? 10 : 20), 0);
        ck_assert_uint_lt(h.next_seq, 16);
        /* Moving an old node keeps its (renumbered) place among equals. */
        ck_assert_int_eq(heap_set(&h, &items[1].node, 20), 0);
        ck_assert_int_eq(heap_set(&h, &items[1].node, 10), 0);
        static const int order[] = { 1, 3, 5, 7, 0, 2, 4, 6 };
        for (size_t i = 0; i < ELEMENTSOF(order); i++)
                ck_assert_int_eq(pop_id(&h), order[i]);
        heap_done(&h);
}
END_TEST

START_TEST(random_operations_match_a_sorted_reference)
{
        struct item items[N];
        struct heap h = HEAP_INIT;
        items_init(items, N);
        unsigned seed = 12345;
        size_t queued = 0;
        for (int step = 0; step < 20000; step++) {
                struct item *it = &items[rand_r(&seed) % N];
                int op = rand_r(&seed) % 4;
                bool was_queued = heap_node_queued(&it->node);
                uint64_t seq = it->node.seq;
                if (op == 0) {
                        heap_remove(&h, &it->node);
                        queued -= was_queued;
                } else if (op == 1) {
                        /* Pop, as the scheduler's timer does. */
                        struct item *top = (struct item *)heap_top(&h);
                        ck_assert_ptr_eq(top, reference_min(items, N));
                        if (top) {
                                heap_remove(&h, &top->node);
                                queued--;
                        }
                } else {
                        /* Few distinct instants, so ties are common. */
                        ck_assert_int_eq(heap_set(&h, &it->node, rand_r(&seed) % 8), 0);
                        queued += !was_queued;
                        if (was_queued)
                                ck_assert_uint_eq(it->node.seq, seq);
                }
                ck_assert_uint_eq(heap_size(&h), queued);
                ck_assert_ptr_eq((struct item *)heap_top(&h), reference_min(items, N));
        }
        heap_done(&h);
        ck_assert_uint_eq(heap_size(&h), 0);
}
END_TEST

static Suite *heap_suite(void)
{
        Suite *s = suite_create("heap");
        TCase *tc = tcase_create("heap");
        tcase_add_test(tc, comes_out_by_due_instant);
        tcase_add_test(tc, equal_instants_come_out_in_insertion_order);
        tcase_add_test(tc, a_moved_node_keeps_its_place_among_equals);
        tcase_add_test(tc, a_node_removed_and_added_again_goes_behind_its_equals);
        tcase_add_test(tc, removes_and_moves_any_node);
        tcase_add_test(tc, ties_keep_their_order_when_the_sequence_runs_out);
        tcase_add_test(tc, random_operations_match_a_sorted_reference);
        suite_add_tcase(s, tc);
        return s;
}

TEST_MAIN(heap_suite)
