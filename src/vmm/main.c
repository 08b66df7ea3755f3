// SPDX-License-Identifier: GPL-2.0-or-later
#include "config.h"
#include <stdio.h>
#include <string.h>
int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "--version")) {
		printf("phyllo-vmm %s\n", PHYLLOME_VERSION);
		return 0;
	}
	printf("usage: phyllo-vmm [OPTIONS]\n");
	return 0;
}
