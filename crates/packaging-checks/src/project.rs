//! The project-wide names the Windows files must agree on, gathered from their sources of truth.

use crate::{manifest, rust_source};

/// Name of the kernel service that runs the driver (`sc query WskSample`). Fixed by the project
/// design; the driver code itself never names its service.
pub const SERVICE_NAME: &str = "WskSample";

/// Names shared by the driver code, the INX, the packaging flow and the CI workflow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectFacts {
    /// The driver package name with `-` replaced by `_` (cargo-make's `CARGO_MAKE_CRATE_FS_NAME`):
    /// the stem of the `.inx`, `.inf`, `.sys`, `.cat` and `_package` names.
    pub crate_fs_name: String,
    /// PnP hardware ID of the root-enumerated device (`HARDWARE_ID` in the IOCTL crate).
    pub hardware_id: String,
    /// Security descriptor of the device object (`DEVICE_SDDL` in the IOCTL crate).
    pub device_sddl: String,
    /// Name of the kernel service.
    pub service_name: String,
}

impl ProjectFacts {
    /// Reads the facts from the driver's `Cargo.toml` and the IOCTL crate's `lib.rs`.
    ///
    /// # Errors
    ///
    /// Fails when the manifest has no package name or when `HARDWARE_ID` or `DEVICE_SDDL` is not
    /// declared as a string constant in `ioctl_source`.
    pub fn from_sources(driver_manifest: &str, ioctl_source: &str) -> Result<Self, String> {
        let table = manifest::parse(driver_manifest)?;
        Ok(Self {
            crate_fs_name: manifest::crate_fs_name(&table)?,
            hardware_id: rust_source::string_const(ioctl_source, "HARDWARE_ID")?,
            device_sddl: rust_source::string_const(ioctl_source, "DEVICE_SDDL")?,
            service_name: SERVICE_NAME.to_owned(),
        })
    }

    /// `wsk_sample.inx`: the template the packaging flow copies to `.inf`.
    #[must_use]
    pub fn inx_file(&self) -> String {
        format!("{}.inx", self.crate_fs_name)
    }

    /// `wsk_sample.sys`: the driver binary in the package.
    #[must_use]
    pub fn driver_file(&self) -> String {
        format!("{}.sys", self.crate_fs_name)
    }

    /// `wsk_sample.cat`: the catalog inf2cat creates.
    #[must_use]
    pub fn catalog_file(&self) -> String {
        format!("{}.cat", self.crate_fs_name)
    }

    /// `wsk_sample_package`: the folder `cargo make` fills.
    #[must_use]
    pub fn package_dir(&self) -> String {
        format!("{}_package", self.crate_fs_name)
    }
}
