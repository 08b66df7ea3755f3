// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * VmConfig JSON <-> struct vm_config (see vmconfig_json.h for the policy).
 *
 * Reading: one json_schema.h table per object type of the OpenAPI contract
 * (VmConfig, PayloadConfig, CpusConfig, DiskConfig, ...), listing every
 * field the contract defines, so the walker refuses anything else. The
 * rules (ranges, queue sizes, one network back end, console pairing) are
 * base/config.c's, the same the command line applies, with the same text:
 * the tables hold only type bounds.
 * Writing (vm.info): the same shapes, only the fields we implement.
 */
#include "api/vmconfig_json.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/json_schema.h"
#include "base/log.h"

/* Scratch state while reading one VmConfig. */
struct vm_json_state {
	unsigned int max_vcpus;
	bool max_given;
	bool serial_given;
	bool display_device_given;
};
#define STATE(c) ((struct vm_json_state *)(c)->extra)

#define NO_COMMON_PCI JS_NO("id", STRING, NULL), JS_NO("pci_segment", INTEGER, NULL), \
	JS_NO("pci_device_id", INTEGER, NULL), JS_NO_BOOL("iommu", "false")

/* payload, cpus, memory: their fields live in struct vm_config itself. */
static const struct js_field payload_fields[] = {
	JS_STR("kernel", struct vm_config, kernel, .min = 1),
	JS_STR("cmdline", struct vm_config, cmdline),
	JS_STR("initramfs", struct vm_config, initramfs, .min = 1),
	JS_NO("firmware", STRING, NULL), JS_NO("igvm", STRING, NULL), JS_NO("host_data", STRING, NULL),
};
static const struct js_schema payload_schema = JS_SCHEMA("PayloadConfig", payload_fields, NULL);

static int cpus_max(struct js_ctx *c, json_t *v, void *base)
{
	uint64_t n;
	int ret = js_get_uint(c, v, 0, UINT32_MAX, &n);

	(void)base;
	if (!ret) {
		STATE(c)->max_vcpus = (unsigned int)n;
		STATE(c)->max_given = true;
	}
	return ret;
}

/* A base/config.c rule's verdict, its text after the object's path. */
static int shared_rule(struct js_ctx *c, int ret, const char *why)
{
	return ret < 0 ? js_bad(c, "%s", why) : 0;
}

static int cpus_check(struct js_ctx *c, void *base)
{
	const struct vm_config *cfg = base;
	char why[256];

	return shared_rule(c, config_check_cpus(cfg->boot_vcpus,
						STATE(c)->max_given ? &STATE(c)->max_vcpus : NULL,
						why, sizeof(why)), why);
}

static const struct js_field cpus_fields[] = {
	JS_UINT("boot_vcpus", struct vm_config, boot_vcpus, 0, UINT32_MAX),
	JS_FN("max_vcpus", cpus_max),
	JS_NO("topology", OBJECT, NULL), JS_NO_BOOL("kvm_hyperv", "false"),
	JS_NO("max_phys_bits", INTEGER, NULL), JS_NO_BOOL("nested", "true"),
	JS_NO("affinity", ARRAY, NULL), JS_NO("features", OBJECT, NULL),
	JS_NO("core_scheduling", STRING, "\"Vm\""),
};
static const struct js_schema cpus_schema = JS_SCHEMA("CpusConfig", cpus_fields, cpus_check);

static int memory_size(struct js_ctx *c, json_t *v, void *base)
{
	struct vm_config *cfg = base;
	char why[256];
	int ret = js_get_uint(c, v, 0, INT64_MAX, &cfg->memory_size);

	return ret ? ret : shared_rule(c, config_check_memory(cfg->memory_size, why, sizeof(why)),
				       why);
}

