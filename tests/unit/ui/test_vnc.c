// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The VNC server (src/ui/vnc.c) against libvncclient, a real RFB client:
 * a fake display source shows a pattern; the client's framebuffer must
 * become that pattern, follow a change of only some rows, follow a mode
 * change through the desktop-size extension, and the server must also
 * listen on a Unix socket, answer a WebSocket handshake (noVNC) on its
 * TCP port, refuse bad addresses with their name, and stop cleanly with
 * a client connected.
 */
#include <errno.h>
#include <netdb.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <linux/input-event-codes.h>
#include <rfb/rfbclient.h>

#include "dev/display.h"
#include "dev/input.h"
#include "base/loop.h"
#include "ui/sendkeys.h"
#include "ui/vnc.h"

/* The fake source: a w x h picture, pixel (x, y) = seed + 3x + 5y, plus
 * 0x10000 on row bump. */
struct fake {
	pthread_mutex_t lock;
	uint32_t w, h, seed, bump;
	uint32_t dirty_row, dirty_row2; /* UINT32_MAX: all rows changed */
	int updates;
};

static uint32_t fake_px(const struct fake *k, uint32_t x, uint32_t y)
{
	return (k->seed + 3 * x + 5 * y + (y == k->bump ? 0x10000 : 0)) & 0xffffff;
}

static int fake_read(void *opaque, struct display_frame *f)
{
	struct fake *k = opaque;

	if (display_frame_resize(f, k->w, k->h) < 0)
		return -ENOMEM;
	for (uint32_t y = 0; y < k->h; y++)
		for (uint32_t x = 0; x < k->w; x++)
			f->pixels[y * k->w + x] = fake_px(k, x, y);
	return 0;
}

static int fake_update(void *opaque, struct display_frame *f, uint8_t *rows)
{
	struct fake *k = opaque;
	int n = 0;

	pthread_mutex_lock(&k->lock);
	k->updates++;
	if (f->width != k->w || f->height != k->h)
		k->dirty_row = UINT32_MAX;
	if (k->dirty_row == UINT32_MAX - 1) {
		pthread_mutex_unlock(&k->lock);
		return 0; /* still */
	}
	if (display_frame_resize(f, k->w, k->h) < 0) {
		pthread_mutex_unlock(&k->lock);
		return -ENOMEM;
	}
	for (uint32_t y = 0; y < k->h; y++) {
		rows[y] = k->dirty_row == UINT32_MAX || k->dirty_row == y || k->dirty_row2 == y;
		if (!rows[y])
			continue;
		for (uint32_t x = 0; x < k->w; x++)
			f->pixels[y * k->w + x] = fake_px(k, x, y);
		n++;
	}
	k->dirty_row = UINT32_MAX - 1;
	pthread_mutex_unlock(&k->lock);
	return n;
}

/* The server on addr, with keys and pointer to in (NULL: nowhere). */
static int vnc_at(struct vnc **v, struct display *d, struct input *in, const char *addr,
		  char *err)
{
	struct vnc_opts o = { .addr = addr, .input = in };

	return vnc_start(v, d, &o, err, 256);
}

static const struct display_source_ops fake_ops = { .read_frame = fake_read, .update = fake_update };

static void quiet(const char *fmt, ...)
{
	(void)fmt;
}

/* A libvncclient client for the server at addr ("HOST:PORT"), not connected yet. */
static rfbClient *client_for(const char *addr)
{
	rfbClient *c = rfbGetClient(8, 3, 4);
	const char *colon = strrchr(addr, ':');

	assert_non_null(c);
	assert_non_null(colon);
	free(c->serverHost);
	c->serverHost = strndup(addr, (size_t)(colon - addr));
	c->serverPort = atoi(colon + 1);
	return c;
}

/* A file at path holding text (the web page's, the password's). */
static void put_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_true(fputs(text, f) >= 0);
	assert_int_equal(fclose(f), 0);
}

static rfbClient *connect_to(const char *addr, const char *encodings)
{
	rfbClient *c = client_for(addr);

	c->canHandleNewFBSize = TRUE;
	/* "tight+jpeg": tight with JPEG asked for (quality 5, libvncclient's
	 * default); the rest without. */
	c->appData.enableJPEG = !strcmp(encodings, "tight+jpeg");
	c->appData.encodingsString = c->appData.enableJPEG ? "tight" : encodings;
	if (!rfbInitClient(c, NULL, NULL))
		fail_msg("libvncclient cannot connect to %s", addr); /* it freed c */
	return c;
}

