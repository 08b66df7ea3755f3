// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * phyllo-draw: draws the known test pattern on the guest's screen for the
 * display end-to-end tests, which compare the host's capture with it pixel
 * for pixel: pixel (x, y) = R x & 0xff, G y & 0xff, B (3x + 5y) & 0xff.
 *
 * Why KMS and not /dev/fb0: the fbdev emulation of DRM drivers draws into
 * a shadow buffer and copies it out from a worker, later and on its own
 * schedule, so a test could not tell "not copied yet" from "lost". A dumb
 * buffer set on the CRTC is the scanout itself (bochs-drm pins it in
 * VRAM; drivers that need a flush, as virtio-gpu, get DIRTYFB), which is
 * what an X server or a Wayland compositor does. Only the kernel's uapi
 * headers (libdrm-dev's copy), no libdrm: the guest has no libc.
 *
 * Prints "PHYLLO DRAW <w>x<h> <driver>" and "PHYLLO DRAW-DONE", then keeps
 * the device open (closing it gives the screen back to fbcon). When the
 * monitor changes (a DRM hotplug uevent: virtio-gpu's display event, a
 * viewer that asked for another size), it sets the connector's new
 * preferred mode and draws the pattern again, saying so the same way.
 */
#include <drm.h>
#include <drm_mode.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <linux/netlink.h>
#include <time.h>
#include <unistd.h>

static int xioctl(int fd, unsigned long req, void *arg, const char *what)
{
	while (ioctl(fd, req, arg) < 0) {
		if (errno == EINTR || errno == EAGAIN)
			continue;
		fprintf(stderr, "phyllo-draw: %s: %s\n", what, strerror(errno));
		return -1;
	}
	return 0;
}

/* The first connected connector, its preferred mode and a CRTC for it. */
static int pick_output(int fd, uint32_t *conn_id, uint32_t *crtc_id, struct drm_mode_modeinfo *mode)
{
	struct drm_mode_card_res res = { 0 };
	uint32_t conns[16], crtcs[16], encs[16];

	if (xioctl(fd, DRM_IOCTL_MODE_GETRESOURCES, &res, "GETRESOURCES"))
		return -1;
	if (res.count_connectors > 16 || res.count_crtcs > 16 || res.count_encoders > 16 || !res.count_crtcs)
		return fprintf(stderr, "phyllo-draw: odd resources\n"), -1;
	res.connector_id_ptr = (uintptr_t)conns;
	res.crtc_id_ptr = (uintptr_t)crtcs;
	res.encoder_id_ptr = (uintptr_t)encs;
	res.count_fbs = 0;
	if (xioctl(fd, DRM_IOCTL_MODE_GETRESOURCES, &res, "GETRESOURCES"))
		return -1;
	for (uint32_t i = 0; i < res.count_connectors; i++) {
		struct drm_mode_get_connector c = { .connector_id = conns[i] };
		struct drm_mode_modeinfo modes[64];
		struct drm_mode_get_encoder e = { 0 };

		if (xioctl(fd, DRM_IOCTL_MODE_GETCONNECTOR, &c, "GETCONNECTOR"))
			return -1;
		if (c.connection != 1 || !c.count_modes)
			continue;
		if (c.count_modes > 64)
			c.count_modes = 64;
		c.modes_ptr = (uintptr_t)modes;
		c.count_props = c.count_encoders = 0;
		if (xioctl(fd, DRM_IOCTL_MODE_GETCONNECTOR, &c, "GETCONNECTOR"))
			return -1;
		*mode = modes[0];
		for (uint32_t m = 0; m < c.count_modes && m < 64; m++)
			if (modes[m].type & DRM_MODE_TYPE_PREFERRED) {
				*mode = modes[m];
				break;
			}
		*conn_id = conns[i];
		*crtc_id = crtcs[0];
		e.encoder_id = c.encoder_id;
		if (e.encoder_id && !ioctl(fd, DRM_IOCTL_MODE_GETENCODER, &e) && e.crtc_id)
			*crtc_id = e.crtc_id;
		return 0;
	}
	return fprintf(stderr, "phyllo-draw: no connected output\n"), -1;
}

/* The buffer on the screen, for --serve's frames. */
static struct {
	uint8_t *px;
	uint32_t width, height, pitch, fb_id;
	int fd;
} cur;

/* What a frame's writes need to reach the screen (virtio-gpu's copy). */
static void flush_fb(void)
{
	struct drm_mode_fb_dirty_cmd dirty = { .fb_id = cur.fb_id };

	if (ioctl(cur.fd, DRM_IOCTL_MODE_DIRTYFB, &dirty) < 0 && errno != ENOSYS && errno != EINVAL)
		perror("phyllo-draw: DIRTYFB");
}

/* One mode on the output: a new dumb buffer with the pattern, on the CRTC. */
static int draw(int fd, uint32_t conn_id, uint32_t crtc_id, const struct drm_mode_modeinfo *mode,
		const char *driver)
{
	struct drm_mode_create_dumb dumb = { 0 };
	struct drm_mode_fb_cmd fb = { 0 };
	struct drm_mode_map_dumb map = { 0 };
	struct drm_mode_crtc crtc = { 0 };
	uint8_t *px;

	dumb.width = mode->hdisplay;
	dumb.height = mode->vdisplay;
	dumb.bpp = 32;
	if (xioctl(fd, DRM_IOCTL_MODE_CREATE_DUMB, &dumb, "CREATE_DUMB"))
		return -1;
	fb.width = dumb.width;
	fb.height = dumb.height;
	fb.pitch = dumb.pitch;
	fb.bpp = 32;
	fb.depth = 24;
	fb.handle = dumb.handle;
	if (xioctl(fd, DRM_IOCTL_MODE_ADDFB, &fb, "ADDFB"))
		return -1;
	crtc.crtc_id = crtc_id;
	crtc.fb_id = fb.fb_id;
	crtc.set_connectors_ptr = (uintptr_t)&conn_id;
	crtc.count_connectors = 1;
	crtc.mode = *mode;
	crtc.mode_valid = 1;
	if (xioctl(fd, DRM_IOCTL_MODE_SETCRTC, &crtc, "SETCRTC"))
		return -1;
	map.handle = dumb.handle;
	if (xioctl(fd, DRM_IOCTL_MODE_MAP_DUMB, &map, "MAP_DUMB"))
		return -1;
	px = mmap(NULL, dumb.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)map.offset);
	if (px == MAP_FAILED) {
		perror("phyllo-draw: mmap");
		return -1;
	}
	for (uint32_t y = 0; y < dumb.height; y++) {
		uint32_t *row = (uint32_t *)(px + (size_t)y * dumb.pitch);

		for (uint32_t x = 0; x < dumb.width; x++)
			row[x] = (x & 0xff) << 16 | (y & 0xff) << 8 | ((3 * x + 5 * y) & 0xff);
	}
	/* Drivers that scan out from guest RAM (virtio-gpu) copy on this; the
	 * ones whose dumb buffer is the scanout (bochs-drm) do not have it. */
	cur.px = px;
	cur.width = dumb.width;
	cur.height = dumb.height;
	cur.pitch = dumb.pitch;
	cur.fb_id = fb.fb_id;
	cur.fd = fd;
	flush_fb();
	printf("PHYLLO DRAW %ux%u %s\n", dumb.width, dumb.height, driver);
	printf("PHYLLO DRAW-DONE\n");
	fflush(stdout);
	return 0; /* the old buffer stays allocated: a test program's few MB */
}

