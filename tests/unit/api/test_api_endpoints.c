// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The API's routes, end to end over a real Unix socket with a fake VMM: the
 * VM state machine answers the OpenAPI contract's codes (create twice,
 * pause before boot, resume when not paused, ...), each body is checked,
 * the VMM's failures map to their statuses, and endpoints of the contract
 * we do not implement say so.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <jansson.h>
#include <string.h>
#include <unistd.h>

#include "api_test.h"

static const char create_body[] =
	"{\"payload\": {\"kernel\": \"/boot/vmlinuz\", \"cmdline\": \"console=ttyS0\"},"
	" \"cpus\": {\"boot_vcpus\": 2, \"max_vcpus\": 2}, \"memory\": {\"size\": 268435456}}";

static void expect(struct test_server *t, const char *method, const char *endpoint,
		   const char *body, int status, const char *in_body)
{
	struct test_reply r;

	test_call(t, method, endpoint, body, &r);
	print_message("%s %s -> %d %s\n", method, endpoint, r.status, r.body);
	assert_int_equal(r.status, status);
	if (in_body && !strstr(r.body, in_body))
		fail_msg("%s: body '%s' lacks '%s'", endpoint, r.body, in_body);
	if (status == 204)
		assert_int_equal(r.body_len, 0);
	else if (status >= 400) /* errors: a JSON array of messages */
		assert_true(r.body[0] == '[');
	test_reply_free(&r);
}

static void test_ping(void **state)
{
	struct test_server t;
	struct test_reply r;
	json_t *v;

	(void)state;
	test_server_start(&t, NULL);
	test_call(&t, "GET", "vmm.ping", NULL, &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.head, "Content-Type: application/json"));
	v = json_loads(r.body, 0, NULL);
	assert_non_null(v);
	assert_true(json_is_string(json_object_get(v, "version")));
	assert_true(json_is_string(json_object_get(v, "build_version")));
	assert_int_equal(json_integer_value(json_object_get(v, "pid")), getpid());
	assert_true(json_is_array(json_object_get(v, "features")));
	json_decref(v);
	test_reply_free(&r);
	test_server_stop(&t);
}

