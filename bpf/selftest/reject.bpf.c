// SPDX-License-Identifier: GPL-2.0
/* A program the verifier must refuse (an unbounded stack read), with the
 * maps and settings boxwatch configures before load, so the live tests can
 * check that a verifier rejection is reported with the verifier's own words.
 * Built only by `make selftest`; never part of boxwatch.bpf.o. */
#define BW_DEFINE_MAPS
#include "boxwatch.bpf.h"

char LICENSE[] SEC("license") = "GPL";

SEC("tracepoint/syscalls/sys_enter_openat")
int bw_selftest_reject(void *ctx)
{
	volatile char buf[8] = {};
	__u32 i = bpf_get_prandom_u32();
	return buf[i];
}
