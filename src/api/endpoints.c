// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The routes of Cloud Hypervisor's API (/api/v1/<endpoint>) that phyllo-vmm
 * serves, checked in a fixed order so every answer is predictable:
 *
 *   unknown path 404 -> an endpoint of the contract we do not have 501 ->
 *   wrong method 405 -> body where none is taken 400 / missing 411, 400 ->
 *   the VM's state (the table's status for it, e.g. 404 "no VM") ->
 *   the body's JSON (400 naming the field) -> the VMM's operation.
 *
 * The state table per endpoint follows the OpenAPI contract's codes (vm.pause
 * is 404 without a VM and 405 when not running); where the contract names
 * none, 409 Conflict says "not in this state". Errors carry a JSON array of
 * message strings, the shape Cloud Hypervisor answers with.
 */
#include "api/endpoints.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/json_schema.h"
#include "api/vmconfig_json.h"
#include "base/file.h"
#include "base/log.h"
#include "phyllome-version.h"

const char *api_vm_state_name(enum api_vm_state state)
{
	switch (state) {
	case API_VM_NONE: return "None";
	case API_VM_CREATED: return "Created";
	case API_VM_RUNNING: return "Running";
	case API_VM_PAUSED: return "Paused";
	case API_VM_SHUTDOWN: return "Shutdown";
	}
	return "?";
}

/* Answer status with v (consumed) as the body; returns the status answered. */
static int set_json_body(struct http_response *resp, int status, json_t *v)
{
	char *text = v ? json_dumps(v, JSON_COMPACT) : NULL;

	json_decref(v);
	http_response_clear(resp);
	if (!text) {
		resp->status = 500;
		resp->body = strdup("[\"out of memory\"]");
		resp->body_len = resp->body ? strlen(resp->body) : 0;
		return resp->status;
	}
	resp->status = status;
	resp->body = text;
	resp->body_len = strlen(text);
	return status;
}

int api_error_response(struct http_response *resp, int status, const char *fmt, ...)
{
	char msg[512];
	json_t *arr = json_array();
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (arr && json_array_append_new(arr, js_text(msg)) < 0) {
		json_decref(arr);
		arr = NULL;
	}
	return set_json_body(resp, status, arr);
}

/* One request being answered. */
struct call {
	const struct api_vmm_ops *ops;
	void *vmm;
	const struct http_request *req;
	struct http_response *resp;
	const char *name; /* "vm.boot" */
	bool *shutdown_vmm_after;
};

/* A failed operation: the status its -errno stands for (see api.h). */
static int op_failed(struct call *c, int ret, const char *err)
{
	int status = ret == -EINVAL ? 400 : ret == -EBUSY ? 405 : ret == -EEXIST ? 409 :
		     ret == -EOPNOTSUPP || ret == -ENOSYS ? 501 : 500;

	return api_error_response(c->resp, status, "%s failed: %s", c->name,
				  err[0] ? err : strerror(ret < 0 ? -ret : EIO));
}

static int not_implemented(struct call *c)
{
	return api_error_response(c->resp, 501, "%s is not implemented by this phyllo-vmm",
				  c->name);
}

static int no_content(struct call *c)
{
	http_response_clear(c->resp);
	return c->resp->status = 204;
}

/* Run one of the plain operations (no body, no answer but 204). */
static int run_op(struct call *c, int (*op)(void *vmm, char *err, size_t errlen))
{
	char err[512] = "";
	int ret;

	if (!op)
		return not_implemented(c);
	ret = op(c->vmm, err, sizeof(err));
	if (ret < 0)
		return op_failed(c, ret, err);
	return no_content(c);
}

static int do_ping(struct call *c)
{
	json_t *v = json_pack("{s:s, s:s, s:I, s:[s, s]}", "build_version", PHYLLOME_VERSION,
			      "version", PHYLLOME_VERSION, "pid", (json_int_t)getpid(),
			      "features", "kvm", "io_uring");

	return set_json_body(c->resp, 200, v);
}

static int do_vmm_shutdown(struct call *c)
{
	if (!c->ops->shutdown_vmm)
		return not_implemented(c);
	*c->shutdown_vmm_after = true;
	return no_content(c);
}

