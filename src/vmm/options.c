// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Command-line parsing, Cloud Hypervisor style.
 *
 * Options take either a plain value (--kernel PATH) or a comma-separated list
 * of key=value pairs (--cpus boot=2). Every error names the option and the
 * offending part, so "--memory size=12Q" answers
 * "--memory: invalid size '12Q'" rather than a generic usage dump.
 * Parsing only fills struct vm_config; nothing is opened or checked against
 * the host here (that is vm.c's job), which keeps this file unit-testable.
 */
#include "vmm/options.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "phyllome-version.h"
#include "base/file.h"
#include "base/log.h"

const char options_usage[] =
	"usage: phyllo-vmm [OPTIONS]\n"
	"\n"
	"Boot a virtual machine with KVM. Options follow Cloud Hypervisor's.\n"
	"\n"
	"  --kernel PATH         kernel to boot directly: bzImage or PVH ELF (vmlinux)\n"
	"  --initramfs PATH      initial ramdisk\n"
	"  --cmdline STRING      kernel command line\n"
	"  --cpus boot=N         number of vCPUs (default 1)\n"
	"  --memory size=SIZE[,shared=on|off]\n"
	"                        guest RAM, e.g. 512M, 2G (default 512M, minimum 64M);\n"
	"                        shared=on backs it with a memfd other processes can map\n"
	"  --disk path=PATH[,readonly=on|off][,direct=on|off][,num_queues=N][,queue_size=N]\n"
	"         [,serial=ID][,image_type=raw|qcow2]\n"
	"                        a virtio-blk disk (raw or qcow2, detected); repeat for more\n"
	"  --net user=on[,hostfwd=tcp:HOSTADDR:HOSTPORT-:GUESTPORT]...[,restrict=on]\n"
	"  --net tap=NAME|fd=N[,mac=MAC][,ip=IP,mask=MASK][,num_queues=N]\n"
	"                        a virtio-net device: user-mode networking or a tap\n"
	"  --rng src=PATH        virtio-rng entropy source (default /dev/urandom)\n"
	"  --vsock cid=N,socket=PATH\n"
	"                        a virtio-vsock device (kernel vhost-vsock), guest CID N >= 3;\n"
	"                        host programs reach it through the Unix socket PATH\n"
	"  --serial MODE         COM1: off|null|tty|pty|file=PATH|socket=PATH (default tty)\n"
	"  --console MODE        virtio-console (hvc0), same modes as --serial (default off)\n"
	"  --display [device=bochs|virtio-gpu|none][,vnc=HOST:PORT|unix:PATH]\n"
	"            [,web=HOST:PORT][,password_file=PATH][,sdl=on][,resolution=WxH]\n"
	"            [,vram=MiB]\n"
	"                        a screen (our extension): bochs (the default) = the\n"
	"                        bochs-display framebuffer (PCI 1234:1111) that firmware,\n"
	"                        Linux (bochs-drm) and Windows drive; virtio-gpu = 2D\n"
	"                        virtio-gpu (Linux's virtio_gpu), which follows the\n"
	"                        viewer's window size; vm.screenshot shows either.\n"
	"                        vnc= serves it to VNC clients (and noVNC: WebSockets on\n"
	"                        the same port); :PORT is 127.0.0.1, port 0 any free one.\n"
	"                        web= serves a page (noVNC) that shows it in a browser.\n"
	"                        password_file= asks VNC viewers and the page for the\n"
	"                        password on the file's first line (1-8 characters).\n"
	"                        sdl=on shows it in a window (Ctrl+Alt+G grabs/releases;\n"
	"                        closing it ends the VM).\n"
	"                        resolution= the monitor's preferred mode (EDID; default\n"
	"                        1024x768, up to 4095x4095), vram= bochs's framebuffer\n"
	"                        MiB (16)\n"
	"                        Without --display: headless\n"
	"  --api-socket PATH | path=PATH | fd=N\n"
	"                        serve the REST API (Cloud Hypervisor's) on a Unix socket;\n"
	"                        without --kernel, wait there for vm.create\n"
	"  --restore source_url=file:///DIR\n"
	"                        continue a VM from a snapshot (vm.snapshot)\n"
	"  --log-file PATH       write VMM messages to PATH instead of stderr\n"
	"  -v                    more messages (repeat for debug)\n"
	"  -h, --help            this text\n"
	"  -V, --version         print the version\n";

int parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	unsigned int shift = 0;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -EINVAL;
	switch (*end) {
	case '\0': break;
	case 'K': case 'k': shift = 10; end++; break;
	case 'M': case 'm': shift = 20; end++; break;
	case 'G': case 'g': shift = 30; end++; break;
	case 'T': case 't': shift = 40; end++; break;
	default: return -EINVAL;
	}
	if (*end != '\0' || (shift && v > (UINT64_MAX >> shift)))
		return -EINVAL;
	*out = (uint64_t)v << shift;
	return 0;
}

