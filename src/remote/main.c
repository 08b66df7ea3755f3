// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * phyllo-remote: drive one phyllo-vmm through its REST API socket, like
 * Cloud Hypervisor's ch-remote. Everything lives in remote.c so the unit
 * tests run the same code.
 */
#include <stdio.h>

#include "remote/remote.h"

int main(int argc, char **argv)
{
	return remote_main(argc, argv, stdout, stderr);
}
