/* harness-etcd.h — a real etcd cluster of 1 to 5 members on loopback, for
 * the suites of the etcd client and the fleet jobs.
 *
 * The binary is $TICKD_ETCD (`make check` unpacks Debian's etcd-server
 * into the build tree and sets it); when it is unset or not executable the
 * test fails loudly, never skips. Each member has its own data directory
 * under one temporary directory, client and peer ports on 127.0.0.1 that
 * were free a moment before, elections tuned fast (heartbeat 50 ms,
 * election timeout 500 ms), and its output in member-I.log there. Every
 * function fails the test (ck_abort) when it cannot do what it says;
 * etcd_cluster_free() kills and reaps every member, so the leak fixture
 * sees no child left. */
#ifndef TICKD_TESTS_HARNESS_ETCD_H
#define TICKD_TESTS_HARNESS_ETCD_H

#include <stdbool.h>

struct etcd_cluster;

/* Starts N members and waits (at most 15 s) until each answers /health
 * (on a plain-http metrics port of its own, so TLS and authentication
 * never stand in the way of the check). */
struct etcd_cluster *etcd_cluster_start(int n);

struct etcd_cluster_options {
        /* Client URLs https://, served with a certificate for IP
         * 127.0.0.1 and demanding a client certificate signed by the
         * harness's CA (--client-cert-auth); peers stay http. The CA,
         * the server's and the clients' certificates and keys, and a
         * second CA that signed none of them, are made with openssl(1)
         * in the cluster's directory. */
        bool tls;
};
struct etcd_cluster *etcd_cluster_start_with(int n, const struct etcd_cluster_options *options);
void etcd_cluster_free(struct etcd_cluster *cluster);

/* A TLS cluster's files: the CA that signed its server and client
 * certificates, the client's certificate (a subject without a Common
 * Name) and key, the unrelated CA, and a second client certificate and
 * key, signed by the CA, whose subject has a Common Name. */
const char *etcd_cluster_ca_file(const struct etcd_cluster *cluster);
const char *etcd_cluster_cert_file(const struct etcd_cluster *cluster);
const char *etcd_cluster_key_file(const struct etcd_cluster *cluster);
const char *etcd_cluster_other_ca_file(const struct etcd_cluster *cluster);
const char *etcd_cluster_named_cert_file(const struct etcd_cluster *cluster);
const char *etcd_cluster_named_key_file(const struct etcd_cluster *cluster);

/* Turns etcd's authentication on: user root (ETCD_ROOT_PASSWORD, role
 * root) and user USER (PASSWORD) with a role of the same name that may
 * read and write every key under /tickd/ and nothing else. Done with
 * curl(1) on the JSON gateway, each step checked. */
#define ETCD_ROOT_PASSWORD "root-secret"
void etcd_cluster_auth_enable(struct etcd_cluster *cluster, const char *user, const char *password);
/* As root: authentication off and on again, which makes etcd forget
 * every token it gave out. */
void etcd_cluster_auth_reset(struct etcd_cluster *cluster);

/* "http://127.0.0.1:P1,http://127.0.0.1:P2,...", member I's URL, and the
 * URLs as a NULL-terminated array (struct etcd_options' endpoints). */
const char *etcd_cluster_endpoints(const struct etcd_cluster *cluster);
const char *etcd_cluster_endpoint(const struct etcd_cluster *cluster, int i);
char *const *etcd_cluster_endpoint_list(const struct etcd_cluster *cluster);

/* Member I: SIGTERM and reap; SIGKILL and reap; SIGSTOP (returns once
 * every thread is stopped); SIGCONT. */
void etcd_cluster_stop(struct etcd_cluster *cluster, int i);
void etcd_cluster_kill(struct etcd_cluster *cluster, int i);
void etcd_cluster_pause(struct etcd_cluster *cluster, int i);
void etcd_cluster_resume(struct etcd_cluster *cluster, int i);
/* Starts stopped (or killed) member I again, same data and ports, and
 * waits until it answers. */
void etcd_cluster_restart(struct etcd_cluster *cluster, int i);

/* A port on 127.0.0.1 that was just bound and closed: connecting to it is
 * refused (for as long as nothing else takes it). */
int harness_closed_port(void);

#endif
