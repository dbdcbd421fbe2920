extension BrokerJSONEncoder {
    /// The data message carrying `event` on `topic`, as compact JSON in UTF-8.
    ///
    /// The bytes are exactly those of `Broker.JSON.encodeUTF8(.data(Broker.DataMessage(topic:event:)))`, but
    /// written straight from the event, without building its value form `[1, 1, [name, args, metadata?]]`
    /// first: both WebSocket directions encode every event, and those arrays were most of the cost.
    package static func dataMessage(_ event: Broker.Event, topic: String) -> [UInt8] {
        var encoder = BrokerJSONEncoder(capacity: 160 + topic.utf8.count + event.name.utf8.count)
        encoder.encodeDataMessage(event, topic: topic)
        return encoder.output
    }

    mutating func encodeDataMessage(_ event: Broker.Event, topic: String) {
        append(#"{"type":"data-message","topic":"#)
        appendString(topic)
        append(#","@data-type":"vector","data":[{"@data-type":"count","data":1},{"@data-type":"count","data":1},"#)
        append(#"{"@data-type":"vector","data":[{"@data-type":"string","data":"#)
        appendString(event.name)
        append(#"},{"@data-type":"vector","data":["#)
        for (position, argument) in event.arguments.enumerated() {
            if position > 0 { output.append(UInt8(ascii: ",")) }
            encode(argument)
        }
        append("]}")
        if let metadata = event.metadata {
            append(#",{"@data-type":"vector","data":["#)
            for (position, entry) in metadata.enumerated() {
                if position > 0 { output.append(UInt8(ascii: ",")) }
                append(#"{"@data-type":"vector","data":[{"@data-type":"count","data":"#)
                appendDecimal(entry.key)
                append("},")
                encode(entry.value)
                append("]}")
            }
            append("]}")
        }
        append("]}]}")
    }
}