static void test_state_machine(void **state)
{
	struct test_server t;
	struct test_reply r;
	json_t *v;

	(void)state;
	test_server_start(&t, NULL);
	/* No VM yet. */
	expect(&t, "GET", "vm.info", NULL, 404, "no VM is created");
	expect(&t, "PUT", "vm.boot", NULL, 404, "vm.create first");
	expect(&t, "PUT", "vm.pause", NULL, 404, NULL);
	expect(&t, "PUT", "vm.resume", NULL, 404, NULL);
	expect(&t, "PUT", "vm.shutdown", NULL, 404, NULL);
	expect(&t, "PUT", "vm.reboot", NULL, 404, NULL);
	expect(&t, "PUT", "vm.power-button", NULL, 404, NULL);
	expect(&t, "GET", "vm.counters", NULL, 404, NULL);
	expect(&t, "PUT", "vm.snapshot", "{\"destination_url\": \"file:///s\"}", 404, NULL);
	expect(&t, "PUT", "vm.delete", NULL, 204, NULL);
	/* Created. */
	expect(&t, "PUT", "vm.create", create_body, 204, NULL);
	expect(&t, "PUT", "vm.create", create_body, 409, "vm.delete the current one first");
	expect(&t, "PUT", "vm.pause", NULL, 405, "the VM is Created; it needs Running");
	expect(&t, "PUT", "vm.resume", NULL, 404, NULL); /* "not booted yet" */
	expect(&t, "PUT", "vm.shutdown", NULL, 405, NULL);
	expect(&t, "PUT", "vm.snapshot", "{\"destination_url\": \"file:///s\"}", 405, NULL);
	expect(&t, "PUT", "vm.restore", "{\"source_url\": \"file:///s\"}", 404, NULL);
	test_call(&t, "GET", "vm.info", NULL, &r);
	assert_int_equal(r.status, 200);
	v = json_loads(r.body, 0, NULL);
	assert_non_null(v);
	assert_string_equal(json_string_value(json_object_get(v, "state")), "Created");
	assert_int_equal(json_integer_value(json_object_get(v, "memory_actual_size")), 256 << 20);
	assert_string_equal(json_string_value(json_object_get(json_object_get(json_object_get(
		v, "config"), "payload"), "kernel")), "/boot/vmlinuz");
	json_decref(v);
	test_reply_free(&r);
	/* Running. */
	expect(&t, "PUT", "vm.boot", NULL, 204, NULL);
	expect(&t, "PUT", "vm.boot", NULL, 409, "the VM is Running; it needs Created or Shutdown");
	expect(&t, "PUT", "vm.resume", NULL, 405, "needs Paused");
	expect(&t, "PUT", "vm.snapshot", "{\"destination_url\": \"file:///s\"}", 405,
	       "vm.pause first");
	expect(&t, "GET", "vm.counters", NULL, 200, "read_bytes");
	expect(&t, "PUT", "vm.power-button", NULL, 204, NULL);
	expect(&t, "PUT", "vm.send-keys", "{\"keys\": [\"ctrl-alt-delete\", \"enter\"], "
	       "\"text\": \"hi\"}", 204, NULL);
	assert_string_equal(t.vmm.sent_keys, "ctrl-alt-delete enter|hi");
	expect(&t, "PUT", "vm.send-keys", "{\"text\": \"x\"}", 204, NULL);
	assert_string_equal(t.vmm.sent_keys, "|x");
	expect(&t, "PUT", "vm.send-keys", "{}", 400, "give keys, text or both");
	expect(&t, "PUT", "vm.send-keys", "{\"keys\": \"a\"}", 400, "expected an array");
	expect(&t, "PUT", "vm.send-keys", "{\"keys\": [1]}", 400, "entry 0: expected a string");
	expect(&t, "PUT", "vm.send-keys", "{\"text\": \"a\", \"x\": 1}", 400, "x");
	expect(&t, "PUT", "vm.reboot", NULL, 204, NULL);
	/* Paused, snapshot, resumed. */
	expect(&t, "PUT", "vm.pause", NULL, 204, NULL);
	expect(&t, "PUT", "vm.pause", NULL, 405, "the VM is Paused");
	expect(&t, "PUT", "vm.send-keys", "{\"text\": \"x\"}", 405, "needs Running");
	expect(&t, "GET", "vm.info", NULL, 200, "\"state\":\"Paused\"");
	expect(&t, "PUT", "vm.snapshot", "{\"destination_url\": \"file:///tmp/snap\"}", 204, NULL);
	assert_string_equal(t.vmm.snapshot_url, "file:///tmp/snap");
	expect(&t, "PUT", "vm.resume", NULL, 204, NULL);
	/* Shut down, booted again, deleted. */
	expect(&t, "PUT", "vm.shutdown", NULL, 204, NULL);
	expect(&t, "PUT", "vm.shutdown", NULL, 405, "the VM is Shutdown");
	expect(&t, "PUT", "vm.reboot", NULL, 405, NULL);
	expect(&t, "PUT", "vm.boot", NULL, 204, NULL);
	expect(&t, "PUT", "vm.delete", NULL, 204, NULL);
	expect(&t, "GET", "vm.info", NULL, 404, NULL);
	/* Restore needs no VM, leaves it Paused; "resume": true resumes it. */
	expect(&t, "PUT", "vm.restore", "{\"source_url\": \"file:///tmp/snap\", \"prefault\": true}",
	       204, NULL);
	assert_string_equal(t.vmm.restore_url, "file:///tmp/snap");
	assert_true(t.vmm.prefault);
	expect(&t, "GET", "vm.info", NULL, 200, "\"state\":\"Paused\"");
	expect(&t, "PUT", "vm.delete", NULL, 204, NULL);
	expect(&t, "PUT", "vm.restore", "{\"source_url\": \"file:///x\", \"resume\": true}",
	       204, NULL);
	expect(&t, "GET", "vm.info", NULL, 200, "\"state\":\"Running\"");
	assert_false(t.vmm.prefault);
	test_server_stop(&t);
}

