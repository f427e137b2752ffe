/* SPDX-License-Identifier: GPL-2.0 */
/*
 * boxwatch.bpf.h - maps and helpers shared by the hook files. One file of the
 * object (hooks/common.bpf.c) defines the maps; the others see them as extern,
 * and `bpftool gen object` links them into one object.
 */
#ifndef BOXWATCH_BPF_H
#define BOXWATCH_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "boxwatch_events.h"

#ifdef BW_DEFINE_MAPS
#define BW_MAP
#else
#define BW_MAP extern
#endif

#define AT_FDCWD -100
#define S_IFMT 00170000
#define S_IFSOCK 0140000

struct bw_ring_map {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 << 20); /* user space resizes it before load */
};
BW_MAP struct bw_ring_map events SEC(".maps");

struct bw_stats_map {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, BW_STATS_LEN);
	__type(key, __u32);
	__type(value, __u64);
};
BW_MAP struct bw_stats_map stats SEC(".maps");

/* per CPU: [0] the next sequence number, [1] bytes sent since the reader was last woken */
struct bw_seq_map {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
};
BW_MAP struct bw_seq_map seqs SEC(".maps");

/* Records are built here, per CPU, then sent with their real size (strings
 * packed after the fixed part), so the ring holds what they carry, not their
 * maximum. A few slots per CPU, each taken with a flag: should a hook ever be
 * preempted or nested while building a record (kernels differ on whether
 * syscall tracepoints run preemptible), another on that CPU takes the next
 * slot rather than write over it. */
#define BW_SCRATCH_SLOTS 4
#define BW_SCRATCH_ROOM 2048 /* above the largest record (exec, 1424) */
struct bw_scratch {
	__u64 busy;
	__u8 rec[BW_SCRATCH_ROOM];
};

struct bw_scratch_map {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, BW_SCRATCH_SLOTS);
	__type(key, __u32);
	__type(value, struct bw_scratch);
};
BW_MAP struct bw_scratch_map scratch SEC(".maps");
_Static_assert(sizeof(struct bw_exec) <= BW_SCRATCH_ROOM && sizeof(struct bw_open) <= BW_SCRATCH_ROOM &&
	       sizeof(struct bw_cgroup) <= BW_SCRATCH_ROOM && sizeof(struct bw_connect) <= BW_SCRATCH_ROOM,
	       "every record fits a scratch slot at its largest");

/* In-kernel ignore lists, filled by user space (bw_cfg.filters says which). */
struct bw_ignore_cgroups_map {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, __u8);
};
BW_MAP struct bw_ignore_cgroups_map ignore_cgroups SEC(".maps");

struct bw_ignore_comms_map {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, char[BW_COMM_LEN]);
	__type(value, __u8);
};
BW_MAP struct bw_ignore_comms_map ignore_comms SEC(".maps");

struct bw_ignore_paths_map {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, BW_IGNORE_PATHS);
	__type(key, __u32);
	__type(value, struct bw_path_prefix);
};
BW_MAP struct bw_ignore_paths_map ignore_paths SEC(".maps");

/* exec's arguments parked at enter for sched_process_exec, where the new
 * image has already cleared the registers they came in. Task storage is freed
 * with the task, and follows it through exec's change of pid. */
struct bw_parked {
	__u64 arg[4];
	__u32 syscall; /* enum bw_syscall; 0 = nothing parked */
	__u32 _pad;
};

struct bw_parked_map {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct bw_parked);
};
BW_MAP struct bw_parked_map parked SEC(".maps");

/* Per-thread room to gather a failed exec's argv (bpf_loop callbacks cannot
 * write the ring record directly). Per task, so preemption cannot mix two. */
struct bw_argv_buf {
	char buf[BW_ARGV_ROOM];
};

struct bw_argv_map {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct bw_argv_buf);
};
BW_MAP struct bw_argv_map argv_bufs SEC(".maps");

/* Per-thread room to build a walked path backward (bpf_loop callbacks cannot
 * write the ring record). The path is built in [0, BW_WALK_ROOM); the second
 * half is slack so that the verifier can bound a name's copy (up to 255 bytes
 * at an offset up to 255) without reasoning about their sum. */
struct bw_walk_buf {
	char buf[2 * BW_WALK_ROOM];
};

struct bw_walk_map {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct bw_walk_buf);
};
BW_MAP struct bw_walk_map walk_bufs SEC(".maps");

