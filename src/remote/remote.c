// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * phyllo-remote: one command, one HTTP request to a phyllo-vmm API socket.
 *
 *   phyllo-remote --api-socket PATH COMMAND [ARGS]
 *
 * The commands and their arguments follow Cloud Hypervisor's ch-remote. Each
 * sends one request ("Connection: close") and reads one answer: on success
 * the body is printed (JSON indented), on failure one line naming the HTTP
 * status and the server's message goes to stderr and the exit status is 1.
 * The HTTP client is a few dozen lines: the request is ours, and the answer
 * is read up to REPLY_MAX bytes and parsed just enough (status line,
 * Content-Length).
 */
#include "remote/remote.h"

#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "api/http.h"
#include "phyllome-version.h"

#define REPLY_MAX (8u << 20)

static const char usage[] =
	"usage: phyllo-remote --api-socket PATH COMMAND [ARGS]\n"
	"\n"
	"Control a phyllo-vmm through its REST API (Cloud Hypervisor's, as ch-remote).\n"
	"\n"
	"  ping                  VMM version, pid and features\n"
	"  info                  the VM's configuration and state\n"
	"  counters              the VM's device counters\n"
	"  create FILE           create a VM from a VmConfig JSON file ('-': stdin)\n"
	"  boot                  boot the created VM\n"
	"  pause, resume         pause or resume the VM's vCPUs\n"
	"  shutdown              stop the VM (vm.boot starts it again)\n"
	"  reboot                reboot the VM\n"
	"  power-button          press the ACPI power button\n"
	"  screenshot FILE       what the screen shows, as a PNG file ('-': stdout)\n"
	"  resize-display WxH    offer the guest a monitor of that size (virtio-gpu)\n"
	"  send-keys COMBO...    press keys: ctrl-alt-delete, enter, shift-f10, kp_7, ...\n"
	"  type TEXT             type TEXT as a US keyboard would\n"
	"  delete                forget the VM (stopping it first)\n"
	"  snapshot URL          snapshot the paused VM to file:///DIR\n"
	"  restore URL [prefault]\n"
	"                        restore a VM from file:///DIR (also\n"
	"                        source_url=URL[,prefault=on])\n"
	"  shutdown-vmm          end the phyllo-vmm process\n"
	"\n"
	"  -h, --help            this text\n"
	"  -V, --version         print the version\n";

struct reply {
	int status;
	char reason[64];
	char *body; /* points into raw */
	size_t body_len;
	char *raw;
};

