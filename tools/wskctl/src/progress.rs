//! A one-line progress bar on stderr for long sends. Shown only on a terminal, never with
//! `--json`, and only once a run is long (many datagrams or more than a second), so short runs
//! and scripts see clean output.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use crate::output::thousands;

/// Runs with more datagrams than this show the bar from the start.
const MANY_DATAGRAMS: u64 = 1000;
/// Shorter runs show it once they have taken this long.
const LONG_RUN: Duration = Duration::from_secs(1);
/// Redraw at most this often.
const REDRAW: Duration = Duration::from_millis(100);
const WIDTH: usize = 30;

pub struct Progress {
    enabled: bool,
    total: u64,
    started: Instant,
    last_draw: Option<Instant>,
    drawn: bool,
}

impl Progress {
    /// A bar for `total` datagrams; disabled unless stderr is a terminal and `json` is off.
    pub fn new(total: u64, json: bool) -> Progress {
        Progress {
            enabled: !json && std::io::stderr().is_terminal(),
            total,
            started: Instant::now(),
            last_draw: None,
            drawn: false,
        }
    }

    /// Updates the bar with `done` datagrams handled and `bytes` sent.
    pub fn update(&mut self, done: u64, bytes: u64) {
        if !self.enabled {
            return;
        }
        let now = Instant::now();
        let elapsed = now.duration_since(self.started);
        if self.total <= MANY_DATAGRAMS && elapsed < LONG_RUN {
            return;
        }
        if self
            .last_draw
            .is_some_and(|last| now.duration_since(last) < REDRAW)
            && done < self.total
        {
            return;
        }
        self.last_draw = Some(now);
        let fraction = if self.total == 0 {
            1.0
        } else {
            done as f64 / self.total as f64
        };
        let filled = ((fraction * WIDTH as f64) as usize).min(WIDTH);
        let rate = crate::output::per_second(done, elapsed);
        let line = format!(
            "\r[{}{}] {}/{} datagrams, {} bytes, {}/s ",
            "#".repeat(filled),
            ".".repeat(WIDTH - filled),
            thousands(done),
            thousands(self.total),
            thousands(bytes),
            thousands(rate.round() as u64)
        );
        let mut stderr = std::io::stderr().lock();
        let _ = stderr.write_all(line.as_bytes());
        let _ = stderr.flush();
        self.drawn = true;
    }

    /// Erases the bar so the summary starts on a clean line.
    pub fn finish(&mut self) {
        if self.drawn {
            let mut stderr = std::io::stderr().lock();
            let _ = write!(stderr, "\r{}\r", " ".repeat(WIDTH + 70));
            let _ = stderr.flush();
            self.drawn = false;
        }
    }
}
