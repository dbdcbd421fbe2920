#if canImport(Glibc)
import Glibc
#endif

extension Broker {
    /// A point in time: nanoseconds since the Unix epoch, UTC.
    ///
    /// Text is Broker's: `YYYY-MM-DDThh:mm:ss.mmm`, UTC without a zone, truncated to milliseconds. Reading also
    /// takes 0–9 fractional digits and a zone (`Z`, `±HH`, `±HH:MM`, `±HHMM`); no zone means UTC.
    public struct Timestamp: Sendable, Hashable, Comparable {
        /// Nanoseconds since 1970-01-01T00:00:00Z.
        public var nanosecondsSinceEpoch: Int64

        /// Creates a timestamp.
        ///
        /// - Parameter nanosecondsSinceEpoch: Nanoseconds since 1970-01-01T00:00:00Z.
        public init(nanosecondsSinceEpoch: Int64) {
            self.nanosecondsSinceEpoch = nanosecondsSinceEpoch
        }

        /// Creates a timestamp from seconds, as Zeek's `time` values hold them.
        ///
        /// - Parameter secondsSinceEpoch: Seconds since 1970-01-01T00:00:00Z; clamped to the representable range.
        public init(secondsSinceEpoch: Double) {
            let nanoseconds = (secondsSinceEpoch * 1e9).rounded()
            let clamped = min(max(nanoseconds, -9.2e18), 9.2e18)
            self.init(nanosecondsSinceEpoch: clamped.isNaN ? 0 : Int64(clamped))
        }

        /// Seconds since the epoch.
        public var secondsSinceEpoch: Double { Double(nanosecondsSinceEpoch) / 1e9 }

        /// Orders by time.
        ///
        /// - Parameters:
        ///   - lhs: A timestamp.
        ///   - rhs: Another timestamp.
        /// - Returns: Whether `lhs` is earlier.
        public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool {
            lhs.nanosecondsSinceEpoch < rhs.nanosecondsSinceEpoch
        }
    }
}

extension Broker.Timestamp: LosslessStringConvertible {
    /// Parses Broker's timestamp text; `nil` when malformed or out of range.
    ///
    /// - Parameter description: The text, such as `2022-04-10T07:00:00.000` or `2022-04-10T09:00:00+02:00`.
    public init?(_ description: String) {
        var text = description
        guard let value = text.withUTF8({ Self.parse(UnsafeBufferPointer(rebasing: $0[...])) }) else { return nil }
        self = value
    }

    /// `YYYY-MM-DDThh:mm:ss.mmm` in UTC, truncated to milliseconds.
    public var description: String {
        let (seconds, nanoseconds) = Self.floorDivide(nanosecondsSinceEpoch, 1_000_000_000)
        let (days, secondOfDay) = Self.floorDivide(seconds, 86_400)
        let (year, month, day) = Self.civil(fromDays: days)
        let milliseconds = nanoseconds / 1_000_000
        return Self.pad(year, 4) + "-" + Self.pad(month, 2) + "-" + Self.pad(day, 2) + "T"
            + Self.pad(secondOfDay / 3600, 2) + ":" + Self.pad(secondOfDay / 60 % 60, 2) + ":"
            + Self.pad(secondOfDay % 60, 2) + "." + Self.pad(milliseconds, 3)
    }

    private static func pad(_ value: Int64, _ width: Int) -> String {
        let text = String(abs(value))
        return (value < 0 ? "-" : "") + String(repeating: "0", count: max(0, width - text.count)) + text
    }

    static func floorDivide(_ value: Int64, _ divisor: Int64) -> (Int64, Int64) {
        let quotient = value / divisor
        let remainder = value % divisor
        return remainder < 0 ? (quotient - 1, remainder + divisor) : (quotient, remainder)
    }

    /// Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
    static func days(year: Int64, month: Int64, day: Int64) -> Int64 {
        let shiftedYear = month <= 2 ? year - 1 : year
        let era = (shiftedYear >= 0 ? shiftedYear : shiftedYear - 399) / 400
        let yearOfEra = shiftedYear - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The proleptic Gregorian date of a day count since 1970-01-01 (`civil_from_days`).
    static func civil(fromDays days: Int64) -> (Int64, Int64, Int64) {
        let shifted = days + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    static func parse(_ text: UnsafeBufferPointer<UInt8>) -> Broker.Timestamp? {
        var position = 0
        func number(_ digits: Int) -> Int64? {
            guard position + digits <= text.count else { return nil }
            var value: Int64 = 0
            for offset in 0..<digits {
                let byte = text[position + offset]
                guard JSONScanner.isDigit(byte) else { return nil }
                value = value * 10 + Int64(byte - UInt8(ascii: "0"))
            }
            position += digits
            return value
        }
        func literal(_ byte: UInt8) -> Bool {
            guard position < text.count, text[position] == byte else { return false }
            position += 1
            return true
        }
        guard let year = number(4), literal(UInt8(ascii: "-")), let month = number(2), literal(UInt8(ascii: "-")),
            let day = number(2), literal(UInt8(ascii: "T")), let hour = number(2), literal(UInt8(ascii: ":")),
            let minute = number(2), literal(UInt8(ascii: ":")), let second = number(2)
        else { return nil }
        let daysInMonth: [Int64] = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        let isLeap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
        guard (1...12).contains(month), day >= 1,
            day <= (month == 2 && !isLeap ? 28 : daysInMonth[Int(month - 1)]),
            hour <= 23, minute <= 59, second <= 59
        else { return nil }
        var fraction: Int64 = 0
        if literal(UInt8(ascii: ".")) {
            var digits = 0
            while position < text.count, JSONScanner.isDigit(text[position]) {
                guard digits < 9 else { return nil }
                fraction = fraction * 10 + Int64(text[position] - UInt8(ascii: "0"))
                digits += 1
                position += 1
            }
            guard digits > 0 else { return nil }
            for _ in digits..<9 { fraction *= 10 }
        }
        var offsetSeconds: Int64 = 0
        if literal(UInt8(ascii: "Z")) {
        } else if position < text.count, text[position] == UInt8(ascii: "+") || text[position] == UInt8(ascii: "-") {
            let sign: Int64 = text[position] == UInt8(ascii: "-") ? -1 : 1
            position += 1
            guard let zoneHours = number(2), zoneHours <= 23 else { return nil }
            var zoneMinutes: Int64 = 0
            if position < text.count {
                _ = literal(UInt8(ascii: ":"))
                guard let minutes = number(2), minutes <= 59 else { return nil }
                zoneMinutes = minutes
            }
            offsetSeconds = sign * (zoneHours * 3600 + zoneMinutes * 60)
        }
        guard position == text.count else { return nil }
        let seconds =
            days(year: year, month: month, day: day) * 86_400 + hour * 3600 + minute * 60 + second
            - offsetSeconds
        let (total, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        let (withFraction, overflow2) = total.addingReportingOverflow(fraction)
        guard !overflow, !overflow2 else { return nil }
        return Broker.Timestamp(nanosecondsSinceEpoch: withFraction)
    }
}
