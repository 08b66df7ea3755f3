// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A small cache of cluster-sized metadata tables (L2 tables, refcount
 * blocks), bounded in slots, least recently used out first.
 *
 * Write-through: whoever changes a table writes the changed bytes to the
 * file at once (in the order qcow2.c needs), so a slot is never dirty and
 * eviction is just forgetting. Tables stay in on-disk (big-endian) order so
 * the changed bytes can be written as they are. A caller pins the table it
 * works on (get/put) so a nested lookup cannot evict it.
 *
 * Slots are few (a few hundred at most) and lookups are a linear scan:
 * cheap next to the I/O a miss costs.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "block/qcow2.h"
#include "base/log.h"

int qcow2_cache_init(struct qcow2_cache *c, unsigned nslots, size_t table_size)
{
	c->slots = calloc(nslots, sizeof(*c->slots));
	if (!c->slots)
		return -ENOMEM;
	c->nslots = nslots;
	c->table_size = table_size;
	c->clock = 0;
	return 0;
}

void qcow2_cache_destroy(struct qcow2_cache *c)
{
	for (unsigned i = 0; c->slots && i < c->nslots; i++)
		free(c->slots[i].table);
	free(c->slots);
	c->slots = NULL;
}

static struct qcow2_cache_slot *cache_find(struct qcow2_cache *c, uint64_t offset)
{
	for (unsigned i = 0; i < c->nslots; i++) {
		if (c->slots[i].offset == offset)
			return &c->slots[i];
	}
	return NULL;
}

static struct qcow2_cache_slot *cache_victim(struct qcow2_cache *c)
{
	struct qcow2_cache_slot *victim = NULL;

	for (unsigned i = 0; i < c->nslots; i++) {
		struct qcow2_cache_slot *sl = &c->slots[i];

		if (sl->pins)
			continue;
		if (!sl->offset)
			return sl;
		if (!victim || sl->last_use < victim->last_use)
			victim = sl;
	}
	return victim;
}

int qcow2_cache_get(struct qcow2 *s, struct qcow2_cache *c, uint64_t offset,
		    bool fresh, uint8_t **table)
{
	struct qcow2_cache_slot *sl;
	int ret;

	if (NEVER(!offset))
		return -EIO;
	sl = cache_find(c, offset);
	if (!sl) {
		sl = cache_victim(c);
		if (NEVER(!sl))
			return -EIO;
		if (!sl->table) {
			sl->table = malloc(c->table_size);
			if (!sl->table)
				return -ENOMEM;
		}
		sl->offset = 0;
		if (!fresh) {
			ret = file_pread_exact(s->b->fd, sl->table, c->table_size, offset);
			if (ret) {
				pr_err("%s: cannot read metadata at 0x%llx: %s", s->b->path,
				       (unsigned long long)offset, strerror(-ret));
				return -EIO;
			}
		}
		sl->offset = offset;
	}
	if (fresh)
		memset(sl->table, 0, c->table_size);
	sl->pins++;
	sl->last_use = ++c->clock;
	*table = sl->table;
	return 0;
}

void qcow2_cache_put(struct qcow2_cache *c, uint8_t *table)
{
	for (unsigned i = 0; i < c->nslots; i++) {
		if (c->slots[i].table == table && c->slots[i].offset) {
			if (ALWAYS(c->slots[i].pins > 0))
				c->slots[i].pins--;
			return;
		}
	}
	(void)NEVER(true);
}

void qcow2_cache_forget(struct qcow2_cache *c, uint64_t offset)
{
	struct qcow2_cache_slot *sl = cache_find(c, offset);

	if (sl && ALWAYS(!sl->pins))
		sl->offset = 0;
}
