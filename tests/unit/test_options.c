// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Command-line parsing: Cloud Hypervisor's syntax is accepted, defaults
 * match theirs, and each kind of bad input gets a message that names the
 * option and the problem.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "vmm/options.h"

static enum options_result parse(struct vm_config *cfg, char *err, size_t errlen, ...)
{
	char *argv[32] = { "phyllo-vmm" };
	int argc = 1;
	va_list ap;

	va_start(ap, errlen);
	for (char *a; (a = va_arg(ap, char *)) && argc < 31;)
		argv[argc++] = a;
	va_end(ap);
	vm_config_init(cfg);
	return options_parse(argc, argv, cfg, err, errlen);
}

static void test_defaults(void **state)
{
	struct vm_config cfg;
	char err[256];

	(void)state;
	assert_int_equal(parse(&cfg, err, sizeof(err), "--kernel", "k", NULL), OPTIONS_RUN);
	assert_int_equal(cfg.boot_vcpus, 1);
	assert_int_equal(cfg.memory_size, 512ull << 20);
	assert_int_equal(cfg.serial.mode, CONSOLE_TTY);
	assert_int_equal(cfg.console.mode, CONSOLE_OFF);
	assert_string_equal(cfg.kernel, "k");
	assert_null(cfg.initramfs);
	vm_config_free(&cfg);
}

static void test_full_line(void **state)
{
	struct vm_config cfg;
	char err[256];

	(void)state;
	assert_int_equal(parse(&cfg, err, sizeof(err), "--kernel", "/k", "--initramfs", "/i",
			       "--cmdline", "console=ttyS0 quiet", "--cpus", "boot=4,max=4",
			       "--memory", "size=5G", "--serial", "file=/tmp/s.log",
			       "--console", "off", "-v", "-v", "--log-file", "/tmp/l", NULL),
			 OPTIONS_RUN);
	assert_int_equal(cfg.boot_vcpus, 4);
	assert_int_equal(cfg.memory_size, 5ull << 30);
	assert_int_equal(cfg.serial.mode, CONSOLE_FILE);
	assert_string_equal(cfg.serial.path, "/tmp/s.log");
	assert_string_equal(cfg.cmdline, "console=ttyS0 quiet");
	assert_int_equal(cfg.verbosity, 2);
	vm_config_free(&cfg);
}

static void test_sizes(void **state)
{
	uint64_t v;

	(void)state;
	assert_int_equal(parse_size("128M", &v), 0);
	assert_int_equal(v, 128ull << 20);
	assert_int_equal(parse_size("4096K", &v), 0);
	assert_int_equal(v, 4ull << 20);
	assert_int_equal(parse_size("1073741824", &v), 0);
	assert_int_equal(v, 1ull << 30);
	assert_int_equal(parse_size("1g", &v), 0);
	assert_int_equal(v, 1ull << 30);
	assert_int_equal(parse_size("12Q", &v), -EINVAL);
	assert_int_equal(parse_size("", &v), -EINVAL);
	assert_int_equal(parse_size("-1M", &v), -EINVAL);
	assert_int_equal(parse_size("M", &v), -EINVAL);
	assert_int_equal(parse_size("99999999999999999999", &v), -EINVAL);
	assert_int_equal(parse_size("17179869184T", &v), -EINVAL); /* overflows */
}

struct bad_case {
	const char *args[5];
	const char *needle; /* must appear in the message */
};