static const struct js_field memory_fields[] = {
	JS_FN("size", memory_size),
	JS_BOOL("shared", struct vm_config, memory_shared),
	JS_NO("hotplug_size", INTEGER, NULL), JS_NO("hotplugged_size", INTEGER, NULL),
	JS_NO_BOOL("mergeable", "false"), JS_NO("hotplug_method", STRING, "\"Acpi\""),
	JS_NO_BOOL("hugepages", "false"), JS_NO("hugepage_size", INTEGER, NULL),
	JS_NO_BOOL("prefault", "false"), JS_NO_BOOL("reserve", "false"), JS_NO_BOOL("thp", "true"),
	JS_NO("zones", ARRAY, NULL),
};
static const struct js_schema memory_schema = JS_SCHEMA("MemoryConfig", memory_fields, NULL);

static int disk_image_type(struct js_ctx *c, json_t *v, void *base)
{
	struct disk_config *d = base;
	const char *s = json_string_value(v);

	if (!s)
		return js_bad(c, "expected a string (Raw, Qcow2 or Unknown)");
	if (!strcmp(s, "Raw"))
		d->image_type = 1; /* enum blk_format */
	else if (!strcmp(s, "Qcow2"))
		d->image_type = 2;
	else if (!strcmp(s, "Unknown"))
		d->image_type = 0; /* detected from the image */
	else if (!strcmp(s, "FixedVhd") || !strcmp(s, "Vhdx"))
		return js_bad(c, "%s images are not supported (Raw and Qcow2 are)", s);
	else
		return js_bad(c, "'%s' is not an ImageType (Raw, Qcow2 or Unknown)", s);
	return 0;
}

static int disk_check(struct js_ctx *c, void *base)
{
	char why[256];

	return shared_rule(c, config_check_disk(base, why, sizeof(why)), why);
}

static void disk_init(void *elem)
{
	disk_config_init(elem);
}

static const struct js_field disk_fields[] = {
	JS_STR("path", struct disk_config, path, .min = 1, .required = true),
	JS_BOOL("readonly", struct disk_config, readonly),
	JS_BOOL("direct", struct disk_config, direct),
	JS_UINT("num_queues", struct disk_config, num_queues, 0, UINT32_MAX),
	JS_UINT("queue_size", struct disk_config, queue_size, 0, UINT32_MAX),
	JS_STR("serial", struct disk_config, serial),
	JS_FN("image_type", disk_image_type),
	NO_COMMON_PCI, JS_NO_BOOL("vhost_user", "false"), JS_NO("vhost_socket", STRING, NULL),
	JS_NO("rate_limiter_config", OBJECT, NULL), JS_NO("rate_limit_group", STRING, NULL),
	JS_NO("queue_affinity", ARRAY, NULL),
	/* Backing files are always followed: the contract's default (false)
	 * would promise a refusal we do not make. */
	JS_NO_BOOL("backing_files", "true"),
	JS_NO_BOOL("sparse", "true"), JS_NO("lock_granularity", STRING, "\"ByteRange\""),
};
static const struct js_schema disk_schema = JS_SCHEMA("DiskConfig", disk_fields, disk_check);

static int net_fd(struct js_ctx *c, json_t *v, void *base)
{
	struct net_config *n = base;
	uint64_t fd;
	int ret = js_get_uint(c, v, 0, INT32_MAX, &fd);

	if (!ret)
		n->fd = (int)fd;
	return ret;
}

static int net_hostfwd(struct js_ctx *c, json_t *v, void *base)
{
	struct net_config *n = base;
	size_t i;
	json_t *rule;

	if (!json_is_array(v))
		return js_bad(c, "expected an array of strings");
	if (json_array_size(v) > NET_MAX_HOSTFWD)
		return js_bad(c, "at most %d hostfwd rules", NET_MAX_HOSTFWD);
	json_array_foreach(v, i, rule) {
		size_t mark = js_path_push(c, NULL, (long)i);
		int ret;

		ret = js_set_string(c, rule, &n->hostfwd[n->nr_hostfwd], true);
		if (ret < 0)
			return ret;
		n->nr_hostfwd++;
		js_path_pop(c, mark);
	}
	return 0;
}

static int net_check(struct js_ctx *c, void *base)
{
	char why[256];

	return shared_rule(c, config_check_net(base, why, sizeof(why)), why);
}

static void net_init(void *elem)
{
	net_config_init(elem);
}

