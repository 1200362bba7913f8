/* test-conf-fleet.c — tickd.conf's [fleet] section (conf.c, conf-fleet.c). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cleanup.h"
#include "core/conf-fleet.h"
#include "core/conf.h"
#include "core/timespan.h"
#include "harness/harness.h"

#define FLEET "[fleet]\nendpoints = http://10.0.0.1:2379\nname = prod\n"

static int load(const char *text, struct daemon_config *c, struct diagnostics *d)
{
        return daemon_config_load_buffer("tickd.conf", text, strlen(text), c, d);
}

static void print_diags(const struct diagnostics *d)
{
        for (size_t i = 0; i < d->count; i++)
                diag_fprint(stderr, &d->items[i]);
}

START_TEST(no_fleet_section_leaves_fleet_null)
{
        struct daemon_config c;
        struct diagnostics d = { 0 };
        ck_assert_int_eq(load("[daemon]\nmax_concurrent = 2\n", &c, &d), 0);
        ck_assert_ptr_null(c.fleet);
        ck_assert_uint_eq(c.max_concurrent, 2);
        daemon_config_free(&c);
        ck_assert_int_eq(daemon_config_load("/nonexistent/tickd.conf", NULL, &c, &d), 0);
        ck_assert_ptr_null(c.fleet);
        daemon_config_free(&c);
        ck_assert_uint_eq(d.count, 0);
}
END_TEST

/* Whether a reload changed the fleet a node is in: every key counts,
 * where the section sits in the file does not. */
START_TEST(fleet_configs_compare_key_by_key)
{
        static const char *const differ[] = {
                FLEET "node = b\n",
                "[fleet]\nendpoints = http://10.0.0.1:2379, http://10.0.0.2:2379\nname = prod\n",
                "[fleet]\nendpoints = http://10.0.0.2:2379\nname = prod\n",
                "[fleet]\nendpoints = http://10.0.0.1:2379\nname = test\n",
                FLEET "on_unavailable = run\n",
                FLEET "lease_ttl = 10s\n",
                FLEET "claim_timeout = 1s\n",
                FLEET "retention = 2d\n",
                FLEET "user = u\npassword_file = /etc/tickd/pw\n",
        };
        struct daemon_config a, b;
        struct diagnostics d = { 0 };
        ck_assert_int_eq(load(FLEET, &a, &d), 0);
        ck_assert_int_eq(load("[daemon]\nmax_concurrent = 2\n\n" FLEET, &b, &d), 0);
        ck_assert(fleet_config_equal(a.fleet, b.fleet));
        ck_assert(fleet_config_equal(NULL, NULL));
        ck_assert(!fleet_config_equal(a.fleet, NULL) && !fleet_config_equal(NULL, a.fleet));
        daemon_config_free(&b);
        for (size_t i = 0; i < sizeof(differ) / sizeof(differ[0]); i++) {
                ck_assert_int_eq(load(differ[i], &b, &d), 0);
                ck_assert_msg(!fleet_config_equal(a.fleet, b.fleet) && !fleet_config_equal(b.fleet, a.fleet),
                              "equal to the base: %s", differ[i]);
                daemon_config_free(&b);
        }
        daemon_config_free(&a);
        print_diags(&d);
        ck_assert_uint_eq(d.count, 0);
}
END_TEST

START_TEST(minimal_section_gets_the_defaults)
{
        struct daemon_config c;
        struct diagnostics d = { 0 };
        int r = load("[daemon]\nlog_level = info\n\n" FLEET, &c, &d);
        print_diags(&d);
        ck_assert_int_eq(r, 0);
        ck_assert_ptr_nonnull(c.fleet);
        const struct fleet_config *f = c.fleet;
        ck_assert_str_eq(f->endpoints[0], "http://10.0.0.1:2379");
        ck_assert_ptr_null(f->endpoints[1]);
        ck_assert_str_eq(f->name, "prod");
        ck_assert_ptr_null(f->node);
        ck_assert_int_eq(f->on_unavailable, FLEET_UNAVAILABLE_SKIP);
        ck_assert_ptr_null(f->ca_file);
        ck_assert_ptr_null(f->cert_file);
        ck_assert_ptr_null(f->key_file);
        ck_assert_ptr_null(f->user);
        ck_assert_ptr_null(f->password_file);
        ck_assert_uint_eq(f->retention_usec, 7 * 24 * 3600 * USEC_PER_SEC);
        ck_assert_uint_eq(f->claim_timeout_usec, 2 * USEC_PER_SEC);
        ck_assert_uint_eq(f->lease_ttl_usec, 5 * USEC_PER_SEC);
        ck_assert_uint_eq(f->line, 4);
        daemon_config_free(&c);
        ck_assert_ptr_null(c.fleet);
}
END_TEST

