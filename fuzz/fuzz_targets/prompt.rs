//! The prompt builder on any document text, names, history and message: no untrusted text
//! can open or close a fragment (the only `<` and `>` in the user turn are the builder's own
//! tags, one pair per snippet), and the system text stays first and unchanged.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use raymundo_core::{Chunk, Hit};
use raymundo_llm::prompt::{build, PromptInput};
use raymundo_llm::{ChatMessage, ChatProvider, ChatRequest, Completion, LlmError, Role};

struct Provider {
    context: usize,
    small: bool,
}

impl ChatProvider for Provider {
    fn name(&self) -> &str {
        "fuzz"
    }
    fn context_tokens(&self) -> usize {
        self.context
    }
    fn snippet_budget(&self) -> Option<usize> {
        self.small.then_some(300)
    }
    fn chat(
        &self,
        _request: &ChatRequest,
        _on_text: &mut dyn FnMut(&str),
    ) -> Result<Completion, LlmError> {
        unreachable!("the prompt builder does not call the model")
    }
}

#[derive(Debug, Arbitrary)]
struct Snippet {
    doc: String,
    section: Option<String>,
    text: String,
}

#[derive(Debug, Arbitrary)]
struct Input {
    snippets: Vec<Snippet>,
    history: Vec<(bool, String)>,
    question: String,
    context: u16,
    small: bool,
}

const SYSTEM: &str = "Responde con los fragmentos.";

fuzz_target!(|input: Input| {
    let hits: Vec<Hit> = input
        .snippets
        .into_iter()
        .enumerate()
        .map(|(position, s)| {
            Hit::dense(
                Chunk {
                    doc: s.doc,
                    position,
                    source: "faq".into(),
                    intent: None,
                    title: "t".into(),
                    section: s.section,
                    tokens: 0,
                    text: s.text,
                },
                0.5,
            )
        })
        .collect();
    let history: Vec<ChatMessage> = input
        .history
        .into_iter()
        .map(|(user, text)| ChatMessage::new(if user { Role::User } else { Role::Assistant }, text))
        .collect();
    let provider = Provider {
        context: input.context as usize,
        small: input.small,
    };
    let prompt = build(
        &PromptInput {
            system: SYSTEM,
            hits: &hits,
            history: &history,
            question: &input.question,
            max_answer_tokens: 64,
            temperature: 0.0,
        },
        &provider,
    );
    let messages = &prompt.request.messages;
    assert_eq!(messages[0].role, Role::System);
    if !input.small {
        assert_eq!(messages[0].content, SYSTEM);
    }
    let user = &messages.last().expect("a user turn").content;
    assert_eq!(messages.last().map(|m| m.role), Some(Role::User));
    let tags = if input.small { 0 } else { prompt.snippets };
    assert_eq!(user.matches("</fragmento>").count(), tags, "{user}");
    assert_eq!(user.matches("<fragmento ").count(), tags, "{user}");
    assert_eq!(
        user.matches('<').count(),
        2 * tags,
        "untrusted '<' in {user}"
    );
    assert_eq!(
        user.matches('>').count(),
        2 * tags,
        "untrusted '>' in {user}"
    );
});
