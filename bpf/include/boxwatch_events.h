/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * boxwatch_events.h - THE wire format between the BPF programs and user space.
 *
 * Included by the BPF object (after vmlinux.h) and by Swift (module CBoxwatchABI).
 * Rules: fixed-width fields only, padding written out, every struct size checked
 * by _Static_assert here and by a Swift MemoryLayout test. Variable-length data
 * (paths, argv, cgroup names) lives after the fixed part of a record and is
 * addressed by a bw_str descriptor (offset from the record start, length).
 * The programs pack strings back to back after the fixed part, so a record's
 * size is always hdr.size, never sizeof(...): the structs below give each
 * string its largest room (data[]), which a record only takes when full.
 */
#ifndef BOXWATCH_EVENTS_H
#define BOXWATCH_EVENTS_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* 2: open records carry `dir` (the directory a relative path starts from,
 * walked in the kernel) and exec records `exe` (the executable's path, walked
 * from bprm->file). Decoders still read version 1, whose layouts of those two
 * kinds are kept below as bw_open_v1 and bw_exec_v1. */
#define BW_WIRE_VERSION 2

enum bw_kind {
	BW_KIND_EXEC = 1,
	BW_KIND_OPEN = 2,
	BW_KIND_CONNECT = 3,
	BW_KIND_CGROUP_MKDIR = 4,
	BW_KIND_CGROUP_RMDIR = 5,
	BW_KIND_FORK = 6,
	/* room for later kinds: counters are sized by BW_KIND_SLOTS */
};
#define BW_KIND_SLOTS 16

/* per-CPU counters, index = kind * BW_STAT_N + stat */
enum bw_stat {
	BW_STAT_SEEN = 0,      /* events that passed the filters: seen = submitted + dropped */
	BW_STAT_SUBMITTED = 1, /* not counted in the kernel (one atomic less per event): seen - dropped */
	BW_STAT_DROPPED = 2,   /* not sent: ring full (or, never seen, every scratch slot of the CPU held) */
	BW_STAT_FILTERED = 3,  /* opens left out in the kernel by an ignored path prefix */
	BW_STAT_N = 4,
};
#define BW_STATS_LEN (BW_KIND_SLOTS * BW_STAT_N)

/* which syscall produced the record (not the raw number: stable across ABIs) */
enum bw_syscall {
	BW_SYS_NONE = 0, /* no syscall: kernel-initiated exec, cgroup events */
	BW_SYS_EXECVE = 1,
	BW_SYS_EXECVEAT = 2,
	BW_SYS_OPEN = 3,
	BW_SYS_OPENAT = 4,
	BW_SYS_OPENAT2 = 5,
	BW_SYS_CREAT = 6,
	BW_SYS_CONNECT = 7,
};

/* bw_str.flags */
#define BW_STR_TRUNCATED 0x1 /* source longer than the room given */
#define BW_STR_FAULT 0x2     /* reading the source failed; len is 0 */
#define BW_STR_ABSENT 0x4    /* no source (e.g. NULL pointer) */

/* A string stored in the record's variable part. No NUL is counted in len. */
struct bw_str {
	__u16 off;   /* from the start of the record */
	__u16 len;   /* bytes */
	__u16 flags; /* BW_STR_* */
	__u16 _pad;
};

/* bw_hdr.flags */
#define BW_HDR_FLAG_NONE 0
/* cgroup_name is "parent/leaf" of the task's cgroup v1 pids hierarchy: its
 * cgroup2 is the root (a hybrid host whose runtime placed it in v1 only) */
#define BW_HDR_FLAG_CGROUP_V1 0x1

#define BW_COMM_LEN 16

/* Common header of every record: 96 bytes. */
struct bw_hdr {
	__u16 kind;        /* enum bw_kind */
	__u16 version;     /* BW_WIRE_VERSION of the producer */
	__u16 size;        /* bytes of the whole record, header included */
	__u16 hdr_size;    /* sizeof(struct bw_hdr) of the producer */
	__u64 ts_boot_ns;  /* bpf_ktime_get_boot_ns(): counts suspend, same clock as task start times */
	__u64 seq;         /* per-CPU sequence, taken for every attempt: gaps are drops */
	__u64 cgroup_id;   /* cgroup2 id of the task (bpf_get_current_cgroup_id) */
	__u32 cpu;
	__u32 pid;         /* thread group id, init pid namespace */
	__u32 tid;
	__u32 ppid;        /* real parent's thread group id */
	__u32 uid;
	__u32 gid;
	__u32 ns_pid;      /* thread group id inside the task's own pid namespace */
	__u32 pidns_ino;
	__u32 mntns_ino;
	__u32 flags;       /* BW_HDR_FLAG_* */
	char comm[BW_COMM_LEN];
	struct bw_str cgroup_name; /* leaf name of the task's cgroup2, read in the kernel */
};

