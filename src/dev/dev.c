// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The device registry (dev.h): one entry per instance, walked in the
 * board table's order for realize, save and load, in reverse for
 * unrealize, so a device never outlives one it was built on.
 */
#include "dev/dev.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/log.h"

int dev_registry_realize(struct dev_registry *r, struct dev_ctx *c, const struct vm_config *cfg,
			 const struct dev_ops *const *table, size_t n, char *err, size_t errlen)
{
	memset(r, 0, sizeof(*r));
	for (size_t t = 0; t < n; t++) {
		const struct dev_ops *ops = table[t];
		const void *slices[DEV_MAX_INSTANCES] = { cfg };
		unsigned int count = ops->instances ?
			ops->instances(cfg, slices, DEV_MAX_INSTANCES) : 1;

		for (unsigned int i = 0; i < count; i++) {
			char why[512] = "";
			void *state = NULL;
			int ret;

			if (r->nr == DEV_MAX_INSTANCES) {
				errbuf_set(err, errlen, "more than %d devices", DEV_MAX_INSTANCES);
				dev_registry_unrealize(r);
				return -E2BIG;
			}
			ret = ops->realize(c, slices[i], i, &state, why, sizeof(why));
			if (ret < 0) {
				if (why[0])
					errbuf_set(err, errlen, "%s", why);
				else
					errbuf_set(err, errlen, "device %s: %s", ops->name, strerror(-ret));
				dev_registry_unrealize(r);
				return ret;
			}
			if (!state)
				continue;
			r->inst[r->nr++] = (struct dev_instance){ .ops = ops, .index = i, .state = state };
		}
	}
	return 0;
}

unsigned int dev_instances_of_array(const void *first, size_t size, unsigned int n,
				    const void *slices[], unsigned int max)
{
	if (n > max)
		n = max;
	for (unsigned int i = 0; i < n; i++)
		slices[i] = (const char *)first + i * size;
	return n;
}

void dev_registry_unrealize(struct dev_registry *r)
{
	while (r->nr) {
		struct dev_instance *d = &r->inst[--r->nr];

		if (d->ops->unrealize)
			d->ops->unrealize(d->state);
		d->state = NULL;
	}
}

int dev_registry_save(struct dev_registry *r, struct snap_writer *w, char *err, size_t errlen)
{
	for (unsigned int i = 0; i < r->nr; i++) {
		struct dev_instance *d = &r->inst[i];
		int ret = d->ops->save ? d->ops->save(d->state, w, err, errlen) : 0;

		if (ret < 0)
			return ret;
	}
	return 0;
}

int dev_registry_load(struct dev_registry *r, const struct snap_reader *rd, char *err,
		      size_t errlen)
{
	for (unsigned int i = 0; i < r->nr; i++) {
		struct dev_instance *d = &r->inst[i];
		int ret = d->ops->load ? d->ops->load(d->state, rd, err, errlen) : 0;

		if (ret < 0)
			return ret;
	}
	return 0;
}

void dev_registry_write_dsdt(struct dev_registry *r, struct aml_buf *b)
{
	for (unsigned int i = 0; i < r->nr; i++)
		if (r->inst[i].ops->write_dsdt)
			r->inst[i].ops->write_dsdt(r->inst[i].state, b);
}

int dev_reserve_memory(struct dev_ctx *c, uint64_t base, uint64_t size)
{
	struct dev_reserved *res = &c->reserved;

	if (!size || base + size - 1 < base) {
		pr_err("reserved range %#llx+%#llx is empty or wraps", (unsigned long long)base,
		       (unsigned long long)size);
		return -EINVAL;
	}
	if (res->nr == DEV_MAX_RESERVED) {
		pr_err("more than %d reserved ranges", DEV_MAX_RESERVED);
		return -E2BIG;
	}
	res->range[res->nr].base = base;
	res->range[res->nr].size = size;
	res->nr++;
	return 0;
}

int dev_registry_event(struct dev_registry *r, enum platform_event ev)
{
	for (unsigned int i = 0; i < r->nr; i++) {
		struct dev_instance *d = &r->inst[i];
		int ret;

		if (!d->ops->platform_event)
			continue;
		ret = d->ops->platform_event(d->state, ev);
		if (ret != -ENOTSUP)
			return ret;
	}
	return -ENODEV;
}

void *dev_registry_find(struct dev_registry *r, const struct dev_ops *ops, unsigned int index)
{
	for (unsigned int i = 0; i < r->nr; i++)
		if (r->inst[i].ops == ops && r->inst[i].index == index)
			return r->inst[i].state;
	return NULL;
}
