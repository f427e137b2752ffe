/// A small command-line reader: options are validated before a command runs,
/// and every mistake names the option and the value.
struct UsageError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

struct Arguments {
    private var items: [String]
    let command: String

    init(_ items: [String], command: String) {
        self.items = items
        self.command = command
    }

    var isEmpty: Bool { items.isEmpty }
    /// What is left (positional arguments, or unknown options).
    var remaining: [String] { items }

    /// Removes a flag; true if it was there.
    mutating func flag(_ names: String...) -> Bool {
        var found = false
        items.removeAll { item in
            let hit = names.contains(item)
            found = found || hit
            return hit
        }
        return found
    }

    /// Removes every `--name VALUE` and `--name=VALUE`; returns the values in order.
    mutating func values(_ name: String) throws -> [String] {
        var out: [String] = []
        var rest: [String] = []
        var i = 0
        while i < items.count {
            let item = items[i]
            if item == name {
                guard i + 1 < items.count else { throw UsageError(message: "\(command): \(name) needs a value") }
                out.append(items[i + 1])
                i += 2
                continue
            }
            if item.hasPrefix(name + "=") {
                out.append(String(item.dropFirst(name.count + 1)))
            } else {
                rest.append(item)
            }
            i += 1
        }
        items = rest
        return out
    }

    mutating func value(_ name: String) throws -> String? {
        let all = try values(name)
        if all.count > 1 { throw UsageError(message: "\(command): \(name) given \(all.count) times") }
        return all.first
    }

    /// Fails on anything left over.
    func finish() throws {
        if let first = items.first {
            throw UsageError(message: first.hasPrefix("-")
                ? "\(command): unknown option '\(first)' (see 'boxwatch help')"
                : "\(command): unexpected argument '\(first)'")
        }
    }
}

/// "16M", "65536", "64K" -> bytes.
func parseSize(_ text: String, option: String) throws -> Int {
    let units: [Character: Int] = ["K": 1 << 10, "k": 1 << 10, "M": 1 << 20, "m": 1 << 20, "G": 1 << 30, "g": 1 << 30]
    var digits = Substring(text)
    var scale = 1
    if let last = digits.last, let u = units[last] {
        scale = u
        digits = digits.dropLast()
    }
    guard let n = Int(digits), n > 0, n <= (1 << 40) / scale else {
        throw UsageError(message: "\(option): '\(text)' is not a size (e.g. 65536, 256K, 16M)")
    }
    return n * scale
}