static const struct js_field net_fields[] = {
	JS_STR("tap", struct net_config, tap, .min = 1),
	JS_STR("ip", struct net_config, ip, .min = 1),
	JS_STR("mask", struct net_config, mask, .min = 1),
	JS_STR("mac", struct net_config, mac),
	JS_UINT("num_queues", struct net_config, num_queues, 0, UINT32_MAX),
	JS_UINT("queue_size", struct net_config, queue_size, 0, UINT32_MAX),
	/* Ours: an inherited tap fd, and user-mode networking (--net user=on). */
	JS_FN("fd", net_fd),
	JS_BOOL("user", struct net_config, user),
	JS_BOOL("restrict", struct net_config, restrict_),
	JS_FN("hostfwd", net_hostfwd),
	NO_COMMON_PCI, JS_NO("host_mac", STRING, NULL), JS_NO("mtu", INTEGER, NULL),
	JS_NO_BOOL("vhost_user", "false"), JS_NO("vhost_socket", STRING, NULL),
	JS_NO("vhost_mode", STRING, "\"Client\""), JS_NO("rate_limiter_config", OBJECT, NULL),
	JS_NO_BOOL("offload_tso", "true"), JS_NO_BOOL("offload_ufo", "true"),
	JS_NO_BOOL("offload_csum", "true"),
};
static const struct js_schema net_schema = JS_SCHEMA("NetConfig", net_fields, net_check);

static const struct js_field rng_fields[] = {
	JS_STR("src", struct vm_config, rng_src, .min = 1, .required = true),
	NO_COMMON_PCI,
};
static const struct js_schema rng_schema = JS_SCHEMA("RngConfig", rng_fields, NULL);

/* SerialConfig and ConsoleConfig are read into this, then checked. */
struct console_json {
	char *mode, *file, *socket;
};

#define CONSOLE_FIELDS \
	JS_STR("mode", struct console_json, mode, .required = true), \
	JS_STR("file", struct console_json, file, .min = 1), \
	JS_STR("socket", struct console_json, socket, .min = 1)
static const struct js_field serial_fields[] = { CONSOLE_FIELDS };
static const struct js_field console_fields[] = { CONSOLE_FIELDS, NO_COMMON_PCI };
static const struct js_schema serial_schema = JS_SCHEMA("SerialConfig", serial_fields, NULL);
static const struct js_schema console_schema = JS_SCHEMA("ConsoleConfig", console_fields, NULL);

static const char *const console_mode_names[] = {
	[CONSOLE_OFF] = "Off", [CONSOLE_NULL] = "Null", [CONSOLE_TTY] = "Tty",
	[CONSOLE_FILE] = "File", [CONSOLE_PTY] = "Pty", [CONSOLE_SOCKET] = "Socket",
};

static int console_from(struct js_ctx *c, struct console_json *j, struct console_config *out)
{
	int mode = -1;
	char **path = NULL;

	for (size_t i = 0; i < ARRAY_SIZE(console_mode_names); i++)
		if (!strcmp(j->mode, console_mode_names[i]))
			mode = (int)i;
	if (mode < 0)
		return js_bad(c, "mode '%s' is not one of Off, Null, Tty, File, Pty, Socket", j->mode);
	if (j->file && mode != CONSOLE_FILE)
		return js_bad(c, "file is only used with mode File");
	if (j->socket && mode != CONSOLE_SOCKET)
		return js_bad(c, "socket is only used with mode Socket");
	if (mode == CONSOLE_FILE || mode == CONSOLE_SOCKET) {
		path = mode == CONSOLE_FILE ? &j->file : &j->socket;
		if (!*path)
			return js_bad(c, "mode %s needs \"%s\"", j->mode,
				   mode == CONSOLE_FILE ? "file" : "socket");
	}
	free(out->path);
	out->path = NULL;
	out->mode = (enum console_mode)mode;
	if (path) { /* moved, not copied */
		out->path = *path;
		*path = NULL;
	}
	return 0;
}

