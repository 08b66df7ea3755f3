// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The VM configuration's defaults, its rules and its release, shared by
 * both front ends (the command line, vmm/options.c, and the REST API,
 * api/vmconfig_json.c), so a VM created either way starts from the same
 * values and is refused for the same reasons, in the same words.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/config.h"
#include "base/log.h"
#include "base/sock.h"

void vm_config_init(struct vm_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->boot_vcpus = VM_DEFAULT_VCPUS;
	cfg->memory_size = VM_DEFAULT_MEMORY;
	cfg->memory_shared = true; /* a memfd; shared=off: anonymous + THP */
	cfg->serial.mode = CONSOLE_TTY;
	cfg->rng_src = strdup("/dev/urandom"); /* like Cloud Hypervisor: always there */
	cfg->console.mode = CONSOLE_OFF;
	cfg->api.fd = -1;
}

void vm_config_free(struct vm_config *cfg)
{
	free(cfg->kernel);
	free(cfg->initramfs);
	free(cfg->cmdline);
	free(cfg->rng_src);
	for (unsigned int i = 0; i < cfg->nr_disks; i++) {
		free(cfg->disks[i].path);
		free(cfg->disks[i].serial);
	}
	for (unsigned int i = 0; i < cfg->nr_nets; i++) {
		struct net_config *n = &cfg->nets[i];

		for (unsigned int j = 0; j < n->nr_hostfwd; j++)
			free(n->hostfwd[j]);
		free(n->tap);
		free(n->mac);
		free(n->ip);
		free(n->mask);
	}
	free(cfg->serial.path);
	free(cfg->console.path);
	free(cfg->vsock.socket);
	free(cfg->display.vnc);
	free(cfg->display.web);
	free(cfg->display.password_file);
	free(cfg->api.path);
	free(cfg->restore_source);
	free(cfg->log_file);
	memset(cfg, 0, sizeof(*cfg));
}

void disk_config_init(struct disk_config *d)
{
	memset(d, 0, sizeof(*d));
	d->num_queues = 1;
	d->queue_size = 128;
}

void net_config_init(struct net_config *n)
{
	memset(n, 0, sizeof(*n));
	n->fd = -1;
	n->num_queues = 2;
	n->queue_size = 256;
}

static bool queue_size_ok(unsigned int v)
{
	return v >= QUEUE_SIZE_MIN && v <= QUEUE_SIZE_MAX && !(v & (v - 1));
}

/* Say why in err (as every check below names it) and refuse. */
#define BAD(...) (errbuf_set(err, errlen, __VA_ARGS__), -EINVAL)

int config_check_cpus(unsigned int boot, const unsigned int *max, char *err, size_t errlen)
{
	if (boot < 1 || boot > CONFIG_MAX_VCPUS)
		return BAD("boot vCPUs must be 1 to %d, not %u", CONFIG_MAX_VCPUS, boot);
	/* Without hotplug, max only has to agree with boot. */
	if (max && (*max < 1 || *max > CONFIG_MAX_VCPUS))
		return BAD("max vCPUs must be 1 to %d, not %u", CONFIG_MAX_VCPUS, *max);
	if (max && *max < boot)
		return BAD("max vCPUs (%u) is below boot vCPUs (%u)", *max, boot);
	return 0;
}

int config_check_memory(uint64_t size, char *err, size_t errlen)
{
	if (size < VM_MIN_MEMORY && !(size & ((1u << 20) - 1)))
		return BAD("size %" PRIu64 "M is too little, the minimum is %lluM", size >> 20,
			   VM_MIN_MEMORY >> 20);
	if (size < VM_MIN_MEMORY)
		return BAD("size %" PRIu64 " bytes is too little, the minimum is %lluM", size,
			   VM_MIN_MEMORY >> 20);
	return 0;
}

int config_check_disk(const struct disk_config *d, char *err, size_t errlen)
{
	if (!d->path || !*d->path)
		return BAD("a path is required");
	if (d->num_queues < 1 || d->num_queues > DISK_MAX_QUEUES)
		return BAD("num_queues must be 1 to %d", DISK_MAX_QUEUES);
	if (!queue_size_ok(d->queue_size))
		return BAD("queue_size must be a power of two from %d to %d",
			   QUEUE_SIZE_MIN, QUEUE_SIZE_MAX);
	if (d->serial && strlen(d->serial) > DISK_SERIAL_MAX)
		return BAD("serial '%s' is longer than %d bytes", d->serial,
			   DISK_SERIAL_MAX);
	return 0;
}

