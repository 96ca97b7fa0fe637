//! The converted weights kept next to the model in the cache, so that only the first load
//! pays for reading and re-quantising every GGUF tensor (seconds); later loads read one
//! file of 8-bit blocks (a fraction of a second).
//!
//! The file is named after the GGUF file's name, size and modification time, so a changed
//! model is converted again; it is written to a `.partial` name and renamed when complete,
//! and any failure to write it only costs the next load the conversion again.

use crate::model::{Config, Layer, Weights};
use pulp::bytemuck;
use raymundo_q8::Q8Rows;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

const MAGIC: &[u8; 8] = b"RAYQ8v01";

/// Where the converted weights of `gguf` are kept (`None` where the layout cannot be
/// stored as is, i.e. on big-endian machines).
pub fn sidecar_path(gguf: &Path) -> Option<PathBuf> {
    if cfg!(target_endian = "big") {
        return None;
    }
    let meta = std::fs::metadata(gguf).ok()?;
    let mtime = meta
        .modified()
        .ok()?
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?
        .as_nanos();
    let stem = gguf.file_stem()?.to_string_lossy();
    Some(
        raymundo_embed::cache::cache_root()
            .join("q8")
            .join(format!("{stem}-{}-{mtime}.q8", meta.len())),
    )
}

/// Reads converted weights, or `None` if the file is missing, partial or for another shape.
pub(crate) fn read(path: &Path, config: &Config) -> Option<Weights> {
    let file = std::fs::File::open(path).ok()?;
    let mut r = BufReader::with_capacity(1 << 20, file);
    let mut magic = [0u8; 8];
    r.read_exact(&mut magic).ok()?;
    if &magic != MAGIC {
        return None;
    }
    let c = config;
    let kv = c.kv_dim();
    let embed = read_rows(&mut r, c.vocab, c.hidden)?;
    let output = match read_u64(&mut r)? {
        0 => None,
        _ => Some(read_rows(&mut r, c.vocab, c.hidden)?),
    };
    let norm = read_f32s(&mut r, c.hidden)?;
    let mut layers = Vec::with_capacity(c.layers);
    for _ in 0..c.layers {
        layers.push(Layer {
            attn_norm: read_f32s(&mut r, c.hidden)?,
            qkv: read_rows(&mut r, c.hidden + 2 * kv, c.hidden)?,
            qkv_bias: read_f32s(&mut r, c.hidden + 2 * kv)?,
            out: read_rows(&mut r, c.hidden, c.hidden)?,
            ffn_norm: read_f32s(&mut r, c.hidden)?,
            gate_up: read_rows(&mut r, 2 * c.ffn, c.hidden)?,
            down: read_rows(&mut r, c.hidden, c.ffn)?,
        });
    }
    // Nothing may follow: a longer file is not ours.
    (r.read(&mut [0u8; 1]).ok()? == 0).then_some(Weights {
        embed,
        output,
        norm,
        layers,
    })
}

/// Writes converted weights; a failure is logged and otherwise ignored.
pub(crate) fn write(path: &Path, w: &Weights) {
    // One partial file per process: two processes converting at once must not interleave.
    let partial = path.with_extension(format!("q8.{}.partial", std::process::id()));
    let result = (|| -> std::io::Result<()> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let mut out = BufWriter::with_capacity(1 << 20, std::fs::File::create(&partial)?);
        out.write_all(MAGIC)?;
        write_rows(&mut out, &w.embed)?;
        match &w.output {
            None => out.write_all(&0u64.to_le_bytes())?,
            Some(o) => {
                out.write_all(&1u64.to_le_bytes())?;
                write_rows(&mut out, o)?;
            }
        }
        write_f32s(&mut out, &w.norm)?;
        for l in &w.layers {
            write_f32s(&mut out, &l.attn_norm)?;
            write_rows(&mut out, &l.qkv)?;
            write_f32s(&mut out, &l.qkv_bias)?;
            write_rows(&mut out, &l.out)?;
            write_f32s(&mut out, &l.ffn_norm)?;
            write_rows(&mut out, &l.gate_up)?;
            write_rows(&mut out, &l.down)?;
        }
        out.into_inner().map_err(|e| e.into_error())?.sync_all()?;
        std::fs::rename(&partial, path)
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&partial);
        tracing::warn!(
            "could not keep the converted weights in {}: {e}",
            path.display()
        );
    }
}

fn read_u64(r: &mut impl Read) -> Option<u64> {
    let mut b = [0u8; 8];
    r.read_exact(&mut b).ok()?;
    Some(u64::from_le_bytes(b))
}

fn read_f32s(r: &mut impl Read, len: usize) -> Option<Vec<f32>> {
    if read_u64(r)? != len as u64 {
        return None;
    }
    let mut v = vec![0.0f32; len];
    r.read_exact(bytemuck::cast_slice_mut(&mut v)).ok()?;
    Some(v)
}

fn read_rows(r: &mut impl Read, rows: usize, cols: usize) -> Option<Q8Rows> {
    if read_u64(r)? != rows as u64 || read_u64(r)? != cols as u64 {
        return None;
    }
    let mut qs = vec![0i8; rows * cols];
    r.read_exact(bytemuck::cast_slice_mut(&mut qs)).ok()?;
    let mut d = vec![0.0f32; rows * cols / raymundo_q8::BLOCK];
    r.read_exact(bytemuck::cast_slice_mut(&mut d)).ok()?;
    Some(Q8Rows::from_parts(rows, cols, qs, d))
}

fn write_f32s(w: &mut impl Write, v: &[f32]) -> std::io::Result<()> {
    w.write_all(&(v.len() as u64).to_le_bytes())?;
    w.write_all(bytemuck::cast_slice(v))
}

fn write_rows(w: &mut impl Write, m: &Q8Rows) -> std::io::Result<()> {
    w.write_all(&(m.rows as u64).to_le_bytes())?;
    w.write_all(&(m.cols as u64).to_le_bytes())?;
    w.write_all(bytemuck::cast_slice(&m.qs))?;
    w.write_all(bytemuck::cast_slice(&m.d))
}