static int do_create(struct call *c)
{
	struct vm_config cfg;
	char err[512] = "";
	int ret;

	if (!c->ops->create)
		return not_implemented(c);
	ret = vmconfig_from_json(c->req->body, c->req->body_len, &cfg, err, sizeof(err));
	if (ret < 0)
		return api_error_response(c->resp, ret == -ENOMEM ? 500 : 400, "%s: %s",
					  c->name, err);
	ret = c->ops->create(c->vmm, &cfg, err, sizeof(err));
	if (ret < 0) {
		vm_config_free(&cfg);
		return op_failed(c, ret, err);
	}
	return no_content(c); /* the VMM moved cfg's contents out */
}

static int do_info(struct call *c)
{
	const struct vm_config *cfg = c->ops->config(c->vmm);
	json_t *config;

	if (!cfg)
		return api_error_response(c->resp, 500, "vm.info: the VMM has no configuration");
	config = vmconfig_to_json(cfg);
	if (!config)
		return api_error_response(c->resp, 500, "vm.info: out of memory");
	/* "o" takes the reference to config, even when json_pack fails. */
	return set_json_body(c->resp, 200, json_pack("{s:o, s:s, s:I}", "config", config,
						     "state", api_vm_state_name(c->ops->state(c->vmm)),
						     "memory_actual_size",
						     (json_int_t)cfg->memory_size));
}

static int do_counters(struct call *c)
{
	char *text = c->ops->counters_json ? c->ops->counters_json(c->vmm) : NULL;

	http_response_clear(c->resp);
	c->resp->status = 200;
	c->resp->body = text ? text : strdup("{}");
	c->resp->body_len = c->resp->body ? strlen(c->resp->body) : 0;
	return 200;
}

static int do_boot(struct call *c) { return run_op(c, c->ops->boot); }
static int do_pause(struct call *c) { return run_op(c, c->ops->pause); }
static int do_resume(struct call *c) { return run_op(c, c->ops->resume); }
static int do_shutdown(struct call *c) { return run_op(c, c->ops->shutdown); }
static int do_reboot(struct call *c) { return run_op(c, c->ops->reboot); }
static int do_power_button(struct call *c) { return run_op(c, c->ops->power_button); }

static int do_screenshot(struct call *c)
{
	unsigned char *png = NULL;
	size_t len = 0;
	char err[256] = "";
	int ret = c->ops->screenshot ? c->ops->screenshot(c->vmm, &png, &len, err, sizeof(err))
				     : -ENOSYS;

	if (ret == -ENODEV || ret == -ENODATA)
		return api_error_response(c->resp, ret == -ENODEV ? 404 : 409, "%s: %s", c->name,
					  err[0] ? err : strerror(-ret));
	if (ret < 0)
		return op_failed(c, ret, err);
	http_response_clear(c->resp);
	c->resp->status = 200;
	c->resp->content_type = "image/png";
	c->resp->body = (char *)png;
	c->resp->body_len = len;
	return 200;
}

/* Ours: vm.send-keys {"keys": ["ctrl-alt-delete", ...], "text": "..."}. */
#define SEND_KEYS_MAX_COMBOS 64
#define SEND_KEYS_MAX_TEXT 4096

struct send_keys_json {
	char *keys[SEND_KEYS_MAX_COMBOS];
	size_t nr_keys;
	bool keys_given;
	char *text;
};

static int send_keys_keys(struct js_ctx *c, json_t *v, void *base)
{
	struct send_keys_json *sk = base;
	size_t i;
	json_t *e;

	if (!json_is_array(v))
		return js_bad(c, "expected an array of key combinations (\"ctrl-alt-delete\")");
	if (json_array_size(v) > SEND_KEYS_MAX_COMBOS)
		return js_bad(c, "at most %d key combinations", SEND_KEYS_MAX_COMBOS);
	json_array_foreach(v, i, e) {
		if (!json_is_string(e))
			return js_bad(c, "entry %zu: expected a string", i);
		sk->keys[sk->nr_keys] = strdup(json_string_value(e));
		if (!sk->keys[sk->nr_keys])
			return -ENOMEM;
		sk->nr_keys++;
	}
	sk->keys_given = true;
	return 0;
}

static int send_keys_check(struct js_ctx *c, void *base)
{
	struct send_keys_json *sk = base;

	if (!sk->keys_given && !sk->text)
		return js_bad(c, "give keys, text or both");
	if (sk->text && strlen(sk->text) > SEND_KEYS_MAX_TEXT)
		return js_bad(c, "text is longer than %d bytes", SEND_KEYS_MAX_TEXT);
	return 0;
}

