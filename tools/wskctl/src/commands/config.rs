//! `wskctl config`: one IOCTL_WSK_SAMPLE_CONFIGURE per change (bind address, fixed destination,
//! pool size), then the driver's counters, which show the effect.

use serde::Serialize;
use wsk_sample_ioctl::{ConfigAction, Family};

use super::send::describe_action;
use super::stats::{StatsJson, print_human as print_stats};
use super::{UnloadJson, close_device, family_name};
use crate::cli::ConfigArgs;
use crate::device::{self, DeviceAccess, DeviceError, OpenOptions};
use crate::exit::{ExitStatus, Failure};
use crate::output::{self, ErrorReportJson, note, say};
use crate::request;

const MODEL_NOTE: &str = "kernel model: this run loaded a fresh copy of the driver, so the change lasts only \
                          for this run; the counters below show its effect";

/// One change in `--json`.
#[derive(Serialize)]
struct ChangeJson {
    /// "pool_slots", "bind", "fixed_remote", "fixed_sendto" or "clear_fixed".
    action: &'static str,
    /// "IPv4" or "IPv6"; null for the driver-wide pool size.
    family: Option<&'static str>,
    address: Option<String>,
    slots: Option<u32>,
    /// "applied", "failed" or "not_attempted" (an earlier change failed).
    outcome: &'static str,
    error: Option<ErrorReportJson>,
}

#[derive(Serialize)]
struct ConfigReport {
    command: &'static str,
    ok: bool,
    exit_code: u8,
    backend: &'static str,
    note: Option<&'static str>,
    changes: Vec<ChangeJson>,
    stats: Option<StatsJson>,
    unload_report: Option<UnloadJson>,
}

impl ConfigArgs {
    /// The requests to issue, in order: the pool size (driver-wide) first, then the socket
    /// change. Refuses a --family that is missing (with --clear), disagrees with the address,
    /// or has no socket change to apply to.
    pub fn plan(&self) -> Result<Vec<ConfigAction>, Failure> {
        let usage = |message: String| Err(Failure::Usage(message));
        let socket_change = match (self.bind, self.remote, self.sendto, self.clear) {
            (Some(address), None, None, false) => Some(("--bind", Some(address), None)),
            (None, Some(address), None, false) => Some(("--remote", Some(address), None)),
            (None, None, Some(address), false) => Some(("--sendto", Some(address), None)),
            (None, None, None, true) => match self.family {
                Some(family) => Some(("--clear", None, Some(family))),
                None => {
                    return usage(
                        "--clear needs --family 4 or --family 6: there is no address to take the \
                         socket's family from"
                            .to_string(),
                    );
                }
            },
            (None, None, None, false) => None,
            // clap's conflicts make these unreachable; refuse them anyway.
            _ => {
                return usage(
                    "give at most one of --bind, --remote, --sendto or --clear".to_string(),
                );
            }
        };
        let mut actions = Vec::new();
        if let Some(slots) = self.pool_slots {
            actions.push(ConfigAction::PoolSlots(slots));
        }
        match socket_change {
            None => {
                if let Some(family) = self.family {
                    return usage(format!(
                        "--family {} needs a socket change (--bind, --remote, --sendto or --clear): \
                         --pool-slots applies to the whole driver",
                        family_digit(family)
                    ));
                }
            }
            Some((flag, Some(address), _)) => {
                if let Some(family) = self.family
                    && family != Family::of(&address)
                {
                    return usage(format!(
                        "--family {} does not match {flag} {address}, an {} address (--family may \
                         be left out: it follows from the address)",
                        family_digit(family),
                        family_name(Family::of(&address))
                    ));
                }
                actions.push(match flag {
                    "--bind" => ConfigAction::Bind(address),
                    "--remote" => ConfigAction::FixedRemote(address),
                    _ => ConfigAction::FixedSendTo(address),
                });
            }
            Some((_, None, family)) => {
                actions.push(ConfigAction::ClearFixed(family.unwrap_or(Family::V4)));
            }
        }
        Ok(actions)
    }
}

fn family_digit(family: Family) -> u8 {
    match family {
        Family::V4 => 4,
        Family::V6 => 6,
    }
}

fn change_json(
    action: ConfigAction,
    outcome: &'static str,
    error: Option<&DeviceError>,
) -> ChangeJson {
    let (name, address, slots) = match action {
        ConfigAction::PoolSlots(slots) => ("pool_slots", None, Some(slots)),
        ConfigAction::Bind(address) => ("bind", Some(address), None),
        ConfigAction::FixedRemote(address) => ("fixed_remote", Some(address), None),
        ConfigAction::FixedSendTo(address) => ("fixed_sendto", Some(address), None),
        ConfigAction::ClearFixed(_) => ("clear_fixed", None, None),
    };
    ChangeJson {
        action: name,
        family: action.family().map(family_name),
        address: address.map(|a| a.to_string()),
        slots,
        outcome,
        error: error.map(ErrorReportJson::from),
    }
}

