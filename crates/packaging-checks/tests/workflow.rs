//! The CI workflow: the Windows job installs the toolchain, builds, lints, tests, packages with
//! RUSTFLAGS removed and uploads the package; the Linux job runs `.ci/run`; actions are pinned.

mod common;

use common::{Mutation, assert_mutations_caught, read_repo_file, reference_facts};
use packaging_checks::workflow::check_workflow;

const WORKFLOW: &str = ".github/workflows/windows.yml";

fn check(text: &str) -> packaging_checks::Findings {
    check_workflow(text, &reference_facts())
}

#[test]
fn toolchain_install_defects_are_caught() {
    assert_mutations_caught(&read_repo_file(WORKFLOW), INSTALL_MUTATIONS, check);
}

#[test]
fn build_lint_and_test_defects_are_caught() {
    assert_mutations_caught(&read_repo_file(WORKFLOW), CARGO_MUTATIONS, check);
}

#[test]
fn packaging_and_rustflags_defects_are_caught() {
    assert_mutations_caught(&read_repo_file(WORKFLOW), PACKAGING_MUTATIONS, check);
}

#[test]
fn structure_pinning_and_linux_job_defects_are_caught() {
    assert_mutations_caught(&read_repo_file(WORKFLOW), STRUCTURE_MUTATIONS, check);
}

const INSTALL_MUTATIONS: &[Mutation] = &[
    Mutation {
        description: "another Windows image",
        edits: &[("runs-on: windows-2025", "runs-on: windows-2022")],
        rule: "workflow.windows-job",
    },
    Mutation {
        description: "no checkout of the repository",
        edits: &[(
            "      - name: Check out the repository\n        uses: actions/checkout@d23441a48e516b6c34aea4fa41551a30e30af803 # v6.1.0\n\n      # The WDK",
            "      # The WDK",
        )],
        rule: "workflow.checkout",
    },
    Mutation {
        description: "the NI WDK instead of 10.0.26100",
        edits: &[("version: 10.0.26100.6584", "version: 10.0.22621")],
        rule: "workflow.wdk",
    },
    Mutation {
        description: "WDK from winget",
        edits: &[("source: nuget", "source: winget")],
        rule: "workflow.wdk",
    },
    Mutation {
        description: "LLVM 18",
        edits: &[("version: 17.0.6", "version: 18.1.8")],
        rule: "workflow.llvm",
    },
    Mutation {
        description: "Rust without the x86_64 MSVC target",
        edits: &[(
            "targets: x86_64-pc-windows-msvc",
            "targets: aarch64-pc-windows-msvc",
        )],
        rule: "workflow.rust-toolchain",
    },
    Mutation {
        description: "upstream actions at a branch instead of a commit",
        edits: &[("ref: 7d3000c6e60041c6ea1ab75abebe411e6482fca6", "ref: main")],
        rule: "workflow.upstream-actions",
    },
    Mutation {
        description: "LLVM installed after the build",
        edits: &[
            (
                "      - name: Install LLVM 17.0.6 (libclang for bindgen)\n        uses: ./.github/actions/install-llvm\n        with:\n          version: 17.0.6\n\n",
                "",
            ),
            (
                "      - name: Clippy\n",
                "      - name: Install LLVM 17.0.6 late\n        uses: ./.github/actions/install-llvm\n        with:\n          version: 17.0.6\n\n      - name: Clippy\n",
            ),
        ],
        rule: "workflow.order",
    },
];

const CARGO_MUTATIONS: &[Mutation] = &[
    Mutation {
        description: "build without --locked",
        edits: &[("run: cargo build --locked", "run: cargo build")],
        rule: "workflow.build",
    },
    Mutation {
        description: "clippy without -D warnings",
        edits: &[(" -- -D warnings", "")],
        rule: "workflow.clippy",
    },
    Mutation {
        description: "-D warnings given to cargo instead of clippy",
        edits: &[(" -- -D warnings", " -D warnings")],
        rule: "workflow.clippy",
    },
    Mutation {
        description: "clippy without --all-targets",
        edits: &[("clippy --locked --all-targets", "clippy --locked")],
        rule: "workflow.clippy",
    },
    Mutation {
        description: "wskctl's tests not run",
        edits: &[(
            "cargo test --locked -p wsk-sample-ioctl -p wskctl",
            "cargo test --locked -p wsk-sample-ioctl",
        )],
        rule: "workflow.test",
    },
    Mutation {
        description: "tests without --locked",
        edits: &[(
            "cargo test --locked -p wsk-sample-ioctl -p wskctl",
            "cargo test -p wsk-sample-ioctl -p wskctl",
        )],
        rule: "workflow.test",
    },
];

