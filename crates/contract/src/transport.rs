//! The four ways to push, named once.

use serde::{Deserialize, Serialize};

/// The four transports. The kebab-case names (`poll`, `long-poll`, `sse`, `ws`) are the
/// ones on the command line, in the results JSON and in the pages; [`Transport::key`]
/// is the snake_case name `/api/stats` and `/metrics` use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "kebab-case")]
pub enum Transport {
    Poll,
    LongPoll,
    Sse,
    Ws,
}

impl Transport {
    /// In the order the pages and tables show them: pull-based first, push-based after.
    pub const ALL: [Transport; 4] = [Self::Poll, Self::LongPoll, Self::Sse, Self::Ws];

    /// `poll`, `long-poll`, `sse`, `ws`: the command line's and the results' name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Poll => "poll",
            Self::LongPoll => "long-poll",
            Self::Sse => "sse",
            Self::Ws => "ws",
        }
    }

    /// `poll`, `long_poll`, `sse`, `ws`: the key in `/api/stats` and the `transport`
    /// label in `/metrics` (Prometheus label values by convention avoid `-`).
    pub fn key(self) -> &'static str {
        match self {
            Self::LongPoll => "long_poll",
            other => other.name(),
        }
    }

    /// What people call it: `polling`, `long-polling`, `SSE`, `WebSocket`.
    pub fn label(self) -> &'static str {
        match self {
            Self::Poll => "polling",
            Self::LongPoll => "long-polling",
            Self::Sse => "SSE",
            Self::Ws => "WebSocket",
        }
    }

    /// Whether a client holds its connection open the whole time (and so costs an fd
    /// and server memory for as long as it listens).
    pub fn is_streaming(self) -> bool {
        matches!(self, Self::Sse | Self::Ws)
    }
}

impl std::fmt::Display for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_the_serialized_form() {
        for t in Transport::ALL {
            assert_eq!(serde_json::to_value(t).unwrap(), t.name());
        }
        assert_eq!(Transport::LongPoll.key(), "long_poll");
    }
}
