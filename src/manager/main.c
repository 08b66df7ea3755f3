// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * phyllod, the manager's daemon: one per user, owning the state (the
 * data folder) and serving the REST API that the phyllo CLI (and the web
 * UI) use on a Unix socket only this user can open. It runs in the
 * foreground, logging to stderr, until SIGTERM or SIGINT; kill -9 is
 * safe too (store.h, image.h).
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "base/sock.h"
#include "manager/mgr.h"
#include "manager/paths.h"
#include "manager/server.h"
#include "phyllome-version.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: phyllod [--data DIR] [--socket PATH] [-v]\n"
		"  --data DIR     the state: database, images, VM disks\n"
		"                 (default $PHYLLO_DATA, $XDG_DATA_HOME/phyllome or\n"
		"                 ~/.local/share/phyllome)\n"
		"  --socket PATH  the API socket (default $PHYLLO_SOCKET,\n"
		"                 $XDG_RUNTIME_DIR/phyllome/phyllod.sock or\n"
		"                 /tmp/phyllome-UID/phyllod.sock)\n"
		"  -v             say more\n"
		"  --version      print the version\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "data", required_argument, NULL, 'd' },
		{ "socket", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	char data[4096], sock[4096], err[1024];
	const char *data_opt = NULL, *sock_opt = NULL;
	struct mgr_server *server = NULL;
	struct mgr *m = NULL;
	sigset_t sigs;
	int o, fd, sig, ret;

	log_set_program("phyllod");
	log_set_level(LOG_INFO);
	while ((o = getopt_long(argc, argv, "vh", opts, NULL)) != -1) {
		switch (o) {
		case 'd': data_opt = optarg; break;
		case 's': sock_opt = optarg; break;
		case 'v': log_set_level(LOG_DEBUG); break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("phyllod %s\n", PHYLLOME_VERSION); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "phyllod: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	if (data_opt)
		snprintf(data, sizeof(data), "%s", data_opt);
	else if (paths_data_dir(data, sizeof(data), err, sizeof(err)))
		goto fail;
	if (sock_opt)
		snprintf(sock, sizeof(sock), "%s", sock_opt);
	else if (paths_socket(sock, sizeof(sock), true, err, sizeof(err)))
		goto fail;

	/* Signals are taken by sigwait below, on this thread only. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (mgr_open(&m, data, err, sizeof(err)))
		goto fail;
	fd = sock_listen_unix(sock, "phyllod socket", err, sizeof(err));
	if (fd < 0)
		goto fail;
	if (mgr_server_start(&server, m, fd, err, sizeof(err))) {
		close(fd);
		unlink(sock);
		goto fail;
	}
	pr_info("phyllod %s: data in %s, listening on %s", PHYLLOME_VERSION, data, sock);
	do {
		ret = sigwait(&sigs, &sig);
	} while (ret == 0 && sig == SIGHUP);
	pr_info("phyllod: %s, stopping", strsignal(sig));
	mgr_server_stop(server);
	unlink(sock);
	mgr_close(m);
	return 0;
fail:
	fprintf(stderr, "phyllod: %s\n", err);
	mgr_close(m);
	return 1;
}