static const struct js_field send_keys_fields[] = {
	JS_FN("keys", send_keys_keys),
	JS_STR("text", struct send_keys_json, text),
};
static const struct js_schema send_keys_schema =
	JS_SCHEMA("SendKeys", send_keys_fields, send_keys_check);

static int do_send_keys(struct call *c)
{
	struct send_keys_json sk = { 0 };
	char err[512] = "";
	int ret;

	if (!c->ops->send_keys)
		return not_implemented(c);
	ret = js_parse_body(c->req->body, c->req->body_len, &send_keys_schema, &sk, NULL, err,
			    sizeof(err));
	if (ret < 0)
		ret = api_error_response(c->resp, ret == -ENOMEM ? 500 : 400, "%s: %s", c->name,
					 err);
	else if ((ret = c->ops->send_keys(c->vmm, (const char *const *)sk.keys, sk.nr_keys,
					  sk.text, err, sizeof(err))) < 0)
		ret = op_failed(c, ret, err);
	else
		ret = no_content(c);
	for (size_t i = 0; i < sk.nr_keys; i++)
		free(sk.keys[i]);
	free(sk.text);
	return ret;
}

/* Ours: vm.resize-display {"width": W, "height": H}, as a viewer's window. */
struct resize_json {
	unsigned int width, height;
};

static const struct js_field resize_fields[] = {
	{ .name = "width", .kind = JS_F_UINT, .off = offsetof(struct resize_json, width),
	  .min = 1, .max = 65535, .required = true },
	{ .name = "height", .kind = JS_F_UINT, .off = offsetof(struct resize_json, height),
	  .min = 1, .max = 65535, .required = true },
};
static const struct js_schema resize_schema = JS_SCHEMA("DisplaySize", resize_fields, NULL);

static int do_resize_display(struct call *c)
{
	struct resize_json rz = { 0 };
	char err[512] = "";
	int ret;

	if (!c->ops->resize_display)
		return not_implemented(c);
	ret = js_parse_body(c->req->body, c->req->body_len, &resize_schema, &rz, NULL, err,
			    sizeof(err));
	if (ret < 0)
		return api_error_response(c->resp, ret == -ENOMEM ? 500 : 400, "%s: %s", c->name,
					  err);
	ret = c->ops->resize_display(c->vmm, rz.width, rz.height, err, sizeof(err));
	if (ret == -ENODEV || ret == -ENOTSUP)
		return api_error_response(c->resp, ret == -ENODEV ? 404 : 409, "%s: %s", c->name,
					  err[0] ? err : strerror(-ret));
	return ret < 0 ? op_failed(c, ret, err) : no_content(c);
}

static int do_delete(struct call *c)
{
	if (c->ops->state(c->vmm) == API_VM_NONE)
		return no_content(c); /* nothing to delete: done */
	return run_op(c, c->ops->delete_vm);
}

/* vm.snapshot and vm.restore take file:///PATH URLs only. */
static int check_file_url(const char *url, const char *field, char *err, size_t errlen)
{
	if (!file_url_path(url)) {
		errbuf_set(err, errlen, "%s: '%s' is not supported (only file:///PATH URLs are)",
			   field, url);
		return -EINVAL;
	}
	return 0;
}

struct snapshot_json {
	char *destination_url;
};
static const struct js_field snapshot_fields[] = {
	JS_STR("destination_url", struct snapshot_json, destination_url, .min = 1,
	       .required = true),
};
static const struct js_schema snapshot_schema =
	JS_SCHEMA("VmSnapshotConfig", snapshot_fields, NULL);

static int do_snapshot(struct call *c)
{
	struct snapshot_json sj = { 0 };
	char err[512] = "";
	int ret;

	if (!c->ops->snapshot)
		return not_implemented(c);
	ret = js_parse_body(c->req->body, c->req->body_len, &snapshot_schema, &sj, NULL, err,
			    sizeof(err));
	if (!ret)
		ret = check_file_url(sj.destination_url, "destination_url", err, sizeof(err));
	if (ret < 0)
		ret = api_error_response(c->resp, ret == -ENOMEM ? 500 : 400, "%s: %s", c->name,
					 err);
	else if ((ret = c->ops->snapshot(c->vmm, sj.destination_url, err, sizeof(err))) < 0)
		ret = op_failed(c, ret, err);
	else
		ret = no_content(c);
	free(sj.destination_url);
	return ret;
}

