// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * phyllo-evdev: reports what phyllo-vmm's virtio keyboard and tablet give
 * the guest, as the guest's evdev sees it, for the display end-to-end
 * test: opens every /dev/input/event* whose name starts "phyllome virtio",
 * says "PHYLLO EVDEV-READY <n>" (how many), then one line per event other
 * than SYN: "PHYLLO EV keyboard|tablet <type> <code> <value>".
 */
#include <fcntl.h>
#include <linux/input.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

int main(void)
{
	struct pollfd fds[16];
	const char *kind[16];
	int n = 0;

	for (int i = 0; i < 32 && n < 16; i++) {
		char path[32], name[64] = "";
		int fd;

		snprintf(path, sizeof(path), "/dev/input/event%d", i);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (ioctl(fd, EVIOCGNAME(sizeof(name) - 1), name) < 0 ||
		    strncmp(name, "phyllome virtio ", 16)) {
			close(fd);
			continue;
		}
		kind[n] = strstr(name, "tablet") ? "tablet" : "keyboard";
		fds[n].fd = fd;
		fds[n++].events = POLLIN;
	}
	printf("PHYLLO EVDEV-READY %d\n", n);
	fflush(stdout);
	while (n && poll(fds, (nfds_t)n, -1) > 0) {
		for (int i = 0; i < n; i++) {
			struct input_event ev;

			if (!(fds[i].revents & POLLIN) || read(fds[i].fd, &ev, sizeof(ev)) != sizeof(ev))
				continue;
			if (ev.type == EV_SYN)
				continue;
			printf("PHYLLO EV %s %u %u %d\n", kind[i], ev.type, ev.code, ev.value);
			fflush(stdout);
		}
	}
	return 0;
}
