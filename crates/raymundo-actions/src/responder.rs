//! `responder`: the retrieval-augmented answer, or one of the intent's fixed responses.

use crate::{ActionError, ActionRunner, Knowledge, Outcome, Request};

/// Answers from the documents. The question sent to retrieval is the message plus the
/// parameter values it did not already contain (a number given in a later turn, say).
#[derive(Debug, Default, Clone, Copy)]
pub struct Responder;

impl ActionRunner for Responder {
    fn run(&self, request: &Request, knowledge: &dyn Knowledge) -> Result<Outcome, ActionError> {
        if let Some(fixed) = request.intent.responses.first() {
            return Ok(Outcome {
                text: fill(fixed, request),
                action: "responder".into(),
                ..Outcome::default()
            });
        }
        let mut question = request.message.to_string();
        let lower = question.to_lowercase();
        for value in request.values.values() {
            let v = match value {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Number(n) => n.to_string(),
                _ => continue,
            };
            if !lower.contains(&v.to_lowercase()) {
                question.push(' ');
                question.push_str(&v);
            }
        }
        let answer = knowledge.answer(&question)?;
        Ok(Outcome {
            text: answer.text.clone(),
            action: "responder".into(),
            sources: answer.sources.clone(),
            answer: Some(answer),
            ..Outcome::default()
        })
    }
}

/// Replaces `{parametro}` in a fixed response with the parameter's value.
pub(crate) fn fill(template: &str, request: &Request) -> String {
    let mut out = template.to_string();
    for (name, value) in request.values {
        let text = match value {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Bool(true) => "sí".into(),
            serde_json::Value::Bool(false) => "no".into(),
            other => other.to_string(),
        };
        out = out.replace(&format!("{{{name}}}"), &text);
    }
    out
}
