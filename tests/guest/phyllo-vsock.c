// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * phyllo-vsock: the test guest's AF_VSOCK tool. busybox has no vsock
 * applet and the guest has no socat or python, so tests/guest/build.sh
 * compiles this file statically into the initramfs (/bin/phyllo-vsock).
 *
 *   phyllo-vsock connect CID PORT
 *       connect to CID:PORT, copy stdin to the socket and the socket to
 *       stdout; stdin's end becomes a shutdown(SHUT_WR), the peer's end
 *       ends the program. Exit 0, or 1 with a message when the connection
 *       fails.
 *   phyllo-vsock echo PORT
 *       listen on PORT, print "PHYLLO VSOCK-LISTEN PORT", accept one
 *       connection and send back everything it receives; after the
 *       peer's EOF shut down, print "PHYLLO VSOCK-ECHOED <bytes>".
 *
 * Blocking I/O and poll(): one connection at a time is all tests need.
 */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/vm_sockets.h>

static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static unsigned int number(const char *s)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	if (!*s || *end || v > 0xffffffffUL) {
		fprintf(stderr, "phyllo-vsock: '%s' is not a number\n", s);
		exit(2);
	}
	return (unsigned int)v;
}

static int do_connect(unsigned int cid, unsigned int port)
{
	struct sockaddr_vm addr = { .svm_family = AF_VSOCK, .svm_cid = cid, .svm_port = port };
	struct pollfd p[2];
	char buf[16384];
	int fd = socket(AF_VSOCK, SOCK_STREAM, 0);
	bool in_open = true;

	if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		fprintf(stderr, "phyllo-vsock: connect %u:%u: %s\n", cid, port, strerror(errno));
		return 1;
	}
	for (;;) {
		p[0] = (struct pollfd){ .fd = in_open ? 0 : -1, .events = POLLIN };
		p[1] = (struct pollfd){ .fd = fd, .events = POLLIN };
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return 1;
		}
		if (p[0].revents) {
			ssize_t n = read(0, buf, sizeof(buf));

			if (n > 0) {
				if (write_all(fd, buf, (size_t)n) < 0)
					return 1;
			} else {
				shutdown(fd, SHUT_WR);
				in_open = false;
			}
		}
		if (p[1].revents) {
			ssize_t n = read(fd, buf, sizeof(buf));

			if (n < 0) {
				fprintf(stderr, "phyllo-vsock: read: %s\n", strerror(errno));
				return 1;
			}
			if (n == 0)
				return 0;
			if (write_all(1, buf, (size_t)n) < 0)
				return 1;
		}
	}
}

static int do_echo(unsigned int port)
{
	struct sockaddr_vm addr = {
		.svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_ANY, .svm_port = port,
	};
	unsigned long long total = 0;
	char buf[16384];
	int lfd = socket(AF_VSOCK, SOCK_STREAM, 0), fd;
	ssize_t n;

	if (lfd < 0 || bind(lfd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
	    listen(lfd, 1) < 0) {
		fprintf(stderr, "phyllo-vsock: listen on %u: %s\n", port, strerror(errno));
		return 1;
	}
	printf("PHYLLO VSOCK-LISTEN %u\n", port);
	fflush(stdout);
	fd = accept(lfd, NULL, NULL);
	if (fd < 0) {
		fprintf(stderr, "phyllo-vsock: accept: %s\n", strerror(errno));
		return 1;
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		if (write_all(fd, buf, (size_t)n) < 0)
			return 1;
		total += (unsigned long long)n;
	}
	if (n < 0) {
		fprintf(stderr, "phyllo-vsock: read: %s\n", strerror(errno));
		return 1;
	}
	shutdown(fd, SHUT_WR);
	printf("PHYLLO VSOCK-ECHOED %llu\n", total);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "connect"))
		return do_connect(number(argv[2]), number(argv[3]));
	if (argc == 3 && !strcmp(argv[1], "echo"))
		return do_echo(number(argv[2]));
	fprintf(stderr, "usage: phyllo-vsock connect CID PORT | echo PORT\n");
	return 2;
}
