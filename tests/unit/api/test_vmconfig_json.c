// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * VmConfig JSON <-> struct vm_config: Cloud Hypervisor's documented bodies
 * are read, a full configuration survives the round trip, defaults match
 * the command line's, and every class of bad input (syntax, unknown field,
 * unimplemented field with a non-default value, wrong type, out of range,
 * missing, inconsistent) gets a message naming the field.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/vmconfig_json.h"

static int parse(const char *json, struct vm_config *cfg, char *err, size_t errlen)
{
	err[0] = '\0';
	return vmconfig_from_json(json, strlen(json), cfg, err, errlen);
}

/* Expect json to be refused with a message containing want. */
static void refused(const char *json, const char *want)
{
	struct vm_config cfg;
	char err[512];

	print_message("%s\n", json);
	assert_int_equal(parse(json, &cfg, err, sizeof(err)), -EINVAL);
	if (!strstr(err, want))
		fail_msg("error '%s' does not contain '%s'", err, want);
}

static void accepted(const char *json)
{
	struct vm_config cfg;
	char err[512];

	if (parse(json, &cfg, err, sizeof(err)) != 0)
		fail_msg("'%s' refused: %s", json, err);
	vm_config_free(&cfg);
}

static void test_minimal_defaults(void **state)
{
	struct vm_config cfg;
	char err[256];

	(void)state;
	assert_int_equal(parse("{\"payload\": {\"kernel\": \"/k\"}}", &cfg, err, sizeof(err)), 0);
	assert_string_equal(cfg.kernel, "/k");
	assert_null(cfg.cmdline);
	assert_int_equal(cfg.boot_vcpus, 1);
	assert_int_equal(cfg.memory_size, 512ull << 20);
	assert_true(cfg.memory_shared); /* a memfd unless "shared": false */
	assert_int_equal(cfg.serial.mode, CONSOLE_TTY);
	assert_int_equal(cfg.console.mode, CONSOLE_OFF);
	assert_string_equal(cfg.rng_src, "/dev/urandom");
	assert_int_equal(cfg.nr_disks, 0);
	assert_false(cfg.vsock.enabled);
	assert_int_equal(cfg.api.fd, -1);
	vm_config_free(&cfg);
}

/* The vm.create body of Cloud Hypervisor's API documentation: its net has
 * no back end, so a tap named by the kernel is created at boot. */
static void test_cloud_hypervisor_example(void **state)
{
	const char *json =
		"{\"cpus\":{\"boot_vcpus\": 4, \"max_vcpus\": 4},"
		"\"payload\":{\"kernel\":\"/opt/clh/kernel/vmlinux-virtio-fs-virtio-iommu\","
		"\"cmdline\":\"console=ttyS0 console=hvc0 root=/dev/vda1 rw\"},"
		"\"disks\":[{\"path\":\"/opt/clh/images/focal-server-cloudimg-amd64.raw\"}],"
		"\"rng\":{\"src\":\"/dev/urandom\"},"
		"\"net\":[{\"ip\":\"192.168.10.10\",\"mask\":\"255.255.255.0\","
		"\"mac\":\"12:34:56:78:90:01\"}]}";
	struct vm_config cfg;
	char err[256];

	(void)state;
	assert_int_equal(parse(json, &cfg, err, sizeof(err)), 0);
	assert_int_equal(cfg.boot_vcpus, 4);
	assert_int_equal(cfg.nr_disks, 1);
	assert_int_equal(cfg.disks[0].num_queues, 1);
	assert_int_equal(cfg.disks[0].queue_size, 128);
	assert_false(cfg.disks[0].readonly);
	assert_int_equal(cfg.nr_nets, 1);
	assert_null(cfg.nets[0].tap);
	assert_false(cfg.nets[0].user);
	assert_string_equal(cfg.nets[0].ip, "192.168.10.10");
	assert_string_equal(cfg.nets[0].mac, "12:34:56:78:90:01");
	assert_int_equal(cfg.nets[0].fd, -1);
	assert_int_equal(cfg.nets[0].num_queues, 2);
	assert_int_equal(cfg.nets[0].queue_size, 256);
	vm_config_free(&cfg);
}

