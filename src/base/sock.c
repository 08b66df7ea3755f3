// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Listening sockets (sock.h). Addresses are resolved with getaddrinfo
 * (numeric or names from /etc/hosts); nothing here touches the network
 * beyond bind and listen.
 */
#include "base/sock.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "base/log.h"

int sock_listen_unix(const char *path, const char *what, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	mode_t old_mask;
	int fd, ret;

	if (!*path || strlen(path) >= sizeof(sa.sun_path)) {
		errbuf_set(err, errlen, "%s path '%s' is %s (at most %zu bytes)", what, path,
			   *path ? "too long for a Unix socket" : "empty", sizeof(sa.sun_path) - 1);
		return -ENAMETOOLONG;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if (lstat(path, &st) == 0) {
		int probe;

		if (!S_ISSOCK(st.st_mode)) {
			errbuf_set(err, errlen, "%s path '%s' exists and is not a socket", what, path);
			return -EEXIST;
		}
		probe = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (probe < 0)
			goto fail_errno;
		ret = connect(probe, (struct sockaddr *)&sa, sizeof(sa)) < 0 ? errno : 0;
		close(probe);
		if (ret != ECONNREFUSED) {
			errbuf_set(err, errlen, "%s '%s' is in use by another process", what, path);
			return -EADDRINUSE;
		}
		if (unlink(path) < 0 && errno != ENOENT)
			goto fail_errno;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail_errno;
	/*
	 * Owner only, whatever the umask: what listens here can drive the VM.
	 * The umask is the only way to create a socket file without a window
	 * in which it has wider rights; chmod only confirms it.
	 */
	old_mask = umask(0177);
	ret = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old_mask);
	if (ret < 0 || chmod(path, 0600) < 0 || listen(fd, 16) < 0) {
		ret = -errno;
		close(fd);
		errbuf_set(err, errlen, "cannot listen on %s '%s': %s", what, path, strerror(-ret));
		return ret;
	}
	return fd;
fail_errno:
	ret = -errno;
	errbuf_set(err, errlen, "%s '%s': %s", what, path, strerror(-ret));
	return ret;
}

int sock_split_hostport(const char *addr, char *host, size_t hostlen, char *port,
			size_t portlen, char *why, size_t whylen)
{
	const char *colon, *h = addr;
	size_t hl;
	char *end;
	unsigned long p;

	if (addr[0] == '[') {
		const char *close = strchr(addr, ']');

		if (!close || close[1] != ':') {
			errbuf_set(why, whylen, "'%s' is not [ADDRESS]:PORT", addr);
			return -EINVAL;
		}
		h = addr + 1;
		hl = (size_t)(close - h);
		colon = close + 1;
	} else {
		colon = strrchr(addr, ':');
		if (!colon || memchr(addr, ':', (size_t)(colon - addr))) {
			errbuf_set(why, whylen, "'%s' is not HOST:PORT", addr);
			return -EINVAL;
		}
		hl = (size_t)(colon - addr);
	}
	errno = 0;
	p = strtoul(colon + 1, &end, 10);
	if (!colon[1] || *end || errno || p > 65535 || colon[1] == '-' || colon[1] == '+') {
		errbuf_set(why, whylen, "'%s': the port must be a number from 0 to 65535", addr);
		return -EINVAL;
	}
	if (hl >= hostlen) {
		errbuf_set(why, whylen, "'%s': the host name is too long", addr);
		return -EINVAL;
	}
	if (hl) {
		memcpy(host, h, hl);
		host[hl] = 0;
	} else {
		snprintf(host, hostlen, "127.0.0.1");
	}
	snprintf(port, portlen, "%lu", p);
	return 0;
}

int sock_listen_tcp(const char *addr, const char *what, char *bound, size_t boundlen, char *err,
		    size_t errlen)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE };
	struct addrinfo *res, *ai;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char host[256], port[8], why[160];
	int fd = -1, ret, one = 1;

	ret = sock_split_hostport(addr, host, sizeof(host), port, sizeof(port), why, sizeof(why));
	if (ret < 0) {
		errbuf_set(err, errlen, "%s: %s", what, why);
		return ret;
	}
	ret = getaddrinfo(host, port, &hints, &res);
	if (ret) {
		errbuf_set(err, errlen, "%s '%s': %s", what, addr, gai_strerror(ret));
		return -EADDRNOTAVAIL;
	}
	ret = -EADDRNOTAVAIL;
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
			    ai->ai_protocol);
		if (fd < 0) {
			ret = -errno;
			continue;
		}
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 16) == 0)
			break;
		ret = -errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0) {
		errbuf_set(err, errlen, "cannot listen on %s '%s': %s", what, addr, strerror(-ret));
		return ret;
	}
	if (bound && getsockname(fd, (struct sockaddr *)&ss, &sl) == 0) {
		char h[INET6_ADDRSTRLEN], p[8];

		if (getnameinfo((struct sockaddr *)&ss, sl, h, sizeof(h), p, sizeof(p),
				NI_NUMERICHOST | NI_NUMERICSERV) == 0)
			snprintf(bound, boundlen, ss.ss_family == AF_INET6 ? "[%s]:%s" : "%s:%s", h,
				 p);
		else
			snprintf(bound, boundlen, "%s", addr);
	}
	return fd;
}