/* Room the producer gives each string (a bw_str never exceeds its room). */
#define BW_CGROUP_NAME_ROOM 256
#define BW_PATH_ROOM 256
#define BW_ARGV_ROOM 512
#define BW_CGROUP_PATH_ROOM 512
#define BW_SOCKADDR_ROOM 128 /* sockaddr_un is 110 bytes; larger lengths are clamped */
#define BW_WALK_ROOM 256     /* a path walked in the kernel (open's dir, exec's exe) */

/* A path walked in the kernel from a dentry up to the task's root
 * (task->fs->root), crossing mounts: open's `dir`, exec's `exe`. Built
 * forward: the bw_str holds "/a/b/c" as the task sees it ("/" for the root
 * itself). BW_STR_TRUNCATED: the room (BW_WALK_ROOM) or the step limit (64
 * names plus mounts crossed) ran out before the root; the string then holds
 * the components nearest the file, without the leading '/', e.g. "b/c".
 * BW_STR_FAULT: there was nothing to walk (open: dirfd is not an open file).
 * BW_STR_ABSENT: no walk was made (open: the path is absolute; exec: failed).
 * What the walk found is said by the record's BW_PATH_* flags: */
#define BW_PATH_NOT_DIR 0x1      /* open: dirfd's file is not a directory (dir is that file's path) */
#define BW_PATH_DELETED 0x2      /* the file or directory was removed (d_unlinked): the path is where it was */
#define BW_PATH_OUTSIDE_ROOT 0x4 /* the walk reached the top of its mount tree without meeting the
				    task's root (chroot or container escape, a dirfd from elsewhere):
				    the path is from that tree's root */
#define BW_PATH_DETACHED 0x8     /* a dentry with no place in any tree (memfd, anonymous files): the
				    string is "/" and its own name, e.g. "/memfd:x" */

/* bw_exec.exec_flags */
#define BW_EXEC_ARGC_LOWER_BOUND 0x1 /* argc counted up to a limit on a failed exec */

struct bw_exec {
	struct bw_hdr hdr;
	__s32 ret;          /* 0, or -errno for a failed attempt */
	__s32 dirfd;        /* execveat's dirfd; AT_FDCWD (-100) for execve */
	__u32 at_flags;     /* execveat's flags */
	__u32 argc;         /* true argument count (see exec_flags) */
	__u16 syscall;      /* enum bw_syscall */
	__u16 exec_flags;   /* BW_EXEC_* */
	__u16 exe_flags;    /* BW_PATH_* of exe */
	__u16 _pad;
	struct bw_str filename; /* success: the kernel's bprm->filename; failure: the user string */
	struct bw_str argv;     /* arguments, each ended by NUL; truncated flag on the str */
	struct bw_str exe;      /* success: bprm->file's path, walked; failure: absent */
	char data[BW_CGROUP_NAME_ROOM + BW_PATH_ROOM + BW_ARGV_ROOM + BW_WALK_ROOM];
};

struct bw_open {
	struct bw_hdr hdr;
	__s64 ret;          /* fd, or -errno */
	__s32 dirfd;        /* AT_FDCWD (-100) for open/creat */
	__u32 flags;        /* open flags (O_*) */
	__u32 mode;
	__u16 syscall;      /* enum bw_syscall */
	__u16 dir_flags;    /* BW_PATH_* of dir */
	__u64 resolve;      /* openat2's how.resolve (RESOLVE_*) */
	struct bw_str path; /* as passed */
	struct bw_str dir;  /* relative path: the directory it starts from (dirfd's, or the cwd),
			       walked at exit; absolute path: absent */
	char data[BW_CGROUP_NAME_ROOM + BW_PATH_ROOM + BW_WALK_ROOM];
};

/* Version-1 layouts of the two kinds version 2 changed, for decoders of old
 * dumps; the programs write version 2 only. */
struct bw_exec_v1 {
	struct bw_hdr hdr;
	__s32 ret;
	__s32 dirfd;
	__u32 at_flags;
	__u32 argc;
	__u16 syscall;
	__u16 exec_flags;
	__u32 _pad;
	struct bw_str filename;
	struct bw_str argv;
	char data[BW_CGROUP_NAME_ROOM + BW_PATH_ROOM + BW_ARGV_ROOM];
};

struct bw_open_v1 {
	struct bw_hdr hdr;
	__s64 ret;
	__s32 dirfd;
	__u32 flags;
	__u32 mode;
	__u16 syscall;
	__u16 _pad;
	__u64 resolve;
	struct bw_str path;
	char data[BW_CGROUP_NAME_ROOM + BW_PATH_ROOM];
};

