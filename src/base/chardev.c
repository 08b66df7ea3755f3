// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Console back ends. See chardev.h for the model.
 *
 * tty: stdin goes raw (when it is a terminal) so every key, Ctrl-C too,
 * reaches the guest, as with Cloud Hypervisor; the saved termios is put
 * back at exit, whichever way we exit.
 */
#include "base/chardev.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "base/log.h"
#include "base/loop.h"

static struct termios saved_termios;
static bool termios_saved;

void chardev_restore_terminal(void)
{
	if (termios_saved) {
		tcsetattr(STDIN_FILENO, TCSANOW, &saved_termios);
		termios_saved = false;
	}
}

static int make_raw(int fd, bool save)
{
	struct termios t;

	if (tcgetattr(fd, &t) < 0)
		return -errno;
	if (save) {
		saved_termios = t;
		termios_saved = true;
		atexit(chardev_restore_terminal);
	}
	cfmakeraw(&t);
	return tcsetattr(fd, TCSANOW, &t) < 0 ? -errno : 0;
}

static void chardev_on_input(void *opaque, uint32_t events);

static void update_polling(struct chardev *chr)
{
	bool want = chr->in_fd >= 0 && chr->count < CHARDEV_RING_SIZE;

	if (want == chr->reading || chr->in_fd < 0)
		return;
	if (loop_mod(chr->loop, chr->in_fd, want ? EPOLLIN : 0) == 0)
		chr->reading = want;
}

static void drop_input(struct chardev *chr)
{
	loop_del(chr->loop, chr->in_fd);
	if (chr->in_fd != STDIN_FILENO)
		close(chr->in_fd);
	if (chr->out_fd == chr->in_fd)
		chr->out_fd = -1;
	chr->in_fd = -1;
	chr->reading = false;
}

static void chardev_on_input(void *opaque, uint32_t events)
{
	struct chardev *chr = opaque;
	bool got = false, closed = false;

	pthread_mutex_lock(&chr->lock);
	/* One read per wake-up: stdin may be blocking, and epoll is level-triggered. */
	if (chr->count < CHARDEV_RING_SIZE && chr->in_fd >= 0) {
		size_t tail = (chr->head + chr->count) % CHARDEV_RING_SIZE;
		size_t room = CHARDEV_RING_SIZE - chr->count;
		ssize_t n;

		if (room > CHARDEV_RING_SIZE - tail)
			room = CHARDEV_RING_SIZE - tail;
		n = read(chr->in_fd, chr->ring + tail, room);
		if (n > 0) {
			chr->count += (size_t)n;
			got = true;
		} else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
			/* EOF or error: stop reading (a closed socket client, a pipe at end). */
			closed = true;
		}
	}
	if (closed) {
		drop_input(chr);
		if (chr->mode == CONSOLE_SOCKET && chr->listen_fd >= 0)
			loop_mod(chr->loop, chr->listen_fd, EPOLLIN);
	} else {
		update_polling(chr);
	}
	pthread_mutex_unlock(&chr->lock);
	if (got && chr->notify)
		chr->notify(chr->notify_opaque);
	(void)events;
}

static void chardev_on_accept(void *opaque, uint32_t events)
{
	struct chardev *chr = opaque;
	int fd = accept4(chr->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

	(void)events;
	if (fd < 0)
		return;
	pthread_mutex_lock(&chr->lock);
	if (chr->in_fd >= 0) {
		/* One client at a time, like Cloud Hypervisor's socket console. */
		pthread_mutex_unlock(&chr->lock);
		close(fd);
		return;
	}
	chr->in_fd = chr->out_fd = fd;
	if (loop_add(chr->loop, fd, EPOLLIN, chardev_on_input, chr) == 0)
		chr->reading = true;
	pthread_mutex_unlock(&chr->lock);
}

static int open_socket(struct chardev *chr, const char *path, char *err, size_t errlen)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(addr.sun_path)) {
		errbuf_set(err, errlen, "socket path '%s' is too long", path);
		return -ENAMETOOLONG;
	}
	strcpy(addr.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(fd, 1) < 0) {
		int ret = -errno;

		errbuf_set(err, errlen, "cannot listen on '%s': %s", path, strerror(errno));
		close(fd);
		return ret;
	}
	chr->listen_fd = fd;
	return loop_add(chr->loop, fd, EPOLLIN, chardev_on_accept, chr);
}