pub fn run(args: ConfigArgs, json: bool) -> Result<ExitStatus, Failure> {
    let actions = args.plan()?;
    let mut device = device::open(OpenOptions {
        access: DeviceAccess::Send,
        trace: None,
        concurrent: false,
    })?;
    let mut changes = Vec::new();
    let mut failure: Option<DeviceError> = None;
    for action in actions {
        if failure.is_some() {
            changes.push(change_json(action, "not_attempted", None));
            continue;
        }
        match request::configure(&device, action) {
            Ok(()) => {
                if !json {
                    say!("done: {}", describe_action(action));
                }
                changes.push(change_json(action, "applied", None));
            }
            Err(error) => {
                note!("error: could not {}: {error}", describe_action(action));
                changes.push(change_json(action, "failed", Some(&error)));
                failure = Some(error);
            }
        }
    }
    let stats = request::query_stats(&device);
    let (unload, unload_status) = close_device(&mut device);
    let mut status = failure
        .as_ref()
        .map_or(ExitStatus::Success, ExitStatus::from);
    let stats = match stats {
        Ok(stats) => Some(stats),
        Err(error) => {
            note!("error: could not read the driver's counters: {error}");
            status = status.and(ExitStatus::from(&error));
            None
        }
    };
    let status = status.and(unload_status);
    if json {
        output::emit_json(&ConfigReport {
            command: "config",
            ok: status == ExitStatus::Success,
            exit_code: status.code(),
            backend: device::BACKEND_NAME,
            note: device::HAS_TRACE.then_some(MODEL_NOTE),
            changes,
            stats: stats.as_ref().map(StatsJson::from),
            unload_report: unload.as_ref().map(UnloadJson::from),
        });
    } else if let Some(stats) = &stats {
        say!(
            "driver counters after the change ({})",
            device::BACKEND_NAME
        );
        if device::HAS_TRACE {
            say!("   ({MODEL_NOTE})");
        }
        print_stats(stats);
    }
    Ok(status)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command};
    use clap::Parser;

    fn plan(arguments: &[&str]) -> Result<Vec<ConfigAction>, String> {
        let cli = Cli::try_parse_from([&["wskctl", "config"], arguments].concat())
            .map_err(|e| e.to_string())?;
        match cli.command {
            Command::Config(args) => args.plan().map_err(|f| f.to_string()),
            _ => Err("not config".to_string()),
        }
    }

    fn address(text: &str) -> std::net::SocketAddr {
        text.parse().unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn the_family_follows_the_address_or_is_given_with_clear() {
        assert_eq!(
            plan(&["--bind", "127.0.0.1:0"]),
            Ok(vec![ConfigAction::Bind(address("127.0.0.1:0"))])
        );
        assert_eq!(
            plan(&["--remote", "[::1]:9", "--family", "6"]),
            Ok(vec![ConfigAction::FixedRemote(address("[::1]:9"))])
        );
        assert!(
            plan(&["--sendto", "[::1]:9", "--family", "4"])
                .unwrap_err()
                .contains("does not match")
        );
        assert!(plan(&["--clear"]).unwrap_err().contains("--family"));
        assert_eq!(
            plan(&["--clear", "--family", "6"]),
            Ok(vec![ConfigAction::ClearFixed(Family::V6)])
        );
    }

    #[test]
    fn the_pool_goes_first_and_changes_do_not_mix() {
        assert_eq!(
            plan(&["--sendto", "127.0.0.1:9", "--pool-slots", "4"]),
            Ok(vec![
                ConfigAction::PoolSlots(4),
                ConfigAction::FixedSendTo(address("127.0.0.1:9"))
            ])
        );
        assert_eq!(
            plan(&["--pool-slots", "64"]),
            Ok(vec![ConfigAction::PoolSlots(64)])
        );
        assert!(plan(&["--pool-slots", "64", "--family", "4"]).is_err());
        assert!(plan(&["--bind", "127.0.0.1:0", "--clear", "--family", "4"]).is_err());
        assert!(plan(&["--remote", "127.0.0.1:9", "--sendto", "127.0.0.1:9"]).is_err());
        assert!(plan(&["--remote", "127.0.0.1:0"]).is_err());
        assert!(plan(&[]).is_err());
    }
}
