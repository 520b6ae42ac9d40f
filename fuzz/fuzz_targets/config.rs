//! Any bytes as a haproxy.cfg: tokenizer, preprocessor (.if/.else...),
//! sections and keyword checks run to a verdict without panicking. The
//! environment is empty so `${VAR}` expansion stays deterministic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use switchyard::config::{check, check_files, source::SourceFile};

fuzz_target!(|data: &[u8]| {
    let files = [SourceFile {
        name: "fuzz.cfg".to_string(),
        content: data.to_vec(),
    }];
    let getenv = |_: &str| None;
    let _ = check_files(&files, &getenv, check::Options::default());
});