static int parse_uint(const char *s, unsigned int max, unsigned int *out)
{
	char *end;
	unsigned long v;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > max)
		return -EINVAL;
	*out = (unsigned int)v;
	return 0;
}

/* A count the shared checks judge (base/config.h): what cannot be read as
 * one becomes 0, which every check refuses. */
static void parse_count(const char *s, unsigned int *out)
{
	if (parse_uint(s, UINT_MAX, out) < 0)
		*out = 0;
}

/*
 * A shared check's verdict RET, its message already in err: put the
 * option's name OPT in front of it.
 */
static int config_check(char *err, size_t errlen, const char *opt, int ret)
{
	char why[256];

	if (ret >= 0)
		return ret;
	snprintf(why, sizeof(why), "%s", err);
	errbuf_set(err, errlen, "%s: %s", opt, why);
	return ret;
}

/*
 * Split the next "key=value" item off a comma list. The list is modified in
 * place. A bare item without '=' gets val == NULL.
 */
static int kv_next(char **list, char **key, char **val)
{
	char *item = *list, *comma, *eq;

	if (!item || !*item)
		return 0;
	comma = strchr(item, ',');
	if (comma) {
		*comma = '\0';
		*list = comma + 1;
	} else {
		*list = NULL;
	}
	eq = strchr(item, '=');
	if (eq)
		*eq = '\0';
	*key = item;
	*val = eq ? eq + 1 : NULL;
	return 1;
}

int parse_console(const char *s, struct console_config *out, char *err, size_t errlen)
{
	static const struct { const char *name; enum console_mode mode; } plain[] = {
		{ "off", CONSOLE_OFF }, { "null", CONSOLE_NULL },
		{ "tty", CONSOLE_TTY }, { "pty", CONSOLE_PTY },
	};
	enum console_mode mode;
	const char *path;

	for (size_t i = 0; i < ARRAY_SIZE(plain); i++) {
		if (!strcmp(s, plain[i].name)) {
			free(out->path);
			out->path = NULL;
			out->mode = plain[i].mode;
			return 0;
		}
	}
	if (!strncmp(s, "file=", 5)) {
		mode = CONSOLE_FILE;
		path = s + 5;
	} else if (!strncmp(s, "socket=", 7)) {
		mode = CONSOLE_SOCKET;
		path = s + 7;
	} else {
		errbuf_set(err, errlen, "invalid mode '%s' (expected off, null, tty, pty, "
			"file=PATH or socket=PATH)", s);
		return -EINVAL;
	}
	if (!*path) {
		errbuf_set(err, errlen, "'%s' needs a path", s);
		return -EINVAL;
	}
	free(out->path);
	out->path = strdup(path);
	if (!out->path)
		return -ENOMEM;
	out->mode = mode;
	return 0;
}

