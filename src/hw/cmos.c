// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * CMOS RAM and real-time clock (MC146818) at ports 0x70/0x71.
 *
 * The clock registers read the host's time (UTC), in BCD or binary and in
 * 12- or 24-hour form as status register B asks. The guest may set the
 * clock: we keep the difference to the host's time, so `hwclock -w` then
 * `hwclock -r` agree, and time keeps running. The other 114 bytes are RAM
 * that belongs to struct dev_host, so it survives a guest reboot as
 * battery-backed CMOS does (firmware and tests keep state there).
 * Periodic and alarm interrupts are not modeled: Linux keeps time with
 * kvmclock and the LAPIC timer.
 *
 * Snapshots ("dev.cmos") keep the index register, the guest's offset to
 * host time and all 128 bytes of RAM (registers A and B live there; C and
 * D are synthesized): a restoring process starts with blank CMOS. The
 * clock then reads host time plus the offset, so after a restore the RTC
 * shows the real time as the guest set it, as on a machine that slept.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dev/bus.h"
#include "dev/devstate.h"
#include "base/log.h"
#include "dev/dev.h"

#define CMOS_INDEX 0x70
#define RTC_SECONDS 0x00
#define RTC_MINUTES 0x02
#define RTC_HOURS 0x04
#define RTC_DAY_OF_WEEK 0x06
#define RTC_DAY 0x07
#define RTC_MONTH 0x08
#define RTC_YEAR 0x09
#define RTC_REG_A 0x0a
#define RTC_REG_B 0x0b
#define RTC_REG_C 0x0c
#define RTC_REG_D 0x0d
#define RTC_CENTURY 0x32

/*
 * What the clock can show: years 1900 to 9999 (century 19 to 99). A guest
 * that sets a time outside (a century byte of 0x99 in binary mode means
 * year 15300; a bad BCD digit more) gets the nearest end. The offset to
 * host time is then bounded whatever the host's clock says, and a restore
 * accepts every offset a save can hold.
 */
#define RTC_TIME_MIN (-2208988800ll) /* 1900-01-01 00:00:00 UTC */
#define RTC_TIME_MAX 253402300799ll  /* 9999-12-31 23:59:59 UTC */
#define RTC_MAX_OFFSET (RTC_TIME_MAX - RTC_TIME_MIN)

#define REG_B_SET 0x80
#define REG_B_DM_BINARY 0x04
#define REG_B_24H 0x02
#define REG_D_VRT 0x80

struct cmos {
	struct bus *pio;
	pthread_mutex_t lock;
	uint8_t *ram; /* 128 bytes, owned by dev_host */
	uint8_t index;
	time_t offset; /* guest time minus host time, from guest writes */
};

static uint8_t to_bcd(int v) { return (uint8_t)(((v / 10) << 4) | (v % 10)); }
static int from_bcd(uint8_t v) { return (v >> 4) * 10 + (v & 0x0f); }

static uint8_t rtc_encode(struct cmos *c, int v)
{
	return (c->ram[RTC_REG_B] & REG_B_DM_BINARY) ? (uint8_t)v : to_bcd(v);
}

static int rtc_decode(struct cmos *c, uint8_t v)
{
	return (c->ram[RTC_REG_B] & REG_B_DM_BINARY) ? v : from_bcd(v);
}

