/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Character back ends for consoles (the 16550 UART now, virtio-console
 * later): tty, pty, file, Unix socket, null.
 *
 * A chardev outlives guest reboots (the terminal stays in raw mode, the pty
 * keeps its name). Input is read by the event loop into a ring buffer and
 * handed to the device when the guest asks for it; when the ring is full
 * the chardev stops reading, so typed input waits in the kernel instead of
 * being dropped.
 */
#ifndef PHYLLO_BASE_CHARDEV_H
#define PHYLLO_BASE_CHARDEV_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/config.h"

struct event_loop;

#define CHARDEV_RING_SIZE 65536

struct chardev {
	enum console_mode mode;
	int in_fd, out_fd, listen_fd;
	bool reading;        /* in_fd is being polled */
	bool restore_tty;    /* we changed stdin's termios */
	struct event_loop *loop;
	pthread_mutex_t lock;
	uint8_t ring[CHARDEV_RING_SIZE];
	size_t head, count;
	/* Called (from the loop thread) when input arrives. */
	void (*notify)(void *opaque);
	void *notify_opaque;
};

/* Open the back end described by cfg. err names the problem. */
int chardev_open(struct chardev *chr, const struct console_config *cfg,
		 struct event_loop *loop, char *err, size_t errlen);
void chardev_close(struct chardev *chr);
void chardev_set_notify(struct chardev *chr, void (*fn)(void *), void *opaque);

/* Guest output. Never blocks the caller for long on sockets and ptys. */
void chardev_write(struct chardev *chr, const void *buf, size_t len);
/* Take up to len bytes of buffered input. */
size_t chardev_read(struct chardev *chr, void *buf, size_t len);
size_t chardev_pending(struct chardev *chr);

/* Put the terminal back as we found it (also from atexit and fatal paths). */
void chardev_restore_terminal(void);

#endif
