// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Device state sections for snapshots (see devstate.h).
 *
 * Why: every device's save/load needs the same framing and the same
 * refusals (missing section, cut short, of another kind, of a version this
 * build does not know), and each should name the section the same way.
 * The framing is the snapshot file's blob header (snapfile.h); a device's
 * blob has one version and one size, so the check is for exactly those:
 * a later layout bumps the version and its loader grows a case for the old.
 */
#include "dev/devstate.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "snapshot/snapfile.h"

int devstate_put(struct snap_writer *w, const char *name, const char kind[4], uint32_t version,
		 void *blob, size_t size, char *err, size_t errlen)
{
	struct snap_blob_header h;

	if (NEVER(size < sizeof(h)))
		return -EINVAL;
	snap_blob_header_init(&h, kind, version, size, 0);
	memcpy(blob, &h, sizeof(h));
	return snap_writer_add(w, name, blob, size, err, errlen);
}

int devstate_get(const struct snap_reader *r, const char *name, const char kind[4],
		 uint32_t version, void *blob, size_t size, char *err, size_t errlen)
{
	const struct snap_section *sec;
	struct snap_blob_header h;
	char what[SNAP_NAME_MAX + 16];
	int ret;

	ret = snap_reader_need(r, name, &sec, err, errlen);
	if (ret < 0)
		return ret;
	snprintf(what, sizeof(what), "section '%.*s'", SNAP_NAME_MAX, name);
	ret = snap_blob_check(sec->data, sec->len, kind, version, size, what, &h, err, errlen);
	if (ret < 0)
		return ret;
	if (h.version != version || sec->len != size) {
		errbuf_set(err, errlen, "%s: %.4s state version %u of %zu bytes, this phyllome reads "
			   "version %u of %zu bytes", what, kind, h.version, sec->len, version, size);
		return -EBADMSG;
	}
	memcpy(blob, sec->data, size);
	return 0;
}