static int parse_cpus(char *arg, struct vm_config *cfg, char *err, size_t errlen)
{
	char *key, *val, *list = arg;
	unsigned int max = 0;
	bool max_given = false;

	while (kv_next(&list, &key, &val)) {
		if (!val && parse_uint(key, UINT_MAX, &cfg->boot_vcpus) == 0)
			continue; /* "--cpus 2" as a shorthand for boot=2 */
		if (!strcmp(key, "boot") || !strcmp(key, "max")) {
			unsigned int n;

			if (parse_uint(val, UINT_MAX, &n) < 0) {
				errbuf_set(err, errlen, "--cpus: invalid %s='%s' (a whole number)",
					key, val ? val : "");
				return -EINVAL;
			}
			if (!strcmp(key, "boot"))
				cfg->boot_vcpus = n;
			else {
				max = n;
				max_given = true;
			}
		} else {
			errbuf_set(err, errlen, "--cpus: unknown parameter '%s' (supported: boot, max)", key);
			return -EINVAL;
		}
	}
	return config_check(err, errlen, "--cpus",
			    config_check_cpus(cfg->boot_vcpus, max_given ? &max : NULL, err, errlen));
}

static int parse_memory(char *arg, struct vm_config *cfg, char *err, size_t errlen)
{
	char *key, *val, *list = arg;

	while (kv_next(&list, &key, &val)) {
		if (!val && parse_size(key, &cfg->memory_size) == 0)
			continue; /* "--memory 1G" */
		if (!strcmp(key, "size")) {
			if (parse_size(val, &cfg->memory_size) < 0) {
				errbuf_set(err, errlen, "--memory: invalid size '%s' "
					"(a number with an optional K, M, G or T suffix)",
					val ? val : "");
				return -EINVAL;
			}
		} else if (!strcmp(key, "shared")) {
			if (!val || (strcmp(val, "on") && strcmp(val, "off"))) {
				errbuf_set(err, errlen, "--memory: shared must be on or off");
				return -EINVAL;
			}
			cfg->memory_shared = !strcmp(val, "on");
		} else {
			errbuf_set(err, errlen, "--memory: unknown parameter '%s' (supported: size, shared)", key);
			return -EINVAL;
		}
	}
	return config_check(err, errlen, "--memory",
			    config_check_memory(cfg->memory_size, err, errlen));
}

static int parse_onoff(const char *opt, const char *key, const char *val, bool *out,
		       char *err, size_t errlen)
{
	if (val && !strcmp(val, "on"))
		*out = true;
	else if (val && !strcmp(val, "off"))
		*out = false;
	else {
		errbuf_set(err, errlen, "%s: %s must be on or off", opt, key);
		return -EINVAL;
	}
	return 0;
}

static int parse_disk(char *arg, struct vm_config *cfg, char *err, size_t errlen)
{
	struct disk_config *d;
	char *key, *val, *list = arg;

	if (cfg->nr_disks == VM_MAX_DISKS) {
		errbuf_set(err, errlen, "--disk: at most %d disks", VM_MAX_DISKS);
		return -E2BIG;
	}
	d = &cfg->disks[cfg->nr_disks++];
	disk_config_init(d);
	while (kv_next(&list, &key, &val)) {
		int ret = 0;

		if (!strcmp(key, "path") && val && *val) {
			free(d->path);
			d->path = strdup(val);
		} else if (!strcmp(key, "readonly")) {
			ret = parse_onoff("--disk", key, val, &d->readonly, err, errlen);
		} else if (!strcmp(key, "direct")) {
			ret = parse_onoff("--disk", key, val, &d->direct, err, errlen);
		} else if (!strcmp(key, "num_queues")) {
			parse_count(val, &d->num_queues); /* a bad one: config_check_disk says */
		} else if (!strcmp(key, "queue_size")) {
			parse_count(val, &d->queue_size);
		} else if (!strcmp(key, "serial") && val) {
			free(d->serial);
			d->serial = strdup(val);
		} else if (!strcmp(key, "image_type") && val) {
			if (!strcmp(val, "raw"))
				d->image_type = 1;
			else if (!strcmp(val, "qcow2"))
				d->image_type = 2;
			else {
				errbuf_set(err, errlen, "--disk: image_type must be raw or qcow2, not '%s'", val);
				return -EINVAL;
			}
		} else {
			errbuf_set(err, errlen, "--disk: unknown or empty parameter '%s' (supported: "
				   "path, readonly, direct, num_queues, queue_size, serial, image_type)", key);
			return -EINVAL;
		}
		if (ret < 0)
			return ret;
	}
	if (!d->path) {
		errbuf_set(err, errlen, "--disk: path=PATH is required");
		return -EINVAL;
	}
	return config_check(err, errlen, "--disk", config_check_disk(d, err, errlen));
}

