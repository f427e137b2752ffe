import BoxwatchCore
import BoxwatchHost
import Glibc

/// `boxwatch containers`: runs the sensor quietly, then lists the live and
/// recent containers it saw (Ctrl-C or --duration ends the watch).
struct Containers {
    let sensorArgs: SensorArgs
    let json: Bool

    init(_ args: Arguments) throws {
        var args = args
        sensorArgs = try SensorArgs(&args)
        json = args.flag("--json")
        try args.finish()
    }

    func run() -> Int32 {
        let session = LiveSession(sensorArgs)
        var quiet = EventFilter()
        quiet.kinds = []
        quiet.lifecycle = false
        let pipeline = Pipeline(table: session.table, filter: quiet, formatter: ECSFormatter(), clock: HostClock.sample())
        let resolver = sensorArgs.metadataResolver()
        pipeline.onLifecycle = { if case .started(let s, _) = $0 { resolver.request(s.info) } }
        session.requestMetadata(resolver)
        stderrWriter.write(session.attachedMessage("; listing containers at the end"))
        var sink = ""
        let status = session.run(
            record: { raw in pipeline.handle(raw, into: &sink) },
            flush: {
                sink = ""
                for (id, m) in resolver.take() { session.table.setMetadata(m, for: id) }
                return nil
            },
            tick: { _, clock, _ in pipeline.clock = clock })
        session.sensor.close()
        let list = session.table.registry.listing
        FDWriter(fd: 1).write(json ? ContainerListing.json(list) : ContainerListing.text(list))
        return status
    }
}
