// SPDX-License-Identifier: GPL-2.0
/* cgroup2 creation and removal, with id and full path: user space learns a
 * container's cgroup before its first exec and keeps it after the rmdir.
 * On hybrid hosts (v1_fallback) the v1 pids hierarchy's too, so a container
 * a runtime placed in v1 only still starts and exits (its ids are per
 * hierarchy: never mixed with cgroup2's). */
#include "boxwatch.bpf.h"

#define CG_DATA offsetof(struct bw_cgroup, data)

static __always_inline int cgroup_event(__u32 kind, struct cgroup *cgrp, const char *path)
{
	int hierarchy = BPF_CORE_READ(cgrp, root, hierarchy_id);
	if (hierarchy != 0) {
		int pids = bpf_core_enum_value(enum cgroup_subsys_id, pids_cgrp_id);
		if (!bw_cfg.v1_fallback || !(BPF_CORE_READ(cgrp, root, subsys_mask) & (1 << (pids & 31))))
			return 0;
	}
	struct bw_cgroup *e = bw_reserve(kind);
	if (!e)
		return 0;
	e->id = BPF_CORE_READ(cgrp, kn, id);
	e->hierarchy = hierarchy;
	e->level = BPF_CORE_READ(cgrp, level);
	__u32 at = CG_DATA + bw_cgroup_name(e, CG_DATA);
	at += bw_str_kernel(e, &e->path, at, BW_CGROUP_PATH_ROOM, path);
	bw_submit(e, kind, at);
	return 0;
}

SEC("tp_btf/cgroup_mkdir")
int BPF_PROG(bw_cgroup_mkdir, struct cgroup *cgrp, const char *path)
{
	return cgroup_event(BW_KIND_CGROUP_MKDIR, cgrp, path);
}

SEC("tp_btf/cgroup_rmdir")
int BPF_PROG(bw_cgroup_rmdir, struct cgroup *cgrp, const char *path)
{
	return cgroup_event(BW_KIND_CGROUP_RMDIR, cgrp, path);
}
