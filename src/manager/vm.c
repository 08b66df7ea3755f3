// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Creating and removing VMs (vm.h). The order makes a kill harmless: the
 * folder and overlay first, the record last on create; the record first,
 * the files last on remove. A folder under vms/ that no record names is
 * what a kill left, and vm_create never reuses one (IDs are random).
 */
#include "manager/vm.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "base/log.h"
#include "block/blk.h"

/* A file the daemon will hand to phyllo-vmm: absolute, readable, regular. */
static int check_file(const char *what, const char *path, char *err, size_t errlen)
{
	struct stat st;
	int fd;

	if (path[0] != '/') {
		errbuf_set(err, errlen, "%s '%.200s': give an absolute path (the daemon does not "
			   "share your working folder)", what, path);
		return -EINVAL;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;

		errbuf_set(err, errlen, "%s %.200s: %s", what, path, strerror(e));
		return e == ENOENT ? -ENOENT : -EINVAL;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		errbuf_set(err, errlen, "%s %.200s: not a regular file", what, path);
		return -EINVAL;
	}
	close(fd);
	return 0;
}

static int random_id(char id[STORE_ID_LEN + 1], char *err, size_t errlen)
{
	unsigned char b[STORE_ID_LEN / 2];

	if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b)) {
		errbuf_set(err, errlen, "getrandom: %s", strerror(errno));
		return -EIO;
	}
	for (size_t i = 0; i < sizeof(b); i++)
		snprintf(id + 2 * i, 3, "%02x", b[i]);
	return 0;
}

/* "debian:12" -> "debian-ab12": the name of the tag the user asked for,
 * else of the image's first tag, else "vm". */
static void default_name(const struct store_image *im, const char *ref, const char *id,
			 char *out, size_t len)
{
	const char *t = im->ntags ? im->tags[0] : "vm";
	char norm[200];
	size_t n;

	if (ref_normalize(ref, norm, sizeof(norm), NULL, 0) == 0) {
		for (size_t i = 0; i < im->ntags; i++)
			if (strcmp(im->tags[i], norm) == 0)
				t = im->tags[i];
	}
	n = strcspn(t, ":");

	if (n > 40)
		n = 40;
	snprintf(out, len, "%.*s-%.4s", (int)n, t, id);
}

/* Remove a VM's folder: its files (it has no subfolders), then itself. */
static void remove_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (!d) {
		if (errno != ENOENT)
			pr_warn("%s: %s", dir, strerror(errno));
		return;
	}
	while ((e = readdir(d))) {
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") &&
		    unlinkat(dirfd(d), e->d_name, 0) < 0)
			pr_warn("%s/%s: %s", dir, e->d_name, strerror(errno));
	}
	closedir(d);
	if (rmdir(dir) < 0)
		pr_warn("%s: %s", dir, strerror(errno));
}

static char *config_json(const struct vm_create_req *req)
{
	json_t *o = json_object();
	char *s;

	if (req->kernel)
		json_object_set_new(o, "kernel", json_string(req->kernel));
	if (req->initramfs)
		json_object_set_new(o, "initramfs", json_string(req->initramfs));
	if (req->cmdline)
		json_object_set_new(o, "cmdline", json_string(req->cmdline));
	s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	return s;
}

static int check_request(const struct vm_create_req *req, char *err, size_t errlen)
{
	int ret = 0;

	if (req->name)
		ret = vm_name_check(req->name, err, errlen);
	if (!ret && req->cpus > VM_MAX_CPUS) {
		errbuf_set(err, errlen, "cpus %u: 1 to %d", req->cpus, VM_MAX_CPUS);
		ret = -EINVAL;
	}
	if (!ret && req->memory_mib && (req->memory_mib < VM_MIN_MEMORY_MIB ||
					req->memory_mib > (1ull << 22))) {
		errbuf_set(err, errlen, "memory %llu MiB: %d MiB to 4 TiB",
			   (unsigned long long)req->memory_mib, VM_MIN_MEMORY_MIB);
		ret = -EINVAL;
	}
	if (!ret && req->kernel)
		ret = check_file("kernel", req->kernel, err, errlen);
	if (!ret && req->initramfs)
		ret = check_file("initramfs", req->initramfs, err, errlen);
	if (!ret && !req->kernel && (req->initramfs || req->cmdline)) {
		errbuf_set(err, errlen, "an initramfs or a command line needs a kernel");
		ret = -EINVAL;
	}
	if (!ret && req->cmdline && strlen(req->cmdline) > 4095) {
		errbuf_set(err, errlen, "the kernel command line is %zu bytes: at most 4095",
			   strlen(req->cmdline));
		ret = -EINVAL;
	}
	return ret;
}

