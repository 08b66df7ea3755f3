/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The VM's configuration: what the user asked for, before anything exists.
 *
 * It mirrors Cloud Hypervisor's VmConfig (payload, cpus, memory, serial,
 * console) so that the command line today and the REST API later fill the
 * same struct. Every device reads only its own part of it (bhyve's rule).
 */
#ifndef PHYLLO_BASE_CONFIG_H
#define PHYLLO_BASE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Cloud Hypervisor's ConsoleOutputMode: Off, Null, Tty, File, Pty, Socket. */
enum console_mode {
	CONSOLE_OFF,    /* no device at all */
	CONSOLE_NULL,   /* device present, output discarded */
	CONSOLE_TTY,    /* our stdin/stdout */
	CONSOLE_FILE,   /* output appended to a file */
	CONSOLE_PTY,    /* a new pseudo-terminal, its path logged */
	CONSOLE_SOCKET, /* a Unix socket we listen on */
};

struct console_config {
	enum console_mode mode;
	char *path; /* FILE and SOCKET */
};

/* Cloud Hypervisor's DiskConfig, the parts we have. */
struct disk_config {
	char *path;
	bool readonly;
	bool direct;
	unsigned int num_queues;
	unsigned int queue_size;
	char *serial;
	int image_type; /* enum blk_format: auto, raw, qcow2 */
};

#define VM_MAX_DISKS 16

/* Cloud Hypervisor's NetConfig, plus user-mode networking (ours). */
#define NET_MAX_HOSTFWD 16
struct net_config {
	bool user;           /* user=on: libslirp, no root needed */
	bool restrict_;      /* restrict=on: no outbound connections */
	char *hostfwd[NET_MAX_HOSTFWD]; /* "tcp:HOSTADDR:HOSTPORT-:GUESTPORT" */
	unsigned int nr_hostfwd;
	char *tap;           /* tap=NAME */
	int fd;              /* fd=N: an open tap from a privileged helper, else -1 */
	char *mac;           /* mac=xx:xx:..., NULL: generated */
	char *ip, *mask;     /* host side of a tap */
	unsigned int num_queues;
	unsigned int queue_size;
};
#define VM_MAX_NETS 8
/* Cloud Hypervisor's VsockConfig: a vhost-vsock device. */
struct vsock_config {
	bool enabled;
	uint64_t cid;  /* the guest's context ID (>= 3) */
	char *socket;  /* host side: a Unix socket, CONNECT <port> protocol */
};

/* --api-socket path=PATH | fd=N: where the REST API listens. */
struct api_config {
	char *path; /* NULL: no API, unless fd >= 0 */
	int fd;     /* an inherited listening socket, else -1 */
};

#define VM_DEFAULT_VCPUS 1
#define VM_DEFAULT_MEMORY (512ull << 20)
#define VM_MIN_MEMORY (64ull << 20)

/* The display device (--display device=...; the API's "display"). */
enum display_device {
	DISPLAY_DEVICE_NONE, /* headless (the default) */
	DISPLAY_DEVICE_BOCHS, /* bochs-display: a linear framebuffer (src/display/bochs.c) */
	DISPLAY_DEVICE_VIRTIO_GPU, /* virtio-gpu 2D (src/virtio/gpu.c): follows the viewer */
};

struct display_config {
	enum display_device device;
	/* The VNC server (src/ui/vnc.c): "HOST:PORT" (port 0: any free one)
	 * or "unix:PATH"; NULL: none. */
	char *vnc;
	/* Where the web page (noVNC) is served, "HOST:PORT"; NULL: not. It
	 * connects to the VNC server's port, which must then be TCP. */
	char *web;
	/* VNC authentication for viewers and the web page: the first line of
	 * this file is the password (1 to 8 characters, RFB's DES key); NULL:
	 * none. Read when the server starts (ui/vnc.c: vnc_password_load). */
	char *password_file;
	/* A window on the user's desktop (src/ui/sdl.c). */
	bool sdl;
	/* The monitor's preferred mode (its EDID); 0: 1024x768. */
	uint32_t width, height;
	/* Framebuffer memory in MiB (a power of two); 0: 16. */
	uint32_t vram_mib;
};

#define DISPLAY_DEFAULT_WIDTH 1024
#define DISPLAY_DEFAULT_HEIGHT 768
#define DISPLAY_DEFAULT_VRAM_MIB 16
#define DISPLAY_MAX_VRAM_MIB 256
#define DISPLAY_MAX_MODE_WIDTH 4095 /* what an EDID can say */
#define DISPLAY_MAX_MODE_HEIGHT 4095

/* The values in effect (defaults for zeros). */
static inline uint32_t display_width(const struct display_config *d)
{
	return d->width ? d->width : DISPLAY_DEFAULT_WIDTH;
}
static inline uint32_t display_height(const struct display_config *d)
{
	return d->height ? d->height : DISPLAY_DEFAULT_HEIGHT;
}
static inline uint32_t display_vram_mib(const struct display_config *d)
{
	return d->vram_mib ? d->vram_mib : DISPLAY_DEFAULT_VRAM_MIB;
}
/* "WxH" into d->width/height; -EINVAL with why. */
int display_resolution_parse(const char *s, struct display_config *d, char *why, size_t whylen);

/* "none", "bochs", "virtio-gpu" <-> the enum; -EINVAL (with why) for another name. */
int display_device_parse(const char *name, enum display_device *out, char *why, size_t whylen);
const char *display_device_name(enum display_device d);
/* The display's rules, for both front ends: a VNC server needs a display
 * device, and its address must be HOST:PORT or unix:PATH; the preferred
 * mode is 640x480 to 4095x4095 and, on bochs-display, fits the
 * framebuffer memory twice over (what a driver needs to flip pages),
 * which is 16 to 256 MiB, a power of two (vram= is bochs-display's). */
int config_check_display(const struct display_config *d, char *err, size_t errlen);

struct vm_config {
	char *kernel;
	char *initramfs;
	char *cmdline;
	unsigned int boot_vcpus;
	uint64_t memory_size;
	bool memory_shared; /* memfd-backed RAM (default); off: anonymous + THP */
	struct disk_config disks[VM_MAX_DISKS];
	unsigned int nr_disks;
	struct net_config nets[VM_MAX_NETS];
	unsigned int nr_nets;
	char *rng_src; /* virtio-rng entropy source; NULL: no device */
	struct vsock_config vsock;
	struct console_config serial;
	struct console_config console;
	struct display_config display;
	/* Process settings, not part of the VM (not in the API's VmConfig). */
	struct api_config api;
	char *restore_source; /* --restore source_url=file:///DIR */
	char *log_file;
	int verbosity;
};

/* Defaults (base/config.c), and the release of everything cfg owns. */
void vm_config_init(struct vm_config *cfg);
void disk_config_init(struct disk_config *d);
void net_config_init(struct net_config *n);
void vm_config_free(struct vm_config *cfg);

/*
 * The rules both front ends (the command line and the REST API) apply, in
 * one place and with one text: each returns 0, or -EINVAL with a message
 * in err that names the field but not the front end, which puts its own
 * name of the culprit first ("--disk: ", "disks[0]: "). The front ends
 * only parse: values out of range reach these checks as they were given.
 */
#define CONFIG_MAX_VCPUS 65535
#define DISK_MAX_QUEUES 16
#define DISK_SERIAL_MAX 20 /* virtio-blk's ID string */
#define NET_MAX_QUEUES 16  /* queue pairs x 2 */
#define QUEUE_SIZE_MIN 2
#define QUEUE_SIZE_MAX 1024
#define NET_MAX_FD 65535
#define VSOCK_MIN_CID 3 /* 0 hypervisor, 1 local, 2 host */
#define VSOCK_MAX_CID 0xfffffffeull /* -1U is VMADDR_CID_ANY */
/* Room for "_<port>" after it in a sockaddr_un (guest-initiated
 * connections go to PATH_PORT). */
#define VSOCK_SOCKET_MAX 96

/* Boot vCPUs and max vCPUs (NULL: not given); the memory size. */
int config_check_cpus(unsigned int boot, const unsigned int *max, char *err, size_t errlen);
int config_check_memory(uint64_t size, char *err, size_t errlen);
int config_check_disk(const struct disk_config *d, char *err, size_t errlen);
int config_check_net(const struct net_config *n, char *err, size_t errlen);
int config_check_vsock(const struct vsock_config *v, char *err, size_t errlen);
/*
 * The serial port and the console together: Cloud Hypervisor's default
 * pairing (a tty console silences a serial port not given) is applied
 * here, then both on the terminal is refused.
 */
int config_pair_consoles(struct vm_config *cfg, bool serial_given, char *err, size_t errlen);

#endif
