/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The device model: what a device is given, and how the VM keeps its
 * devices. Firecracker's rule: a device gets guest memory, the buses,
 * interrupts and the event loop, nothing of the VM itself, so it can be
 * built and tested on a context of a test's making (tests/unit/dev/) with
 * interrupts that a test can watch. bhyve's: each device says what it
 * keeps in a snapshot and what it needs in the DSDT through its own hooks,
 * so a new device touches its own file, its meson.build and the board.
 *
 * One registry entry per device instance: two disks are two instances of
 * one struct dev_ops, each with its own slice of the configuration. The
 * VM's board table (vmm/vm.c) lists the ops in creation order, which is
 * also the order of PCI slots, snapshot sections and DSDT objects.
 */
#ifndef PHYLLO_DEV_DEV_H
#define PHYLLO_DEV_DEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "base/config.h"
#include "base/irq.h"
#include "base/memory.h"
#include "dev/bus.h"

struct aml_buf;
struct chardev;
struct display;
struct input;
struct event_loop;
struct pci_root;
struct snap_writer;
struct snap_reader;

/* Why the VM stopped running. The first reason reported wins. */
enum vm_exit {
	VM_EXIT_NONE = 0,
	VM_EXIT_POWEROFF, /* ACPI S5: the process exits 0 */
	VM_EXIT_REBOOT,   /* reset: boot again in the same process */
	VM_EXIT_ERROR,    /* triple fault or KVM failure: exit non-zero */
	VM_EXIT_SIGNAL,   /* SIGTERM/SIGINT: shut down */
	VM_EXIT_SHUTDOWN, /* the API's vm.shutdown: the process stays */
};

/* What survives a reboot, owned by the VMM and lent to each boot. */
struct dev_host {
	struct event_loop *loop;
	struct chardev *serial;   /* NULL with --serial off */
	struct chardev *console;  /* NULL with --console off */
	uint8_t *cmos_ram;        /* 128 bytes of battery-backed CMOS */
	struct display *display;  /* the screen (dev/display.h); NULL: headless */
	struct input *input;      /* keys from people (dev/input.h); NULL: none */
	struct timespec start;    /* process start, for boot-time markers */
};

#define DEV_MAX_RESERVED 16

/*
 * Guest-physical ranges no driver claims that the OS must still leave
 * alone (ECAM, a device's fixed registers), in the order devices reserved
 * them: the board's motherboard device (hw/mbrd.c, PNP0C02) lists them.
 */
struct dev_reserved {
	unsigned int nr;
	struct {
		uint64_t base, size;
	} range[DEV_MAX_RESERVED];
};

/* Everything a device may use. */
struct dev_ctx {
	struct guest_mem *mem;
	struct bus *pio, *mmio;
	struct pci_root *pci;
	struct irq_chip *irq;
	struct dev_host *host;
	/*
	 * Let KVM signal fd on a guest write of len bytes at MMIO addr
	 * (KVM_IOEVENTFD), or stop; NULL or failing: the write reaches the
	 * bus as any other (virtio_pci.c forwards it to fd).
	 */
	int (*ioeventfd)(struct dev_ctx *c, uint64_t addr, unsigned int len, int fd, bool assign);
	/* Any thread: ask the VM to stop for this reason. */
	void (*request_exit)(struct dev_ctx *c, enum vm_exit why);
	/*
	 * Let the guest reach size bytes of host memory at gpa as RAM, with no
	 * exit per access (a framebuffer BAR). *slot < 0 takes a new slot and
	 * stores it; host NULL unmaps the slot (it stays the device's, for the
	 * next map). With log_dirty the VM records the 4 KiB pages the guest
	 * writes; dirty_log() moves them into bitmap (one bit a page, from
	 * the slot's start) and starts afresh. NULL: the VM cannot.
	 */
	int (*map_ram)(struct dev_ctx *c, int *slot, uint64_t gpa, uint64_t size, void *host,
		       bool log_dirty);
	int (*dirty_log)(struct dev_ctx *c, int slot, uint64_t *bitmap);
	void *machine; /* for the hooks above */
	struct dev_reserved reserved; /* see dev_reserve_memory() */
};

