// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Saving and restoring KVM's VM-wide x86 state (see vm_state.h).
 *
 * The interrupt controllers and the PIT are plain register files to KVM:
 * the get/set ioctls copy them, and KVM_SET_PIT2 restarts each counter
 * from its saved count. kvmclock is different: KVM_GET_CLOCK returns the
 * clock's current value (ns), KVM_SET_CLOCK makes the new VM's clock start
 * from it; the guest's monotonic time thus neither jumps back to zero (what
 * a fresh VM would show) nor forward (unless asked to add the downtime).
 * Cloud Hypervisor keeps the clock the same way across pause and resume.
 */
#include "arch/x86/vm_state.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include "base/log.h"

#define IRQCHIP_KIND "IRQC"
#define PIT_KIND "PIT2"
#define CLOCK_KIND "CLCK"
#define BLOB_VERSION 1
#define PIT_KNOWN_FLAGS (KVM_PIT_FLAGS_HPET_LEGACY | KVM_PIT_FLAGS_SPEAKER_DATA_ON)

_Static_assert(sizeof(struct kvm_irqchip) == 520 && sizeof(struct kvm_pit_state2) == 112 &&
	       sizeof(struct kvm_clock_data) == 48, "KVM ABI structure sizes");
_Static_assert(sizeof(struct snap_blob_header) == 16, "the *_BLOB_SIZE macros count 16");

static int fail(char *err, size_t errlen, const char *what)
{
	int ret = -errno;

	errbuf_set(err, errlen, "%s failed: %s", what, strerror(errno));
	return ret;
}

static struct kvm_irqchip *chip(struct x86_vm_state *st, int i)
{
	return i == 0 ? &st->pic_master : i == 1 ? &st->pic_slave : &st->ioapic;
}

static const char *const chip_name[] = { "PIC master", "PIC slave", "IOAPIC" };
static const uint32_t chip_id[] = { KVM_IRQCHIP_PIC_MASTER, KVM_IRQCHIP_PIC_SLAVE,
				    KVM_IRQCHIP_IOAPIC };

int x86_vm_state_save(int vm_fd, struct x86_vm_state *st, char *err, size_t errlen)
{
	char what[64];

	memset(st, 0, sizeof(*st));
	for (int i = 0; i < 3; i++) {
		chip(st, i)->chip_id = chip_id[i];
		if (ioctl(vm_fd, KVM_GET_IRQCHIP, chip(st, i)) < 0) {
			snprintf(what, sizeof(what), "KVM_GET_IRQCHIP (%s)", chip_name[i]);
			return fail(err, errlen, what);
		}
	}
	if (ioctl(vm_fd, KVM_GET_PIT2, &st->pit) < 0)
		return fail(err, errlen, "KVM_GET_PIT2");
	if (ioctl(vm_fd, KVM_GET_CLOCK, &st->clock) < 0)
		return fail(err, errlen, "KVM_GET_CLOCK");
	return 0;
}

int x86_vm_state_restore(int vm_fd, const struct x86_vm_state *st, unsigned int flags,
			 char *err, size_t errlen)
{
	struct x86_vm_state copy = *st;
	struct kvm_clock_data clock;
	char what[64];

	for (int i = 0; i < 3; i++) {
		if (ioctl(vm_fd, KVM_SET_IRQCHIP, chip(&copy, i)) < 0) {
			snprintf(what, sizeof(what), "KVM_SET_IRQCHIP (%s)", chip_name[i]);
			return fail(err, errlen, what);
		}
	}
	if (ioctl(vm_fd, KVM_SET_PIT2, &copy.pit) < 0)
		return fail(err, errlen, "KVM_SET_PIT2");
	/*
	 * Only the value, unless asked otherwise: KVM_CLOCK_TSC_STABLE and
	 * KVM_CLOCK_HOST_TSC describe how the host read it, and with
	 * KVM_CLOCK_REALTIME KVM would add the real time since then (kernels
	 * before 5.16 refuse any flag).
	 */
	memset(&clock, 0, sizeof(clock));
	clock.clock = st->clock.clock;
	if (flags & X86_VM_CLOCK_ADD_DOWNTIME && st->clock.flags & KVM_CLOCK_REALTIME) {
		clock.flags = KVM_CLOCK_REALTIME;
		clock.realtime = st->clock.realtime;
	}
	if (ioctl(vm_fd, KVM_SET_CLOCK, &clock) < 0)
		return fail(err, errlen, "KVM_SET_CLOCK");
	return 0;
}

/* --- blobs ----------------------------------------------------------------- */

static size_t encode(void *buf, const char *kind, const void *payload, size_t len)
{
	struct snap_blob_header h;

	snap_blob_header_init(&h, kind, BLOB_VERSION, sizeof(h) + len, 0);
	memcpy(buf, &h, sizeof(h));
	memcpy((uint8_t *)buf + sizeof(h), payload, len);
	return sizeof(h) + len;
}

size_t x86_irqchip_encode(const struct x86_vm_state *st, void *buf)
{
	struct kvm_irqchip chips[3] = { st->pic_master, st->pic_slave, st->ioapic };

	return encode(buf, IRQCHIP_KIND, chips, sizeof(chips));
}

size_t x86_pit_encode(const struct x86_vm_state *st, void *buf)
{
	return encode(buf, PIT_KIND, &st->pit, sizeof(st->pit));
}