#ifdef BW_DEFINE_MAPS
const volatile struct bw_config bw_cfg = {};
#else
extern const volatile struct bw_config bw_cfg;
#endif

static __always_inline void bw_count(__u32 kind, __u32 stat)
{
	__u32 idx = kind * BW_STAT_N + stat;
	__u64 *v = bpf_map_lookup_elem(&stats, &idx);
	if (v)
		__sync_fetch_and_add(v, 1);
}

/* The sensor's own process, and the cgroups and task names user space asked
 * to leave out: dropped before any record work. */
static __always_inline bool bw_is_self(void)
{
	return bw_cfg.self_tgid && (bpf_get_current_pid_tgid() >> 32) == bw_cfg.self_tgid;
}

static __always_inline bool bw_ignored(void)
{
	if (bw_is_self())
		return true;
	if (bw_cfg.filters & BW_FILTER_CGROUP) {
		__u64 id = bpf_get_current_cgroup_id();
		if (bpf_map_lookup_elem(&ignore_cgroups, &id))
			return true;
	}
	if (bw_cfg.filters & BW_FILTER_COMM) {
		char comm[BW_COMM_LEN] = {};
		bpf_get_current_comm(comm, sizeof(comm));
		if (bpf_map_lookup_elem(&ignore_comms, comm))
			return true;
	}
	return false;
}

static __always_inline void bw_park(__u32 sys, __u64 a0, __u64 a1, __u64 a2, __u64 a3)
{
	/* not the ignore lists: an exec changes the task's name (and an ignored
	 * name can exec one that is not), so the commit decides */
	if (bw_is_self())
		return;
	struct bw_parked *p = bpf_task_storage_get(&parked, bpf_get_current_task_btf(), 0,
						   BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!p)
		return; /* bw_exec_commit then reports the exec without its syscall details */
	p->arg[0] = a0;
	p->arg[1] = a1;
	p->arg[2] = a2;
	p->arg[3] = a3;
	p->syscall = sys;
}

/* The syscall's first five arguments, from the task's saved user registers
 * (x86_64: di, si, dx, r10, r8). At sys_exit they still hold what the caller
 * passed (only ax takes the result), and they are there even when seccomp or
 * ptrace skipped the syscall and its sys_enter never fired, so a denied call
 * is still reported. Not after a successful exec: the new image clears them. */
struct bw_args {
	__u64 a[5];
};

static __always_inline void bw_syscall_args(struct bw_args *out)
{
	/* a BTF pointer: plain loads (the JIT guards them), no helper call each */
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
	out->a[0] = regs->di;
	out->a[1] = regs->si;
	out->a[2] = regs->dx;
	out->a[3] = regs->r10;
	out->a[4] = regs->r8;
}

/* This CPU's next sequence number. Every event that passed the filters
 * takes one, when it is sent or dropped, so the numbers missing from what
 * arrives are exactly the drops. */
static __always_inline __u64 bw_next_seq(__u32 kind)
{
	__u32 zero = 0;
	__u64 *s = bpf_map_lookup_elem(&seqs, &zero);
	bw_count(kind, BW_STAT_SEEN);
	return s ? __sync_fetch_and_add(s, 1) : 0;
}

/* Takes a scratch slot for a record and fills the common header (its size
 * and sequence number are set at submit). NULL, counted as a drop, only if
 * every slot of this CPU is held. */
