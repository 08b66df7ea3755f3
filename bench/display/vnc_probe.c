// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vnc-probe: one VMM's display measured as a viewer sees it, for
 * bench/display/run.py. It is a VNC client (libvncclient, lossless: no
 * JPEG asked for, so every VMM sends the same pixels) on the VMM's VNC
 * port and, on the guest's serial console (a Unix socket), the driver of
 * tests/guest/phyllo-draw --serve:
 *
 *   latency   "frame N" written to the console, until the client's
 *             framebuffer shows frame N's colour in its centre (guest
 *             reads the line, fills the screen, the VMM notices, encodes,
 *             sends; the client decodes): FRAMES times, median and max
 *   still     SECONDS with the picture still and the client asking for
 *             updates: the VMM's CPU time (all threads, and all but the
 *             vCPU threads) per second, bytes received
 *   anim      "anim SECONDS": the guest redraws the whole screen up to 30
 *             times a second; CPU as above, updates and bytes the client
 *             received, frames the guest drew
 *
 *   vnc-probe HOST PORT SERIAL_SOCKET VMM_PID FRAMES SECONDS
 *
 * It connects to the console first (retrying while the VMM starts), waits
 * for the guest's "PHYLLO DRAW-DONE", then connects to the VNC server.
 * Prints one JSON object. The vCPU threads are told by their names
 * ("vcpuN" ours, "CPU N/KVM" QEMU's): the guest's own drawing runs on
 * them, the same work under both VMMs.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/tcp.h>
#include <poll.h>
#include <rfb/rfbclient.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static int serial = -1;
static char out[65536];
static size_t outlen;
static unsigned long updates;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint32_t bench_colour(unsigned int n) /* phyllo-draw's frame colours */
{
	return ((n * 53u) & 0xff) << 16 | ((n * 97u) & 0xff) << 8 | ((n * 29u + 1) & 0xff);
}

/* What the guest said on its console (kept, the oldest dropped past 64 KiB). */
static void read_serial(void)
{
	char buf[4096];
	ssize_t n;

	while ((n = read(serial, buf, sizeof(buf))) > 0) {
		if (outlen + (size_t)n >= sizeof(out)) {
			memmove(out, out + sizeof(out) / 2, outlen - sizeof(out) / 2);
			outlen -= sizeof(out) / 2;
		}
		memcpy(out + outlen, buf, (size_t)n);
		outlen += (size_t)n;
		out[outlen] = 0;
	}
}

/* CPU seconds of pid: all threads, and the non-vCPU ones. */
static void cpu_of(int pid, double *all, double *vmm)
{
	char path[300], line[512];
	long tick = sysconf(_SC_CLK_TCK);
	struct dirent *e;
	DIR *d;

	*all = *vmm = 0;
	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	d = opendir(path);
	if (!d)
		return;
	while ((e = readdir(d))) {
		FILE *f;
		char comm[64] = "";
		unsigned long ut = 0, st = 0;
		char *p;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%s/stat", pid, e->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(line, sizeof(line), f) && (p = strrchr(line, ')'))) {
			char *l = strchr(line, '(');

			if (l && p > l)
				snprintf(comm, sizeof(comm), "%.*s", (int)(p - l - 1), l + 1);
			/* after ") ": state, then fields 4..; utime is field 14, stime 15 */
			sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st);
		}
		fclose(f);
		*all += (double)(ut + st) / tick;
		if (strncmp(comm, "vcpu", 4) && !strstr(comm, "/KVM"))
			*vmm += (double)(ut + st) / tick;
	}
	closedir(d);
}

static uint64_t bytes_in(rfbClient *c)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	memset(&ti, 0, sizeof(ti));
	if (getsockopt(c->sock, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0)
		return 0;
	return ti.tcpi_bytes_received;
}

static void frame_done(rfbClient *c)
{
	(void)c;
	updates++;
}

/* Serve the VNC server's messages for up to ms. */
static int pump(rfbClient *c, int ms)
{
	double end = now() + ms / 1000.0;

	do {
		int n = WaitForMessage(c, 1000);

		if (n < 0 || (n > 0 && !HandleRFBServerMessage(c)))
			return -1;
		read_serial();
	} while (now() < end);
	return 0;
}