/* libvncclient reads ahead: a message may wait in its buffer, not the socket. */
static bool message_ready(rfbClient *c)
{
	return c->buffered > 0 || WaitForMessage(c, 100000) > 0;
}

/* Serve messages until the client's picture is the fake's (or 10 s pass). */
/* rfbClientCleanup leaves the framebuffer to the application. */
static void client_free(rfbClient *c)
{
	free(c->frameBuffer);
	c->frameBuffer = NULL;
	rfbClientCleanup(c);
}

static void wait_for_picture(rfbClient *c, struct fake *k)
{
	time_t end = time(NULL) + 10;

	for (;;) {
		bool same;

		pthread_mutex_lock(&k->lock);
		same = c->width == (int)k->w && c->height == (int)k->h;
		for (uint32_t y = 0; same && y < k->h; y++)
			for (uint32_t x = 0; same && x < k->w; x++) {
				uint32_t v;

				memcpy(&v, c->frameBuffer + 4 * ((size_t)y * (size_t)c->width + x), 4);
				/* libvncclient's default format: red at bit 0. */
				v = (v & 0xff) << 16 | (v & 0xff00) | (v >> 16 & 0xff);
				same = v == fake_px(k, x, y);
				if (!same && time(NULL) > end)
					print_message("(%u,%u) is 0x%06x, want 0x%06x\n", x, y, v,
						      fake_px(k, x, y));
			}
		pthread_mutex_unlock(&k->lock);
		if (same)
			return;
		if (time(NULL) > end)
			fail_msg("the client shows %dx%d, not the %ux%u picture", c->width, c->height,
				 k->w, k->h);
		if (message_ready(c) && !HandleRFBServerMessage(c))
			fail_msg("the server closed the connection");
	}
}

/* Each client asks for other encodings; the tight one with JPEG on, which
 * the server must not use (lossless, as QEMU by default). */
static const char *const encodings[] = {
	"raw", "tight zrle hextile copyrect raw", "zrle", "hextile", "zlib", "rre", "tight+jpeg",
};

static void test_pictures(void **state)
{
	struct display d;
	struct fake k = { .lock = PTHREAD_MUTEX_INITIALIZER, .w = 64, .h = 48, .seed = 7,
			  .bump = UINT32_MAX, .dirty_row = UINT32_MAX };
	struct vnc *v;
	char err[256];

	(void)state;
	rfbClientLog = rfbClientErr = quiet;
	display_init(&d);
	assert_int_equal(display_attach(&d, &fake_ops, &k), 0);
	assert_int_equal(vnc_at(&v, &d, NULL, "127.0.0.1:0", err), 0);
	assert_non_null(strstr(vnc_address(v), "127.0.0.1:"));
	assert_string_not_equal(vnc_address(v), "127.0.0.1:0");
	for (size_t e = 0; e < sizeof(encodings) / sizeof(encodings[0]); e++) {
		rfbClient *c = connect_to(vnc_address(v), encodings[e]);

		print_message("encodings %s\n", encodings[e]);
		wait_for_picture(c, &k);
		/* The bump moves a row down, and only those two rows are flagged:
		 * the client follows. */
		pthread_mutex_lock(&k.lock);
		k.dirty_row2 = k.bump;
		k.bump = (uint32_t)(5 + e);
		k.dirty_row = k.bump;
		pthread_mutex_unlock(&k.lock);
		wait_for_picture(c, &k);
		/* A new mode: the desktop-size extension gives the client the size. */
		pthread_mutex_lock(&k.lock);
		k.w = k.w == 64 ? 200 : 64;
		k.h = k.h == 48 ? 100 : 48;
		k.seed += 99;
		pthread_mutex_unlock(&k.lock);
		wait_for_picture(c, &k);
		client_free(c);
	}
	/* Stopping with a client connected closes it. */
	{
		rfbClient *c = connect_to(vnc_address(v), "raw");
		bool gone = false;

		wait_for_picture(c, &k);
		vnc_stop(v);
		for (int i = 0; i < 50 && !gone; i++)
			gone = message_ready(c) && !HandleRFBServerMessage(c);
		assert_true(gone);
		client_free(c);
	}
	display_detach(&d, &k);
	display_free(&d);
}