static int parse_console_field(struct js_ctx *c, json_t *v, struct console_config *out,
			       const struct js_schema *s)
{
	struct console_json j = { 0 };
	int ret;

	if (!json_is_object(v))
		return js_bad(c, "expected an object (%s)", s->what);
	ret = js_parse_object(c, s, v, &j);
	if (!ret)
		ret = console_from(c, &j, out);
	free(j.mode);
	free(j.file);
	free(j.socket);
	return ret;
}

static int vm_serial(struct js_ctx *c, json_t *v, void *base)
{
	STATE(c)->serial_given = true;
	return parse_console_field(c, v, &((struct vm_config *)base)->serial, &serial_schema);
}

static int vm_console(struct js_ctx *c, json_t *v, void *base)
{
	return parse_console_field(c, v, &((struct vm_config *)base)->console, &console_schema);
}

static int vsock_check(struct js_ctx *c, void *base)
{
	char why[256];
	int ret = shared_rule(c, config_check_vsock(base, why, sizeof(why)), why);

	if (!ret)
		((struct vsock_config *)base)->enabled = true;
	return ret;
}

static int vsock_cid(struct js_ctx *c, json_t *v, void *base)
{
	return js_get_uint(c, v, 0, UINT64_MAX, &((struct vsock_config *)base)->cid);
}

/*
 * Ours: "display": {"device": "bochs", "vnc": "127.0.0.1:5900"} as
 * --display device=bochs,vnc=...; the device is bochs unless named.
 */
static int display_device(struct js_ctx *c, json_t *v, void *base)
{
	char why[128];

	if (!json_is_string(v))
		return js_bad(c, "expected a string");
	STATE(c)->display_device_given = true;
	return shared_rule(c, display_device_parse(json_string_value(v),
						   &((struct display_config *)base)->device, why,
						   sizeof(why)), why);
}

static int display_check(struct js_ctx *c, void *base)
{
	struct display_config *d = base;
	char why[256];

	if (!STATE(c)->display_device_given)
		d->device = DISPLAY_DEVICE_BOCHS;
	return shared_rule(c, config_check_display(d, why, sizeof(why)), why);
}

/* "resolution": "1920x1080", as --display resolution=. */
static int display_resolution(struct js_ctx *c, json_t *v, void *base)
{
	char why[128];

	if (!json_is_string(v))
		return js_bad(c, "expected a string (WIDTHxHEIGHT)");
	return shared_rule(c, display_resolution_parse(json_string_value(v), base, why,
						       sizeof(why)), why);
}

static const struct js_field display_fields[] = {
	JS_FN("device", display_device),
	JS_STR("vnc", struct display_config, vnc, .min = 1),
	JS_STR("web", struct display_config, web, .min = 1),
	JS_STR("password_file", struct display_config, password_file, .min = 1),
	JS_BOOL("sdl", struct display_config, sdl),
	JS_FN("resolution", display_resolution),
	JS_UINT("vram_mib", struct display_config, vram_mib, 1, DISPLAY_MAX_VRAM_MIB),
};
static const struct js_schema display_schema = JS_SCHEMA("DisplayConfig", display_fields,
							 display_check);

static const struct js_field vsock_fields[] = {
	JS_FN("cid", vsock_cid, .required = true),
	JS_STR("socket", struct vsock_config, socket, .min = 1, .required = true),
	NO_COMMON_PCI,
};
static const struct js_schema vsock_schema = JS_SCHEMA("VsockConfig", vsock_fields, vsock_check);

static int vm_check(struct js_ctx *c, void *base)
{
	struct vm_config *cfg = base;
	char why[256];

	if (!cfg->kernel)
		return js_bad(c, "payload.kernel is required (firmware boot is not supported)");
	return shared_rule(c, config_pair_consoles(cfg, STATE(c)->serial_given, why, sizeof(why)),
			   why);
}

#define ARRAY(n, m, cnt, max, s, in) { .name = n, .kind = JS_F_ARRAY, \
	.off = offsetof(struct vm_config, m), .elem_size = sizeof(((struct vm_config *)0)->m[0]), \
	.count_off = offsetof(struct vm_config, cnt), .max_elems = max, .sub = s, .init = in }

