//! `raymundo eval intents`: how well messages are matched to intents.

use crate::intent_engine::{method_of, IntentEngine};
use crate::project::Assistant;
use anyhow::{bail, Result};
use raymundo_core::Embedder;
use raymundo_eval::intents::{calibrate_threshold, load_labelled, score, Candidate, IntentReport};
use raymundo_eval::percentile;
use raymundo_intents::classify::cross_validation::CrossValidated;
use raymundo_intents::classify::{Method, Thresholds};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// One method's results.
struct MethodRun {
    method: Method,
    thresholds: Thresholds,
    report: IntentReport,
    calibrated: Option<(f32, IntentReport)>,
    /// The thresholds cross-validation chose on the examples, and what they do on this file.
    cross_validated: Option<(CrossValidated, IntentReport)>,
    /// Microseconds per classification (scoring only).
    score_us: Vec<f64>,
    train_ms: f64,
}

fn opt(x: &Option<String>) -> &str {
    x.as_deref().unwrap_or("(none)")
}

/// Runs the evaluation.
pub fn run(
    root: &Path,
    file: Option<PathBuf>,
    compare: bool,
    target_fp: f64,
    json: bool,
) -> Result<()> {
    let assistant = Assistant::open(root)?;
    let file = file.unwrap_or_else(|| root.join("data/eval/intents.jsonl"));
    let messages = load_labelled(&file)?;
    let configured = method_of(&assistant, None)?;
    let methods: Vec<Method> = if compare {
        let mut m = vec![configured];
        m.extend(Method::ALL.into_iter().filter(|x| *x != configured));
        m
    } else {
        vec![configured]
    };
    // Each message is embedded once; every method scores the same vectors.
    let mut embed_ms = Vec::with_capacity(messages.len());
    let mut vectors = Vec::with_capacity(messages.len());
    for m in &messages {
        let t = Instant::now();
        vectors.push(assistant.embedder.embed_query(&m.text)?);
        embed_ms.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    let expected: Vec<Option<String>> = messages.iter().map(|m| m.intent.clone()).collect();
    let mut runs = Vec::new();
    let mut names = Vec::new();
    for method in methods {
        let Some(engine) = IntentEngine::load(&assistant, method)? else {
            bail!(
                "no intents: {} does not exist or is empty",
                assistant.config.intents_file().display()
            );
        };
        names = engine.set.names();
        let thresholds = engine.classifier.thresholds;
        let mut predicted = Vec::with_capacity(messages.len());
        let mut candidates = Vec::with_capacity(messages.len());
        let mut score_us = Vec::with_capacity(messages.len());
        for v in &vectors {
            let t = Instant::now();
            let c = engine.classifier.classify(v);
            score_us.push(t.elapsed().as_secs_f64() * 1e6);
            // A trained classifier whose no-intent class wins has no candidate intent.
            let best = match c.no_intent {
                Some(p) if p >= c.confidence => None,
                _ => Some(c.best.clone()),
            };
            candidates.push(Candidate {
                best,
                confidence: c.confidence,
                margin: c.margin,
            });
            predicted.push(c.intent);
        }
        score_us.sort_by(f64::total_cmp);
        let report = score(&expected, &predicted, &names);
        let calibrated = calibrate_threshold(
            &expected,
            &candidates,
            &names,
            thresholds.min_margin,
            target_fp,
        );
        let cross_validated = engine.classifier.cross_validated.map(|cv| {
            let predicted: Vec<Option<String>> = vectors
                .iter()
                .map(|v| engine.classifier.classify_with(v, &cv.thresholds).intent)
                .collect();
            (cv, score(&expected, &predicted, &names))
        });
        runs.push(MethodRun {
            method,
            thresholds,
            report,
            calibrated,
            cross_validated,
            score_us,
            train_ms: engine.train_ms,
        });
    }
    for label in expected.iter().flatten() {
        if !names.contains(label) {
            bail!(
                "{} labels a message {label:?}, which is not an intent of {}",
                file.display(),
                assistant.config.intents_file().display()
            );
        }
    }
    embed_ms.sort_by(f64::total_cmp);
    let main = &runs[0];
    crate::commands::report::save_eval(
        &assistant.config.root,
        "intents",
        &file,
        serde_json::to_value(&main.report)?,
    );
    if json {
        let mut v = serde_json::to_value(&main.report)?;
        v["file"] = file.display().to_string().into();
        v["model"] = assistant.index.meta().model_id.clone().into();
        v["method"] = main.method.as_str().into();
        v["min_confidence"] = main.thresholds.min_confidence.into();
        v["min_margin"] = main.thresholds.min_margin.into();
        v["target_fp"] = target_fp.into();
        if let Some((cv, r)) = &main.cross_validated {
            v["cross_validated_min_confidence"] = cv.thresholds.min_confidence.into();
            v["cross_validated_min_margin"] = cv.thresholds.min_margin.into();
            v["cross_validated_held_out_macro_f1"] = cv.macro_f1.into();
            v["cross_validated_macro_f1"] = r.macro_f1.into();
            v["cross_validated_no_intent_fp_rate"] = r.no_intent_fp_rate.into();
        }
        if let Some((t, r)) = &main.calibrated {
            v["calibrated_min_confidence"] = (*t).into();
            v["calibrated_macro_f1"] = r.macro_f1.into();
            v["calibrated_no_intent_fp_rate"] = r.no_intent_fp_rate.into();
        }
        v["embed_ms_p50"] = percentile(&embed_ms, 0.5).into();
        v["embed_ms_p95"] = percentile(&embed_ms, 0.95).into();
        v["classify_us_p50"] = percentile(&main.score_us, 0.5).into();
        v["classify_us_p95"] = percentile(&main.score_us, 0.95).into();
        if compare {
            v["compare"] = runs
                .iter()
                .map(|r| {
                    serde_json::json!({
                        "method": r.method.as_str(),
                        "min_confidence": r.thresholds.min_confidence,
                        "accuracy": r.report.accuracy,
                        "macro_f1": r.report.macro_f1,
                        "no_intent_fp_rate": r.report.no_intent_fp_rate,
                        "calibrated_min_confidence": r.calibrated.as_ref().map(|c| c.0),
                        "calibrated_macro_f1": r.calibrated.as_ref().map(|c| c.1.macro_f1),
                        "calibrated_no_intent_fp_rate": r.calibrated.as_ref().map(|c| c.1.no_intent_fp_rate),
                        "classify_us_p50": percentile(&r.score_us, 0.5),
                    })
                })
                .collect();
        }
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(());
    }
    let r = &main.report;
    println!(
        "Intents on {} ({} messages, {} of no intent), model {}, method {} (confidence >= {:.2}, margin >= {:.2})",
        file.display(),
        r.messages,
        r.no_intent_messages,
        assistant.index.meta().model_id,
        main.method.as_str(),
        main.thresholds.min_confidence,
        main.thresholds.min_margin
    );
    println!(
        "  {:<22} {:>7} {:>9} {:>9} {:>7} {:>7}",
        "intent", "support", "predicted", "precision", "recall", "F1"
    );
    for s in &r.per_intent {
        println!(
            "  {:<22} {:>7} {:>9} {:>9.3} {:>7.3} {:>7.3}",
            s.intent, s.support, s.predicted, s.precision, s.recall, s.f1
        );
    }
    println!(
        "  accuracy {:.3}  macro-F1 {:.3}  no-intent false positives {:.3}  intents missed {:.3}",
        r.accuracy, r.macro_f1, r.no_intent_fp_rate, r.intent_miss_rate
    );
    if !r.confusions.is_empty() {
        println!("  most frequent confusions (expected -> predicted):");
        for c in r.confusions.iter().take(8) {
            println!(
                "    {:>3}  {} -> {}",
                c.count,
                opt(&c.expected),
                opt(&c.predicted)
            );
        }
    }
    if let Some((cv, c)) = &main.cross_validated {
        println!(
            "  cross-validated on the examples ({} folds): confidence >= {:.3}, margin >= {:.2} \
             (held-out macro-F1 {:.3}) -> on this file macro-F1 {:.3}, false positives {:.3}",
            cv.folds,
            cv.thresholds.min_confidence,
            cv.thresholds.min_margin,
            cv.macro_f1,
            c.macro_f1,
            c.no_intent_fp_rate
        );
    }
    if let Some((t, c)) = &main.calibrated {
        println!(
            "  calibrated on this file: confidence >= {t:.3} -> macro-F1 {:.3}, false positives {:.3} (target <= {target_fp})",
            c.macro_f1, c.no_intent_fp_rate
        );
    }
    println!(
        "  cost per message: embedding p50 {:.1} ms, p95 {:.1} ms; classification p50 {:.1} µs, p95 {:.1} µs",
        percentile(&embed_ms, 0.5),
        percentile(&embed_ms, 0.95),
        percentile(&main.score_us, 0.5),
        percentile(&main.score_us, 0.95)
    );
    if compare {
        println!(
            "  {:<10} {:>10} {:>9} {:>9} {:>7} | {:>10} {:>9} {:>7} | {:>9} {:>9}",
            "method",
            "confidence",
            "accuracy",
            "macro-F1",
            "FP",
            "calibrated",
            "macro-F1",
            "FP",
            "µs p50",
            "train ms"
        );
        for run in &runs {
            let (ct, cf, cfp) = run.calibrated.as_ref().map_or(
                ("-".to_string(), "-".to_string(), "-".to_string()),
                |(t, c)| {
                    (
                        format!("{t:.3}"),
                        format!("{:.3}", c.macro_f1),
                        format!("{:.3}", c.no_intent_fp_rate),
                    )
                },
            );
            println!(
                "  {:<10} {:>10.3} {:>9.3} {:>9.3} {:>7.3} | {:>10} {:>9} {:>7} | {:>9.1} {:>9.0}",
                format!(
                    "{}{}",
                    run.method.as_str(),
                    if run.method == configured { "*" } else { "" }
                ),
                run.thresholds.min_confidence,
                run.report.accuracy,
                run.report.macro_f1,
                run.report.no_intent_fp_rate,
                ct,
                cf,
                cfp,
                percentile(&run.score_us, 0.5),
                run.train_ms
            );
        }
        println!("  (* configured; calibrated = best macro-F1 on this file with FP <= {target_fp}; train ms 0 = cached)");
    }
    Ok(())
}