const PACKAGING_MUTATIONS: &[Mutation] = &[
    Mutation {
        description: "cargo-make not installed with taiki-e/install-action",
        edits: &[("tool: cargo-make", "tool: cargo-nextest")],
        rule: "workflow.cargo-make-install",
    },
    Mutation {
        description: "no cargo make",
        edits: &[("cargo make default --locked", "cargo build --release")],
        rule: "workflow.cargo-make",
    },
    Mutation {
        description: "RUSTFLAGS left in place for cargo make",
        edits: &[(
            "          Remove-Item Env:RUSTFLAGS -ErrorAction SilentlyContinue\n",
            "",
        )],
        rule: "workflow.cargo-make",
    },
    Mutation {
        description: "RUSTFLAGS emptied instead of removed",
        edits: &[(
            "Remove-Item Env:RUSTFLAGS -ErrorAction SilentlyContinue",
            "$env:RUSTFLAGS = ''",
        )],
        rule: "workflow.cargo-make",
    },
    Mutation {
        description: "RUSTFLAGS removed only after cargo make",
        edits: &[
            (
                "          Remove-Item Env:RUSTFLAGS -ErrorAction SilentlyContinue\n",
                "",
            ),
            (
                "cargo make default --locked\n",
                "cargo make default --locked\n          Remove-Item Env:RUSTFLAGS -ErrorAction SilentlyContinue\n",
            ),
        ],
        rule: "workflow.cargo-make",
    },
    Mutation {
        description: "PowerShell removal run by bash",
        edits: &[(
            "      - name: Package the driver (cargo make)\n        run: |",
            "      - name: Package the driver (cargo make)\n        shell: bash\n        run: |",
        )],
        rule: "workflow.cargo-make",
    },
    Mutation {
        description: "an empty RUSTFLAGS in the step environment",
        edits: &[(
            "      - name: Package the driver (cargo make)\n        run: |",
            "      - name: Package the driver (cargo make)\n        env:\n          RUSTFLAGS: \"\"\n        run: |",
        )],
        rule: "workflow.rustflags",
    },
    Mutation {
        description: "RUSTFLAGS for the whole workflow",
        edits: &[(
            "  CARGO_TERM_COLOR: always\n",
            "  CARGO_TERM_COLOR: always\n  RUSTFLAGS: -D warnings\n",
        )],
        rule: "workflow.rustflags",
    },
    Mutation {
        description: "RUSTFLAGS exported through GITHUB_ENV",
        edits: &[(
            "          rustc --version --verbose\n",
            "          rustc --version --verbose\n          \"RUSTFLAGS=-D warnings\" >> $env:GITHUB_ENV\n",
        )],
        rule: "workflow.rustflags",
    },
    Mutation {
        description: "upload of another folder",
        edits: &[(
            "path: target/debug/wsk_sample_package/",
            "path: target/release/wsk_sample_package/",
        )],
        rule: "workflow.upload",
    },
    Mutation {
        description: "release packaging but debug upload",
        edits: &[(
            "cargo make default --locked\n",
            "cargo make default --locked --release\n",
        )],
        rule: "workflow.upload",
    },
    Mutation {
        description: "a missing package does not fail the upload",
        edits: &[("if-no-files-found: error", "if-no-files-found: warn")],
        rule: "workflow.upload",
    },
    Mutation {
        description: "no upload",
        edits: &[(
            "uses: actions/upload-artifact@b7c566a772e6b6bfb58ed0dc250532a479d7789f # v6.0.0",
            "uses: actions/cache@v4",
        )],
        rule: "workflow.upload",
    },
    Mutation {
        description: "upload before packaging",
        edits: &[
            (
                "      - name: Upload the driver package\n        uses: actions/upload-artifact@b7c566a772e6b6bfb58ed0dc250532a479d7789f # v6.0.0\n        with:\n          name: wsk_sample_package-x86_64-debug\n          path: target/debug/wsk_sample_package/\n          if-no-files-found: error\n",
                "",
            ),
            (
                "      - name: Install cargo-make\n",
                "      - name: Upload the driver package\n        uses: actions/upload-artifact@b7c566a772e6b6bfb58ed0dc250532a479d7789f # v6.0.0\n        with:\n          name: wsk_sample_package-x86_64-debug\n          path: target/debug/wsk_sample_package/\n          if-no-files-found: error\n\n      - name: Install cargo-make\n",
            ),
        ],
        rule: "workflow.order",
    },
];

const STRUCTURE_MUTATIONS: &[Mutation] = &[
    Mutation {
        description: "not valid YAML",
        edits: &[("jobs:\n", "jobs: [\n")],
        rule: "workflow.parse",
    },
    Mutation {
        description: "an action following a branch",
        edits: &[(
            "taiki-e/install-action@7f4eb899022d8fe70b20c4f3de697aa85c309026",
            "taiki-e/install-action@main",
        )],
        rule: "workflow.pinning",
    },
    Mutation {
        description: "the Linux job does not run .ci/run",
        edits: &[("run: bash .ci/run", "run: cargo test --workspace")],
        rule: "workflow.linux-job",
    },
    Mutation {
        description: "no ubuntu-latest job",
        edits: &[("runs-on: ubuntu-latest", "runs-on: ubuntu-22.04")],
        rule: "workflow.linux-job",
    },
];
