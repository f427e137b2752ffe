// SPDX-License-Identifier: GPL-2.0
/* file open: open, openat, openat2, creat (x86_64). One record at exit with
 * the path as passed, dirfd, flags, mode, openat2's resolve and the result. */
#include "boxwatch.bpf.h"

#define O_WRONLY 01
#define O_CREAT 0100
#define O_TRUNC 01000
#define OPEN_DATA offsetof(struct bw_open, data)

/* arg[0] path, arg[1] dirfd, arg[2] flags (openat2: struct open_how *), arg[3] mode */
SEC("tracepoint/syscalls/sys_enter_open")
int bw_enter_open(struct trace_event_raw_sys_enter *ctx)
{
	bw_park(BW_SYS_OPEN, ctx->args[0], (__u64)(__s64)AT_FDCWD, ctx->args[1], ctx->args[2]);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_openat")
int bw_enter_openat(struct trace_event_raw_sys_enter *ctx)
{
	bw_park(BW_SYS_OPENAT, ctx->args[1], ctx->args[0], ctx->args[2], ctx->args[3]);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_openat2")
int bw_enter_openat2(struct trace_event_raw_sys_enter *ctx)
{
	bw_park(BW_SYS_OPENAT2, ctx->args[1], ctx->args[0], ctx->args[2], 0);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_creat")
int bw_enter_creat(struct trace_event_raw_sys_enter *ctx)
{
	bw_park(BW_SYS_CREAT, ctx->args[0], (__u64)(__s64)AT_FDCWD, O_CREAT | O_WRONLY | O_TRUNC,
		ctx->args[1]);
	return 0;
}

static __always_inline int open_exit(struct trace_event_raw_sys_exit *ctx)
{
	struct bw_parked a;
	if (!bw_unpark(BW_KIND_OPEN, BW_SYS_OPEN, BW_SYS_CREAT, &a))
		return 0;
	struct bw_open *e = bw_reserve(BW_KIND_OPEN, sizeof(*e));
	if (!e)
		return 0;
	e->ret = ctx->ret;
	e->dirfd = (__s32)a.arg[1];
	e->syscall = a.syscall;
	e->_pad = 0;
	e->resolve = 0;
	if (a.syscall == BW_SYS_OPENAT2) {
		struct open_how how = {};
		bpf_probe_read_user(&how, sizeof(how), (void *)a.arg[2]);
		e->flags = how.flags;
		e->mode = how.mode;
		e->resolve = how.resolve;
	} else {
		e->flags = a.arg[2];
		e->mode = a.arg[3];
	}
	bw_cgroup_name(e, OPEN_DATA);
	bw_str_user(e, &e->path, OPEN_DATA + BW_CGROUP_NAME_ROOM, BW_PATH_ROOM, (const void *)a.arg[0]);
	bw_submit(e, BW_KIND_OPEN);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_open")
int bw_exit_open(struct trace_event_raw_sys_exit *ctx) { return open_exit(ctx); }

SEC("tracepoint/syscalls/sys_exit_openat")
int bw_exit_openat(struct trace_event_raw_sys_exit *ctx) { return open_exit(ctx); }

SEC("tracepoint/syscalls/sys_exit_openat2")
int bw_exit_openat2(struct trace_event_raw_sys_exit *ctx) { return open_exit(ctx); }

SEC("tracepoint/syscalls/sys_exit_creat")
int bw_exit_creat(struct trace_event_raw_sys_exit *ctx) { return open_exit(ctx); }
