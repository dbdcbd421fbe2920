/// Zeek's Management framework (`Management::`): the records, and the controller, agent and node runtimes.
public enum Management: Sendable {}
