public import ClusterKitModel

#if canImport(Glibc)
import Glibc
#endif

extension ControllerService.Options {
    /// The file in a controller's state directory where it keeps the configuration it deployed last.
    public static let deployedConfigurationFileName = "deployed-configuration.json"

    /// Keeps the deployed configuration in `stateDirectory`, as Zeek's controller keeps it in its state, and gives
    /// the configuration to deploy at start: `given`, else the one kept there by an earlier run (a controller
    /// revived by its supervisor deploys it again; agents already running it leave their nodes alone).
    ///
    /// Sets ``deployedConfigurationFile`` to ``deployedConfigurationFileName`` in the directory.
    ///
    /// - Parameters:
    ///   - stateDirectory: The controller's state directory (checked by the caller: private, this user's).
    ///   - given: The configuration the controller was asked to deploy, if any.
    /// - Returns: `given`, else the kept configuration, else `nil`.
    /// - Throws: ``ControllerServiceError`` (`unreadablePersistedConfiguration`) when a kept file cannot be read.
    public mutating func keepingDeployments(
        in stateDirectory: String,
        deploying given: Management.Configuration?
    ) throws(ControllerServiceError) -> Management.Configuration? {
        let file = stateDirectory + "/" + Self.deployedConfigurationFileName
        deployedConfigurationFile = file
        if let given { return given }
        return try ControllerService.persistedConfiguration(at: file)
    }
}

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