static void test_routes_and_bodies(void **state)
{
	struct test_server t;
	struct test_reply r;

	(void)state;
	test_server_start(&t, NULL);
	expect(&t, "GET", "vm.nope", NULL, 404, "unknown endpoint 'vm.nope'");
	expect(&t, "PUT", "vm.resize", "{\"desired_vcpus\": 2}", 501,
	       "vm.resize is not supported");
	expect(&t, "PUT", "vm.add-disk", NULL, 501, "vm.add-disk");
	expect(&t, "PUT", "vmm.ping", NULL, 405, "vmm.ping takes GET, not PUT");
	expect(&t, "POST", "vm.create", create_body, 405, "takes PUT");
	test_call(&t, "GET", "vm.boot", NULL, &r);
	assert_int_equal(r.status, 405);
	assert_non_null(strstr(r.head, "Allow: PUT\r\n"));
	test_reply_free(&r);
	expect(&t, "PUT", "vm.boot", "{}", 400, "vm.boot takes no request body");
	expect(&t, "PUT", "vm.create", NULL, 411, "needs a JSON body sent with a Content-Length");
	expect(&t, "PUT", "vm.create", "", 400, "needs a JSON body");
	expect(&t, "PUT", "vm.create", "{\"payload\": {\"kernel\": \"k\"}, \"cpus\": "
	       "{\"boot_vcpus\": \"two\"}}", 400, "cpus.boot_vcpus: expected an integer");
	expect(&t, "PUT", "vm.create", "{\"payload\": {\"kernel\": \"k\"}, \"memory\": "
	       "{\"hugepages\": true}}", 400, "memory.hugepages is not supported");
	assert_int_equal(t.vmm.state, API_VM_NONE);
	expect(&t, "PUT", "vm.restore", "{\"source_url\": \"http://x/y\"}", 400,
	       "only file:///PATH URLs");
	expect(&t, "PUT", "vm.restore", "{\"source_url\": \"file:///x\", \"zone_updates\": [1]}",
	       400, "zone_updates is not supported");
	expect(&t, "PUT", "vm.restore", "{}", 400, "source_url is required");
	expect(&t, "PUT", "vm.create", create_body, 204, NULL);
	expect(&t, "PUT", "vm.boot", NULL, 204, NULL);
	expect(&t, "PUT", "vm.pause", NULL, 204, NULL);
	expect(&t, "PUT", "vm.snapshot", "{\"destination_url\": 5}", 400,
	       "destination_url: expected a string");
	expect(&t, "PUT", "vm.snapshot", "{\"destination_url\": \"file:///a\", \"x\": 1}", 400,
	       "x is not a field of VmSnapshotConfig");
	expect(&t, "GET", "..%2fvm.info", NULL, 404, NULL);
	test_server_stop(&t);
}

static void test_vmm_failures(void **state)
{
	struct test_server t;

	(void)state;
	test_server_start(&t, NULL);
	t.vmm.fail_ret = -EINVAL;
	t.vmm.fail_msg = "kernel '/boot/vmlinuz' is not a bzImage";
	expect(&t, "PUT", "vm.create", create_body, 400,
	       "vm.create failed: kernel '/boot/vmlinuz' is not a bzImage");
	expect(&t, "PUT", "vm.create", create_body, 204, NULL);
	t.vmm.fail_ret = -EIO;
	t.vmm.fail_msg = NULL;
	expect(&t, "PUT", "vm.boot", NULL, 500, "vm.boot failed: Input/output error");
	t.vmm.fail_ret = -EBUSY;
	expect(&t, "PUT", "vm.boot", NULL, 405, NULL);
	t.vmm.fail_ret = -EEXIST;
	expect(&t, "PUT", "vm.boot", NULL, 409, NULL);
	t.vmm.fail_ret = -EOPNOTSUPP;
	expect(&t, "PUT", "vm.boot", NULL, 501, NULL);
	expect(&t, "PUT", "vm.boot", NULL, 204, NULL);
	test_server_stop(&t);
}

/* A VMM that implements only the required operations. */
static enum api_vm_state created_state(void *vmm)
{
	(void)vmm;
	return API_VM_CREATED;
}

static const struct vm_config *no_config(void *vmm)
{
	(void)vmm;
	return NULL;
}

static void test_unimplemented_ops(void **state)
{
	static const struct api_vmm_ops minimal = { .state = created_state, .config = no_config };
	struct test_server t;

	(void)state;
	test_server_start(&t, &minimal);
	expect(&t, "PUT", "vm.boot", NULL, 501, "vm.boot is not implemented");
	expect(&t, "PUT", "vmm.shutdown", NULL, 501, NULL);
	expect(&t, "PUT", "vm.delete", NULL, 501, NULL);
	expect(&t, "GET", "vm.info", NULL, 500, "no configuration");
	expect(&t, "GET", "vm.counters", NULL, 200, "{}");
	expect(&t, "GET", "vmm.ping", NULL, 200, NULL);
	test_server_stop(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ping),
		cmocka_unit_test(test_state_machine),
		cmocka_unit_test(test_routes_and_bodies),
		cmocka_unit_test(test_vmm_failures),
		cmocka_unit_test(test_unimplemented_ops),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
