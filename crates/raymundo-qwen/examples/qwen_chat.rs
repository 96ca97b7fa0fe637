//! Loads a Qwen2 GGUF and answers one question, printing timings.
//!
//! `cargo run --release -p raymundo-qwen --example qwen_chat -- MODEL.gguf tokenizer.json "pregunta" [max_tokens]`

use raymundo_qwen::{ChatModel, Options};
use std::io::Write;
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 4 {
        eprintln!("usage: qwen_chat MODEL.gguf tokenizer.json QUESTION [MAX_TOKENS]");
        std::process::exit(2);
    }
    let max_tokens = args.get(4).and_then(|v| v.parse().ok()).unwrap_or(64);
    let t = Instant::now();
    let model = ChatModel::load(args[1].as_ref(), args[2].as_ref(), 2048).expect("model loads");
    eprintln!(
        "loaded in {:.2} s ({} MB, kernel {})",
        t.elapsed().as_secs_f64(),
        model.model().size_bytes() >> 20,
        model.model().kernel().name()
    );
    let system = "Eres un asistente útil. Responde en español.";
    for round in 0..2 {
        let messages = [("system", system), ("user", args[3].as_str())];
        let options = Options {
            max_tokens,
            ..Options::default()
        };
        let g = model
            .chat(&messages, &options, &mut |s| {
                print!("{s}");
                std::io::stdout().flush().ok();
            })
            .expect("answer");
        println!();
        eprintln!(
            "round {round}: prompt {} tokens ({} reused), first token {:.0} ms, {} tokens in {:.2} s, {:.1} tok/s",
            g.prompt_tokens,
            g.reused_tokens,
            g.first_token.as_secs_f64() * 1000.0,
            g.answer_tokens,
            g.total.as_secs_f64(),
            g.tokens_per_second()
        );
    }
}
