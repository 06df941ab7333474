import CoreMetrics
import Prometheus

/// The Prometheus side of the server's metrics: the factory to give the server as `metricsFactory`, with
/// histogram buckets that fit a proxy (handshakes and connects in milliseconds, sessions up to hours).
public enum AdminMetrics {
    public static func factory(registry: PrometheusCollectorRegistry) -> PrometheusMetricsFactory {
        var factory = PrometheusMetricsFactory(registry: registry)
        let fast: [Duration] = [.milliseconds(1), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
                                .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5), .seconds(10)]
        let long: [Duration] = [.milliseconds(100), .seconds(1), .seconds(10), .seconds(60), .seconds(300), .seconds(900),
                                .seconds(3600), .seconds(4 * 3600), .seconds(24 * 3600)]
        factory.durationHistogramBuckets = [
            "calzino_handshake_duration_seconds": fast,
            "calzino_connect_duration_seconds": fast,
            "calzino_dns_duration_seconds": fast,
            "calzino_session_duration_seconds": long,
        ]
        return factory
    }
}
