// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Split virtqueues (virtio 1.2, section 2.7), device side.
 *
 * Why it looks the way it does:
 *
 * - The guest writes the descriptor table and the available ring while we
 *   read them, and may be malicious. Every guest field is loaded once into a
 *   local copy (a descriptor is copied whole, then a compiler barrier stops
 *   the compiler from re-reading guest memory for a field already checked),
 *   and only the copy is checked and used.
 *
 * - Every loop over guest data is bounded by a number we chose, not one the
 *   guest wrote: a chain visits at most the size of the table it is in (the
 *   queue size, or an indirect table's length) and at most
 *   VIRTQ_ELEM_MAX_SEGS data descriptors in total.
 *
 * - A buffer must be wholly RAM (guest_mem_ptr()). Our two RAM slots are
 *   never adjacent in guest-physical space (the MMIO hole lies between), so
 *   a buffer crossing the end of a slot always covers non-RAM too: it is
 *   refused, not split. If memory layouts with adjacent slots ever appear,
 *   splitting belongs here (one descriptor would then give two iovecs).
 *
 * - Zero-length data descriptors are legal and skipped (no iovec), but they
 *   still count towards the bounds and the readable-before-writable order.
 *
 * - An indirect descriptor may end a direct chain (the spec forbids only
 *   INDIRECT together with NEXT, and INDIRECT inside a table). Linux puts it
 *   at the head; virtio-queue (rust-vmm) also accepts it later in the chain.
 *
 * Memory ordering, with the driver's mirror image in brackets:
 *
 *   pop:     load-acquire avail->idx, then read ring entries and descriptors
 *            [driver: write descriptors and ring entry, wmb, write avail->idx]
 *   push:    write the used element, store-release used->idx
 *            [driver: read used->idx, rmb, read the used element]
 *   notify:  store used->idx; FULL barrier; load used_event / avail->flags
 *            [driver: store used_event / flags; mb; load used->idx]
 *   re-arm:  store avail_event / used->flags; FULL barrier; load avail->idx
 *            [driver: store avail->idx; mb; load avail_event / used->flags]
 *
 * The last two are store-then-load on each side: without the full barrier
 * both sides can read the other's old value and an interrupt or a kick is
 * lost for good. On x86 acquire/release cost nothing but stop the compiler;
 * the full barrier is an mfence.
 *
 * virtio 1.x rings are little-endian; le16toh() and friends say so even
 * though they compile to nothing on x86.
 */
#include "virtio/virtq.h"

#include <endian.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/log.h"

/* The rings as the spec lays them out; all fields little-endian. */
struct virtq_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct virtq_avail {
	uint16_t flags;
	uint16_t idx;
	uint16_t ring[]; /* size entries, then used_event */
};

struct virtq_used_elem {
	uint32_t id;
	uint32_t len;
};

struct virtq_used {
	uint16_t flags;
	uint16_t idx;
	struct virtq_used_elem ring[]; /* size entries, then avail_event */
};

_Static_assert(sizeof(struct virtq_desc) == 16, "descriptor layout");
_Static_assert(sizeof(struct virtq_used_elem) == 8, "used element layout");
_Static_assert(VIRTQ_ELEM_MAX_SEGS <= UINT16_MAX, "segment counts are 16-bit");

/* A descriptor after it was copied out of guest memory, in host order. */
struct desc_copy {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

/* --- guest memory accessors: each names its ordering ----------------------- */

static inline uint16_t load_le16_relaxed(const uint16_t *p)
{
	return le16toh(__atomic_load_n(p, __ATOMIC_RELAXED));
}

static inline uint16_t load_le16_acquire(const uint16_t *p)
{
	return le16toh(__atomic_load_n(p, __ATOMIC_ACQUIRE));
}

static inline void store_le16_relaxed(uint16_t *p, uint16_t v)
{
	__atomic_store_n(p, htole16(v), __ATOMIC_RELAXED);
}

static inline void store_le16_release(uint16_t *p, uint16_t v)
{
	__atomic_store_n(p, htole16(v), __ATOMIC_RELEASE);
}

static inline void store_le32_relaxed(uint32_t *p, uint32_t v)
{
	__atomic_store_n(p, htole32(v), __ATOMIC_RELAXED);
}

/* Orders our earlier stores before our later loads (see the top comment). */
static inline void full_barrier(void)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

/* Stop the compiler from re-reading guest memory instead of our copy. */
static inline void compiler_barrier(void)
{
	__asm__ __volatile__("" ::: "memory");
}

/*
 * Copy descriptor I of TABLE. Indirect tables need no alignment, so copy
 * bytes rather than dereference a possibly misaligned struct pointer.
 */
static void virtq_read_desc(const void *table, uint32_t i, struct desc_copy *d)
{
	struct virtq_desc raw;

	memcpy(&raw, (const uint8_t *)table + (size_t)i * sizeof(raw), sizeof(raw));
	compiler_barrier();
	d->addr = le64toh(raw.addr);
	d->len = le32toh(raw.len);
	d->flags = le16toh(raw.flags);
	d->next = le16toh(raw.next);
}

static uint16_t *virtq_used_event(const struct virtq *q)
{
	return &q->avail->ring[q->size];
}

static uint16_t *virtq_avail_event(const struct virtq *q)
{
	return (uint16_t *)&q->used->ring[q->size];
}

/* One warning line naming the queue, and the queue is broken from now on. */
__attribute__((format(printf, 3, 4)))
static int virtq_fail(struct virtq *q, int err, const char *fmt, ...)
{
	char why[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	pr_warn("virtq %s: %s; queue needs reset", q->name, why);
	q->broken = true;
	return err;
}

/* --- set-up ------------------------------------------------------------------ */

/* Zero Q but keep its generation counting, so old elements stay stale. */
static void virtq_clear(struct virtq *q)
{
	uint32_t gen = q->gen + 1;

	memset(q, 0, sizeof(*q));
	q->gen = gen;
}

static int virtq_map_ring(struct virtq *q, const char *what, uint64_t gpa,
			  uint64_t len, uint64_t align, void **ptr)
{
	if (gpa & (align - 1)) {
		pr_warn("virtq %s: %s ring at 0x%llx is not %llu-byte aligned", q->name,
			what, (unsigned long long)gpa, (unsigned long long)align);
		return -EINVAL;
	}
	*ptr = guest_mem_ptr(q->mem, gpa, len);
	if (!*ptr) {
		pr_warn("virtq %s: %s ring [0x%llx, +%llu) is not in guest RAM", q->name,
			what, (unsigned long long)gpa, (unsigned long long)len);
		return -EFAULT;
	}
	return 0;
}

/* Check SETUP and point Q at the rings; guest RAM is not written. */
static int virtq_attach(struct virtq *q, struct guest_mem *mem, const char *name,
			const struct virtq_setup *setup)
{
	uint64_t size = setup->size;
	void *desc, *avail, *used;
	int ret;

	virtq_clear(q);
	q->mem = mem;
	snprintf(q->name, sizeof(q->name), "%s", name);
	if (size == 0 || size > VIRTQ_MAX_SIZE || (size & (size - 1))) {
		/* 16-bit ring indices wrap at 65536: only a power of two divides it. */
		pr_warn("virtq %s: size %llu is not a power of two in [1, %d]", q->name,
			(unsigned long long)size, VIRTQ_MAX_SIZE);
		return -EINVAL;
	}
	ret = virtq_map_ring(q, "descriptor", setup->desc_gpa, 16 * size, 16, &desc);
	if (ret == 0)
		ret = virtq_map_ring(q, "available", setup->avail_gpa, 6 + 2 * size, 2, &avail);
	if (ret == 0)
		ret = virtq_map_ring(q, "used", setup->used_gpa, 6 + 8 * size, 4, &used);
	if (ret < 0)
		return ret;

	q->size = setup->size;
	q->desc_gpa = setup->desc_gpa;
	q->avail_gpa = setup->avail_gpa;
	q->used_gpa = setup->used_gpa;
	q->event_idx = setup->event_idx;
	q->indirect = setup->indirect;
	q->desc = desc;
	q->avail = avail;
	q->used = used;
	q->notify_enabled = true;
	q->ready = true;
	return 0;
}

int virtq_init(struct virtq *q, struct guest_mem *mem, const char *name,
	       const struct virtq_setup *setup)
{
	int ret = virtq_attach(q, mem, name, setup);

	if (ret < 0)
		return ret;
	/* The used ring is ours: make it say what our state says. */
	store_le16_relaxed(&q->used->flags, 0);
	store_le16_relaxed(virtq_avail_event(q), 0);
	store_le16_release(&q->used->idx, 0);
	return 0;
}

void virtq_reset(struct virtq *q)
{
	virtq_clear(q);
}

void virtq_set_indices(struct virtq *q, uint16_t last_avail, uint16_t used_idx)
{
	if (NEVER(!q->ready) || NEVER(q->in_flight))
		return;
	q->last_avail = last_avail;
	q->shadow_avail = last_avail;
	q->used_idx = used_idx;
	q->signalled_used = used_idx;
	q->unsignalled = 0;
	if (q->event_idx)
		store_le16_relaxed(virtq_avail_event(q), last_avail);
	store_le16_release(&q->used->idx, used_idx);
}

/* --- snapshots --------------------------------------------------------------- */

int virtq_save_state(const struct virtq *q, struct virtq_state *st)
{
	memset(st, 0, sizeof(*st));
	if (!q->ready)
		return 0;
	if (q->in_flight)
		return -EBUSY;
	st->size = q->size;
	st->ready = 1;
	st->broken = q->broken;
	st->notify_enabled = q->notify_enabled;
	st->event_idx = q->event_idx;
	st->indirect = q->indirect;
	st->last_avail = q->last_avail;
	st->shadow_avail = q->shadow_avail;
	st->used_idx = q->used_idx;
	st->used_flags = q->used_flags;
	st->signalled_used = q->signalled_used;
	st->unsignalled = q->unsignalled;
	st->desc_gpa = q->desc_gpa;
	st->avail_gpa = q->avail_gpa;
	st->used_gpa = q->used_gpa;
	return 0;
}

int virtq_load_state(struct virtq *q, struct guest_mem *mem, const char *name,
		     const struct virtq_state *st)
{
	struct virtq_setup setup = {
		.size = st->size, .desc_gpa = st->desc_gpa, .avail_gpa = st->avail_gpa,
		.used_gpa = st->used_gpa, .event_idx = st->event_idx, .indirect = st->indirect,
	};
	int ret;

	if (!st->ready) {
		virtq_reset(q);
		return 0;
	}
	if (st->ready > 1 || st->broken > 1 || st->notify_enabled > 1 || st->event_idx > 1 ||
	    st->indirect > 1 || (st->used_flags & ~VIRTQ_USED_F_NO_NOTIFY)) {
		snprintf(q->name, sizeof(q->name), "%s", name);
		pr_warn("virtq %s: saved state has invalid flags", q->name);
		virtq_reset(q);
		return -EINVAL;
	}
	ret = virtq_attach(q, mem, name, &setup);
	if (ret < 0) {
		virtq_reset(q);
		return ret;
	}
	/* The guest may be ahead of shadow_avail, never we of it. */
	if ((uint16_t)(st->shadow_avail - st->last_avail) > st->size) {
		pr_warn("virtq %s: saved avail index %u is %u ahead of %u, queue size %u", q->name,
			st->shadow_avail, (uint16_t)(st->shadow_avail - st->last_avail),
			st->last_avail, st->size);
		virtq_reset(q);
		return -EINVAL;
	}
	q->broken = st->broken;
	q->notify_enabled = st->notify_enabled;
	q->last_avail = st->last_avail;
	q->shadow_avail = st->shadow_avail;
	q->used_idx = st->used_idx;
	q->used_flags = st->used_flags;
	q->signalled_used = st->signalled_used;
	q->unsignalled = st->unsignalled;
	return 0;
}

/* --- popping ----------------------------------------------------------------- */

/*
 * Read avail->idx. Returns how many chains are waiting, or -EINVAL when the
 * guest claims more than the ring can hold.
 */
static int virtq_refresh_avail(struct virtq *q)
{
	/* Acquire: the ring entries and descriptors we read next are at least
	 * as new as this index. */
	uint16_t idx = load_le16_acquire(&q->avail->idx);
	uint16_t waiting = (uint16_t)(idx - q->last_avail);

	if (waiting > q->size)
		return virtq_fail(q, -EINVAL, "avail idx %u is %u ahead of %u, queue size %u",
				  idx, waiting, q->last_avail, q->size);
	q->shadow_avail = idx;
	return waiting;
}

/*
 * Ask for a kick when the guest adds the chain at last_avail, then look
 * again: anything added before the guest could see our request is ours to
 * pop now. Returns the number waiting, or -errno.
 */
static int virtq_arm_notify(struct virtq *q)
{
	if (q->event_idx)
		store_le16_relaxed(virtq_avail_event(q), q->last_avail);
	else
		store_le16_relaxed(&q->used->flags, q->used_flags);
	full_barrier();
	return virtq_refresh_avail(q);
}

/* Walking one chain, possibly through one indirect table. */
struct chain_walk {
	struct virtq *q;
	struct virtq_elem *elem;
	const void *table;      /* the descriptor table being walked */
	uint32_t table_len;     /* its entries */
	uint32_t budget;        /* descriptors we may still read from it */
	uint32_t data_descs;    /* non-indirect descriptors in the chain so far */
	uint32_t index;         /* current descriptor's index in table */
	bool in_indirect;
	bool seen_writable;
	uint64_t total_len;
};

__attribute__((format(printf, 3, 4)))
static int chain_fail(const struct chain_walk *w, int err, const char *fmt, ...)
{
	char why[112];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	return virtq_fail(w->q, err, "chain at head %u, %sdescriptor %u: %s",
			  w->elem->head, w->in_indirect ? "indirect " : "", w->index, why);
}

/* D points to an indirect table: check it and continue the walk inside it. */
static int virtq_enter_indirect(struct chain_walk *w, const struct desc_copy *d)
{
	const void *table;

	if (!w->q->indirect)
		return chain_fail(w, -EINVAL, "INDIRECT flag but the feature is not negotiated");
	if (w->in_indirect)
		return chain_fail(w, -EINVAL, "INDIRECT inside an indirect table");
	if (d->flags & VIRTQ_DESC_F_NEXT)
		return chain_fail(w, -EINVAL, "INDIRECT together with NEXT");
	if (d->len == 0 || d->len % sizeof(struct virtq_desc))
		return chain_fail(w, -EINVAL, "indirect table length %u is not a non-zero "
				  "multiple of 16", d->len);
	table = guest_mem_ptr(w->q->mem, d->addr, d->len);
	if (!table)
		return chain_fail(w, -EFAULT, "indirect table [0x%llx, +%u) is not in guest RAM",
				  (unsigned long long)d->addr, d->len);
	/* The WRITE flag of the pointing descriptor means nothing (2.7.5.3.2). */
	w->table = table;
	w->table_len = d->len / sizeof(struct virtq_desc);
	w->budget = w->table_len;
	w->in_indirect = true;
	w->index = 0;
	return 0;
}

/* D is a data descriptor: check it and add its buffer to the element. */
static int virtq_add_segment(struct chain_walk *w, const struct desc_copy *d)
{
	struct virtq_elem *elem = w->elem;
	bool writable = d->flags & VIRTQ_DESC_F_WRITE;
	void *buf;

	if (++w->data_descs > VIRTQ_ELEM_MAX_SEGS)
		return chain_fail(w, -E2BIG, "more than %d descriptors", VIRTQ_ELEM_MAX_SEGS);
	if (!writable && w->seen_writable)
		return chain_fail(w, -EINVAL, "device-readable after device-writable");
	w->seen_writable |= writable;
	if (d->len == 0)
		return 0;
	buf = guest_mem_ptr(w->q->mem, d->addr, d->len);
	if (!buf)
		return chain_fail(w, -EFAULT, "buffer [0x%llx, +%u) is not in guest RAM",
				  (unsigned long long)d->addr, d->len);
	/* Real buffers can still add up past 32 bits: the used ring's len can't. */
	w->total_len += d->len;
	if (w->total_len > UINT32_MAX)
		return chain_fail(w, -EOVERFLOW, "more than 4 GiB - 1 bytes in the chain");

	elem->iov[elem->n_readable + elem->n_writable] =
		(struct iovec){ .iov_base = buf, .iov_len = d->len };
	if (writable) {
		elem->n_writable++;
		elem->writable_len += d->len;
	} else {
		elem->n_readable++;
		elem->readable_len += d->len;
	}
	return 0;
}

/* Follow the chain starting at HEAD (already checked < size) into ELEM. */
static int virtq_walk_chain(struct virtq *q, uint16_t head, struct virtq_elem *elem)
{
	struct chain_walk w = {
		.q = q, .elem = elem, .table = q->desc, .table_len = q->size,
		.budget = q->size, .index = head,
	};
	struct desc_copy d;
	int ret;

	for (;;) {
		/* A chain that is longer than its table has revisited an entry. */
		if (w.budget-- == 0)
			return chain_fail(&w, -ELOOP, "chain longer than its %u-entry table "
					  "(a loop?)", w.table_len);
		virtq_read_desc(w.table, w.index, &d);
		if (d.flags & VIRTQ_DESC_F_INDIRECT) {
			ret = virtq_enter_indirect(&w, &d);
			if (ret < 0)
				return ret;
			continue;
		}
		ret = virtq_add_segment(&w, &d);
		if (ret < 0)
			return ret;
		if (!(d.flags & VIRTQ_DESC_F_NEXT))
			return 0;
		if (d.next >= w.table_len)
			return chain_fail(&w, -EINVAL, "next %u is outside the %u-entry table",
					  d.next, w.table_len);
		w.index = d.next;
	}
}

int virtq_pop(struct virtq *q, struct virtq_elem *elem)
{
	uint16_t head;
	int ret;

	if (!q->ready)
		return 0;
	if (q->broken)
		return -EIO;
	if (q->last_avail == q->shadow_avail) {
		ret = virtq_refresh_avail(q);
		/* Empty: re-arm kicks before saying so, unless the device polls. */
		if (ret == 0 && q->notify_enabled && q->event_idx)
			ret = virtq_arm_notify(q);
		if (ret <= 0)
			return ret;
	}

	head = load_le16_relaxed(&q->avail->ring[q->last_avail & (q->size - 1)]);
	elem->head = head;
	elem->n_readable = 0;
	elem->n_writable = 0;
	elem->readable_len = 0;
	elem->writable_len = 0;
	elem->gen = q->gen;
	if (head >= q->size)
		return virtq_fail(q, -EINVAL, "avail ring slot %u: head %u >= queue size %u",
				  q->last_avail & (q->size - 1), head, q->size);
	ret = virtq_walk_chain(q, head, elem);
	if (ret < 0)
		return ret;
	q->last_avail++;
	q->in_flight++;
	return 1;
}

void virtq_unpop(struct virtq *q, const struct virtq_elem *elem)
{
	if (!q->ready || q->broken || elem->gen != q->gen)
		return;
	if (NEVER(q->in_flight == 0))
		return;
	q->last_avail--;
	q->in_flight--;
}

/* --- completing -------------------------------------------------------------- */

void virtq_push(struct virtq *q, const struct virtq_elem *elem, uint32_t written_len)
{
	struct virtq_used_elem *slot;

	/* After a reset the element's rings may be the guest's memory again. */
	if (!q->ready || q->broken || elem->gen != q->gen)
		return;
	if (NEVER(q->in_flight == 0))
		return;
	if (NEVER(written_len > elem->writable_len))
		written_len = elem->writable_len;

	slot = &q->used->ring[q->used_idx & (q->size - 1)];
	store_le32_relaxed(&slot->id, elem->head);
	store_le32_relaxed(&slot->len, written_len);
	q->used_idx++;
	q->in_flight--;
	q->unsignalled++;
	/* Release: the guest that sees the new idx sees the element above. */
	store_le16_release(&q->used->idx, q->used_idx);
}

bool virtq_should_notify(struct virtq *q)
{
	uint16_t old = q->signalled_used;
	uint16_t new = q->used_idx;
	/* 65536 pushes without asking: the 16-bit window says nothing. */
	bool wrapped = q->unsignalled > UINT16_MAX;
	uint16_t event;

	if (!q->ready || q->broken || q->unsignalled == 0)
		return false;
	q->signalled_used = new;
	q->unsignalled = 0;
	/* Our used->idx store (push) must be visible before we read the
	 * guest's wish, or we and the guest can both miss the other. */
	full_barrier();
	if (q->event_idx) {
		/* Notify when used_event lies in [old, new): vring_need_event(). */
		event = load_le16_relaxed(virtq_used_event(q));
		return wrapped || (uint16_t)(new - event - 1) < (uint16_t)(new - old);
	}
	return !(load_le16_relaxed(&q->avail->flags) & VIRTQ_AVAIL_F_NO_INTERRUPT);
}

/* --- kicks -------------------------------------------------------------------- */

void virtq_disable_notify(struct virtq *q)
{
	if (!q->ready || !q->notify_enabled)
		return;
	q->notify_enabled = false;
	/*
	 * With EVENT_IDX there is nothing to write: avail_event stays where it
	 * is, so the guest kicks at most once more, when it passes it (the
	 * driver must ignore used->flags then, 2.7.10).
	 */
	if (!q->event_idx) {
		q->used_flags |= VIRTQ_USED_F_NO_NOTIFY;
		store_le16_relaxed(&q->used->flags, q->used_flags);
	}
}

bool virtq_enable_notify(struct virtq *q)
{
	if (!q->ready)
		return false;
	if (q->broken)
		return true;
	q->notify_enabled = true;
	q->used_flags &= (uint16_t)~VIRTQ_USED_F_NO_NOTIFY;
	/* A broken ring also answers "look again": the next pop says why. */
	return virtq_arm_notify(q) != 0;
}

/* --- element helpers ---------------------------------------------------------- */


int virtq_elem_read(const struct virtq_elem *elem, uint32_t offset, void *buf, size_t len)
{
	if (offset > elem->readable_len || len > elem->readable_len - offset)
		return -EINVAL;
	ALWAYS(iov_to_buf(virtq_elem_readable(elem), elem->n_readable, offset, buf, len) == len);
	return 0;
}

int virtq_elem_write(const struct virtq_elem *elem, uint32_t offset, const void *buf,
		     size_t len)
{
	if (offset > elem->writable_len || len > elem->writable_len - offset)
		return -EINVAL;
	ALWAYS(iov_from_buf(virtq_elem_writable(elem), elem->n_writable, offset, buf, len) == len);
	return 0;
}

