#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The value syntaxes of zeek.conf, as Zeek's generator checks them.
enum ZeekConfSyntax {
    /// An optional `-` and one or more decimal digits, within the 32-bit signed range.
    static func integer(_ text: String) -> Int? {
        var digits = Substring(text)
        let negative = digits.first == "-"
        if negative { digits = digits.dropFirst() }
        guard !digits.isEmpty, digits.utf8.allSatisfy(isDigit) else { return nil }
        var value = 0
        for byte in digits.utf8 {
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
            if value > Int(Int32.max) + 1 { return nil }
        }
        value = negative ? -value : value
        guard value >= Int(Int32.min), value <= Int(Int32.max) else { return nil }
        return value
    }

    /// An integer that is not negative.
    static func count(_ text: String) -> Int? {
        guard let value = integer(text), value >= 0 else { return nil }
        return value
    }

    /// C `atoi`: leading blanks, an optional sign, the longest run of digits; 0 without digits.
    static func atoi(_ text: String) -> Int {
        var bytes = Substring(text).utf8.drop { ZeekConf.isBlank($0) }
        var negative = false
        if let sign = bytes.first, sign == UInt8(ascii: "-") || sign == UInt8(ascii: "+") {
            negative = sign == UInt8(ascii: "-")
            bytes = bytes.dropFirst()
        }
        var value = 0
        for byte in bytes {
            guard isDigit(byte) else { break }
            // Beyond 32 bits atoi's result is not meaningful; saturate instead of overflowing.
            value = min(value * 10 + Int(byte - UInt8(ascii: "0")), Int(Int32.max) + 1)
        }
        return negative ? -value : min(value, Int(Int32.max))
    }

    /// `[IPv6]` (what `inet_pton` accepts between the brackets) or a strict dotted-quad IPv4 address, at
    /// least 5 characters.
    static func isAddress(_ text: String) -> Bool {
        guard text.utf8.count >= 5 else { return false }
        if text.hasPrefix("[") {
            guard text.hasSuffix("]") else { return false }
            var buffer = in6_addr()
            return inet_pton(AF_INET6, String(text.dropFirst().dropLast()), &buffer) == 1
        }
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return false }
        return parts.allSatisfy { part in
            guard !part.isEmpty, part.utf8.count <= 3, part.utf8.allSatisfy(isDigit) else { return false }
            if part.utf8.count > 1 && part.utf8.first == UInt8(ascii: "0") { return false }
            return (Int(part) ?? 256) <= 255
        }
    }

    /// `cluster_node_prefix`: `a`-`z` or `0` first, then `a`-`z`, `0`-`9`, `-`, `_`.
    static func isPrefix(_ text: String) -> Bool {
        guard let first = text.utf8.first, isLower(first) || first == UInt8(ascii: "0") else { return false }
        return text.utf8.dropFirst().allSatisfy { isLower($0) || isDigit($0) || $0 == 0x2D || $0 == 0x5F }
    }

    /// A host file name's host part and an interface name: `a`-`z`, `0`-`9`, `-`, `_`.
    static func isNameByte(_ byte: UInt8) -> Bool { isLower(byte) || isDigit(byte) || byte == 0x2D || byte == 0x5F }

    /// A CPU list: empty, or `,`-separated integers, `L-R` or `L-R:S` with L <= R and S >= 1.
    static func isCPUList(_ text: String) -> Bool { cpus(text, limit: 0) != nil }

    /// The CPUs of a CPU list in order (at most `limit` of them), or `nil` when it is not one.
    static func cpus(_ text: String, limit: Int = 1 << 16) -> [Int]? {
        guard !text.isEmpty else { return [] }
        var cpus: [Int] = []
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            let bounds = item.split(separator: "-", omittingEmptySubsequences: false)
            switch bounds.count {
            case 1:
                guard let cpu = integer(String(bounds[0])) else { return nil }
                if cpus.count < limit { cpus.append(cpu) }
            case 2:
                let right = bounds[1].split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
                guard let low = count(String(bounds[0])), let high = count(String(right[0])), low <= high else {
                    return nil
                }
                var stride = 1
                if right.count == 2 {
                    guard let step = count(String(right[1])), step >= 1 else { return nil }
                    stride = step
                }
                var cpu = low
                while cpu <= high && cpus.count < limit {
                    cpus.append(cpu)
                    cpu += stride
                }
            default:
                return nil
            }
        }
        return cpus
    }

    /// A memory size: digits (possibly none), then optionally one of `K`, `M`, `G`, `T`; not empty.
    static func isMemorySize(_ text: String) -> Bool {
        guard !text.isEmpty else { return false }
        var bytes = Substring(text).utf8
        if let last = bytes.last,
            [UInt8(ascii: "K"), UInt8(ascii: "M"), UInt8(ascii: "G"), UInt8(ascii: "T")]
                .contains(last)
        {
            bytes = bytes.dropLast()
        }
        return bytes.allSatisfy(isDigit)
    }

    static func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }
    static func isLower(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z") }
}
