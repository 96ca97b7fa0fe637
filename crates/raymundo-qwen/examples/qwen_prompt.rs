//! Runs one chat prompt read from files, printing the answer and timings (prompt experiments).
//!
//! `cargo run --release -p raymundo-qwen --example qwen_prompt -- MODEL.gguf tokenizer.json SYSTEM.txt USER.txt`

use raymundo_qwen::{ChatModel, Options};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 5 {
        eprintln!("usage: qwen_prompt MODEL.gguf tokenizer.json SYSTEM.txt USER.txt...");
        std::process::exit(2);
    }
    let model = ChatModel::load(args[1].as_ref(), args[2].as_ref(), 2048).expect("model loads");
    let system = std::fs::read_to_string(&args[3]).expect("system text");
    for path in &args[4..] {
        let user = std::fs::read_to_string(path).expect("user text");
        let messages = [("system", system.as_str()), ("user", user.as_str())];
        let options = Options {
            max_tokens: 120,
            temperature: 0.0,
            ..Options::default()
        };
        let g = model
            .chat(&messages, &options, &mut |_| {})
            .expect("answer");
        println!(
            "== {path}: {} prompt tokens ({} reused), first token {:.0} ms\n{}\n",
            g.prompt_tokens,
            g.reused_tokens,
            g.first_token.as_secs_f64() * 1000.0,
            g.text
        );
    }
}
