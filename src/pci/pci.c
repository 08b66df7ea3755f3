// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * PCI configuration space and BAR placement (see pci.h for the model).
 *
 * Writes go through per-byte masks: wmask says which bits the guest may
 * change, w1cmask which bits a 1 clears (status). BAR sizing then needs no
 * special case: the address bits below the BAR's size are read-only, so
 * writing all ones reads back the size mask, as on hardware.
 *
 * After every config write that may affect decoding (the command register
 * or a BAR), pci_sync_bars() makes the MMIO bus match: a BAR is mapped
 * while memory decoding is on and its address lies inside a window.
 */
#include "pci/pci.h"

#include <errno.h>
#include <string.h>

#include "base/log.h"

#define PCI_CF8_ENABLE 0x80000000u

/* The host bridge: Intel Q35 (MCH) IDs, which Linux and firmware know. */
#define HOST_BRIDGE_VENDOR 0x8086
#define HOST_BRIDGE_DEVICE 0x29c0
#define PCI_CLASS_BRIDGE_HOST 0x060000

void pci_cfg_set16(struct pci_device *d, uint32_t off, uint16_t v)
{
	d->cfg[off] = (uint8_t)v;
	d->cfg[off + 1] = (uint8_t)(v >> 8);
}

void pci_cfg_set32(struct pci_device *d, uint32_t off, uint32_t v)
{
	pci_cfg_set16(d, off, (uint16_t)v);
	pci_cfg_set16(d, off + 2, (uint16_t)(v >> 16));
}

static void set_wmask16(struct pci_device *d, uint32_t off, uint16_t m)
{
	d->wmask[off] = (uint8_t)m;
	d->wmask[off + 1] = (uint8_t)(m >> 8);
}

void pci_device_init(struct pci_device *dev, const char *name, uint16_t vendor,
		     uint16_t device, uint32_t class_code, const struct pci_device_ops *ops,
		     void *opaque)
{
	memset(dev, 0, sizeof(*dev));
	dev->name = name;
	dev->ops = ops;
	dev->opaque = opaque;
	pci_cfg_set16(dev, PCI_VENDOR_ID, vendor);
	pci_cfg_set16(dev, PCI_DEVICE_ID, device);
	dev->cfg[PCI_CLASS_PROG] = (uint8_t)class_code;
	pci_cfg_set16(dev, PCI_CLASS_DEVICE, (uint16_t)(class_code >> 8));
	dev->cfg[PCI_HEADER_TYPE] = 0;
	set_wmask16(dev, PCI_COMMAND, PCI_COMMAND_IO | PCI_COMMAND_MEMORY |
		    PCI_COMMAND_MASTER | PCI_COMMAND_INTX_DISABLE);
	/* Status: the error bits are write-1-to-clear. */
	dev->w1cmask[PCI_STATUS + 1] = 0xf9;
	dev->wmask[PCI_INTERRUPT_LINE] = 0xff;
	dev->next_cap = 0x40;
	for (int i = 0; i < PCI_NUM_BARS; i++) {
		dev->bars[i].dev = dev;
		dev->bars[i].index = i;
	}
}

int pci_device_add_bar(struct pci_device *dev, int bar, uint64_t size, bool mem64)
{
	struct pci_bar *b;
	uint64_t mask;

	if (bar < 0 || bar >= PCI_NUM_BARS || (mem64 && bar == PCI_NUM_BARS - 1) ||
	    size < 4096 || (size & (size - 1)))
		return -EINVAL;
	b = &dev->bars[bar];
	if (b->size || (bar > 0 && dev->bars[bar - 1].mem64))
		return -EBUSY;
	b->size = size;
	b->mem64 = mem64;
	mask = ~(size - 1);
	pci_cfg_set32(dev, PCI_BAR0 + 4 * bar, mem64 ? PCI_BAR_MEM64 : 0);
	for (int i = 0; i < 4; i++)
		dev->wmask[PCI_BAR0 + 4 * bar + i] = (uint8_t)(mask >> (8 * i)) & (i ? 0xff : 0xf0);
	if (mem64)
		for (int i = 0; i < 4; i++)
			dev->wmask[PCI_BAR0 + 4 * (bar + 1) + i] = (uint8_t)(mask >> (32 + 8 * i));
	return 0;
}

