//! The presets as the issues set them, and the scenario's JSON names and units.

use super::*;

#[test]
fn presets_match_the_issue() {
    let q = Scenario::preset(Preset::Quick);
    assert_eq!(q.plan().len(), 4);
    let k = &q.knobs;
    assert_eq!((q.clients[0], q.rates[0]), (100, 20.0));
    assert_eq!((k.poll_interval, k.duration), (Duration::from_secs(1), Duration::from_secs(15)));
    let w = Scenario::preset(Preset::Workshop);
    assert_eq!((w.rates.clone(), w.clients.clone()), (vec![0.5, 50.0], vec![1000]));
    assert_eq!(Scenario::preset(Preset::Scale).plan().len(), 20);
    let e = Scenario::preset(Preset::Efficiency).plan();
    assert_eq!(e.len(), 15);
    let idle: Vec<_> =
        e.iter().filter(|p| p.spec.clients == 5000).map(|p| (p.spec.transport, p.rate)).collect();
    assert_eq!(idle, [(Transport::Ws, 1.0), (Transport::Sse, 1.0), (Transport::LongPoll, 1.0)]);
    assert_eq!(e.iter().filter(|p| !p.spec.knobs.coalesce.is_zero()).count(), 4);
    let polls = e.last().unwrap();
    assert_eq!(
        (polls.spec.transport, polls.spec.knobs.poll_interval),
        (Transport::Poll, Duration::from_millis(250))
    );
}

#[test]
fn the_conditions_and_battery_presets_run_over_their_links() {
    let c = Scenario::preset(Preset::Conditions).plan();
    assert_eq!(c.len(), 20);
    let sse: Vec<_> = c.iter().filter(|p| p.spec.transport == Transport::Sse).collect();
    let links: Vec<_> = sse.iter().map(|p| p.spec.knobs.link.as_deref().unwrap()).collect();
    assert_eq!(links, ["lan", "4g", "3g", "satellite", "lossy"]);
    for link in CONDITIONS_LINKS {
        assert!(link.parse::<pushlab_link::LinkSpec>().is_ok(), "{link}");
    }
    let b = Scenario::preset(Preset::Battery).plan();
    assert_eq!(b.len(), 10);
    assert!(b.iter().all(|p| p.spec.knobs.link.as_deref() == Some("4g") && p.spec.clients == 50));
    let keepalives: Vec<_> = b
        .iter()
        .filter(|p| p.rate == BATTERY_QUIET_RATE && p.spec.transport == Transport::Sse)
        .map(|p| p.spec.knobs.keepalive.unwrap().as_secs())
        .collect();
    assert_eq!(keepalives, [15, 60]);
    // One symbol of eight at 8/60 ticks/s: a tick a minute per client.
    assert!((BATTERY_QUIET_RATE / 8.0 * 60.0 - 1.0).abs() < 1e-12);
    assert!(Scenario::preset(Preset::Quick).plan().iter().all(|p| p.spec.knobs.link.is_none()));
}

#[test]
fn knobs_keep_their_json_names_and_units() {
    let knobs = Knobs {
        poll_interval: Duration::from_millis(250),
        ramp: Duration::from_millis(300),
        symbols: Some(vec!["ACME".into()]),
        ..Knobs::default()
    };
    let scenario = Scenario { knobs, ..Scenario::preset(Preset::Run) };
    let json = serde_json::to_string(&scenario).unwrap();
    assert_eq!(
        json,
        concat!(
            r#"{"preset":"run","transports":["poll","long-poll","sse","ws"],"clients":[100],"#,
            r#""rates":[20.0],"poll_interval_ms":250,"duration_s":15.0,"ramp_s":0.3,"settle_s":2.0,"#,
            r#""symbols":["ACME"],"payload_bytes":null,"history":4096,"seed":42,"long_poll_timeout_ms":25000,"#,
            r#""reconnect":"jitter"}"#
        )
    );
    assert_eq!(serde_json::from_str::<Scenario>(&json).unwrap(), scenario);
    let negative = json.replace(r#""ramp_s":0.3"#, r#""ramp_s":-1.0"#);
    assert!(serde_json::from_str::<Scenario>(&negative).is_err());
    // A file from before --reconnect: its clients waited a fixed delay, which is
    // also how a fixed run is written now.
    let older = json.replace(r#","reconnect":"jitter""#, "");
    let fixed = serde_json::from_str::<Scenario>(&older).unwrap();
    assert_eq!(fixed.knobs.reconnect, Reconnect::Fixed);
    assert_eq!(serde_json::to_string(&fixed).unwrap(), older);
}

#[test]
fn the_http2_preset_compares_sse_over_each_protocol() {
    let plan = Scenario::preset(Preset::Http2).plan();
    let protocols: Vec<(bool, Option<usize>)> =
        plan.iter().map(|p| (p.spec.knobs.tls, p.spec.knobs.http2_streams)).collect();
    assert_eq!(
        protocols,
        [(false, None), (true, None), (true, Some(1)), (true, Some(10)), (true, Some(100))]
    );
    assert!(plan.iter().all(|p| p.spec.transport == Transport::Sse && p.spec.clients == 2000));
}
