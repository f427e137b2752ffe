// SPDX-License-Identifier: GPL-2.0
/*
 * exec: execve and execveat.
 * A successful exec is emitted at sched_process_exec, where the kernel's own
 * copy of the file name (bprm->filename) and the new image's argv (already on
 * the new stack, so no page faults) can be read. A failed exec never reaches
 * that point: sys_exit emits it, reading the caller's registers and strings,
 * which a failed exec leaves intact. A success also carries the executable's
 * path walked from bprm->file (a memfd or other fileless exec shows as such).
 */
#include "boxwatch.bpf.h"

#define EXEC_DATA offsetof(struct bw_exec, data)
#define ARG_ROOM (BW_ARGV_ROOM / 2) /* one argument's room on the failure path */
#define MAX_ARGS 64                 /* pointers counted on the failure path */

SEC("tracepoint/syscalls/sys_enter_execve")
int bw_enter_execve(struct trace_event_raw_sys_enter *ctx)
{
	bw_park(BW_SYS_EXECVE, ctx->args[0], ctx->args[1], (__u64)(__s64)AT_FDCWD, 0);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_execveat")
int bw_enter_execveat(struct trace_event_raw_sys_enter *ctx)
{
	bw_park(BW_SYS_EXECVEAT, ctx->args[1], ctx->args[2], ctx->args[0], ctx->args[4]);
	return 0;
}

static __always_inline void fill_syscall(struct bw_exec *e, const struct bw_parked *a)
{
	e->syscall = a->syscall;
	e->dirfd = a->syscall ? (__s32)a->arg[2] : AT_FDCWD;
	e->at_flags = (__u32)a->arg[3];
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(bw_exec_commit, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	struct bw_parked a = {};
	struct bw_parked *pp = bpf_task_storage_get(&parked, bpf_get_current_task_btf(), 0, 0);
	if (pp && (pp->syscall == BW_SYS_EXECVE || pp->syscall == BW_SYS_EXECVEAT)) {
		a = *pp;
		pp->syscall = BW_SYS_NONE; /* sys_exit sees ret 0 and emits nothing */
	}
	if (bw_ignored()) /* after the parked arguments are taken: none outlive their exec */
		return 0;
	struct bw_exec *e = bw_reserve(BW_KIND_EXEC);
	if (!e)
		return 0;
	e->ret = 0;
	fill_syscall(e, &a);
	e->argc = BPF_CORE_READ(bprm, argc);
	e->exec_flags = 0;
	e->_pad = 0;
	/* strings back to back: cgroup name, filename, exe, argv */
	__u32 at = EXEC_DATA + bw_cgroup_name(e, EXEC_DATA);
	at += bw_str_kernel(e, &e->filename, at, BW_PATH_ROOM, BPF_CORE_READ(bprm, filename));
	struct file *f = BPF_CORE_READ(bprm, file);
	__u32 exe_len = 0;
	e->exe_flags = bw_walk_path(e, &e->exe, at, BPF_CORE_READ(f, f_path.dentry),
				    BPF_CORE_READ(f, f_path.mnt), &exe_len);
	at += exe_len;

	struct mm_struct *mm = BPF_CORE_READ(p, mm);
	__u64 start = BPF_CORE_READ(mm, arg_start);
	__u64 n = BPF_CORE_READ(mm, arg_end) - start;
	e->argv.off = at;
	e->argv._pad = 0;
	e->argv.flags = 0;
	if (n > BW_ARGV_ROOM) {
		n = BW_ARGV_ROOM;
		e->argv.flags = BW_STR_TRUNCATED;
	}
	if (n && bpf_probe_read_user((void *)e + at, n, (void *)start)) {
		e->argv.flags |= BW_STR_FAULT;
		n = 0;
	}
	e->argv.len = n;
	bw_submit(e, BW_KIND_EXEC, at + n);
	return 0;
}

struct argv_walk {
	const char *const *argv;
	__u32 pos;   /* bytes gathered */
	__u32 argc;  /* pointers seen */
	__u16 flags; /* BW_STR_* */
	__u16 ended; /* the NULL ending argv was seen */
};

static long argv_step(__u32 i, struct argv_walk *w)
{
	const char *arg = NULL;
	if (bpf_probe_read_user(&arg, sizeof(arg), &w->argv[i])) {
		w->flags |= BW_STR_FAULT;
		return 1;
	}
	if (!arg) {
		w->ended = 1;
		return 1;
	}
	w->argc++;
	if (w->pos >= ARG_ROOM) {
		w->flags |= BW_STR_TRUNCATED;
		return 0;
	}
	struct bw_argv_buf *b = bpf_task_storage_get(&argv_bufs, bpf_get_current_task_btf(), 0, 0);
	if (!b)
		return 1;
	long n = bpf_probe_read_user_str(b->buf + (w->pos & (ARG_ROOM - 1)), ARG_ROOM, arg);
	if (n <= 0) {
		w->flags |= BW_STR_FAULT;
		return 1;
	}
	if (n == ARG_ROOM)
		w->flags |= BW_STR_TRUNCATED;
	w->pos += n;
	return 0;
}

static __always_inline int exec_exit(struct trace_event_raw_sys_exit *ctx, __u32 sys)
{
	long ret = ctx->ret;
	if (ret == 0)
		return 0; /* a success was emitted by bw_exec_commit */
	struct bw_parked *pp = bpf_task_storage_get(&parked, bpf_get_current_task_btf(), 0, 0);
	if (pp)
		pp->syscall = BW_SYS_NONE;
	if (bw_ignored())
		return 0;
	/* a failed exec leaves the caller's registers and memory as they were
	 * (and seccomp-denied calls never parked anything) */
	struct bw_args r;
	bw_syscall_args(&r);
	struct bw_parked a = { .syscall = sys };
	if (sys == BW_SYS_EXECVEAT) { /* execveat(dirfd, filename, argv, envp, flags) */
		a.arg[0] = r.a[1];
		a.arg[1] = r.a[2];
		a.arg[2] = r.a[0];
		a.arg[3] = r.a[4];
	} else {                      /* execve(filename, argv, envp) */
		a.arg[0] = r.a[0];
		a.arg[1] = r.a[1];
		a.arg[2] = (__u64)(__s64)AT_FDCWD;
	}
	struct bw_exec *e = bw_reserve(BW_KIND_EXEC);
	if (!e)
		return 0;
	e->ret = ret;
	fill_syscall(e, &a);
	e->exec_flags = 0;
	e->exe_flags = 0;
	e->_pad = 0;
	/* strings back to back: cgroup name, filename, argv (no exe) */
	__u32 at = EXEC_DATA + bw_cgroup_name(e, EXEC_DATA);
	at += bw_str_user(e, &e->filename, at, BW_PATH_ROOM, (const void *)a.arg[0]);
	e->exe.off = at;
	e->exe.len = 0;
	e->exe.flags = BW_STR_ABSENT; /* no file was executed */
	e->exe._pad = 0;

	/* argv from the caller's pointer array, gathered by a bpf_loop callback
	 * (one verifier pass instead of one per iteration and branch) */
	struct argv_walk w = { .argv = (const char *const *)a.arg[1] };
	struct bw_argv_buf *buf = bpf_task_storage_get(&argv_bufs, bpf_get_current_task_btf(), 0,
						       BPF_LOCAL_STORAGE_GET_F_CREATE);
	e->argv.off = at;
	e->argv._pad = 0;
	e->argv.len = 0;
	e->argv.flags = w.argv ? 0 : BW_STR_ABSENT;
	__u64 n = 0;
	if (w.argv && buf) {
		long loops = bpf_loop(MAX_ARGS, argv_step, &w, 0);
		if (loops == MAX_ARGS && !w.ended)
			e->exec_flags |= BW_EXEC_ARGC_LOWER_BOUND;
		n = w.pos;
		if (n > BW_ARGV_ROOM)
			n = BW_ARGV_ROOM;
		if (n && bpf_probe_read_kernel((void *)e + at, n, buf->buf))
			n = 0;
		e->argv.len = n;
		e->argv.flags |= w.flags;
	} else if (w.argv) {
		e->argv.flags |= BW_STR_FAULT;
	}
	e->argc = w.argc;
	bw_submit(e, BW_KIND_EXEC, at + n);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_execve")
int bw_exit_execve(struct trace_event_raw_sys_exit *ctx) { return exec_exit(ctx, BW_SYS_EXECVE); }

SEC("tracepoint/syscalls/sys_exit_execveat")
int bw_exit_execveat(struct trace_event_raw_sys_exit *ctx) { return exec_exit(ctx, BW_SYS_EXECVEAT); }