static void test_unix_and_errors(void **state)
{
	struct display d;
	struct vnc *v;
	char err[256], path[64], addr[80];
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	char banner[12];
	int fd;

	(void)state;
	display_init(&d);
	snprintf(path, sizeof(path), "/tmp/phyllo-test-vnc-%d.sock", getpid());
	snprintf(addr, sizeof(addr), "unix:%s", path);
	assert_int_equal(vnc_at(&v, &d, NULL, addr, err), 0);
	assert_string_equal(vnc_address(v), addr);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	/* A second server on the same live socket is refused. */
	{
		struct vnc *w;

		assert_int_equal(vnc_at(&w, &d, NULL, addr, err), -EADDRINUSE);
		assert_non_null(strstr(err, path));
	}
	/* RFB starts with the server's version, over the Unix socket too. */
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	memcpy(sa.sun_path, path, strlen(path) + 1);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(read(fd, banner, sizeof(banner)), sizeof(banner));
	assert_memory_equal(banner, "RFB 003.008\n", 12);
	close(fd);
	vnc_stop(v);
	assert_int_equal(stat(path, &st), -1); /* removed */
	/* Bad addresses: the error names them. */
	assert_true(vnc_at(&v, &d, NULL, "no-such-host.invalid:5900", err) < 0);
	assert_non_null(strstr(err, "no-such-host.invalid"));
	assert_true(vnc_at(&v, &d, NULL, "unix:/nonexistent-dir/x.sock", err) < 0);
	assert_non_null(strstr(err, "/nonexistent-dir/x.sock"));
	display_free(&d);
}

/* A keyboard device as the input hub sees one: it records what it gets. */
struct fake_kbd {
	pthread_mutex_t lock;
	unsigned int n;
	unsigned int code[32];
	bool down[32];
};

static void fake_key(void *opaque, unsigned int code, bool down)
{
	struct fake_kbd *k = opaque;

	pthread_mutex_lock(&k->lock);
	if (k->n < 32) {
		k->code[k->n] = code;
		k->down[k->n++] = down;
	}
	pthread_mutex_unlock(&k->lock);
}

static const struct input_keyboard_ops fake_kbd_ops = { .key = fake_key };

static void wait_keys(struct fake_kbd *k, unsigned int n)
{
	for (int i = 0; i < 500; i++) {
		unsigned int got;

		pthread_mutex_lock(&k->lock);
		got = k->n;
		pthread_mutex_unlock(&k->lock);
		if (got >= n)
			return;
		usleep(10000);
	}
	fail_msg("the keyboard got %u key events, want %u", k->n, n);
}

/* Keysyms from a client reach the guest's keyboard as key codes; a client
 * that leaves with a key held releases it. */
static void test_keys(void **state)
{
	static const struct {
		uint32_t sym;
		bool down;
		unsigned int code;
	} seq[] = {
		{ 0xffe1, true, KEY_LEFTSHIFT }, { 'H', true, KEY_H }, { 'H', false, KEY_H },
		{ 0xffe1, false, KEY_LEFTSHIFT }, { 'i', true, KEY_I }, { 'i', false, KEY_I },
		{ 0xff0d, true, KEY_ENTER }, { 0xff0d, false, KEY_ENTER },
		{ 0xff52, true, KEY_UP }, { 0xff52, false, KEY_UP },
		{ 0x1008ff13, true, KEY_VOLUMEUP }, { 0x1008ff13, false, KEY_VOLUMEUP },
		{ 0xffe3, true, KEY_LEFTCTRL }, /* held when the client goes */
	};
	struct display d;
	struct input in;
	struct fake k = { .lock = PTHREAD_MUTEX_INITIALIZER, .w = 32, .h = 16, .bump = UINT32_MAX,
			  .dirty_row = UINT32_MAX };
	struct fake_kbd kb = { .lock = PTHREAD_MUTEX_INITIALIZER };
	struct vnc *v;
	rfbClient *c;
	char err[256];
	const unsigned int n = sizeof(seq) / sizeof(seq[0]);

	(void)state;
	rfbClientLog = rfbClientErr = quiet;
	display_init(&d);
	input_init(&in);
	assert_int_equal(display_attach(&d, &fake_ops, &k), 0);
	assert_int_equal(input_attach_keyboard(&in, &fake_kbd_ops, &kb, 0), 0);
	assert_int_equal(vnc_at(&v, &d, &in, "127.0.0.1:0", err), 0);
	c = connect_to(vnc_address(v), "raw");
	wait_for_picture(c, &k);
	for (unsigned int i = 0; i < n; i++)
		assert_true(SendKeyEvent(c, seq[i].sym, seq[i].down));
	SendKeyEvent(c, 0x12345678, TRUE); /* no key of ours: nothing */
	wait_keys(&kb, n);
	for (unsigned int i = 0; i < n; i++) {
		assert_int_equal(kb.code[i], seq[i].code);
		assert_int_equal(kb.down[i], seq[i].down);
	}
	client_free(c);
	wait_keys(&kb, n + 1);
	assert_int_equal(kb.code[n], KEY_LEFTCTRL);
	assert_false(kb.down[n]);
	vnc_stop(v);
	input_detach_keyboard(&in, &kb);
	input_free(&in);
	display_detach(&d, &k);
	display_free(&d);
}