/* The kernel's uevents (no udev here): a DRM hotplug says the monitor changed. */
static int uevents(void)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = 1 };
	int s = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_KOBJECT_UEVENT);

	if (s >= 0 && bind(s, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(s);
		s = -1;
	}
	if (s < 0)
		perror("phyllo-draw: uevent socket");
	return s;
}

static int is_hotplug(const char *msg, ssize_t n)
{
	for (ssize_t i = 0; i < n; i += (ssize_t)strlen(msg + i) + 1)
		if (!strcmp(msg + i, "HOTPLUG=1"))
			return 1;
	return 0;
}

/* Fill the screen with one colour (frame n) or a moving picture. */
static void fill(uint32_t colour)
{
	for (uint32_t y = 0; y < cur.height; y++) {
		uint32_t *row = (uint32_t *)(cur.px + (size_t)y * cur.pitch);

		for (uint32_t x = 0; x < cur.width; x++)
			row[x] = colour;
	}
	flush_fb();
}

static void moving(uint32_t f)
{
	for (uint32_t y = 0; y < cur.height; y++) {
		uint32_t *row = (uint32_t *)(cur.px + (size_t)y * cur.pitch);

		for (uint32_t x = 0; x < cur.width; x++)
			row[x] = ((x + 4 * f) & 0xff) << 16 | ((y + f) & 0xff) << 8 | (f & 0xff);
	}
	flush_fb();
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * --serve (bench/display): commands on stdin, one a line, each answered on
 * stdout: "frame N" fills the screen with colour N (bench_colour in
 * bench/display/vnc_probe.c) and says "PHYLLO FRAME N"; "anim S" redraws
 * the whole screen with a moving picture as fast as it can, at most 30
 * times a second, for S seconds, and says "PHYLLO ANIM-DONE <frames>".
 */
static void serve(void)
{
	char line[64];

	while (fgets(line, sizeof(line), stdin)) {
		unsigned int n;

		if (sscanf(line, "frame %u", &n) == 1) {
			fill(((n * 53u) & 0xff) << 16 | ((n * 97u) & 0xff) << 8 | ((n * 29u + 1) & 0xff));
			printf("PHYLLO FRAME %u\n", n);
		} else if (sscanf(line, "anim %u", &n) == 1) {
			double t0 = now(), next = t0;
			uint32_t f = 0;

			while (now() - t0 < n) {
				moving(f++);
				next += 1.0 / 30;
				if (next > now())
					usleep((useconds_t)((next - now()) * 1e6));
			}
			printf("PHYLLO ANIM-DONE %u\n", f);
		}
		fflush(stdout);
	}
}

int main(int argc, char **argv)
{
	char driver[32] = "";
	struct drm_version ver = { .name = driver, .name_len = sizeof(driver) - 1 };
	struct drm_mode_modeinfo mode, now;
	uint32_t conn_id, crtc_id;
	int fd = -1, ue;

	for (int i = 0; i < 100 && fd < 0; i++) {
		fd = open("/dev/dri/card0", O_RDWR | O_CLOEXEC);
		if (fd < 0)
			usleep(100000);
	}
	if (fd < 0) {
		perror("phyllo-draw: /dev/dri/card0");
		return 1;
	}
	xioctl(fd, DRM_IOCTL_VERSION, &ver, "VERSION");
	ue = uevents();
	if (pick_output(fd, &conn_id, &crtc_id, &mode) || draw(fd, conn_id, crtc_id, &mode, driver))
		return 1;
	if (argc > 1 && !strcmp(argv[1], "--serve")) {
		serve();
		return 0;
	}
	/*
	 * As a desktop does: when the monitor changes (a virtio-gpu viewer
	 * asked for another size: a hotplug event), take its new preferred
	 * mode and draw the pattern again at that size.
	 */
	for (;;) {
		char msg[4096];
		ssize_t n = ue >= 0 ? recv(ue, msg, sizeof(msg) - 1, 0) : -1;

		if (n < 0) {
			if (ue < 0 || errno != EINTR)
				pause();
			continue;
		}
		msg[n] = 0;
		if (!is_hotplug(msg, n) || pick_output(fd, &conn_id, &crtc_id, &now))
			continue;
		if (now.hdisplay == mode.hdisplay && now.vdisplay == mode.vdisplay)
			continue;
		mode = now;
		draw(fd, conn_id, crtc_id, &mode, driver);
	}
}
