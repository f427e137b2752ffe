// SPDX-License-Identifier: GPL-2.0
/* connect: one record at exit with the raw sockaddr (AF_INET, AF_INET6,
 * AF_UNIX, ... decoded in user space), the socket's type and protocol, and the
 * result (0, -EINPROGRESS, -ECONNREFUSED, ...). The arguments come from the
 * saved registers at exit. */
#include "boxwatch.bpf.h"

/* type and protocol of the socket behind fd, from the task's file table */
static __always_inline void socket_kind(struct bw_connect *e, int fd)
{
	struct file *f = bw_fd_file(fd);
	if (!f)
		return;
	umode_t mode = BPF_CORE_READ(f, f_inode, i_mode);
	if ((mode & S_IFMT) != S_IFSOCK)
		return;
	struct socket *sock = BPF_CORE_READ(f, private_data);
	e->sock_type = BPF_CORE_READ(sock, type);
	e->protocol = BPF_CORE_READ(sock, sk, sk_protocol);
}

SEC("tracepoint/syscalls/sys_exit_connect")
int bw_exit_connect(struct trace_event_raw_sys_exit *ctx)
{
	if (bw_ignored())
		return 0;
	struct bw_args a; /* connect(fd, addr, addrlen) */
	bw_syscall_args(&a);
	struct bw_connect *e = bw_reserve(BW_KIND_CONNECT);
	if (!e)
		return 0;
	e->ret = ctx->ret;
	e->fd = (__s32)a.a[0];
	e->addrlen = (__u32)a.a[2];
	e->syscall = BW_SYS_CONNECT;
	e->sock_type = 0;
	e->protocol = 0;
	e->addr_flags = 0;
	e->_pad = 0;
	__u64 n = a.a[2] & 0xffffffff;
	if (n > BW_SOCKADDR_ROOM) {
		n = BW_SOCKADDR_ROOM;
		e->addr_flags = BW_STR_TRUNCATED;
	}
	__builtin_memset(e->addr, 0, sizeof(e->addr));
	if (!a.a[1]) {
		e->addr_flags |= BW_STR_ABSENT;
		n = 0;
	} else if (n && bpf_probe_read_user(e->addr, n, (void *)a.a[1])) {
		e->addr_flags |= BW_STR_FAULT;
		n = 0;
	}
	e->addr_len = n;
	socket_kind(e, e->fd);
	__u32 end = offsetof(struct bw_connect, data);
	end += bw_cgroup_name(e, end);
	bw_submit(e, BW_KIND_CONNECT, end);
	return 0;
}