static __always_inline void *bw_reserve(__u32 kind)
{
	struct bw_scratch *slot = NULL;
	for (__u32 i = 0; i < BW_SCRATCH_SLOTS; i++) {
		__u32 key = i;
		struct bw_scratch *s = bpf_map_lookup_elem(&scratch, &key);
		if (s && __sync_val_compare_and_swap(&s->busy, 0, 1) == 0) {
			slot = s;
			break;
		}
	}
	if (!slot) {
		bw_next_seq(kind); /* the gap that says so */
		bw_count(kind, BW_STAT_DROPPED);
		return NULL;
	}
	struct bw_hdr *h = (void *)slot->rec;
	struct task_struct *t = bpf_get_current_task_btf();
	__u64 id = bpf_get_current_pid_tgid();
	__u64 ug = bpf_get_current_uid_gid();
	h->kind = kind;
	h->version = BW_WIRE_VERSION;
	h->size = 0;
	h->hdr_size = sizeof(struct bw_hdr);
	h->ts_boot_ns = bpf_ktime_get_boot_ns();
	h->cgroup_id = bpf_get_current_cgroup_id();
	h->cpu = bpf_get_smp_processor_id();
	h->pid = id >> 32;
	h->tid = (__u32)id;
	/* t is a BTF pointer: fields are plain loads (the JIT guards them),
	 * not a helper call per hop as BPF_CORE_READ would make */
	h->ppid = t->real_parent->tgid;
	h->uid = (__u32)ug;
	h->gid = ug >> 32;
	struct pid *lp = t->group_leader->thread_pid;
	unsigned int level = lp->level;
	if (level == 0) {
		/* the initial pid namespace (every host task): its pids are the
		 * global ones and its inode number is fixed (PROC_PID_INIT_INO) */
		h->ns_pid = h->pid;
		h->pidns_ino = 0xEFFFFFFCU;
	} else {
		/* numbers[] is a flexible array, beyond what the verifier lets a plain load reach */
		struct upid up = {};
		bpf_probe_read_kernel(&up, sizeof(up), &lp->numbers[level & 31]);
		h->ns_pid = up.nr;
		h->pidns_ino = BPF_CORE_READ(up.ns, ns.inum);
	}
	h->mntns_ino = t->nsproxy->mnt_ns->ns.inum;
	h->flags = BW_HDR_FLAG_NONE;
	bpf_get_current_comm(h->comm, sizeof(h->comm));
	return h;
}

static __always_inline void bw_release(void *rec)
{
	struct bw_scratch *slot = rec - offsetof(struct bw_scratch, rec);
	slot->busy = 0;
}

/* Sends the record built in scratch: its first `size` bytes (the fixed part
 * and the strings packed after it). A full ring makes it a counted drop. */
static __always_inline void bw_submit(void *rec, __u32 kind, __u32 size)
{
	struct bw_hdr *h = rec;
	__u64 flags = 0;
	if (size > BW_SCRATCH_ROOM)
		size = BW_SCRATCH_ROOM; /* never: strings are bounded by their rooms */
	h->size = size;
	h->seq = bw_next_seq(kind);
	if (bw_cfg.wakeup_bytes) {
		/* wake the reader once per wakeup_bytes this CPU sends (a per-CPU
		 * count: no look at the ring's shared positions); the reader's poll
		 * timeout bounds the latency of a trickle */
		__u32 one = 1;
		__u64 *sent = bpf_map_lookup_elem(&seqs, &one);
		flags = BPF_RB_NO_WAKEUP;
		/* a plain add: a racing update only moves one wake-up a little */
		if (sent && (*sent += size) >= bw_cfg.wakeup_bytes) {
			*sent = 0;
			flags = BPF_RB_FORCE_WAKEUP;
		}
	}
	/* submitted is not counted: user space derives it as seen - dropped */
	if (bpf_ringbuf_output(&events, rec, size, flags))
		bw_count(kind, BW_STAT_DROPPED);
	bw_release(rec);
}

/* An ignored open path (bw_cfg.filters & BW_FILTER_PATH): the absolute path
 * at `p` (length n) starts with an ignore_paths prefix and has no "/." in
 * it, so ".." and "." cannot walk it out of the ignored tree. Both checks
 * are bpf_loop callbacks: verified once, not once per path to them. */
struct bw_ignore_check {
	const char *p;
	__u32 n;
	__u32 hit;
	__u32 dev; /* the opened file's filesystem */
	__u32 _pad;
};

static long bw_dot_step(__u32 i, struct bw_ignore_check *c)
{
	if (i + 1 >= c->n || i >= BW_PATH_ROOM - 1)
		return 1;
	const char *p = c->p;
	if (p[i] == '/' && p[i + 1] == '.') {
		c->hit = 1;
		return 1;
	}
	return 0;
}

static long bw_prefix_step(__u32 k, struct bw_ignore_check *c)
{
	if (k >= bw_cfg.path_prefixes)
		return 1;
	struct bw_path_prefix *pp = bpf_map_lookup_elem(&ignore_paths, &k);
	if (!pp)
		return 1;
	__u32 len = pp->len;
	if (len == 0 || len > c->n || len > BW_IGNORE_PATH_ROOM || pp->dev != c->dev)
		return 0;
	const char *p = c->p;
	for (__u32 i = 0; i < BW_IGNORE_PATH_ROOM; i++) {
		if (i >= len)
			break;
		if (p[i] != pp->prefix[i])
			return 0;
	}
	c->hit = 1;
	return 1;
}