static uint8_t rtc_read_time(struct cmos *c, uint8_t reg)
{
	time_t now = time(NULL) + c->offset;
	struct tm tm;
	int hour;

	gmtime_r(&now, &tm);
	switch (reg) {
	case RTC_SECONDS: return rtc_encode(c, tm.tm_sec);
	case RTC_MINUTES: return rtc_encode(c, tm.tm_min);
	case RTC_HOURS:
		if (c->ram[RTC_REG_B] & REG_B_24H)
			return rtc_encode(c, tm.tm_hour);
		hour = tm.tm_hour % 12 ? tm.tm_hour % 12 : 12;
		return rtc_encode(c, hour) | (tm.tm_hour >= 12 ? 0x80 : 0);
	case RTC_DAY_OF_WEEK: return rtc_encode(c, tm.tm_wday + 1);
	case RTC_DAY: return rtc_encode(c, tm.tm_mday);
	case RTC_MONTH: return rtc_encode(c, tm.tm_mon + 1);
	case RTC_YEAR: return rtc_encode(c, tm.tm_year % 100);
	case RTC_CENTURY: return rtc_encode(c, (tm.tm_year + 1900) / 100);
	}
	return c->ram[reg];
}

static bool is_time_reg(uint8_t reg)
{
	return reg == RTC_SECONDS || reg == RTC_MINUTES || reg == RTC_HOURS ||
	       reg == RTC_DAY_OF_WEEK || reg == RTC_DAY || reg == RTC_MONTH ||
	       reg == RTC_YEAR || reg == RTC_CENTURY;
}

/* A guest write to a time field: move our offset so the field reads back. */
static void rtc_write_time(struct cmos *c, uint8_t reg, uint8_t v)
{
	time_t now = time(NULL) + c->offset, set;
	struct tm tm;
	int val;

	gmtime_r(&now, &tm);
	if (reg == RTC_HOURS && !(c->ram[RTC_REG_B] & REG_B_24H)) {
		val = rtc_decode(c, v & 0x7f) % 12 + ((v & 0x80) ? 12 : 0);
	} else {
		val = rtc_decode(c, v);
	}
	switch (reg) {
	case RTC_SECONDS: tm.tm_sec = val; break;
	case RTC_MINUTES: tm.tm_min = val; break;
	case RTC_HOURS: tm.tm_hour = val; break;
	case RTC_DAY: tm.tm_mday = val; break;
	case RTC_MONTH: tm.tm_mon = val - 1; break;
	case RTC_YEAR: tm.tm_year = (tm.tm_year / 100) * 100 + val; break;
	case RTC_CENTURY: tm.tm_year = val * 100 - 1900 + tm.tm_year % 100; break;
	default: return; /* day of week follows from the date */
	}
	errno = 0; /* -1 is also 1969-12-31 23:59:59: only errno tells */
	set = timegm(&tm);
	if (set == (time_t)-1 && errno == EOVERFLOW)
		set = tm.tm_year > 0 ? RTC_TIME_MAX : RTC_TIME_MIN;
	if (set < RTC_TIME_MIN)
		set = RTC_TIME_MIN;
	if (set > RTC_TIME_MAX)
		set = RTC_TIME_MAX;
	c->offset += set - now;
}

static void cmos_read(void *opaque, uint64_t off, void *data, unsigned int size)
{
	struct cmos *c = opaque;
	uint8_t v = 0xff;

	pthread_mutex_lock(&c->lock);
	if (off == 1) {
		uint8_t reg = c->index;

		if (is_time_reg(reg))
			v = rtc_read_time(c, reg);
		else if (reg == RTC_REG_A)
			v = c->ram[reg] & 0x7f; /* never "update in progress" */
		else if (reg == RTC_REG_C)
			v = 0; /* no interrupt flags: reading clears them */
		else if (reg == RTC_REG_D)
			v = REG_D_VRT;
		else
			v = c->ram[reg];
	}
	pthread_mutex_unlock(&c->lock);
	memset(data, 0, size);
	*(uint8_t *)data = v;
}

static void cmos_write(void *opaque, uint64_t off, const void *data, unsigned int size)
{
	struct cmos *c = opaque;
	uint8_t v = *(const uint8_t *)data;

	(void)size;
	pthread_mutex_lock(&c->lock);
	if (off == 0) {
		c->index = v & 0x7f; /* bit 7 masks NMI; not modeled */
	} else if (is_time_reg(c->index)) {
		rtc_write_time(c, c->index, v);
	} else if (c->index != RTC_REG_C && c->index != RTC_REG_D) {
		c->ram[c->index] = c->index == RTC_REG_B ? (uint8_t)(v & ~REG_B_SET) : v;
	}
	pthread_mutex_unlock(&c->lock);
}

