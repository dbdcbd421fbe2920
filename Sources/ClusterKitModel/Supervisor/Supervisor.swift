/// Zeek's Supervisor framework (`Supervisor::`): node configurations, their status, and the process supervisor.
public enum Supervisor: Sendable {}