static int parse_net(char *arg, struct vm_config *cfg, char *err, size_t errlen)
{
	struct net_config *n;
	char *key, *val, *list = arg;

	if (cfg->nr_nets == VM_MAX_NETS) {
		errbuf_set(err, errlen, "--net: at most %d network devices", VM_MAX_NETS);
		return -E2BIG;
	}
	n = &cfg->nets[cfg->nr_nets++];
	net_config_init(n);
	while (kv_next(&list, &key, &val)) {
		int ret = 0;
		char **dst = NULL;

		if (!strcmp(key, "user")) {
			ret = parse_onoff("--net", key, val, &n->user, err, errlen);
		} else if (!strcmp(key, "restrict")) {
			ret = parse_onoff("--net", key, val, &n->restrict_, err, errlen);
		} else if (!strcmp(key, "hostfwd") && val) {
			if (n->nr_hostfwd == NET_MAX_HOSTFWD) {
				errbuf_set(err, errlen, "--net: at most %d hostfwd rules", NET_MAX_HOSTFWD);
				return -E2BIG;
			}
			n->hostfwd[n->nr_hostfwd] = strdup(val);
			if (!n->hostfwd[n->nr_hostfwd++])
				return -ENOMEM;
		} else if (!strcmp(key, "tap") && val && *val) {
			dst = &n->tap;
		} else if (!strcmp(key, "fd")) {
			unsigned int fd;

			if (parse_uint(val, INT_MAX, &fd) < 0)
				fd = NET_MAX_FD + 1; /* config_check_net says */
			n->fd = (int)fd;
		} else if (!strcmp(key, "mac") && val) {
			dst = &n->mac;
		} else if (!strcmp(key, "ip") && val) {
			dst = &n->ip;
		} else if (!strcmp(key, "mask") && val) {
			dst = &n->mask;
		} else if (!strcmp(key, "num_queues")) {
			parse_count(val, &n->num_queues);
		} else if (!strcmp(key, "queue_size")) {
			parse_count(val, &n->queue_size);
		} else {
			errbuf_set(err, errlen, "--net: unknown or empty parameter '%s' (supported: user, "
				   "hostfwd, restrict, tap, fd, mac, ip, mask, num_queues, queue_size)", key);
			return -EINVAL;
		}
		if (ret < 0)
			return ret;
		if (dst) {
			free(*dst);
			*dst = strdup(val);
			if (!*dst)
				return -ENOMEM;
		}
	}
	return config_check(err, errlen, "--net", config_check_net(n, err, errlen));
}

static int replace_str(char **dst, const char *src)
{
	char *copy = strdup(src);

	if (!copy)
		return -ENOMEM;
	free(*dst);
	*dst = copy;
	return 0;
}

/*
 * --api-socket PATH | path=PATH | fd=N, as Cloud Hypervisor takes it.
 * --restore source_url=file:///DIR[,prefault=on|off].
 */
