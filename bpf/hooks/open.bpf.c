// SPDX-License-Identifier: GPL-2.0
/* file open: open, openat, openat2, creat (x86_64). One record at exit with
 * the path as passed, dirfd, flags, mode, openat2's resolve and the result;
 * the arguments come from the saved registers, so no enter hook is needed. */
#include "boxwatch.bpf.h"

#define O_WRONLY 01
#define O_CREAT 0100
#define O_TRUNC 01000
#define OPEN_DATA offsetof(struct bw_open, data)

static __always_inline int open_exit(struct trace_event_raw_sys_exit *ctx, __u32 sys)
{
	if (bw_ignored())
		return 0;
	struct bw_args a;
	bw_syscall_args(&a);
	struct bw_open *e = bw_reserve(BW_KIND_OPEN, sizeof(*e));
	if (!e)
		return 0;
	const void *path;
	e->ret = ctx->ret;
	e->syscall = sys;
	e->_pad = 0;
	e->resolve = 0;
	switch (sys) {
	case BW_SYS_OPEN:    /* open(path, flags, mode) */
		path = (const void *)a.a[0];
		e->dirfd = AT_FDCWD;
		e->flags = a.a[1];
		e->mode = a.a[2];
		break;
	case BW_SYS_CREAT:   /* creat(path, mode) */
		path = (const void *)a.a[0];
		e->dirfd = AT_FDCWD;
		e->flags = O_CREAT | O_WRONLY | O_TRUNC;
		e->mode = a.a[1];
		break;
	case BW_SYS_OPENAT2: { /* openat2(dirfd, path, how, size) */
		struct open_how how = {};
		path = (const void *)a.a[1];
		e->dirfd = (__s32)a.a[0];
		bpf_probe_read_user(&how, sizeof(how), (void *)a.a[2]);
		e->flags = how.flags;
		e->mode = how.mode;
		e->resolve = how.resolve;
		break;
	}
	default:             /* openat(dirfd, path, flags, mode) */
		path = (const void *)a.a[1];
		e->dirfd = (__s32)a.a[0];
		e->flags = a.a[2];
		e->mode = a.a[3];
	}
	bw_cgroup_name(e, OPEN_DATA);
	bw_str_user(e, &e->path, OPEN_DATA + BW_CGROUP_NAME_ROOM, BW_PATH_ROOM, path);
	bw_submit(e, BW_KIND_OPEN);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_open")
int bw_exit_open(struct trace_event_raw_sys_exit *ctx) { return open_exit(ctx, BW_SYS_OPEN); }

SEC("tracepoint/syscalls/sys_exit_openat")
int bw_exit_openat(struct trace_event_raw_sys_exit *ctx) { return open_exit(ctx, BW_SYS_OPENAT); }

SEC("tracepoint/syscalls/sys_exit_openat2")
int bw_exit_openat2(struct trace_event_raw_sys_exit *ctx) { return open_exit(ctx, BW_SYS_OPENAT2); }

SEC("tracepoint/syscalls/sys_exit_creat")
int bw_exit_creat(struct trace_event_raw_sys_exit *ctx) { return open_exit(ctx, BW_SYS_CREAT); }