static __always_inline __u32 bw_fd_dev(int fd);

static __always_inline bool bw_path_ignored(const char *p, __u32 n, int fd)
{
	if (n == 0 || n >= BW_PATH_ROOM || p[0] != '/' || fd < 0)
		return false;
	struct bw_ignore_check c = { .p = p, .n = n, .dev = bw_fd_dev(fd) };
	if (!c.dev)
		return false;
	bpf_loop(BW_PATH_ROOM - 1, bw_dot_step, &c, 0);
	if (c.hit)
		return false;
	bpf_loop(BW_IGNORE_PATHS, bw_prefix_step, &c, 0);
	return c.hit;
}

/* Copies a NUL-terminated string (user or kernel memory) into the record at
 * `off`, with its length and whether it was cut, unreadable or absent.
 * Returns its length (< room): the next string goes right after it. */
static __always_inline __u32 bw_str(void *rec, struct bw_str *s, __u32 off, __u32 room,
				    const void *src, bool user)
{
	s->off = off;
	s->len = 0;
	s->flags = 0;
	s->_pad = 0;
	if (!src) {
		s->flags = BW_STR_ABSENT;
		return 0;
	}
	long n = user ? bpf_probe_read_user_str(rec + off, room, src)
		      : bpf_probe_read_kernel_str(rec + off, room, src);
	if (n <= 0 || n > room) {
		s->flags = BW_STR_FAULT;
		return 0;
	}
	__u32 len = n - 1;
	s->len = len;
	if (n == room) {
		/* filled the room: truncated unless the source ended exactly there */
		char c = 1;
		long rc = user ? bpf_probe_read_user(&c, 1, src + room - 1)
			       : bpf_probe_read_kernel(&c, 1, src + room - 1);
		if (rc || c != 0)
			s->flags = BW_STR_TRUNCATED;
	}
	return len;
}

#define bw_str_user(rec, s, off, room, src) bw_str(rec, s, off, room, src, true)
#define bw_str_kernel(rec, s, off, room, src) bw_str(rec, s, off, room, src, false)

/* The task's cgroup2 leaf name: read at the event so a container that is gone
 * by the time user space looks is still named. Goes first in the data area. */
/* kernfs_node.parent became __parent in 6.15: CO-RE picks whichever exists */
struct kernfs_node___pre615 {
	struct kernfs_node *parent;
} __attribute__((preserve_access_index));

static __always_inline struct kernfs_node *bw_kn_parent(struct kernfs_node *kn)
{
	if (bpf_core_field_exists(kn->__parent))
		return BPF_CORE_READ(kn, __parent);
	return BPF_CORE_READ((struct kernfs_node___pre615 *)kn, parent);
}

#define BW_V1_PARENT_ROOM 96
#define BW_V1_LEAF_ROOM 128

static __always_inline __u32 bw_cgroup_name(void *rec, __u32 off)
{
	struct bw_hdr *h = rec;
	struct task_struct *t = bpf_get_current_task_btf();
	struct cgroup *dfl = t->cgroups->dfl_cgrp;
	if (bw_cfg.v1_fallback && dfl->level == 0) {
		/* in the cgroup2 root: a runtime may have put the task in v1
		 * hierarchies only (B01); name it by its pids cgroup, "parent/leaf" */
		int ssid = bpf_core_enum_value(enum cgroup_subsys_id, pids_cgrp_id);
		struct cgroup *v1 = t->cgroups->subsys[ssid]->cgroup;
		if (v1 && v1->level > 0) {
			struct kernfs_node *kn = v1->kn;
			long n1 = bpf_probe_read_kernel_str(rec + off, BW_V1_PARENT_ROOM,
							    BPF_CORE_READ(bw_kn_parent(kn), name));
			if (n1 > 0) {
				__u32 pos = n1 & (BW_V1_LEAF_ROOM - 1); /* just past the parent's NUL */
				((char *)rec)[off + ((pos - 1) & (BW_V1_LEAF_ROOM - 1))] = '/';
				long n2 = bpf_probe_read_kernel_str(rec + off + pos, BW_V1_LEAF_ROOM,
								    BPF_CORE_READ(kn, name));
				__u32 len = n2 > 0 ? pos + (n2 & (BW_V1_LEAF_ROOM - 1)) - 1 : pos - 1;
				len &= BW_CGROUP_NAME_ROOM - 1; /* < 96 + 128: the mask is for the verifier */
				h->cgroup_name.off = off;
				h->cgroup_name.len = len;
				h->cgroup_name.flags = n2 > 0 ? 0 : BW_STR_FAULT;
				h->cgroup_name._pad = 0;
				h->flags |= BW_HDR_FLAG_CGROUP_V1;
				return len;
			}
		}
	}
	return bw_str_kernel(rec, &h->cgroup_name, off, BW_CGROUP_NAME_ROOM, dfl->kn->name);
}

