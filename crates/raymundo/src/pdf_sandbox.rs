//! PDFs are read in a child process with bounded memory and time (see
//! `raymundo_ingest::PdfChild`): the binary runs itself with the hidden command `__read-pdf`,
//! which lowers its own limits before parsing. A PDF that exhausts them is skipped with a
//! reason; the build, or the server rebuilding its index, goes on.

use std::time::Duration;

/// The hidden command that reads one PDF from standard input.
pub const COMMAND: &str = "__read-pdf";
/// Memory a PDF reader may use (`RAYMUNDO_PDF_MEMORY_MB` changes it): a legitimate PDF of
/// hundreds of pages is read in a few hundred megabytes.
const DEFAULT_MEMORY_MB: u64 = 2048;
/// Time one PDF may take (`RAYMUNDO_PDF_TIMEOUT_SECS` changes it).
const DEFAULT_TIMEOUT_SECS: u64 = 120;

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(default)
}

/// Makes this process read PDFs in a child (nothing changes when the binary's own path
/// is unknown: then they are read here, as before).
pub fn read_pdfs_in_child() {
    let Ok(program) = std::env::current_exe() else {
        tracing::warn!("cannot find this program's path: PDFs are read in-process");
        return;
    };
    raymundo_ingest::read_pdfs_in_child(raymundo_ingest::PdfChild {
        program,
        args: vec![COMMAND.to_string()],
        timeout: Duration::from_secs(env_number(
            "RAYMUNDO_PDF_TIMEOUT_SECS",
            DEFAULT_TIMEOUT_SECS,
        )),
    });
}

/// The child: sets its limits (memory, CPU time, no core file), then reads the PDF.
pub fn child_main() -> std::process::ExitCode {
    use rustix::process::{setrlimit, Resource, Rlimit};
    let memory = env_number("RAYMUNDO_PDF_MEMORY_MB", DEFAULT_MEMORY_MB) << 20;
    let cpu = env_number("RAYMUNDO_PDF_TIMEOUT_SECS", DEFAULT_TIMEOUT_SECS) + 5;
    let limit = |value: u64| Rlimit {
        current: Some(value),
        maximum: Some(value),
    };
    for (resource, value) in [
        (Resource::Data, memory),
        (Resource::As, memory.saturating_mul(2)),
        (Resource::Cpu, cpu),
        (Resource::Core, 0),
    ] {
        if setrlimit(resource, limit(value)).is_err() {
            // Without its limits the child must not read a hostile file.
            return std::process::ExitCode::FAILURE;
        }
    }
    raymundo_ingest::pdf_child_main()
}