static int parse_api_socket(const char *arg, struct api_config *api, char *err, size_t errlen)
{
	char *end;
	long fd;

	if (!strncmp(arg, "fd=", 3)) {
		errno = 0;
		fd = strtol(arg + 3, &end, 10);
		if (errno || end == arg + 3 || *end || fd < 0 || fd > 65535) {
			errbuf_set(err, errlen, "--api-socket: fd=%s is not a file descriptor number",
				   arg + 3);
			return -EINVAL;
		}
		api->fd = (int)fd;
		return 0;
	}
	if (!strncmp(arg, "path=", 5))
		arg += 5;
	if (!*arg || strchr(arg, ',') || strchr(arg, '=')) {
		errbuf_set(err, errlen, "--api-socket: expected PATH, path=PATH or fd=N, got '%s'",
			   arg);
		return -EINVAL;
	}
	return replace_str(&api->path, arg) < 0 ? -ENOMEM : 0;
}

static int parse_restore(const char *arg, struct vm_config *cfg, char *err, size_t errlen)
{
	const char *url;

	if (strncmp(arg, "source_url=", 11)) {
		errbuf_set(err, errlen, "--restore: expected source_url=file:///DIR, got '%s'", arg);
		return -EINVAL;
	}
	url = arg + 11;
	if (!file_url_path(url) || strchr(url, ',')) {
		errbuf_set(err, errlen, "--restore: source_url must be file:///DIR, got '%s'", url);
		return -EINVAL;
	}
	return replace_str(&cfg->restore_source, url) < 0 ? -ENOMEM : 0;
}

/* --vsock cid=N,socket=PATH (Cloud Hypervisor's VsockConfig). */
static int parse_display(char *arg, struct vm_config *cfg, char *err, size_t errlen)
{
	char *key, *val, *list = arg;

	/* Asking for a display gets the one device there is, unless named. */
	cfg->display.device = DISPLAY_DEVICE_BOCHS;
	while (kv_next(&list, &key, &val)) {
		if (!strcmp(key, "device")) {
			char why[128];

			if (display_device_parse(val ? val : "", &cfg->display.device, why,
						 sizeof(why)) < 0) {
				errbuf_set(err, errlen, "--display: %s", why);
				return -EINVAL;
			}
		} else if (!strcmp(key, "vnc")) {
			if (replace_str(&cfg->display.vnc, val ? val : "") < 0)
				return -ENOMEM;
		} else if (!strcmp(key, "sdl")) {
			if (!val || (strcmp(val, "on") && strcmp(val, "off"))) {
				errbuf_set(err, errlen, "--display: sdl '%s' is not on or off",
					   val ? val : "");
				return -EINVAL;
			}
			cfg->display.sdl = !strcmp(val, "on");
		} else if (!strcmp(key, "web")) {
			if (replace_str(&cfg->display.web, val ? val : "") < 0)
				return -ENOMEM;
		} else if (!strcmp(key, "password_file")) {
			if (!val || !*val) {
				errbuf_set(err, errlen, "--display: password_file needs a PATH");
				return -EINVAL;
			}
			if (replace_str(&cfg->display.password_file, val) < 0)
				return -ENOMEM;
		} else if (!strcmp(key, "resolution")) {
			char why[128];

			if (display_resolution_parse(val ? val : "", &cfg->display, why,
						     sizeof(why)) < 0) {
				errbuf_set(err, errlen, "--display: %s", why);
				return -EINVAL;
			}
		} else if (!strcmp(key, "vram")) {
			unsigned int mib;

			if (!val || parse_uint(val, UINT_MAX, &mib) < 0 || !mib) {
				errbuf_set(err, errlen, "--display: vram '%s' is not a number of MiB",
					   val ? val : "");
				return -EINVAL;
			}
			cfg->display.vram_mib = mib;
		} else {
			errbuf_set(err, errlen, "--display: unknown parameter '%s' (supported: device, "
				   "vnc, web, password_file, sdl, resolution, vram)", key);
			return -EINVAL;
		}
	}
	return config_check(err, errlen, "--display", config_check_display(&cfg->display, err,
									       errlen));
}