/* ---- paths walked in the kernel: open's dir, exec's exe ----
 * The way d_path() does it (fs/d_path.c, prepend_path), without its locks:
 * from a dentry up through d_parent to the task's root (task->fs->root, so a
 * chrooted or containerised task gets its path as it sees it), crossing each
 * mount at its root to the mountpoint in the parent mount. A rename racing the
 * walk can give a path that never existed; no lock can be taken here. */
#define S_IFDIR 0040000
#define BW_WALK_STEPS 64  /* names prepended plus mounts crossed */
#define BW_NAME_MAX 255

struct bw_walk {
	struct dentry *dentry;      /* next to prepend */
	struct mount *mnt;          /* the mount it is seen through */
	struct dentry *root_dentry; /* the task's root */
	struct mount *root_mnt;
	__u32 pos;                  /* the path so far is buf[pos, BW_WALK_ROOM) */
	__u16 str_flags;            /* BW_STR_* */
	__u16 path_flags;           /* BW_PATH_* */
	__u32 done;                 /* the walk ended at a root */
	__u32 _pad;
};

static __always_inline struct mount *bw_real_mount(struct vfsmount *m)
{
	return (struct mount *)((void *)m - bpf_core_field_offset(struct mount, mnt));
}

/* Prepends "/" and d's name to the path in the buffer; false when it does not fit. */
static __always_inline bool bw_walk_prepend(struct bw_walk *w, struct dentry *d)
{
	__u32 len = BPF_CORE_READ(d, d_name.len);
	__u32 pos = w->pos;
	if (pos > BW_WALK_ROOM || len > BW_NAME_MAX || len + 1 > pos) {
		w->str_flags |= BW_STR_TRUNCATED;
		return false;
	}
	__u32 at = pos - len - 1; /* < BW_WALK_ROOM by the check above */
	barrier_var(at);          /* the mask tells the verifier, which cannot relate pos and len */
	at &= BW_WALK_ROOM - 1;
	struct bw_walk_buf *b = bpf_task_storage_get(&walk_bufs, bpf_get_current_task_btf(), 0, 0);
	if (!b || bpf_probe_read_kernel(b->buf + at + 1, len, BPF_CORE_READ(d, d_name.name))) {
		w->str_flags |= BW_STR_FAULT;
		return false;
	}
	b->buf[at] = '/';
	w->pos = at;
	return true;
}

static long bw_walk_step(__u32 i, struct bw_walk *w)
{
	struct dentry *d = w->dentry;
	struct mount *m = w->mnt;
	if (d == w->root_dentry && m == w->root_mnt) {
		w->done = 1;
		return 1;
	}
	if (d == BPF_CORE_READ(m, mnt.mnt_root)) {
		struct mount *up = BPF_CORE_READ(m, mnt_parent);
		if (up && up != m) { /* cross to the mountpoint in the parent mount */
			w->dentry = BPF_CORE_READ(m, mnt_mountpoint);
			w->mnt = up;
			return 0;
		}
		/* the top of the mount tree, and the task's root was not on the way */
		w->path_flags |= BW_PATH_OUTSIDE_ROOT;
		w->done = 1;
		return 1;
	}
	struct dentry *parent = BPF_CORE_READ(d, d_parent);
	if (!parent || parent == d) {
		/* a root dentry that is not its mount's root: no place in the tree
		 * (memfd, anonymous files); d_path() names these "/<name>" too */
		if (w->pos == BW_WALK_ROOM && bw_walk_prepend(w, d))
			w->done = 1;
		w->path_flags |= BW_PATH_DETACHED;
		return 1;
	}
	if (!bw_walk_prepend(w, d))
		return 1;
	w->dentry = parent;
	return 0;
}