int pci_device_add_ram_bar(struct pci_device *dev, int bar, uint64_t size, bool mem64)
{
	int ret = dev->ops && dev->ops->ram_bar_moved ? pci_device_add_bar(dev, bar, size, mem64) :
							 -EINVAL;

	if (ret == 0) {
		dev->bars[bar].ram = true;
		/* Memory, as a framebuffer is: reads have no side effects. */
		pci_cfg_set32(dev, PCI_BAR0 + 4 * bar, pci_cfg_get32(dev, PCI_BAR0 + 4 * bar) |
			      PCI_BAR_PREFETCH);
	}
	return ret;
}

int pci_device_add_cap(struct pci_device *dev, uint8_t id, uint8_t len)
{
	uint8_t off = (uint8_t)((dev->next_cap + 3) & ~3);
	uint8_t *link;

	if (len < 2 || off + len > 0x100 || off < 0x40)
		return -ENOSPC;
	dev->cfg[off] = id;
	dev->cfg[off + 1] = 0;
	/* Append to the end of the list. */
	link = &dev->cfg[PCI_CAPABILITY_LIST];
	while (*link)
		link = &dev->cfg[*link + 1];
	*link = off;
	pci_cfg_set16(dev, PCI_STATUS, pci_cfg_get16(dev, PCI_STATUS) | PCI_STATUS_CAP_LIST);
	dev->next_cap = (uint8_t)(off + len);
	return off;
}

static uint64_t bar_addr(const struct pci_device *dev, int bar)
{
	uint64_t lo = pci_cfg_get32(dev, PCI_BAR0 + 4 * bar) & ~0xfull;

	if (dev->bars[bar].mem64)
		lo |= (uint64_t)pci_cfg_get32(dev, PCI_BAR0 + 4 * (bar + 1)) << 32;
	return lo;
}

static void pci_bar_read(void *opaque, uint64_t off, void *data, unsigned int size)
{
	struct pci_bar *b = opaque;

	if (b->dev->ops && b->dev->ops->bar_read)
		b->dev->ops->bar_read(b->dev, b->index, off, data, size);
	else
		memset(data, 0xff, size);
}

static void pci_bar_write(void *opaque, uint64_t off, const void *data, unsigned int size)
{
	struct pci_bar *b = opaque;

	if (b->dev->ops && b->dev->ops->bar_write)
		b->dev->ops->bar_write(b->dev, b->index, off, data, size);
}

static const struct bus_dev_ops pci_bar_bus_ops = {
	.read = pci_bar_read,
	.write = pci_bar_write,
};

/* Is [addr, addr+size) inside one of the windows the DSDT gives the root bridge? */
static bool bar_placeable(const struct pci_root *root, uint64_t addr, uint64_t size)
{
	uint64_t last = addr + size - 1;

	if (last < addr)
		return false;
	return (addr >= root->mmio32_base && last < root->mmio32_end) ||
	       (addr >= root->mmio64_base && last < root->mmio64_end);
}

static void bar_unmap(struct pci_root *root, struct pci_device *dev, int i)
{
	struct pci_bar *b = &dev->bars[i];

	if (!b->registered)
		return;
	if (b->ram)
		dev->ops->ram_bar_moved(dev, i, b->addr, false);
	else
		bus_unregister(root->mmio, b->addr);
	b->registered = false;
}

static void pci_sync_bars(struct pci_root *root, struct pci_device *dev)
{
	bool decode = pci_cfg_get16(dev, PCI_COMMAND) & PCI_COMMAND_MEMORY;

	for (int i = 0; i < PCI_NUM_BARS; i++) {
		struct pci_bar *b = &dev->bars[i];
		uint64_t addr = bar_addr(dev, i);
		bool want = decode && b->size && bar_placeable(root, addr, b->size);

		if (b->registered && (!want || addr != b->addr))
			bar_unmap(root, dev, i);
		if (want && !b->registered && b->ram) {
			b->addr = addr;
			b->registered = true;
			dev->ops->ram_bar_moved(dev, i, addr, true);
		} else if (want && !b->registered) {
			if (bus_register(root->mmio, addr, b->size, dev->name, &pci_bar_bus_ops, b) == 0) {
				b->addr = addr;
				b->registered = true;
			} else {
				pr_warn("%s: BAR%d at 0x%llx overlaps another device; left unmapped",
					dev->name, i, (unsigned long long)addr);
			}
		}
	}
}