static const struct js_field vm_fields[] = {
	JS_OBJ("payload", 0, &payload_schema, .required = true),
	JS_OBJ("cpus", 0, &cpus_schema),
	JS_OBJ("memory", 0, &memory_schema),
	ARRAY("disks", disks, nr_disks, VM_MAX_DISKS, &disk_schema, disk_init),
	ARRAY("net", nets, nr_nets, VM_MAX_NETS, &net_schema, net_init),
	JS_OBJ("rng", 0, &rng_schema),
	JS_FN("serial", vm_serial),
	JS_FN("console", vm_console),
	JS_OBJ("vsock", offsetof(struct vm_config, vsock), &vsock_schema),
	JS_OBJ("display", offsetof(struct vm_config, display), &display_schema),
	JS_NO("rate_limit_groups", ARRAY, NULL), JS_NO("balloon", OBJECT, NULL),
	JS_NO("fs", ARRAY, NULL), JS_NO("generic_vhost_user", ARRAY, NULL), JS_NO("pmem", ARRAY, NULL),
	JS_NO("debug_console", OBJECT, NULL), JS_NO("devices", ARRAY, NULL),
	JS_NO("user_devices", ARRAY, NULL), JS_NO("vdpa", ARRAY, NULL), JS_NO("numa", ARRAY, NULL),
	JS_NO_BOOL("iommu", "false"), JS_NO_BOOL("watchdog", "false"), JS_NO("rtc", OBJECT, NULL),
	JS_NO_BOOL("pvpanic", "false"), JS_NO("pci_segments", ARRAY, NULL),
	JS_NO("platform", OBJECT, NULL), JS_NO("tpm", OBJECT, NULL),
	JS_NO_BOOL("landlock_enable", "false"), JS_NO("landlock_rules", ARRAY, NULL),
};
static const struct js_schema vm_schema = JS_SCHEMA("VmConfig", vm_fields, vm_check);

int vmconfig_from_json(const char *text, size_t len, struct vm_config *cfg, char *err,
		       size_t errlen)
{
	struct vm_json_state state = { 0 };
	int ret;

	vm_config_init(cfg);
	if (!cfg->rng_src) {
		errbuf_set(err, errlen, "out of memory");
		return -ENOMEM;
	}
	ret = js_parse_body(text, len, &vm_schema, cfg, &state, err, errlen);
	if (ret < 0)
		vm_config_free(cfg);
	return ret;
}

static int put(json_t *obj, const char *key, json_t *v)
{
	return json_object_set_new(obj, key, v); /* -1 (and no leak) when v is NULL */
}

static int put_str(json_t *obj, const char *key, const char *s)
{
	return s ? put(obj, key, js_text(s)) : 0;
}