static bool valid_mac(const char *s)
{
	unsigned int b[6];
	char tail;

	return s && strlen(s) == 17 &&
	       sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5],
		      &tail) == 6;
}

static int check_hostfwd(const char *rule, char *err, size_t errlen)
{
	if (!rule || (strncmp(rule, "tcp:", 4) && strncmp(rule, "udp:", 4)))
		return BAD("hostfwd '%s' must start with tcp: or udp: "
			   "(tcp:HOSTADDR:HOSTPORT-:GUESTPORT)", rule ? rule : "");
	return 0;
}

int config_check_net(const struct net_config *n, char *err, size_t errlen)
{
	int ret;

	/* None at all: a new tap, named by the kernel (Cloud Hypervisor's way). */
	if (n->user + (n->tap != NULL) + (n->fd >= 0) > 1)
		return BAD("give one back end: user, tap or fd");
	if (!n->user && (n->nr_hostfwd || n->restrict_))
		return BAD("hostfwd and restrict need user networking (user on)");
	if (n->nr_hostfwd > NET_MAX_HOSTFWD)
		return BAD("at most %d hostfwd rules", NET_MAX_HOSTFWD);
	for (unsigned int i = 0; i < n->nr_hostfwd; i++) {
		ret = check_hostfwd(n->hostfwd[i], err, errlen);
		if (ret)
			return ret;
	}
	if (n->fd > NET_MAX_FD)
		return BAD("fd must be a file descriptor number (0 to %d)", NET_MAX_FD);
	if (n->mac && !valid_mac(n->mac))
		return BAD("mac '%s' is not like 12:34:56:78:9a:bc", n->mac);
	if (n->num_queues < 2 || n->num_queues > NET_MAX_QUEUES || n->num_queues % 2)
		return BAD("num_queues must be an even number from 2 to %d",
			   NET_MAX_QUEUES);
	if (!queue_size_ok(n->queue_size))
		return BAD("queue_size must be a power of two from %d to %d",
			   QUEUE_SIZE_MIN, QUEUE_SIZE_MAX);
	return 0;
}

int config_check_vsock(const struct vsock_config *v, char *err, size_t errlen)
{
	if (v->cid < VSOCK_MIN_CID)
		return BAD("cid %" PRIu64 " is reserved (0 hypervisor, 1 local, 2 host): "
			   "give 3 or more", v->cid);
	if (v->cid > VSOCK_MAX_CID)
		return BAD("cid %" PRIu64 " is too big (at most %llu)", v->cid,
			   VSOCK_MAX_CID);
	if (!v->socket || !*v->socket)
		return BAD("a socket path is required (where host programs connect)");
	if (strlen(v->socket) > VSOCK_SOCKET_MAX)
		return BAD("socket path is longer than %d bytes", VSOCK_SOCKET_MAX);
	return 0;
}

int config_pair_consoles(struct vm_config *cfg, bool serial_given, char *err, size_t errlen)
{
	if (cfg->console.mode == CONSOLE_TTY && !serial_given)
		cfg->serial.mode = CONSOLE_NULL;
	if (cfg->console.mode == CONSOLE_TTY && cfg->serial.mode == CONSOLE_TTY)
		return BAD("the serial port and the console cannot share the terminal "
			   "(tty); give one of them another mode");
	return 0;
}

static const char *const display_device_names[] = {
	[DISPLAY_DEVICE_NONE] = "none",
	[DISPLAY_DEVICE_BOCHS] = "bochs",
	[DISPLAY_DEVICE_VIRTIO_GPU] = "virtio-gpu",
};

int display_device_parse(const char *name, enum display_device *out, char *why, size_t whylen)
{
	for (size_t i = 0; i < sizeof(display_device_names) / sizeof(display_device_names[0]); i++) {
		if (!strcmp(name, display_device_names[i])) {
			*out = (enum display_device)i;
			return 0;
		}
	}
	errbuf_set(why, whylen, "device must be bochs, virtio-gpu or none, not '%s'", name);
	return -EINVAL;
}

const char *display_device_name(enum display_device d)
{
	return (unsigned int)d < sizeof(display_device_names) / sizeof(display_device_names[0]) ?
		       display_device_names[d] : "?";
}