START_TEST(every_key_is_read)
{
        static const char text[] = "[fleet]\n"
                                   "endpoints = https://etcd-1.example.com:2379, HTTPS://10.0.0.2:2379/ ,"
                                   "https://[2001:db8::1]:2379\n"
                                   "name = prod.web_1-a\n"
                                   "node = host-7\n"
                                   "on_unavailable = run\n"
                                   "ca_file = /etc/tickd/ca.pem\n"
                                   "cert_file = /etc/tickd/client.pem\n"
                                   "key_file = /etc/tickd/client.key\n"
                                   "user = tickd\n"
                                   "password_file = /etc/tickd/etcd-password\n"
                                   "retention = 30d\n"
                                   "claim_timeout = 500ms\n"
                                   "lease_ttl = 10s\n";
        struct daemon_config c;
        struct diagnostics d = { 0 };
        int r = load(text, &c, &d);
        print_diags(&d);
        ck_assert_int_eq(r, 0);
        const struct fleet_config *f = c.fleet;
        ck_assert_str_eq(f->endpoints[0], "https://etcd-1.example.com:2379");
        ck_assert_str_eq(f->endpoints[1], "https://10.0.0.2:2379"); /* scheme folded, '/' dropped */
        ck_assert_str_eq(f->endpoints[2], "https://[2001:db8::1]:2379");
        ck_assert_ptr_null(f->endpoints[3]);
        ck_assert_str_eq(f->name, "prod.web_1-a");
        ck_assert_str_eq(f->node, "host-7");
        ck_assert_int_eq(f->on_unavailable, FLEET_UNAVAILABLE_RUN);
        ck_assert_str_eq(f->ca_file, "/etc/tickd/ca.pem");
        ck_assert_str_eq(f->cert_file, "/etc/tickd/client.pem");
        ck_assert_str_eq(f->key_file, "/etc/tickd/client.key");
        ck_assert_str_eq(f->user, "tickd");
        ck_assert_str_eq(f->password_file, "/etc/tickd/etcd-password");
        ck_assert_uint_eq(f->retention_usec, 30 * 24 * 3600 * USEC_PER_SEC);
        ck_assert_uint_eq(f->claim_timeout_usec, 500 * USEC_PER_MSEC);
        ck_assert_uint_eq(f->lease_ttl_usec, 10 * USEC_PER_SEC);
        ck_assert_uint_eq(f->line, 1);
        daemon_config_free(&c);
}
END_TEST

START_TEST(range_limits_are_accepted)
{
        struct daemon_config c;
        struct diagnostics d = { 0 };
        ck_assert_int_eq(load(FLEET "retention = 1h\nclaim_timeout = 100ms\nlease_ttl = 2s\n", &c, &d), 0);
        ck_assert_uint_eq(c.fleet->retention_usec, 3600 * USEC_PER_SEC);
        ck_assert_uint_eq(c.fleet->claim_timeout_usec, 100 * USEC_PER_MSEC);
        ck_assert_uint_eq(c.fleet->lease_ttl_usec, 2 * USEC_PER_SEC);
        daemon_config_free(&c);
        ck_assert_int_eq(load(FLEET "claim_timeout = 1min\nlease_ttl = 1min\n", &c, &d), 0);
        ck_assert_uint_eq(c.fleet->claim_timeout_usec, 60 * USEC_PER_SEC);
        ck_assert_uint_eq(c.fleet->lease_ttl_usec, 60 * USEC_PER_SEC);
        daemon_config_free(&c);
        ck_assert_uint_eq(d.count, 0);
}
END_TEST

