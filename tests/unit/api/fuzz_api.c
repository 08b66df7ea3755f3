// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target for everything an API client feeds phyllo-vmm.
 *
 * Byte 0 chooses the mode:
 *   even: the rest is a byte stream from a client. It is fed to the HTTP
 *         parser in chunks (sizes from byte 0, so splits vary), and every
 *         complete request goes through the API's routes to a fake VMM whose
 *         state carries over between requests, as on one connection; each
 *         answer is written out as the server would.
 *   odd:  the rest is a VmConfig body: read, and when accepted, written
 *         back and read again, which must give the same JSON (round trip).
 * Beyond the sanitizers, the parser's promises are checked: a request never
 * claims more bytes than it was given, and errors carry a 4xx/5xx status.
 */
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/endpoints.h"
#include "api/http.h"
#include "api/vmconfig_json.h"
#include "fake_vmm.h"
#include "base/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_set_level(LOG_ERROR);
	return 0;
}

static void fuzz_vmconfig(const char *text, size_t len)
{
	struct vm_config cfg, again;
	char err[512], *out;
	json_t *first, *second;

	if (vmconfig_from_json(text, len, &cfg, err, sizeof(err)) < 0) {
		if (!err[0])
			abort(); /* every refusal names its reason */
		return;
	}
	first = vmconfig_to_json(&cfg);
	out = first ? json_dumps(first, JSON_COMPACT) : NULL;
	if (out) {
		if (vmconfig_from_json(out, strlen(out), &again, err, sizeof(err)) < 0)
			abort(); /* what we write, we read back */
		second = vmconfig_to_json(&again);
		if (second && !json_equal(first, second))
			abort();
		json_decref(second);
		vm_config_free(&again);
	}
	free(out);
	json_decref(first);
	vm_config_free(&cfg);
}

static void fuzz_http(const char *in, size_t len, unsigned int chunk)
{
	struct fake_vmm vmm;
	struct http_parser p;
	struct http_buf out = { 0 };
	size_t start = 0, avail = 0;

	fake_vmm_init(&vmm);
	http_parser_reset(&p);
	while (start < len) {
		struct http_response resp = { 0 };
		enum http_parse_result r;
		bool shutdown_vmm;
		size_t consumed = 0;

		avail = avail + chunk < len - start ? avail + chunk : len - start;
		r = http_parse(&p, in + start, avail, &consumed);
		if (r == HTTP_PARSE_MORE) {
			if (avail == len - start)
				break; /* the client stops mid-request */
			continue;
		}
		if (r == HTTP_PARSE_ERROR) {
			if (p.error_status < 400 || p.error_status > 599 || !p.error_msg)
				abort();
			break; /* the server answers and closes */
		}
		if (consumed == 0 || consumed > avail)
			abort();
		api_handle_request(&fake_vmm_ops, &vmm, &p.req, &resp, &shutdown_vmm);
		resp.head_only = p.req.method == HTTP_HEAD;
		if (resp.status < 200 || resp.status > 599 || http_write_response(&out, &resp) < 0)
			abort();
		http_response_clear(&resp);
		out.len = 0;
		start += consumed;
		avail = 0;
		http_parser_reset(&p);
	}
	http_buf_free(&out);
	fake_vmm_free(&vmm);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (data[0] & 1)
		fuzz_vmconfig((const char *)data + 1, size - 1);
	else
		fuzz_http((const char *)data + 1, size - 1, 1u + (data[0] >> 1) * 13u);
	return 0;
}
