//! The result type shared by all checkers.

use std::fmt;

/// One problem a checker found: the rule that is broken and what exactly is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Stable identifier of the rule (for example `inx.services`); tests match on it.
    pub rule: &'static str,
    /// What is wrong, for a human.
    pub message: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "[{}] {}", self.rule, self.message)
    }
}

/// Everything one checker run found; empty when the input passes.
#[derive(Debug, Default, Clone)]
pub struct Findings(Vec<Finding>);

impl Findings {
    /// No findings yet.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Records that `rule` is broken.
    pub fn push(&mut self, rule: &'static str, message: impl Into<String>) {
        self.0.push(Finding {
            rule,
            message: message.into(),
        });
    }

    /// Appends the findings of another run.
    pub fn append(&mut self, other: Self) {
        self.0.extend(other.0);
    }

    /// True when nothing was found.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// True when at least one finding breaks `rule`.
    #[must_use]
    pub fn has_rule(&self, rule: &str) -> bool {
        self.0.iter().any(|finding| finding.rule == rule)
    }

    /// The findings in the order they were made.
    pub fn iter(&self) -> impl Iterator<Item = &Finding> {
        self.0.iter()
    }
}

impl fmt::Display for Findings {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return write!(formatter, "no findings");
        }
        for finding in &self.0 {
            writeln!(formatter, "{finding}")?;
        }
        Ok(())
    }
}
