/* test-rendezvous.c — the order fleet nodes agree on for an instant:
 * the same from every node's view, a permutation, fair, and stable when
 * another node leaves. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "core/rendezvous.h"
#include "harness/harness.h"

static const char *const three[] = { "a", "b", "c" };

START_TEST(every_node_computes_a_distinct_place)
{
        for (int64_t t = 0; t < 200; t++) {
                unsigned seen = 0;
                for (size_t i = 0; i < 3; i++) {
                        unsigned r = rendezvous_rank("tick", t * 1000000, three, 3, three[i]);
                        ck_assert_uint_lt(r, 3);
                        seen |= 1u << r;
                }
                ck_assert_uint_eq(seen, 7); /* one node first, one second, one third */
        }
}
END_TEST

START_TEST(the_list_order_does_not_matter)
{
        static const char *const shuffled[] = { "c", "a", "b" };
        for (int64_t t = 0; t < 100; t++)
                for (size_t i = 0; i < 3; i++)
                        ck_assert_uint_eq(rendezvous_rank("job", t, three, 3, three[i]),
                                          rendezvous_rank("job", t, shuffled, 3, three[i]));
}
END_TEST

START_TEST(each_node_heads_about_its_share)
{
        unsigned first[3] = { 0 };
        char job[32];
        for (int j = 0; j < 3000; j++) {
                snprintf(job, sizeof(job), "burst%04d", j);
                for (size_t i = 0; i < 3; i++)
                        if (rendezvous_rank(job, 1700000000000000, three, 3, three[i]) == 0)
                                first[i]++;
        }
        for (size_t i = 0; i < 3; i++) /* 1,000 expected; 800 is > 8 sigma away */
                ck_assert_msg(first[i] > 800 && first[i] < 1200, "node %s heads %u of 3000", three[i], first[i]);
}
END_TEST

START_TEST(a_node_leaving_moves_only_its_own_instants)
{
        static const char *const two[] = { "a", "c" };
        for (int64_t t = 0; t < 500; t++) {
                bool b_first = rendezvous_rank("j", t, three, 3, "b") == 0;
                unsigned a3 = rendezvous_rank("j", t, three, 3, "a"), a2 = rendezvous_rank("j", t, two, 2, "a");
                unsigned c3 = rendezvous_rank("j", t, three, 3, "c"), c2 = rendezvous_rank("j", t, two, 2, "c");
                if (!b_first) { /* whoever headed it still does */
                        ck_assert_uint_eq(a3 == 0, a2 == 0);
                        ck_assert_uint_eq(c3 == 0, c2 == 0);
                } else { /* b's second takes over */
                        ck_assert_uint_eq(a2 == 0, a3 == 1);
                }
        }
}
END_TEST

START_TEST(a_node_missing_from_its_own_list_counts_itself_once)
{
        static const char *const others[] = { "b", "c" };
        for (int64_t t = 0; t < 100; t++)
                ck_assert_uint_eq(rendezvous_rank("j", t, others, 2, "a"), rendezvous_rank("j", t, three, 3, "a"));
        ck_assert_uint_eq(rendezvous_rank("j", 0, NULL, 0, "a"), 0);
}
END_TEST

START_TEST(jobs_and_instants_reorder_the_nodes)
{
        unsigned a_first_by_instant = 0, a_first_by_job = 0;
        char job[16];
        for (int64_t t = 0; t < 300; t++)
                a_first_by_instant += rendezvous_rank("j", t * 1000000, three, 3, "a") == 0;
        for (int j = 0; j < 300; j++) {
                snprintf(job, sizeof(job), "j%d", j);
                a_first_by_job += rendezvous_rank(job, 0, three, 3, "a") == 0;
        }
        ck_assert_uint_gt(a_first_by_instant, 50);
        ck_assert_uint_lt(a_first_by_instant, 150);
        ck_assert_uint_gt(a_first_by_job, 50);
        ck_assert_uint_lt(a_first_by_job, 150);
}
END_TEST

static Suite *rendezvous_suite(void)
{
        Suite *s = suite_create("rendezvous");
        TCase *tc = tcase_create("rank");
        tcase_add_leak_fixture(tc);
        tcase_add_test(tc, every_node_computes_a_distinct_place);
        tcase_add_test(tc, the_list_order_does_not_matter);
        tcase_add_test(tc, each_node_heads_about_its_share);
        tcase_add_test(tc, a_node_leaving_moves_only_its_own_instants);
        tcase_add_test(tc, a_node_missing_from_its_own_list_counts_itself_once);
        tcase_add_test(tc, jobs_and_instants_reorder_the_nodes);
        suite_add_tcase(s, tc);
        return s;
}

TEST_MAIN(rendezvous_suite)
