/// Names of the errno values a sensor sees most in exec, open and connect
/// results. Numbers are Linux's (asm-generic/errno-base.h, errno.h).
public enum ErrnoName {
    static let names: [Int32: String] = [
        1: "EPERM", 2: "ENOENT", 3: "ESRCH", 4: "EINTR", 5: "EIO", 6: "ENXIO", 7: "E2BIG",
        8: "ENOEXEC", 9: "EBADF", 11: "EAGAIN", 12: "ENOMEM", 13: "EACCES", 14: "EFAULT",
        16: "EBUSY", 17: "EEXIST", 19: "ENODEV", 20: "ENOTDIR", 21: "EISDIR", 22: "EINVAL",
        23: "ENFILE", 24: "EMFILE", 26: "ETXTBSY", 27: "EFBIG", 28: "ENOSPC", 30: "EROFS",
        31: "EMLINK", 36: "ENAMETOOLONG", 40: "ELOOP", 75: "EOVERFLOW", 88: "ENOTSOCK",
        95: "EOPNOTSUPP", 97: "EAFNOSUPPORT", 98: "EADDRINUSE", 99: "EADDRNOTAVAIL",
        100: "ENETDOWN", 101: "ENETUNREACH", 103: "ECONNABORTED", 104: "ECONNRESET",
        106: "EISCONN", 110: "ETIMEDOUT", 111: "ECONNREFUSED", 113: "EHOSTUNREACH",
        114: "EALREADY", 115: "EINPROGRESS", 133: "EHWPOISON",
        // kernel-internal: a signal interrupted the call, which the kernel restarts
        512: "ERESTARTSYS", 513: "ERESTARTNOINTR", 514: "ERESTARTNOHAND", 516: "ERESTART_RESTARTBLOCK",
    ]

    /// Results that mean "interrupted by a signal, restarted or retried",
    /// not a failure of the call itself.
    public static func isRestart(_ errno: Int32) -> Bool {
        errno == 512 || errno == 513 || errno == 514 || errno == 516
    }

    /// "ENOENT", or "E123" for a number not in the table.
    public static func name(_ errno: Int32) -> String {
        names[errno] ?? "E\(errno)"
    }
}