struct restore_json {
	char *source_url;
	bool prefault, resume;
};
static const struct js_field restore_fields[] = {
	JS_STR("source_url", struct restore_json, source_url, .min = 1, .required = true),
	JS_BOOL("prefault", struct restore_json, prefault),
	JS_BOOL("resume", struct restore_json, resume),
	JS_NO("memory_restore_mode", STRING, "\"Copy\""), JS_NO("zone_updates", ARRAY, NULL),
};
static const struct js_schema restore_schema =
	JS_SCHEMA("RestoreConfig", restore_fields, NULL);

static int do_restore(struct call *c)
{
	struct restore_json rj = { 0 };
	struct api_restore_config rc;
	char err[512] = "";
	int ret;

	if (!c->ops->restore)
		return not_implemented(c);
	ret = js_parse_body(c->req->body, c->req->body_len, &restore_schema, &rj, NULL, err,
			    sizeof(err));
	if (!ret)
		ret = check_file_url(rj.source_url, "source_url", err, sizeof(err));
	if (!ret && rj.resume && !c->ops->resume) {
		errbuf_set(err, sizeof(err), "\"resume\": true is not implemented");
		ret = -EOPNOTSUPP;
	}
	if (ret < 0) {
		ret = api_error_response(c->resp, ret == -ENOMEM ? 500 : ret == -EINVAL ? 400 :
					 501, "%s: %s", c->name, err);
		goto out;
	}
	rc = (struct api_restore_config){ .source_url = rj.source_url, .prefault = rj.prefault };
	ret = c->ops->restore(c->vmm, &rc, err, sizeof(err));
	if (ret < 0) {
		ret = op_failed(c, ret, err);
		goto out;
	}
	if (rj.resume && (ret = c->ops->resume(c->vmm, err, sizeof(err))) < 0) {
		ret = api_error_response(c->resp, 500, "%s: restored (Paused), but resume "
					 "failed: %s", c->name, err[0] ? err : strerror(-ret));
		goto out;
	}
	ret = no_content(c);
out:
	free(rj.source_url);
	return ret;
}

enum { N = API_VM_NONE, C = API_VM_CREATED, R = API_VM_RUNNING, P = API_VM_PAUSED,
       S = API_VM_SHUTDOWN };

struct endpoint {
	const char *name;
	enum http_method method;
	bool body;       /* takes a JSON body (required) */
	int status[5];   /* per enum api_vm_state: 0 to go on, else the answer */
	const char *wants; /* the states it needs, for the message */
	int (*run)(struct call *c);
};

#define ANY { 0, 0, 0, 0, 0 }
#define BOOTED(code) { [N] = 404, [C] = code, [S] = code }

static const struct endpoint endpoints[] = {
	{ "vmm.ping", HTTP_GET, false, ANY, NULL, do_ping },
	{ "vmm.shutdown", HTTP_PUT, false, ANY, NULL, do_vmm_shutdown },
	{ "vm.create", HTTP_PUT, true, { [C] = 409, [R] = 409, [P] = 409, [S] = 409 },
	  "no VM (vm.delete the current one first)", do_create },
	{ "vm.boot", HTTP_PUT, false, { [N] = 404, [R] = 409, [P] = 409 },
	  "Created or Shutdown", do_boot },
	{ "vm.info", HTTP_GET, false, { [N] = 404 }, NULL, do_info },
	{ "vm.counters", HTTP_GET, false, { [N] = 404 }, NULL, do_counters },
	{ "vm.pause", HTTP_PUT, false, { [N] = 404, [C] = 405, [P] = 405, [S] = 405 },
	  "Running", do_pause },
	{ "vm.resume", HTTP_PUT, false, { [N] = 404, [C] = 404, [R] = 405, [S] = 405 },
	  "Paused", do_resume },
	{ "vm.shutdown", HTTP_PUT, false, BOOTED(405), "Running or Paused", do_shutdown },
	{ "vm.reboot", HTTP_PUT, false, BOOTED(405), "Running or Paused", do_reboot },
	{ "vm.power-button", HTTP_PUT, false, BOOTED(405), "Running or Paused",
	  do_power_button },
	{ "vm.screenshot", HTTP_GET, false, BOOTED(405), "Running or Paused", do_screenshot },
	{ "vm.send-keys", HTTP_PUT, true, { [N] = 404, [C] = 405, [P] = 405, [S] = 405 },
	  "Running", do_send_keys },
	{ "vm.resize-display", HTTP_PUT, true, BOOTED(405), "Running or Paused",
	  do_resize_display },
	{ "vm.delete", HTTP_PUT, false, ANY, NULL, do_delete },
	{ "vm.snapshot", HTTP_PUT, true, { [N] = 404, [C] = 405, [R] = 405, [S] = 405 },
	  "Paused (vm.pause first)", do_snapshot },
	{ "vm.restore", HTTP_PUT, true, { [C] = 404, [R] = 404, [P] = 404, [S] = 404 },
	  "no VM (vm.delete the current one first)", do_restore },
};

