//! `derivar_humano`: a person takes over. The hand-off is appended to a JSON-lines log that
//! the team (and later the review screen) reads, and the user is told.

use crate::{io, now_secs, ActionError, ActionRunner, Knowledge, Outcome, Request};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Records hand-offs in `log` and replies `reply` (or the intent's first fixed response).
#[derive(Debug, Clone)]
pub struct Handoff {
    log: PathBuf,
    reply: String,
}

impl Handoff {
    /// A hand-off recorded in `log`.
    pub fn new(log: &Path, reply: &str) -> Self {
        Self {
            log: log.to_path_buf(),
            reply: reply.to_string(),
        }
    }
}

impl ActionRunner for Handoff {
    fn run(&self, request: &Request, _: &dyn Knowledge) -> Result<Outcome, ActionError> {
        if let Some(dir) = self.log.parent() {
            std::fs::create_dir_all(dir).map_err(io(dir))?;
        }
        let record = serde_json::json!({
            "at": now_secs(),
            "user": request.user,
            "intent": request.intent.name,
            "message": request.message,
            "parameters": request.values,
            "status": "pending",
        });
        // One write of one line: concurrent hand-offs never interleave within a line.
        let mut line = record.to_string();
        line.push('\n');
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .map_err(io(&self.log))?;
        f.write_all(line.as_bytes()).map_err(io(&self.log))?;
        tracing::info!(user = request.user, log = %self.log.display(), "conversation handed to a person");
        let text = match request.intent.responses.first() {
            Some(r) => crate::responder::fill(r, request),
            None => self.reply.clone(),
        };
        Ok(Outcome {
            text,
            action: "derivar_humano".into(),
            handed_off: true,
            ..Outcome::default()
        })
    }
}
