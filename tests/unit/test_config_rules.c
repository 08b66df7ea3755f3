// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * One set of rules for both front ends (base/config.c): the same bad value
 * given on the command line and in a vm.create body is refused by both,
 * and the reason, after each front end's name of the culprit ("--disk: ",
 * "disks[0]: "), is the same text. Defaults agree too.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "api/vmconfig_json.h"
#include "vmm/options.h"

struct pair {
	const char *opt, *arg; /* the command line: --kernel k OPT ARG */
	const char *json;      /* the same as a VmConfig */
};

#define VM(x) "{\"payload\": {\"kernel\": \"k\"}, " x "}"
static const struct pair pairs[] = {
	{ "--cpus", "boot=0", VM("\"cpus\": {\"boot_vcpus\": 0}") },
	{ "--cpus", "boot=70000", VM("\"cpus\": {\"boot_vcpus\": 70000}") },
	{ "--cpus", "boot=4,max=2", VM("\"cpus\": {\"boot_vcpus\": 4, \"max_vcpus\": 2}") },
	{ "--memory", "size=1M", VM("\"memory\": {\"size\": 1048576}") },
	{ "--disk", "path=a,num_queues=17", VM("\"disks\": [{\"path\": \"a\", \"num_queues\": 17}]") },
	{ "--disk", "path=a,num_queues=0", VM("\"disks\": [{\"path\": \"a\", \"num_queues\": 0}]") },
	{ "--disk", "path=a,queue_size=100", VM("\"disks\": [{\"path\": \"a\", \"queue_size\": 100}]") },
	{ "--disk", "path=a,queue_size=2048", VM("\"disks\": [{\"path\": \"a\", \"queue_size\": 2048}]") },
	{ "--disk", "path=a,serial=123456789012345678901",
	  VM("\"disks\": [{\"path\": \"a\", \"serial\": \"123456789012345678901\"}]") },
	{ "--net", "tap=t,user=on", VM("\"net\": [{\"tap\": \"t\", \"user\": true}]") },
	{ "--net", "fd=3,user=on", VM("\"net\": [{\"fd\": 3, \"user\": true}]") },
	{ "--net", "tap=t,restrict=on", VM("\"net\": [{\"tap\": \"t\", \"restrict\": true}]") },
	{ "--net", "user=on,hostfwd=ssh:1-:2", VM("\"net\": [{\"user\": true, \"hostfwd\": [\"ssh:1-:2\"]}]") },
	{ "--net", "user=on,num_queues=3", VM("\"net\": [{\"user\": true, \"num_queues\": 3}]") },
	{ "--net", "user=on,num_queues=18", VM("\"net\": [{\"user\": true, \"num_queues\": 18}]") },
	{ "--net", "user=on,queue_size=3", VM("\"net\": [{\"user\": true, \"queue_size\": 3}]") },
	{ "--net", "tap=t,mac=12:34", VM("\"net\": [{\"tap\": \"t\", \"mac\": \"12:34\"}]") },
	{ "--net", "fd=70000", VM("\"net\": [{\"fd\": 70000}]") },
	{ "--vsock", "cid=2,socket=s", VM("\"vsock\": {\"cid\": 2, \"socket\": \"s\"}") },
	{ "--vsock", "cid=4294967295,socket=s", VM("\"vsock\": {\"cid\": 4294967295, \"socket\": \"s\"}") },
	{ "--vsock", "cid=3,socket=/0123456789012345678901234567890123456789012345678901234567890"
		     "123456789012345678901234567890123456789",
	  VM("\"vsock\": {\"cid\": 3, \"socket\": \"/01234567890123456789012345678901234567890123456"
	     "78901234567890123456789012345678901234567890123456789\"}") },
};

/* The reason: what follows the front end's "culprit: " prefix. */
static const char *reason(const char *msg)
{
	const char *p = strstr(msg, ": ");

	return p ? p + 2 : msg;
}

static void test_same_rules(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		const struct pair *p = &pairs[i];
		char *argv[] = { "phyllo-vmm", "--kernel", "k", (char *)p->opt, (char *)p->arg, NULL };
		struct vm_config cli, api;
		char cli_err[512] = "", api_err[512] = "";

		vm_config_init(&cli);
		if (options_parse(5, argv, &cli, cli_err, sizeof(cli_err)) != OPTIONS_ERROR)
			fail_msg("case %zu: %s %s accepted on the command line", i, p->opt, p->arg);
		vm_config_free(&cli);
		if (vmconfig_from_json(p->json, strlen(p->json), &api, api_err, sizeof(api_err)) == 0) {
			vm_config_free(&api);
			fail_msg("case %zu: %s accepted by the API", i, p->json);
		}
		if (strcmp(reason(cli_err), reason(api_err)))
			fail_msg("case %zu: the command line says '%s', the API '%s'", i, cli_err,
				 api_err);
	}
}

static void test_same_defaults(void **state)
{
	static const char body[] = VM("\"disks\": [{\"path\": \"a\"}], \"net\": [{\"user\": true}]");
	char *argv[] = { "phyllo-vmm", "--kernel", "k", "--disk", "path=a", "--net", "user=on", NULL };
	struct vm_config cli, api;
	char err[256];

	(void)state;
	vm_config_init(&cli);
	assert_int_equal(options_parse(7, argv, &cli, err, sizeof(err)), OPTIONS_RUN);
	assert_int_equal(vmconfig_from_json(body, strlen(body), &api, err, sizeof(err)), 0);
	assert_int_equal(cli.boot_vcpus, api.boot_vcpus);
	assert_int_equal(cli.memory_size, api.memory_size);
	assert_int_equal(cli.disks[0].num_queues, api.disks[0].num_queues);
	assert_int_equal(cli.disks[0].queue_size, api.disks[0].queue_size);
	assert_int_equal(cli.nets[0].num_queues, api.nets[0].num_queues);
	assert_int_equal(cli.nets[0].queue_size, api.nets[0].queue_size);
	assert_int_equal(cli.nets[0].fd, api.nets[0].fd);
	assert_int_equal(cli.serial.mode, api.serial.mode);
	assert_string_equal(cli.rng_src, api.rng_src);
	vm_config_free(&cli);
	vm_config_free(&api);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same_rules),
		cmocka_unit_test(test_same_defaults),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
