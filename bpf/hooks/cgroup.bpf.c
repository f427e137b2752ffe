// SPDX-License-Identifier: GPL-2.0
/* cgroup2 creation and removal, with id and full path: user space learns a
 * container's cgroup before its first exec and keeps it after the rmdir. */
#include "boxwatch.bpf.h"

#define CG_DATA offsetof(struct bw_cgroup, data)

static __always_inline int cgroup_event(__u32 kind, struct cgroup *cgrp, const char *path)
{
	if (BPF_CORE_READ(cgrp, root, hierarchy_id) != 0)
		return 0; /* v1 hierarchies: their ids collide with cgroup2 ids */
	struct bw_cgroup *e = bw_reserve(kind, sizeof(*e));
	if (!e)
		return 0;
	e->id = BPF_CORE_READ(cgrp, kn, id);
	e->hierarchy = 0;
	e->level = BPF_CORE_READ(cgrp, level);
	bw_cgroup_name(e, CG_DATA);
	bw_str_kernel(e, &e->path, CG_DATA + BW_CGROUP_NAME_ROOM, BW_CGROUP_PATH_ROOM, path);
	bw_submit(e, kind);
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
