import ClusterKit

@main
enum Zeekctl {
    static func main() {}
}
