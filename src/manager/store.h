/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The manager's state: one SQLite file (phyllome.db in the data folder)
 * that holds the images and their tags, the VMs and the event log, so that
 * phyllod can be killed at any moment and start again knowing everything.
 *
 * Every change is one SQLite transaction: a kill between two of them
 * leaves the file at one or the other, never between. The schema has a
 * version (PRAGMA user_version) and a list of migrations (store.c) that
 * bring an older file up to date at open; a file newer than this build
 * is refused rather than guessed at. Image files live beside the database
 * (image.c); this file only records them.
 *
 * Every call returns 0 or -errno with a one-line message in err (when err
 * is given) that names the image, tag or VM at fault: -ENOENT not found,
 * -EEXIST taken, -EBUSY in use, -EINVAL ambiguous or malformed, -EIO the
 * database failed.
 */
#ifndef PHYLLO_MANAGER_STORE_H
#define PHYLLO_MANAGER_STORE_H

#include <stddef.h>
#include <stdint.h>

/* The schema this build writes (the last migration's number). */
#define STORE_SCHEMA_VERSION 2
/* An image's ID: the SHA-256 of its file, in lower-case hex. */
#define STORE_ID_LEN 64

struct store;

struct store_image {
	char id[STORE_ID_LEN + 1];
	char format[8];        /* "raw", "qcow2" or "iso" */
	uint64_t size;         /* bytes of the file in the store */
	uint64_t virtual_size; /* bytes the guest sees */
	int64_t created;       /* Unix time of the import */
	char *source;          /* where it came from: a path or a URL */
	char *path;            /* the file in the store */
	char **tags;           /* "name:tag", sorted */
	size_t ntags;
};

/* Open (creating) the database at path and bring its schema up to date. */
int store_open(struct store **out, const char *path, char *err, size_t errlen);
void store_close(struct store *s);
/* The schema version of the open file (STORE_SCHEMA_VERSION once open). */
int store_schema_version(struct store *s);

/*
 * The manager's one lock, for a sequence of calls that must see one state
 * (resolve a reference, then remove what it named). Each call alone is
 * safe from any thread without it; image_import() takes it itself for
 * its short record phase, not for its copy.
 */
void store_lock(struct store *s);
void store_unlock(struct store *s);

void store_image_clear(struct store_image *im);
void store_image_list_free(struct store_image *list, size_t n);

/* Record an imported image (its tags are ignored: see store_tag_set).
 * -EEXIST: an image with that ID is recorded already. */
int store_image_add(struct store *s, const struct store_image *im, char *err, size_t errlen);
int store_image_get(struct store *s, const char *id, struct store_image *out, char *err,
		    size_t errlen);
/* All images, newest first. */
int store_image_list(struct store *s, struct store_image **out, size_t *n, char *err,
		     size_t errlen);
/*
 * An image by reference: a tag ("debian" means "debian:latest") first,
 * else an ID or a unique prefix of one (4 hex digits at least). -ENOENT:
 * none; -EINVAL: a prefix that matches several images (they are named).
 */
int store_image_resolve(struct store *s, const char *ref, char id[STORE_ID_LEN + 1], char *err,
			size_t errlen);
/*
 * Forget an image and its tags. -EBUSY when VMs use it: err names them.
 * The caller removes the file afterwards.
 */
int store_image_remove(struct store *s, const char *id, char *err, size_t errlen);

/* Point tag (normalized, see ref_normalize) at image id, moving it from
 * another image if it named one. */
int store_tag_set(struct store *s, const char *tag, const char *id, char *err, size_t errlen);
/* -ENOENT: no such tag. */
int store_tag_remove(struct store *s, const char *tag, char *err, size_t errlen);

/*
 * A VM: its name, the image its disk is an overlay on, its shape and, while
 * a phyllo-vmm runs it, that process. state is "created", "running" or
 * "exited"; reason says why a VM that ran is no longer running.
 */
struct store_vm {
	char id[STORE_ID_LEN + 1]; /* random, hex; the first 12 digits are its short ID */
	char name[65];
	char image_id[STORE_ID_LEN + 1];
	char state[16];
	int64_t created;
	unsigned cpus;
	uint64_t memory_mib;
	char *disk;   /* its qcow2 overlay */
	char *config; /* the rest, JSON: kernel, initramfs, cmdline */
	int pid;      /* its phyllo-vmm while running, else 0 */
	int64_t started;
	char *reason;
};

void store_vm_clear(struct store_vm *vm);
void store_vm_list_free(struct store_vm *list, size_t n);
/* A VM name as Docker's: a letter or digit, then letters, digits, "._-";
 * 64 at most. -EINVAL with err saying what is wrong. */
int vm_name_check(const char *name, char *err, size_t errlen);
/* -EEXIST: the name is taken (err names it). */
int store_vm_add(struct store *s, const struct store_vm *vm, char *err, size_t errlen);
int store_vm_get(struct store *s, const char *id, struct store_vm *out, char *err,
		 size_t errlen);
/* All VMs, oldest first. */
int store_vm_list(struct store *s, struct store_vm **out, size_t *n, char *err, size_t errlen);
/* A VM by name first, else by ID or a unique prefix of one (as images). */
int store_vm_resolve(struct store *s, const char *ref, char id[STORE_ID_LEN + 1], char *err,
		     size_t errlen);
/* Record what became of its process: state, pid (0: none), started, reason. */
int store_vm_set_state(struct store *s, const char *id, const char *state, int pid,
		       int64_t started, const char *reason, char *err, size_t errlen);
/* -ENOENT: no such VM. The caller removes its files afterwards. */
int store_vm_remove(struct store *s, const char *id, char *err, size_t errlen);

/* Append to the event log (kind: "image.import", ...). Failures are only
 * logged: an event never undoes what it reports. */
void store_event(struct store *s, const char *kind, const char *subject, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/*
 * References as users write them: "name" or "name:tag" becomes
 * "name:tag" (tag "latest" by default) in out. Names are lower-case
 * letters, digits and "._-" (a letter or digit first, 64 at most), as
 * Docker's; tags letters, digits and "._-" (128 at most). -EINVAL with
 * err saying what is wrong.
 */
int ref_normalize(const char *ref, char *out, size_t outlen, char *err, size_t errlen);
/* True when ref can only be an ID prefix (hex, 4 to 64 digits) and is
 * not also a valid name; lets error messages say which was meant. */
int ref_is_id_prefix(const char *ref);

#endif