struct bw_connect {
	struct bw_hdr hdr;
	__s32 ret;          /* 0, -EINPROGRESS, -ECONNREFUSED, ... */
	__s32 fd;
	__u32 addrlen;      /* as passed by the caller */
	__u16 sock_type;    /* SOCK_STREAM, SOCK_DGRAM, ...; 0 if unknown */
	__u16 protocol;     /* IPPROTO_* of the socket; 0 if unknown */
	__u16 syscall;      /* enum bw_syscall */
	__u16 addr_len;     /* bytes of addr copied */
	__u16 addr_flags;   /* BW_STR_* for the sockaddr copy */
	__u16 _pad;
	__u8 addr[BW_SOCKADDR_ROOM]; /* raw sockaddr, as the caller passed it */
	char data[BW_CGROUP_NAME_ROOM];
};

struct bw_cgroup {
	struct bw_hdr hdr;
	__u64 id;           /* the created or removed cgroup's id */
	__u32 hierarchy;    /* hierarchy id; 0 is cgroup2 */
	__u32 level;        /* depth below the root */
	struct bw_str path; /* path from the hierarchy root */
	char data[BW_CGROUP_NAME_ROOM + BW_CGROUP_PATH_ROOM];
};

/* A new process (not a thread): its parent is the header's task. Only for
 * the parent chain of what launched a container; no cgroup name is read. */
struct bw_fork {
	struct bw_hdr hdr;
	__u32 child_pid;
	__u32 _pad;
};

/* bw_config.filters: which in-kernel ignore lists are in use (each costs a
 * lookup per event only when set) */
#define BW_FILTER_CGROUP 0x1 /* map ignore_cgroups: cgroup2 ids whose events are left out */
#define BW_FILTER_COMM 0x2   /* map ignore_comms: task names (comm, 16 bytes, NUL-padded) */
#define BW_FILTER_PATH 0x4   /* map ignore_paths: absolute open-path prefixes (opens only) */

#define BW_IGNORE_PATHS 8       /* prefixes at most */
#define BW_IGNORE_PATH_ROOM 64  /* bytes per prefix */

/* An entry of ignore_paths: a successful open whose absolute path starts
 * with prefix[0, len), has no "/." in it, and whose opened file is on the
 * filesystem `dev` (the prefix's own, kernel dev_t: major << 20 | minor) is
 * left out; so a magic link (/proc/self/root/...), a bind mount or a string
 * rewritten after the kernel read it cannot hide a file elsewhere. */
struct bw_path_prefix {
	__u32 len;
	__u32 dev;
	char prefix[BW_IGNORE_PATH_ROOM];
};

/* Load-time settings (const volatile in the BPF object, set before load). */
struct bw_config {
	__u32 self_tgid;     /* events of this process are ignored; 0 = none */
	__u32 wakeup_bytes;  /* 0: wake user space per record; else when this CPU has sent this
				many bytes since it last woke the reader */
	__u32 v1_fallback;   /* 1 on hybrid hosts: name tasks in the cgroup2 root by their v1 pids cgroup */
	__u32 filters;       /* BW_FILTER_* */
	__u32 path_prefixes; /* entries of ignore_paths in use */
	__u32 _pad[3];
};

#define BW_ASSERT_SIZE(t, n) _Static_assert(sizeof(struct t) == (n), "wire size of " #t)
BW_ASSERT_SIZE(bw_str, 8);
BW_ASSERT_SIZE(bw_hdr, 96);
BW_ASSERT_SIZE(bw_exec, 96 + 48 + 1280);
BW_ASSERT_SIZE(bw_open, 96 + 48 + 768);
BW_ASSERT_SIZE(bw_exec_v1, 96 + 40 + 1024);
BW_ASSERT_SIZE(bw_open_v1, 96 + 40 + 512);
BW_ASSERT_SIZE(bw_connect, 96 + 24 + 128 + 256);
BW_ASSERT_SIZE(bw_cgroup, 96 + 24 + 768);
BW_ASSERT_SIZE(bw_fork, 96 + 8);
BW_ASSERT_SIZE(bw_config, 32);
BW_ASSERT_SIZE(bw_path_prefix, 72);
#define BW_ASSERT_OFF(t, f, n) _Static_assert(__builtin_offsetof(struct t, f) == (n), "wire offset of " #t "." #f)
BW_ASSERT_OFF(bw_exec, exe_flags, 116);
BW_ASSERT_OFF(bw_exec, exe, 136);
BW_ASSERT_OFF(bw_exec, data, 144);
BW_ASSERT_OFF(bw_open, dir_flags, 118);
BW_ASSERT_OFF(bw_open, dir, 136);
BW_ASSERT_OFF(bw_open, data, 144);
BW_ASSERT_OFF(bw_exec_v1, data, 136);
BW_ASSERT_OFF(bw_open_v1, data, 136);

#endif /* BOXWATCH_EVENTS_H */
