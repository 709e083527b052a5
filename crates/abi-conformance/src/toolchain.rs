//! Finding mingw-w64's gcc and Wine's headers, and compiling a C file against them.

use std::ffi::OsString;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Set to `1` (CI does) to make a missing compiler or missing headers a failure, not a skip.
pub const REQUIRE_CONFORMANCE_VARIABLE: &str = "WSK_SAMPLE_REQUIRE_CONFORMANCE";

/// The compiler from Debian's `gcc-mingw-w64-x86-64`.
pub const COMPILER: &str = "x86_64-w64-mingw32-gcc";

/// Where distributions install Wine's include tree (`windows/`, `msvcrt/`): Debian's
/// `libwine-dev` first, then upstream's `make install` layout.
const WINE_INCLUDE_ROOTS: [&str; 2] = ["/usr/include/wine/wine", "/usr/include/wine"];

/// mingw-w64's gcc and Wine's include tree.
#[derive(Clone, Debug)]
pub struct Toolchain {
    compiler: PathBuf,
    wine_include: PathBuf,
}

/// What is missing for the C check.
#[derive(Clone, Debug)]
pub enum Missing {
    Compiler,
    WineHeaders,
}

impl fmt::Display for Missing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Missing::Compiler => write!(f, "{COMPILER} is not on PATH"),
            Missing::WineHeaders => write!(
                f,
                "no Wine include tree with windows/ddk/wsk.h under {WINE_INCLUDE_ROOTS:?}"
            ),
        }
    }
}

/// The result of compiling one C file.
#[derive(Clone, Debug)]
pub struct Compilation {
    pub source: PathBuf,
    pub accepted: bool,
    pub diagnostics: String,
}

impl Compilation {
    /// The message literals of the failed `_Static_assert`s, exactly as in the source
    /// (`"offsetof(IRP, …): Rust … says 184"`, quotes included).
    pub fn failed_assertions(&self) -> Vec<&str> {
        const MARKER: &str = "error: static assertion failed: ";
        self.diagnostics
            .lines()
            .filter_map(|line| line.split_once(MARKER).map(|(_, literal)| literal))
            .collect()
    }

    /// Every error line, static assertion or not.
    pub fn errors(&self) -> Vec<&str> {
        self.diagnostics
            .lines()
            .filter(|line| line.contains("error:"))
            .collect()
    }

    /// What to show when a check about this compilation fails.
    pub fn report(&self) -> String {
        format!(
            "{COMPILER} on {}:\n{}",
            self.source.display(),
            self.diagnostics
        )
    }
}

impl Toolchain {
    pub fn locate() -> Result<Toolchain, Missing> {
        let compiler = find_on_path(COMPILER).ok_or(Missing::Compiler)?;
        let wine_include = WINE_INCLUDE_ROOTS
            .iter()
            .map(PathBuf::from)
            .find(|root| {
                root.join("windows/ddk/wsk.h").is_file() && root.join("msvcrt/stddef.h").is_file()
            })
            .ok_or(Missing::WineHeaders)?;
        Ok(Toolchain {
            compiler,
            wine_include,
        })
    }

    /// The compiler flags: Wine's headers only (`-nostdinc`: nothing from mingw-w64's own
    /// Windows headers can stand in), C11, syntax check only, warnings as errors.
    pub fn flags(&self) -> Vec<OsString> {
        let mut flags: Vec<OsString> = [
            "-std=c11",
            "-fsyntax-only",
            "-fdiagnostics-plain-output",
            "-Wall",
            "-Werror",
            "-nostdinc",
        ]
        .into_iter()
        .map(OsString::from)
        .collect();
        for directory in ["msvcrt", "windows"] {
            flags.push("-isystem".into());
            flags.push(self.wine_include.join(directory).into_os_string());
        }
        flags
    }

    /// Writes `source` to `directory/name.c` and compiles it.
    pub fn check(&self, directory: &Path, name: &str, source: &str) -> io::Result<Compilation> {
        std::fs::create_dir_all(directory)?;
        let path = directory.join(format!("{name}.c"));
        std::fs::write(&path, source)?;
        let output = Command::new(&self.compiler)
            .args(self.flags())
            .arg(&path)
            .output()?;
        let mut diagnostics = String::from_utf8_lossy(&output.stderr).into_owned();
        diagnostics.push_str(&String::from_utf8_lossy(&output.stdout));
        Ok(Compilation {
            source: path,
            accepted: output.status.success(),
            diagnostics,
        })
    }
}

/// Whether the C checks can run here.
#[derive(Clone, Debug)]
pub enum CChecks {
    /// The toolchain is installed.
    Run(Toolchain),
    /// The toolchain is missing and not required: the checks are reported as ignored, for this
    /// reason.
    Ignore(String),
    /// The toolchain is missing and [`REQUIRE_CONFORMANCE_VARIABLE`] is `1`: the checks run and
    /// fail with this message.
    Fail(String),
}

impl CChecks {
    /// Locates the toolchain and reads [`REQUIRE_CONFORMANCE_VARIABLE`].
    pub fn here() -> CChecks {
        match Toolchain::locate() {
            Ok(toolchain) => CChecks::Run(toolchain),
            Err(missing) if conformance_required() => CChecks::Fail(format!(
                "{missing}, and {REQUIRE_CONFORMANCE_VARIABLE}=1 requires the C checks (see .ci/abi-conformance.sh)"
            )),
            Err(missing) => CChecks::Ignore(format!(
                "{missing}: install gcc-mingw-w64-x86-64 libwine-dev (see .ci/abi-conformance.sh); {REQUIRE_CONFORMANCE_VARIABLE}=1 makes this a failure"
            )),
        }
    }
}

fn conformance_required() -> bool {
    std::env::var_os(REQUIRE_CONFORMANCE_VARIABLE).is_some_and(|value| value == "1")
}

fn find_on_path(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|directory| directory.join(program))
        .find(|candidate| candidate.is_file())
}
