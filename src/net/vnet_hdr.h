/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The header in front of every virtio-net packet (struct virtio_net_hdr_v1,
 * virtio 1.2 section 5.1.6), which is also what a tap with IFF_VNET_HDR
 * reads and writes when its header size is set to 12. It carries the
 * checksum and segmentation offloads: a packet whose checksum is still to
 * be filled in (NEEDS_CSUM: from csum_start, stored at csum_offset) or
 * that is one large TCP segment to be cut into gso_size pieces.
 * Little-endian (VERSION_1), which is what a tap uses on x86 as well.
 */
#ifndef PHYLLO_NET_VNET_HDR_H
#define PHYLLO_NET_VNET_HDR_H

#include <stdint.h>

#define VNET_HDR_F_NEEDS_CSUM 1
#define VNET_HDR_F_DATA_VALID 2

#define VNET_HDR_GSO_NONE 0
#define VNET_HDR_GSO_TCPV4 1
#define VNET_HDR_GSO_UDP 3
#define VNET_HDR_GSO_TCPV6 4
#define VNET_HDR_GSO_ECN 0x80

struct vnet_hdr {
	uint8_t flags;
	uint8_t gso_type;
	uint16_t hdr_len;
	uint16_t gso_size;
	uint16_t csum_start;
	uint16_t csum_offset;
	uint16_t num_buffers;
} __attribute__((packed));

#define VNET_HDR_LEN 12
_Static_assert(sizeof(struct vnet_hdr) == VNET_HDR_LEN, "struct virtio_net_hdr_v1");

#endif