static const char full_json[] =
	"{\"payload\": {\"kernel\": \"/boot/vmlinuz\", \"cmdline\": \"console=hvc0 quiet\","
	" \"initramfs\": \"/boot/initrd\"},"
	" \"cpus\": {\"boot_vcpus\": 4, \"max_vcpus\": 4},"
	" \"memory\": {\"size\": 2147483648, \"shared\": true},"
	" \"disks\": [{\"path\": \"/a.qcow2\", \"readonly\": true, \"direct\": true,"
	"   \"num_queues\": 4, \"queue_size\": 256, \"serial\": \"disk-a\", \"image_type\": \"Qcow2\"},"
	"  {\"path\": \"/b.raw\", \"image_type\": \"Raw\"}],"
	" \"net\": [{\"user\": true, \"restrict\": true, \"hostfwd\": [\"tcp:127.0.0.1:2222-:22\","
	"   \"udp::5353-:53\"], \"mac\": \"52:54:00:12:34:56\"},"
	"  {\"tap\": \"tap1\", \"ip\": \"192.168.249.1\", \"mask\": \"255.255.255.0\","
	"   \"num_queues\": 4, \"queue_size\": 512}, {\"fd\": 7}],"
	" \"rng\": {\"src\": \"/dev/hwrng\"},"
	" \"serial\": {\"mode\": \"File\", \"file\": \"/tmp/serial.log\"},"
	" \"console\": {\"mode\": \"Socket\", \"socket\": \"/tmp/console.sock\"},"
	" \"vsock\": {\"cid\": 42, \"socket\": \"/tmp/vsock.sock\"},"
	" \"display\": {\"device\": \"bochs\", \"vnc\": \"127.0.0.1:0\", \"resolution\": \"2560x1600\","
	" \"password_file\": \"/tmp/vnc.pw\","
	" \"vram_mib\": 32}}";

static void check_full(const struct vm_config *cfg)
{
	assert_string_equal(cfg->kernel, "/boot/vmlinuz");
	assert_string_equal(cfg->cmdline, "console=hvc0 quiet");
	assert_string_equal(cfg->initramfs, "/boot/initrd");
	assert_int_equal(cfg->boot_vcpus, 4);
	assert_int_equal(cfg->memory_size, 2ull << 30);
	assert_true(cfg->memory_shared);
	assert_int_equal(cfg->nr_disks, 2);
	assert_string_equal(cfg->disks[0].path, "/a.qcow2");
	assert_true(cfg->disks[0].readonly && cfg->disks[0].direct);
	assert_int_equal(cfg->disks[0].num_queues, 4);
	assert_int_equal(cfg->disks[0].queue_size, 256);
	assert_string_equal(cfg->disks[0].serial, "disk-a");
	assert_int_equal(cfg->disks[0].image_type, 2);
	assert_int_equal(cfg->disks[1].image_type, 1);
	assert_null(cfg->disks[1].serial);
	assert_int_equal(cfg->nr_nets, 3);
	assert_true(cfg->nets[0].user && cfg->nets[0].restrict_);
	assert_int_equal(cfg->nets[0].nr_hostfwd, 2);
	assert_string_equal(cfg->nets[0].hostfwd[1], "udp::5353-:53");
	assert_string_equal(cfg->nets[0].mac, "52:54:00:12:34:56");
	assert_string_equal(cfg->nets[1].tap, "tap1");
	assert_string_equal(cfg->nets[1].ip, "192.168.249.1");
	assert_int_equal(cfg->nets[1].num_queues, 4);
	assert_int_equal(cfg->nets[1].queue_size, 512);
	assert_int_equal(cfg->nets[2].fd, 7);
	assert_string_equal(cfg->rng_src, "/dev/hwrng");
	assert_int_equal(cfg->serial.mode, CONSOLE_FILE);
	assert_string_equal(cfg->serial.path, "/tmp/serial.log");
	assert_int_equal(cfg->console.mode, CONSOLE_SOCKET);
	assert_string_equal(cfg->console.path, "/tmp/console.sock");
	assert_true(cfg->vsock.enabled);
	assert_int_equal(cfg->vsock.cid, 42);
	assert_string_equal(cfg->vsock.socket, "/tmp/vsock.sock");
	assert_int_equal(cfg->display.device, DISPLAY_DEVICE_BOCHS);
	assert_string_equal(cfg->display.vnc, "127.0.0.1:0");
	assert_string_equal(cfg->display.password_file, "/tmp/vnc.pw");
	assert_int_equal(cfg->display.width, 2560);
	assert_int_equal(cfg->display.vram_mib, 32);
}