static json_t *console_to_json(const struct console_config *cc)
{
	json_t *o = json_object();
	int fail;

	if (!o)
		return NULL;
	fail = put_str(o, "mode", (unsigned int)cc->mode < ARRAY_SIZE(console_mode_names) ?
			   console_mode_names[cc->mode] : "Off");
	if (cc->mode == CONSOLE_FILE || cc->mode == CONSOLE_SOCKET)
		fail |= put_str(o, cc->mode == CONSOLE_FILE ? "file" : "socket", cc->path);
	if (fail) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *disk_to_json(const struct disk_config *d)
{
	static const char *const types[] = { NULL, "Raw", "Qcow2" };
	json_t *o = json_object();
	int fail;

	if (!o)
		return NULL;
	fail = put_str(o, "path", d->path);
	fail |= put(o, "readonly", json_boolean(d->readonly));
	fail |= put(o, "direct", json_boolean(d->direct));
	fail |= put(o, "num_queues", json_integer(d->num_queues));
	fail |= put(o, "queue_size", json_integer(d->queue_size));
	fail |= put_str(o, "serial", d->serial);
	if (d->image_type > 0 && (size_t)d->image_type < ARRAY_SIZE(types))
		fail |= put_str(o, "image_type", types[d->image_type]);
	if (fail) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *net_to_json(const struct net_config *n)
{
	json_t *o = json_object(), *fwd;
	int fail;

	if (!o)
		return NULL;
	fail = put_str(o, "tap", n->tap);
	if (n->fd >= 0)
		fail |= put(o, "fd", json_integer(n->fd));
	if (n->user)
		fail |= put(o, "user", json_true());
	if (n->restrict_)
		fail |= put(o, "restrict", json_true());
	if (n->nr_hostfwd) {
		fwd = json_array();
		for (unsigned int i = 0; i < n->nr_hostfwd && fwd; i++)
			fail |= json_array_append_new(fwd, js_text(n->hostfwd[i]));
		fail |= put(o, "hostfwd", fwd);
	}
	fail |= put_str(o, "ip", n->ip);
	fail |= put_str(o, "mask", n->mask);
	fail |= put_str(o, "mac", n->mac);
	fail |= put(o, "num_queues", json_integer(n->num_queues));
	fail |= put(o, "queue_size", json_integer(n->queue_size));
	if (fail) {
		json_decref(o);
		return NULL;
	}
	return o;
}

json_t *vmconfig_to_json(const struct vm_config *cfg)
{
	json_t *root = json_object(), *o, *a;
	int fail = !root;

	if (fail)
		return NULL;
	o = json_object();
	if (o) {
		fail |= put_str(o, "kernel", cfg->kernel);
		fail |= put_str(o, "cmdline", cfg->cmdline);
		fail |= put_str(o, "initramfs", cfg->initramfs);
	}
	fail |= put(root, "payload", o);
	o = json_object();
	if (o) {
		fail |= put(o, "boot_vcpus", json_integer(cfg->boot_vcpus));
		fail |= put(o, "max_vcpus", json_integer(cfg->boot_vcpus));
	}
	fail |= put(root, "cpus", o);
	o = json_object();
	if (o) {
		fail |= put(o, "size", json_integer((json_int_t)cfg->memory_size));
		fail |= put(o, "shared", json_boolean(cfg->memory_shared));
	}
	fail |= put(root, "memory", o);
	if (cfg->nr_disks) {
		a = json_array();
		for (unsigned int i = 0; i < cfg->nr_disks && a; i++)
			fail |= json_array_append_new(a, disk_to_json(&cfg->disks[i]));
		fail |= put(root, "disks", a);
	}
	if (cfg->nr_nets) {
		a = json_array();
		for (unsigned int i = 0; i < cfg->nr_nets && a; i++)
			fail |= json_array_append_new(a, net_to_json(&cfg->nets[i]));
		fail |= put(root, "net", a);
	}
	if (cfg->rng_src) {
		o = json_object();
		if (o)
			fail |= put_str(o, "src", cfg->rng_src);
		fail |= put(root, "rng", o);
	}
	fail |= put(root, "serial", console_to_json(&cfg->serial));
	fail |= put(root, "console", console_to_json(&cfg->console));
	if (cfg->vsock.enabled) {
		o = json_object();
		if (o) {
			fail |= put(o, "cid", json_integer((json_int_t)cfg->vsock.cid));
			fail |= put_str(o, "socket", cfg->vsock.socket);
		}
		fail |= put(root, "vsock", o);
	}
	if (cfg->display.device != DISPLAY_DEVICE_NONE) {
		o = json_object();
		if (o) {
			fail |= put_str(o, "device", display_device_name(cfg->display.device));
			if (cfg->display.vnc)
				fail |= put_str(o, "vnc", cfg->display.vnc);
			if (cfg->display.web)
				fail |= put_str(o, "web", cfg->display.web);
			if (cfg->display.password_file)
				fail |= put_str(o, "password_file", cfg->display.password_file);
			if (cfg->display.sdl)
				fail |= put(o, "sdl", json_true());
			if (cfg->display.width) {
				char res[32];

				snprintf(res, sizeof(res), "%ux%u", cfg->display.width,
					 cfg->display.height);
				fail |= put_str(o, "resolution", res);
			}
			if (cfg->display.vram_mib)
				fail |= put(o, "vram_mib", json_integer(cfg->display.vram_mib));
		}
		fail |= put(root, "display", o);
	}
	if (fail) {
		json_decref(root);
		return NULL;
	}
	return root;
}