static uint32_t centre(rfbClient *c)
{
	uint32_t v;

	/* 32 bits a pixel, red at bit 0 (rfbGetClient(8, 3, 4)'s format). */
	memcpy(&v, c->frameBuffer + 4 * ((size_t)(c->height / 2) * c->width + c->width / 2), 4);
	return (v & 0xff) << 16 | (v & 0xff00) | (v >> 16 & 0xff);
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void quiet(const char *fmt, ...)
{
	(void)fmt;
}

int main(int argc, char **argv)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	double lat[200], t0, c0, v0, c1, v1;
	int pid, frames, secs;
	uint64_t b0;
	unsigned long u0;
	rfbClient *c;

	if (argc != 7) {
		fprintf(stderr, "usage: vnc-probe HOST PORT SERIAL_SOCKET VMM_PID FRAMES SECONDS\n");
		return 2;
	}
	pid = atoi(argv[4]);
	frames = atoi(argv[5]);
	secs = atoi(argv[6]);
	if (frames < 1 || frames > 200 || secs < 1)
		return 2;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", argv[3]);
	/* The VMM may not have made its console socket yet. */
	for (int i = 0;; i++) {
		serial = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (serial >= 0 && connect(serial, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			break;
		if (serial >= 0)
			close(serial);
		if (i == 300) {
			fprintf(stderr, "vnc-probe: %s: %s\n", argv[3], strerror(errno));
			return 1;
		}
		usleep(100000);
	}
	fcntl(serial, F_SETFL, O_NONBLOCK);
	/* The guest has drawn its first picture (phyllo-draw's mode is set). */
	for (t0 = now(); !strstr(out, "PHYLLO DRAW-DONE"); usleep(100000)) {
		read_serial();
		if (strstr(out, "PHYLLO DRAW-FAILED") || now() - t0 > 600) {
			fprintf(stderr, "vnc-probe: the guest did not draw: %s\n", out);
			return 1;
		}
	}
	rfbClientLog = quiet;
	c = rfbGetClient(8, 3, 4);
	if (!c)
		return 1;
	c->appData.enableJPEG = FALSE; /* lossless from every server */
	c->appData.encodingsString = "tight zrle zlib hextile copyrect raw";
	c->FinishedFrameBufferUpdate = frame_done;
	free(c->serverHost);
	c->serverHost = strdup(argv[1]);
	c->serverPort = atoi(argv[2]);
	if (!rfbInitClient(c, NULL, NULL)) {
		fprintf(stderr, "vnc-probe: cannot connect to %s port %s\n", argv[1], argv[2]);
		return 1;
	}
	if (pump(c, 3000) < 0)
		return 1;

	/* Latency, one frame at a time, the screen idle in between. */
	for (int k = 1; k <= frames; k++) {
		char cmd[32];
		uint32_t want = bench_colour((unsigned int)k);
		int n = snprintf(cmd, sizeof(cmd), "frame %d\n", k);

		t0 = now();
		if (write(serial, cmd, (size_t)n) != n)
			return 1;
		while (centre(c) != want) {
			if (now() - t0 > 30) {
				fprintf(stderr, "vnc-probe: frame %d not seen in 30 s\n", k);
				return 1;
			}
			if (pump(c, 0) < 0)
				return 1;
		}
		lat[k - 1] = now() - t0;
		if (pump(c, 300) < 0)
			return 1;
	}
	qsort(lat, (size_t)frames, sizeof(lat[0]), cmp);

	/* A still screen, the client asking as viewers do. */
	cpu_of(pid, &c0, &v0);
	b0 = bytes_in(c);
	t0 = now();
	if (pump(c, secs * 1000) < 0)
		return 1;
	cpu_of(pid, &c1, &v1);
	printf("{\"width\": %d, \"height\": %d, \"frames\": %d, \"latency_median_ms\": %.1f, "
	       "\"latency_max_ms\": %.1f, \"still\": {\"cpu_per_s\": %.4f, \"vmm_cpu_per_s\": %.4f, "
	       "\"bytes\": %llu}, ",
	       c->width, c->height, frames, 1000 * lat[frames / 2], 1000 * lat[frames - 1],
	       (c1 - c0) / (now() - t0), (v1 - v0) / (now() - t0),
	       (unsigned long long)(bytes_in(c) - b0));

	/* A full-screen animation. */
	{
		char cmd[32], *done;
		int n = snprintf(cmd, sizeof(cmd), "anim %d\n", secs);
		unsigned int drawn = 0;

		outlen = 0;
		out[0] = 0;
		cpu_of(pid, &c0, &v0);
		b0 = bytes_in(c);
		u0 = updates;
		t0 = now();
		if (write(serial, cmd, (size_t)n) != n)
			return 1;
		while (!(done = strstr(out, "PHYLLO ANIM-DONE")) && now() - t0 < secs + 60)
			if (pump(c, 100) < 0)
				return 1;
		cpu_of(pid, &c1, &v1);
		if (done)
			sscanf(done, "PHYLLO ANIM-DONE %u", &drawn);
		printf("\"anim\": {\"seconds\": %.2f, \"guest_frames\": %u, \"updates\": %lu, "
		       "\"cpu_per_s\": %.4f, \"vmm_cpu_per_s\": %.4f, \"bytes\": %llu, "
		       "\"bytes_per_update\": %.0f}}\n",
		       now() - t0, drawn, updates - u0, (c1 - c0) / (now() - t0),
		       (v1 - v0) / (now() - t0), (unsigned long long)(bytes_in(c) - b0),
		       updates > u0 ? (double)(bytes_in(c) - b0) / (double)(updates - u0) : 0.0);
	}
	rfbClientCleanup(c);
	return 0;
}
