// SPDX-License-Identifier: GPL-2.0
/* fork: new processes (threads are skipped), so user space can follow the
 * parent chain of whatever launched a container, forks without exec included. */
#include "boxwatch.bpf.h"

SEC("tp_btf/sched_process_fork")
int BPF_PROG(bw_fork, struct task_struct *parent, struct task_struct *child)
{
	/* not the ignore lists: --containers-only must still see the host's
	 * runtimes fork, or a container's launch chain would be lost */
	if (bw_is_self() || BPF_CORE_READ(child, pid) != BPF_CORE_READ(child, tgid))
		return 0;
	struct bw_fork *e = bw_reserve(BW_KIND_FORK);
	if (!e)
		return 0;
	e->child_pid = BPF_CORE_READ(child, tgid);
	e->_pad = 0;
	e->hdr.cgroup_name.off = sizeof(*e);
	e->hdr.cgroup_name.len = 0;
	e->hdr.cgroup_name.flags = BW_STR_ABSENT;
	e->hdr.cgroup_name._pad = 0;
	bw_submit(e, BW_KIND_FORK, sizeof(*e));
	return 0;
}