/* From realize: reserve [base, base + size) for the motherboard device. */
int dev_reserve_memory(struct dev_ctx *c, uint64_t base, uint64_t size);

static inline void dev_request_exit(struct dev_ctx *c, enum vm_exit why)
{
	c->request_exit(c, why);
}

/* Platform events, delivered to the device that implements them. */
enum platform_event {
	PLATFORM_POWER_BUTTON,
};

#define DEV_MAX_INSTANCES 64

struct dev_ops {
	const char *name;
	/*
	 * How many instances cfg asks for (at most max), each with the part
	 * of cfg it reads in slices[i]. NULL: exactly one, with the whole
	 * config as its slice (for devices that are always there).
	 */
	unsigned int (*instances)(const struct vm_config *cfg, const void *slices[],
				  unsigned int max);
	/*
	 * Build instance index on c. *state NULL with 0: absent after all
	 * (e.g. --serial off). -errno, with a message naming the problem (the
	 * option, the file) in err; otherwise the VM says "device NAME: ...".
	 */
	int (*realize)(struct dev_ctx *c, const void *slice, unsigned int index, void **state,
		       char *err, size_t errlen);
	void (*unrealize)(void *state);
	/*
	 * Snapshot, with every vCPU parked: finish what is in flight, then add
	 * this instance's sections to w (names "dev.<name>..."). NULL: nothing
	 * to keep. -EOPNOTSUPP with a message: this device cannot be saved.
	 */
	int (*save)(void *state, struct snap_writer *w, char *err, size_t errlen);
	/*
	 * Restore: after realize (same configuration), before any vCPU runs,
	 * put back what save() wrote. A missing or malformed section is an
	 * error that names it.
	 */
	int (*load)(void *state, const struct snap_reader *r, char *err, size_t errlen);
	/* Handle ev, or -ENOTSUP when it is not this device's. */
	int (*platform_event)(void *state, enum platform_event ev);
	/*
	 * ACPI: append what the OS must learn of this instance from the DSDT
	 * (its Device objects, with _HID and _CRS) to the \_SB scope that
	 * the table builder has open. Called after every instance is
	 * realized. NULL: nothing to describe. Errors are the buffer's
	 * (sticky, see dev/aml.h).
	 */
	void (*write_dsdt)(void *state, struct aml_buf *b);
};

/*
 * For instances(): one instance per element of an array of the config
 * (n elements of size bytes from first), at most max.
 */
unsigned int dev_instances_of_array(const void *first, size_t size, unsigned int n,
				    const void *slices[], unsigned int max);

struct dev_instance {
	const struct dev_ops *ops;
	unsigned int index;
	void *state;
};

struct dev_registry {
	struct dev_instance inst[DEV_MAX_INSTANCES];
	unsigned int nr;
};

/*
 * Realize every instance cfg asks for of each of the n ops, in table
 * order. On failure what was built is unrealized again, and err says
 * which device failed.
 */
int dev_registry_realize(struct dev_registry *r, struct dev_ctx *c, const struct vm_config *cfg,
			 const struct dev_ops *const *table, size_t n, char *err, size_t errlen);
/* Unrealize in reverse order (idempotent). */
void dev_registry_unrealize(struct dev_registry *r);
int dev_registry_save(struct dev_registry *r, struct snap_writer *w, char *err, size_t errlen);
int dev_registry_load(struct dev_registry *r, const struct snap_reader *rd, char *err,
		      size_t errlen);
/* Every instance's DSDT objects, in registry order. */
void dev_registry_write_dsdt(struct dev_registry *r, struct aml_buf *b);
/* To the first instance that takes it; -ENODEV when none does. */
int dev_registry_event(struct dev_registry *r, enum platform_event ev);
/* The state of instance index of ops, or NULL. */
void *dev_registry_find(struct dev_registry *r, const struct dev_ops *ops, unsigned int index);

#endif
