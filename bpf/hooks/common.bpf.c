// SPDX-License-Identifier: GPL-2.0
/* Defines the maps and settings the hook files share. */
#define BW_DEFINE_MAPS
#include "boxwatch.bpf.h"

char LICENSE[] SEC("license") = "GPL";