#define CMOS_STATE_KIND "CMOS"
#define CMOS_STATE_VERSION 1
#define CMOS_RAM_SIZE 128

struct cmos_state {
	struct snap_blob_header h;
	int64_t offset;
	uint8_t index, pad[7];
	uint8_t ram[CMOS_RAM_SIZE];
};
_Static_assert(sizeof(struct cmos_state) == 32 + CMOS_RAM_SIZE, "cmos_state layout");

static int cmos_save(void *state, struct snap_writer *w, char *err, size_t errlen)
{
	struct cmos *c = state;
	struct cmos_state st = { 0 };

	pthread_mutex_lock(&c->lock);
	st.offset = (int64_t)c->offset;
	st.index = c->index;
	memcpy(st.ram, c->ram, CMOS_RAM_SIZE);
	pthread_mutex_unlock(&c->lock);
	return devstate_put(w, "dev.cmos", CMOS_STATE_KIND, CMOS_STATE_VERSION, &st, sizeof(st),
			    err, errlen);
}

static int cmos_load(void *state, const struct snap_reader *r, char *err, size_t errlen)
{
	struct cmos *c = state;
	struct cmos_state st;
	int ret;

	ret = devstate_get(r, "dev.cmos", CMOS_STATE_KIND, CMOS_STATE_VERSION, &st, sizeof(st),
			   err, errlen);
	if (ret < 0)
		return ret;
	/* No guest write gets past RTC_MAX_OFFSET (rtc_write_time); more is damage. */
	if (st.index & 0x80) {
		errbuf_set(err, errlen, "section 'dev.cmos': index 0x%02x has the NMI bit", st.index);
		return -EBADMSG;
	}
	if (st.offset > RTC_MAX_OFFSET || st.offset < -RTC_MAX_OFFSET) {
		errbuf_set(err, errlen, "section 'dev.cmos': clock offset %lld s is beyond the "
			   "RTC's years 1900-9999", (long long)st.offset);
		return -EBADMSG;
	}
	pthread_mutex_lock(&c->lock);
	c->offset = (time_t)st.offset;
	c->index = st.index;
	memcpy(c->ram, st.ram, CMOS_RAM_SIZE);
	pthread_mutex_unlock(&c->lock);
	return 0;
}

static const struct bus_dev_ops cmos_bus_ops = {
	.read = cmos_read,
	.write = cmos_write,
};

static int cmos_realize(struct dev_ctx *ctx, const void *slice, unsigned int index, void **state,
			char *err, size_t errlen)
{
	struct cmos *c = calloc(1, sizeof(*c));
	int ret;

	if (!c)
		return -ENOMEM;
	c->pio = ctx->pio;
	c->ram = ctx->host->cmos_ram;
	if (c->ram[RTC_REG_A] == 0) {
		/* First power-on: 32.768 kHz time base, 24-hour BCD. */
		c->ram[RTC_REG_A] = 0x26;
		c->ram[RTC_REG_B] = REG_B_24H;
	}
	pthread_mutex_init(&c->lock, NULL);
	ret = bus_register(ctx->pio, CMOS_INDEX, 2, "cmos", &cmos_bus_ops, c);
	if (ret < 0) {
		pthread_mutex_destroy(&c->lock);
		free(c);
		return ret;
	}
	*state = c;
	return 0;
}

static void cmos_destroy(void *state)
{
	struct cmos *c = state;

	bus_unregister(c->pio, CMOS_INDEX);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

const struct dev_ops cmos_device = {
	.name = "cmos",
	.realize = cmos_realize,
	.unrealize = cmos_destroy,
	.save = cmos_save,
	.load = cmos_load,
};
