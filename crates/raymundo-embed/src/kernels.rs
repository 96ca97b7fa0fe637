//! Element-wise kernels of the encoder: bias and residual adds, layer norm, GELU, and the
//! `exp`, maximum and sum of the attention's softmax.
//!
//! They are written as plain loops over slices and run inside [`pulp::Arch::dispatch`], which
//! compiles them a second time with the CPU's vector extensions (AVX2 + FMA, or AVX-512) and
//! picks the best version at run time: the same binary runs on any x86-64 and no `unsafe` is
//! needed. For the loops to vectorise, every helper here is `#[inline(always)]` (so it is
//! compiled inside the dispatched function), reductions use several independent accumulators
//! (floating-point addition is not associative, so the compiler will not reorder a single
//! running sum), and `exp` and `erf` are branch-free polynomial approximations accurate to a
//! few units in the last place, instead of calls into the C maths library.

/// Lanes of the independent accumulators used in reductions (two AVX2 registers).
const LANES: usize = 16;

/// `e^x` for `x` in about `[-87, 88]` (clamped outside), relative error below 2e-7.
#[inline(always)]
pub(crate) fn exp(x: f32) -> f32 {
    // Cephes `expf`: x = n ln2 + r with |r| <= ln2 / 2, e^r by a degree-7 polynomial, 2^n
    // built in the exponent bits. Adding 1.5 * 2^23 rounds to the nearest integer and leaves
    // it in the low mantissa bits, which avoids a float-to-int conversion.
    const MAGIC: f32 = 12_582_912.0;
    let x = x.clamp(-87.0, 88.0);
    let t = x * std::f32::consts::LOG2_E + MAGIC;
    let n = t - MAGIC;
    let r = x - n * 0.693_359_4 - n * -2.121_944_4e-4;
    let mut p = 1.987_569_1e-4_f32;
    p = p * r + 1.398_199_9e-3;
    p = p * r + 8.333_452e-3;
    p = p * r + 4.166_579_6e-2;
    p = p * r + 1.666_666_5e-1;
    p = p * r + 0.5; // Cephes: 5.0000001201e-1, which is 0.5 in f32
    let y = p * r * r + r + 1.0;
    let k = (t.to_bits() as i32).wrapping_sub(MAGIC.to_bits() as i32);
    y * f32::from_bits(((k + 127) << 23) as u32)
}

/// The error function, absolute error below 2e-7 (the rational approximation of Eigen and XLA).
#[inline(always)]
pub(crate) fn erf(x: f32) -> f32 {
    let x = x.clamp(-4.0, 4.0);
    let x2 = x * x;
    let mut p = -2.726_142_3e-10_f32;
    p = p * x2 + 2.770_681_4e-8;
    p = p * x2 + -2.101_024e-6;
    p = p * x2 + -5.692_506_4e-5;
    p = p * x2 + -7.349_906_3e-4;
    p = p * x2 + -2.954_600_1e-3;
    p = p * x2 + -1.609_603_3e-2;
    let mut q = -1.456_607_2e-5_f32;
    q = q * x2 + -2.133_740_6e-4;
    q = q * x2 + -1.682_827e-3;
    q = q * x2 + -7.373_329_2e-3;
    q = q * x2 + -1.426_474e-2;
    x * p / q
}

/// GELU as BERT defines it (with `erf`, not the tanh approximation).
#[inline(always)]
pub(crate) fn gelu(x: f32) -> f32 {
    0.5 * x * (1.0 + erf(x * std::f32::consts::FRAC_1_SQRT_2))
}

#[inline(always)]
pub(crate) fn sum(xs: &[f32]) -> f32 {
    let mut acc = [0.0f32; LANES];
    let chunks = xs.chunks_exact(LANES);
    let mut tail = 0.0f32;
    for &x in chunks.remainder() {
        tail += x;
    }
    for c in chunks {
        for j in 0..LANES {
            acc[j] += c[j];
        }
    }
    hsum(acc) + tail
}

#[inline(always)]
fn hsum(acc: [f32; LANES]) -> f32 {
    let mut s = 0.0;
    for a in acc {
        s += a;
    }
    s
}

#[inline(always)]
fn sum_sq_dev(xs: &[f32], mean: f32) -> f32 {
    let mut acc = [0.0f32; LANES];
    let chunks = xs.chunks_exact(LANES);
    let mut tail = 0.0f32;
    for &x in chunks.remainder() {
        tail += (x - mean) * (x - mean);
    }
    for c in chunks {
        for j in 0..LANES {
            let d = c[j] - mean;
            acc[j] += d * d;
        }
    }
    hsum(acc) + tail
}

#[inline(always)]
pub(crate) fn max(xs: &[f32]) -> f32 {
    let mut acc = [f32::NEG_INFINITY; LANES];
    let chunks = xs.chunks_exact(LANES);
    let mut m = f32::NEG_INFINITY;
    for &x in chunks.remainder() {
        m = if x > m { x } else { m };
    }
    for c in chunks {
        for j in 0..LANES {
            acc[j] = if c[j] > acc[j] { c[j] } else { acc[j] };
        }
    }
    for a in acc {
        m = if a > m { a } else { m };
    }
    m
}