static void test_bad_input(void **state)
{
	static const struct bad_case cases[] = {
		{ { "--cpus", "boot=0" }, "--cpus: boot vCPUs must be 1 to 65535, not 0" },
		{ { "--cpus", "boot=x" }, "--cpus: invalid boot='x'" },
		{ { "--cpus", "foo=1" }, "unknown parameter 'foo'" },
		{ { "--cpus", "boot=4,max=2" }, "--cpus: max vCPUs (2) is below boot vCPUs (4)" },
		{ { "--memory", "size=12Q" }, "--memory: invalid size '12Q'" },
		{ { "--memory", "size=32M" }, "too little" },
		{ { "--memory", "hugepages=on" }, "unknown parameter 'hugepages'" },
		{ { "--serial", "bogus" }, "--serial: invalid mode 'bogus'" },
		{ { "--serial", "file=" }, "needs a path" },
		{ { "--serial", "tty", "--console", "tty" }, "cannot share the terminal" },
		{ { "--console", "usb" }, "--console: invalid mode 'usb'" },
		{ { "--disk", "readonly=on" }, "--disk: path=PATH is required" },
		{ { "--disk", "path=/x,queue_size=3" }, "queue_size must be a power of two" },
		{ { "--disk", "path=/x,num_queues=0" }, "num_queues must be 1 to 16" },
		{ { "--disk", "path=/x,image_type=vmdk" }, "image_type must be raw or qcow2" },
		{ { "--disk", "path=/x,readonly=yes" }, "readonly must be on or off" },
		{ { "--disk", "path=/x,serial=123456789012345678901" }, "longer than 20 bytes" },
		{ { "--rng", "/dev/random" }, "--rng: expected src=PATH" },
		{ { "--display", "device=vga" }, "--display: device must be bochs, virtio-gpu or none, not 'vga'" },
		{ { "--display", "sdl=yes" }, "--display: sdl 'yes' is not on or off" },
		{ { "--display", "device=none,sdl=on" }, "--display: sdl needs a display device" },
		{ { "--display", "device=virtio-gpu,vram=32" }, "--display: vram is bochs-display's" },
		{ { "--display", "gl=on" }, "--display: unknown parameter 'gl'" },
		{ { "--display", "vnc=5900" }, "--display: vnc: '5900' is not HOST:PORT" },
		{ { "--display", "vnc=:99999" }, "--display: vnc: ':99999': the port must be" },
		{ { "--display", "vnc=unix:" }, "--display: vnc=unix:PATH needs a path" },
		{ { "--display", "device=none,vnc=:0" }, "--display: vnc needs a display device" },
		{ { "--display", "resolution=1920" }, "--display: resolution '1920' is not WIDTHxHEIGHT" },
		{ { "--display", "resolution=320x200" }, "--display: resolution 320x200 is not from 640x480" },
		{ { "--display", "resolution=3840x2160" }, "--display: resolution 3840x2160 needs 64 MiB of vram" },
		{ { "--display", "vram=24" }, "--display: vram 24 MiB: give a power of two" },
		{ { "--display", "resolution=4095x4095,vram=256" }, "--display: resolution 4095x4095: at 60 Hz its pixel clock" },
		{ { "--display", "vram=lots" }, "--display: vram 'lots' is not a number of MiB" },
		{ { "--display", "password_file=/p" }, "--display: password_file is the VNC server's: it needs vnc=" },
		{ { "--display", "vnc=:0,password_file=" }, "--display: password_file needs a PATH" },
		{ { "--vsock", "cid=2,socket=/tmp/v" }, "--vsock: cid 2 is reserved" },
		{ { "--vsock", "cid=0,socket=/tmp/v" }, "--vsock: cid 0 is reserved" },
		{ { "--vsock", "cid=4294967295,socket=/tmp/v" }, "cid 4294967295 is too big" },
		{ { "--vsock", "cid=99999999999999999999,socket=/tmp/v" }, "is too big" },
		{ { "--vsock", "cid=x3,socket=/tmp/v" }, "cid must be a number, not 'x3'" },
		{ { "--vsock", "cid=3x,socket=/tmp/v" }, "cid must be a number, not '3x'" },
		{ { "--vsock", "cid=-3,socket=/tmp/v" }, "cid must be a number" },
		{ { "--vsock", "cid,socket=/tmp/v" }, "cid must be a number" },
		{ { "--vsock", "cid=3" }, "--vsock: a socket path is required" },
		{ { "--vsock", "cid=3,socket=" }, "--vsock: a socket path is required" },
		{ { "--vsock", "socket=/tmp/v" }, "--vsock: cid=N is required" },
		{ { "--vsock", "cid=3,socket=/tmp/v,iommu=on" }, "--vsock: unknown parameter 'iommu'" },
		{ { "--vsock", "cid=3,socket=/tmp/v", "--vsock", "cid=4,socket=/tmp/w" },
		  "only one vsock device" },
		{ { "--vsock", "cid=3,socket=/tmp/0123456789012345678901234567890123456789"
				"01234567890123456789012345678901234567890123456789/v.sock" },
		  "socket path is longer than 96 bytes" },
		{ { "--frobnicate" }, "unknown option '--frobnicate'" },
		{ { "--cpus" }, "needs a value" },
		{ { "stray" }, "unexpected argument 'stray'" },
	};
	struct vm_config cfg;
	char err[256];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct bad_case *c = &cases[i];

		assert_int_equal(parse(&cfg, err, sizeof(err), "--kernel", "k", c->args[0],
				       c->args[1], c->args[2], c->args[3], NULL),
				 OPTIONS_ERROR);
		if (!strstr(err, c->needle))
			fail_msg("case %zu: '%s' lacks '%s'", i, err, c->needle);
		vm_config_free(&cfg);
	}
}

static void test_disks_and_console(void **state)
{
	struct vm_config cfg;
	char err[256];

	(void)state;
	assert_int_equal(parse(&cfg, err, sizeof(err), "--kernel", "k", "--disk",
			       "path=/a.qcow2,readonly=on,num_queues=2,queue_size=256,serial=abc",
			       "--disk", "path=/b.raw,image_type=raw,direct=on", "--console", "tty",
			       "--memory", "size=1G,shared=on", NULL), OPTIONS_RUN);
	assert_int_equal(cfg.nr_disks, 2);
	assert_string_equal(cfg.disks[0].path, "/a.qcow2");
	assert_true(cfg.disks[0].readonly);
	assert_int_equal(cfg.disks[0].num_queues, 2);
	assert_int_equal(cfg.disks[0].queue_size, 256);
	assert_string_equal(cfg.disks[0].serial, "abc");
	assert_true(cfg.disks[1].direct);
	assert_int_equal(cfg.disks[1].image_type, 1);
	/* A tty console silences the serial port unless --serial says otherwise. */
	assert_int_equal(cfg.console.mode, CONSOLE_TTY);
	assert_int_equal(cfg.serial.mode, CONSOLE_NULL);
	assert_true(cfg.memory_shared);
	assert_string_equal(cfg.rng_src, "/dev/urandom");
	vm_config_free(&cfg);
}