void pci_config_read(struct pci_root *root, uint8_t devfn, uint32_t offset, void *data,
		     unsigned int size)
{
	struct pci_device *dev = (devfn & 7) ? NULL : root->devs[devfn >> 3];

	if (!dev || offset + size > PCI_CFG_SIZE || (offset & (size - 1))) {
		memset(data, 0xff, size);
		return;
	}
	if (dev->ops && dev->ops->config_read)
		dev->ops->config_read(dev, offset, size);
	pthread_mutex_lock(&root->lock);
	memcpy(data, &dev->cfg[offset], size);
	pthread_mutex_unlock(&root->lock);
}

void pci_config_write(struct pci_root *root, uint8_t devfn, uint32_t offset,
		      const void *data, unsigned int size)
{
	struct pci_device *dev = (devfn & 7) ? NULL : root->devs[devfn >> 3];
	const uint8_t *v = data;
	bool sync = false;

	if (!dev || offset + size > PCI_CFG_SIZE || (offset & (size - 1)))
		return;
	pthread_mutex_lock(&root->lock);
	for (unsigned int i = 0; i < size; i++) {
		uint32_t o = offset + i;
		uint8_t w = dev->wmask[o], c = dev->w1cmask[o];

		dev->cfg[o] = (uint8_t)((dev->cfg[o] & ~w) | (v[i] & w));
		dev->cfg[o] &= (uint8_t)~(v[i] & c);
		if (o == PCI_COMMAND || (o >= PCI_BAR0 && o < PCI_BAR0 + 4 * PCI_NUM_BARS))
			sync = true;
	}
	if (sync)
		pci_sync_bars(root, dev);
	pthread_mutex_unlock(&root->lock);
	if (dev->ops && dev->ops->config_written)
		dev->ops->config_written(dev, offset, size);
}

void pci_device_replay_cfg(struct pci_device *dev, const uint8_t *saved)
{
	uint8_t cmd[4] = { saved[PCI_COMMAND], saved[PCI_COMMAND + 1], 0, 0 };

	for (uint32_t o = 0; o < PCI_CFG_SIZE; o += 4) {
		uint32_t wmask = 0, want = 0, have = 0;

		if (o == PCI_COMMAND)
			continue;
		for (uint32_t i = 0; i < 4; i++) {
			wmask |= (uint32_t)dev->wmask[o + i] << (8 * i);
			want |= (uint32_t)saved[o + i] << (8 * i);
			have |= (uint32_t)dev->cfg[o + i] << (8 * i);
		}
		if (wmask && ((want ^ have) & wmask)) {
			uint32_t v = want & wmask; /* write-1-to-clear bits as 0 */
			uint8_t buf[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16),
					   (uint8_t)(v >> 24) };

			pci_config_write(dev->root, dev->devfn, o, buf, 4);
		}
	}
	/* PCI_COMMAND and PCI_STATUS share a dword: status bits written as 0. */
	pci_config_write(dev->root, dev->devfn, PCI_COMMAND, cmd, 4);
}

/* 0xCF8: CONFIG_ADDRESS; 0xCFC-0xCFF: CONFIG_DATA for bus 0. */
static void cf8_access(struct pci_root *root, uint64_t off, void *data, unsigned int size,
		       bool is_write)
{
	uint32_t addr;

	if (off == 0 && size == 4) {
		if (is_write)
			root->cf8 = (uint32_t)bus_data_get(data, 4) & 0x80fffffcu;
		else
			bus_data_set(data, 4, root->cf8);
		return;
	}
	addr = root->cf8;
	if (off < 4 || !(addr & PCI_CF8_ENABLE) || ((addr >> 16) & 0xff) != 0) {
		if (!is_write)
			memset(data, 0xff, size);
		return;
	}
	if (is_write)
		pci_config_write(root, (uint8_t)(addr >> 8), (addr & 0xfc) + (uint32_t)(off - 4),
				 data, size);
	else
		pci_config_read(root, (uint8_t)(addr >> 8), (addr & 0xfc) + (uint32_t)(off - 4),
				data, size);
}

static void cf8_read(void *opaque, uint64_t off, void *data, unsigned int size)
{
	cf8_access(opaque, off, data, size, false);
}