/* A TCP connection to "HOST:PORT" (or the "HOST:PORT/" of a URL). */
static int tcp_connect(const char *addr)
{
	char host[64];
	const char *port;
	struct addrinfo *ai;
	int fd;

	snprintf(host, sizeof(host), "%s", addr);
	host[strcspn(host, "/")] = 0;
	port = strrchr(host, ':') + 1;
	host[port - 1 - host] = 0;
	assert_int_equal(getaddrinfo(host, port, NULL, &ai), 0);
	fd = socket(ai->ai_family, SOCK_STREAM, 0);
	assert_int_equal(connect(fd, ai->ai_addr, ai->ai_addrlen), 0);
	freeaddrinfo(ai);
	return fd;
}

/* GET path from the web server at addr; the whole answer into buf. */
static size_t http_get(const char *addr, const char *path, char *buf, size_t len)
{
	char req[256];
	size_t got = 0;
	int fd = tcp_connect(addr), n;

	n = snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: x\r\n\r\n", path);
	assert_int_equal(write(fd, req, (size_t)n), n);
	while (got < len - 1) {
		ssize_t r = read(fd, buf + got, len - 1 - got);

		if (r <= 0)
			break;
		got += (size_t)r;
	}
	buf[got] = 0;
	close(fd);
	return got;
}

/*
 * The web page (--display web=): "/" is index.vnc with $PORT made the VNC
 * port, scripts go as JavaScript, nothing outside the folder is served;
 * a viewer's clipboard text is typed on the guest's keyboard.
 */
static void test_web_and_clipboard(void **state)
{
	char dir[] = "/tmp/phyllo-test-web-XXXXXX", path[96], err[256], buf[4096];
	static const struct {
		uint32_t code;
		bool down;
	} want[] = { { KEY_LEFTSHIFT, true }, { KEY_H, true }, { KEY_H, false },
		     { KEY_LEFTSHIFT, false }, { KEY_I, true }, { KEY_I, false },
		     { KEY_ENTER, true }, { KEY_ENTER, false } };
	struct display d;
	struct input in;
	struct fake_kbd kb = { .lock = PTHREAD_MUTEX_INITIALIZER };
	struct fake k = { .lock = PTHREAD_MUTEX_INITIALIZER, .w = 32, .h = 16, .bump = UINT32_MAX,
			  .dirty_row = UINT32_MAX };
	struct event_loop *loop = loop_new();
	struct sendkeys *typist;
	struct vnc *v;
	rfbClient *c;

	(void)state;
	rfbClientLog = rfbClientErr = quiet;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/index.vnc", dir);
	put_text(path, "<p>port=$PORT cost=$$5</p>");
	snprintf(path, sizeof(path), "%s/a.js", dir);
	put_text(path, "export const x = 1;");
	display_init(&d);
	input_init(&in);
	assert_int_equal(display_attach(&d, &fake_ops, &k), 0);
	assert_int_equal(input_attach_keyboard(&in, &fake_kbd_ops, &kb, 0), 0);
	assert_int_equal(sendkeys_new(&typist, loop, &in), 0);
	{
		struct vnc_opts o = { .addr = "127.0.0.1:0", .web = "127.0.0.1:0", .web_dir = dir,
				      .input = &in, .typist = typist };
		char want_port[32];

		assert_int_equal(vnc_start(&v, &d, &o, err, sizeof(err)), 0);
		assert_non_null(vnc_web_url(v));
		assert_non_null(strstr(vnc_web_url(v), "http://127.0.0.1:"));
		http_get(vnc_web_url(v) + 7, "/", buf, sizeof(buf));
		assert_non_null(strstr(buf, "200 OK"));
		assert_non_null(strstr(buf, "text/html"));
		snprintf(want_port, sizeof(want_port), "port=%s ", strrchr(vnc_address(v), ':') + 1);
		assert_non_null(strstr(buf, want_port));
		assert_non_null(strstr(buf, "cost=$5"));
		http_get(vnc_web_url(v) + 7, "/a.js?v=1", buf, sizeof(buf));
		assert_non_null(strstr(buf, "application/javascript"));
		assert_non_null(strstr(buf, "export const x"));
		http_get(vnc_web_url(v) + 7, "/../../etc/passwd", buf, sizeof(buf));
		assert_non_null(strstr(buf, "404"));
		assert_null(strstr(buf, "root:"));
	}
	/* The clipboard: "Hi\r\n" and a character no US key types. */
	c = connect_to(vnc_address(v), "raw");
	wait_for_picture(c, &k);
	assert_true(SendClientCutText(c, "Hi\xe9\r\n", 5));
	for (int i = 0; i < 300 && kb.n < 8; i++)
		loop_run_once(loop, 20);
	assert_int_equal(kb.n, 8);
	for (unsigned int i = 0; i < 8; i++) {
		assert_int_equal(kb.code[i], want[i].code);
		assert_int_equal(kb.down[i], want[i].down);
	}
	client_free(c);
	vnc_stop(v);
	/* No page's files: a clear error. */
	{
		struct vnc_opts o = { .addr = "127.0.0.1:0", .web = "127.0.0.1:0",
				      .web_dir = "/nonexistent/web" };

		assert_int_equal(vnc_start(&v, &d, &o, err, sizeof(err)), -ENOENT);
		assert_non_null(strstr(err, "/nonexistent/web"));
	}
	sendkeys_free(typist);
	loop_free(loop);
	input_detach_keyboard(&in, &kb);
	input_free(&in);
	display_detach(&d, &k);
	display_free(&d);
	unlink(path);
	snprintf(path, sizeof(path), "%s/index.vnc", dir);
	unlink(path);
	rmdir(dir);
}

