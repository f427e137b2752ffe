// The few things libbpf's C API needs C for: a varargs print callback, and
// finding a .rodata variable by name through the object's BTF.
#include "CLibBPF.h"
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int bw_set_rodata(struct bpf_object *obj, const char *name, const void *value, size_t size)
{
	struct btf *btf = bpf_object__btf(obj);
	struct bpf_map *map = NULL, *m;
	bpf_object__for_each_map(m, obj) {
		const char *n = bpf_map__name(m);
		size_t len = strlen(n);
		if (len >= 7 && strcmp(n + len - 7, ".rodata") == 0) {
			map = m;
			break;
		}
	}
	if (!btf || !map)
		return -ENOENT;
	int sec_id = btf__find_by_name_kind(btf, ".rodata", BTF_KIND_DATASEC);
	if (sec_id < 0)
		return -ENOENT;
	const struct btf_type *sec = btf__type_by_id(btf, sec_id);
	const struct btf_var_secinfo *vs = btf_var_secinfos(sec);
	for (int i = 0; i < btf_vlen(sec); i++, vs++) {
		const struct btf_type *var = btf__type_by_id(btf, vs->type);
		if (strcmp(btf__name_by_offset(btf, var->name_off), name) != 0)
			continue;
		if (vs->size != size)
			return -EINVAL;
		size_t data_size = 0;
		/* before load the initial value is libbpf's writable copy */
		char *data = (char *)bpf_map__initial_value(map, &data_size);
		if (!data || vs->offset + size > data_size)
			return -EINVAL;
		memcpy(data + vs->offset, value, size);
		return 0;
	}
	return -ENOENT;
}

static char log_buf[16384];
static size_t log_len;
static int log_echo;

static void append(const char *text, size_t n)
{
	if (n >= sizeof(log_buf)) { /* keep the tail: the verifier's verdict is at the end */
		text += n - (sizeof(log_buf) - 1);
		n = sizeof(log_buf) - 1;
	}
	if (log_len + n >= sizeof(log_buf)) {
		size_t drop = log_len + n - (sizeof(log_buf) - 1);
		memmove(log_buf, log_buf + drop, log_len - drop);
		log_len -= drop;
	}
	memcpy(log_buf + log_len, text, n);
	log_len += n;
	log_buf[log_len] = 0;
}

static int capture(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	char small[1024];
	va_list copy;
	va_copy(copy, ap);
	int n = vsnprintf(small, sizeof(small), fmt, copy);
	va_end(copy);
	if (n < 0)
		return 0;
	char *text = small;
	if ((size_t)n >= sizeof(small)) { /* a whole verifier log comes as one message */
		text = malloc((size_t)n + 1);
		if (!text)
			return 0;
		vsnprintf(text, (size_t)n + 1, fmt, ap);
	}
	append(text, (size_t)n);
	if (log_echo)
		fputs(text, stderr);
	if (text != small)
		free(text);
	return 0;
}

void bw_capture_libbpf_log(int echo)
{
	log_echo = echo;
	libbpf_set_print(capture);
}

size_t bw_take_libbpf_log(char *buf, size_t size)
{
	size_t n = log_len < size - 1 ? log_len : size - 1;
	memcpy(buf, log_buf, n);
	buf[n] = 0;
	log_len = 0;
	return n;
}
