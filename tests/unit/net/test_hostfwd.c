// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The hostfwd rule parser of user-mode networking
 * (net_slirp_parse_hostfwd in src/net/slirp.c): the rules people write
 * work, with their defaults, and every kind of malformed rule is refused
 * with -EINVAL rather than half-parsed into a forward nobody asked for.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "net/slirp.h"

struct fwd {
	int is_udp;
	struct in_addr host_addr, guest_addr;
	int host_port, guest_port;
};

static int parse(const char *rule, struct fwd *f)
{
	memset(f, 0xa5, sizeof(*f));
	return net_slirp_parse_hostfwd(rule, &f->is_udp, &f->host_addr, &f->host_port,
				       &f->guest_addr, &f->guest_port);
}

static void assert_addr(struct in_addr a, const char *want)
{
	char got[INET_ADDRSTRLEN];

	assert_non_null(inet_ntop(AF_INET, &a, got, sizeof(got)));
	assert_string_equal(got, want);
}

static void test_good_rules(void **state)
{
	struct fwd f;

	(void)state;
	/* Empty addresses: every host address, the guest's DHCP lease. */
	assert_int_equal(parse("tcp::8080-:80", &f), 0);
	assert_int_equal(f.is_udp, 0);
	assert_addr(f.host_addr, "0.0.0.0");
	assert_int_equal(f.host_port, 8080);
	assert_addr(f.guest_addr, "10.0.2.15");
	assert_int_equal(f.guest_port, 80);

	assert_int_equal(parse("udp:127.0.0.1:5353-10.0.2.16:53", &f), 0);
	assert_int_equal(f.is_udp, 1);
	assert_addr(f.host_addr, "127.0.0.1");
	assert_int_equal(f.host_port, 5353);
	assert_addr(f.guest_addr, "10.0.2.16");
	assert_int_equal(f.guest_port, 53);

	/* The extreme ports. */
	assert_int_equal(parse("tcp:0.0.0.0:1-:65535", &f), 0);
	assert_int_equal(f.host_port, 1);
	assert_int_equal(f.guest_port, 65535);
	assert_int_equal(parse("tcp::65535-:1", &f), 0);
	assert_int_equal(f.host_port, 65535);
	assert_int_equal(f.guest_port, 1);
	/* Leading zeros are still decimal. */
	assert_int_equal(parse("tcp::08080-:0022", &f), 0);
	assert_int_equal(f.host_port, 8080);
	assert_int_equal(f.guest_port, 22);
}

static void assert_bad(const char *rule)
{
	struct fwd f;

	if (parse(rule, &f) != -EINVAL)
		fail_msg("rule '%s' was accepted", rule);
}

static void test_bad_protocol(void **state)
{
	(void)state;
	assert_bad("");
	assert_bad("tcp");
	assert_bad(":8080-:80");           /* no protocol */
	assert_bad("8080-:80");
	assert_bad("sctp::8080-:80");
	assert_bad("TCP::8080-:80");       /* case matters, as in QEMU */
	assert_bad("tcpx::8080-:80");
	assert_bad(" tcp::8080-:80");
}

static void test_bad_ports(void **state)
{
	(void)state;
	assert_bad("tcp::0-:80");
	assert_bad("tcp::8080-:0");
	assert_bad("tcp::65536-:80");
	assert_bad("tcp::8080-:65536");
	assert_bad("tcp::99999999999999999999-:80"); /* overflows long */
	assert_bad("tcp::-1-:80");
	assert_bad("tcp::8080-:-1");
	assert_bad("tcp::+80-:80");
	assert_bad("tcp:: 80-:80");
	assert_bad("tcp::80 -:80");
	assert_bad("tcp::0x50-:80");
	assert_bad("tcp::80a-:80");
	assert_bad("tcp::http-:80");
	assert_bad("tcp::8080-:80.5");
}

static void test_missing_pieces(void **state)
{
	(void)state;
	assert_bad("tcp:");
	assert_bad("tcp::");
	assert_bad("tcp::-:80");           /* no host port */
	assert_bad("tcp::8080-:");         /* no guest port */
	assert_bad("tcp::8080-");          /* no guest part */
	assert_bad("tcp::8080");           /* no '-' */
	assert_bad("tcp::8080:80");
	assert_bad("tcp:8080-:80");        /* no host address field */
	assert_bad("tcp::8080-80");        /* no guest address field */
	assert_bad("tcp::8080-:80-");      /* trailing junk */
	assert_bad("tcp::8080-:80:81");
	assert_bad("tcp::8080-:80,");
}

static void test_bad_addresses(void **state)
{
	(void)state;
	assert_bad("tcp:localhost:8080-:80");   /* no name lookups */
	assert_bad("tcp:1.2.3:8080-:80");
	assert_bad("tcp:1.2.3.256:8080-:80");
	assert_bad("tcp:::1:8080-:80");         /* IPv6 is not supported */
	assert_bad("tcp:[::1]:8080-:80");
	assert_bad("tcp::8080-10.0.2:80");
	assert_bad("tcp::8080-guest:80");
	assert_bad("tcp: 127.0.0.1:8080-:80");
}

static void test_too_long(void **state)
{
	char rule[300];

	(void)state;
	/* A valid rule padded with leading zeros past the parser's buffer. */
	strcpy(rule, "tcp::");
	memset(rule + 5, '0', 200);
	strcpy(rule + 205, "80-:80");
	assert_bad(rule);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_rules),
		cmocka_unit_test(test_bad_protocol),
		cmocka_unit_test(test_bad_ports),
		cmocka_unit_test(test_missing_pieces),
		cmocka_unit_test(test_bad_addresses),
		cmocka_unit_test(test_too_long),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
