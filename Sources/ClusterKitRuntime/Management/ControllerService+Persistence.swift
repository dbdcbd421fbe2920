public import ClusterKitModel

#if canImport(Glibc)
import Glibc
#endif

extension ControllerService {
    /// The configuration a controller kept in `path` (``Options/deployedConfigurationFile``), or `nil` when there is
    /// none.
    ///
    /// - Parameter path: The file.
    /// - Returns: The configuration, or `nil` when the file does not exist.
    /// - Throws: ``ControllerServiceError`` (`unreadablePersistedConfiguration`) naming the file and what is wrong.
    public static func persistedConfiguration(
        at path: String
    ) throws(ControllerServiceError)
        -> Management.Configuration?
    {
        guard access(path, F_OK) == 0 else { return nil }
        do {
            let bytes = try LocalFile.readRegularFile(path)
            return try Management.Configuration(brokerValue: Broker.JSON.decode(utf8: bytes))
        } catch {
            throw ControllerServiceError(
                .unreadablePersistedConfiguration,
                "\(path): cannot read the deployed configuration kept there: \(error)"
            )
        }
    }

    /// Writes `configuration` to `path` atomically, mode 0600.
    static func persist(_ configuration: Management.Configuration, at path: String) throws(LocalFileError) {
        try LocalFile.writeAtomically(Broker.JSON.encodeUTF8(configuration.brokerValue), to: path)
    }
}
