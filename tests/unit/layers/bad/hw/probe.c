// SPDX-License-Identifier: GPL-2.0-or-later
/* A device that reaches up into the VMM: scripts/check-layers.py must refuse it
 * (tests/unit/layers/meson.build expects it to fail). Never compiled. */
#include "dev/dev.h"
#include "vmm/vm.h"
