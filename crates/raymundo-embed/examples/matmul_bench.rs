//! Times the encoder's matrix products in f32 (candle) and int8 (raymundo-q8), shape by shape.
//!
//! `cargo run --release -p raymundo-embed --example matmul_bench [TOKENS]`

use candle_core::{Device, Tensor};
use raymundo_q8::{Kernel, PackedQ8, Q8Rows};
use std::time::Instant;

/// One way of computing the product into the output buffer.
type Product<'a> = dyn Fn(&mut [f32]) + 'a;

fn sample(n: usize, seed: u32) -> Vec<f32> {
    let mut s = seed;
    (0..n)
        .map(|_| {
            s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            ((s >> 8) as f32 / (1u32 << 24) as f32) * 2.0 - 1.0
        })
        .collect()
}

fn best(mut f: impl FnMut()) -> f64 {
    f();
    (0..9)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min)
}

fn main() {
    let tokens: usize = std::env::args()
        .nth(1)
        .map_or(4896, |s| s.parse().expect("a token count"));
    let kernel = Kernel::detect();
    println!("tokens {tokens}, kernel {}", kernel.name());
    for (k, n) in [(384, 1152), (384, 384), (384, 1536), (1536, 384)] {
        let w = sample(n * k, 1);
        let x = sample(tokens * k, 2);
        let wt = Tensor::from_vec(w.clone(), (n, k), &Device::Cpu)
            .unwrap()
            .t()
            .unwrap()
            .contiguous()
            .unwrap();
        let xt = Tensor::from_vec(x.clone(), (tokens, k), &Device::Cpu).unwrap();
        let f32_s = best(|| {
            xt.matmul(&wt).unwrap();
        });
        let packed = PackedQ8::pack(n, k, &w);
        let rows = Q8Rows::quantize(n, k, &w);
        let mut xq = Q8Rows::quantize(0, k, &[]);
        let mut out = vec![0.0f32; tokens * n];
        let quant_s = best(|| xq.requantize(tokens, &x));
        let mut line = format!(
            "{k:>5} -> {n:>5}: f32 {:6.2} ms ({:5.1} GMAC/s) | quantise {:5.2} ms |",
            f32_s * 1e3,
            (tokens * k * n) as f64 / 1e9 / f32_s,
            quant_s * 1e3
        );
        let gmac = (tokens * k * n) as f64 / 1e9;
        let variants: [(&str, &Product); 6] = [
            ("4x1", &|o| packed.matmul_tiled::<4, 1>(kernel, &xq, o)),
            ("4x2", &|o| packed.matmul_tiled::<4, 2>(kernel, &xq, o)),
            ("2x2", &|o| packed.matmul_tiled::<2, 2>(kernel, &xq, o)),
            ("2x3", &|o| packed.matmul_tiled::<2, 3>(kernel, &xq, o)),
            ("1x4", &|o| packed.matmul_tiled::<1, 4>(kernel, &xq, o)),
            ("row", &|o| rows.matmul(kernel, &xq, o)),
        ];
        let only = std::env::var("ONLY").ok();
        let chosen: Vec<(&str, &Product)> = variants
            .into_iter()
            .filter(|(name, _)| {
                only.as_deref()
                    .is_none_or(|o| o.split(',').any(|o| o == *name))
            })
            .collect();
        // Variants take turns, one product each, so that a slower spell of a shared machine
        // falls on all of them alike; each keeps its fastest time.
        let mut fastest = vec![f64::INFINITY; chosen.len()];
        for _ in 0..12 {
            for ((_, f), fastest) in chosen.iter().zip(&mut fastest) {
                let t = Instant::now();
                f(&mut out);
                *fastest = fastest.min(t.elapsed().as_secs_f64());
            }
        }
        for ((name, _), s) in chosen.iter().zip(fastest) {
            line += &format!(" {name} {:5.1}", gmac / s);
        }
        println!("{line}");
    }
}
