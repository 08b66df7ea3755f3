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
 *
 * Interrupts (IRQ 8), as register B enables them: update-ended (UIE) and
 * alarm (AIE) at each second of the clock, periodic (PIE) at register A's
 * rate (2 Hz to 8 kHz). Register C holds the flags; reading it clears them
 * and lowers the line, which is raised while a flag and its enable are
 * both set (IRQF), as on the MC146818. Timers run only while an interrupt
 * is enabled: a guest that enables none costs nothing. UF is also set for
 * a guest that polls register C across a second without enabling UIE.
 * Linux's rtc-cmos uses UIE and the alarm for hwclock and wake-up timers;
 * firmware and other OSes the periodic interrupt.
 *
 * Snapshots ("dev.cmos") keep the index register, the guest's offset to
 * host time and all 128 bytes of RAM (registers A, B and C live there;
 * D is synthesized): a restoring process starts with blank CMOS. The
 * clock then reads host time plus the offset, so after a restore the RTC
 * shows the real time as the guest set it, as on a machine that slept.
 * The timers follow from registers A and B; the line's level from C.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "dev/aml.h"
#include "dev/bus.h"
#include "dev/devstate.h"
#include "base/log.h"
#include "base/loop.h"
#include "dev/dev.h"

#define CMOS_INDEX 0x70
#define RTC_IRQ 8
#define RTC_SECONDS 0x00
#define RTC_SECONDS_ALARM 0x01
#define RTC_MINUTES 0x02
#define RTC_MINUTES_ALARM 0x03
#define RTC_HOURS 0x04
#define RTC_HOURS_ALARM 0x05
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

#define REG_A_RATE 0x0f
#define REG_B_SET 0x80
#define REG_B_PIE 0x40
#define REG_B_AIE 0x20
#define REG_B_UIE 0x10
#define REG_B_DM_BINARY 0x04
#define REG_B_24H 0x02
#define REG_C_IRQF 0x80
#define REG_C_PF 0x40
#define REG_C_AF 0x20
#define REG_C_UF 0x10
#define REG_C_FLAGS (REG_C_PF | REG_C_AF | REG_C_UF) /* same bits as B's enables */
#define REG_D_VRT 0x80
#define ALARM_DONT_CARE 0xc0 /* an alarm byte of 11xxxxxx matches any value */