static void cf8_write(void *opaque, uint64_t off, const void *data, unsigned int size)
{
	cf8_access(opaque, off, (void *)data, size, true);
}

static const struct bus_dev_ops cf8_bus_ops = { .read = cf8_read, .write = cf8_write };

/* ECAM: bus 0 only; offset = devfn << 12 | register. */
static void ecam_read(void *opaque, uint64_t off, void *data, unsigned int size)
{
	pci_config_read(opaque, (uint8_t)(off >> 12), (uint32_t)(off & 0xfff), data, size);
}

static void ecam_write(void *opaque, uint64_t off, const void *data, unsigned int size)
{
	pci_config_write(opaque, (uint8_t)(off >> 12), (uint32_t)(off & 0xfff), data, size);
}

static const struct bus_dev_ops ecam_bus_ops = { .read = ecam_read, .write = ecam_write };

int pci_root_init(struct pci_root *root, struct bus *pio, struct bus *mmio,
		  const struct pci_window *win)
{
	int ret;

	memset(root, 0, sizeof(*root));
	pthread_mutex_init(&root->lock, NULL);
	root->mmio = mmio;
	root->ecam_base = win->ecam_base;
	root->mmio32_base = root->mmio32_next = win->mmio32_base;
	root->mmio32_end = win->mmio32_base + win->mmio32_size;
	root->mmio64_base = root->mmio64_next = win->mmio64_base;
	root->mmio64_end = win->mmio64_base + win->mmio64_size;

	pci_device_init(&root->host_bridge, "host-bridge", HOST_BRIDGE_VENDOR,
			HOST_BRIDGE_DEVICE, PCI_CLASS_BRIDGE_HOST, NULL, NULL);
	root->devs[0] = &root->host_bridge;
	root->host_bridge.root = root;

	ret = bus_register(pio, PCI_CF8_PORT, PCI_CF8_PORTS, "pci-cf8", &cf8_bus_ops, root);
	if (ret == 0)
		ret = bus_register(mmio, win->ecam_base, PCI_ECAM_BUS0_SIZE, "pci-ecam",
				   &ecam_bus_ops, root);
	return ret;
}

void pci_root_free(struct pci_root *root)
{
	pthread_mutex_destroy(&root->lock);
}

static int place_bar(struct pci_root *root, struct pci_device *dev, int i)
{
	struct pci_bar *b = &dev->bars[i];
	uint64_t *next = b->mem64 ? &root->mmio64_next : &root->mmio32_next;
	uint64_t end = b->mem64 ? root->mmio64_end : root->mmio32_end;
	uint64_t addr = (*next + b->size - 1) & ~(b->size - 1);

	if (addr + b->size > end || addr + b->size < addr)
		return -ENOSPC;
	*next = addr + b->size;
	pci_cfg_set32(dev, PCI_BAR0 + 4 * i,
		      (uint32_t)addr | (pci_cfg_get32(dev, PCI_BAR0 + 4 * i) & 0xf));
	if (b->mem64)
		pci_cfg_set32(dev, PCI_BAR0 + 4 * (i + 1), (uint32_t)(addr >> 32));
	return 0;
}

int pci_root_add_device(struct pci_root *root, struct pci_device *dev)
{
	int slot, ret;

	for (slot = 1; slot < PCI_MAX_DEVICES && root->devs[slot]; slot++)
		;
	if (slot == PCI_MAX_DEVICES)
		return -ENOSPC;
	for (int i = 0; i < PCI_NUM_BARS; i++) {
		if (!dev->bars[i].size)
			continue;
		ret = place_bar(root, dev, i);
		if (ret < 0)
			return ret;
	}
	dev->devfn = (uint8_t)(slot << 3);
	dev->root = root;
	pthread_mutex_lock(&root->lock);
	root->devs[slot] = dev;
	pthread_mutex_unlock(&root->lock);
	return slot;
}

void pci_root_remove_device(struct pci_root *root, struct pci_device *dev)
{
	unsigned int slot = dev->devfn >> 3;

	if (!root || slot >= PCI_MAX_DEVICES || root->devs[slot] != dev)
		return;
	pthread_mutex_lock(&root->lock);
	root->devs[slot] = NULL;
	for (int i = 0; i < PCI_NUM_BARS; i++)
		bar_unmap(root, dev, i);
	pthread_mutex_unlock(&root->lock);
}