static const struct {
        const char *text;
        unsigned line;
        const char *message;
} errors[] = {
        /* required keys, at the header */
        { "[daemon]\n[fleet]\nname = prod\n", 2, "[fleet] has no endpoints" },
        { "[fleet]\nendpoints = http://a:2379\n", 1, "[fleet] has no name" },
        /* unknown keys and sections */
        { FLEET "endpoint = http://b:2379\n", 4, "unknown key 'endpoint' in [fleet] (did you mean 'endpoints'?)" },
        { FLEET "colour = blue\n", 4, "unknown key 'colour' in [fleet]" },
        { FLEET "max_concurrent = 3\n", 4, "unknown key 'max_concurrent' in [fleet]: it belongs in [daemon]" },
        { "[daemon]\nendpoints = http://a:2379\n", 2, "unknown key 'endpoints' in [daemon]: it belongs in [fleet]" },
        { "name = prod\n", 1, "'name' is outside any section: put it under [fleet]" },
        { "[flet]\n", 1, "unknown section [flet] (did you mean [fleet]?)" },
        { FLEET "[fleet]\n", 4, "[fleet] already given at line 1" },
        { FLEET "name = other\n", 4, "'name' already set at line 3" },
        /* endpoints */
        { "[fleet]\nname = p\nendpoints = 10.0.0.1:2379\n", 3,
          "endpoints: '10.0.0.1:2379': no scheme (write http://HOST:PORT or https://HOST:PORT)" },
        { "[fleet]\nname = p\nendpoints = unix://etcd:2379\n", 3,
          "endpoints: 'unix://etcd:2379': unknown scheme 'unix' (http or https)" },
        { "[fleet]\nname = p\nendpoints = http://etcd\n", 3, "endpoints: 'http://etcd': no port" },
        { "[fleet]\nname = p\nendpoints = http://etcd:\n", 3, "endpoints: 'http://etcd:': no port" },
        { "[fleet]\nname = p\nendpoints = http://etcd:0\n", 3, "port 0 is out of range (1 to 65535)" },
        { "[fleet]\nname = p\nendpoints = http://etcd:65536\n", 3, "port 65536 is out of range (1 to 65535)" },
        { "[fleet]\nname = p\nendpoints = http://etcd:99999999999999999999\n", 3, "is out of range" },
        { "[fleet]\nname = p\nendpoints = http://etcd:23x9\n", 3, "port '23x9' is not a number" },
        { "[fleet]\nname = p\nendpoints = http://etcd:2379/v3\n", 3,
          "a path, query or fragment ('/v3') is not allowed" },
        { "[fleet]\nname = p\nendpoints = http://etcd:2379?x=1\n", 3, "a path, query or fragment ('?x=1')" },
        { "[fleet]\nname = p\nendpoints = http://root:pw@etcd:2379\n", 3, "a user in the address is not allowed" },
        { "[fleet]\nname = p\nendpoints = http://:2379\n", 3, "no host" },
        { "[fleet]\nname = p\nendpoints = http://2001:db8::1:2379\n", 3, "an IPv6 address must be in brackets" },
        { "[fleet]\nname = p\nendpoints = http://[2001:db8::1:2379\n", 3, "'[' without its ']'" },
        { "[fleet]\nname = p\nendpoints = http://[fe80::zz]:2379\n", 3, "'fe80::zz' is not an IPv6 address" },
        { "[fleet]\nname = p\nendpoints = http://[::1]x:2379\n", 3, "unexpected 'x' after the host" },
        { "[fleet]\nname = p\nendpoints = http://10.0.0.300:2379\n", 3, "'10.0.0.300' is not an IPv4 address" },
        { "[fleet]\nname = p\nendpoints = http://etcd_1:2379\n", 3, "a character a host name cannot have ('_')" },
        { "[fleet]\nname = p\nendpoints = http://-etcd:2379\n", 3, "'-etcd' is not a host name" },
        { "[fleet]\nname = p\nendpoints = http://a..b:2379\n", 3, "'a..b' is not a host name" },
        { "[fleet]\nname = p\nendpoints = http://a:1,,http://b:1\n", 3, "endpoints: an empty entry" },
        { "[fleet]\nname = p\nendpoints = http://a:1, http://b:1,\n", 3, "endpoints: an empty entry" },
        { "[fleet]\nname = p\nendpoints =\n", 3, "endpoints: empty (example:" },
        { "[fleet]\nname = p\nendpoints = http://a:1, HTTP://a:1/\n", 3, "endpoints: 'HTTP://a:1/' is given twice" },
        { "[fleet]\nname = p\nendpoints = http://a:1, https://b:1\n", 3, "both http:// and https:// given" },
        /* the other keys */
        { "[fleet]\nendpoints = http://a:1\nname = prod/web\n", 3,
          "name: 'prod/web' is not 1 to 64 letters, digits, '.', '_' or '-'" },
        { "[fleet]\nendpoints = http://a:1\nname = ..\n", 3, "name: '..' is not" },
        { "[fleet]\nendpoints = http://a:1\nname = "
          "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n",
          3, "is not 1 to 64 letters" },
        { FLEET "node = my host\n", 4, "node: 'my host' is not 1 to 64 letters" },
        { FLEET "on_unavailable = wait\n", 4, "on_unavailable: 'wait' is not one of skip, run" },
        { FLEET "retention = 59min\n", 4, "retention: '59min' is out of range (at least 1h)" },
        { FLEET "retention = forever\n", 4, "retention: 'forever' is not a time span" },
        { FLEET "claim_timeout = 99ms\n", 4, "claim_timeout: '99ms' is out of range (100ms to 60s)" },
        { FLEET "claim_timeout = 61s\n", 4, "claim_timeout: '61s' is out of range (100ms to 60s)" },
        { FLEET "lease_ttl = 1s\n", 4, "lease_ttl: '1s' is out of range (2s to 60s)" },
        { FLEET "lease_ttl = 2min\n", 4, "lease_ttl: '2min' is out of range (2s to 60s)" },
        { FLEET "lease_ttl = 2500ms\n", 4, "lease_ttl: '2500ms' is not a whole number of seconds" },
        { "[fleet]\nendpoints = https://a:1\nname = p\nca_file = ca.pem\n", 4, "ca_file: 'ca.pem' is not an absolute" },
        { FLEET "password_file = secret\nuser = u\n", 4, "password_file: 'secret' is not an absolute path" },
        { FLEET "user = a b\npassword_file = /p\n", 4, "user: 'a b' has a blank or control character" },
        /* across keys */
        { FLEET "ca_file = /etc/ca.pem\n", 4, "ca_file: no endpoint is https://" },
        { "[fleet]\nendpoints = https://a:1\nname = p\ncert_file = /c.pem\n", 4, "cert_file without key_file" },
        { "[fleet]\nendpoints = https://a:1\nname = p\nkey_file = /c.key\n", 4, "key_file without cert_file" },
        { FLEET "user = tickd\n", 4, "user without password_file" },
        { FLEET "password_file = /etc/pw\n", 4, "password_file without user" },
};