size_t x86_clock_encode(const struct x86_vm_state *st, void *buf)
{
	return encode(buf, CLOCK_KIND, &st->clock, sizeof(st->clock));
}

int x86_irqchip_decode(const void *buf, size_t len, const char *what, struct x86_vm_state *st,
		       char *err, size_t errlen)
{
	struct snap_blob_header h;
	int ret = snap_blob_check(buf, len, IRQCHIP_KIND, BLOB_VERSION, X86_IRQCHIP_BLOB_SIZE,
				  what, &h, err, errlen);

	if (ret < 0)
		return ret;
	if (len != X86_IRQCHIP_BLOB_SIZE || h.flags) {
		errbuf_set(err, errlen, "%s: irqchip state of %zu bytes, flags 0x%x (%zu bytes, "
			   "no flags expected)", what, len, h.flags, X86_IRQCHIP_BLOB_SIZE);
		return -EBADMSG;
	}
	for (int i = 0; i < 3; i++) {
		struct kvm_irqchip *c = chip(st, i);

		memcpy(c, (const uint8_t *)buf + sizeof(h) + (size_t)i * sizeof(*c), sizeof(*c));
		if (c->chip_id != chip_id[i]) {
			errbuf_set(err, errlen, "%s: irqchip %d has id %u, expected %u (%s)", what, i,
				   c->chip_id, chip_id[i], chip_name[i]);
			return -EBADMSG;
		}
	}
	return 0;
}

int x86_pit_decode(const void *buf, size_t len, const char *what, struct x86_vm_state *st,
		   char *err, size_t errlen)
{
	struct snap_blob_header h;
	int ret = snap_blob_check(buf, len, PIT_KIND, BLOB_VERSION, X86_PIT_BLOB_SIZE, what, &h,
				  err, errlen);

	if (ret < 0)
		return ret;
	if (len != X86_PIT_BLOB_SIZE || h.flags) {
		errbuf_set(err, errlen, "%s: PIT state of %zu bytes, flags 0x%x (%zu bytes, "
			   "no flags expected)", what, len, h.flags, X86_PIT_BLOB_SIZE);
		return -EBADMSG;
	}
	memcpy(&st->pit, (const uint8_t *)buf + sizeof(h), sizeof(st->pit));
	if (st->pit.flags & ~PIT_KNOWN_FLAGS) {
		errbuf_set(err, errlen, "%s: PIT state has unknown flags 0x%x", what, st->pit.flags);
		return -EBADMSG;
	}
	for (int i = 0; i < 3; i++) {
		const struct kvm_pit_channel_state *c = &st->pit.channels[i];

		/* KVM marks a channel never programmed with mode 0xff. */
		if ((c->mode > 5 && c->mode != 0xff) || c->read_state > 4 || c->write_state > 4 ||
		    c->rw_mode > 4) {
			errbuf_set(err, errlen, "%s: PIT channel %d damaged (mode %u)", what, i,
				   c->mode);
			return -EBADMSG;
		}
	}
	return 0;
}

int x86_clock_decode(const void *buf, size_t len, const char *what, struct x86_vm_state *st,
		     char *err, size_t errlen)
{
	struct snap_blob_header h;
	int ret = snap_blob_check(buf, len, CLOCK_KIND, BLOB_VERSION, X86_CLOCK_BLOB_SIZE, what,
				  &h, err, errlen);

	if (ret < 0)
		return ret;
	if (len != X86_CLOCK_BLOB_SIZE || h.flags) {
		errbuf_set(err, errlen, "%s: clock state of %zu bytes, flags 0x%x (%zu bytes, "
			   "no flags expected)", what, len, h.flags, X86_CLOCK_BLOB_SIZE);
		return -EBADMSG;
	}
	memcpy(&st->clock, (const uint8_t *)buf + sizeof(h), sizeof(st->clock));
	return 0;
}

int x86_vm_state_write(const struct x86_vm_state *st, struct snap_writer *w,
		       char *err, size_t errlen)
{
	uint8_t buf[X86_IRQCHIP_BLOB_SIZE];
	int ret;

	ret = snap_writer_add(w, "irqchip", buf, x86_irqchip_encode(st, buf), err, errlen);
	if (ret == 0)
		ret = snap_writer_add(w, "pit", buf, x86_pit_encode(st, buf), err, errlen);
	if (ret == 0)
		ret = snap_writer_add(w, "clock", buf, x86_clock_encode(st, buf), err, errlen);
	return ret;
}

int x86_vm_state_read(const struct snap_reader *r, struct x86_vm_state *st,
		      char *err, size_t errlen)
{
	static const char *const names[] = { "irqchip", "pit", "clock" };
	int (*const decode[])(const void *, size_t, const char *, struct x86_vm_state *, char *,
			      size_t) = { x86_irqchip_decode, x86_pit_decode, x86_clock_decode };
	char what[256];

	memset(st, 0, sizeof(*st));
	for (int i = 0; i < 3; i++) {
		const struct snap_section *s;
		int ret = snap_reader_need(r, names[i], &s, err, errlen);

		if (ret < 0)
			return ret;
		snprintf(what, sizeof(what), "%s: section '%s'", r->path, names[i]);
		ret = decode[i](s->data, s->len, what, st, err, errlen);
		if (ret < 0)
			return ret;
	}
	return 0;
}