int vm_create(struct store *db, const char *vms_dir, const struct vm_create_req *req,
	      struct store_vm *out, char *err, size_t errlen)
{
	struct store_vm vm = {0};
	struct store_image im = {0};
	char *dir = NULL;
	int ret;

	memset(out, 0, sizeof(*out));
	if (!req->image) {
		errbuf_set(err, errlen, "a VM needs an image");
		return -EINVAL;
	}
	ret = check_request(req, err, errlen);
	if (ret)
		return ret;
	store_lock(db);
	ret = store_image_resolve(db, req->image, vm.image_id, err, errlen);
	if (!ret)
		ret = store_image_get(db, vm.image_id, &im, err, errlen);
	store_unlock(db);
	if (ret)
		return ret;
	if (strcmp(im.format, "iso") == 0) {
		errbuf_set(err, errlen, "image %.12s is an ISO: a VM boots it from firmware, which "
			   "phyllo-vmm has not got yet; use a disk image", im.id);
		ret = -EINVAL;
		goto out;
	}
	ret = random_id(vm.id, err, errlen);
	if (ret)
		goto out;
	if (req->name)
		snprintf(vm.name, sizeof(vm.name), "%s", req->name);
	else
		default_name(&im, req->image, vm.id, vm.name, sizeof(vm.name));
	snprintf(vm.state, sizeof(vm.state), "created");
	vm.created = (int64_t)time(NULL);
	vm.cpus = req->cpus ? req->cpus : 1;
	vm.memory_mib = req->memory_mib ? req->memory_mib : 1024;
	vm.config = config_json(req);
	if (!vm.config || asprintf(&dir, "%s/%s", vms_dir, vm.id) < 0 ||
	    asprintf(&vm.disk, "%s/disk.qcow2", dir) < 0) {
		errbuf_set(err, errlen, "out of memory");
		ret = -ENOMEM;
		dir = NULL;
		goto out;
	}
	if (mkdir(dir, 0700) < 0) {
		ret = -errno;
		errbuf_set(err, errlen, "%s: %s", dir, strerror(errno));
		goto out;
	}
	ret = blk_create_qcow2(vm.disk, im.virtual_size, im.path, im.format, err, errlen);
	if (!ret) {
		store_lock(db);
		ret = store_vm_add(db, &vm, err, errlen);
		if (!ret)
			store_event(db, "vm.create", vm.id, "VM %s created from image %.12s", vm.name,
				    im.id);
		store_unlock(db);
	}
	if (ret) {
		remove_dir(dir);
	} else {
		*out = vm;
		memset(&vm, 0, sizeof(vm)); /* out owns its strings now */
	}
out:
	free(dir);
	store_vm_clear(&vm);
	store_image_clear(&im);
	return ret;
}

int vm_remove(struct store *db, const char *ref, char id[STORE_ID_LEN + 1], char *err,
	      size_t errlen)
{
	struct store_vm vm;
	char *dir;
	int ret = store_vm_resolve(db, ref, id, err, errlen);

	if (!ret)
		ret = store_vm_get(db, id, &vm, err, errlen);
	if (ret)
		return ret;
	if (strcmp(vm.state, "running") == 0) {
		errbuf_set(err, errlen, "VM %s is running: stop it first, or remove it with force",
			   vm.name);
		store_vm_clear(&vm);
		return -EBUSY;
	}
	ret = store_vm_remove(db, id, err, errlen);
	if (!ret) {
		store_event(db, "vm.remove", id, "VM %s removed", vm.name);
		/* The overlay's folder: the record is gone, so nothing names it. */
		dir = strdup(vm.disk);
		if (dir && strrchr(dir, '/')) {
			*strrchr(dir, '/') = '\0';
			remove_dir(dir);
		}
		free(dir);
	}
	store_vm_clear(&vm);
	return ret;
}

int vm_recover(struct store *db, const char *vms_dir)
{
	DIR *d = opendir(vms_dir);
	struct dirent *e;
	int removed = 0;

	if (!d)
		return 0;
	while ((e = readdir(d))) {
		struct store_vm vm = {0};
		char *dir;

		if (strlen(e->d_name) != STORE_ID_LEN || !ref_is_id_prefix(e->d_name))
			continue;
		if (store_vm_get(db, e->d_name, &vm, NULL, 0) != -ENOENT) {
			store_vm_clear(&vm);
			continue;
		}
		if (asprintf(&dir, "%s/%s", vms_dir, e->d_name) < 0)
			break;
		pr_info("%s: no VM has it (a create or remove was interrupted): removed", dir);
		remove_dir(dir);
		free(dir);
		removed++;
	}
	closedir(d);
	return removed;
}