/*
 * Hostile clients: garbage instead of a handshake, a handshake then a
 * message type no one defined, and a ClientCutText claiming 2 GiB. Each is
 * dropped; the server goes on serving the next client the picture.
 */
static void test_bad_clients(void **state)
{
	static const uint8_t cut[] = { 6, 0, 0, 0, 0x7f, 0xff, 0xff, 0xff, 'x' };
	struct display d;
	struct fake k = { .lock = PTHREAD_MUTEX_INITIALIZER, .w = 32, .h = 16, .bump = UINT32_MAX,
			  .dirty_row = UINT32_MAX };
	struct vnc *v;
	char err[256], buf[64];
	rfbClient *c;

	(void)state;
	rfbClientLog = rfbClientErr = quiet;
	display_init(&d);
	assert_int_equal(display_attach(&d, &fake_ops, &k), 0);
	assert_int_equal(vnc_at(&v, &d, NULL, "127.0.0.1:0", err), 0);
	for (int round = 0; round < 3; round++) {
		int fd = tcp_connect(vnc_address(v));
		uint8_t junk[4096];

		assert_int_equal(read(fd, buf, 12), 12); /* "RFB 003.008\n" */
		if (round == 0) {
			memset(junk, 0xa5, sizeof(junk));
			(void)!write(fd, junk, sizeof(junk));
		} else {
			/* 3.8, no security, shared; then the bad message. */
			(void)!write(fd, "RFB 003.008\n", 12);
			(void)!read(fd, buf, 2);  /* one security type: None */
			(void)!write(fd, "\x01", 1);
			(void)!read(fd, buf, 4);  /* result */
			(void)!write(fd, "\x01", 1);
			(void)!read(fd, buf, 24); /* ServerInit up to the name's length */
			if (round == 1)
				(void)!write(fd, "\xfe\x00\x00\x00", 4);
			else
				(void)!write(fd, cut, sizeof(cut));
		}
		/* The server closes it: reads end (after what it still sends). */
		for (int i = 0; i < 1000 && read(fd, junk, sizeof(junk)) > 0; i++)
			;
		close(fd);
	}
	c = connect_to(vnc_address(v), "raw");
	wait_for_picture(c, &k);
	client_free(c);
	vnc_stop(v);
	display_detach(&d, &k);
	display_free(&d);
}