static int open_pty(struct chardev *chr, char *err, size_t errlen)
{
	int fd = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	const char *name;

	if (fd < 0 || grantpt(fd) < 0 || unlockpt(fd) < 0 || !(name = ptsname(fd))) {
		errbuf_set(err, errlen, "cannot create a pty: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return -EIO;
	}
	make_raw(fd, false);
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	/* Where to attach: printed on stderr like Cloud Hypervisor's log line. */
	fprintf(stderr, "phyllo-vmm: pty: %s\n", name);
	chr->in_fd = chr->out_fd = fd;
	return 0;
}

int chardev_open(struct chardev *chr, const struct console_config *cfg,
		 struct event_loop *loop, char *err, size_t errlen)
{
	int ret = 0;

	memset(chr, 0, sizeof(*chr));
	pthread_mutex_init(&chr->lock, NULL);
	chr->mode = cfg->mode;
	chr->loop = loop;
	chr->in_fd = chr->out_fd = chr->listen_fd = -1;

	switch (cfg->mode) {
	case CONSOLE_OFF:
	case CONSOLE_NULL:
		return 0;
	case CONSOLE_TTY:
		chr->out_fd = STDOUT_FILENO;
		chr->in_fd = STDIN_FILENO;
		if (isatty(STDIN_FILENO) && make_raw(STDIN_FILENO, true) == 0)
			chr->restore_tty = true;
		break;
	case CONSOLE_FILE:
		chr->out_fd = open(cfg->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY, 0600);
		if (chr->out_fd < 0) {
			ret = -errno;
			errbuf_set(err, errlen, "cannot open '%s': %s", cfg->path, strerror(errno));
		}
		return ret;
	case CONSOLE_PTY:
		ret = open_pty(chr, err, errlen);
		break;
	case CONSOLE_SOCKET:
		return open_socket(chr, cfg->path, err, errlen);
	}
	if (ret == 0 && chr->in_fd >= 0) {
		/* A stdin that epoll refuses (a regular file, /dev/null) gives no input. */
		if (loop_add(loop, chr->in_fd, EPOLLIN, chardev_on_input, chr) == 0)
			chr->reading = true;
		else
			chr->in_fd = -1;
	}
	return ret;
}

void chardev_close(struct chardev *chr)
{
	if (chr->in_fd >= 0)
		drop_input(chr);
	if (chr->listen_fd >= 0) {
		loop_del(chr->loop, chr->listen_fd);
		close(chr->listen_fd);
	}
	if (chr->out_fd > STDERR_FILENO)
		close(chr->out_fd);
	if (chr->restore_tty)
		chardev_restore_terminal();
	pthread_mutex_destroy(&chr->lock);
	chr->in_fd = chr->out_fd = chr->listen_fd = -1;
}

void chardev_set_notify(struct chardev *chr, void (*fn)(void *), void *opaque)
{
	pthread_mutex_lock(&chr->lock);
	chr->notify = fn;
	chr->notify_opaque = opaque;
	pthread_mutex_unlock(&chr->lock);
}

void chardev_write(struct chardev *chr, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	int fd = chr->out_fd;

	while (fd >= 0 && len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return; /* a full pty or socket drops output rather than stall a vCPU */
		p += n;
		len -= (size_t)n;
	}
}

size_t chardev_read(struct chardev *chr, void *buf, size_t len)
{
	uint8_t *out = buf;
	size_t done = 0;

	pthread_mutex_lock(&chr->lock);
	while (done < len && chr->count) {
		out[done++] = chr->ring[chr->head];
		chr->head = (chr->head + 1) % CHARDEV_RING_SIZE;
		chr->count--;
	}
	if (done)
		update_polling(chr);
	pthread_mutex_unlock(&chr->lock);
	return done;
}

size_t chardev_pending(struct chardev *chr)
{
	size_t n;

	pthread_mutex_lock(&chr->lock);
	n = chr->count;
	pthread_mutex_unlock(&chr->lock);
	return n;
}
