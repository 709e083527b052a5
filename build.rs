//! On a Windows host: configure the KMDF binary build (entry point FxDriverEntry, /DRIVER,
//! WDF and kernel libraries) and link netio.lib, which provides the WSK exports and which
//! wdk-build does not link. On any other host there is nothing to do: the driver links the
//! kernel model instead (see crates/driver/src/lib.rs).

fn main() -> Result<(), Box<dyn std::error::Error>> {
    #[cfg(target_os = "windows")]
    {
        wdk_build::configure_wdk_binary_build()?;
        println!("cargo::rustc-link-lib=netio");
    }
    Ok(())
}