static int connect_socket(const char *path, FILE *err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(err, "phyllo-remote: API socket path '%s' is too long\n", path);
		return -1;
	}
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;

		fprintf(err, "phyllo-remote: cannot connect to API socket '%s': %s%s\n", path,
			strerror(e), e == ENOENT || e == ECONNREFUSED ?
			" (is phyllo-vmm running with --api-socket?)" : "");
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static int send_all(int fd, const char *data, size_t len)
{
	while (len) {
		ssize_t n = send(fd, data, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Where the head ends in raw[0..len) (after the blank line), or 0. */
static size_t head_end(const char *raw, size_t len)
{
	for (size_t i = 0; i + 1 < len; i++) {
		if (raw[i] == '\n' && raw[i + 1] == '\n')
			return i + 2;
		if (i + 3 < len && !memcmp(raw + i, "\r\n\r\n", 4))
			return i + 4;
	}
	return 0;
}

/* Parse the head in raw[0..end): status, reason, Content-Length (-1: none). */
static int parse_head(const char *raw, size_t end, struct reply *r, long long *length)
{
	const char *line = raw, *stop = raw + end;

	*length = -1;
	if (end < 12 || strncmp(raw, "HTTP/1.", 7) || raw[8] != ' ' ||
	    sscanf(raw + 9, "%3d", &r->status) != 1)
		return -1;
	sscanf(raw + 12, " %63[^\r\n]", r->reason);
	while ((line = memchr(line, '\n', (size_t)(stop - line))) && ++line < stop) {
		if (!strncasecmp(line, "Content-Length:", 15))
			*length = strtoll(line + 15, NULL, 10);
	}
	return 0;
}

static int exchange(int fd, const char *head, size_t head_len, const char *body,
		    size_t body_len, struct reply *r, FILE *err)
{
	size_t got = 0, cap = 0, end = 0;
	long long length = -1;

	if (send_all(fd, head, head_len) < 0 || send_all(fd, body, body_len) < 0) {
		fprintf(err, "phyllo-remote: sending the request failed: %s\n", strerror(errno));
		return -1;
	}
	for (;;) {
		ssize_t n;

		if (got == cap) {
			char *raw;

			if (cap >= REPLY_MAX) {
				fprintf(err, "phyllo-remote: the answer is larger than %u bytes\n",
					REPLY_MAX);
				return -1;
			}
			cap = cap ? cap * 2 : 4096;
			raw = realloc(r->raw, cap + 1);
			if (!raw) {
				fprintf(err, "phyllo-remote: out of memory\n");
				return -1;
			}
			r->raw = raw;
		}
		n = recv(fd, r->raw + got, cap - got, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fprintf(err, "phyllo-remote: reading the answer failed: %s\n",
				strerror(errno));
			return -1;
		}
		got += (size_t)n;
		r->raw[got] = '\0';
		while (!end && (end = head_end(r->raw, got))) {
			if (parse_head(r->raw, end, r, &length) < 0)
				break;
			if (r->status >= 100 && r->status < 200) { /* interim: drop it */
				memmove(r->raw, r->raw + end, got - end);
				got -= end;
				end = 0;
			}
		}
		if (end && (r->status == 204 || r->status == 304))
			length = 0;
		if ((end && length >= 0 && got - end >= (unsigned long long)length) || n == 0)
			break;
	}
	if (!end || r->status < 200) {
		fprintf(err, "phyllo-remote: the server's answer is not valid HTTP\n");
		return -1;
	}
	r->body = r->raw + end;
	r->body_len = got - end;
	if (length >= 0 && (unsigned long long)length < r->body_len)
		r->body_len = (size_t)length;
	r->body[r->body_len] = '\0';
	return 0;
}

/* Print a success body: JSON indented, anything else as it came. */
static void print_body(const struct reply *r, FILE *out)
{
	json_t *v;

	if (!r->body_len)
		return;
	v = json_loadb(r->body, r->body_len, JSON_DECODE_ANY, NULL);
	if (v) {
		json_dumpf(v, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		fputc('\n', out);
		json_decref(v);
		return;
	}
	fwrite(r->body, 1, r->body_len, out);
	if (r->body[r->body_len - 1] != '\n')
		fputc('\n', out);
}

/* The server's message: Cloud Hypervisor's ["msg", ...] joined, or the text. */
static void print_failure(const char *command, const struct reply *r, FILE *err)
{
	json_t *v = json_loadb(r->body, r->body_len, JSON_DECODE_ANY, NULL), *item;
	size_t i;

	fprintf(err, "phyllo-remote: %s: HTTP %d %s", command, r->status, r->reason);
	if (json_is_array(v)) {
		json_array_foreach(v, i, item)
			if (json_is_string(item))
				fprintf(err, ": %s", json_string_value(item));
	} else if (json_is_string(v)) {
		fprintf(err, ": %s", json_string_value(v));
	} else if (r->body_len) {
		fprintf(err, ": %.*s", (int)strcspn(r->body, "\r\n"), r->body);
	}
	fputc('\n', err);
	json_decref(v);
}

static char *read_file(const char *path, size_t *len, FILE *err)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	char *data;

	if (!f) {
		fprintf(err, "phyllo-remote: cannot open '%s': %s\n", path, strerror(errno));
		return NULL;
	}
	data = malloc(HTTP_MAX_BODY_BYTES + 1);
	if (data) {
		*len = fread(data, 1, HTTP_MAX_BODY_BYTES + 1, f);
		if (ferror(f) || *len > HTTP_MAX_BODY_BYTES) {
			fprintf(err, "phyllo-remote: '%s': %s\n", path, ferror(f) ?
				"read error" : "larger than the API's 1 MiB limit");
			free(data);
			data = NULL;
		}
	}
	if (f != stdin)
		fclose(f);
	return data;
}

/* The JSON body of snapshot or restore, from ch-remote style arguments. */
static char *url_body(bool restore, int argc, char **argv, FILE *err)
{
	const char *key = restore ? "source_url" : "destination_url";
	char *url = NULL, *list, *item, *save = NULL, *text = NULL, *bad = argv[0];
	bool prefault = false, ok = true;
	json_t *v;

	if (argc < 1 || argc > (restore ? 2 : 1)) {
		fprintf(err, "phyllo-remote: usage: %s\n", restore ?
			"restore URL [prefault]" : "snapshot URL");
		return NULL;
	}
	list = strdup(argv[0]);
	if (!list)
		return NULL;
	for (item = strtok_r(list, ",", &save); item && ok; item = strtok_r(NULL, ",", &save)) {
		size_t klen = strlen(key);

		if (!strncmp(item, key, klen) && item[klen] == '=')
			url = item + klen + 1;
		else if (restore && !strcmp(item, "prefault=on"))
			prefault = true;
		else if (restore && !strcmp(item, "prefault=off"))
			prefault = false;
		else if (!url && !strchr(item, '='))
			url = argv[0]; /* a plain URL (it may hold commas) */
		else
			ok = false;
		if (url == argv[0])
			break;
	}
	if (argc == 2 && !strcmp(argv[1], "prefault")) {
		prefault = true;
	} else if (argc == 2 && ok) {
		ok = false;
		bad = argv[1];
	}
	if (!ok || !url || !*url) {
		fprintf(err, "phyllo-remote: %s: cannot read '%s' (expected %s)\n",
			restore ? "restore" : "snapshot", bad, restore ?
			"URL [prefault] or source_url=URL[,prefault=on]" : "URL or destination_url=URL");
	} else {
		v = restore ? json_pack("{s:s, s:b}", key, url, "prefault", prefault) :
			      json_pack("{s:s}", key, url);
		text = v ? json_dumps(v, JSON_COMPACT) : NULL;
		json_decref(v);
		if (!text)
			fprintf(err, "phyllo-remote: '%s' is not a valid UTF-8 URL\n", url);
	}
	free(list);
	return text;
}

/* The JSON body of send-keys (COMBO...) or type (TEXT). */
static char *keys_body(bool text, int argc, char **argv, FILE *err)
{
	json_t *v, *keys;
	char *body = NULL;

	if (text ? argc != 1 : argc < 1) {
		fprintf(err, "phyllo-remote: usage: %s\n", text ? "type TEXT" : "send-keys COMBO...");
		return NULL;
	}
	if (text) {
		v = json_pack("{s:s}", "text", argv[0]);
	} else {
		keys = json_array();
		for (int i = 0; keys && i < argc; i++)
			if (json_array_append_new(keys, json_string(argv[i])) < 0) {
				json_decref(keys);
				keys = NULL;
			}
		v = keys ? json_pack("{s:o}", "keys", keys) : NULL;
	}
	body = v ? json_dumps(v, JSON_COMPACT) : NULL;
	json_decref(v);
	if (!body)
		fprintf(err, "phyllo-remote: %s: the arguments are not valid UTF-8\n",
			text ? "type" : "send-keys");
	return body;
}

/* The JSON body of resize-display WxH. */
static char *size_body(int argc, char **argv, FILE *err)
{
	unsigned int w, h;
	char *body = NULL, tail;

	if (argc != 1 || sscanf(argv[0], "%ux%u%c", &w, &h, &tail) != 2 || !w || !h ||
	    w > 65535 || h > 65535) {
		fprintf(err, "phyllo-remote: usage: resize-display WIDTHxHEIGHT (e.g. 1280x800)\n");
		return NULL;
	}
	if (asprintf(&body, "{\"width\":%u,\"height\":%u}", w, h) < 0) {
		fprintf(err, "phyllo-remote: out of memory\n");
		return NULL;
	}
	return body;
}

/* Write a success body (the screenshot's PNG) to path, '-' for out. */
static int save_body(const struct reply *r, const char *path, FILE *out, FILE *err)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "wb") : out;
	bool ok;

	if (!f) {
		fprintf(err, "phyllo-remote: cannot create '%s': %s\n", path, strerror(errno));
		return 1;
	}
	ok = fwrite(r->body, 1, r->body_len, f) == r->body_len;
	if (f != out)
		ok = !fclose(f) && ok;
	else
		ok = !fflush(f) && ok;
	if (!ok) {
		fprintf(err, "phyllo-remote: writing '%s' failed: %s\n", path, strerror(errno));
		return 1;
	}
	return 0;
}

struct command {
	const char *name, *endpoint;
	bool put;
	int args; /* exact count; -1: the body builder checks */
};

static const struct command commands[] = {
	{ "ping", "vmm.ping", false, 0 }, { "info", "vm.info", false, 0 },
	{ "counters", "vm.counters", false, 0 }, { "create", "vm.create", true, 1 },
	{ "boot", "vm.boot", true, 0 }, { "pause", "vm.pause", true, 0 },
	{ "resume", "vm.resume", true, 0 }, { "shutdown", "vm.shutdown", true, 0 },
	{ "reboot", "vm.reboot", true, 0 }, { "power-button", "vm.power-button", true, 0 },
	{ "delete", "vm.delete", true, 0 }, { "snapshot", "vm.snapshot", true, -1 },
	{ "restore", "vm.restore", true, -1 }, { "shutdown-vmm", "vmm.shutdown", true, 0 },
	{ "screenshot", "vm.screenshot", false, 1 }, { "send-keys", "vm.send-keys", true, -1 },
	{ "type", "vm.send-keys", true, -1 },
	{ "resize-display", "vm.resize-display", true, -1 },
};

static int run(const char *socket_path, const struct command *cmd, int argc, char **argv,
	       FILE *out, FILE *err)
{
	struct reply r = { 0 };
	char *body = NULL, *request = NULL;
	size_t body_len = 0;
	int fd = -1, len, status = 1;

	if (cmd->args >= 0 && argc != cmd->args) {
		fprintf(err, "phyllo-remote: %s takes %s (see --help)\n", cmd->name,
			cmd->args ? "one argument" : "no arguments");
		return 1;
	}
	if (!strcmp(cmd->name, "create")) {
		body = read_file(argv[0], &body_len, err);
		if (!body)
			return 1;
	} else if (!strcmp(cmd->name, "send-keys") || !strcmp(cmd->name, "type")) {
		body = keys_body(!strcmp(cmd->name, "type"), argc, argv, err);
		if (!body)
			return 1;
		body_len = strlen(body);
	} else if (!strcmp(cmd->name, "resize-display")) {
		body = size_body(argc, argv, err);
		if (!body)
			return 1;
		body_len = strlen(body);
	} else if (cmd->args < 0) {
		body = url_body(!strcmp(cmd->name, "restore"), argc, argv, err);
		if (!body)
			return 1;
		body_len = strlen(body);
	}
	len = asprintf(&request, "%s /api/v1/%s HTTP/1.1\r\nHost: localhost\r\n"
		       "Accept: application/json\r\nConnection: close\r\n"
		       "%sContent-Length: %zu\r\n\r\n", cmd->put ? "PUT" : "GET", cmd->endpoint,
		       body ? "Content-Type: application/json\r\n" : "", body_len);
	if (len < 0) {
		request = NULL;
		fprintf(err, "phyllo-remote: out of memory\n");
		goto out;
	}
	fd = connect_socket(socket_path, err);
	if (fd < 0 || exchange(fd, request, (size_t)len, body, body_len, &r, err) < 0)
		goto out;
	if (r.status >= 200 && r.status < 300 && !strcmp(cmd->name, "screenshot")) {
		status = save_body(&r, argv[0], out, err);
	} else if (r.status >= 200 && r.status < 300) {
		print_body(&r, out);
		status = 0;
	} else {
		print_failure(cmd->name, &r, err);
	}
out:
	if (fd >= 0)
		close(fd);
	free(r.raw);
	free(request);
	free(body);
	return status;
}

int remote_main(int argc, char **argv, FILE *out, FILE *err)
{
	const char *socket_path = NULL;
	int i;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			fputs(usage, out);
			return 0;
		} else if (!strcmp(argv[i], "-V") || !strcmp(argv[i], "--version")) {
			fprintf(out, "phyllo-remote %s\n", PHYLLOME_VERSION);
			return 0;
		} else if (!strcmp(argv[i], "--api-socket") && i + 1 < argc) {
			socket_path = argv[++i];
		} else if (!strncmp(argv[i], "--api-socket=", 13)) {
			socket_path = argv[i] + 13;
		} else {
			fprintf(err, "phyllo-remote: unknown option '%s' (see --help)\n", argv[i]);
			return 1;
		}
	}
	if (!socket_path || !*socket_path) {
		fprintf(err, "phyllo-remote: --api-socket PATH is required (see --help)\n");
		return 1;
	}
	if (i == argc) {
		fprintf(err, "phyllo-remote: no command given (see --help)\n");
		return 1;
	}
	for (size_t c = 0; c < sizeof(commands) / sizeof(commands[0]); c++)
		if (!strcmp(argv[i], commands[c].name))
			return run(socket_path, &commands[c], argc - i - 1, argv + i + 1, out, err);
	fprintf(err, "phyllo-remote: unknown command '%s' (see --help)\n", argv[i]);
	return 1;
}
