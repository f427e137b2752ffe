// SPDX-License-Identifier: GPL-2.0
/* file open: open, openat, openat2, creat (x86_64). One record at exit with
 * the path as passed, dirfd, flags, mode, openat2's resolve and the result;
 * the arguments come from the saved registers, so no enter hook is needed.
 * A relative path also gets the directory it starts from (dirfd's file, or the
 * cwd), walked in the kernel at exit; an absolute one skips the walk. */
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
	struct bw_open *e = bw_reserve(BW_KIND_OPEN);
	if (!e)
		return 0;
	const void *path;
	e->ret = ctx->ret;
	e->syscall = sys;
	e->dir_flags = 0;
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
	/* strings back to back after the fixed part: cgroup name, path, dir */
	__u32 at_path = OPEN_DATA + bw_cgroup_name(e, OPEN_DATA);
	__u32 path_len = bw_str_user(e, &e->path, at_path, BW_PATH_ROOM, path);
	__u32 at_dir = at_path + path_len;
	/* only successful opens (the file is there to check), never one
	 * resolved under a dirfd as its root (openat2 RESOLVE_IN_ROOT) */
	if ((bw_cfg.filters & BW_FILTER_PATH) && !(e->path.flags & BW_STR_TRUNCATED) && e->ret >= 0 &&
	    !(e->resolve & 0x10) && bw_path_ignored((const char *)e + at_path, path_len, e->ret)) {
		/* an ignored prefix: no sequence number taken, so no gap */
		bw_count(BW_KIND_OPEN, BW_STAT_FILTERED);
		bw_release(e);
		return 0;
	}

	/* the directory a relative path starts from, only for a relative path
	 * (its first byte, as read into the record, is not '/') */
	e->dir.off = at_dir;
	e->dir.len = 0;
	e->dir.flags = BW_STR_ABSENT;
	e->dir._pad = 0;
	__u32 dir_len = 0;
	if (!(e->path.flags & (BW_STR_FAULT | BW_STR_ABSENT)) && ((char *)e)[at_path] != '/') {
		struct dentry *d = NULL;
		struct vfsmount *vm = NULL;
		if (bw_dirfd_path(e->dirfd, &d, &vm)) {
			__u16 pf = bw_walk_path(e, &e->dir, at_dir, d, vm, &dir_len);
			umode_t mode = BPF_CORE_READ(d, d_inode, i_mode);
			if ((mode & S_IFMT) != S_IFDIR)
				pf |= BW_PATH_NOT_DIR;
			e->dir_flags = pf;
		} else {
			e->dir.flags = BW_STR_FAULT;
		}
	}
	bw_submit(e, BW_KIND_OPEN, at_dir + dir_len);
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
