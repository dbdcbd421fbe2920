@_spi(Reflection) import Swift
import Synchronization

/// The stored properties of a ``BrokerStoredRecord`` type, as ``Broker/ValueEncoder`` writes them: each one's
/// name, offset and how its value is written, read from the Swift runtime's metadata (`_forEachField`, the standard
/// library's reflection SPI, which `Mirror` rests on) once per type and kept with the rest of what the bridge
/// knows of the type (``BrokerCodableTypes``).
///
/// Only structs whose every stored property can be read by value qualify: a class (whose stored properties a
/// subclass may extend), a class reference (a `weak` or `unowned` one is not stored as the plain reference its
/// type says), a `lazy` property (not part of a synthesized `encode(to:)`) or a property that is not `Encodable`
/// leaves the type to its `encode(to:)`.
final class BrokerStoredLayout: Sendable {
    /// How a property's value is written.
    // Safe because a metatype is immutable and the only other payload is a Sendable enum.
    enum Form: @unchecked Sendable {
        /// A direct type, read in place.
        case direct(BrokerDirectType)
        /// An `Optional` of a direct type: `none` when `nil`.
        case optional(BrokerDirectType)
        /// Any other `Encodable` type, through the bridge's general path.
        case other(any Encodable.Type)
    }

    /// Each property's form, offset and name, in declaration order (apart, so that encoding touches no name).
    let forms: [Form]
    let offsets: [Int]
    let names: [String]
    /// The type's identity.
    let type: ObjectIdentifier

    /// The layout last asked for that the type cache holds (which it does for good), so that a run of records of
    /// one type finds it with one atomic load and no lock. (The address of a layout the cache keeps alive, or 0.)
    private static let recent = Atomic<UInt>(0)

    /// The layout of `type`, or `nil` when it does not qualify.
    init?(_ type: Any.Type) {
        guard !(type is AnyObject.Type) else { return nil }
        var forms: [Form] = []
        var offsets: [Int] = []
        var names: [String] = []
        var qualifies = true
        let reflected = _forEachField(of: type, options: []) { name, offset, fieldType, _ in
            let name = String(cString: name)
            guard let form = Self.form(of: fieldType), !name.hasPrefix("$__lazy_storage_$_") else {
                qualifies = false
                return false
            }
            forms.append(form)
            offsets.append(offset)
            names.append(name)
            return true
        }
        guard reflected, qualifies else { return nil }
        self.forms = forms
        self.offsets = offsets
        self.names = names
        self.type = ObjectIdentifier(type)
    }

    /// `value`'s record, if its type's layout is the one last asked for; `nil` otherwise.
    @inline(__always)
    static func encodeIfRecent<T>(_ value: T) throws -> Broker.Value? {
        guard let pointer = UnsafeRawPointer(bitPattern: recent.load(ordering: .acquiring)) else { return nil }
        // (No retain: the cache holds the layout for good.)
        return try Unmanaged<BrokerStoredLayout>.fromOpaque(pointer)._withUnsafeGuaranteedRef { layout in
            guard layout.type == ObjectIdentifier(T.self) else { return nil }
            return try withUnsafePointer(to: value) { try layout.encode(at: UnsafeRawPointer($0), in: nil) }
        }
    }

    /// Makes this the layout last asked for.
    ///
    /// Only for a layout that the type cache holds, and so never frees.
    func makeRecent() {
        Self.recent.store(UInt(bitPattern: Unmanaged.passUnretained(self).toOpaque()), ordering: .releasing)
    }

    /// How a property of `type` is written, or `nil` when it cannot be read by value.
    private static func form(of type: Any.Type) -> Form? {
        if let direct = direct(type) { return .direct(direct) }
        if type is AnyObject.Type { return nil }
        if let optional = type as? any BrokerOptionalProperty.Type {
            let wrapped = optional.brokerWrappedType
            if wrapped is AnyObject.Type { return nil }
            if let direct = direct(wrapped) { return .optional(direct) }
        }
        guard let encodable = type as? any Encodable.Type else { return nil }
        return .other(encodable)
    }

    private static func direct<T>(_ type: T.Type) -> BrokerDirectType? {
        BrokerDirectType.of(type)
    }

    /// The record of the value at `base`, a value of this layout's type.
    ///
    /// - Parameters:
    ///   - base: The value's address.
    ///   - encoder: The encoder whose value this is, for a property of a type without a direct form (made on first
    ///     need when `nil`, at the top).
    /// - Returns: The record: a vector of the properties' values in declaration order.
    /// - Throws: The error a property's `encode(to:)` throws, its path naming the property.
    func encode(at base: UnsafeRawPointer, in encoder: BrokerEncoder?) throws -> Broker.Value {
        var parent = encoder
        let values = try [Broker.Value](unsafeUninitializedCapacity: forms.count) { values, count in
            try forms.withUnsafeBufferPointer { forms in
                try offsets.withUnsafeBufferPointer { offsets in
                    for index in 0..<forms.count {
                        let pointer = base + offsets[index]
                        let value: Broker.Value
                        switch forms[index] {
                        case .direct(let direct): value = direct.encode(at: pointer)
                        case .optional(let direct): value = direct.encodeOptional(at: pointer)
                        case .other(let type):
                            let lender = parent ?? BrokerEncoder(codingPath: [])
                            parent = lender
                            value = try Self.encode(type, at: pointer, in: lender, name: names[index])
                        }
                        // (On a throw, the values so far are `count` and are freed.)
                        values.initializeElement(at: index, to: value)
                        count = index + 1
                    }
                }
            }
        }
        return .vector(values)
    }

    /// The property of type `T` at `pointer`, encoded one key (its name) below `encoder`.
    private static func encode<T: Encodable>(
        _ type: T.Type,
        at pointer: UnsafeRawPointer,
        in encoder: BrokerEncoder,
        name: String
    ) throws -> Broker.Value {
        try BrokerValueEncoding.encode(pointer.load(as: T.self), in: encoder, at: BrokerNameKey(name))
    }
}
