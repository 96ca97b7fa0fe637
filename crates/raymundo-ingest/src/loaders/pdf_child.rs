//! Reading PDFs in a child process. A crafted PDF can take the reader down in ways no
//! `catch_unwind` catches: a Form XObject that draws itself recurses until the stack
//! overflows, and a small FlateDecode stream can inflate to gigabytes. Once the binary calls
//! [`read_pdfs_in_child`], every PDF is read by a child process (the binary itself, run with
//! a hidden command that calls [`pdf_child_main`] under memory limits) that is killed after
//! a timeout; when it dies or is killed, that file is skipped with the reason and the build
//! (or the server that rebuilds its index) goes on.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Most text read back from one PDF (a 2,000-page book is about 5 MB of text).
const MAX_TEXT_BYTES: u64 = 256 << 20;

/// How PDFs are read in a child process.
#[derive(Debug, Clone)]
pub struct PdfChild {
    /// The program that runs [`pdf_child_main`] (the binary itself).
    pub program: PathBuf,
    /// Its arguments (the hidden command).
    pub args: Vec<String>,
    /// Longest time one file may take before the child is killed.
    pub timeout: Duration,
}

static CHILD: OnceLock<PdfChild> = OnceLock::new();

/// From now on, this process reads every PDF with `child` (the first call wins).
pub fn read_pdfs_in_child(child: PdfChild) {
    let _ = CHILD.set(child);
}

/// The text of a PDF: in the child process when one is set, else in this process.
pub(crate) fn pdf_text(bytes: &[u8]) -> Result<String, String> {
    match CHILD.get() {
        Some(child) => child.read(bytes),
        None => super::pdf::pdf_to_text(bytes),
    }
}

/// The child's side: reads a PDF from standard input, writes `O` and the text, or `E` and
/// the reason it cannot be read, to standard output. The caller sets the process's limits
/// first.
pub fn pdf_child_main() -> std::process::ExitCode {
    let mut bytes = Vec::new();
    if std::io::stdin().read_to_end(&mut bytes).is_err() {
        return std::process::ExitCode::FAILURE;
    }
    let (tag, text) = match super::pdf::pdf_to_text(&bytes) {
        Ok(text) => (b'O', text),
        Err(reason) => (b'E', reason),
    };
    let mut out = std::io::stdout().lock();
    let written = out
        .write_all(&[tag])
        .and_then(|_| out.write_all(text.as_bytes()))
        .and_then(|_| out.flush());
    if written.is_err() {
        return std::process::ExitCode::FAILURE;
    }
    std::process::ExitCode::SUCCESS
}

/// Why the child stopped without an answer, in plain English.
fn stopped(status: ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match status.signal() {
        Some(signal) => format!(
            "the PDF reader stopped on this file (signal {signal}: it ran out of memory or \
             stack, as a malformed or hostile PDF makes it); skipped"
        ),
        None => format!(
            "the PDF reader stopped on this file (exit status {}: it ran out of memory or \
             stack, as a malformed or hostile PDF makes it); skipped",
            status.code().unwrap_or(-1)
        ),
    }
}

impl PdfChild {
    fn read(&self, bytes: &[u8]) -> Result<String, String> {
        let mut child = Command::new(&self.program)
            .args(&self.args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| {
                format!(
                    "cannot start the PDF reader {}: {e}",
                    self.program.display()
                )
            })?;
        let mut stdin = child.stdin.take().expect("piped");
        let input = bytes.to_vec();
        // A child that dies early closes the pipe: the write then fails, which is fine.
        let writer = std::thread::spawn(move || {
            let _ = stdin.write_all(&input);
        });
        let stdout = child.stdout.take().expect("piped");
        let reader = std::thread::spawn(move || {
            let mut out = Vec::new();
            let _ = stdout.take(MAX_TEXT_BYTES).read_to_end(&mut out);
            out
        });
        let deadline = Instant::now() + self.timeout;
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break status,
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(10))
                }
                Ok(None) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    let _ = writer.join();
                    let _ = reader.join();
                    return Err(format!(
                        "reading the PDF took over {} s (a hostile or very large file?); skipped",
                        self.timeout.as_secs()
                    ));
                }
                Err(e) => return Err(format!("cannot wait for the PDF reader: {e}")),
            }
        };
        let _ = writer.join();
        let out = reader.join().unwrap_or_default();
        if !status.success() {
            return Err(stopped(status));
        }
        let Some((&tag, text)) = out.split_first() else {
            return Err(stopped(status));
        };
        let text = String::from_utf8_lossy(text).into_owned();
        match tag {
            b'O' => Ok(text),
            _ => Err(text),
        }
    }
}
