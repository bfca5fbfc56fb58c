//! The command line: flags over presets, and the runs it refuses.

use super::*;

fn parse(args: &[&str]) -> Command {
    Cli::try_parse_from(["pushlab-load"].iter().chain(args)).unwrap().command
}

#[test]
fn flags_override_the_preset() {
    let Command::Compare(args) = parse(&[
        "compare",
        "--preset",
        "scale",
        "--transports",
        "sse,ws",
        "--clients",
        "19000",
        "--duration",
        "5s",
        "--poll-interval",
        "250ms",
        "--seed",
        "7",
    ]) else {
        panic!("compare")
    };
    let s = args.scenario().unwrap();
    assert_eq!(s.transports, vec![Transport::Sse, Transport::Ws]);
    assert_eq!(s.clients, vec![19000]);
    let k = &s.knobs;
    assert_eq!(
        (k.duration, k.poll_interval, k.seed),
        (Duration::from_secs(5), Duration::from_millis(250), 7)
    );
    assert_eq!(k.ramp, Duration::from_secs(10), "the preset's ramp stays");
    assert_eq!(s.rates, vec![20.0], "the preset's rate stays");
}

#[test]
fn run_records_its_one_transport_and_the_flags() {
    let Command::Run(args) =
        parse(&["run", "--transport", "sse", "--clients", "7", "--symbols", "ACME,BOLT", "--ramp", "0s"])
    else {
        panic!("run")
    };
    let s = args.scenario().unwrap();
    assert_eq!((s.preset, s.transports, s.clients), (Preset::Run, vec![Transport::Sse], vec![7]));
    let expected =
        Knobs { symbols: Some(vec!["ACME".into(), "BOLT".into()]), ramp: Duration::ZERO, ..Knobs::default() };
    assert_eq!(s.knobs, expected);
}

/// The results record these in ms, so the run must use exactly what is recorded.
#[test]
fn millisecond_knobs_are_taken_to_the_millisecond() {
    let Command::Compare(args) = parse(&["compare", "--long-poll-timeout", "2ms 900us"]) else {
        panic!("compare")
    };
    assert_eq!(args.scenario().unwrap().knobs.long_poll_timeout, Duration::from_millis(2));
    let Command::Compare(args) = parse(&["compare", "--poll-interval", "250us"]) else { panic!("compare") };
    assert!(args.scenario().unwrap_err().to_string().contains("--poll-interval must be ≥ 1ms"));
}

#[test]
fn unbounded_or_empty_runs_are_refused() {
    let mut s = Scenario::preset(Preset::Quick);
    s.knobs.duration = Duration::from_secs(1_000_000_000);
    assert!(validate(&s).unwrap_err().to_string().contains("--duration"));
    let mut s = Scenario::preset(Preset::Quick);
    s.knobs.duration = Duration::ZERO;
    assert!(validate(&s).unwrap_err().to_string().contains("--duration"));
    let mut s = Scenario::preset(Preset::Quick);
    s.knobs.long_poll_timeout = Duration::from_millis(60_001);
    assert!(validate(&s).unwrap_err().to_string().contains("--long-poll-timeout"));
    let mut s = Scenario::preset(Preset::Quick);
    s.rates = vec![0.0];
    assert!(validate(&s).unwrap_err().to_string().contains("--rates"));
}

#[test]
fn the_emulator_is_auto_unless_named() {
    use pushlab_link::EmulatorChoice;
    let Command::Run(args) = parse(&["run", "--transport", "sse", "--link", "3g"]) else { panic!("run") };
    assert_eq!(args.emulator.choice, EmulatorChoice::Auto);
    let Command::Compare(args) = parse(&["compare", "--emulator", "builtin"]) else { panic!("compare") };
    assert_eq!(args.emulator.choice, EmulatorChoice::Builtin);
    let refused = Cli::try_parse_from(["pushlab-load", "compare", "--emulator", "tc"]).unwrap_err();
    assert!(refused.to_string().contains("one of auto, builtin, netem"), "{refused}");
}