int display_resolution_parse(const char *s, struct display_config *d, char *why, size_t whylen)
{
	unsigned long w, h;
	char *end;

	errno = 0;
	w = strtoul(s, &end, 10);
	if (end == s || (*end != 'x' && *end != 'X') || !isdigit((unsigned char)end[1]))
		goto bad;
	h = strtoul(end + 1, &end, 10);
	if (*end || errno || w > UINT32_MAX || h > UINT32_MAX)
		goto bad;
	d->width = (uint32_t)w;
	d->height = (uint32_t)h;
	return 0;
bad:
	errbuf_set(why, whylen, "resolution '%s' is not WIDTHxHEIGHT (e.g. 1920x1080)", s);
	return -EINVAL;
}

int config_check_display(const struct display_config *d, char *err, size_t errlen)
{
	char host[256], port[8], why[160];
	uint32_t vram = display_vram_mib(d), w = display_width(d), h = display_height(d);

	if (vram < DISPLAY_DEFAULT_VRAM_MIB || vram > DISPLAY_MAX_VRAM_MIB || (vram & (vram - 1)))
		return BAD("vram %u MiB: give a power of two from %d to %d", vram,
			   DISPLAY_DEFAULT_VRAM_MIB, DISPLAY_MAX_VRAM_MIB);
	if (w < 640 || h < 480 || w > DISPLAY_MAX_MODE_WIDTH || h > DISPLAY_MAX_MODE_HEIGHT)
		return BAD("resolution %ux%u is not from 640x480 to %dx%d", w, h,
			   DISPLAY_MAX_MODE_WIDTH, DISPLAY_MAX_MODE_HEIGHT);
	/* What an EDID can say: a 60 Hz mode (CVT reduced blanking: 160 more
	 * pixels a line, 460 us of lines a frame, at least 19) whose pixel
	 * clock is at most 655.35 MHz (display/edid.c computes it exactly;
	 * this bound is a little stricter). */
	{
		uint64_t vblank = (uint64_t)h * 460 / 16206 + 2;

		if (60ull * (w + 160) * (h + (vblank > 19 ? vblank : 19)) > 655350000ull)
			return BAD("resolution %ux%u: at 60 Hz its pixel clock is past the "
				   "655 MHz an EDID can describe", w, h);
	}
	if (d->vram_mib && d->device != DISPLAY_DEVICE_BOCHS)
		return BAD("vram is bochs-display's (device=bochs); %s keeps its images in "
			   "host memory", display_device_name(d->device));
	if (d->device == DISPLAY_DEVICE_BOCHS && 2ull * w * h * 4 > (uint64_t)vram << 20)
		return BAD("resolution %ux%u needs %llu MiB of vram (two frames of 32 bits), "
			   "vram is %u MiB", w, h,
			   (unsigned long long)((2ull * w * h * 4 + (1 << 20) - 1) >> 20), vram);
	if (d->web && (!d->vnc || !strncmp(d->vnc, "unix:", 5)))
		return BAD("web needs a VNC server on TCP (vnc=HOST:PORT): the page connects to it");
	if (d->web && sock_split_hostport(d->web, host, sizeof(host), port, sizeof(port), why,
					  sizeof(why)) < 0)
		return BAD("web: %s (give HOST:PORT or :PORT)", why);
	if (d->password_file && !d->vnc)
		return BAD("password_file is the VNC server's: it needs vnc=");
	if (d->sdl && d->device == DISPLAY_DEVICE_NONE)
		return BAD("sdl needs a display device (device=bochs or virtio-gpu)");
	if (!d->vnc)
		return 0;
	if (d->device == DISPLAY_DEVICE_NONE)
		return BAD("vnc needs a display device (device=bochs or virtio-gpu)");
	if (!strncmp(d->vnc, "unix:", 5)) {
		if (!d->vnc[5] || strlen(d->vnc + 5) > VSOCK_SOCKET_MAX)
			return BAD("vnc=unix:PATH needs a path of 1 to %d bytes", VSOCK_SOCKET_MAX);
		return 0;
	}
	if (sock_split_hostport(d->vnc, host, sizeof(host), port, sizeof(port), why,
				sizeof(why)) < 0)
		return BAD("vnc: %s (give HOST:PORT, :PORT or unix:PATH)", why);
	return 0;
}