/* noVNC's way in: a WebSocket handshake on the same port (RFC 6455's sample key). */
static void test_websocket(void **state)
{
	static const char req[] = "GET /websockify HTTP/1.1\r\nHost: localhost\r\n"
				  "Upgrade: websocket\r\nConnection: Upgrade\r\n"
				  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
				  "Sec-WebSocket-Protocol: binary\r\n"
				  "Sec-WebSocket-Version: 13\r\nOrigin: http://localhost\r\n\r\n";
	struct display d;
	struct vnc *v;
	char err[256], buf[1024] = "";
	size_t got = 0;
	int fd;

	(void)state;
	display_init(&d);
	assert_int_equal(vnc_at(&v, &d, NULL, "127.0.0.1:0", err), 0);
	fd = tcp_connect(vnc_address(v));
	assert_int_equal(write(fd, req, sizeof(req) - 1), (ssize_t)sizeof(req) - 1);
	while (got < sizeof(buf) - 1 && !strstr(buf, "\r\n\r\n")) {
		ssize_t n = read(fd, buf + got, sizeof(buf) - 1 - got);

		if (n <= 0)
			break;
		got += (size_t)n;
		buf[got] = 0;
	}
	assert_non_null(strstr(buf, "HTTP/1.1 101"));
	assert_non_null(strstr(buf, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="));
	close(fd);
	vnc_stop(v);
	display_free(&d);
}

/* libvncclient asks for the password through this; the test sets it. */
static const char *client_password;

static char *give_password(rfbClient *c)
{
	(void)c;
	return strdup(client_password); /* libvncclient frees it */
}

/* Connect with password pw (raw encoding): the client, or NULL when the server refused. */
static rfbClient *connect_with(const char *addr, const char *pw)
{
	rfbClient *c = client_for(addr);

	client_password = pw;
	c->GetPassword = give_password;
	c->appData.encodingsString = "raw";
	return rfbInitClient(c, NULL, NULL) ? c : NULL; /* a refused c is freed */
}

/*
 * password_file=: viewers pass VNC authentication with the password on the
 * file's first line, and only with it; a missing, empty or too long
 * password file is refused with its name.
 */
static void test_password(void **state)
{
	struct display d;
	struct fake k = { .lock = PTHREAD_MUTEX_INITIALIZER, .w = 64, .h = 48, .seed = 3,
			  .bump = UINT32_MAX, .dirty_row = UINT32_MAX };
	char dir[] = "/tmp/phyllo-vncpw-XXXXXX", path[64], pw[VNC_PASSWORD_MAX + 1], err[256];
	struct vnc_opts o = { .addr = "127.0.0.1:0", .password = pw };
	struct vnc *v;
	rfbClient *c;

	(void)state;
	rfbClientLog = rfbClientErr = quiet;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/pw", dir);
	/* The file's errors. */
	assert_int_equal(vnc_password_load(path, pw, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, path));
	put_text(path, "");
	assert_int_equal(vnc_password_load(path, pw, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "empty"));
	put_text(path, "123456789\n");
	assert_int_equal(vnc_password_load(path, pw, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "longer than 8"));
	put_text(path, "s3cr3t!\nsecond line ignored\n");
	assert_int_equal(vnc_password_load(path, pw, err, sizeof(err)), 0);
	assert_string_equal(pw, "s3cr3t!");

	display_init(&d);
	assert_int_equal(display_attach(&d, &fake_ops, &k), 0);
	assert_int_equal(vnc_start(&v, &d, &o, err, sizeof(err)), 0);
	memset(pw, 0, sizeof(pw)); /* the server keeps its own copy */
	assert_null(connect_with(vnc_address(v), "wrong"));
	assert_null(connect_with(vnc_address(v), "s3cr3t")); /* a prefix is not it */
	c = connect_with(vnc_address(v), "s3cr3t!");
	assert_non_null(c);
	assert_int_equal(c->authScheme, rfbVncAuth);
	wait_for_picture(c, &k); /* and the picture comes after it */
	client_free(c);
	vnc_stop(v);
	/* Without a password, no authentication is asked for. */
	o.password = NULL;
	assert_int_equal(vnc_start(&v, &d, &o, err, sizeof(err)), 0);
	c = connect_with(vnc_address(v), "unused");
	assert_non_null(c);
	assert_int_not_equal(c->authScheme, rfbVncAuth);
	client_free(c);
	vnc_stop(v);
	display_detach(&d, &k);
	display_free(&d);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pictures),
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_unix_and_errors),
		cmocka_unit_test(test_bad_clients),
		cmocka_unit_test(test_web_and_clipboard),
		cmocka_unit_test(test_websocket),
		cmocka_unit_test(test_password),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
