/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Where the manager keeps things, for phyllod and the phyllo CLI alike
 * (docs/manager.md):
 *   data:   $PHYLLO_DATA, else $XDG_DATA_HOME/phyllome, else
 *           ~/.local/share/phyllome (the database, images, VM disks)
 *   socket: $PHYLLO_SOCKET, else $XDG_RUNTIME_DIR/phyllome/phyllod.sock,
 *           else /tmp/phyllome-UID/phyllod.sock (its folder 0700 and
 *           ours, checked: another user's folder there is refused)
 */
#ifndef PHYLLO_MANAGER_PATHS_H
#define PHYLLO_MANAGER_PATHS_H

#include <stdbool.h>
#include <stddef.h>

/* The data folder's path into out; -ENOENT when no home is known. */
int paths_data_dir(char *out, size_t outlen, char *err, size_t errlen);
/* The daemon's socket path into out; with make_dir, its folder is created
 * (0700) and checked to be the user's own. */
int paths_socket(char *out, size_t outlen, bool make_dir, char *err, size_t errlen);

#endif