static int parse_vsock(char *arg, struct vm_config *cfg, char *err, size_t errlen)
{
	struct vsock_config *v = &cfg->vsock;
	char *key, *val, *end, *list = arg;
	bool have_cid = false;

	if (v->enabled) {
		errbuf_set(err, errlen, "--vsock: only one vsock device is supported");
		return -EINVAL;
	}
	while (kv_next(&list, &key, &val)) {
		if (!strcmp(key, "cid")) {
			if (!val || *val < '0' || *val > '9') {
				errbuf_set(err, errlen, "--vsock: cid must be a number, not '%s'",
					   val ? val : "");
				return -EINVAL;
			}
			errno = 0;
			v->cid = strtoull(val, &end, 10);
			if (*end) {
				errbuf_set(err, errlen, "--vsock: cid must be a number, not '%s'", val);
				return -EINVAL;
			}
			if (errno == ERANGE)
				v->cid = UINT64_MAX; /* config_check_vsock says */
			have_cid = true;
		} else if (!strcmp(key, "socket")) {
			if (replace_str(&v->socket, val ? val : "") < 0) {
				errbuf_set(err, errlen, "out of memory");
				return -ENOMEM;
			}
		} else {
			errbuf_set(err, errlen, "--vsock: unknown parameter '%s' (supported: cid, socket)",
				   key);
			return -EINVAL;
		}
	}
	if (!have_cid) {
		errbuf_set(err, errlen, "--vsock: cid=N is required (the guest's context ID, 3 or more)");
		return -EINVAL;
	}
	if (config_check(err, errlen, "--vsock", config_check_vsock(v, err, errlen)) < 0)
		return -EINVAL;
	v->enabled = true;
	return 0;
}

enum {
	OPT_KERNEL = 256, OPT_INITRAMFS, OPT_CMDLINE, OPT_CPUS, OPT_MEMORY,
	OPT_SERIAL, OPT_CONSOLE, OPT_LOG_FILE, OPT_RNG, OPT_DISK, OPT_NET,
	OPT_API_SOCKET, OPT_RESTORE,
	OPT_VSOCK, OPT_DISPLAY,
};

