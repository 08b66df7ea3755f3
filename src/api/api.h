/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The REST API's boundary with the VMM: Cloud Hypervisor's API
 * (/api/v1/vm.create, vm.boot, vm.info, ...) on a Unix socket, served on
 * the VMM's event loop.
 *
 * The API layer (src/api) knows nothing of VMM internals. It parses HTTP and
 * JSON, checks each request against the VM's state (answering 404/405 as
 * the OpenAPI contract says) and only then calls one of the operations
 * below, which the VMM implements. docs/api.md lists the endpoints, codes
 * and limits.
 */
#ifndef PHYLLO_API_API_H
#define PHYLLO_API_API_H

#include <stdbool.h>
#include <stddef.h>

#include "base/config.h"

struct event_loop;
struct api_server;

/* Cloud Hypervisor's VmState, plus "no VM yet". */
enum api_vm_state {
	API_VM_NONE,     /* no VM created (vm.info answers 404) */
	API_VM_CREATED,
	API_VM_RUNNING,
	API_VM_PAUSED,
	API_VM_SHUTDOWN,
};

/* "Created", "Running", ... as vm.info spells them ("None" for API_VM_NONE). */
const char *api_vm_state_name(enum api_vm_state state);

/* The body of vm.restore (Cloud Hypervisor's RestoreConfig, our part). */
struct api_restore_config {
	const char *source_url; /* "file:///DIR" (the API checks the scheme) */
	bool prefault;
};

/*
 * What the VMM does for the API. All are called on the event-loop thread,
 * only in the states listed (the API answers the others itself), and must
 * not call api_server_close(). Those returning int return 0 or -errno and
 * put a one-line message in err, which becomes the response body. The
 * status for a failure: -EINVAL 400, -EBUSY 405 (wrong state), -EEXIST 409,
 * -EOPNOTSUPP/-ENOSYS 501, anything else 500.
 *
 * state and config are required. Any other member may be NULL: its
 * endpoint then answers 501 Not Implemented.
 */
struct api_vmm_ops {
	enum api_vm_state (*state)(void *vmm);
	/* The VM's configuration; NULL only in API_VM_NONE. */
	const struct vm_config *(*config)(void *vmm);
	/* API_VM_NONE. On success the VMM moves the contents out of *cfg (the
	 * struct itself stays the caller's: copy it, then zero it); on failure
	 * the API frees them. */
	int (*create)(void *vmm, struct vm_config *cfg, char *err, size_t errlen);
	int (*boot)(void *vmm, char *err, size_t errlen);         /* CREATED, SHUTDOWN */
	int (*pause)(void *vmm, char *err, size_t errlen);        /* RUNNING */
	int (*resume)(void *vmm, char *err, size_t errlen);       /* PAUSED */
	int (*shutdown)(void *vmm, char *err, size_t errlen);     /* RUNNING, PAUSED */
	int (*reboot)(void *vmm, char *err, size_t errlen);       /* RUNNING, PAUSED */
	int (*power_button)(void *vmm, char *err, size_t errlen); /* RUNNING, PAUSED */
	/* RUNNING, PAUSED: what the screen shows, as a malloc'd PNG. -ENODEV: the
	 * VM has no display; -ENODATA: it shows nothing yet. */
	int (*screenshot)(void *vmm, unsigned char **png, size_t *len, char *err, size_t errlen);
	/* RUNNING: type keys[0..n) (combinations by name, "ctrl-alt-delete")
	 * then text (NULL: none); -EINVAL for a key it does not know. */
	int (*send_keys)(void *vmm, const char *const *keys, size_t n, const char *text,
			 char *err, size_t errlen);
	/* RUNNING, PAUSED: offer the guest a monitor of width x height (the
	 * display device's resize). -ENODEV: no display; -ENOTSUP: the device
	 * cannot; -EINVAL: a size it cannot offer. */
	int (*resize_display)(void *vmm, uint32_t width, uint32_t height, char *err,
			      size_t errlen);
	int (*delete_vm)(void *vmm, char *err, size_t errlen);    /* any but NONE */
	/* PAUSED; destination_url starts with "file://". */
	int (*snapshot)(void *vmm, const char *destination_url, char *err, size_t errlen);
	/* NONE; leaves the VM Paused (vm.restore with "resume": true then
	 * calls resume). */
	int (*restore)(void *vmm, const struct api_restore_config *rc, char *err,
		       size_t errlen);
	/* Any but NONE: a malloc'd JSON object ({"device": {"name": N}}), or NULL
	 * for none ("{}" is answered). */
	char *(*counters_json)(void *vmm);
	/* vmm.shutdown: called once the 204 answer has been written (or the
	 * client has gone); the VMM should leave its loop and exit. */
	void (*shutdown_vmm)(void *vmm);
};

/*
 * Listen on cfg->path (a stale socket left by a dead process is replaced;
 * a live one, or any other kind of file, is an error) or adopt cfg->fd, an
 * already listening Unix socket (closed by api_server_close()). Connections
 * are served on loop. Returns 0 or -errno with err naming the problem.
 */
int api_server_open(struct api_server **out, struct event_loop *loop,
		    const struct api_config *cfg, const struct api_vmm_ops *ops, void *vmm,
		    char *err, size_t errlen);
/* Close every connection and the listener; unlink the socket we created. */
void api_server_close(struct api_server *s);

#endif
