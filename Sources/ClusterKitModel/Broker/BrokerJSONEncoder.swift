/// Writes Broker JSON v1 as Broker does: compact, `@data-type` before `data`.
package struct BrokerJSONEncoder {
    package var output: [UInt8] = []

    package init(capacity: Int = 256) {
        output.reserveCapacity(capacity)
    }

    @inline(__always)
    package mutating func append(_ text: StaticString) {
        output.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    mutating func appendText(_ text: String) {
        output.append(contentsOf: text.utf8)
    }

    package mutating func appendDecimal(_ value: UInt64) {
        guard value >= 10 else { return output.append(UInt8(ascii: "0") + UInt8(value)) }
        var digits: (UInt64, UInt8) = (value, 0)
        var buffer: [UInt8] = []
        buffer.reserveCapacity(20)
        while digits.0 > 0 {
            digits.1 = UInt8(digits.0 % 10)
            buffer.append(UInt8(ascii: "0") + digits.1)
            digits.0 /= 10
        }
        output.append(contentsOf: buffer.reversed())
    }

    mutating func appendDecimal(_ value: Int64) {
        if value < 0 {
            output.append(UInt8(ascii: "-"))
            appendDecimal(value.magnitude)
        } else {
            appendDecimal(UInt64(value))
        }
    }

    /// Writes a JSON string with the escapes JSON requires; non-ASCII text is written as UTF-8.
    package mutating func appendString(_ text: String) {
        output.append(UInt8(ascii: "\""))
        var text = text
        text.withUTF8 { bytes in
            var runStart = 0
            for index in 0..<bytes.count {
                let byte = bytes[index]
                guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
                output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<index]))
                runStart = index + 1
                switch byte {
                case UInt8(ascii: "\""): append("\\\"")
                case UInt8(ascii: "\\"): append("\\\\")
                case 0x0A: append("\\n")
                case 0x0D: append("\\r")
                case 0x09: append("\\t")
                case 0x08: append("\\b")
                case 0x0C: append("\\f")
                default:
                    append("\\u00")
                    output.append(Self.hex[Int(byte >> 4)])
                    output.append(Self.hex[Int(byte & 0xF)])
                }
            }
            output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart...]))
        }
        output.append(UInt8(ascii: "\""))
    }

    private static let hex: [UInt8] = Array("0123456789abcdef".utf8)

    package mutating func encode(_ value: Broker.Value) {
        output.append(UInt8(ascii: "{"))
        encodeMembers(value)
        output.append(UInt8(ascii: "}"))
    }

    /// Writes `"@data-type":…,"data":…` without the surrounding braces, so envelopes can embed it.
    mutating func encodeMembers(_ value: Broker.Value) {
        switch value {
        case .none:
            append(#""@data-type":"none","data":{}"#)
        case .boolean(let flag):
            append(flag ? #""@data-type":"boolean","data":true"# : #""@data-type":"boolean","data":false"#)
        case .count(let number):
            append(#""@data-type":"count","data":"#)
            appendDecimal(number)
        case .integer(let number):
            append(#""@data-type":"integer","data":"#)
            appendDecimal(number)
        case .real(let number):
            append(#""@data-type":"real","data":"#)
            appendText(RealText.broker(number))
        case .string(let text):
            append(#""@data-type":"string","data":"#)
            appendString(text)
        case .enumValue(let name):
            append(#""@data-type":"enum-value","data":"#)
            appendString(name)
        case .address(let address):
            append(#""@data-type":"address","data":""#)
            appendText(address.description)
            output.append(UInt8(ascii: "\""))
        case .subnet(let subnet):
            append(#""@data-type":"subnet","data":""#)
            appendText(subnet.description)
            output.append(UInt8(ascii: "\""))
        case .port(let port):
            append(#""@data-type":"port","data":""#)
            appendDecimal(UInt64(port.number))
            output.append(UInt8(ascii: "/"))
            appendText(port.transportProtocol.text)
            output.append(UInt8(ascii: "\""))
        case .timestamp(let timestamp):
            append(#""@data-type":"timestamp","data":""#)
            appendText(timestamp.description)
            output.append(UInt8(ascii: "\""))
        case .timespan(let timespan):
            append(#""@data-type":"timespan","data":""#)
            appendText(timespan.description)
            output.append(UInt8(ascii: "\""))
        case .vector(let elements):
            append(#""@data-type":"vector","data":["#)
            encodeElements(elements)
            output.append(UInt8(ascii: "]"))
        case .set(let set):
            append(#""@data-type":"set","data":["#)
            encodeElements(set.elements)
            output.append(UInt8(ascii: "]"))
        case .table(let table):
            append(#""@data-type":"table","data":["#)
            for (position, entry) in table.entries.enumerated() {
                if position > 0 { output.append(UInt8(ascii: ",")) }
                append(#"{"key":"#)
                encode(entry.key)
                append(#","value":"#)
                encode(entry.value)
                output.append(UInt8(ascii: "}"))
            }
            output.append(UInt8(ascii: "]"))
        }
    }

    private mutating func encodeElements(_ elements: [Broker.Value]) {
        var first = true
        for element in elements {
            if !first { output.append(UInt8(ascii: ",")) }
            first = false
            encode(element)
        }
    }

    /// Writes a data message: `{"type":"data-message","topic":…,"@data-type":…,"data":…}`.
    mutating func encode(_ message: Broker.Message) {
        switch message {
        case .data(let data):
            append(#"{"type":"data-message","topic":"#)
            appendString(data.topic)
            output.append(UInt8(ascii: ","))
            encodeMembers(data.value)
            output.append(UInt8(ascii: "}"))
        case .ack(let ack):
            append(#"{"type":"ack","endpoint":"#)
            appendString(ack.endpoint)
            append(#","version":"#)
            appendString(ack.version)
            output.append(UInt8(ascii: "}"))
        case .error(let error):
            append(#"{"type":"error","code":"#)
            appendString(error.code)
            append(#","context":"#)
            appendString(error.context)
            output.append(UInt8(ascii: "}"))
        }
    }
}