enum options_result options_parse(int argc, char **argv, struct vm_config *cfg,
				  char *err, size_t errlen)
{
	static const struct option longopts[] = {
		{ "kernel", required_argument, NULL, OPT_KERNEL },
		{ "initramfs", required_argument, NULL, OPT_INITRAMFS },
		{ "cmdline", required_argument, NULL, OPT_CMDLINE },
		{ "cpus", required_argument, NULL, OPT_CPUS },
		{ "memory", required_argument, NULL, OPT_MEMORY },
		{ "serial", required_argument, NULL, OPT_SERIAL },
		{ "console", required_argument, NULL, OPT_CONSOLE },
		{ "log-file", required_argument, NULL, OPT_LOG_FILE },
		{ "rng", required_argument, NULL, OPT_RNG },
		{ "disk", required_argument, NULL, OPT_DISK },
		{ "net", required_argument, NULL, OPT_NET },
		{ "api-socket", required_argument, NULL, OPT_API_SOCKET },
		{ "restore", required_argument, NULL, OPT_RESTORE },
		{ "vsock", required_argument, NULL, OPT_VSOCK },
		{ "display", required_argument, NULL, OPT_DISPLAY },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	char sub[512];
	bool serial_given = false;
	int c, ret = 0;

	optind = 0; /* full reset, so tests may call us repeatedly */
	opterr = 0;
	err[0] = '\0';
	while ((c = getopt_long(argc, argv, ":hVv", longopts, NULL)) != -1) {
		char *copy = NULL;

		switch (c) {
		case OPT_KERNEL: ret = replace_str(&cfg->kernel, optarg); break;
		case OPT_INITRAMFS: ret = replace_str(&cfg->initramfs, optarg); break;
		case OPT_CMDLINE: ret = replace_str(&cfg->cmdline, optarg); break;
		case OPT_LOG_FILE: ret = replace_str(&cfg->log_file, optarg); break;
		case OPT_CPUS:
		case OPT_MEMORY:
		case OPT_DISK:
		case OPT_NET:
			copy = strdup(optarg);
			if (!copy)
				return OPTIONS_ERROR;
			ret = c == OPT_CPUS ? parse_cpus(copy, cfg, err, errlen) :
			      c == OPT_MEMORY ? parse_memory(copy, cfg, err, errlen) :
			      c == OPT_DISK ? parse_disk(copy, cfg, err, errlen) :
			      parse_net(copy, cfg, err, errlen);
			free(copy);
			if (ret < 0)
				return OPTIONS_ERROR;
			break;
		case OPT_SERIAL:
		case OPT_CONSOLE:
			ret = parse_console(optarg, c == OPT_SERIAL ? &cfg->serial : &cfg->console,
					    sub, sizeof(sub));
			if (ret < 0) {
				errbuf_set(err, errlen, "%s: %s",
					c == OPT_SERIAL ? "--serial" : "--console", sub);
				return OPTIONS_ERROR;
			}
			if (c == OPT_SERIAL)
				serial_given = true;
			break;
		case OPT_RNG:
			if (strncmp(optarg, "src=", 4) || !optarg[4] || strchr(optarg, ',')) {
				errbuf_set(err, errlen, "--rng: expected src=PATH, got '%s'", optarg);
				return OPTIONS_ERROR;
			}
			ret = replace_str(&cfg->rng_src, optarg + 4);
			break;
		case OPT_API_SOCKET:
			if (parse_api_socket(optarg, &cfg->api, err, errlen) < 0)
				return OPTIONS_ERROR;
			break;
		case OPT_RESTORE:
			if (parse_restore(optarg, cfg, err, errlen) < 0)
				return OPTIONS_ERROR;
			break;
		case OPT_VSOCK:
			copy = strdup(optarg);
			if (!copy)
				return OPTIONS_ERROR;
			ret = parse_vsock(copy, cfg, err, errlen);
			free(copy);
			if (ret < 0)
				return OPTIONS_ERROR;
			break;
		case OPT_DISPLAY:
			copy = strdup(optarg);
			if (!copy)
				return OPTIONS_ERROR;
			ret = parse_display(copy, cfg, err, errlen);
			free(copy);
			if (ret < 0)
				return OPTIONS_ERROR;
			break;
		case 'v': cfg->verbosity++; break;
		case 'h': fputs(options_usage, stdout); return OPTIONS_EXIT_OK;
		case 'V': printf("phyllo-vmm %s\n", PHYLLOME_VERSION); return OPTIONS_EXIT_OK;
		case ':':
			errbuf_set(err, errlen, "option '%s' needs a value", argv[optind - 1]);
			return OPTIONS_ERROR;
		default:
			errbuf_set(err, errlen, "unknown option '%s' (see --help)", argv[optind - 1]);
			return OPTIONS_ERROR;
		}
		if (ret < 0) {
			errbuf_set(err, errlen, "out of memory");
			return OPTIONS_ERROR;
		}
	}
	if (optind < argc) {
		errbuf_set(err, errlen, "unexpected argument '%s' (see --help)", argv[optind]);
		return OPTIONS_ERROR;
	}
	if (config_check(err, errlen, "--serial/--console",
			 config_pair_consoles(cfg, serial_given, err, errlen)) < 0)
		return OPTIONS_ERROR;
	if (cfg->restore_source && cfg->kernel) {
		errbuf_set(err, errlen, "--restore and --kernel exclude each other: a snapshot "
			   "brings its own configuration");
		return OPTIONS_ERROR;
	}
	/* With an API socket the VM may come later, through vm.create. */
	if (!cfg->kernel && !cfg->restore_source && !cfg->api.path && cfg->api.fd < 0) {
		errbuf_set(err, errlen, "no --kernel given: nothing to boot (see --help)");
		return OPTIONS_ERROR;
	}
	return OPTIONS_RUN;
}
