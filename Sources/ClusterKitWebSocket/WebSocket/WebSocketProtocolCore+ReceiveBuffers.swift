extension WebSocketProtocolCore {
    /// A connection's receive buffers: the input buffer bytes are read into, and the reassembly buffer of a
    /// fragmented message, with their memory charged against the connection's and the server's limits.
    ///
    /// What is charged is the input buffer beyond its standing read chunk, plus the reassembly buffer's
    /// capacity. Both grow only as bytes arrive; a growth that would pass
    /// ``WebSocketConnection/Options/receiveBufferLimit`` is a 1009 violation, one that would pass the
    /// server's ``ReceiveBufferBudget`` a 1008 violation.
    struct ReceiveBuffers {
        /// The input buffer's standing size, and what one read asks room for.
        static let readChunk = 64 << 10

        /// The bytes read; those in `start..<end` are not consumed yet, and `input.count` is the usable size.
        private var input: [UInt8]
        /// The input buffer's capacity, kept apart because the buffer is lent out while a frame is handled.
        private var inputCapacity: Int
        /// Where the unread input starts.
        private(set) var start = 0
        /// Where the unread input ends.
        private(set) var end = 0
        /// The payload of the fragmented message being reassembled.
        private(set) var fragment: [UInt8] = []
        /// The bytes charged to the budget for these buffers.
        private(set) var charge = 0
        /// Whether the charge was given back for good (the connection is closed).
        private var isReleased = false
        /// The connection's limit for the charged bytes.
        private let limit: Int
        /// The largest message, which bounds the reassembly buffer's doubling.
        private let maximumMessageSize: Int
        /// The budget all connections of the server share.
        let budget: ReceiveBufferBudget

        /// Creates the buffers with the standing read chunk.
        ///
        /// - Parameters:
        ///   - options: The connection's limits.
        ///   - budget: The budget shared with the server's other connections.
        init(options: WebSocketConnection.Options, budget: ReceiveBufferBudget) {
            self.input = [UInt8](repeating: 0, count: Self.readChunk)
            self.inputCapacity = input.capacity
            self.limit = options.receiveBufferLimit
            self.maximumMessageSize = options.maximumMessageSize
            self.budget = budget
        }

        /// The number of bytes read and not consumed.
        var unreadCount: Int { end - start }

        // MARK: - Input

        /// Calls `body` with the free space after the unread input.
        mutating func withReadSpace<Result>(_ body: (UnsafeMutableRawBufferPointer) -> Result) -> Result {
            let end = self.end
            return input.withUnsafeMutableBytes { buffer in
                body(UnsafeMutableRawBufferPointer(rebasing: buffer[end...]))
            }
        }

        /// Counts `count` bytes read into ``withReadSpace(_:)`` as unread input.
        mutating func didRead(_ count: Int) {
            end += count
        }

        /// Makes room for at least `minimum` more bytes after the unread input, within the limits.
        ///
        /// - Returns: The violation to fail the connection with when growing would pass a limit.
        mutating func reserve(_ minimum: Int) -> Violation? {
            guard input.count - end < minimum else { return nil }
            if start > 0 {
                let length = end - start
                let start = self.start
                input.withUnsafeMutableBytes { buffer in
                    guard let base = buffer.baseAddress else { return }
                    base.copyMemory(from: base + start, byteCount: length)
                }
                self.start = 0
                end = length
            }
            guard input.count - end < minimum else { return nil }
            let count = end + minimum
            if let violation = limitViolation(inputCount: count, fragmentCapacity: fragment.capacity) {
                return violation
            }
            input.reserveCapacity(count)
            input.append(contentsOf: repeatElement(0, count: count - input.count))
            inputCapacity = input.capacity
            updateCharge()
            return nil
        }

        /// Marks `count` bytes consumed; an emptied buffer that grew large shrinks back to the read chunk.
        mutating func consume(_ count: Int) {
            start += count
            guard start == end else { return }
            start = 0
            end = 0
            if input.count > 4 * Self.readChunk {
                input = [UInt8](repeating: 0, count: Self.readChunk)
                inputCapacity = input.capacity
                updateCharge()
            }
        }

        /// Drops the unread input.
        mutating func discardInput() {
            start = 0
            end = 0
        }

        /// Drops the unread input and the reassembly buffer (with its memory).
        mutating func discardAll() {
            discardInput()
            fragment = []
            updateCharge()
        }

        /// The first `count` unread bytes.
        func unread(prefix count: Int) -> ArraySlice<UInt8> {
            input[start..<start + count]
        }

        /// The length of the HTTP head at the start of the unread input, if it is complete.
        func headLength(searchingFrom offset: Int) -> Int? {
            input.withUnsafeBytes { buffer in
                WebSocketHandshake.headLength(
                    in: UnsafeRawBufferPointer(rebasing: buffer[start..<end]),
                    searchingFrom: offset
                )
            }
        }

        /// The header of the frame at the start of the unread input, if it is complete.
        func frameHeader() -> WebSocketFrame.Header? {
            input.withUnsafeBytes { buffer in
                WebSocketFrame.Header.parse(UnsafeRawBufferPointer(rebasing: buffer[start..<end]))
            }
        }

        /// Takes the input buffer out, so that a frame in it can be handled while the connection's state changes.
        ///
        /// ``returnInput(_:)`` puts it back; nothing may touch the input meanwhile.
        mutating func lendInput() -> [UInt8] {
            var lent: [UInt8] = []
            swap(&lent, &input)
            return lent
        }

        /// Puts back the buffer ``lendInput()`` took.
        mutating func returnInput(_ lent: [UInt8]) {
            input = lent
        }

        // MARK: - Reassembly

        /// Empties the reassembly buffer, keeping its memory.
        mutating func clearFragment() {
            fragment.removeAll(keepingCapacity: true)
        }

        /// Makes the reassembly buffer hold at least `needed` bytes, growing by doubling up to the message limit.
        ///
        /// - Returns: The violation to fail the connection with when growing would pass a limit.
        mutating func reserveFragment(_ needed: Int) -> Violation? {
            guard needed > fragment.capacity else { return nil }
            let capacity = max(needed, min(2 * fragment.capacity, maximumMessageSize))
            if let violation = limitViolation(inputCount: inputCapacity, fragmentCapacity: capacity) {
                return violation
            }
            fragment.reserveCapacity(capacity)
            updateCharge()
            return nil
        }

        /// Appends a frame's payload to the reassembly buffer (reserved with ``reserveFragment(_:)``).
        mutating func appendFragment(_ payload: UnsafeRawBufferPointer) {
            fragment.append(contentsOf: payload)
        }

        /// Empties the reassembly buffer after a message, freeing it when it is large.
        mutating func releaseFragment() {
            if fragment.capacity > 1 << 20 { fragment = [] } else { fragment.removeAll(keepingCapacity: true) }
            updateCharge()
        }

        // MARK: - Limits

        /// Gives the charge back to the budget for good; the connection is closed.
        mutating func release() {
            isReleased = true
            guard charge != 0 else { return }
            budget.charge(-charge)
            charge = 0
        }

        /// What buffers of these sizes are charged: the input buffer beyond its standing read chunk, and the
        /// reassembly buffer.
        private static func charge(inputCount: Int, fragmentCapacity: Int) -> Int {
            max(0, inputCount - readChunk) + fragmentCapacity
        }

        /// Whether growing the buffers to these sizes would pass the connection's or the server's limit.
        private func limitViolation(inputCount: Int, fragmentCapacity: Int) -> Violation? {
            let wanted = Self.charge(inputCount: inputCount, fragmentCapacity: fragmentCapacity)
            if wanted > limit {
                let reason = "message too big"
                return Violation(
                    code: .messageTooBig,
                    reason: reason,
                    error: WebSocketError(
                        .messageTooBig,
                        "receive buffers of \(wanted) bytes would exceed the connection's limit of \(limit)",
                        closeCode: .messageTooBig,
                        closeReason: reason
                    )
                )
            }
            if !budget.mayCharge(wanted - charge) {
                let reason = "server receive buffers full"
                return Violation(
                    code: .policyViolation,
                    reason: reason,
                    error: WebSocketError(
                        .messageTooBig,
                        "receive buffers of all connections would exceed the server's limit of "
                            + "\(budget.limit) bytes",
                        closeCode: .policyViolation,
                        closeReason: reason
                    )
                )
            }
            return nil
        }

        /// Charges the budget for the buffers as they are now (nothing once released).
        private mutating func updateCharge() {
            guard !isReleased else { return }
            let charge = Self.charge(inputCount: inputCapacity, fragmentCapacity: fragment.capacity)
            guard charge != self.charge else { return }
            budget.charge(charge - self.charge)
            self.charge = charge
        }
    }
}
