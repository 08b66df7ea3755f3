// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Guest RAM. By default a memfd mapped MAP_SHARED (design.md): the pages
 * can be handed to another process (vhost-user, a snapshot writer) and are
 * never moved by transparent-huge-page compaction under a running guest.
 * --memory shared=off asks for private anonymous memory with transparent
 * huge pages instead (Cloud Hypervisor's default): cheaper first touches,
 * but the kernel may compact and migrate the guest's pages while it runs.
 * MAP_NORESERVE: a 5 GiB guest costs only what it touches.
 */
#include "base/memory.h"

#include <errno.h>
#include <linux/kvm.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

int guest_mem_init(struct guest_mem *mem, uint64_t size)
{
	return guest_mem_init_opts(mem, size, true);
}

int guest_mem_init_opts(struct guest_mem *mem, uint64_t size, bool shared)
{
	int ret;

	memset(mem, 0, sizeof(*mem));
	mem->fd = -1;
	if (size == 0 || size > (1ull << 46))
		return -EINVAL;
	mem->size = size;
	mem->low_size = size < MEM_HOLE_START ? size : MEM_HOLE_START;
	mem->high_size = size - mem->low_size;

	if (!shared) {
		mem->host = mmap(NULL, size, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (mem->host == MAP_FAILED) {
			mem->host = NULL;
			return -errno;
		}
		madvise(mem->host, size, MADV_HUGEPAGE);
		madvise(mem->host, size, MADV_DONTDUMP);
		return 0;
	}
	mem->fd = memfd_create("phyllo-guest-ram", MFD_CLOEXEC);
	if (mem->fd < 0)
		return -errno;
	if (ftruncate(mem->fd, (off_t)size) < 0)
		goto err;
	mem->host = mmap(NULL, size, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_NORESERVE, mem->fd, 0);
	if (mem->host == MAP_FAILED) {
		mem->host = NULL;
		goto err;
	}
	/* Guest RAM must not end up in our core dumps. */
	madvise(mem->host, size, MADV_DONTDUMP);
	return 0;
err:
	ret = -errno;
	close(mem->fd);
	mem->fd = -1;
	return ret;
}

void guest_mem_free(struct guest_mem *mem)
{
	if (mem->host)
		munmap(mem->host, mem->size);
	if (mem->fd >= 0)
		close(mem->fd);
	memset(mem, 0, sizeof(*mem));
	mem->fd = -1;
}

static int set_slot(int vm_fd, uint32_t slot, uint64_t gpa, uint64_t size, void *host)
{
	struct kvm_userspace_memory_region region = {
		.slot = slot,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = (uintptr_t)host,
	};

	return ioctl(vm_fd, KVM_SET_USER_MEMORY_REGION, &region) < 0 ? -errno : 0;
}

int guest_mem_register(struct guest_mem *mem, int vm_fd)
{
	int ret = set_slot(vm_fd, 0, 0, mem->low_size, mem->host);

	if (ret == 0 && mem->high_size)
		ret = set_slot(vm_fd, 1, MEM_4G, mem->high_size, mem->host + mem->low_size);
	return ret;
}

void *guest_mem_ptr(const struct guest_mem *mem, uint64_t gpa, uint64_t len)
{
	if (gpa < mem->low_size) {
		if (len > mem->low_size - gpa)
			return NULL;
		return mem->host + gpa;
	}
	if (gpa >= MEM_4G && gpa - MEM_4G < mem->high_size) {
		if (len > mem->high_size - (gpa - MEM_4G))
			return NULL;
		return mem->host + mem->low_size + (gpa - MEM_4G);
	}
	return NULL;
}