static void test_vsock(void **state)
{
	struct vm_config cfg;
	char err[256];

	(void)state;
	assert_int_equal(parse(&cfg, err, sizeof(err), "--kernel", "k", NULL), OPTIONS_RUN);
	assert_false(cfg.vsock.enabled);
	vm_config_free(&cfg);
	assert_int_equal(parse(&cfg, err, sizeof(err), "--kernel", "k", "--vsock",
			       "socket=/run/v.sock,cid=3", NULL), OPTIONS_RUN);
	assert_true(cfg.vsock.enabled);
	assert_int_equal(cfg.vsock.cid, 3);
	assert_string_equal(cfg.vsock.socket, "/run/v.sock");
	vm_config_free(&cfg);
	/* The largest CID Linux takes. */
	assert_int_equal(parse(&cfg, err, sizeof(err), "--kernel", "k", "--vsock",
			       "cid=4294967294,socket=v", NULL), OPTIONS_RUN);
	assert_int_equal(cfg.vsock.cid, 4294967294ull);
	vm_config_free(&cfg);
}

static void test_display(void **state)
{
	struct vm_config cfg;
	char err[256];

	(void)state;
	assert_int_equal(parse(&cfg, err, sizeof(err), "--kernel", "k", NULL), OPTIONS_RUN);
	assert_int_equal(cfg.display.device, DISPLAY_DEVICE_NONE); /* headless */
	vm_config_free(&cfg);
	assert_int_equal(parse(&cfg, err, sizeof(err), "--kernel", "k", "--display", "device=bochs",
			       NULL), OPTIONS_RUN);
	assert_int_equal(cfg.display.device, DISPLAY_DEVICE_BOCHS);
	assert_null(cfg.display.vnc);
	vm_config_free(&cfg);
	/* A VNC server alone gets the (one) display device. */
	assert_int_equal(parse(&cfg, err, sizeof(err), "--kernel", "k", "--display",
			       "vnc=[::1]:5901", NULL), OPTIONS_RUN);
	assert_int_equal(cfg.display.device, DISPLAY_DEVICE_BOCHS);
	assert_string_equal(cfg.display.vnc, "[::1]:5901");
	vm_config_free(&cfg);
	assert_int_equal(parse(&cfg, err, sizeof(err), "--kernel", "k", "--display",
			       "vnc=unix:/run/v.sock,device=bochs", NULL), OPTIONS_RUN);
	assert_string_equal(cfg.display.vnc, "unix:/run/v.sock");
	vm_config_free(&cfg);
	assert_int_equal(parse(&cfg, err, sizeof(err), "--kernel", "k", "--display",
			       "vnc=:5901,password_file=/run/vnc.pw", NULL), OPTIONS_RUN);
	assert_string_equal(cfg.display.password_file, "/run/vnc.pw");
	vm_config_free(&cfg);
	assert_int_equal(parse(&cfg, err, sizeof(err), "--kernel", "k", "--display",
			       "resolution=3840x2160,vram=64", NULL), OPTIONS_RUN);
	assert_int_equal(cfg.display.width, 3840);
	assert_int_equal(cfg.display.height, 2160);
	assert_int_equal(cfg.display.vram_mib, 64);
	vm_config_free(&cfg);
}

static void test_missing_kernel(void **state)
{
	struct vm_config cfg;
	char err[256];

	(void)state;
	assert_int_equal(parse(&cfg, err, sizeof(err), "--cpus", "boot=2", NULL), OPTIONS_ERROR);
	assert_non_null(strstr(err, "no --kernel"));
	vm_config_free(&cfg);
}

static void test_console_modes(void **state)
{
	struct console_config c = { 0 };
	char err[128];

	(void)state;
	assert_int_equal(parse_console("pty", &c, err, sizeof(err)), 0);
	assert_int_equal(c.mode, CONSOLE_PTY);
	assert_int_equal(parse_console("socket=/tmp/x.sock", &c, err, sizeof(err)), 0);
	assert_int_equal(c.mode, CONSOLE_SOCKET);
	assert_string_equal(c.path, "/tmp/x.sock");
	assert_int_equal(parse_console("null", &c, err, sizeof(err)), 0);
	assert_int_equal(c.mode, CONSOLE_NULL);
	assert_null(c.path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_full_line),
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_disks_and_console),
		cmocka_unit_test(test_vsock),
		cmocka_unit_test(test_display),
		cmocka_unit_test(test_missing_kernel),
		cmocka_unit_test(test_console_modes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
