#ifndef CLIBBPF_H
#define CLIBBPF_H
#include <stddef.h>
#include <bpf/libbpf.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
/* host headers that Swift's Glibc module leaves out */
#include <sys/signalfd.h>

/* Sets a global variable in the object's .rodata before load (what a
 * bpftool skeleton does through its generated struct). Returns 0 or -errno. */
int bw_set_rodata(struct bpf_object *obj, const char *name, const void *value, size_t size);

/* libbpf's messages are kept in a buffer (the tail of the last few KiB) so a
 * verifier rejection can be reported; with echo set they also go to stderr. */
void bw_capture_libbpf_log(int echo);
/* Copies the captured log into buf (NUL-terminated); returns its length. */
size_t bw_take_libbpf_log(char *buf, size_t size);

#endif