struct cmos {
	struct bus *pio;
	struct irq_chip *irq;
	struct event_loop *loop;
	pthread_mutex_t lock;
	uint8_t *ram; /* 128 bytes, owned by dev_host; ram[RTC_REG_C] is register C */
	uint8_t index;
	time_t offset;     /* guest time minus host time, from guest writes */
	time_t last_second; /* host second of the last update seen (UF) */
	int irq_level;
	int second_fd, periodic_fd; /* timerfds, armed while enabled */
	bool second_armed;
	uint8_t periodic_rate; /* register A's rate the periodic timer runs at; 0 = off */
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

/* ---- interrupts; all with c->lock held ---- */

/* IRQF and the line follow the flags and their enables. */
static void rtc_update_irq(struct cmos *c)
{
	uint8_t *regc = &c->ram[RTC_REG_C];
	int level;

	*regc &= REG_C_IRQF | REG_C_FLAGS;
	if (*regc & c->ram[RTC_REG_B] & REG_C_FLAGS)
		*regc |= REG_C_IRQF;
	level = !!(*regc & REG_C_IRQF);
	if (level != c->irq_level) {
		c->irq_level = level;
		irq_set_level(c->irq, RTC_IRQ, level);
	}
}

static void arm(int fd, int flags, time_t first_s, long first_ns, long period_ns)
{
	struct itimerspec its = {
		.it_value = { .tv_sec = first_s, .tv_nsec = first_ns },
		.it_interval = { .tv_sec = period_ns / 1000000000L, .tv_nsec = period_ns % 1000000000L },
	};

	if (timerfd_settime(fd, flags, &its, NULL) < 0)
		pr_err("cmos: timerfd_settime: %s", strerror(errno));
}

/*
 * Register A's rate select: 3-15 give 32768 Hz >> (rate - 1), i.e. 8192 Hz
 * down to 2 Hz; 1 and 2 repeat 8 and 9 (256 and 128 Hz); 0 is off.
 */
static long rtc_period_ns(uint8_t rate)
{
	if (rate == 0)
		return 0;
	if (rate < 3)
		rate = (uint8_t)(rate + 7);
	return (long)((1000000000ull << (rate - 1)) / 32768);
}

/* Arm or stop the timers for what registers A and B now ask. */
static void rtc_update(struct cmos *c)
{
	uint8_t b = c->ram[RTC_REG_B];
	bool second = b & (REG_B_UIE | REG_B_AIE);
	uint8_t rate = (b & REG_B_PIE) ? c->ram[RTC_REG_A] & REG_A_RATE : 0;

	if (second != c->second_armed) {
		/* At each whole second of CLOCK_REALTIME: the offset is whole seconds. */
		arm(c->second_fd, TFD_TIMER_ABSTIME, second ? time(NULL) + 1 : 0, 0,
		    second ? 1000000000L : 0);
		c->second_armed = second;
	}
	if (rate != c->periodic_rate) {
		long ns = rtc_period_ns(rate);

		arm(c->periodic_fd, 0, 0, ns, ns);
		c->periodic_rate = rate;
	}
	rtc_update_irq(c);
}

static bool alarm_matches(struct cmos *c, uint8_t alarm_reg, uint8_t time_reg)
{
	uint8_t want = c->ram[alarm_reg];

	return (want & ALARM_DONT_CARE) == ALARM_DONT_CARE || want == rtc_read_time(c, time_reg);
}

/* A second of the clock has passed: the update-ended and alarm flags. */
static void rtc_second(struct cmos *c)
{
	c->last_second = time(NULL);
	c->ram[RTC_REG_C] |= REG_C_UF;
	if (alarm_matches(c, RTC_SECONDS_ALARM, RTC_SECONDS) &&
	    alarm_matches(c, RTC_MINUTES_ALARM, RTC_MINUTES) &&
	    alarm_matches(c, RTC_HOURS_ALARM, RTC_HOURS))
		c->ram[RTC_REG_C] |= REG_C_AF;
	rtc_update_irq(c);
}

/* Reading C returns the flags and clears them, which lowers the line. */
static uint8_t rtc_read_c(struct cmos *c)
{
	uint8_t v;

	if (!c->second_armed && time(NULL) != c->last_second) {
		c->last_second = time(NULL);
		c->ram[RTC_REG_C] |= REG_C_UF; /* for a guest that polls UF */
		rtc_update_irq(c);
	}
	v = c->ram[RTC_REG_C];
	c->ram[RTC_REG_C] = 0;
	rtc_update_irq(c);
	return v;
}

static bool timer_expired(int fd)
{
	uint64_t n;

	return read(fd, &n, sizeof(n)) == sizeof(n) && n > 0;
}

static void rtc_on_second(void *opaque, uint32_t events)
{
	struct cmos *c = opaque;

	(void)events;
	pthread_mutex_lock(&c->lock);
	if (timer_expired(c->second_fd) && c->second_armed)
		rtc_second(c);
	pthread_mutex_unlock(&c->lock);
}

static void rtc_on_periodic(void *opaque, uint32_t events)
{
	struct cmos *c = opaque;

	(void)events;
	pthread_mutex_lock(&c->lock);
	if (timer_expired(c->periodic_fd) && c->periodic_rate) {
		c->ram[RTC_REG_C] |= REG_C_PF;
		rtc_update_irq(c);
	}
	pthread_mutex_unlock(&c->lock);
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
			v = rtc_read_c(c);
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
		if (c->index == RTC_REG_A || c->index == RTC_REG_B)
			rtc_update(c);
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
	/* The line's level is in the irqchip state: take it, do not drive it. */
	c->ram[RTC_REG_C] &= REG_C_IRQF | REG_C_FLAGS;
	c->irq_level = !!(c->ram[RTC_REG_C] & REG_C_IRQF);
	rtc_update(c);
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
	c->irq = ctx->irq;
	c->loop = ctx->host->loop;
	c->ram = ctx->host->cmos_ram;
	if (c->ram[RTC_REG_A] == 0) {
		/* First power-on: 32.768 kHz time base, 24-hour BCD. */
		c->ram[RTC_REG_A] = 0x26;
		c->ram[RTC_REG_B] = REG_B_24H;
	}
	/*
	 * A new boot starts with interrupts off and no flags, as after RESET#;
	 * the rest of register B and the RAM are battery-backed.
	 */
	c->ram[RTC_REG_B] &= (uint8_t)~(REG_B_PIE | REG_B_AIE | REG_B_UIE);
	c->ram[RTC_REG_C] = 0;
	c->last_second = time(NULL);
	pthread_mutex_init(&c->lock, NULL);
	c->second_fd = timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK | TFD_CLOEXEC);
	c->periodic_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (c->second_fd < 0 || c->periodic_fd < 0) {
		ret = -errno;
		errbuf_set(err, errlen, "cmos: timerfd_create: %s", strerror(errno));
		goto fail;
	}
	ret = loop_add(c->loop, c->second_fd, EPOLLIN, rtc_on_second, c);
	if (ret == 0) {
		ret = loop_add(c->loop, c->periodic_fd, EPOLLIN, rtc_on_periodic, c);
		if (ret < 0)
			loop_del(c->loop, c->second_fd);
	}
	if (ret < 0)
		goto fail;
	ret = bus_register(ctx->pio, CMOS_INDEX, 2, "cmos", &cmos_bus_ops, c);
	if (ret < 0) {
		loop_del(c->loop, c->second_fd);
		loop_del(c->loop, c->periodic_fd);
		goto fail;
	}
	*state = c;
	return 0;
fail:
	if (c->second_fd >= 0)
		close(c->second_fd);
	if (c->periodic_fd >= 0)
		close(c->periodic_fd);
	pthread_mutex_destroy(&c->lock);
	free(c);
	return ret;
}

static void cmos_destroy(void *state)
{
	struct cmos *c = state;

	bus_unregister(c->pio, CMOS_INDEX);
	loop_del(c->loop, c->second_fd);
	loop_del(c->loop, c->periodic_fd);
	close(c->second_fd);
	close(c->periodic_fd);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

/* PNP0B00 at 0x70-0x71, IRQ 8: rtc_cmos needs the IRQ from here. */
static void cmos_write_dsdt(void *state, struct aml_buf *b)
{
	(void)state;
	aml_device_begin(b, "RTC");
	aml_name_eisaid(b, "_HID", "PNP0B00");
	aml_name(b, "_CRS");
	aml_resource_template_begin(b);
	aml_io(b, true, CMOS_INDEX, CMOS_INDEX, 1, 2);
	aml_irq_no_flags(b, RTC_IRQ);
	aml_end(b);
	aml_end(b);
}

const struct dev_ops cmos_device = {
	.name = "cmos",
	.realize = cmos_realize,
	.unrealize = cmos_destroy,
	.save = cmos_save,
	.load = cmos_load,
	.write_dsdt = cmos_write_dsdt,
};
