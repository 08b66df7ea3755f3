/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The snapshot state file: everything of a paused VM except its RAM
 * (vCPU registers, irqchip, PIT, clock, device state, the RAM layout), as
 * named sections in one file, so a new phyllo-vmm process can rebuild the
 * VM and let the guest continue where it stopped (Cloud Hypervisor's
 * vm.snapshot / vm.restore).
 *
 * Layout (integers little-endian; every payload starts 8-byte aligned):
 *
 *   file header, 80 bytes
 *     magic "PHYLSNAP", format version (u32), header size (u32),
 *     host arch ("x86_64", 16 bytes), producer ("phyllome 0.1.0", 44 bytes),
 *     CRC32 of the 76 bytes before it
 *   sections, each:
 *     name (32 bytes, NUL-padded: "vcpu.0", "irqchip", "dev.serial0", ...),
 *     payload length (u64), payload CRC32 (u32), CRC32 of these 44 header
 *     bytes (u32: a damaged length is named as such, not misread),
 *     payload, zero padding to a multiple of 8
 *   end marker: a section header whose name is empty; its length is the
 *     number of sections, its CRC field the CRC32 of every byte before it
 *   nothing after the end marker
 *
 * Writing goes to a temporary file in the destination directory that is
 * fsync'ed and renamed over the final name, so a crash never leaves a
 * half-written state file under the real name. Reading loads the whole
 * file (bounded by max_size), checks everything up front, and then hands
 * out sections by name; every problem is -errno plus a message that names
 * the file and, where there is one, the section.
 *
 * Blobs inside sections start with struct snap_blob_header (a 4-byte kind,
 * a version and the blob's size) so each decoder can refuse a blob that is
 * of another kind, newer, or cut short; snap_blob_check() does that part.
 */
#ifndef PHYLLO_SNAPSHOT_SNAPFILE_H
#define PHYLLO_SNAPSHOT_SNAPFILE_H

#include <stddef.h>
#include <stdint.h>

#define SNAP_FORMAT_VERSION 1
#define SNAP_NAME_MAX 31            /* longest section name */
#define SNAP_MAX_SECTIONS 4096
#define SNAP_STATE_MAX_SIZE (256ull << 20) /* default bound for reading */

/* File names inside a snapshot directory. */
#define SNAP_STATE_FILE "state"
#define SNAP_MEMORY_FILE "memory"

/* The architecture this build writes and accepts. */
#if defined(__x86_64__)
#define SNAP_HOST_ARCH "x86_64"
#else
#error "snapshot files: unknown host architecture"
#endif

/* --- files that appear whole or not at all --------------------------------- */

/* A temporary file in DIR that becomes DIR/FILE on commit. */
struct snap_tmpfile {
	int dir_fd;
	int fd;          /* write here */
	char *path;      /* DIR/FILE, for messages */
	char *tmp_name;  /* the temporary file's name in DIR */
	char *final_name;
};

/* Create the temporary file (mode 0600: it may hold guest memory). */
int snap_tmpfile_open(struct snap_tmpfile *t, const char *dir, const char *file,
		      char *err, size_t errlen);
/* fsync, rename over DIR/FILE, fsync DIR; frees t either way. */
int snap_tmpfile_commit(struct snap_tmpfile *t, char *err, size_t errlen);
/* Remove the temporary file and free t (safe on a freed t). */
void snap_tmpfile_abort(struct snap_tmpfile *t);

/* --- writing ------------------------------------------------------------- */

struct snap_writer {
	struct snap_tmpfile file;
	uint32_t file_crc; /* of every byte written so far */
	uint64_t offset;
	unsigned int nsections;
	char (*names)[SNAP_NAME_MAX + 1];
	unsigned int names_cap;
};

/* Start DIR/FILE (written to a temporary name until finish). DIR must exist. */
int snap_writer_open(struct snap_writer *w, const char *dir, const char *file,
		     char *err, size_t errlen);
/* Append a section. Names are 1..31 of [A-Za-z0-9._-], each used once. */
int snap_writer_add(struct snap_writer *w, const char *name, const void *data, size_t len,
		    char *err, size_t errlen);
/* Write the end marker, fsync, rename over DIR/FILE, fsync DIR. Frees w
 * whether or not it succeeds. */
int snap_writer_finish(struct snap_writer *w, char *err, size_t errlen);
/* Drop the temporary file (any time before finish; safe after it too). */
void snap_writer_abort(struct snap_writer *w);

/* --- reading ------------------------------------------------------------- */

struct snap_section {
	char name[SNAP_NAME_MAX + 1];
	const uint8_t *data; /* inside the reader's buffer */
	size_t len;
};

/* All fields are read-only for users; sections[] is in file order. */
struct snap_reader {
	char *path;
	uint8_t *buf;
	size_t size;
	uint32_t format_version;
	char arch[17];
	char producer[45];
	struct snap_section *sections;
	unsigned int nsections;
};

/* Load and check PATH (at most max_size bytes; 0 means SNAP_STATE_MAX_SIZE). */
int snap_reader_open(struct snap_reader *r, const char *path, size_t max_size,
		     char *err, size_t errlen);
/* The same checks on a buffer (copied); label names it in messages. */
int snap_reader_parse(struct snap_reader *r, const void *buf, size_t len, const char *label,
		      char *err, size_t errlen);
/* The section called name, or NULL. */
const struct snap_section *snap_reader_find(const struct snap_reader *r, const char *name);
/* Like find, but a missing section is -ENOENT with a message naming it. */
int snap_reader_need(const struct snap_reader *r, const char *name,
		     const struct snap_section **section, char *err, size_t errlen);
void snap_reader_close(struct snap_reader *r);

/* --- blobs inside sections ----------------------------------------------- */

struct snap_blob_header {
	char kind[4];     /* e.g. "VCPU" */
	uint32_t version; /* of this blob's layout */
	uint32_t size;    /* of the whole blob, this header included */
	uint32_t flags;   /* meaning depends on kind */
};

void snap_blob_header_init(struct snap_blob_header *h, const char kind[4], uint32_t version,
			   size_t size, uint32_t flags);
/*
 * Check that buf holds a blob of this kind whose version is 1..max_version
 * and whose size field equals len and is at least min_size. what names the
 * blob in messages ("section 'vcpu.0'"). On success *h is a copy of the
 * header. -EBADMSG (damage) or -ENOTSUP (a newer version).
 */
int snap_blob_check(const void *buf, size_t len, const char kind[4], uint32_t max_version,
		    size_t min_size, const char *what, struct snap_blob_header *h,
		    char *err, size_t errlen);

#endif
