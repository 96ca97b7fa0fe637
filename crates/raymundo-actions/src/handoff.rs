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

/// `user` with all but its last four characters hidden (`•••••••••2222`).
fn mask(user: &str) -> String {
    let chars: Vec<char> = user.chars().collect();
    let keep = chars.len().saturating_sub(4);
    chars
        .iter()
        .enumerate()
        .map(|(i, c)| if i < keep { '•' } else { *c })
        .collect()
}

impl ActionRunner for Handoff {
    fn run(&self, request: &Request, _: &dyn Knowledge) -> Result<Outcome, ActionError> {
        if let Some(dir) = self.log.parent() {
            std::fs::create_dir_all(dir).map_err(io(dir))?;
        }
        // No personal data at rest: the user's id is masked to its last four characters
        // (enough to find the chat in the channel's own inbox), message and parameters are
        // scrubbed.
        let scrub = |t: &str| raymundo_ingest::scrub_pii(t).0;
        let parameters: serde_json::Map<String, serde_json::Value> = request
            .values
            .iter()
            .map(|(k, v)| {
                let v = match v {
                    serde_json::Value::String(s) => serde_json::Value::String(scrub(s)),
                    other => other.clone(),
                };
                (k.clone(), v)
            })
            .collect();
        let record = serde_json::json!({
            "at": now_secs(),
            "user": mask(request.user),
            "intent": request.intent.name,
            "message": scrub(request.message),
            "parameters": parameters,
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
        // Not the user's id: logs are kept where personal data must not be.
        tracing::info!(intent = %request.intent.name, log = %self.log.display(), "conversation handed to a person");
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