/// Layer norm of one row in place: `(x - mean) / sqrt(var + eps) * w + b`.
#[inline(always)]
fn layer_norm_row(x: &mut [f32], w: &[f32], b: &[f32], eps: f32) {
    let n = x.len() as f32;
    let mean = sum(x) / n;
    let inv = 1.0 / (sum_sq_dev(x, mean) / n + eps).sqrt();
    let (w, b) = (&w[..x.len()], &b[..x.len()]);
    for i in 0..x.len() {
        x[i] = (x[i] - mean) * inv * w[i] + b[i];
    }
}

/// Weights of one layer norm.
#[derive(Debug, Clone)]
pub(crate) struct Norm {
    /// Scale (gamma).
    pub w: Vec<f32>,
    /// Shift (beta).
    pub b: Vec<f32>,
    /// Added to the variance.
    pub eps: f32,
}

/// Runs a kernel with the best vector extensions of this CPU.
macro_rules! kernel {
    ($(#[$doc:meta])* fn $name:ident($($arg:ident: $ty:ty),* $(,)?) $body:block) => {
        $(#[$doc])*
        pub(crate) fn $name<'a>(arch: pulp::Arch, $($arg: $ty),*) {
            // A struct, not a closure: `with_simd` must be inlined into pulp's
            // `#[target_feature]` function for the loops to be compiled with its features,
            // and a closure's `FnOnce` shim is not reliably inlined.
            #[allow(non_camel_case_types)]
            struct $name<'a> {
                $($arg: $ty,)*
                _life: std::marker::PhantomData<&'a ()>,
            }
            impl pulp::WithSimd for $name<'_> {
                type Output = ();
                #[inline(always)]
                fn with_simd<S: pulp::Simd>(self, _simd: S) {
                    let Self { $($arg,)* .. } = self;
                    $body
                }
            }
            arch.dispatch($name { $($arg,)* _life: std::marker::PhantomData })
        }
    };
}

kernel! {
    /// Rows of `out` (width `bias.len()`): `layer_norm(y + bias + residual)`.
    fn add_norm(out: &'a mut [f32], y: &'a [f32], bias: &'a [f32], residual: &'a [f32], norm: &'a Norm) {
        let h = bias.len();
        for ((o, y), r) in out
            .chunks_exact_mut(h)
            .zip(y.chunks_exact(h))
            .zip(residual.chunks_exact(h))
        {
            for i in 0..h {
                o[i] = y[i] + bias[i] + r[i];
            }
            layer_norm_row(o, &norm.w, &norm.b, norm.eps);
        }
    }
}

kernel! {
    /// Rows of `out` in place: layer norm.
    fn norm_rows(out: &'a mut [f32], norm: &'a Norm) {
        for o in out.chunks_exact_mut(norm.w.len()) {
            layer_norm_row(o, &norm.w, &norm.b, norm.eps);
        }
    }
}

kernel! {
    /// Rows of `x` (width `bias.len()`) in place: `gelu(x + bias)`.
    fn bias_gelu(x: &'a mut [f32], bias: &'a [f32]) {
        let h = bias.len();
        for x in x.chunks_exact_mut(h) {
            for i in 0..h {
                x[i] = gelu(x[i] + bias[i]);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_is_accurate_over_the_softmax_range() {
        let mut worst = 0.0f64;
        for i in 0..=200_000 {
            let x = -87.0 + 87.0 * i as f32 / 200_000.0;
            let want = (x as f64).exp();
            let rel = ((exp(x) as f64 - want) / want).abs();
            worst = worst.max(rel);
        }
        assert!(worst < 3e-7, "worst relative error {worst}");
        assert_eq!(exp(0.0), 1.0);
        assert!(exp(-1000.0) < 1e-37);
    }

    #[test]
    fn gelu_matches_candle_gelu_erf() {
        let xs: Vec<f32> = (-4000..=4000).map(|i| i as f32 / 500.0).collect();
        let t = candle_core::Tensor::new(xs.as_slice(), &candle_core::Device::Cpu).unwrap();
        let want: Vec<f32> = t.gelu_erf().unwrap().to_vec1().unwrap();
        for (x, w) in xs.iter().zip(want) {
            let got = gelu(*x);
            assert!(
                (got - w).abs() <= 2e-6 * (1.0 + w.abs()),
                "gelu({x}) = {got}, want {w}"
            );
        }
    }

    #[test]
    fn layer_norm_matches_the_definition() {
        let arch = pulp::Arch::new();
        let width = 37;
        let x: Vec<f32> = (0..width * 3)
            .map(|i| ((i * 7919) % 101) as f32 / 9.0 - 5.0)
            .collect();
        let norm = Norm {
            w: (0..width).map(|i| 1.0 + i as f32 / 10.0).collect(),
            b: (0..width).map(|i| i as f32 / 100.0).collect(),
            eps: 1e-12,
        };
        let mut y = x.clone();
        norm_rows(arch, &mut y, &norm);
        for (y, x) in y.chunks(width).zip(x.chunks(width)) {
            let mean = x.iter().map(|&v| v as f64).sum::<f64>() / width as f64;
            let var = x.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / width as f64;
            for (i, (y, &x)) in y.iter().zip(x).enumerate() {
                let want =
                    (x as f64 - mean) / (var + 1e-12).sqrt() * norm.w[i] as f64 + norm.b[i] as f64;
                assert!((*y as f64 - want).abs() < 1e-5, "{y} vs {want}");
            }
        }
    }
}
