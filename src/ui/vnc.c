// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The VNC server (vnc.h), on libvncserver: it speaks RFB 3.3 to 3.8 with
 * the usual encodings (raw, copyrect, RRE, hextile, zlib, tight, ZRLE),
 * the desktop-size pseudo-encodings for mode changes (and, extended, for
 * a viewer's request to resize: display_resize), and detects a
 * WebSocket handshake on the same port, which is how noVNC connects, and
 * serves our noVNC page (web/) with its small web server (--display web=). What
 * we write is the glue: our own listening socket (TCP through
 * base/sock.c, or a Unix socket libvncserver cannot bind), and the
 * refresh that turns the display's dirty rows into modified rectangles.
 *
 * One thread does everything VNC: it waits up to REFRESH_MS in
 * rfbProcessEvents (accepting clients, reading their messages, sending
 * the updates they asked for), then, if anyone is connected, asks the
 * display for what changed (display_update: KVM's dirty log, so a still
 * screen costs one ioctl; ui/screen.c shares it with the other front
 * ends) and marks those rows. With nobody connected it only waits; the
 * dirty log keeps what changed meanwhile. libvncserver
 * writes to a client with a bounded wait (rfbMaxClientWait), so a stuck
 * client delays only this thread, never a vCPU or the event loop.
 *
 * Keys come as keysyms, turned into key codes by ui/keymap.c and given
 * to the input hub (dev/input.h), which hands them to the guest's
 * keyboard; a client that leaves releases what it held. Pointer events go
 * to the input hub's pointer (the virtio tablet) scaled to its range.
 *
 * libvncserver sends from a copy of the frame in its default pixel format
 * (copy_rows), which never changes, whatever the guest's mode.
 *
 * With a password (password_file=), every viewer must pass RFB's VNC
 * authentication (libvncserver's DES challenge; 8 characters at most, as
 * the protocol has it): a weak scheme, so the address stays local by
 * default and a tunnel is the way to reach it from elsewhere.
 */
#include "ui/vnc.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <rfb/rfb.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/log.h"
#include "base/sock.h"
#include "ui/keymap.h"
#include "ui/sendkeys.h"

#define REFRESH_MS 33 /* ~30 updates a second at most */
#define BLANK_WIDTH 640 /* what clients see before the guest sets a mode */
#define BLANK_HEIGHT 480

struct vnc {
	struct display *display;
	struct ui_screen own_ui, *ui; /* screen.h: what changed */
	struct ui_view view;
	struct input *input; /* NULL: clients' keys go nowhere */
	struct sendkeys *typist;
	char web_url[200];
	char *web_dir;
	int last_mask;       /* the pointer's buttons, as the clients last sent them */
	rfbScreenInfoPtr screen;
	struct display_frame frame; /* what the display gave, XRGB8888 */
	uint32_t *fb;               /* screen->frameBuffer: the same, red at bit 0 */
	uint8_t rows[DISPLAY_MAX_HEIGHT];
	pthread_t thread;
	atomic_bool stop;
	char address[160];
	char *unix_path; /* to remove at the end */
	char password[VNC_PASSWORD_MAX + 1];
	char *passwords[2]; /* libvncserver's list: password, NULL */
};

__attribute__((format(printf, 1, 2))) static void vnc_log(const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	size_t n;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	n = strlen(buf);
	if (n && buf[n - 1] == '\n')
		buf[n - 1] = 0;
	pr_debug("vnc: %s", buf);
}

/*
 * libvncserver sends from a framebuffer in its own default format (red at
 * bit 0), which rfbNewFramebuffer() keeps: a mode change then never
 * changes the server's pixel format under connected clients. Our frames
 * have red at bit 16: changed rows are copied over with red and blue
 * swapped.
 */
static void copy_rows(struct vnc *v, uint32_t y, uint32_t end)
{
	for (; y < end; y++) {
		const uint32_t *src = v->frame.pixels + (size_t)y * v->frame.width;
		uint32_t *dst = v->fb + (size_t)y * v->frame.width;

		for (uint32_t x = 0; x < v->frame.width; x++) {
			uint32_t p = src[x];

			dst[x] = (p >> 16 & 0xff) | (p & 0xff00) | (p & 0xff) << 16;
		}
	}
}

static void refresh(struct vnc *v)
{
	int n = ui_view_update(&v->view, &v->frame, v->rows);

	if (n <= 0)
		return; /* nothing new, or nothing shown: keep the last picture */
	if ((int)v->frame.width != v->screen->width || (int)v->frame.height != v->screen->height) {
		uint32_t *fb = malloc((size_t)v->frame.width * v->frame.height * 4);

		if (!fb)
			return; /* the old picture stays; the next change tries again */
		/* A new mode: every client gets the new size (or a full update). */
		free(v->fb);
		v->fb = fb;
		copy_rows(v, 0, v->frame.height);
		rfbNewFramebuffer(v->screen, (char *)v->fb, (int)v->frame.width,
				  (int)v->frame.height, 8, 3, 4);
		return;
	}
	for (uint32_t y = 0; y < v->frame.height;) {
		uint32_t end;

		if (!v->rows[y]) {
			y++;
			continue;
		}
		for (end = y + 1; end < v->frame.height && v->rows[end]; end++)
			;
		copy_rows(v, y, end);
		rfbMarkRectAsModified(v->screen, 0, (int)y, (int)v->frame.width, (int)end);
		y = end;
	}
}

/*
 * libvncserver 0.9.14 (Debian 12's) forgets a WebSocket client's context
 * when it goes (fixed upstream by freeing it after this hook runs, so
 * freeing it here is right for both).
 */
static void client_gone(rfbClientPtr cl)
{
	struct vnc *v = cl->screen->screenData;

	pr_info("vnc: client %s left", cl->host ? cl->host : "?");
	/* A client that left with a key held must not leave it held. */
	if (v->input)
		input_release_all(v->input);
#ifdef LIBVNCSERVER_WITH_WEBSOCKETS
	free(cl->wsctx);
	cl->wsctx = NULL;
#endif
}

/* Keys arrive as keysyms (what the client's layout made of them). */
static void key_event(rfbBool down, rfbKeySym sym, rfbClientPtr cl)
{
	struct vnc *v = cl->screen->screenData;
	unsigned int code = keymap_from_keysym((uint32_t)sym);

	if (!code) {
		pr_debug("vnc: keysym 0x%x has no key", (unsigned int)sym);
		return;
	}
	if (v->input)
		input_key(v->input, code, down);
}

/*
 * RFB's pointer: a position on the framebuffer and a button mask (1 left,
 * 2 middle, 4 right; 8 and 16 wheel up and down, 32 and 64 left and
 * right, each press one click). The tablet's range spans the screen.
 */
static void pointer_event(int mask, int x, int y, rfbClientPtr cl)
{
	struct vnc *v = cl->screen->screenData;
	int w = cl->screen->width, h = cl->screen->height;
	int pressed = mask & ~v->last_mask;
	uint32_t buttons = (mask & 1 ? INPUT_BTN_LEFT : 0) | (mask & 2 ? INPUT_BTN_MIDDLE : 0) |
			   (mask & 4 ? INPUT_BTN_RIGHT : 0);
	int wheel = (pressed & 8 ? 1 : 0) - (pressed & 16 ? 1 : 0);
	int hwheel = (pressed & 64 ? 1 : 0) - (pressed & 32 ? 1 : 0);

	v->last_mask = mask;
	if (!v->input)
		return;
	input_pointer(v->input, input_scale_abs(x, w), input_scale_abs(y, h), buttons, wheel, hwheel);
}

/* A viewer's clipboard (noVNC's "Type"): typed on the guest's keyboard. */
static void cut_text(char *text, int len, rfbClientPtr cl)
{
	struct vnc *v = cl->screen->screenData;
	char why[160], *typable;

	if (!v->typist || len <= 0)
		return;
	typable = sendkeys_typable(text, (size_t)len);
	if (typable && *typable && sendkeys_queue(v->typist, NULL, 0, typable, why, sizeof(why)) < 0)
		pr_warn("vnc: the clipboard's text is not typed: %s", why);
	free(typable);
}

/*
 * Lossless, as QEMU is by default: a client's JPEG quality levels are
 * ignored (tight then sends palettes, fills and zlib), so what a viewer
 * shows is what the guest drew, text stays sharp and captures compare.
 * Called before every update libvncserver sends.
 */
static void before_update(rfbClientPtr cl)
{
	cl->tightQualityLevel = -1;
	cl->turboQualityLevel = -1;
}

/*
 * A viewer asks for another size (ExtendedDesktopSize's SetDesktopSize:
 * noVNC's "remote resizing", a window resized): the display device offers
 * it to the guest, and the new size reaches the viewers when the guest
 * changes its mode (refresh: rfbNewFramebuffer). Only the whole size
 * counts; one screen is all we have.
 */
static int set_desktop_size(int width, int height, int nscreens,
			    struct rfbExtDesktopScreen *screens, rfbClientPtr cl)
{
	struct vnc *v = cl->screen->screenData;
	int ret;

	(void)nscreens;
	(void)screens;
	if (width <= 0 || height <= 0)
		return rfbExtDesktopSize_InvalidScreenLayout;
	ret = display_resize(v->display, (uint32_t)width, (uint32_t)height);
	if (ret < 0)
		pr_info("vnc: a client asked for %dx%d: %s", width, height,
			ret == -ENOTSUP ? "this display device cannot change size" : strerror(-ret));
	return ret == 0 ? rfbExtDesktopSize_Success :
	       ret == -EINVAL ? rfbExtDesktopSize_InvalidScreenLayout :
				rfbExtDesktopSize_ResizeProhibited;
}

static enum rfbNewClientAction new_client(rfbClientPtr cl)
{
	pr_info("vnc: client %s connected", cl->host ? cl->host : "?");
	cl->clientGoneHook = client_gone;
	return RFB_CLIENT_ACCEPT;
}

static void *vnc_thread(void *opaque)
{
	struct vnc *v = opaque;

	while (!atomic_load(&v->stop)) {
		rfbProcessEvents(v->screen, REFRESH_MS * 1000);
		if (v->screen->clientHead)
			refresh(v);
	}
	return NULL;
}

static int listen_on(struct vnc *v, const char *addr, char *err, size_t errlen)
{
	if (!strncmp(addr, "unix:", 5)) {
		int fd = sock_listen_unix(addr + 5, "VNC socket", err, errlen);

		if (fd < 0)
			return fd;
		v->unix_path = strdup(addr + 5);
		if (!v->unix_path) {
			close(fd);
			unlink(addr + 5);
			return -ENOMEM;
		}
		snprintf(v->address, sizeof(v->address), "%s", addr);
		return fd;
	}
	return sock_listen_tcp(addr, "VNC address", v->address, sizeof(v->address), err, errlen);
}

/* The port of a bound "HOST:PORT" (what the page's $PORT becomes). */
static int bound_port(const char *address)
{
	const char *colon = strrchr(address, ':');

	return colon ? atoi(colon + 1) : 0;
}

/*
 * The web page: libvncserver's small web server (one request at a time,
 * HTTP/1.0, files of web_dir only, ".." refused) on our own socket; "/"
 * is index.vnc with $PORT made the VNC port.
 */
static int start_web(struct vnc *v, const struct vnc_opts *o, char *err, size_t errlen)
{
	char bound[160];
	int fd;

	if (!o->web_dir || access(o->web_dir, R_OK | X_OK) < 0) {
		errbuf_set(err, errlen, "web: the page's files are not in '%s' (make builds them "
			   "into build/web; PHYLLO_WEB_DIR names another folder)",
			   o->web_dir ? o->web_dir : "(none)");
		return -ENOENT;
	}
	v->web_dir = strdup(o->web_dir);
	if (!v->web_dir)
		return -ENOMEM;
	fd = sock_listen_tcp(o->web, "web address", bound, sizeof(bound), err, errlen);
	if (fd < 0)
		return fd;
	v->screen->httpDir = v->web_dir;
	v->screen->httpInitDone = TRUE; /* no socket of its own: ours */
	v->screen->httpListenSock = fd;
	/* libvncserver 0.9.14 tests its IPv6 web socket with FD_ISSET even
	 * when it has none (-1), which glibc's fortified FD_ISSET aborts on:
	 * give it the same socket again, a second descriptor of its own. */
	v->screen->httpListen6Sock = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (v->screen->httpListen6Sock < 0) {
		int ret = -errno;

		close(fd);
		v->screen->httpListenSock = RFB_INVALID_SOCKET;
		errbuf_set(err, errlen, "web: %s", strerror(-ret));
		return ret;
	}
	v->screen->httpPort = bound_port(bound);
	v->screen->port = bound_port(v->address);
	snprintf(v->web_url, sizeof(v->web_url), "http://%s/", bound);
	return 0;
}

/* What vnc_start() made besides the server: the Unix socket's file too. */
static void vnc_free(struct vnc *v)
{
	ui_view_remove(&v->view);
	if (v->ui == &v->own_ui)
		ui_screen_free(&v->own_ui);
	if (v->unix_path)
		unlink(v->unix_path);
	free(v->unix_path);
	free(v->web_dir);
	free(v->fb);
	display_frame_free(&v->frame);
	explicit_bzero(v->password, sizeof(v->password));
	free(v);
}

int vnc_password_load(const char *path, char *out, char *err, size_t errlen)
{
	char line[VNC_PASSWORD_MAX + 3];
	struct stat st;
	size_t n;
	FILE *f = fopen(path, "re");
	int ret = 0;

	if (!f) {
		ret = -errno;
		errbuf_set(err, errlen, "password_file %s: %s", path, strerror(-ret));
		return ret;
	}
	if (fstat(fileno(f), &st) == 0 && (st.st_mode & 0077))
		pr_warn("vnc: password_file %s can be read by other users (mode %03o)", path,
			(unsigned int)(st.st_mode & 0777));
	if (!fgets(line, sizeof(line), f)) {
		errbuf_set(err, errlen, "password_file %s: empty (the password is its first line)",
			   path);
		ret = -EINVAL;
		goto out;
	}
	n = strcspn(line, "\r\n");
	if (n > VNC_PASSWORD_MAX) {
		errbuf_set(err, errlen, "password_file %s: the password is longer than %d "
			   "characters (VNC authentication's limit)", path, VNC_PASSWORD_MAX);
		ret = -EINVAL;
	} else if (n == 0) {
		errbuf_set(err, errlen, "password_file %s: the first line is empty", path);
		ret = -EINVAL;
	} else {
		memcpy(out, line, n);
		out[n] = 0;
	}
out:
	explicit_bzero(line, sizeof(line));
	fclose(f);
	return ret;
}

int vnc_start(struct vnc **out, struct display *d, const struct vnc_opts *o, char *err,
	      size_t errlen)
{
	struct vnc *v = calloc(1, sizeof(*v));
	const char *addr = o->addr;
	int fd, ret;

	if (!v)
		return -ENOMEM;
	v->display = d;
	v->ui = o->screen;
	if (!v->ui) {
		ui_screen_init(&v->own_ui, d);
		v->ui = &v->own_ui;
	}
	if (ui_view_add(v->ui, &v->view) < 0) {
		errbuf_set(err, errlen, "VNC: the screen has %d viewers already", UI_MAX_VIEWS);
		ret = -ENOSPC;
		goto fail;
	}
	v->input = o->input;
	v->typist = o->typist;
	rfbLog = vnc_log;
	rfbErr = vnc_log;
	v->fb = calloc((size_t)BLANK_WIDTH * BLANK_HEIGHT, 4);
	if (!v->fb) {
		ret = -ENOMEM;
		goto fail;
	}
	fd = listen_on(v, addr, err, errlen);
	if (fd < 0) {
		ret = fd;
		goto fail;
	}
	v->screen = rfbGetScreen(NULL, NULL, BLANK_WIDTH, BLANK_HEIGHT, 8, 3, 4);
	if (!v->screen) {
		close(fd);
		ret = -ENOMEM;
		goto fail;
	}
	v->screen->frameBuffer = (char *)v->fb;
	v->screen->desktopName = "phyllo-vmm";
	v->screen->alwaysShared = TRUE; /* several viewers at once, as QEMU's */
	/* No cursor of libvncserver's drawn over the picture: the guest draws
	 * its own (clients that take cursor shapes get an empty one). */
	v->screen->cursor = NULL;
	v->screen->newClientHook = new_client;
	v->screen->kbdAddEvent = key_event;
	v->screen->ptrAddEvent = pointer_event;
	v->screen->setXCutText = cut_text;
	v->screen->displayHook = before_update;
	v->screen->setDesktopSizeHook = set_desktop_size;
	v->screen->screenData = v;
	if (o->password) {
		/* RFB's VNC authentication (security type 2), for every viewer. */
		snprintf(v->password, sizeof(v->password), "%s", o->password);
		v->passwords[0] = v->password;
		v->screen->authPasswdData = v->passwords;
		v->screen->passwordCheck = rfbCheckPasswordByList;
	}
	v->screen->port = 0;            /* we listen ourselves: */
	v->screen->ipv6port = 0;
	v->screen->httpPort = 0;
	rfbInitServer(v->screen);
	v->screen->listenSock = fd;
	FD_SET(fd, &v->screen->allFds);
	if (fd > v->screen->maxFd)
		v->screen->maxFd = fd;
	if (o->web && (ret = start_web(v, o, err, errlen)) < 0) {
		rfbShutdownServer(v->screen, TRUE);
		rfbScreenCleanup(v->screen);
		goto fail;
	}
	ret = -pthread_create(&v->thread, NULL, vnc_thread, v);
	if (ret < 0) {
		errbuf_set(err, errlen, "VNC: cannot start its thread: %s", strerror(-ret));
		rfbShutdownServer(v->screen, TRUE);
		rfbScreenCleanup(v->screen);
		goto fail;
	}
	pr_info("vnc: listening on %s", v->address);
	if (v->web_url[0])
		pr_info("vnc: web page at %s", v->web_url);
	*out = v;
	return 0;
fail:
	vnc_free(v);
	return ret;
}

const char *vnc_address(const struct vnc *v)
{
	return v->address;
}

const char *vnc_web_url(const struct vnc *v)
{
	return v->web_url[0] ? v->web_url : NULL;
}

void vnc_stop(struct vnc *v)
{
	if (!v)
		return;
	atomic_store(&v->stop, true);
	pthread_join(v->thread, NULL);
	rfbShutdownServer(v->screen, TRUE); /* closes the clients and our socket */
	rfbScreenCleanup(v->screen);
	vnc_free(v);
}