/* The contract's other endpoints: known, not (yet) implemented. */
static const char *const unsupported[] = {
	"vm.resize", "vm.resize-disk", "vm.resize-zone", "vm.add-device", "vm.remove-device",
	"vm.add-disk", "vm.add-fs", "vm.add-generic-vhost-user", "vm.add-pmem", "vm.add-net",
	"vm.add-vsock", "vm.add-vdpa", "vm.add-user-device", "vm.coredump", "vm.nmi",
	"vm.receive-migration", "vm.send-migration",
};

/* Route req; returns the status answered. */
static int route(const struct api_vmm_ops *ops, void *vmm, const struct http_request *req,
		 struct http_response *resp, bool *shutdown_vmm_after)
{
	struct call c = { ops, vmm, req, resp, NULL, shutdown_vmm_after };
	const struct endpoint *ep = NULL;
	enum http_method want;
	unsigned int state;
	const char *name;

	if (strncmp(req->path, API_PATH_PREFIX, strlen(API_PATH_PREFIX)))
		return api_error_response(resp, 404, "unknown path '%s' (the API is under %s)",
					  req->path, API_PATH_PREFIX);
	name = req->path + strlen(API_PATH_PREFIX);
	for (size_t i = 0; i < ARRAY_SIZE(endpoints) && !ep; i++)
		if (!strcmp(endpoints[i].name, name))
			ep = &endpoints[i];
	if (!ep) {
		for (size_t i = 0; i < ARRAY_SIZE(unsupported); i++)
			if (!strcmp(unsupported[i], name))
				return api_error_response(resp, 501, "%s is not supported by "
							  "phyllo-vmm", name);
		return api_error_response(resp, 404, "unknown endpoint '%s'", name);
	}
	want = req->method == HTTP_HEAD && ep->method == HTTP_GET ? HTTP_HEAD : ep->method;
	if (req->method != want) {
		api_error_response(resp, 405, "%s takes %s, not %s", name,
				   http_method_name(ep->method), http_method_name(req->method));
		resp->allow = ep->method == HTTP_GET ? "GET, HEAD" : "PUT";
		return 405;
	}
	if (!ep->body && req->body_len)
		return api_error_response(resp, 400, "%s takes no request body", name);
	if (ep->body && !req->has_length)
		return api_error_response(resp, 411, "%s needs a JSON body sent with a "
					  "Content-Length", name);
	if (ep->body && !req->body_len)
		return api_error_response(resp, 400, "%s needs a JSON body", name);
	state = (unsigned int)ops->state(vmm);
	if (state >= ARRAY_SIZE(ep->status))
		return api_error_response(resp, 500, "the VMM reports an unknown VM state %u",
					  state);
	if (ep->status[state] && state == API_VM_NONE)
		return api_error_response(resp, ep->status[state], "%s: no VM is created "
					  "(vm.create first)", name);
	if (ep->status[state])
		return api_error_response(resp, ep->status[state], "%s: the VM is %s; it needs %s",
					  name, api_vm_state_name(state), ep->wants);
	c.name = name;
	return ep->run(&c);
}

void api_handle_request(const struct api_vmm_ops *ops, void *vmm,
			const struct http_request *req, struct http_response *resp,
			bool *shutdown_vmm_after)
{
	*shutdown_vmm_after = false;
	route(ops, vmm, req, resp, shutdown_vmm_after);
}
