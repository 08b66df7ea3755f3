// SPDX-License-Identifier: GPL-2.0-or-later
/* phyllo: the manager's command line (cli.c). */
#include <curl/curl.h>

#include "cli/cli.h"

int main(int argc, char **argv)
{
	int status;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	status = cli_main(argc, argv, stdout, stderr);
	curl_global_cleanup();
	return status;
}
