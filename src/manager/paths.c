// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The manager's default paths (paths.h): XDG's base directories, with the
 * fallbacks a user without them gets, in one place so that the daemon and
 * the CLI can never disagree on where the socket is.
 */
#include "manager/paths.h"

#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/log.h"

/* out = a + b, or -ENAMETOOLONG naming what. */
static int put(char *out, size_t outlen, const char *what, char *err, size_t errlen,
	       const char *a, const char *b)
{
	int n = snprintf(out, outlen, "%s%s", a, b);

	if (n < 0 || (size_t)n >= outlen) {
		errbuf_set(err, errlen, "%s path is too long", what);
		return -ENAMETOOLONG;
	}
	return 0;
}

static const char *nonempty(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}

int paths_data_dir(char *out, size_t outlen, char *err, size_t errlen)
{
	const char *v;

	if ((v = nonempty("PHYLLO_DATA")))
		return put(out, outlen, "PHYLLO_DATA", err, errlen, v, "");
	if ((v = nonempty("XDG_DATA_HOME")))
		return put(out, outlen, "data", err, errlen, v, "/phyllome");
	if (!(v = nonempty("HOME"))) {
		struct passwd *pw = getpwuid(getuid());

		v = pw && pw->pw_dir && *pw->pw_dir ? pw->pw_dir : NULL;
	}
	if (!v) {
		errbuf_set(err, errlen, "no home folder: set PHYLLO_DATA or XDG_DATA_HOME");
		return -ENOENT;
	}
	return put(out, outlen, "data", err, errlen, v, "/.local/share/phyllome");
}

/* dir exists (made 0700 if not), is a folder, is ours and no one else's. */
static int own_dir(const char *dir, char *err, size_t errlen)
{
	struct stat st;

	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		errbuf_set(err, errlen, "%s: %s", dir, strerror(errno));
		return -errno;
	}
	if (lstat(dir, &st) < 0) {
		errbuf_set(err, errlen, "%s: %s", dir, strerror(errno));
		return -errno;
	}
	if (!S_ISDIR(st.st_mode) || st.st_uid != getuid() || (st.st_mode & 077)) {
		errbuf_set(err, errlen, "%s is not a folder of this user's alone (mode 0700): "
			   "refusing to put phyllod's socket there", dir);
		return -EPERM;
	}
	return 0;
}

int paths_socket(char *out, size_t outlen, bool make_dir, char *err, size_t errlen)
{
	char dir[4096], uid[24];
	const char *v;
	int ret;

	if ((v = nonempty("PHYLLO_SOCKET")))
		return put(out, outlen, "PHYLLO_SOCKET", err, errlen, v, "");
	snprintf(uid, sizeof(uid), "%u", (unsigned int)getuid());
	if ((v = nonempty("XDG_RUNTIME_DIR")))
		ret = put(dir, sizeof(dir), "socket", err, errlen, v, "/phyllome");
	else
		ret = put(dir, sizeof(dir), "socket", err, errlen, "/tmp/phyllome-", uid);
	if (!ret && make_dir)
		ret = own_dir(dir, err, errlen);
	if (!ret)
		ret = put(out, outlen, "socket", err, errlen, dir, "/phyllod.sock");
	return ret;
}
