/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Images: the read-only disk and CD files VMs start from, kept in the
 * data folder's images/ under their SHA-256 (the ID), recorded in the
 * store (store.h) with their tags.
 *
 * An import copies the file (holes stay holes), hashing as it goes,
 * checks the copy (a qcow2 must open with phyllo-vmm's own block layer
 * and name no backing file; an ISO must carry ISO 9660's CD001), makes it
 * read-only and only then records it: a kill at any point leaves either
 * no trace or a temporary file that image_recover() removes at the next
 * start. The same contents imported twice are one image with two tags.
 */
#ifndef PHYLLO_MANAGER_IMAGE_H
#define PHYLLO_MANAGER_IMAGE_H

#include <stdbool.h>
#include <stdint.h>

#include "manager/store.h"

/* Progress of a long job: done of total bytes (total 0: unknown). */
typedef void image_progress_fn(uint64_t done, uint64_t total, void *ctx);

struct image_import_req {
	const char *path;   /* an absolute path the daemon can read */
	const char *format; /* "raw", "qcow2", "iso", or NULL: from the contents */
	const char *tag;    /* "name[:tag]", or NULL: from the file's name */
	image_progress_fn *progress;
	void *progress_ctx;
};

/*
 * Import req->path into images_dir and record it. On success *out is the
 * image (store_image_clear() it) and *created says whether it is new
 * (false: the same contents were there; only the tag was added). -EINVAL:
 * a wrong format, a damaged image, a bad tag, a file we cannot read;
 * -ENOENT: no such file;
 * -ENOSPC: the disk filled (nothing is left behind).
 */
int image_import(struct store *db, const char *images_dir, const struct image_import_req *req,
		 struct store_image *out, bool *created, char *err, size_t errlen);

/*
 * Remove by reference, as `docker rmi` does: a tag of an image that has
 * others only loses that tag (*deleted false); otherwise, or with force,
 * the image, its tags and its file go (*deleted true). -EBUSY: VMs use it.
 * id receives the image's ID.
 */
int image_remove(struct store *db, const char *ref, bool force, char id[STORE_ID_LEN + 1],
		 bool *deleted, char *err, size_t errlen);

/* image_remove() and image_tag(): with store_lock() held. */
/* Point tag at the image ref names. */
int image_tag(struct store *db, const char *ref, const char *tag, char *err, size_t errlen);

/*
 * At the daemon's start: delete the temporary files of imports a kill
 * interrupted, and image files no image in the store names (an import
 * killed between rename and record). Returns how many files went.
 */
int image_recover(struct store *db, const char *images_dir);

/* A tag from a file name: "Debian-12.qcow2" -> "debian-12:latest". */
void image_default_tag(const char *path, char *out, size_t outlen);

#endif
