//! Checks of the Windows-only files (see tests/).