START_TEST(each_error_names_its_line)
{
        struct daemon_config c;
        struct diagnostics d = { 0 };
        const char *t = errors[_i].text;
        ck_assert_int_eq(load(t, &c, &d), -EINVAL);
        bool found = false;
        for (size_t i = 0; i < d.count; i++)
                found = found ||
                        (d.items[i].severity == DIAG_ERROR && d.items[i].line == errors[_i].line &&
                         strcmp(d.items[i].file, "tickd.conf") == 0 && strstr(d.items[i].message, errors[_i].message));
        if (!found)
                print_diags(&d);
        ck_assert_msg(found, "no error at tickd.conf:%u containing \"%s\"", errors[_i].line, errors[_i].message);
        /* One problem, one message: no "missing" key after a refused value. */
        ck_assert_uint_eq(d.count, 1);
        /* A rejected file is as if absent: no fleet. */
        ck_assert_ptr_null(c.fleet);
        daemon_config_free(&c);
        diag_free(&d);
}
END_TEST

/* Every malformed endpoint of a list is named, not only the first. */
START_TEST(every_malformed_endpoint_is_named)
{
        struct daemon_config c;
        struct diagnostics d = { 0 };
        ck_assert_int_eq(load("[fleet]\nname = p\nendpoints = etcd:1, http://ok:2379, ftp://x:1, http://y\n", &c, &d),
                         -EINVAL);
        ck_assert_uint_eq(d.count, 3);
        ck_assert_str_eq(d.items[0].message,
                         "endpoints: 'etcd:1': no scheme (write http://HOST:PORT or https://HOST:PORT)");
        ck_assert_str_eq(d.items[1].message, "endpoints: 'ftp://x:1': unknown scheme 'ftp' (http or https)");
        ck_assert_str_eq(d.items[2].message, "endpoints: 'http://y': no port (etcd's client port is usually 2379)");
        for (size_t i = 0; i < d.count; i++) {
                ck_assert_uint_eq(d.items[i].line, 3);
                ck_assert_str_eq(d.items[i].key, "endpoints");
        }
        daemon_config_free(&c);
        diag_free(&d);
}
END_TEST

/* A line dropped for its length is reported once, not also "missing". */
START_TEST(over_long_endpoints_line_is_not_also_missing)
{
        size_t n = 5000;
        char *text = malloc(n + 64);
        ck_assert_ptr_nonnull(text);
        int k = snprintf(text, n + 64, "[fleet]\nname = p\nendpoints = http://a:1");
        memset(text + k, ' ', n);
        strcpy(text + k + n, "\n");
        struct daemon_config c;
        struct diagnostics d = { 0 };
        ck_assert_int_eq(load(text, &c, &d), -EINVAL);
        ck_assert_uint_eq(d.count, 1);
        ck_assert_uint_eq(d.items[0].line, 3);
        daemon_config_free(&c);
        diag_free(&d);
        free(text);
}
END_TEST

static Suite *conf_fleet_suite(void)
{
        Suite *s = suite_create("conf-fleet");
        TCase *tc = tcase_create("fleet");
        tcase_add_leak_fixture(tc);
        tcase_add_test(tc, no_fleet_section_leaves_fleet_null);
        tcase_add_test(tc, minimal_section_gets_the_defaults);
        tcase_add_test(tc, fleet_configs_compare_key_by_key);
        tcase_add_test(tc, every_key_is_read);
        tcase_add_test(tc, range_limits_are_accepted);
        tcase_add_loop_test(tc, each_error_names_its_line, 0, ELEMENTSOF(errors));
        tcase_add_test(tc, every_malformed_endpoint_is_named);
        tcase_add_test(tc, over_long_endpoints_line_is_not_also_missing);
        suite_add_tcase(s, tc);
        return s;
}

TEST_MAIN(conf_fleet_suite)