static void test_round_trip(void **state)
{
	struct vm_config cfg, again;
	char err[256], *text;
	json_t *first, *second;

	(void)state;
	assert_int_equal(parse(full_json, &cfg, err, sizeof(err)), 0);
	check_full(&cfg);
	first = vmconfig_to_json(&cfg);
	assert_non_null(first);
	text = json_dumps(first, JSON_COMPACT);
	assert_non_null(text);
	assert_int_equal(parse(text, &again, err, sizeof(err)), 0);
	check_full(&again);
	second = vmconfig_to_json(&again);
	assert_true(json_equal(first, second));
	/* The shape Cloud Hypervisor writes. */
	assert_string_equal(json_string_value(json_object_get(json_object_get(first, "serial"),
							      "mode")), "File");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(first, "cpus"),
							    "max_vcpus")), 4);
	free(text);
	json_decref(first);
	json_decref(second);
	vm_config_free(&cfg);
	vm_config_free(&again);

	/* A configuration from the command line with a non-UTF-8 path. */
	vm_config_init(&cfg);
	cfg.kernel = strdup("/boot/\xff\xfe");
	first = vmconfig_to_json(&cfg);
	assert_non_null(first);
	assert_string_equal(json_string_value(json_object_get(json_object_get(first, "payload"),
							      "kernel")), "/boot/??");
	json_decref(first);
	vm_config_free(&cfg);
}

static void test_unimplemented_defaults_accepted(void **state)
{
	(void)state;
	accepted("{\"payload\": {\"kernel\": \"k\", \"firmware\": null, \"igvm\": \"\"},"
		 " \"cpus\": {\"boot_vcpus\": 2, \"max_vcpus\": 8, \"kvm_hyperv\": false,"
		 "  \"nested\": true, \"topology\": null, \"features\": {\"amx\": false},"
		 "  \"core_scheduling\": \"Vm\", \"affinity\": []},"
		 " \"memory\": {\"size\": 1073741824, \"hugepages\": false, \"thp\": true,"
		 "  \"hotplug_method\": \"Acpi\", \"zones\": null, \"prefault\": false},"
		 " \"disks\": [{\"path\": \"/d\", \"iommu\": false, \"id\": null, \"sparse\": true,"
		 "  \"pci_segment\": 0, \"rate_limiter_config\": {\"bandwidth\": null, \"ops\": null},"
		 "  \"lock_granularity\": \"ByteRange\", \"backing_files\": true,"
		 "  \"image_type\": \"Unknown\"}],"
		 " \"net\": [{\"tap\": \"t\", \"offload_tso\": true, \"vhost_user\": false,"
		 "  \"vhost_mode\": \"Client\", \"mtu\": null}],"
		 " \"rng\": {\"src\": \"/dev/urandom\", \"iommu\": false},"
		 " \"console\": {\"mode\": \"Pty\", \"iommu\": false, \"file\": null},"
		 " \"balloon\": null, \"fs\": [], \"pmem\": null, \"devices\": [], \"iommu\": false,"
		 " \"watchdog\": false, \"pvpanic\": false, \"platform\": {}, \"numa\": null,"
		 " \"landlock_enable\": false}");
}

