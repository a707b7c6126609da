//! Unit tests of `telemetry`.

use super::sdk_wire_caps;

#[test]
fn broad_trace_caps_the_sdk_wire_logs() {
    for capped in [
        "trace",
        "TRACE",
        "5",
        "info,trace",
        "aws=trace",
        "debug,aws_=trace",
        "=trace",
    ] {
        assert_eq!(sdk_wire_caps(capped).len(), 3, "{capped:?}");
    }
    for open in [
        "",
        "info",
        "debug",
        "info,image_janitor=trace",
        "aws_sdk_sqs=trace",
        "trace,aws_smithy_runtime=trace",
        "trace,aws_smithy_runtime::client::orchestrator=trace",
        "image_janitor[message]=trace",
        "aws_smithy_runtime",
    ] {
        assert!(sdk_wire_caps(open).is_empty(), "{open:?}");
    }
}