/* Walks (dentry, vfsmount) to the task's root into the record's string `s`
 * at `off` (room BW_WALK_ROOM), and returns its BW_PATH_* flags; *used gets
 * its length. */
static __always_inline __u16 bw_walk_path(void *rec, struct bw_str *s, __u32 off,
					  struct dentry *d, struct vfsmount *vm, __u32 *used)
{
	*used = 0;
	s->off = off;
	s->len = 0;
	s->flags = 0;
	s->_pad = 0;
	struct task_struct *t = bpf_get_current_task_btf();
	struct bw_walk_buf *b = bpf_task_storage_get(&walk_bufs, t, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!b || !d || !vm) {
		s->flags = BW_STR_FAULT;
		return 0;
	}
	struct bw_walk w = {
		.dentry = d,
		.mnt = bw_real_mount(vm),
		.root_dentry = BPF_CORE_READ(t, fs, root.dentry),
		.root_mnt = bw_real_mount(BPF_CORE_READ(t, fs, root.mnt)),
		.pos = BW_WALK_ROOM,
	};
	/* d_unlinked(): unhashed, and not a root */
	if (!BPF_CORE_READ(d, d_hash.pprev) && BPF_CORE_READ(d, d_parent) != d)
		w.path_flags |= BW_PATH_DELETED;
	bpf_loop(BW_WALK_STEPS, bw_walk_step, &w, 0);
	if (!w.done)
		w.str_flags |= BW_STR_TRUNCATED; /* out of room or steps (or a fault) */
	__u32 pos = w.pos;
	if (w.str_flags & BW_STR_FAULT) {
		s->flags = BW_STR_FAULT;
		return w.path_flags;
	}
	if (pos >= BW_WALK_ROOM) {
		/* nothing prepended: the walk started at the root */
		b->buf[BW_WALK_ROOM - 1] = '/';
		pos = BW_WALK_ROOM - 1;
	} else if (w.str_flags & BW_STR_TRUNCATED) {
		pos++; /* a cut path does not start with '/': it is not absolute */
	}
	pos &= BW_WALK_ROOM - 1; /* < BW_WALK_ROOM here; the mask is for the verifier */
	__u32 n = BW_WALK_ROOM - pos;
	if (n && bpf_probe_read_kernel(rec + off, n, b->buf + pos)) {
		s->flags = BW_STR_FAULT;
		return w.path_flags;
	}
	s->len = n;
	s->flags = w.str_flags;
	*used = n;
	return w.path_flags;
}

/* The file open at fd in the current task's table; NULL if none. */
static __always_inline struct file *bw_fd_file(int fd)
{
	struct task_struct *t = bpf_get_current_task_btf();
	struct fdtable *fdt = BPF_CORE_READ(t, files, fdt);
	if (!fdt || fd < 0 || (__u32)fd >= BPF_CORE_READ(fdt, max_fds))
		return NULL;
	struct file **fds = BPF_CORE_READ(fdt, fd);
	struct file *f = NULL;
	if (!fds || bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]))
		return NULL;
	return f;
}

/* The directory a relative path starts from: dirfd's file, or the cwd for
 * AT_FDCWD. False when dirfd is not an open file. */
static __always_inline bool bw_dirfd_path(int dirfd, struct dentry **d, struct vfsmount **vm)
{
	struct file *f = NULL;
	if (dirfd == AT_FDCWD) {
		struct task_struct *t = bpf_get_current_task_btf();
		*d = BPF_CORE_READ(t, fs, pwd.dentry);
		*vm = BPF_CORE_READ(t, fs, pwd.mnt);
	} else if ((f = bw_fd_file(dirfd))) {
		*d = BPF_CORE_READ(f, f_path.dentry);
		*vm = BPF_CORE_READ(f, f_path.mnt);
	} else {
		return false;
	}
	return *d && *vm;
}

/* The filesystem (kernel dev_t) of the file open at fd; 0 if none. */
static __always_inline __u32 bw_fd_dev(int fd)
{
	struct file *f = bw_fd_file(fd);
	return f ? BPF_CORE_READ(f, f_inode, i_sb, s_dev) : 0;
}

#endif /* BOXWATCH_BPF_H */