static void test_errors(void **state)
{
	(void)state;
	/* Syntax and shape. */
	refused("{\"payload\": ", "invalid JSON at line 1");
	refused("[1, 2]", "must be a JSON object (VmConfig)");
	refused("{\"payload\": {\"kernel\": \"k\"}, \"payload\": {}}", "duplicate");
	refused("{\"payload\": {\"kernel\": \"k\\u0000x\"}}", "invalid JSON");
	/* Unknown fields, at any depth. */
	refused("{\"payload\": {\"kernel\": \"k\"}, \"initramfs\": \"i\"}",
		"initramfs is not a field of VmConfig");
	refused("{\"payload\": {\"kernel\": \"k\"}, \"cpus\": {\"boot\": 2}}",
		"cpus.boot is not a field of CpusConfig");
	refused("{\"payload\": {\"kernel\": \"k\"}, \"disks\": [{\"path\": \"a\"}, {\"path\": \"b\","
		" \"cache\": true}]}", "disks[1].cache is not a field of DiskConfig");
	refused("{\"payload\": {\"kernel\": \"k\"}, \"serial\": {\"mode\": \"Off\", \"iommu\": false}}",
		"serial.iommu is not a field of SerialConfig");
	/* Defined but not implemented, with a value that asks for something. */
	refused("{\"payload\": {\"kernel\": \"k\"}, \"memory\": {\"hugepages\": true}}",
		"memory.hugepages is not supported (only false is accepted)");
	refused("{\"payload\": {\"kernel\": \"k\"}, \"memory\": {\"thp\": false}}",
		"memory.thp is not supported (only true is accepted)");
	refused("{\"payload\": {\"kernel\": \"k\"}, \"cpus\": {\"core_scheduling\": \"Off\"}}",
		"cpus.core_scheduling is not supported");
	refused("{\"payload\": {\"kernel\": \"k\"}, \"balloon\": {\"size\": 1}}",
		"balloon is not supported (only null or an empty value");
	refused("{\"payload\": {\"kernel\": \"k\"}, \"fs\": [{}]}", "fs is not supported");
	refused("{\"payload\": {\"kernel\": \"k\", \"firmware\": \"/fw\"}}",
		"payload.firmware is not supported");
	refused("{\"payload\": {\"kernel\": \"k\"}, \"disks\": [{\"path\": \"a\", \"id\": \"d0\"}]}",
		"disks[0].id is not supported");
	refused("{\"payload\": {\"kernel\": \"k\"}, \"disks\": [{\"path\": \"a\","
		" \"backing_files\": false}]}", "disks[0].backing_files is not supported");
	refused("{\"payload\": {\"kernel\": \"k\"}, \"disks\": [{\"path\": \"a\","
		" \"image_type\": \"Vhdx\"}]}", "disks[0].image_type: Vhdx images are not supported");
	/* Wrong types name the type expected. */
	refused("{\"payload\": {\"kernel\": 1}}", "payload.kernel: expected a string");
	refused("{\"payload\": {\"kernel\": \"k\"}, \"cpus\": {\"boot_vcpus\": \"2\"}}",
		"cpus.boot_vcpus: expected an integer");
	refused("{\"payload\": {\"kernel\": \"k\"}, \"cpus\": {\"boot_vcpus\": 2.0}}",
		"cpus.boot_vcpus: expected an integer");
	refused("{\"payload\": {\"kernel\": \"k\"}, \"disks\": {}}", "disks: expected an array");
	refused("{\"payload\": {\"kernel\": \"k\"}, \"disks\": [\"a\"]}",
		"disks[0]: expected an object (DiskConfig)");
	refused("{\"payload\": {\"kernel\": \"k\"}, \"disks\": [{\"path\": \"a\", \"readonly\": 1}]}",
		"disks[0].readonly: expected a boolean");
	refused("{\"payload\": {\"kernel\": \"k\"}, \"memory\": {\"hugepages\": \"no\"}}",
		"memory.hugepages: expected a boolean");
	refused("{\"payload\": {\"kernel\": \"k\"}, \"memory\": 1}",
		"memory: expected an object (MemoryConfig)");
	refused("{\"payload\": \"k\"}", "payload: expected an object (PayloadConfig)");
	/* Limits, as on the command line. */
	refused("{\"payload\": {\"kernel\": \"k\"}, \"cpus\": {\"boot_vcpus\": 0}}",
		"cpus: boot vCPUs must be 1 to 65535, not 0");
	refused("{\"payload\": {\"kernel\": \"k\"}, \"cpus\": {\"boot_vcpus\": 4, \"max_vcpus\": 2}}",
		"cpus: max vCPUs (2) is below boot vCPUs (4)");
	refused("{\"payload\": {\"kernel\": \"k\"}, \"memory\": {\"size\": 1048576}}",
		"memory.size: size 1M is too little, the minimum is 64M");
	refused("{\"payload\": {\"kernel\": \"k\"}, \"memory\": {\"size\": -1}}",
		"memory.size: -1 is out of range");
	refused("{\"payload\": {\"kernel\": \"k\"}, \"disks\": [{\"path\": \"a\", \"num_queues\": 17}]}",
		"disks[0]: num_queues must be 1 to 16");
	refused("{\"payload\": {\"kernel\": \"k\"}, \"disks\": [{\"path\": \"a\", \"queue_size\": 100}]}",
		"disks[0]: queue_size must be a power of two");
	refused("{\"payload\": {\"kernel\": \"k\"}, \"disks\": [{\"path\": \"a\","
		" \"serial\": \"123456789012345678901\"}]}", "longer than 20 bytes");
	refused("{\"payload\": {\"kernel\": \"k\"}, \"disks\": [{\"path\": \"\"}]}",
		"disks[0].path: must not be empty");
	refused("{\"payload\": {\"kernel\": \"k\"}, \"disks\": [{},{},{},{},{},{},{},{},{},{},{},"
		"{},{},{},{},{},{}]}", "disks: at most 16 entries are supported");
	refused("{\"payload\": {\"kernel\": \"k\"}, \"vsock\": {\"cid\": 2, \"socket\": \"s\"}}",
		"vsock: cid 2 is reserved");
	refused("{\"payload\": {\"kernel\": \"k\"}, \"display\": {\"device\": \"vga\"}}",
		"display.device: device must be bochs, virtio-gpu or none, not 'vga'");
	refused("{\"payload\": {\"kernel\": \"k\"}, \"display\": {\"vnc\": \"x\"}}",
		"display: vnc: 'x' is not HOST:PORT");
	refused("{\"payload\": {\"kernel\": \"k\"}, \"display\": {\"device\": \"none\", "
		"\"vnc\": \":0\"}}", "display: vnc needs a display device");
	refused("{\"payload\": {\"kernel\": \"k\"}, \"display\": {\"password_file\": \"/p\"}}",
		"display: password_file is the VNC server's: it needs vnc=");
	/* Missing. */
	refused("{}", "payload is required");
	refused("{\"payload\": null}", "payload is required");
	refused("{\"payload\": {}}", "payload.kernel is required (firmware boot is not supported)");
	refused("{\"payload\": {\"kernel\": \"k\"}, \"disks\": [{\"readonly\": true}]}",
		"disks[0].path is required");
	refused("{\"payload\": {\"kernel\": \"k\"}, \"rng\": {}}", "rng.src is required");
	refused("{\"payload\": {\"kernel\": \"k\"}, \"vsock\": {\"cid\": 3}}",
		"vsock.socket is required");
	refused("{\"payload\": {\"kernel\": \"k\"}, \"serial\": {\"file\": \"f\"}}",
		"serial.mode is required");
	/* Inconsistent. */
	refused("{\"payload\": {\"kernel\": \"k\"}, \"net\": [{\"tap\": \"t\", \"user\": true}]}",
		"net[0]: give one back end");
	refused("{\"payload\": {\"kernel\": \"k\"}, \"net\": [{\"fd\": 3, \"user\": true}]}",
		"net[0]: give one back end");
	refused("{\"payload\": {\"kernel\": \"k\"}, \"net\": [{\"tap\": \"t\", \"restrict\": true}]}",
		"net[0]: hostfwd and restrict need user networking (user on)");
	refused("{\"payload\": {\"kernel\": \"k\"}, \"net\": [{\"user\": true, "
		"\"hostfwd\": [\"ssh:1-:2\"]}]}", "net[0]: hostfwd 'ssh:1-:2' must start with");
	refused("{\"payload\": {\"kernel\": \"k\"}, \"net\": [{\"user\": true, \"num_queues\": 3}]}",
		"num_queues must be an even number");
	refused("{\"payload\": {\"kernel\": \"k\"}, \"net\": [{\"tap\": \"t\", \"mac\": \"12:34\"}]}",
		"net[0]: mac '12:34' is not like 12:34:56:78:9a:bc");
	refused("{\"payload\": {\"kernel\": \"k\"}, \"serial\": {\"mode\": \"tty\"}}",
		"serial: mode 'tty' is not one of Off, Null, Tty, File, Pty, Socket");
	refused("{\"payload\": {\"kernel\": \"k\"}, \"serial\": {\"mode\": \"File\"}}",
		"serial: mode File needs \"file\"");
	refused("{\"payload\": {\"kernel\": \"k\"}, \"console\": {\"mode\": \"Tty\", \"socket\": \"s\"}}",
		"console: socket is only used with mode Socket");
	refused("{\"payload\": {\"kernel\": \"k\"}, \"console\": {\"mode\": \"Tty\"},"
		" \"serial\": {\"mode\": \"Tty\"}}", "the serial port and the console cannot share the terminal (tty)");
}

static void test_console_pairing(void **state)
{
	struct vm_config cfg;
	char err[256];

	(void)state;
	/* As on the command line: a Tty console silences the default serial port. */
	assert_int_equal(parse("{\"payload\": {\"kernel\": \"k\"}, \"console\": {\"mode\": \"Tty\"}}",
			       &cfg, err, sizeof(err)), 0);
	assert_int_equal(cfg.console.mode, CONSOLE_TTY);
	assert_int_equal(cfg.serial.mode, CONSOLE_NULL);
	vm_config_free(&cfg);
	assert_int_equal(parse("{\"payload\": {\"kernel\": \"k\"}, \"serial\": {\"mode\": \"Off\"},"
			       " \"vsock\": {\"cid\": 3, \"socket\": \"/v\"}}",
			       &cfg, err, sizeof(err)), 0);
	assert_int_equal(cfg.serial.mode, CONSOLE_OFF);
	assert_true(cfg.vsock.enabled);
	vm_config_free(&cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_minimal_defaults),
		cmocka_unit_test(test_cloud_hypervisor_example),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_unimplemented_defaults_accepted),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_console_pairing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
